"""The implementation plan (playbooks/phase_01 ... phase_11, site.yml), run twice as an operator runs it:
on the sandbox (Ansible as the controller: real nginx, Prometheus, app processes) and on the Kubernetes test
tier (Argo Rollouts), where the second run must change nothing but the rollback drill, which acts by design.

Stand-ins, for what cannot run here: Grafana's annotation API (tests/support/grafana_stand_in.py) and, on the
test API server, the cluster's controllers (tests/support/cluster_stand_in.py: Deployment, endpoints, the
Argo Rollouts controller, the Prometheus Operator's discovery and the kubelet's CPU metrics of a real app)."""

import json
import os
import uuid

import pytest

import harness
from cluster_stand_in import ClusterStandIn, PodDiscovery

PLAYBOOKS = os.path.join(harness.ROOT, "playbooks")
SLO = os.path.join(harness.ROOT, "sandbox", "files", "slo-templates.yaml")
DRILL_PLAY = "Phase 9 - The rollback test"


def run(playbook, kube, name, variables, check=False):
    text = "- name: plan\n  ansible.builtin.import_playbook: %s\n" % os.path.join(PLAYBOOKS, name)
    rc, tasks, out = playbook(text, extra_vars=variables, env={"K8S_AUTH_KUBECONFIG": kube[0]}, check=check)
    assert rc == 0, out[-4000:]
    for t in tasks:
        t["_task"] = t["_task"].split(" : ", 1)[-1]  # without the role's name
    return tasks


def changed(tasks):
    """What changed outside the drill (which releases its bad version again each run, by design)."""
    return ["%s: %s" % (t["_play"], t["_task"]) for t in tasks
            if t.get("changed") and t["_play"] != DRILL_PLAY]


def said(tasks, play):
    return [t["msg"] for t in tasks if t["_play"] == play and t["_task"].endswith("done") and "msg" in t]


def served(port, n=40):
    return set(harness.http_get("http://127.0.0.1:%d/" % port)[1].split()[0] for _i in range(n))


def test_the_plan_on_the_sandbox_twice(playbook, kube, tmp_path, grafana):
    import load
    stack = harness.Stack(str(tmp_path), {"v1": {}, "v2": {}, "v3": dict(error_rate=0.3, latency=0.3)},
                          label="plan")
    port, bg_port = harness.free_port(), harness.free_port()
    variables = {
        "plan_controller": "ansible", "plan_app": "shop",
        "plan_nginx": dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % port),
        "plan_backends": dict((v, ["127.0.0.1:%d" % a.port]) for v, a in stack.apps.items()),
        "plan_stable_version": "v1", "plan_new_version": "v2", "plan_bad_version": "v3",
        "plan_analysis": {"template_file": SLO}, "plan_scrape_selector": {"app": "plan"},
        "plan_prometheus_url": stack.prometheus.url, "plan_pause": "2s", "plan_slo": 0.95,
        "plan_ingress_url": "http://127.0.0.1:%d/" % port,
        "plan_bluegreen": {"name": "shop-db", "stable_version": "v1", "new_version": "v2", "approved": True,
                           "nginx": dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % bg_port)},
        "plan_notify": {"grafana": {"url": grafana.url}},
        "plan_report_dir": str(tmp_path / "reports")}
    gen = None
    try:
        first = run(playbook, kube, "phase_01_preparation.yml", variables)
        assert "versions v1, v2, v3; weights 10 -> 25 -> 50 -> 75 -> 100" in said(first, "Phase 1 - Preparation")[0]
        second = run(playbook, kube, "phase_02_controller.yml", variables)
        assert [t["_task"] for t in second if t.get("changed")] == [
            "All traffic through the router to v1"]
        assert served(port) == {"v1"}
        gen = load.LoadGenerator("127.0.0.1", port, rps=60, max_seconds=400, max_requests=24000,
                                 cohorts={"internal": 10, "enterprise": 10}).start()
        harness.wait_for(lambda: stack.prometheus.query('sum(rate(http_requests_total{version="v1"}[10s])) > 0'),
                         60, "v1 traffic in Prometheus")
        runs = [run(playbook, kube, "site.yml", variables) for _i in range(2)]
        assert served(port) == {"v2"} and served(bg_port) == {"v2"}
        checked = run(playbook, kube, "site.yml", variables, check=True)  # check mode: nothing at all changes
        assert [t["_task"] for t in checked if t.get("changed")] == [] and served(port) == {"v2"}
        assert [t["msg"] for t in checked if t["_task"] == "What the drill would do"][0].startswith(
            "check mode: the drill would release v3 to shop")
    finally:
        if gen:
            gen.stop()
        stack.stop()
    first, second = runs
    assert said(first, "Phase 3 - Observability") == ["all 2 metric queries returned data: success-rate, latency-p95"]
    assert said(first, "Phase 4 - The application")[0].endswith("20/20 requests answered 200 through http://127.0.0.1:%d/"
                                                                % port)
    assert said(first, "Phase 6 - The SLO gates")[0].startswith("gates Successful on v2: success-rate=")
    assert [t["msg"] for t in first if t["_task"] == "Report the release of shop"] == [
        "v2: promoted, it serves 100%"]
    assert [t["msg"] for t in second if t["_task"] == "Report the release of shop"] == [
        "v2: already serves 100%"]
    # the release report, JSON, HTML and JUnit XML, named after the release's start (UTC)
    named = sorted(f for f in os.listdir(str(tmp_path / "reports")) if f.startswith("shop-v2-"))
    assert [n.rsplit(".", 1)[1] for n in named] == ["html", "json", "xml"]
    with open(str(tmp_path / "reports" / named[1])) as f:
        release = json.load(f)
    assert [(s["weight"], s["analysis_phase"]) for s in release["step_results"]] == [
        (10, "Successful"), (25, "Successful"), (50, "Successful"), (75, "Successful"), (100, None)]
    with open(str(tmp_path / "reports" / named[0])) as f:
        assert f.read().count("<svg") == 3  # weight, success-rate, latency-p95
    # the drill, run in each pass, measured
    drills = sorted(f for f in os.listdir(str(tmp_path / "reports")) if f.startswith("drill-") and f.endswith(".json"))
    assert len(drills) == 2
    for name in drills:
        with open(str(tmp_path / "reports" / name)) as f:
            drill = json.load(f)
        assert drill["verdict"] == "passed" and drill["bad_version"] == "v3" and drill["within_slo"] is True
        assert 0 < drill["time_to_detect_s"] < 30 and 0 <= drill["time_to_restore_s"] < 5
    assert [t["msg"] for t in first if t["_task"] == "Report the watch"][0].startswith("healthy: ")
    # told once: the release and the blue-green switch, start and end; nothing more on the second run
    texts = [a["body"]["text"] for a in grafana.annotations]
    assert texts[0] == "release shop v2 started (over v1)" and texts[1].startswith("release shop v2: promoted")
    assert texts[2] == "release shop-db v2 started (over v1)" and len(texts) == 4
    # the second run: nothing changed but the drill
    assert changed(second) == []


def ingress(workdir, host, app_port):
    """A real nginx as the ingress controller's data plane: Host header -> the app (no ingress controller
    runs on the test API server to program it from the Ingress/VirtualService objects)."""
    port = harness.free_port()
    conf = os.path.join(workdir, "nginx", "conf.d")
    os.makedirs(conf, exist_ok=True)
    with open(os.path.join(conf, "ingress.conf"), "w") as f:
        f.write("server {\n    listen 127.0.0.1:%d;\n    server_name %s;\n    location / { proxy_pass http://127.0.0.1:%d; }\n}\n"
                % (port, host, app_port))
    return harness.Nginx(workdir), port


def test_the_plan_on_kubernetes_twice(playbook, kube, tmp_path, grafana):
    if kube.server is None:
        pytest.skip("needs the controllers' stand-in of the local test server; on a real cluster run site.yml "
                    "with an inventory of real images, Prometheus and ingress")
    _kubeconfig, client, _ns = kube
    suffix = uuid.uuid4().hex[:6]
    namespace, argo = "pd-plan-%s" % suffix, "pd-argo-%s" % suffix
    app = harness.DemoApp(version="checkout", load_rps=25, load_seconds=600)
    started = [app]
    try:
        prometheus = harness.Prometheus([{"job": "checkout", "file_sd": str(tmp_path / "pods.json")}],
                                        str(tmp_path / "prometheus"))
        started.append(prometheus)
        pods = PodDiscovery(client, namespace, "checkout", app, str(tmp_path / "pods.json"), prometheus)
        started.append(pods)
        nginx, port = ingress(str(tmp_path), "checkout.example.com", app.port)
        started.append(nginx)
        cluster = ClusterStandIn(client, [namespace, argo], discovery=pods).start()
        started.append(cluster)
        prometheus.wait_for_data('sum(rate(http_requests_total{namespace="%s"}[2m])) > 0' % namespace, 60)
        variables = {
            "plan_controller": "argo_rollouts", "plan_app": "checkout", "plan_namespace": namespace,
            "plan_monitoring_namespace": "pd-mon-%s" % suffix,
            "plan_argo_rollouts_mode": "manifests", "plan_argo_rollouts_namespace": argo,
            "plan_argo_rollouts_manifest_file": os.path.join(harness.ROOT, "tests", "integration", "files",
                                                             "argo-rollouts-install.yaml"),
            "plan_image": "registry.local/checkout:1.0", "plan_new_image": "registry.local/checkout:1.1",
            "plan_bad_image": "registry.local/checkout:1.2-bad",
            "plan_prometheus_url": prometheus.url, "plan_host": "checkout.example.com",
            "plan_ingress_url": "http://127.0.0.1:%d/" % port, "plan_poll_seconds": 1,
            "plan_release_timeout": 120, "plan_drill_timeout": 60, "plan_slo": 0.95,
            "plan_bluegreen": {"name": "orders", "image": "registry.local/orders:8", "volume_claim": "orders-data"},
            "plan_notify": {"grafana": {"url": grafana.url}},
            "plan_manifest_dir": str(tmp_path / "manifests"), "plan_report_dir": str(tmp_path / "reports")}
        runs = [run(playbook, kube, "site.yml", variables) for _i in range(2)]
    finally:
        for part in reversed(started):
            part.stop()
    first, second = runs
    import controller
    rollout = controller.get(client, namespace, "checkout")
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/checkout:1.1"
    assert rollout["status"]["phase"] == "Healthy"
    assert said(first, "Phase 1 - Preparation")[0].startswith("ready: Kubernetes ")
    assert said(first, "Phase 3 - Observability") == [
        "all 5 metric queries returned data: success-rate, error-rate, latency-p95, latency-p99, cpu-saturation"]
    assert said(first, "Phase 4 - The application") == [
        "checkout: 1 endpoint(s), 20/20 requests answered 200 through http://127.0.0.1:%d/" % port]
    assert said(first, "Phase 6 - The SLO gates")[0].startswith(
        "gates Successful on %s: success-rate=" % rollout["status"]["stableRS"])
    assert said(first, "Phase 7 - Dashboards") == ["8 panels, every query runs in Prometheus"]
    assert said(first, "Phase 8 - Alerting")[0].startswith("alert rules applied; promtool: SUCCESS: 4 rules found")
    assert said(first, "Phase 10 - Blue-green")[0].startswith("orders: blue-green, active ")
    assert [t["msg"] for t in first if t["_task"] == "Report the watch"][0].startswith("healthy: ")
    # the release told once, the drill measured in each run (no time to detect from a Rollout's status)
    texts = [a["body"]["text"] for a in grafana.annotations]
    assert len(texts) == 1 and texts[0] == (
        "release checkout registry.local/checkout:1.1: promoted (over registry.local/checkout:1.0)")
    drills = sorted(f for f in os.listdir(str(tmp_path / "reports")) if f.endswith(".json"))
    assert len(drills) == 2
    for name in drills:
        with open(str(tmp_path / "reports" / name)) as f:
            drill = json.load(f)
        assert drill["verdict"] == "passed" and drill["rolled_back_without_a_human"] is True
        assert 0 < drill["time_to_restore_s"] < 30 and drill["availability"] >= 0.95
    # the second run: nothing changed but the drill
    assert changed(second) == []
