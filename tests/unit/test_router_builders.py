"""Each Kubernetes router's object builder, ``build(obj, routing)``: the object as it should be for a Routing.

Pure: no server is asked (the Kubernetes test tier writes these objects to an API server that loads the real
CRDs and checks what it keeps). Weights 0, 10 and 100; cohorts that always or never see the canary; an
inactive (aborted) canary that gets nothing; an existing object whose foreign fields are kept."""

import copy

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils.routers import RouterError, Routing
from ansible_collections.progressive.delivery.plugins.module_utils.routers.gateway_api import GatewayAPIRouter
from ansible_collections.progressive.delivery.plugins.module_utils.routers.ingress_nginx import PREFIX, IngressNginxRouter
from ansible_collections.progressive.delivery.plugins.module_utils.routers.istio import IstioRouter
from ansible_collections.progressive.delivery.plugins.module_utils.routers.openshift_route import OpenShiftRouteRouter

HEADER = "x-cohort"
MANAGED = {"app.kubernetes.io/managed-by": "progressive.delivery"}


def router(cls, host=None):
    return cls("checkout", None, "shop", "checkout", "checkout-stable", "checkout-canary", port=8080, host=host)


def cohorts(weight, active=True):
    return Routing(weight, active, HEADER, always_canary=["beta"], never_canary=["vip"])


# --------------------------------------------------------------------------- istio


def istio_dest(subset, weight=None):
    dest = {"destination": {"host": "checkout-stable", "subset": subset, "port": {"number": 8080}}}
    if weight is not None:
        dest["weight"] = weight
    return dest


def istio_cohort(cohort, subset):
    return {"name": "cohort-%s" % cohort, "match": [{"headers": {HEADER: {"exact": cohort}}}],
            "route": [istio_dest(subset)]}


@pytest.mark.parametrize("weight", [0, 10, 100])
def test_istio_splits_the_weighted_route(weight):
    r = router(IstioRouter, host="shop.example")
    vs = r.build(None, Routing(weight))
    assert vs == {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
                  "metadata": {"name": "checkout", "namespace": "shop", "labels": MANAGED},
                  "spec": {"hosts": ["shop.example"],
                           "http": [{"name": "weighted", "route": [istio_dest("stable", 100 - weight),
                                                                   istio_dest("canary", weight)]}]}}
    assert r.canary_weight_of(vs) == weight


def test_istio_routes_cohorts_ahead_of_the_weights():
    r = router(IstioRouter)
    assert r.build(None, cohorts(10))["spec"] == {"hosts": ["checkout-stable"], "http": [
        istio_cohort("beta", "canary"), istio_cohort("vip", "stable"),
        {"name": "weighted", "route": [istio_dest("stable", 90), istio_dest("canary", 10)]}]}
    # at 100% nobody is held back
    assert r.build(None, cohorts(100))["spec"]["http"][:2] == [istio_cohort("beta", "canary"),
                                                               istio_cohort("vip", "canary")]
    # an inactive (aborted) canary gets nothing, cohorts included
    inactive = r.build(None, cohorts(50, active=False))
    assert inactive["spec"]["http"] == [istio_cohort("beta", "stable"), istio_cohort("vip", "stable"),
                                        {"name": "weighted", "route": [istio_dest("stable", 100),
                                                                       istio_dest("canary", 0)]}]
    assert r.canary_weight_of(inactive) == 0


def test_istio_keeps_what_others_put_on_the_virtualservice():
    r = router(IstioRouter)
    existing = r.build(None, Routing(10))
    existing["metadata"].update(resourceVersion="7", annotations={"team": "payments"})
    existing["spec"].update(gateways=["mesh", "shop-gateway"], hosts=["shop.example"])
    rebuilt = r.build(copy.deepcopy(existing), Routing(50))
    assert rebuilt["metadata"] == existing["metadata"]
    assert rebuilt["spec"]["gateways"] == ["mesh", "shop-gateway"] and rebuilt["spec"]["hosts"] == ["shop.example"]
    assert r.canary_weight_of(rebuilt) == 50


# --------------------------------------------------------------------------- gateway api


def backend(service, weight):
    return {"name": service, "port": 8080, "weight": weight}


def http_cohort(cohort, service):
    return {"matches": [{"headers": [{"type": "Exact", "name": HEADER, "value": cohort}]}],
            "backendRefs": [backend(service, 1)]}


@pytest.mark.parametrize("weight", [0, 10, 100])
def test_gateway_api_weights_the_last_rule(weight):
    r = router(GatewayAPIRouter)
    route = r.build(None, Routing(weight))
    assert route == {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                     "metadata": {"name": "checkout", "namespace": "shop", "labels": MANAGED},
                     "spec": {"hostnames": [], "rules": [{"backendRefs": [backend("checkout-stable", 100 - weight),
                                                                          backend("checkout-canary", weight)]}]}}
    assert r.canary_weight_of(route) == weight


def test_gateway_api_routes_cohorts_by_exact_header():
    r = router(GatewayAPIRouter, host="shop.example")
    route = r.build(None, cohorts(10))
    assert route["spec"] == {"hostnames": ["shop.example"], "rules": [
        http_cohort("beta", "checkout-canary"), http_cohort("vip", "checkout-stable"),
        {"backendRefs": [backend("checkout-stable", 90), backend("checkout-canary", 10)]}]}
    assert r.build(None, cohorts(100))["spec"]["rules"][1] == http_cohort("vip", "checkout-canary")
    inactive = r.build(None, cohorts(30, active=False))
    assert inactive["spec"]["rules"] == [
        http_cohort("beta", "checkout-stable"), http_cohort("vip", "checkout-stable"),
        {"backendRefs": [backend("checkout-stable", 100), backend("checkout-canary", 0)]}]


def test_gateway_api_keeps_the_parent_refs():
    r = router(GatewayAPIRouter)
    existing = r.build(None, Routing(0))
    existing["spec"]["parentRefs"] = [{"name": "shop-gateway", "namespace": "infra"}]
    existing["metadata"]["labels"]["team"] = "payments"
    rebuilt = r.build(copy.deepcopy(existing), Routing(10))
    assert rebuilt["spec"]["parentRefs"] == [{"name": "shop-gateway", "namespace": "infra"}]
    assert rebuilt["metadata"]["labels"] == dict(MANAGED, team="payments")
    assert r.canary_weight_of(rebuilt) == 10


# --------------------------------------------------------------------------- openshift route


@pytest.mark.parametrize("weight", [0, 10, 100])
def test_openshift_route_weights_the_alternate_backend(weight):
    r = router(OpenShiftRouteRouter, host="shop.example")
    route = r.build(None, Routing(weight))
    assert route == {"apiVersion": "route.openshift.io/v1", "kind": "Route",
                     "metadata": {"name": "checkout", "namespace": "shop", "labels": MANAGED},
                     "spec": {"port": {"targetPort": 8080}, "host": "shop.example",
                              "to": {"kind": "Service", "name": "checkout-stable", "weight": 100 - weight},
                              "alternateBackends": [{"kind": "Service", "name": "checkout-canary",
                                                     "weight": weight}]}}
    assert r.canary_weight_of(route) == weight


def test_openshift_route_refuses_cohorts_and_sends_nothing_to_an_inactive_canary():
    r = router(OpenShiftRouteRouter)
    with pytest.raises(RouterError, match="cannot route by header"):
        r.build(None, cohorts(10))
    inactive = r.build(None, Routing(40, active=False))
    assert inactive["spec"]["to"]["weight"] == 100 and r.canary_weight_of(inactive) == 0


def test_openshift_route_keeps_tls_and_its_own_host():
    r = router(OpenShiftRouteRouter)
    existing = r.build(None, Routing(0))
    existing["spec"].update(tls={"termination": "edge"}, host="given.example", wildcardPolicy="None")
    rebuilt = r.build(copy.deepcopy(existing), Routing(10))
    assert rebuilt["spec"]["tls"] == {"termination": "edge"} and rebuilt["spec"]["host"] == "given.example"
    assert rebuilt["spec"]["wildcardPolicy"] == "None"
    assert r.canary_weight_of(rebuilt) == 10


# --------------------------------------------------------------------------- ingress-nginx


def canary_ingress(annotations=None):
    """The canary Ingress as the router creates it beside the primary (its spec, canary backend)."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "checkout-canary", "namespace": "shop", "labels": dict(MANAGED, app="checkout"),
                         "annotations": dict(annotations or {})},
            "spec": {"ingressClassName": "nginx", "rules": [{"host": "shop.example", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "checkout-canary", "port": {"number": 8080}}}}]}}]}}


def nginx_annotations(weight, cohort=None):
    out = {PREFIX + "canary": "true", PREFIX + "canary-weight": str(weight)}
    if cohort:
        out.update({PREFIX + "canary-by-header": HEADER, PREFIX + "canary-by-header-value": cohort})
    return out


@pytest.mark.parametrize("weight", [0, 10, 100])
def test_ingress_nginx_sets_the_canary_weight(weight):
    r = router(IngressNginxRouter)
    assert r.name == "checkout-canary" and r.primary == "checkout"
    built = r.build(canary_ingress(), Routing(weight))
    assert built == dict(canary_ingress(), metadata=dict(canary_ingress()["metadata"],
                                                         annotations=nginx_annotations(weight)))
    assert r.canary_weight_of(built) == weight


def test_ingress_nginx_routes_one_cohort_by_header_and_drops_it_when_inactive():
    r = router(IngressNginxRouter)
    with_cohort = r.build(canary_ingress(), Routing(10, True, HEADER, always_canary=["beta"]))
    assert with_cohort["metadata"]["annotations"] == nginx_annotations(10, "beta")
    inactive = r.build(copy.deepcopy(with_cohort), Routing(10, False, HEADER, always_canary=["beta"]))
    assert inactive["metadata"]["annotations"] == nginx_annotations(0)
    with pytest.raises(RouterError, match="cannot keep cohort"):
        r.build(canary_ingress(), cohorts(10))
    with pytest.raises(RouterError, match="one header value"):
        r.build(canary_ingress(), Routing(10, True, HEADER, always_canary=["a", "b"]))


def test_ingress_nginx_keeps_foreign_annotations_and_the_spec():
    r = router(IngressNginxRouter)
    existing = canary_ingress({"cert-manager.io/cluster-issuer": "letsencrypt",
                               PREFIX + "proxy-body-size": "8m"})
    rebuilt = r.build(copy.deepcopy(existing), Routing(25))
    assert rebuilt["spec"] == existing["spec"]
    assert rebuilt["metadata"]["annotations"] == dict(existing["metadata"]["annotations"], **nginx_annotations(25))


# --------------------------------------------------------------------------- mirroring (issue 17)


def mirrored(weight, active=True, cohort=False, **mirror):
    spec = dict({"name": "dark", "percentage": 20, "methods": ["GET", "HEAD"]}, **mirror)
    if cohort:
        return Routing(weight, active, HEADER, always_canary=["beta"], never_canary=["vip"], mirror=spec)
    return Routing(weight, active, HEADER, mirror=spec)


def test_istio_mirrors_the_methods_to_the_canary_subset_ahead_of_the_weighted_route():
    r = router(IstioRouter)
    assert r.supports_mirror
    http = r.build(None, mirrored(0, cohort=True))["spec"]["http"]
    assert [route["name"] for route in http] == ["cohort-beta", "cohort-vip", "mirror-dark", "weighted"]
    assert http[2] == {"name": "mirror-dark",
                       "match": [{"method": {"exact": "GET"}}, {"method": {"exact": "HEAD"}}],
                       "route": [istio_dest("stable", 100), istio_dest("canary", 0)],  # users: the weights
                       "mirror": {"host": "checkout-stable", "subset": "canary", "port": {"number": 8080}},
                       "mirrorPercentage": {"value": 20}}
    assert http[3] == {"name": "weighted", "route": [istio_dest("stable", 100), istio_dest("canary", 0)]}
    headers = r.build(None, mirrored(10, methods=["GET"], headers={"x-tenant": "internal"}))["spec"]["http"][0]
    assert headers["match"] == [{"method": {"exact": "GET"}, "headers": {"x-tenant": {"exact": "internal"}}}]
    assert headers["route"] == [istio_dest("stable", 90), istio_dest("canary", 10)]


@pytest.mark.parametrize("cls", [IstioRouter, GatewayAPIRouter])
def test_the_mirror_is_read_back_from_the_object_and_dropped_on_abort_and_at_100(cls):
    r = router(cls)
    routing = mirrored(10, cohort=True, methods=["GET"], headers={"x-tenant": "internal"})
    built = r.build(None, routing)
    assert r.mirror_of(built) == routing.mirror and r.canary_weight_of(built) == 10
    for gone in (mirrored(10, active=False, cohort=True), mirrored(100, cohort=True)):
        rebuilt = r.build(copy.deepcopy(built), gone)
        assert r.mirror_of(rebuilt) is None
        assert not any("mirror" in str(part.get("name", "")) for part in rebuilt["spec"].get("http", rebuilt[
            "spec"].get("rules", [])))
    assert r.mirror_of(r.build(None, Routing(10))) is None


def test_gateway_api_mirrors_with_a_request_mirror_filter_and_keeps_cohorts_ahead():
    r = router(GatewayAPIRouter)
    assert r.supports_mirror
    rules = r.build(None, mirrored(0, cohort=True))["spec"]["rules"]
    assert len(rules) == 4
    beta = {"type": "Exact", "name": HEADER, "value": "beta"}
    # a method match outranks header matches in Gateway API: the cohort also matches each mirrored method
    assert rules[0]["matches"] == [{"headers": [beta]}, {"method": "GET", "headers": [beta]},
                                   {"method": "HEAD", "headers": [beta]}]
    assert rules[2] == {"name": "mirror-dark", "matches": [{"method": "GET"}, {"method": "HEAD"}],
                        "filters": [{"type": "RequestMirror", "requestMirror": {
                            "backendRef": {"name": "checkout-canary", "port": 8080}, "percent": 20}}],
                        "backendRefs": [backend("checkout-stable", 100), backend("checkout-canary", 0)]}
    assert rules[3] == {"backendRefs": [backend("checkout-stable", 100), backend("checkout-canary", 0)]}
    assert r.canary_weight_of(r.build(None, mirrored(25, cohort=True))) == 25
    tenant = r.build(None, mirrored(0, cohort=True, methods=["GET"], headers={"x-tenant": "internal"}))["spec"]["rules"]
    wanted = {"type": "Exact", "name": "x-tenant", "value": "internal"}
    assert tenant[0]["matches"][1] == {"method": "GET", "headers": [beta, wanted]}
    assert tenant[2]["matches"] == [{"method": "GET", "headers": [wanted]}]


def test_gateway_api_reads_a_fraction_and_refuses_a_method_an_httproute_cannot_match():
    r = router(GatewayAPIRouter)
    built = r.build(None, mirrored(0))
    built["spec"]["rules"][0]["filters"][0]["requestMirror"].pop("percent")
    built["spec"]["rules"][0]["filters"][0]["requestMirror"]["fraction"] = {"numerator": 1, "denominator": 4}
    assert r.mirror_of(built).percentage == 25
    with pytest.raises(RouterError, match="cannot mirror method PROPFIND .*nothing was changed"):
        r.check_routing(mirrored(0, methods=["GET", "PROPFIND"]))


@pytest.mark.parametrize("cls", [IngressNginxRouter, OpenShiftRouteRouter])
def test_routers_that_cannot_mirror_refuse_a_mirror_naming_the_fix(cls):
    r = router(cls)
    assert not r.supports_mirror
    with pytest.raises(RouterError, match="cannot mirror traffic \\(setMirrorRoute dark\\).*istio, gateway_api"):
        r.check_routing(mirrored(0))
    with pytest.raises(RouterError, match="cannot mirror"):
        r.reconcile(mirrored(0))  # refused before the client (None here) is asked anything
