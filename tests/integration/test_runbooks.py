"""The runbook playbooks, run as the person on call runs them, on the Kubernetes test tier and the sandbox.

Grafana is not installable here: tests/support/grafana_stand_in.py stands in for its annotation API."""

import json
import os
import uuid

import controller
import harness
from ansible_collections.progressive.delivery.plugins.module_utils import evidence

PLAYBOOKS = os.path.join(harness.ROOT, "playbooks")


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
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}], "controllerPause": True,
        "phase": "Paused"})
    # the controller's answer to abort: traffic back on stable
    return controller.React(client, namespace, name, lambda r: r["status"].get("abort"), {
        "abortedAt": "2026-01-01T00:00:00Z", "currentStepIndex": 0, "phase": "Degraded", "controllerPause": None,
        "message": "RolloutAborted: Rollout aborted update to revision 2", "pauseConditions": None,
        "canary": {"weights": {"canary": {"weight": 0}, "stable": {"weight": 100}}}}, delay=0.3)


def routed(playbook, stack, release, stable, canary, weight):
    """The release served by the stack's nginx at ``weight``% canary; returns (port, the nginx router options)."""
    port = harness.free_port()
    nginx = dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % port,
                 stable=["127.0.0.1:%d" % stack.apps[stable].port], canary=["127.0.0.1:%d" % stack.apps[canary].port])
    playbook("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: route\n"
             "      progressive.delivery.router_step: %s\n" % json.dumps(
                 {"release": release, "router": "nginx", "nginx": nginx, "action": "set_weight", "weight": weight}),
             expect_rc=0)
    return port, nginx


def test_emergency_rollback_of_a_team_needs_confirmation_then_verifies_and_tells(playbook, kube, grafana):
    _kubeconfig, client, namespace = kube
    team = "pay-%s" % uuid.uuid4().hex[:4]
    names = ["%s-api" % team, "%s-web" % team]
    reacts = [mid_canary(kube, namespace, n, team) for n in names]
    variables = {"emergency_rollback_namespace": namespace, "emergency_rollback_label_selectors": ["team=%s" % team],
                 "emergency_rollback_reason": "INC-42 error budget", "emergency_rollback_timeout": 30,
                 "emergency_rollback_notify": {"grafana": {"url": grafana.url, "token": "s3cr3t"}}}
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
        port, nginx = routed(playbook, stack, "cart", "v1", "v2", 50)
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


def test_rollback_drill_on_the_sandbox_measures_and_reports(playbook, kube, tmp_path):
    import load
    stack = harness.Stack(str(tmp_path), {"v1": {}, "v3": dict(error_rate=0.3, latency=0.3)}, label="drill")
    port, nginx = routed(playbook, stack, "shop", "v1", "v3", 0)
    gen = load.LoadGenerator("127.0.0.1", port, rps=80, max_seconds=180, max_requests=14400).start()
    variables = {"rollback_drill_release": "shop", "rollback_drill_nginx": nginx,
                 "rollback_drill_stable_version": "v1", "rollback_drill_bad_version": "v3", "rollback_drill_pause": "3s",
                 "rollback_drill_analysis": {"template_file": os.path.join(harness.ROOT, "sandbox", "files",
                                                                           "slo-templates.yaml")},
                 "rollback_drill_prometheus_url": stack.prometheus.url, "rollback_drill_selector": {"app": "drill"},
                 "rollback_drill_slo": 0.95, "rollback_drill_report_dir": str(tmp_path / "reports")}
    try:
        harness.wait_for(lambda: stack.prometheus.query('sum(rate(http_requests_total{app="drill"}[10s])) > 0'),
                         60, "traffic in Prometheus")
        reports = []
        for _run in range(2):  # a drill can be run again: the same bad version starts over
            rc, tasks, out = run(playbook, kube, "rollback_drill.yml", variables)
            assert rc == 0, out[-3000:]
            reports.append([t for t in tasks if t["_task"].endswith("The drill passed")][0]["msg"])
    finally:
        gen.stop()
        stack.stop()
    files = sorted(f for f in os.listdir(str(tmp_path / "reports")) if f.endswith(".json"))
    assert len(files) == 2 and all("drill passed: detected in" in m for m in reports)
    assert len(os.listdir(str(tmp_path / "reports"))) == 6  # JSON, HTML and JUnit XML of each drill
    with open(os.path.join(str(tmp_path / "reports"), files[-1])) as f:
        report = json.load(f)
    with open(os.path.join(str(tmp_path / "reports"), files[-1].replace(".json", ".html"))) as f:
        page = f.read()
    assert evidence.duration_text(report["time_to_detect_s"]) in page and "2-minute target" in page
    assert report["verdict"] == "passed" and report["rolled_back_without_a_human"] is True
    assert 0 < report["time_to_detect_s"] < 30 and 0 <= report["time_to_restore_s"] < 5
    assert 0.95 <= report["availability"] < 1.0  # the bad canary did fail some requests, within the SLO
    assert report["bad_version"] == "v3" and report["within_slo"] is True
    assert report["failed_requests"] > 0 and "%d requests failed" % report["failed_requests"] in page  # counted
    assert report["release_state"]["canary_version"] == "v3" and page.count("<svg") >= 3  # the release's charts


def test_rollback_drill_on_argo_rollouts_fails_when_nothing_rolls_back(playbook, kube, tmp_path):
    _kubeconfig, client, namespace = kube
    name = "drill-%s" % uuid.uuid4().hex[:4]
    react = mid_canary(kube, namespace, name, "drills")
    react.join()  # (not aborted: the React above waits for an abort nobody sends here)
    variables = {"rollback_drill_controller": "argo_rollouts", "rollback_drill_namespace": namespace,
                 "rollback_drill_name": name, "rollback_drill_bad_images": {"app": "registry.local/app:broken"},
                 "rollback_drill_timeout": 3, "rollback_drill_report_dir": str(tmp_path / "reports")}
    rc, _tasks, out = run(playbook, kube, "rollback_drill.yml", variables)
    assert rc != 0 and "the bad version was NOT rolled back without a human" in out
    # now with the controller's analysis aborting the bad images
    aborts = controller.React(client, namespace, name, lambda r: r["spec"]["template"]["spec"]["containers"][0][
        "image"].endswith("broken") and not r["status"].get("abortedAt"), {
        "abort": True, "abortedAt": "2026-01-01T00:05:00Z", "phase": "Degraded", "controllerPause": None,
        "message": "RolloutAborted: Metric \"success-rate\" assessed Failed", "pauseConditions": None}, delay=1)
    rc, tasks, out = run(playbook, kube, "rollback_drill.yml", dict(variables, rollback_drill_timeout=30))
    assert aborts.join()
    assert rc == 0, out[-3000:]
    files = sorted(f for f in os.listdir(str(tmp_path / "reports")) if f.endswith(".json"))
    with open(os.path.join(str(tmp_path / "reports"), files[-1])) as f:
        report = json.load(f)
    assert report["verdict"] == "passed" and report["time_to_detect_s"] is None and report["time_to_restore_s"] > 0
    ro = controller.get(client, namespace, name)
    assert ro["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/app:1"  # undone


def test_post_release_watch_changes_nothing_when_healthy_and_rolls_back_a_regression(
        playbook, kube, tmp_path, grafana):
    import load
    stack = harness.Stack(str(tmp_path), {"v1": {}, "v2": {}}, label="watch")
    port, nginx = routed(playbook, stack, "web", "v1", "v2", 100)
    gen = load.LoadGenerator("127.0.0.1", port, rps=60, max_seconds=150, max_requests=9000).start()
    variables = {"post_release_watch_release": "web", "post_release_watch_nginx": nginx,
                 "post_release_watch_rollback": True, "post_release_watch_prometheus_url": stack.prometheus.url,
                 "post_release_watch_analysis": {
                     "template_file": os.path.join(harness.ROOT, "sandbox", "files", "slo-templates.yaml"),
                     "args": {"canary-version": "v2"}},
                 # the flat notify_* keys of earlier releases (deprecated) still reach the notify role
                 "post_release_watch_notify": {"notify_grafana_url": grafana.url}}
    try:
        harness.wait_for(lambda: stack.prometheus.query('sum(rate(http_requests_total{version="v2"}[10s])) > 0'),
                         60, "v2 traffic in Prometheus")
        rc, tasks, out = run(playbook, kube, "post_release_watch.yml", variables)
        assert rc == 0, out[-3000:]
        assert tasks[-1]["msg"].startswith("healthy: ")
        assert not [t["_task"] for t in tasks if t.get("changed")] and grafana.annotations == []
        stack.apps["v2"].control(error_rate=0.5)
        harness.wait_for(lambda: stack.prometheus.query(
            'sum(rate(http_requests_total{version="v2",code="500"}[10s])) > 1'), 60, "the regression in Prometheus")
        rc, tasks, out = run(playbook, kube, "post_release_watch.yml", variables)
    finally:
        gen.stop()
        stack.stop()
    assert rc == 0, out[-3000:]
    assert tasks[-1]["msg"].startswith("REGRESSION (Failed): ") and tasks[-1]["msg"].endswith("; rolled back")
    rollback = [t for t in tasks if "Send all traffic back" in t["_task"]][0]
    assert rollback["changed"] is True and rollback["weights"] == {"stable": 100, "canary": 0}
    assert grafana.annotations and "web regressed after release" in grafana.annotations[0]["body"]["text"]


def test_canary_release_annotates_start_and_rollback_and_writes_its_report(playbook, kube, tmp_path, grafana):
    import load
    stack = harness.Stack(str(tmp_path), {"v1": {}, "v3": dict(error_rate=0.3, latency=0.3)}, label="rel")
    port, nginx = routed(playbook, stack, "api", "v1", "v3", 0)
    gen = load.LoadGenerator("127.0.0.1", port, rps=60, max_seconds=120, max_requests=7200).start()
    variables = {"canary_release_name": "api", "canary_release_nginx": nginx, "canary_release_stable_version": "v1",
                 "canary_release_canary_version": "v3", "canary_release_pause": "3s",
                 "canary_release_analysis": {"template_file": os.path.join(harness.ROOT, "sandbox", "files",
                                                                           "slo-templates.yaml")},
                 "canary_release_prometheus_url": stack.prometheus.url,
                 "canary_release_notify": {"grafana": {"url": grafana.url}},
                 "canary_release_report_dir": str(tmp_path)}
    try:
        harness.wait_for(lambda: stack.prometheus.query('sum(rate(http_requests_total{app="rel"}[10s])) > 0'),
                         60, "traffic in Prometheus")
        rc, tasks, out = run(playbook, kube, "canary_release.yml", variables)
    finally:
        gen.stop()
        stack.stop()
    assert rc != 0 and "release api of v3 rolled back" in out
    texts = [a["body"]["text"] for a in grafana.annotations]
    assert texts[0] == "release api v3 started (over v1)" and texts[1].startswith("release api v3: rolled_back - ")
    assert grafana.annotations[1]["body"]["tags"] == ["progressive-delivery", "release", "api", "rolled_back"]
    # the reports are named after the release's start (UTC): api-v3-20261130T041200Z.json, .html, .xml
    names = sorted(f for f in os.listdir(str(tmp_path)) if f.startswith("api-v3-"))
    assert [n.rsplit(".", 1)[1] for n in names] == ["html", "json", "xml"]
    with open(os.path.join(str(tmp_path), names[1])) as f:
        report = json.load(f)
    assert report["aborted"] is True and report["time_to_detect_s"] > 0
    assert report["step_results"][0]["analysis_phase"] == "Failed" and report["history"][0]["event"] == "started"
    with open(os.path.join(str(tmp_path), names[0])) as f:
        page = f.read()
    assert page.count("<svg") >= 2 and "rolled back" in page and "time to detect %s" % evidence.duration_text(report["time_to_detect_s"]) in page
    # the start annotation carries the time the release started, from its history
    assert grafana.annotations[0]["body"]["time"] == int(report["history"][0]["t"] * 1000)
