"""The person wins (issue 16) on a Kubernetes router, whose release state lives in a ConfigMap guarded
by resourceVersion: a walk in the background obeys an abort made meanwhile, a second walker is refused
with the first one's name. Runs on the cluster in K8S_AUTH_KUBECONFIG or the local API test server."""

import json
import time
import uuid

import harness
import controller


def body(kube, name, **options):
    out = dict(release=name, router="istio", kubeconfig=kube[0],
               kubernetes_target={"namespace": kube[2], "name": name, "stable_service": "checkout",
                                  "canary_service": "checkout-canary", "port": 8080})
    out.update(options)
    return out


def state(kube, name):
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        cm = controller.get(kube[1], kube[2], "pd-release-%s" % name, kind="ConfigMap", api_version="v1")
    except NotFoundError:
        return None
    return json.loads(cm["data"]["state"]) if cm and (cm.get("data") or {}).get("state") else None


def wait_state(kube, name, predicate, what, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = state(kube, name)
        if st and predicate(st):
            return st
        time.sleep(0.3)
    raise AssertionError("release %s never reached %s: %s" % (name, what, state(kube, name)))


def canary_weight(kube, name):
    vs = controller.get(kube[1], kube[2], name, kind="VirtualService", api_version="networking.istio.io/v1beta1")
    return [d["weight"] for d in vs["spec"]["http"][-1]["route"] if d["destination"]["subset"] == "canary"][0]


PLAN = [{"setWeight": 30}, {"pause": {"duration": "120s"}}, {"setWeight": 100}]


def test_an_abort_during_a_pause_is_obeyed_and_a_second_walker_refused(kube, tmp_path):
    name = "wk-%s" % uuid.uuid4().hex[:5]
    walk = dict(stable_version="v1", canary_version="v2", steps=PLAN)
    walker = harness.start_playbook(harness.task("router_release", body(kube, name, **walk)), str(tmp_path))
    wait_state(kube, name, lambda st: st["canary_weight"] == 30 and st["history"][-1]["event"] == "pause",
               "30% and pausing")
    assert canary_weight(kube, name) == 30
    rc, tasks, _out = harness.run_playbook(harness.task("router_release", body(kube, name, **walk)), str(tmp_path))
    assert rc != 0 and "is being walked by" in tasks[0]["msg"] and "since" in tasks[0]["msg"]
    # no pods behind the Services here: the stable pool's health is test_emergency_verify's subject
    abort = body(kube, name, action="abort", reason="INC-7", verify_stable=False)
    rc, tasks, _out = harness.run_playbook(harness.task("router_step", abort), str(tmp_path))
    assert rc == 0, tasks[0].get("msg")
    rc, tasks, _out = walker.result(timeout=120)
    assert rc != 0 and tasks[0]["verdict"] == "rolled_back" and "INC-7" in tasks[0]["msg"]
    st = state(kube, name)
    assert st["aborted"] is True and st["history"][-1]["event"] == "aborted" and st["history"][-1]["by"]
    assert canary_weight(kube, name) == 0
    # the lease is given back: the ConfigMap carries no walker any more
    cm = controller.get(kube[1], kube[2], "pd-release-%s" % name, kind="ConfigMap", api_version="v1")
    assert "progressive.delivery/walker" not in (cm["metadata"].get("annotations") or {})
