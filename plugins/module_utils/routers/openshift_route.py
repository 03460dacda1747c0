# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenShift Route: ``spec.to`` the stable Service and ``alternateBackends`` the canary, by weight.

A Route has no header matching, so cohorts are refused here (use a separate Route per cohort), and it cannot copy
requests: a plan with a setMirrorRoute step is refused before anything is written (``supports_mirror`` stays False)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.routers import RouterError
from ansible_collections.progressive.delivery.plugins.module_utils.routers.kube import KubernetesRouter


class OpenShiftRouteRouter(KubernetesRouter):
    kind = "openshift_route"
    object_kind = "Route"
    api_version = "route.openshift.io/v1"

    def build(self, obj, routing):
        if routing.always_canary or routing.never_canary:
            raise RouterError("%s: an OpenShift Route cannot route by header; drop the cohorts or use another "
                              "router" % self.describe())
        obj = obj or {"apiVersion": self.api_version, "kind": "Route",
                      "metadata": {"name": self.name, "namespace": self.namespace,
                                   "labels": {"app.kubernetes.io/managed-by": "progressive.delivery"}},
                      "spec": {"port": {"targetPort": self.port}}}
        if self.host:
            obj["spec"]["host"] = self.host
        stable, canary = routing.weights
        obj["spec"]["to"] = {"kind": "Service", "name": self.stable_service, "weight": stable}
        obj["spec"]["alternateBackends"] = [{"kind": "Service", "name": self.canary_service, "weight": canary}]
        return obj

    def canary_weight_of(self, obj):
        for backend in (obj.get("spec") or {}).get("alternateBackends") or []:
            if backend.get("name") == self.canary_service:
                return backend.get("weight", 0)
        return 0
