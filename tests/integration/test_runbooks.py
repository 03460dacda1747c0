"""The runbook playbooks, run as the person on call runs them, on the Kubernetes test tier and the sandbox.

Grafana is not installable here: a small HTTP server on 127.0.0.1 stands in for its annotation API and
records what it was sent (the one stand-in in this file)."""

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import controller
import harness

PLAYBOOKS = os.path.join(harness.ROOT, "playbooks")


class GrafanaStandIn(object):
    def __init__(self):
        self.annotations = []
        received = self.annotations

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                 "body": json.loads(body or b"{}")})
                data = b'{"id": 1, "message": "Annotation added"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def grafana():
    stand_in = GrafanaStandIn()
    yield stand_in
    stand_in.stop()


def run(playbook, kube, name, variables):
    text = "- name: runbook\n  ansible.builtin.import_playbook: %s\n" % os.path.join(PLAYBOOKS, name)
    return playbook(text, extra_vars=variables, env={"K8S_AUTH_KUBECONFIG": kube[0]})


def mid_canary(kube, namespace, name, team):
    _kubeconfig, client, _ns = kube
    body = {"apiVersion": controller.ARGO, "kind": "Rollout", "metadata": {"name": name, "labels": {"team": team}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "registry.local/app:2"}]}}}}
    ro = controller.api(client, "Rollout").create(body, namespace=namespace).to_dict()
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 1, "st4ble", "registry.local/app:1"))
    controller.write_status(client, namespace, name, {
        "currentStepIndex": 1, "stableRS": "st4ble", "currentPodHash": "b4d", "observedGeneration": "1",
        "canary": {"weights": {"canary": {"weight": 20}, "stable": {"weight": 80}}},
        "pauseConditions": [{"reason": "CanaryPauseStep"}], "controllerPause": True, "phase": "Paused"})
    # the controller's answer to abort: traffic back on stable
    return controller.React(client, namespace, name, lambda r: r["status"].get("abort"), {
        "abortedAt": "2026-01-01T00:00:00Z", "currentStepIndex": 0, "phase": "Degraded", "controllerPause": None,
        "message": "RolloutAborted: Rollout aborted update to revision 2", "pauseConditions": None,
        "canary": {"weights": {"canary": {"weight": 0}, "stable": {"weight": 100}}}}, delay=0.3)


def test_emergency_rollback_of_a_team_needs_confirmation_then_verifies_and_tells(playbook, kube, grafana):
    _kubeconfig, client, namespace = kube
    team = "pay-%s" % uuid.uuid4().hex[:4]
    names = ["%s-api" % team, "%s-web" % team]
    reacts = [mid_canary(kube, namespace, n, team) for n in names]
    variables = {"emergency_rollback_namespace": namespace, "emergency_rollback_label_selectors": ["team=%s" % team],
                 "emergency_rollback_reason": "INC-42 error budget", "emergency_rollback_timeout": 30,
                 "emergency_rollback_notify": {"notify_grafana_url": grafana.url, "notify_grafana_token": "s3cr3t"}}
    rc, _tasks, out = run(playbook, kube, "emergency_rollback.yml", variables)
    assert rc != 0 and "2 rollouts match (%s, %s)" % tuple(names) in out and "emergency_rollback_confirm=true" in out
    assert all("abort" not in controller.get(client, namespace, n)["status"] for n in names)

    rc, tasks, out = run(playbook, kube, "emergency_rollback.yml", dict(variables, emergency_rollback_confirm=True))
    assert all(r.join() for r in reacts)
    assert rc == 0, out[-3000:]
    report = [t for t in tasks if "What was changed" in t["_task"]][0]["msg"]
    assert report[1] == "changed: %s aborted, %s aborted" % tuple(names)
    assert report[3] == "verified: 100% of traffic on stable, stable pods ready"
    assert "'grafana': 'annotated'" in report[4]
    assert all(controller.get(client, namespace, n)["status"]["abort"] is True for n in names)
    sent = grafana.annotations[0]
    assert sent["path"] == "/api/annotations" and sent["auth"] == "Bearer s3cr3t"
    assert sent["body"]["tags"] == ["progressive-delivery", "rollback"] and "INC-42" in sent["body"]["text"]
    assert "s3cr3t" not in out  # the token is never logged

    rc, tasks, out = run(playbook, kube, "emergency_rollback.yml", dict(variables, emergency_rollback_confirm=True))
    assert rc == 0
    assert [t for t in tasks if "What was changed" in t["_task"]][0]["msg"][1] == \
        "changed: nothing (already rolled back)"
    assert not [t["_task"] for t in tasks if t.get("changed") and "Annotate" not in t["_task"]]


def test_emergency_rollback_of_a_router_release_works_with_prometheus_down(playbook, kube, tmp_path):
    stack = harness.Stack(str(tmp_path), {"v1": {}, "v2": {}}, label="er")
    try:
        port = harness.free_port()
        nginx = dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % port,
                     stable=["127.0.0.1:%d" % stack.apps["v1"].port], canary=["127.0.0.1:%d" % stack.apps["v2"].port])
        text = ("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: half\n"
                "      progressive.delivery.router_step: %s\n" % json.dumps(
                    {"release": "cart", "router": "nginx", "nginx": nginx, "action": "set_weight", "weight": 50}))
        playbook(text, expect_rc=0)
        stack.prometheus.stop()  # the rollback must not need it
        variables = {"emergency_rollback_controller": "ansible", "emergency_rollback_releases": ["cart"],
                     "emergency_rollback_nginx": nginx}
        rc, tasks, out = run(playbook, kube, "emergency_rollback.yml", variables)
        assert rc == 0, out[-3000:]
        report = [t for t in tasks if "What was changed" in t["_task"]][0]["msg"]
        assert report[1] == "changed: cart aborted" and "router_updates" in report[2]
        seen = set()
        for _i in range(100):
            seen.add(harness.http_get("http://127.0.0.1:%d/" % port)[1].split()[0])
        assert seen == {"v1"}
        rc, tasks, out = run(playbook, kube, "emergency_rollback.yml", variables)
        assert rc == 0 and "changed: nothing (already rolled back)" in out
    finally:
        stack.stop()
