"""The emergency rollback of router-driven releases says "verified" only when the stable pool serves.

Host nginx: real nginx in front of real app processes; a stale stable address is a free port nobody
listens on. Kubernetes routers: the stable Service's EndpointSlice on the Kubernetes test tier (or the
cluster in K8S_AUTH_KUBECONFIG), written by the test where the EndpointSlice controller would."""

import json
import os
import urllib.error
import uuid

import harness
import controller
from ansible_collections.progressive.delivery.plugins.module_utils import backends

PLAYBOOK = os.path.join(harness.ROOT, "playbooks", "emergency_rollback.yml")


def rollback(playbook, kube, variables):
    text = "- name: runbook\n  ansible.builtin.import_playbook: %s\n" % PLAYBOOK
    return playbook(text, extra_vars=variables, env={"K8S_AUTH_KUBECONFIG": kube[0]})


def report_of(tasks):
    found = [t for t in tasks if "What was changed" in t["_task"]]
    return found[0]["msg"] if found else None


def router_module(playbook, module, options):
    text = "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: route\n" \
           "      progressive.delivery.%s: %s\n" % (module, json.dumps(options))
    rc, tasks, _out = playbook(text)
    return rc, tasks[0]


def versions(port, n=60):
    """Which version answered each of n requests through nginx (the status code when none did)."""
    seen = {}
    for _i in range(n):
        try:
            answer = harness.http_get("http://127.0.0.1:%d/" % port)[1].split()[0]
        except urllib.error.HTTPError as e:
            answer = e.code
        seen[answer] = seen.get(answer, 0) + 1
    return seen


def test_a_stale_stable_address_fails_the_rollback_and_a_corrected_run_repairs_it(playbook, kube, tmp_path):
    started = []
    try:
        for version in ("v1", "v2"):
            started.append(harness.DemoApp(version=version, load_rps=0))
        v1, v2 = started
        nginx = harness.Nginx(str(tmp_path))
        started.append(nginx)
        port = harness.free_port()
        good = dict(nginx.router_options(), listen="127.0.0.1:%d" % port, stable=["127.0.0.1:%d" % v1.port],
                    canary=["127.0.0.1:%d" % v2.port])
        # a release walked by router_release, paused with half the traffic on the canary
        rc, walked = router_module(playbook, "router_release", {
            "release": "cart", "router": "nginx", "nginx": good, "stable_version": "v1", "canary_version": "v2",
            "steps": [{"setWeight": 50}, {"pause": {}}]})
        assert rc == 0 and walked["phase"] == "Paused" and walked["weights"]["canary"] == 50, walked.get("msg")
        dead = "127.0.0.1:%d" % harness.free_port()
        variables = {"emergency_rollback_controller": "ansible", "emergency_rollback_releases": ["cart"],
                     "emergency_rollback_nginx": dict(good, stable=[dead]), "emergency_rollback_health_path": "/healthz"}

        rc, tasks, out = rollback(playbook, kube, variables)
        assert rc != 0
        assert report_of(tasks) is None and "verified: 100%" not in out
        abort = [t for t in tasks if " : Abort" in t["_task"]][0]["results"][0]
        assert abort["changed"] is True and abort["weights"] == {"stable": 100, "canary": 0}
        assert abort["stable_check"]["checked"] == [{
            "address": dead, "url": "http://%s/healthz" % dead, "healthy": False, "status": None,
            "reason": "connection refused"}]
        verify = [t for t in tasks if " : Verify" in t["_task"]][0]
        message = verify["results"][0]["msg"]
        assert message == (
            "cart: abort cart: 0/1 stable backends healthy; the stable pool does not answer: %s connection refused; "
            "fix nginx.stable and run the abort again - traffic is on the stable pool as configured "
            "(stable 100%% / canary 0%%)" % dead)
        assert versions(port) == {502: 60}  # what "traffic on the stable pool as configured" means here

        # the on-call corrects the address and runs the same command again: the aborted release is routed
        # again with the addresses given, and the rollback is verified
        rc, tasks, out = rollback(playbook, kube, dict(variables, emergency_rollback_nginx=good))
        assert rc == 0, out[-3000:]
        report = report_of(tasks)
        assert report[1] == "changed: cart aborted"
        assert report[3] == "verified: 100% of traffic on stable, 1/1 stable backends healthy"
        assert versions(port) == {"v1": 60}

        rc, tasks, out = rollback(playbook, kube, dict(variables, emergency_rollback_nginx=good))
        assert rc == 0, out[-3000:]
        assert report_of(tasks)[1] == "changed: nothing (already rolled back)"
        assert report_of(tasks)[3] == "verified: 100% of traffic on stable, 1/1 stable backends healthy"

        # the stable app stops answering its health path: the same run no longer says verified
        v1.stop()
        rc, tasks, out = rollback(playbook, kube, dict(variables, emergency_rollback_nginx=good))
        assert rc != 0 and report_of(tasks) is None
        assert "the stable pool does not answer: 127.0.0.1:%d connection refused" % v1.port in out
    finally:
        for proc in reversed(started):
            proc.stop()


def test_a_stable_service_without_ready_endpoints_is_not_verified(playbook, kube):
    _kubeconfig, client, namespace = kube
    name = "er-%s" % uuid.uuid4().hex[:5]
    stable = "%s-stable" % name
    target = {"namespace": namespace, "name": name, "stable_service": stable, "canary_service": "%s-canary" % name,
              "port": 8080}
    variables = {"emergency_rollback_controller": "ansible", "emergency_rollback_releases": [name],
                 "emergency_rollback_router": "gateway_api", "emergency_rollback_kubernetes_target": target}
    rc, routed = router_module(playbook, "router_step", {
        "release": name, "router": "gateway_api", "kubernetes_target": target, "kubeconfig": kube[0],
        "action": "set_weight", "weight": 30})
    assert rc == 0, routed

    # no stable Service at all
    rc, tasks, out = rollback(playbook, kube, variables)
    assert rc != 0 and report_of(tasks) is None
    assert "the stable Service '%s' in namespace '%s' does not exist" % (stable, namespace) in out

    # the Service exists, its only endpoint is not ready
    controller.api(client, "Service", "v1").create({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": stable},
        "spec": {"ports": [{"port": 8080, "targetPort": 8080}]}}, namespace=namespace)
    slices = controller.api(client, "EndpointSlice", "discovery.k8s.io/v1")
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
        "metadata": {"name": "%s-abcde" % stable, "labels": {"kubernetes.io/service-name": stable}},
        "ports": [{"name": "", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["10.0.0.7"], "conditions": {"ready": False}}]}
    slices.create(endpoint_slice, namespace=namespace)
    rc, tasks, out = rollback(playbook, kube, variables)
    assert rc != 0 and report_of(tasks) is None
    verify = [t for t in tasks if " : Verify" in t["_task"]][0]["results"][0]
    assert "0/1 stable backends healthy: no endpoint of the stable Service '%s' in namespace '%s' is ready " \
           "(10.0.0.7)" % (stable, namespace) in verify["msg"]
    assert verify["msg"].startswith("%s: abort %s: " % (name, name)) and "run the abort again" in verify["msg"]
    rules = controller.get(client, namespace, name, kind="HTTPRoute", api_version="gateway.networking.k8s.io/v1")[
        "spec"]["rules"]
    assert rules[-1]["backendRefs"][1]["weight"] == 0  # the abort itself was done

    # the stable pod becomes ready: verified
    current = slices.get(name=endpoint_slice["metadata"]["name"], namespace=namespace).to_dict()
    current["endpoints"][0]["conditions"]["ready"] = True
    slices.replace(body=current, namespace=namespace)
    rc, tasks, out = rollback(playbook, kube, variables)
    assert rc == 0, out[-3000:]
    assert report_of(tasks)[3] == "verified: 100% of traffic on stable, 1/1 stable backends healthy"


def test_each_stable_address_is_probed_and_reported():
    """A 5xx (asked three times), a refused connection and a healthy app, side by side."""
    started = [harness.DemoApp(version="v1", load_rps=0), harness.DemoApp(version="v1", error_rate=1.0, load_rps=0)]
    try:
        good, failing = ["127.0.0.1:%d" % app.port for app in started]
        dead = "127.0.0.1:%d" % harness.free_port()
        result = backends.verify_nginx([good, failing, dead], path="/", timeout=2)
    finally:
        for app in started:
            app.stop()
    assert result["healthy"] is False and (result["ready"], result["total"]) == (1, 3)
    assert [(c["address"], c["healthy"], c["status"], c["reason"]) for c in result["checked"]] == [
        (good, True, 200, "HTTP 200"), (failing, False, 500, "HTTP 500"), (dead, False, None, "connection refused")]
    assert result["message"] == "1/3 stable backends healthy; the stable pool does not answer: %s HTTP 500, " \
                                "%s connection refused" % (failing, dead)
