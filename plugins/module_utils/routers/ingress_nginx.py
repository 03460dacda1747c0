# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ingress-nginx: a second Ingress ``<name>-canary`` with the canary annotations beside the primary one.

ingress-nginx routes one header value to the canary (``canary-by-header-value``); it cannot hold a
cohort back from a weighted canary, so ``never_canary`` is refused here (use Istio or Gateway API). Canary
annotations cannot copy requests either: a plan with a setMirrorRoute step is refused before anything is written
(``supports_mirror`` stays False; Router.check_mirror)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.progressive.delivery.plugins.module_utils.routers import RouterError
from ansible_collections.progressive.delivery.plugins.module_utils.routers.kube import KubernetesRouter

PREFIX = "nginx.ingress.kubernetes.io/"


class IngressNginxRouter(KubernetesRouter):
    kind = "ingress_nginx"
    object_kind = "Ingress"
    api_version = "networking.k8s.io/v1"

    def __init__(self, release, client, namespace, name, *args, **kwargs):
        super(IngressNginxRouter, self).__init__(release, client, namespace, name + "-canary", *args, **kwargs)
        self.primary = name

    def build(self, obj, routing):
        if routing.never_canary:
            raise RouterError("%s: ingress-nginx cannot keep cohort %s off a weighted canary; use the istio or "
                              "gateway_api router for never_canary cohorts" % (self.describe(), routing.never_canary))
        if len(routing.always_canary) > 1:
            raise RouterError("%s: ingress-nginx routes one header value to the canary, got %s"
                              % (self.describe(), routing.always_canary))
        if obj is None:
            primary = self.read(name=self.primary)
            if primary is None:
                raise RouterError("%s: the primary Ingress '%s' does not exist in namespace '%s'; create it "
                                  "(canary_app role) first" % (self.describe(), self.primary, self.namespace))
            obj = {"apiVersion": self.api_version, "kind": "Ingress",
                   "metadata": {"name": self.name, "namespace": self.namespace,
                                "labels": dict((primary["metadata"].get("labels") or {}),
                                               **{"app.kubernetes.io/managed-by": "progressive.delivery"})},
                   "spec": copy.deepcopy(primary.get("spec") or {})}
            for rule in obj["spec"].get("rules") or []:
                for path in (rule.get("http") or {}).get("paths") or []:
                    service = (path.get("backend") or {}).get("service") or {}
                    if service.get("name") == self.stable_service:
                        service["name"] = self.canary_service
        annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
        _stable, canary = routing.weights
        annotations[PREFIX + "canary"] = "true"
        annotations[PREFIX + "canary-weight"] = str(canary)
        cohort = routing.always_canary[0] if routing.always_canary and routing.active else None
        for key in ("canary-by-header", "canary-by-header-value"):
            annotations.pop(PREFIX + key, None)
        if cohort:
            annotations[PREFIX + "canary-by-header"] = routing.header
            annotations[PREFIX + "canary-by-header-value"] = cohort
        return obj

    def canary_weight_of(self, obj):
        return int(((obj.get("metadata") or {}).get("annotations") or {}).get(PREFIX + "canary-weight", "0"))
