"""The platform and app roles on the Kubernetes test tier (or the cluster in K8S_AUTH_KUBECONFIG).

Each role converges, converges again with no change, leaves the cluster alone in check mode, and its
rendered manifests validate: core kinds against the Kubernetes schemas (kubernetes-validate), Argo
Rollouts kinds against the CRD schemas the API server holds, PrometheusRule groups with promtool,
dashboard queries with the real Prometheus, and the Rollouts and AnalysisTemplates lint clean."""

import glob
import json
import math
import os
import shutil
import subprocess
import uuid

import kubernetes_validate
import pytest
import yaml
from kubernetes.dynamic.exceptions import UnprocessibleEntityError

import controller
import harness
from conftest import HASHES
from ansible_collections.progressive.delivery.plugins.module_utils import lint

K8S_VERSION = "1.31"


@pytest.fixture
def namespace(kube):
    _kubeconfig, client, _ns = kube
    name = "pd-role-%s" % uuid.uuid4().hex[:6]
    namespaces = client.resources.get(api_version="v1", kind="Namespace")
    namespaces.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    namespaces.delete(name=name)


def converge(playbook, kube, role, variables, check=False):
    text = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: progressive.delivery.%s
""" % role
    rc, tasks, out = playbook(text, extra_vars=variables, check=check, env={"K8S_AUTH_KUBECONFIG": kube[0]})
    assert rc == 0, out[-3000:]
    return tasks


def changed(tasks):
    """Tasks that changed something other than the local render of the manifests."""
    return [t["_task"] for t in tasks if t.get("changed") and "Render the manifests" not in t["_task"]
            and "manifest directory" not in t["_task"]]


def rendered(directory):
    docs = []
    for path in sorted(glob.glob(os.path.join(directory, "**", "*.yaml"), recursive=True)):
        with open(path) as f:
            docs += [d for d in yaml.safe_load_all(f) if d]
    return docs


def validate_core(docs):
    """Every kind kubernetes-validate has a schema for, strictly; returns the kinds checked."""
    checked = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
            checked.append(doc["kind"])
        except kubernetes_validate.SchemaNotFoundError:
            continue  # CRDs: validated by the API server's CRD schemas on apply
    return checked


def in_cluster(kube, namespace, docs):
    """Each rendered object, read back from the API."""
    _kubeconfig, client, _ns = kube
    return [controller.get(client, namespace, d["metadata"]["name"], kind=d["kind"], api_version=d["apiVersion"])
            for d in docs]


@pytest.mark.parametrize("router", ["istio", "nginx"])
def test_canary_app_converges_validates_and_lints_clean(playbook, kube, namespace, tmp_path, router):
    variables = {"canary_app_name": "checkout", "canary_app_namespace": namespace,
                 "canary_app_image": "registry.local/checkout:1.4.2", "canary_app_traffic_router": router,
                 "canary_app_host": "checkout.example.com", "canary_app_manifest_dir": str(tmp_path / "m")}
    if router == "nginx":
        variables["canary_app_never_canary"] = []  # ingress-nginx cannot hold a cohort back
    first = converge(playbook, kube, "canary_app", variables)
    assert changed(first)
    second = converge(playbook, kube, "canary_app", variables)
    assert changed(second) == []
    docs = rendered(str(tmp_path / "m"))
    kinds = sorted(d["kind"] for d in docs)
    # five SLO templates for the steps, and the guard for the background analysis
    expected = ["AnalysisTemplate"] * 6 + ["PodDisruptionBudget", "Rollout", "Service", "Service"]
    expected += ["DestinationRule", "VirtualService"] if router == "istio" else ["Ingress"]
    assert kinds == sorted(expected)
    assert sorted(validate_core(docs)) == sorted(k for k in expected if k in (
        "PodDisruptionBudget", "Service", "Ingress"))
    assert lint.lint(docs, p99_seconds=1.0) == []  # warnings included
    objects = in_cluster(kube, namespace, docs)
    rollout = [o for o in objects if o["kind"] == "Rollout"][0]
    canary = rollout["spec"]["strategy"]["canary"]
    assert [s["setWeight"] for s in canary["steps"] if "setWeight" in s] == [10, 25, 50, 75]
    assert sum(1 for s in canary["steps"] if "analysis" in s) == 4
    # fail fast: the guard as Argo's background analysis, from the first step; the plan's detection bound is its
    # 15 s x 3 measurements, well inside the guide's 2 minutes (the steps alone would take 5 min + 3 min)
    assert canary["analysis"]["templates"] == [{"templateName": "checkout-guard"}]
    bounds = {}
    lint.lint(docs, bounds=bounds)
    assert bounds == {"Rollout/checkout": 45.0}
    assert canary["abortScaleDownDelaySeconds"] >= 2 * 1.0
    if router == "istio":
        vs = [o for o in objects if o["kind"] == "VirtualService"][0]
        names = [r["name"] for r in vs["spec"]["http"]]
        assert names == ["cohort-internal", "cohort-enterprise", "primary"]
        assert vs["spec"]["http"][1]["route"][0]["destination"]["subset"] == "stable"
    templates = [o for o in objects if o["kind"] == "AnalysisTemplate"]
    for tpl in templates:
        assert "{{args.canary-hash}}" in tpl["spec"]["metrics"][0]["provider"]["prometheus"]["query"]


def test_bluegreen_app_for_a_stateful_workload(playbook, kube, namespace, tmp_path):
    variables = {"bluegreen_app_name": "orders", "bluegreen_app_namespace": namespace,
                 "bluegreen_app_image": "registry.local/orders:8", "bluegreen_app_volume_claim": "orders-data",
                 "bluegreen_app_manifest_dir": str(tmp_path / "m")}
    assert changed(converge(playbook, kube, "bluegreen_app", variables))
    assert changed(converge(playbook, kube, "bluegreen_app", variables)) == []
    docs = rendered(str(tmp_path / "m"))
    assert sorted(validate_core(docs)) == ["Service", "Service"]
    assert lint.lint(docs) == []
    rollout = [o for o in in_cluster(kube, namespace, docs) if o["kind"] == "Rollout"][0]
    bg = rollout["spec"]["strategy"]["blueGreen"]
    assert bg["autoPromotionEnabled"] is False and bg["scaleDownDelaySeconds"] == 300
    assert bg["activeService"] == "orders-active" and bg["previewService"] == "orders-preview"
    assert [t["templateName"] for t in bg["prePromotionAnalysis"]["templates"]] == [
        "orders-success-rate", "orders-error-rate", "orders-latency-p95"]
    # the linter would refuse the same workload with auto-promotion
    bg["autoPromotionEnabled"] = True
    others = [d for d in docs if d["kind"] != "Rollout"]
    assert [f["rule"] for f in lint.lint([rollout] + others)] == ["stateful-auto-promotion"]


def test_check_mode_leaves_the_cluster_alone(playbook, kube, namespace, tmp_path):
    variables = {"canary_app_name": "checkout", "canary_app_namespace": namespace,
                 "canary_app_image": "registry.local/checkout:1", "canary_app_manifest_dir": str(tmp_path / "m")}
    tasks = converge(playbook, kube, "canary_app", variables, check=True)
    assert changed(tasks)  # it would create them
    _kubeconfig, client, _ns = kube
    for kind, api_version in (("Rollout", controller.ARGO), ("AnalysisTemplate", controller.ARGO),
                              ("Service", "v1")):
        assert controller.api(client, kind, api_version).get(namespace=namespace).to_dict()["items"] == []


def test_alerting_rules_pass_promtool(playbook, kube, namespace, tmp_path):
    variables = {"alerting_rules_namespace": namespace, "alerting_rules_selector": {"namespace": namespace},
                 "alerting_rules_manifest_dir": str(tmp_path / "m")}
    assert changed(converge(playbook, kube, "alerting_rules", variables))
    assert changed(converge(playbook, kube, "alerting_rules", variables)) == []
    rule = rendered(str(tmp_path / "m"))[0]
    assert [r["alert"] for r in rule["spec"]["groups"][0]["rules"]] == [
        "CanaryErrorBudgetBurn", "RolloutAborted", "AnalysisInconclusiveTooLong", "RolloutStuckAtStep"]
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    proc = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 4 rules found" in proc.stdout


def test_dashboard_queries_run_in_prometheus(playbook, kube, namespace, tmp_path, prometheus):
    variables = {"grafana_dashboards_namespace": namespace, "grafana_dashboards_selector": {"namespace": "shop"},
                 "grafana_dashboards_manifest_dir": str(tmp_path / "m")}
    assert changed(converge(playbook, kube, "grafana_dashboards", variables))
    assert changed(converge(playbook, kube, "grafana_dashboards", variables)) == []
    cm = rendered(str(tmp_path / "m"))[0]
    assert validate_core([cm]) == ["ConfigMap"] and cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(cm["data"]["rollouts.json"])
    titles = [p["title"] for p in dashboard["panels"]]
    assert len(titles) == 8 and "Traffic share per version (measured canary weight)" in titles
    for panel in dashboard["panels"]:
        prometheus.query(panel["targets"][0]["expr"])  # raises on a query Prometheus cannot parse
    # against the demo apps' real series, the error-rate panel tells the bad pods from the good ones
    # (the test apps carry a pod label, not the hash label the ServiceMonitor adds in a cluster)
    errors = [p for p in dashboard["panels"] if p["title"].startswith("Error rate")][0]["targets"][0]["expr"]
    by_pod_query = errors.replace("rollouts_pod_template_hash", "pod")

    def rates():
        # on a busy machine a pod can have no request in the panel's window yet (its rate is NaN): wait for
        # every pod's traffic, bounded, rather than judge an empty window
        found = dict((r["metric"]["pod"], float(r["value"][1])) for r in prometheus.query(by_pod_query))
        return found if len(found) == len(HASHES) and not any(math.isnan(v) for v in found.values()) else None
    measured = harness.wait_for(rates, 120, "an error rate for every pod from %s" % by_pod_query, interval=1.0)
    assert max(measured.values()) > 0.1 and min(measured.values()) == 0.0


def test_the_api_server_refuses_an_invalid_rollout(kube, namespace):
    _kubeconfig, client, _ns = kube
    body = {"apiVersion": controller.ARGO, "kind": "Rollout", "metadata": {"name": "typo"},
            "spec": {"replicas": 1, "strategy": {"canary": {"steps": [{"setWeight": "ten"}]}}}}
    with pytest.raises(UnprocessibleEntityError) as raised:
        controller.api(client, "Rollout").create(body, namespace=namespace)
    assert "setWeight" in str(raised.value.body)


@pytest.fixture
def shop(kube):
    """The namespace the demo apps' series carry (namespace="shop"), created if missing."""
    _kubeconfig, client, _ns = kube
    namespaces = client.resources.get(api_version="v1", kind="Namespace")
    if "shop" not in [n["metadata"]["name"] for n in namespaces.get().to_dict()["items"]]:
        namespaces.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    return "shop"


def test_service_monitor_proves_prometheus_has_what_the_analysis_needs(playbook, kube, shop, tmp_path, prometheus):
    variables = {"service_monitor_name": "checkout-%s" % uuid.uuid4().hex[:4], "service_monitor_namespace": shop,
                 "service_monitor_selector": {"app.kubernetes.io/name": "checkout"},
                 "service_monitor_job": "checkout-healthy", "service_monitor_prometheus_url": prometheus.url,
                 "service_monitor_manifest_dir": str(tmp_path / "m")}
    tasks = converge(playbook, kube, "service_monitor", variables)
    checks = [t for t in tasks if "Every metric exists" in t["_task"]][0]["results"]
    assert [r["msg"].split(":")[0] for r in checks] == ["http_requests_total", "http_request_duration_seconds_bucket"]
    assert all(" series with " in r["msg"] for r in checks)
    assert changed(converge(playbook, kube, "service_monitor", variables)) == []
    monitor = rendered(str(tmp_path / "m"))[0]
    assert monitor["spec"]["podTargetLabels"] == ["rollouts-pod-template-hash"]
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    # a label the templates match on that the app does not export: refused, naming it
    text = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: progressive.delivery.service_monitor
"""
    rc, tasks, out = playbook(text, extra_vars=dict(variables, service_monitor_expected_metrics={
        "http_requests_total": ["code", "tenant"]}), env={"K8S_AUTH_KUBECONFIG": kube[0]})
    assert rc != 0 and "missing label(s) tenant; the AnalysisTemplates" in out
    assert "http_requests_total of {job=" in out and "checkout-healthy" in out


def test_prometheus_stack_checks_an_existing_prometheus(playbook, kube, prometheus):
    tasks = converge(playbook, kube, "prometheus_stack", {"prometheus_stack_url": prometheus.url})
    report = [t for t in tasks if "Report the Prometheus" in t["_task"]][0]
    assert report["msg"].startswith("Prometheus 2.") and "answers queries" in report["msg"]
    assert changed(tasks) == []
    text = "- hosts: localhost\n  gather_facts: false\n  roles:\n    - role: progressive.delivery.prometheus_stack\n"
    rc, _tasks, out = playbook(text, extra_vars={"prometheus_stack_url": "http://127.0.0.1:%d" % harness.free_port(),
                                                 "prometheus_stack_wait_seconds": 5},
                               env={"K8S_AUTH_KUBECONFIG": kube[0]})
    assert rc != 0 and "Wait until Prometheus is ready" in out


def test_argo_rollouts_from_manifests_waits_for_the_controller(playbook, kube, namespace, tmp_path):
    _kubeconfig, client, _ns = kube
    variables = {"argo_rollouts_mode": "manifests", "argo_rollouts_namespace": namespace,
                 "argo_rollouts_manifest_file": os.path.join(os.path.dirname(__file__), "files",
                                                             "argo-rollouts-install.yaml"),
                 "argo_rollouts_manifest_dir": str(tmp_path / "m"), "argo_rollouts_wait_seconds": 60}
    ready = controller.React(client, namespace, "argo-rollouts", lambda d: True, {
        "replicas": 1, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1, "observedGeneration": 1,
        "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]},
        kind="Deployment", api_version="apps/v1", delay=2)
    tasks = converge(playbook, kube, "argo_rollouts", variables)
    assert ready.join()
    assert changed(tasks)
    wait = [t for t in tasks if "controller is Available" in t["_task"]][0]
    assert wait["resources"][0]["metadata"]["name"] == "argo-rollouts"
    assert changed(converge(playbook, kube, "argo_rollouts", variables)) == []
    kinds = sorted(d["kind"] for d in rendered(str(tmp_path / "m")))
    assert kinds == ["Service", "ServiceMonitor"]
    rc, _tasks, out = playbook("- hosts: localhost\n  gather_facts: false\n  roles:\n"
                               "    - role: progressive.delivery.argo_rollouts\n",
                               extra_vars=dict(variables, argo_rollouts_manifest_file=""),
                               env={"K8S_AUTH_KUBECONFIG": kube[0]})
    assert rc != 0 and "needs argo_rollouts_manifest_file" in out
