"""The Kubernetes routers on the Kubernetes test tier (or the cluster in K8S_AUTH_KUBECONFIG).

Each router's object is checked after router_step sets weights and cohorts: the fields the mesh or
ingress controller reads, idempotency, check mode, the state ConfigMap, and the refusals."""

import json
import uuid

import pytest

import controller


def target(kube, name):
    return {"namespace": kube[2], "name": name, "stable_service": "checkout", "canary_service": "checkout-canary",
            "port": 8080, "host": "checkout.example.com"}


def step(playbook, kube, router, name, action, cohorts=None, **options):
    body = dict(release=name, router=router, kubernetes_target=target(kube, name), kubeconfig=kube[0],
                action=action, **options)
    if cohorts is not None:
        body["cohorts"] = cohorts
    text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: router step
      progressive.delivery.router_step: %s
""" % json.dumps(body)
    rc, tasks, _out = playbook(text)
    return rc, tasks[0]


COHORTS = {"always_canary": ["internal"], "never_canary": ["enterprise"]}


def read(kube, kind, api_version, name):
    return controller.get(kube[1], kube[2], name, kind=kind, api_version=api_version)


def test_istio_virtualservice_weights_and_cohorts(playbook, kube):
    name = "vs-%s" % uuid.uuid4().hex[:5]
    rc, result = step(playbook, kube, "istio", name, "set_weight", COHORTS, weight=25)
    assert rc == 0 and result["changed"] is True, result.get("msg")
    vs = read(kube, "VirtualService", "networking.istio.io/v1beta1", name)
    routes = vs["spec"]["http"]
    assert routes[0]["match"] == [{"headers": {"x-canary-cohort": {"exact": "enterprise"}}}]
    assert routes[0]["route"][0]["destination"]["subset"] == "stable"
    assert routes[1]["match"] == [{"headers": {"x-canary-cohort": {"exact": "internal"}}}]
    assert routes[1]["route"][0]["destination"]["subset"] == "canary"
    assert [(d["destination"]["subset"], d["weight"]) for d in routes[2]["route"]] == [("stable", 75), ("canary", 25)]
    assert vs["spec"]["hosts"] == ["checkout.example.com"]
    rc, again = step(playbook, kube, "istio", name, "set_weight", COHORTS, weight=25)
    assert rc == 0 and again["changed"] is False
    rc, full = step(playbook, kube, "istio", name, "set_weight", COHORTS, weight=100)
    routes = read(kube, "VirtualService", "networking.istio.io/v1beta1", name)["spec"]["http"]
    assert routes[0]["route"][0]["destination"]["subset"] == "canary"  # enterprise joins at 100%
    assert full["weights"] == {"stable": 0, "canary": 100}


def test_gateway_api_httproute_backend_weights(playbook, kube):
    name = "hr-%s" % uuid.uuid4().hex[:5]
    rc, result = step(playbook, kube, "gateway_api", name, "set_weight", COHORTS, weight=10)
    assert rc == 0, result.get("msg")
    rules = read(kube, "HTTPRoute", "gateway.networking.k8s.io/v1", name)["spec"]["rules"]
    # as the API server keeps them: backendRefs defaulted to the core group's Service
    assert rules[-1]["backendRefs"] == [{"group": "", "kind": "Service", "name": "checkout", "port": 8080, "weight": 90},
                                        {"group": "", "kind": "Service", "name": "checkout-canary", "port": 8080,
                                         "weight": 10}]
    rc, again = step(playbook, kube, "gateway_api", name, "set_weight", COHORTS, weight=10)
    assert rc == 0 and again["changed"] is False, again.get("msg")  # compared with what the server keeps
    internal = [r for r in rules if r.get("matches", [{}])[0].get("headers", [{}])[0].get("value") == "internal"]
    assert internal[0]["backendRefs"][0]["name"] == "checkout-canary"
    rc, aborted = step(playbook, kube, "gateway_api", name, "abort", COHORTS)
    rules = read(kube, "HTTPRoute", "gateway.networking.k8s.io/v1", name)["spec"]["rules"]
    assert rules[-1]["backendRefs"][1]["weight"] == 0
    assert all(r["backendRefs"][0]["name"] == "checkout" for r in rules[:-1])  # cohorts back on stable too
    assert aborted["weights"] == {"stable": 100, "canary": 0}


def test_openshift_route_alternate_backends_and_no_cohorts(playbook, kube):
    name = "rt-%s" % uuid.uuid4().hex[:5]
    rc, result = step(playbook, kube, "openshift_route", name, "set_weight", {}, weight=50)
    assert rc == 0, result.get("msg")
    route = read(kube, "Route", "route.openshift.io/v1", name)["spec"]
    assert route["to"] == {"kind": "Service", "name": "checkout", "weight": 50}
    assert route["alternateBackends"] == [{"kind": "Service", "name": "checkout-canary", "weight": 50}]
    rc, refused = step(playbook, kube, "openshift_route", name, "set_weight", COHORTS, weight=60)
    assert rc != 0 and "cannot route by header" in refused["msg"]
    assert read(kube, "Route", "route.openshift.io/v1", name)["spec"]["to"]["weight"] == 50


def test_ingress_nginx_canary_ingress_beside_the_primary(playbook, kube):
    _kubeconfig, client, namespace = kube
    name = "ing-%s" % uuid.uuid4().hex[:5]
    rc, missing = step(playbook, kube, "ingress_nginx", name, "set_weight", {"always_canary": ["internal"]},
                       weight=10)
    assert rc != 0 and "the primary Ingress '%s' does not exist" % name in missing["msg"]
    controller.api(client, "Ingress", "networking.k8s.io/v1").create({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
        "spec": {"ingressClassName": "nginx", "rules": [{"host": "checkout.example.com", "http": {"paths": [
            {"path": "/", "pathType": "Prefix",
             "backend": {"service": {"name": "checkout", "port": {"number": 8080}}}}]}}]}}, namespace=namespace)
    rc, result = step(playbook, kube, "ingress_nginx", name, "set_weight", {"always_canary": ["internal"]},
                      weight=10)
    assert rc == 0, result.get("msg")
    canary = read(kube, "Ingress", "networking.k8s.io/v1", name + "-canary")
    notes = canary["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/canary"] == "true"
    assert notes["nginx.ingress.kubernetes.io/canary-weight"] == "10"
    assert notes["nginx.ingress.kubernetes.io/canary-by-header"] == "x-canary-cohort"
    assert notes["nginx.ingress.kubernetes.io/canary-by-header-value"] == "internal"
    backend = canary["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "checkout-canary", "port": {"number": 8080}}
    rc, refused = step(playbook, kube, "ingress_nginx", name, "set_weight", COHORTS, weight=20)
    assert rc != 0 and "cannot keep cohort ['enterprise'] off a weighted canary" in refused["msg"]


@pytest.mark.parametrize("router", ["istio", "gateway_api"])
def test_release_state_lives_in_a_configmap_and_survives(playbook, kube, router):
    name = "st-%s" % uuid.uuid4().hex[:5]
    body = dict(release=name, router=router, kubernetes_target=target(kube, name), kubeconfig=kube[0],
                cohorts=COHORTS, stable_version="7", canary_version="8",
                steps=[{"setWeight": 30}, {"pause": {}}, {"setWeight": 100}])
    text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: release
      progressive.delivery.router_release: %s
""" % json.dumps(body)
    rc, tasks, _out = playbook(text)
    assert rc == 0 and tasks[0]["verdict"] == "paused" and tasks[0]["message"] == "CanaryPauseStep"
    cm = read(kube, "ConfigMap", "v1", "pd-release-%s" % name)
    state = json.loads(cm["data"]["state"])
    assert state["canary_version"] == "8" and state["step_index"] == 1 and state["canary_weight"] == 30
    rc, resumed = step(playbook, kube, router, name, "resume", COHORTS)
    assert rc == 0 and resumed["phase"] == "Progressing"
    rc, tasks, _out = playbook(text)
    assert rc == 0 and tasks[0]["verdict"] == "promoted" and tasks[0]["weights"]["canary"] == 100
    rc, tasks, _out = playbook(text)
    assert rc == 0 and tasks[0]["changed"] is False
