# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Istio: the VirtualService's HTTP routes - one header match a cohort, then the mirror route when the plan
mirrors, then the weighted route - to the ``stable`` and ``canary`` subsets of the service (DestinationRule from
the canary_app role).

The mirror route matches the mirrored methods (and headers) and routes them by the same weights as the weighted
route, with ``mirror`` (the canary subset) and ``mirrorPercentage``: users are still served as the weights say,
and Envoy sends the copies with ``-shadow`` appended to their Host, which is how the app tells them apart."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.routers import Mirror
from ansible_collections.progressive.delivery.plugins.module_utils.routers.kube import MIRROR_ROUTE_PREFIX, KubernetesRouter


class IstioRouter(KubernetesRouter):
    kind = "istio"
    object_kind = "VirtualService"
    api_version = "networking.istio.io/v1beta1"
    supports_mirror = True

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
        split = [self.destination("stable", stable), self.destination("canary", canary)]
        mirror = routing.mirror
        if mirror:  # after the cohorts (first match wins): a cohort's requests are routed, never copied
            headers = dict((name, {"exact": value}) for name, value in sorted(mirror.headers.items()))
            routes.append({"name": MIRROR_ROUTE_PREFIX + mirror.name,
                           "match": [dict({"method": {"exact": method}}, **({"headers": headers} if headers else {}))
                                     for method in mirror.methods],
                           "route": [dict(d) for d in split],
                           "mirror": self.destination("canary")["destination"],
                           "mirrorPercentage": {"value": mirror.percentage}})
        routes.append({"name": "weighted", "route": split})
        obj.setdefault("spec", {})["http"] = routes
        return obj

    def canary_weight_of(self, obj):
        for route in (obj.get("spec") or {}).get("http") or []:
            if route.get("name") == "weighted":
                for dest in route.get("route") or []:
                    if dest["destination"].get("subset") == "canary":
                        return dest.get("weight", 0)
        return 0

    def mirror_of(self, obj):
        for route in (obj.get("spec") or {}).get("http") or []:
            name = route.get("name") or ""
            if not (name.startswith(MIRROR_ROUTE_PREFIX) and route.get("mirror")):
                continue
            matches = route.get("match") or []
            methods = [(m.get("method") or {}).get("exact") for m in matches]
            headers = dict((h, v.get("exact")) for h, v in ((matches[0].get("headers") or {}) if matches else {}).items())
            percentage = (route.get("mirrorPercentage") or {}).get("value", 100)
            return Mirror(name[len(MIRROR_ROUTE_PREFIX):], int(round(percentage)), [m for m in methods if m] or None,
                          headers)
        return None
