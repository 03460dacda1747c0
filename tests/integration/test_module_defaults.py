"""module_defaults for the collection's action groups (meta/runtime.yml): an option set once for a play
reaches every module of the group, a task's own value wins, and a module outside the group is left alone."""

import json
import os
import subprocess
import sys
import uuid

import yaml

import controller
import harness
from conftest import HASHES

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files", "slo-templates.yaml")
MODULES = os.path.join(harness.ROOT, "plugins", "modules")


def groups():
    with open(os.path.join(harness.ROOT, "meta", "runtime.yml")) as f:
        return yaml.safe_load(f)["action_groups"]


def test_the_groups_name_every_module_and_only_those_that_take_their_options():
    modules = sorted(n[:-3] for n in os.listdir(MODULES) if n.endswith(".py") and not n.startswith("_"))
    docs = json.loads(subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "-t", "module", "-j"]
        + ["progressive.delivery.%s" % m for m in modules],
        check=True, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=harness.COLLECTIONS)).stdout)
    options = {m: set(docs["progressive.delivery.%s" % m]["doc"]["options"]) for m in modules}
    declared = groups()
    assert sorted(declared["all"]) == modules
    # a default reaches every module of its group, and a module refuses an option it does not have
    assert sorted(declared["k8s"]) == [m for m in modules if "kubeconfig" in options[m]]
    assert sorted(declared["prometheus"]) == [m for m in modules if "prometheus_url" in options[m]]


def play(defaults, tasks):
    return yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "module_defaults": defaults, "tasks": tasks}],
                          sort_keys=False)


def success_rate(**options):
    return dict({"template_file": TEMPLATES, "template_name": ["success-rate"], "mode": "once",
                 "args": {"canary-hash": HASHES["healthy"]}, "fail_on_failure": False}, **options)


def test_prometheus_url_set_once_for_the_play_feeds_analysis_check(playbook, prometheus):
    # the template's own address is http://prometheus.invalid:9090: only the play's default reaches Prometheus
    tasks = [
        {"name": "from the play's default", "progressive.delivery.analysis_check": success_rate()},
        {"name": "the task's own value wins",
         "progressive.delivery.analysis_check": success_rate(prometheus_url="http://127.0.0.1:%d" % harness.free_port())},
        {"name": "outside the group", "progressive.delivery.rollout_lint": {"manifests": []}},
    ]
    group = {"group/progressive.delivery.prometheus": {"prometheus_url": prometheus.url, "prometheus_timeout": 20}}
    rc, results, out = playbook(play(group, tasks))
    assert rc == 0, out[-3000:]
    by_name = {r["_task"]: r for r in results}
    fed = by_name["from the play's default"]
    assert fed["phase"] == "Successful", fed
    assert float(fed["metrics"][0]["measurements"][0]["value"].strip("[]")) >= 0.95
    own = by_name["the task's own value wins"]
    assert own["phase"] == "Error" and "is unreachable" in own["metrics"][0]["measurements"][0]["message"], own
    assert not by_name["outside the group"].get("failed")

    # without the default, the same task reaches only the template's address: an Error, not a pass
    rc, results, out = playbook(play({}, tasks[:1]))
    assert rc == 0, out[-3000:]
    assert results[0]["phase"] == "Error", results[0]

    # the same default on the group of every module reaches rollout_lint too, which has no such option
    rc, results, out = playbook(play({"group/progressive.delivery.all": {"prometheus_url": prometheus.url}}, tasks[2:]))
    assert rc != 0 and "Unsupported parameters" in out and "prometheus_url" in out


def test_kubeconfig_set_once_for_the_play_feeds_the_kubernetes_modules(playbook, kube, tmp_path):
    kubeconfig, client, namespace = kube
    name = "md-%s" % uuid.uuid4().hex[:6]
    controller.api(client, "Rollout").create({
        "apiVersion": controller.ARGO, "kind": "Rollout", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {}}]}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": "registry.local/app:1"}]}}}},
        namespace=namespace)
    tasks = [{"name": "read", "progressive.delivery.rollout_info": {"namespace": namespace, "name": name}}]
    # the environment names a kubeconfig that does not exist: only the play's default reaches the cluster
    env = {"K8S_AUTH_KUBECONFIG": str(tmp_path / "missing-kubeconfig")}
    rc, results, out = playbook(play({"group/progressive.delivery.k8s": {"kubeconfig": kubeconfig}}, tasks), env=env)
    assert rc == 0, out[-3000:]
    assert [r["name"] for r in results[0]["rollouts"]] == [name]

    rc, results, out = playbook(play({}, tasks), env=env)
    assert rc != 0 and results[0]["failed"] is True
