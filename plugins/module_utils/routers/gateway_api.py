# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gateway API: the HTTPRoute's rules - one header match a cohort, then the mirror rule when the plan mirrors,
then weighted ``backendRefs``.

The mirror rule matches the mirrored methods (and headers), routes them by the same weights as the last rule and
carries a ``RequestMirror`` filter to the canary Service with ``percent``. Gateway API ranks matches, not rules
(a method match beats header matches), so while a mirror is set each cohort rule also matches every mirrored
method with its cohort header (and the mirror's headers): a cohort's requests stay routed, never copied. Envoy-based
implementations send the copies with ``-shadow`` appended to their Host, which is how the app tells them apart."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.routers import Mirror, RouterError
from ansible_collections.progressive.delivery.plugins.module_utils.routers.kube import MIRROR_ROUTE_PREFIX, KubernetesRouter

# HTTPRouteMatch.method: the methods the HTTPRoute CRD accepts
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")


class GatewayAPIRouter(KubernetesRouter):
    kind = "gateway_api"
    object_kind = "HTTPRoute"
    api_version = "gateway.networking.k8s.io/v1"
    supports_mirror = True

    def check_mirror(self, mirror):
        super(GatewayAPIRouter, self).check_mirror(mirror)
        unknown = [m for m in mirror.methods if m not in METHODS]
        if unknown:
            raise RouterError("%s cannot mirror method %s (setMirrorRoute %s): an HTTPRoute matches only %s; "
                              "nothing was changed" % (self.describe(), ", ".join(unknown), mirror.name,
                                                       ", ".join(METHODS)))

    def backend(self, service, weight):
        return {"name": service, "port": self.port, "weight": weight}

    def build(self, obj, routing):
        obj = obj or {"apiVersion": self.api_version, "kind": "HTTPRoute",
                      "metadata": {"name": self.name, "namespace": self.namespace,
                                   "labels": {"app.kubernetes.io/managed-by": "progressive.delivery"}},
                      "spec": {"hostnames": [self.host] if self.host else []}}
        stable, canary = routing.weights
        services = {"stable": self.stable_service, "canary": self.canary_service}
        mirror = routing.mirror
        wanted = [{"type": "Exact", "name": name, "value": value}
                  for name, value in sorted((mirror.headers if mirror else {}).items())]
        rules = []
        for cohort, target in sorted(routing.cohort_targets().items()):
            header = [{"type": "Exact", "name": routing.header, "value": cohort}]
            matches = [{"headers": header}]
            if mirror:  # outranks the mirror rule's matches: same method, one header more
                matches += [{"method": method, "headers": header + wanted} for method in mirror.methods]
            rules.append({"matches": matches, "backendRefs": [self.backend(services[target], 1)]})
        split = [self.backend(self.stable_service, stable), self.backend(self.canary_service, canary)]
        if mirror:
            rules.append({"name": MIRROR_ROUTE_PREFIX + mirror.name,
                          "matches": [dict({"method": method}, **({"headers": wanted} if wanted else {}))
                                      for method in mirror.methods],
                          "filters": [{"type": "RequestMirror", "requestMirror": {
                              "backendRef": {"name": self.canary_service, "port": self.port},
                              "percent": mirror.percentage}}],
                          "backendRefs": [dict(b) for b in split]})
        rules.append({"backendRefs": split})
        obj.setdefault("spec", {})["rules"] = rules
        return obj

    def canary_weight_of(self, obj):
        rules = (obj.get("spec") or {}).get("rules") or []
        for ref in (rules[-1].get("backendRefs") if rules else None) or []:
            if ref.get("name") == self.canary_service:
                return ref.get("weight", 0)
        return 0

    def mirror_of(self, obj):
        for rule in (obj.get("spec") or {}).get("rules") or []:
            name = rule.get("name") or ""
            copies = [f.get("requestMirror") or {} for f in rule.get("filters") or [] if f.get("type") == "RequestMirror"]
            if not (name.startswith(MIRROR_ROUTE_PREFIX) and copies):
                continue
            copy = copies[0]
            if "fraction" in copy:  # written by someone else: read what it means
                fraction = copy["fraction"]
                percentage = 100.0 * fraction.get("numerator", 0) / (fraction.get("denominator") or 100)
            else:
                percentage = copy.get("percent", 100)
            matches = rule.get("matches") or []
            headers = dict((h.get("name"), h.get("value")) for h in (matches[0].get("headers") or [] if matches else []))
            return Mirror(name[len(MIRROR_ROUTE_PREFIX):], int(round(percentage)),
                          [m.get("method") for m in matches if m.get("method")] or None, headers)
        return None
