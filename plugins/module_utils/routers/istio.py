# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Istio: the VirtualService's HTTP routes - one header match a cohort, then the weighted route -
to the ``stable`` and ``canary`` subsets of the service (DestinationRule from the canary_app role)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.routers.kube import KubernetesRouter


class IstioRouter(KubernetesRouter):
    kind = "istio"
    object_kind = "VirtualService"
    api_version = "networking.istio.io/v1beta1"

    def destination(self, subset, weight=None):
        dest = {"destination": {"host": self.stable_service, "subset": subset, "port": {"number": self.port}}}
        if weight is not None:
            dest["weight"] = weight
        return dest

    def build(self, obj, routing):
        obj = obj or {"apiVersion": self.api_version, "kind": "VirtualService",
                      "metadata": {"name": self.name, "namespace": self.namespace,
                                   "labels": {"app.kubernetes.io/managed-by": "progressive.delivery"}},
                      "spec": {"hosts": [self.host or self.stable_service]}}
        stable, canary = routing.weights
        routes = [{"name": "cohort-%s" % cohort,
                   "match": [{"headers": {routing.header: {"exact": cohort}}}],
                   "route": [self.destination(target)]}
                  for cohort, target in sorted(routing.cohort_targets().items())]
        routes.append({"name": "weighted", "route": [self.destination("stable", stable),
                                                     self.destination("canary", canary)]})
        obj.setdefault("spec", {})["http"] = routes
        return obj

    def canary_weight_of(self, obj):
        for route in (obj.get("spec") or {}).get("http") or []:
            if route.get("name") == "weighted":
                for dest in route.get("route") or []:
                    if dest["destination"].get("subset") == "canary":
                        return dest.get("weight", 0)
        return 0
