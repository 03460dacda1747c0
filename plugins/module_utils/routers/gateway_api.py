# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gateway API: the HTTPRoute's rules - one header match a cohort, then weighted ``backendRefs``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.routers.kube import KubernetesRouter


class GatewayAPIRouter(KubernetesRouter):
    kind = "gateway_api"
    object_kind = "HTTPRoute"
    api_version = "gateway.networking.k8s.io/v1"

    def backend(self, service, weight):
        return {"name": service, "port": self.port, "weight": weight}

    def build(self, obj, routing):
        obj = obj or {"apiVersion": self.api_version, "kind": "HTTPRoute",
                      "metadata": {"name": self.name, "namespace": self.namespace,
                                   "labels": {"app.kubernetes.io/managed-by": "progressive.delivery"}},
                      "spec": {"hostnames": [self.host] if self.host else []}}
        stable, canary = routing.weights
        services = {"stable": self.stable_service, "canary": self.canary_service}
        rules = [{"matches": [{"headers": [{"type": "Exact", "name": routing.header, "value": cohort}]}],
                  "backendRefs": [self.backend(services[target], 1)]}
                 for cohort, target in sorted(routing.cohort_targets().items())]
        rules.append({"backendRefs": [self.backend(self.stable_service, stable),
                                      self.backend(self.canary_service, canary)]})
        obj.setdefault("spec", {})["rules"] = rules
        return obj

    def canary_weight_of(self, obj):
        rules = (obj.get("spec") or {}).get("rules") or []
        for ref in (rules[-1].get("backendRefs") if rules else None) or []:
            if ref.get("name") == self.canary_service:
                return ref.get("weight", 0)
        return 0
