"""A dark canary on the Kubernetes routers (issue 17): the setMirrorRoute step on an Istio VirtualService
(``mirror`` + ``mirrorPercentage``) and a Gateway API HTTPRoute (the ``RequestMirror`` filter), as the API server
keeps them (the local test server loads the real CRDs, or the cluster in K8S_AUTH_KUBECONFIG); a second run
changes nothing, check mode writes nothing, and an abort drops the copies in the same write as the weights.
ingress-nginx and OpenShift Route cannot mirror: the plan is refused with nothing changed."""

import json
import uuid

import pytest
from kubernetes.dynamic.exceptions import NotFoundError

import controller

ISTIO = ("VirtualService", "networking.istio.io/v1beta1")
GATEWAY = ("HTTPRoute", "gateway.networking.k8s.io/v1")
OBJECTS = {"istio": ISTIO, "gateway_api": GATEWAY, "openshift_route": ("Route", "route.openshift.io/v1"),
           "ingress_nginx": ("Ingress", "networking.k8s.io/v1")}
DARK = [{"setMirrorRoute": {"name": "dark", "percentage": 20}}, {"setWeight": 10}, {"pause": {}},
        {"setMirrorRoute": {"name": "dark"}}, {"setWeight": 100}]


def target(kube, name):
    return {"namespace": kube[2], "name": name, "stable_service": "checkout", "canary_service": "checkout-canary",
            "port": 8080, "host": "checkout.example.com"}


def play(module, body):
    return """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: %s
      progressive.delivery.%s: %s
""" % (module, module, json.dumps(body))


def release(playbook, kube, router, name, steps=None, version="2", check=False):
    steps = DARK if steps is None else steps
    body = dict(release=name, router=router, kubernetes_target=target(kube, name), kubeconfig=kube[0],
                stable_version=str(int(version) - 1), canary_version=version, steps=steps)
    rc, tasks, _out = playbook(play("router_release", body), check=check, diff=check)
    return rc, tasks[0]


def step(playbook, kube, router, name, action, check=False):
    body = dict(release=name, router=router, kubernetes_target=target(kube, name), kubeconfig=kube[0], action=action)
    if action == "abort":
        body["verify_stable"] = False  # no pods behind the Services on the test tier
    rc, tasks, _out = playbook(play("router_step", body), check=check, diff=check)
    return rc, tasks[0]


def read(kube, kind_version, name):
    try:
        return controller.get(kube[1], kube[2], name, kind=kind_version[0], api_version=kind_version[1])
    except NotFoundError:
        return None


def state_of(kube, name):
    return read(kube, ("ConfigMap", "v1"), "pd-release-%s" % name)


def test_istio_mirrors_to_the_canary_subset_idempotent_and_dropped_with_the_weights(playbook, kube):
    name = "mi-%s" % uuid.uuid4().hex[:5]
    rc, checked = release(playbook, kube, "istio", name, check=True)
    assert rc == 0 and checked["changed"] is True, checked.get("msg")
    assert read(kube, ISTIO, name) is None and state_of(kube, name) is None  # check mode wrote nothing

    rc, first = release(playbook, kube, "istio", name)
    assert rc == 0 and first["verdict"] == "paused" and first["weights"] == {"stable": 90, "canary": 10}, first
    vs = read(kube, ISTIO, name)
    http = vs["spec"]["http"]
    assert [r["name"] for r in http] == ["mirror-dark", "weighted"]
    mirror = http[0]
    # what the server keeps: GET and HEAD copied to the canary subset, users routed by the weights
    assert mirror["match"] == [{"method": {"exact": "GET"}}, {"method": {"exact": "HEAD"}}]
    assert mirror["mirror"] == {"host": "checkout", "subset": "canary", "port": {"number": 8080}}
    assert mirror["mirrorPercentage"] == {"value": 20}
    assert [(d["destination"]["subset"], d["weight"]) for d in mirror["route"]] == [("stable", 90), ("canary", 10)]
    assert [(d["destination"]["subset"], d["weight"]) for d in http[1]["route"]] == [("stable", 90), ("canary", 10)]
    events = [e["event"] for e in json.loads(state_of(kube, name)["data"]["state"])["history"]]
    assert "mirror_set" in events

    rc, again = release(playbook, kube, "istio", name)
    assert rc == 0 and again["changed"] is False, again
    assert read(kube, ISTIO, name)["metadata"]["resourceVersion"] == vs["metadata"]["resourceVersion"]

    rc, would = step(playbook, kube, "istio", name, "abort", check=True)
    assert rc == 0 and would["changed"] is True, would.get("msg")
    assert read(kube, ISTIO, name)["metadata"]["resourceVersion"] == vs["metadata"]["resourceVersion"]

    rc, aborted = step(playbook, kube, "istio", name, "abort")
    assert rc == 0 and aborted["weights"] == {"stable": 100, "canary": 0}, aborted.get("msg")
    after = read(kube, ISTIO, name)
    # one write: the copies stop in the same router update as the split
    assert after["metadata"]["generation"] == vs["metadata"]["generation"] + 1
    assert [r["name"] for r in after["spec"]["http"]] == ["weighted"]
    assert not any("mirror" in r for r in after["spec"]["http"])
    rc, again = step(playbook, kube, "istio", name, "abort")
    assert rc == 0 and again["changed"] is False


def test_gateway_api_request_mirror_filter_as_the_server_keeps_it(playbook, kube):
    name = "mg-%s" % uuid.uuid4().hex[:5]
    steps = [{"setMirrorRoute": {"name": "dark", "percentage": 35, "match": [{"method": {"exact": "GET"}}]}},
             {"pause": {}}, {"setMirrorRoute": {"name": "dark"}}, {"setWeight": 20}, {"pause": {}},
             {"setWeight": 100}]
    rc, checked = release(playbook, kube, "gateway_api", name, steps, check=True)
    assert rc == 0 and checked["changed"] is True, checked.get("msg")
    assert read(kube, GATEWAY, name) is None and state_of(kube, name) is None

    rc, first = release(playbook, kube, "gateway_api", name, steps)
    assert rc == 0 and first["verdict"] == "paused", first.get("msg")
    route = read(kube, GATEWAY, name)
    rules = route["spec"]["rules"]
    assert len(rules) == 2
    mirror = rules[0]
    assert mirror["name"] == "mirror-dark"
    # the server's defaults: a match gets path PathPrefix /, a backendRef its group and kind
    assert mirror["matches"] == [{"method": "GET", "path": {"type": "PathPrefix", "value": "/"}}]
    assert mirror["filters"] == [{"type": "RequestMirror", "requestMirror": {
        "backendRef": {"group": "", "kind": "Service", "name": "checkout-canary", "port": 8080}, "percent": 35}}]
    assert [(b["name"], b["weight"]) for b in mirror["backendRefs"]] == [("checkout", 100), ("checkout-canary", 0)]
    assert [(b["name"], b["weight"]) for b in rules[1]["backendRefs"]] == [("checkout", 100), ("checkout-canary", 0)]

    rc, again = release(playbook, kube, "gateway_api", name, steps)
    assert rc == 0 and again["changed"] is False, again
    assert read(kube, GATEWAY, name)["metadata"]["resourceVersion"] == route["metadata"]["resourceVersion"]

    rc, resumed = step(playbook, kube, "gateway_api", name, "resume")
    assert rc == 0, resumed.get("msg")
    rc, walked = release(playbook, kube, "gateway_api", name, steps)
    assert rc == 0 and walked["weights"] == {"stable": 80, "canary": 20}, walked.get("msg")
    rules = read(kube, GATEWAY, name)["spec"]["rules"]
    assert len(rules) == 1 and "filters" not in rules[0]  # the mirror's removal step took the copies away
    events = [e["event"] for e in json.loads(state_of(kube, name)["data"]["state"])["history"]]
    assert events.index("mirror_set") < events.index("mirror_removed")


@pytest.mark.parametrize("router", ["ingress_nginx", "openshift_route"])
def test_a_router_that_cannot_mirror_refuses_the_plan_with_nothing_changed(playbook, kube, router):
    name = "mr-%s" % uuid.uuid4().hex[:5]
    object_name = name + "-canary" if router == "ingress_nginx" else name
    if router == "ingress_nginx":
        controller.api(kube[1], "Ingress", "networking.k8s.io/v1").create({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name},
            "spec": {"ingressClassName": "nginx", "rules": [{"host": "checkout.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": "checkout", "port": {"number": 8080}}}}]}}]}}, namespace=kube[2])
    # a fresh release: refused before the router's object or the state is created
    rc, refused = release(playbook, kube, router, name)
    assert rc != 0 and refused["changed"] is False, refused
    assert "cannot mirror traffic (setMirrorRoute dark)" in refused["msg"], refused["msg"]
    assert "remove the setMirrorRoute steps" in refused["msg"] and "nothing was changed" in refused["msg"]
    assert read(kube, OBJECTS[router], object_name) is None and state_of(kube, name) is None

    # over a promoted release: its object and its state stay as they were
    rc, promoted = release(playbook, kube, router, name, [{"setWeight": 100}])
    assert rc == 0 and promoted["verdict"] == "promoted", promoted.get("msg")
    before = (read(kube, OBJECTS[router], object_name), state_of(kube, name))
    for check in (True, False):
        rc, refused = release(playbook, kube, router, name, version="3", check=check)
        assert rc != 0 and refused["changed"] is False and "cannot mirror traffic" in refused["msg"], refused
        after = (read(kube, OBJECTS[router], object_name), state_of(kube, name))
        assert [o["metadata"]["resourceVersion"] for o in after] == [o["metadata"]["resourceVersion"] for o in before]


# ------------------------------------------------------------------ the Argo Rollouts path: the canary_app role


@pytest.fixture
def app_namespace(kube):
    name = "pd-mirror-%s" % uuid.uuid4().hex[:6]
    namespaces = kube[1].resources.get(api_version="v1", kind="Namespace")
    namespaces.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    namespaces.delete(name=name)


def canary_app(playbook, kube, namespace, tmp_path, **variables):
    variables = dict({"canary_app_name": "checkout", "canary_app_namespace": namespace,
                      "canary_app_image": "registry.local/checkout:2", "canary_app_host": "checkout.example.com",
                      "canary_app_manifest_dir": str(tmp_path / "m")}, **variables)
    rc, tasks, out = playbook(play_role("canary_app"), extra_vars=variables, env={"K8S_AUTH_KUBECONFIG": kube[0]})
    return rc, tasks, out


def play_role(role):
    return "\n- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: progressive.delivery.%s\n" % role


def rollout_in(kube, namespace):
    try:
        return controller.get(kube[1], namespace, "checkout")
    except NotFoundError:
        return None


def test_canary_app_renders_a_dark_phase_that_the_rollout_crd_and_the_lint_accept(
        playbook, kube, app_namespace, tmp_path):
    mirror = {"canary_app_mirror": {"percentage": 20, "pause": "2m"}}
    rc, tasks, out = canary_app(playbook, kube, app_namespace, tmp_path, **mirror)
    assert rc == 0, out[-3000:]
    lint_task = [t for t in tasks if t["_task"].endswith("Refuse the known canary footguns")][0]
    assert lint_task["findings"] == [], lint_task["findings"]
    canary = rollout_in(kube, app_namespace)["spec"]["strategy"]["canary"]  # as the API server kept it (the CRD)
    assert canary["trafficRouting"]["managedRoutes"] == [{"name": "mirror"}]
    assert canary["steps"][0] == {"setMirrorRoute": {"name": "mirror", "percentage": 20, "match": [
        {"method": {"exact": "GET"}}, {"method": {"exact": "HEAD"}}]}}
    assert canary["steps"][1] == {"pause": {"duration": "2m"}} and "analysis" in canary["steps"][2]
    assert canary["steps"][3] == {"setMirrorRoute": {"name": "mirror"}}  # removed before any user is served
    assert canary["steps"][4] == {"setWeight": 10}
    rc, again, out = canary_app(playbook, kube, app_namespace, tmp_path, **mirror)
    assert rc == 0 and not [t["_task"] for t in again if t.get("changed") and "Apply" in t["_task"]], out[-2000:]


@pytest.mark.parametrize("name", ["Dark Route", "dark}, {name: other", "-dark", 7])
def test_canary_app_refuses_a_mirror_name_that_is_not_a_dns_label_before_anything_is_rendered(
        playbook, kube, app_namespace, tmp_path, name):
    rc, tasks, out = canary_app(playbook, kube, app_namespace, tmp_path,
                                canary_app_mirror={"percentage": 20, "name": name})
    assert rc != 0, out[-2000:]
    failed = [t for t in tasks if t.get("failed")][0]
    assert failed["_task"].endswith("Check the mirror's route name")
    assert "canary_app_mirror.name %s is refused: the mirror's route name must be a DNS label" % json.dumps(name) \
        in failed["msg"], failed["msg"]
    assert rollout_in(kube, app_namespace) is None and not (tmp_path / "m").exists()


def test_canary_app_passes_the_steps_through_with_their_managed_routes(playbook, kube, app_namespace, tmp_path):
    steps = [{"setHeaderRoute": {"name": "testers", "match": [{"headerName": "x-tester",
                                                              "headerValue": {"exact": "yes"}}]}},
             {"setMirrorRoute": {"name": "dark", "percentage": 50, "match": [{"method": {"exact": "GET"}}]}},
             {"analysis": {"templates": [{"templateName": "checkout-success-rate"}],
                           "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]}},
             {"setMirrorRoute": {"name": "dark"}}, {"setHeaderRoute": {"name": "testers"}},
             {"setWeight": 50}, {"analysis": {"templates": [{"templateName": "checkout-success-rate"}],
                                              "args": [{"name": "canary-hash",
                                                        "valueFrom": {"podTemplateHashValue": "Latest"}}]}}]
    rc, _tasks, out = canary_app(playbook, kube, app_namespace, tmp_path, canary_app_steps=steps)
    assert rc == 0, out[-3000:]
    canary = rollout_in(kube, app_namespace)["spec"]["strategy"]["canary"]
    assert canary["trafficRouting"]["managedRoutes"] == [{"name": "dark"}, {"name": "testers"}]
    assert canary["steps"] == steps


def test_canary_app_with_a_mirror_on_ingress_nginx_is_refused_before_anything_is_applied(playbook, kube,
                                                                                         app_namespace, tmp_path):
    rc, tasks, out = canary_app(playbook, kube, app_namespace, tmp_path, canary_app_traffic_router="nginx",
                                canary_app_never_canary=[], canary_app_mirror={"percentage": 20})
    assert rc != 0
    failed = [t for t in tasks if t.get("failed")][0]
    assert "error mirror-unsupported-router Rollout/checkout" in failed["msg"], failed["msg"]
    finding = [f for f in failed["findings"] if f["rule"] == "mirror-unsupported-router"][0]
    assert "trafficRouting.nginx" in finding["message"] and "istio" in finding["fix"]
    assert rollout_in(kube, app_namespace) is None


def test_the_canary_release_role_fails_with_the_refusal_and_changes_nothing(playbook, kube):
    name = "mc-%s" % uuid.uuid4().hex[:5]
    variables = {"canary_release_name": name, "canary_release_router": "openshift_route",
                 "canary_release_kubernetes_target": target(kube, name), "canary_release_cohorts": {},
                 "canary_release_stable_version": "1", "canary_release_canary_version": "2",
                 "canary_release_steps": DARK, "canary_release_report_dir": ""}
    rc, tasks, out = playbook(play_role("canary_release"), extra_vars=variables,
                              env={"K8S_AUTH_KUBECONFIG": kube[0]})
    assert rc != 0, out[-3000:]
    failed = [t for t in tasks if t.get("failed")][-1]
    assert "cannot mirror traffic (setMirrorRoute dark)" in failed["msg"], failed["msg"]
    assert "remove the setMirrorRoute steps" in failed["msg"]
    assert read(kube, OBJECTS["openshift_route"], name) is None and state_of(kube, name) is None
