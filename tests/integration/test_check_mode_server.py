"""Check mode asks the server (issue 11): the Kubernetes routers send their write with dryRun=All, so the
predicted object is the server's own answer (defaulted, pruned), and an object the schema refuses fails in
check mode with the server's message, not only for real. Runs on K8S_AUTH_KUBECONFIG or the local API
test server (which loads the real CRDs)."""

import json
import uuid

import pytest
from kubernetes.dynamic.exceptions import NotFoundError

import controller


def step(playbook, kube, name, cohorts, check=False, **options):
    body = dict(release=name, router="gateway_api", kubeconfig=kube[0], cohorts=cohorts,
                kubernetes_target={"namespace": kube[2], "name": name, "stable_service": "checkout",
                                   "canary_service": "checkout-canary", "port": 8080},
                action="set_weight", **options)
    rc, tasks, _out = playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: router step
      progressive.delivery.router_step: %s
""" % json.dumps(body), check=check, diff=check)
    return rc, tasks[0]


def httproute(kube, name):
    try:
        return controller.get(kube[1], kube[2], name, kind="HTTPRoute", api_version="gateway.networking.k8s.io/v1")
    except NotFoundError:
        return None


def test_check_mode_shows_the_object_as_the_server_would_keep_it(playbook, kube):
    name = "cm-%s" % uuid.uuid4().hex[:5]
    rc, checked = step(playbook, kube, name, {"always_canary": ["internal"]}, check=True, weight=10)
    assert rc == 0 and checked["changed"] is True, checked.get("msg")
    assert httproute(kube, name) is None  # nothing stored
    after = checked["diff"][0]["after"]
    # fields our build leaves out and the API server defaults: the prediction is the server's answer
    assert after["spec"]["rules"][-1]["backendRefs"][0]["kind"] == "Service"
    assert after["spec"]["rules"][-1]["backendRefs"][0]["group"] == ""
    rc, real = step(playbook, kube, name, {"always_canary": ["internal"]}, weight=10)
    assert rc == 0 and real["changed"] is True
    stored = httproute(kube, name)
    assert stored["spec"] == after["spec"]  # what check mode said is what the server keeps
    rc, again = step(playbook, kube, name, {"always_canary": ["internal"]}, check=True, weight=10)
    assert rc == 0 and again["changed"] is False


@pytest.mark.parametrize("check", [True, False], ids=["check mode", "for real"])
def test_an_object_the_schema_refuses_fails_in_check_mode_too(playbook, kube, check):
    name = "cm-%s" % uuid.uuid4().hex[:5]
    cohorts = {"always_canary": ["team-%02d" % i for i in range(16)]}  # 16 cohort rules + the split = 17
    rc, result = step(playbook, kube, name, cohorts, check=check, weight=10)
    assert rc != 0
    assert "spec.rules" in result["msg"] and "16" in result["msg"], result["msg"]
    assert httproute(kube, name) is None
