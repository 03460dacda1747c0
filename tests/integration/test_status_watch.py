"""Watching a release from elsewhere (issue 14 item 2): the status playbook and release_status on both paths.

Ansible as the controller: a release walked by router_release in the background on the real nginx, gated by
the real Prometheus, held in a long pause; the status playbook (run as a person who did not start it would,
with only the release, the router and the config directory) shows step n/m, the weights and "paused for".

Argo Rollouts: no controller runs here (tests/support/controller.py); the test writes the Rollout's status,
its ReplicaSets and an AnalysisRun with results where the controller would, mid-canary, and the watch follows
the changes the test makes. Every wait is bounded and waits for data."""

import copy
import json
import os
import threading
import time
import uuid

import pytest

import controller
import harness

LONG_PAUSE = "120s"  # longer than any wait of the test: only a promotion ends it
STATUS = "- ansible.builtin.import_playbook: progressive.delivery.status\n"
ARGO_RELEASE = "- ansible.builtin.import_playbook: progressive.delivery.argo_release\n"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("status"))
    stack = harness.Stack(work, {"v1": dict(latency=0.002), "v2": dict(latency=0.002)}, label="status")
    try:
        yield stack
    finally:
        stack.stop()


def lines_of(result):
    return "\n".join(result["lines"])


class Watch(object):
    """A playbook (the status one by default) in the background with the default callback, its output read as
    it comes (the custom stats shown at the end)."""

    def __init__(self, workdir, extra_vars, env=None, playbook=STATUS):
        self.run = harness.start_playbook(playbook, workdir, extra_vars=extra_vars,
                                          env=dict(env or {}, ANSIBLE_STDOUT_CALLBACK="default",
                                                   ANSIBLE_CALLBACK_RESULT_FORMAT="yaml",
                                                   ANSIBLE_SHOW_CUSTOM_STATS="1"))
        self.output = []
        self.errors = None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.run.proc.stdout:
            self.output.append(line)

    def text(self):
        if self.run.proc.poll() is not None and not self.reader.is_alive() and self.errors is None:
            self.errors = self.run.proc.stderr.read()
        return "".join(self.output) + (self.errors or "")

    def wait_for(self, text, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.text():
                return self.text()
            if self.run.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.2)
        raise AssertionError("the watch never showed %r:\n%s" % (text, self.text()[-3000:]))

    def end(self, timeout=180):
        self.run.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return self.run.proc.returncode, self.text()


# --------------------------------------------------------------------------- Ansible as the controller


def test_the_watch_shows_an_ansible_release_in_progress_and_follows_it_to_the_end(stack, tmp_path):
    name = "st%d" % (int(time.time() * 1000) % 10 ** 8)
    port = harness.free_port()
    nginx = dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % port,
                 stable=["127.0.0.1:%d" % stack.apps["v1"].port], canary=["127.0.0.1:%d" % stack.apps["v2"].port])
    template = tmp_path / "targets.yaml"
    template.write_text(json.dumps({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "targets"},
        "spec": {"metrics": [{"name": "targets-up", "interval": "1s", "count": 2,
                              "successCondition": "result[0] >= 2",
                              "provider": {"prometheus": {"query": 'count(up{app="status"} == 1)'}}}]}}))
    steps = [{"setWeight": 30}, {"analysis": {}}, {"pause": {"duration": LONG_PAUSE}}, {"setWeight": 100}]
    walker = harness.start_playbook(harness.task("router_release", dict(
        release=name, router="nginx", nginx=nginx, stable_version="v1", canary_version="v2", steps=steps,
        analysis={"template_file": str(template)}, prometheus_url=stack.prometheus.url)), str(tmp_path))
    state_path = os.path.join(stack.nginx.conf_dir, "pd-%s.state.json" % name)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with open(state_path) as f:
                st = json.load(f)
            if st["history"][-1]["event"] == "pause":
                break
        except (OSError, ValueError, KeyError, IndexError):
            pass
        time.sleep(0.2)
    else:
        raise AssertionError("the release never reached its long pause")

    # a person who did not start it: the release, the router and the config directory, nothing more
    who = dict(release=name, router="nginx", nginx_config_dir=stack.nginx.conf_dir)
    rc, tasks, _out = harness.run_playbook(STATUS, str(tmp_path), extra_vars=who)
    assert rc == 0, json.dumps(tasks, indent=1)[-3000:]
    shown = [t for t in tasks if t["_task"].startswith("Status of")][0]["results"]
    assert len(shown) == 1  # no watch: one look
    view = lines_of(shown[0])
    status = shown[0]["status"]
    assert status["phase"] == "Progressing" and status["step"]["number"] == 3 and status["step"]["count"] == 4
    assert "step       3/4  pause 120s" in view
    assert "set 30%  actual 30%" in view  # the state's weight, and what nginx serves
    assert "paused for " in view and " of 2m00s" in view
    assert "versions   v1 -> v2" in view
    analysis = status["analysis"]
    assert analysis["phase"] == "Successful" and analysis["metrics"][0]["name"] == "targets-up"
    assert analysis["metrics"][0]["value"] == "2" and analysis["metrics"][0]["condition"] == ">= 2"
    assert "30% set" in view and "targets-up=2 (>= 2): Successful" in view  # the release timeline
    assert status["terminal"] is False

    # the watch, live: it shows the pause while it lasts, then the promotion someone else makes
    watch = Watch(str(tmp_path), dict(who, watch=True, interval=1, watch_timeout=300))
    watch.wait_for("paused for")
    rc, promoted = harness.run_playbook(harness.task("router_step", dict(
        release=name, router="nginx", nginx=nginx, action="promote")), str(tmp_path))[:2]
    assert rc == 0, promoted
    rc, text = watch.end()
    assert rc == 0, text
    print(text)
    assert "Healthy" in text and "verdict    promoted" in text
    assert text.count("ok: [localhost] => (item=") >= 2  # one result per refresh
    rc, tasks, _out = walker.result(timeout=120)
    assert rc == 0 and tasks[0]["verdict"] == "promoted", tasks


def test_no_release_state_is_said_not_failed(stack, tmp_path):
    rc, tasks, _out = harness.run_playbook(STATUS, str(tmp_path), extra_vars=dict(
        release="neverstarted", router="nginx", nginx={"config_dir": stack.nginx.conf_dir,
                                                       "listen": "127.0.0.1:9", "stable": ["127.0.0.1:9"],
                                                       "canary": ["127.0.0.1:9"]}))
    assert rc == 0, tasks
    result = [t for t in tasks if t["_task"].startswith("Status of")][0]["results"][0]
    assert result["status"]["found"] is False and "not started" in lines_of(result)


def test_a_missing_config_names_the_file_and_the_fix(stack, tmp_path):
    rc, tasks, _out = harness.run_playbook(STATUS, str(tmp_path), extra_vars=dict(
        release="nosuchrelease", router="nginx", nginx_config_dir=stack.nginx.conf_dir))
    assert rc != 0
    msg = [t for t in tasks if t["_task"].startswith("Status of")][0]["results"][0]["msg"]
    assert "pd-nosuchrelease.conf" in msg and "nginx.config_dir" in msg


# --------------------------------------------------------------------------- Argo Rollouts


STEPS = [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "error-rate"}]}}, {"pause": {}},
         {"setWeight": 50}, {"pause": {"duration": "10m"}}]


def ago(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds))


def mid_canary(kube):
    """A Rollout at step 3/5 (paused after its analysis at 20%), its two ReplicaSets and a finished
    AnalysisRun with results, as the controller leaves them."""
    _kubeconfig, client, namespace = kube
    name = "ro-%s" % uuid.uuid4().hex[:6]
    body = {"apiVersion": controller.ARGO, "kind": "Rollout",
            "metadata": {"name": name, "annotations": {"rollout.argoproj.io/revision": "2"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"canary": {"steps": copy.deepcopy(STEPS)}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "registry.local/shop:2"}]}}}}
    ro = controller.api(client, "Rollout").create(body, namespace=namespace).to_dict()
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 1, "aaa111", "registry.local/shop:1"))
    canary_rs = controller.replicaset(ro, 2, "bbb222", "registry.local/shop:2")
    controller.create_replicaset(client, namespace, canary_rs)
    run = {"apiVersion": controller.ARGO, "kind": "AnalysisRun",
           "metadata": {"name": "%s-bbb222-2-1" % name, "annotations": {"rollout.argoproj.io/revision": "2"},
                        "ownerReferences": [{"apiVersion": controller.ARGO, "kind": "Rollout", "name": name,
                                             "uid": ro["metadata"]["uid"], "controller": True}]},
           "spec": {"metrics": [
               {"name": "error-rate", "successCondition": "result[0] < 0.05",
                "provider": {"prometheus": {"address": "http://prometheus:9090", "query": "errors"}}},
               {"name": "latency-p95", "successCondition": "result[0] <= 0.5", "failureCondition": "result[0] > 1",
                "provider": {"prometheus": {"address": "http://prometheus:9090", "query": "latency"}}}]}}
    controller.api(client, "AnalysisRun").create(run, namespace=namespace)
    controller.write_status(client, namespace, run["metadata"]["name"], {
        "phase": "Successful", "startedAt": ago(150), "completedAt": ago(95),
        "metricResults": [
            {"name": "error-rate", "phase": "Successful", "count": 3, "successful": 3,
             "measurements": [{"phase": "Successful", "value": "[0.012345678]", "startedAt": ago(100),
                               "finishedAt": ago(100)}]},
            {"name": "latency-p95", "phase": "Successful", "count": 3, "successful": 3,
             "measurements": [{"phase": "Successful", "value": "[0.24249999999999997]", "startedAt": ago(100),
                               "finishedAt": ago(100)}]}]}, kind="AnalysisRun")
    controller.write_status(client, namespace, name, {
        "observedGeneration": str(ro["metadata"]["generation"]), "currentStepIndex": 2,
        "stableRS": "aaa111", "currentPodHash": "bbb222", "replicas": 3, "updatedReplicas": 1,
        "readyReplicas": 3, "availableReplicas": 3, "controllerPause": True,
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": ago(90)}],
        "canary": {"weights": {"canary": {"weight": 20, "podTemplateHash": "bbb222"},
                               "stable": {"weight": 80, "podTemplateHash": "aaa111"}},
                   "currentStepAnalysisRunStatus": {"name": run["metadata"]["name"], "status": "Successful"}},
        "phase": "Paused", "message": "CanaryPauseStep",
        "conditions": [{"type": "Progressing", "status": "True", "reason": "RolloutPaused",
                        "message": "Rollout is paused", "lastTransitionTime": ago(90), "lastUpdateTime": ago(90)}]})
    return name


def test_the_watch_shows_a_rollout_mid_canary_with_its_analysis(kube, tmp_path):
    kubeconfig, client, namespace = kube
    name = mid_canary(kube)
    env = {"K8S_AUTH_KUBECONFIG": kubeconfig}
    rc, tasks, _out = harness.run_playbook(STATUS, str(tmp_path), extra_vars=dict(release=name, release_namespace=namespace),
                                           env=env)
    assert rc == 0, tasks
    result = [t for t in tasks if t["_task"].startswith("Status of")][0]["results"][0]
    view, status = lines_of(result), result["status"]
    assert status["path"] == "argo_rollouts" and status["phase"] == "Paused"
    assert "versions   registry.local/shop:1 -> registry.local/shop:2" in view
    assert "step       3/5  pause (until resumed)" in view
    assert "set 20%  actual 20%" in view
    assert "paused for 1m3" in view and "CanaryPauseStep" in view  # 90 s and the time the playbook took
    metrics = dict((m["name"], m) for m in status["analysis"]["metrics"])
    assert metrics["error-rate"] == {"name": "error-rate", "value": "0.01235", "condition": "< 0.05",
                                     "verdict": "Successful"}
    assert metrics["latency-p95"]["value"] == "0.2425"  # rounded
    assert metrics["latency-p95"]["condition"] == "<= 0.5, not > 1"
    assert "analysis   Successful" in view and "paused: CanaryPauseStep" in view

    # the watch follows the controller: promoted to 50%, then Healthy
    watch = Watch(str(tmp_path), dict(release=name, release_namespace=namespace, watch=True, interval=1, watch_timeout=300),
                  env)
    watch.wait_for("pause (until resumed)")
    controller.write_status(client, namespace, name, {
        "currentStepIndex": 4, "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": ago(0)}],
        "canary": {"weights": {"canary": {"weight": 50, "podTemplateHash": "bbb222"},
                               "stable": {"weight": 50, "podTemplateHash": "aaa111"}}}})
    watch.wait_for("set 50%  actual 50%")
    controller.write_status(client, namespace, name, {
        "currentStepIndex": 5, "pauseConditions": None, "controllerPause": None, "stableRS": "bbb222",
        "updatedReplicas": 2, "replicas": 2, "readyReplicas": 2, "availableReplicas": 2,
        "canary": {"weights": {"canary": {"weight": 0, "podTemplateHash": "bbb222"},
                               "stable": {"weight": 100, "podTemplateHash": "bbb222"}}},
        "phase": "Healthy", "message": ""})
    rc, text = watch.end()
    assert rc == 0, text
    print(text)
    assert "verdict    promoted" in text and "step       5/5  done" in text


# --------------------------------------------------------------------------- the Argo path release playbook
# No Argo Rollouts controller runs here: when the playbook has set the image, the test writes the status the
# controller would (the update observed, paused at 20% after step 1, then promoted or aborted), and waits for
# the watch to show each state before it writes the next.


def healthy_rollout(kube):
    _kubeconfig, client, namespace = kube
    name = "rel-%s" % uuid.uuid4().hex[:6]
    body = {"apiVersion": controller.ARGO, "kind": "Rollout",
            "metadata": {"name": name, "annotations": {"rollout.argoproj.io/revision": "1"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"canary": {"steps": copy.deepcopy(STEPS)}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "registry.local/shop:1"}]}}}}
    ro = controller.api(client, "Rollout").create(body, namespace=namespace).to_dict()
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 1, "aaa111", "registry.local/shop:1"))
    controller.write_status(client, namespace, name, {
        "observedGeneration": str(ro["metadata"]["generation"]), "currentStepIndex": len(STEPS),
        "stableRS": "aaa111", "currentPodHash": "aaa111", "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
        "availableReplicas": 2, "phase": "Healthy", "message": ""})
    return name


def wait_for_image(kube, name, image, run, timeout=120):
    _kubeconfig, client, namespace = kube
    deadline = time.time() + timeout
    while time.time() < deadline and run.run.proc.poll() is None:
        ro = controller.get(client, namespace, name)
        if ro["spec"]["template"]["spec"]["containers"][0]["image"] == image:
            return ro
        time.sleep(0.2)
    raise AssertionError("the playbook never set %s on %s:\n%s" % (image, name, run.text()[-3000:]))


def canary_at_20(kube, ro):
    """The controller has seen the new template: a canary ReplicaSet, 20%, paused at step 2 (index 1)."""
    _kubeconfig, client, namespace = kube
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 2, "bbb222", "registry.local/shop:2"))
    controller.write_status(client, namespace, ro["metadata"]["name"], {
        "observedGeneration": str(ro["metadata"]["generation"]), "currentStepIndex": 1, "currentPodHash": "bbb222",
        "updatedReplicas": 1, "replicas": 3, "phase": "Progressing", "message": "more replicas need to be updated",
        "canary": {"weights": {"canary": {"weight": 20, "podTemplateHash": "bbb222"},
                               "stable": {"weight": 80, "podTemplateHash": "aaa111"}}}})


def release_vars(kube, name, tmp_path, image="registry.local/shop:2", **extra):
    _kubeconfig, _client, namespace = kube
    return dict(argo_release_name=name, argo_release_namespace=namespace, argo_release_images={"app": image},
                argo_release_interval=1, argo_release_timeout=300, argo_release_report_dir=str(tmp_path), **extra)


def reports(tmp_path):
    return sorted(str(p) for p in tmp_path.glob("rel-*.json"))


def test_argo_release_sets_the_image_watches_each_step_and_reports_the_promotion(kube, tmp_path):
    kubeconfig, client, namespace = kube
    name = healthy_rollout(kube)
    env = {"K8S_AUTH_KUBECONFIG": kubeconfig}
    run = Watch(str(tmp_path), release_vars(kube, name, tmp_path), env, playbook=ARGO_RELEASE)
    ro = wait_for_image(kube, name, "registry.local/shop:2", run)
    canary_at_20(kube, ro)
    run.wait_for("set 20%  actual 20%")
    controller.write_status(client, namespace, name, {
        "currentStepIndex": len(STEPS), "stableRS": "bbb222", "updatedReplicas": 2, "replicas": 2,
        "phase": "Healthy", "message": "",
        "canary": {"weights": {"canary": {"weight": 0, "podTemplateHash": "bbb222"},
                               "stable": {"weight": 100, "podTemplateHash": "bbb222"}}}})
    rc, text = run.end()
    print(text)
    assert rc == 0, text
    assert "waiting for rollout spec update to be observed" in text or "set 20%" in text
    assert "verdict    promoted" in text and 'pd_verdict: promoted' in text
    [path] = reports(tmp_path)
    with open(path) as f:
        report = json.load(f)
    assert report["verdict"] == "promoted" and report["stable_version"] == "registry.local/shop:1"
    assert report["version"] == "registry.local/shop:2" and any("step 2/5" in t for t in report["timeline"])

    # again with the same image: nothing changes, nothing is reported
    rc, tasks, _out = harness.run_playbook(ARGO_RELEASE, str(tmp_path), extra_vars=release_vars(kube, name, tmp_path),
                                           env=env)
    assert rc == 0, tasks
    assert not [t["_task"] for t in tasks if t.get("changed")], [t["_task"] for t in tasks if t.get("changed")]
    assert reports(tmp_path) == [path]


def test_argo_release_fails_with_the_rollouts_message_when_aborted(kube, tmp_path, grafana):
    kubeconfig, client, namespace = kube
    name = healthy_rollout(kube)
    # the image as two plain strings, as an AWX survey gives it
    options = dict(release_vars(kube, name, tmp_path), argo_release_image="registry.local/shop:2",
                   argo_release_container="app", argo_release_notify={"grafana": {"url": grafana.url}})
    del options["argo_release_images"]
    run = Watch(str(tmp_path), options, {"K8S_AUTH_KUBECONFIG": kubeconfig}, playbook=ARGO_RELEASE)
    ro = wait_for_image(kube, name, "registry.local/shop:2", run)
    canary_at_20(kube, ro)
    run.wait_for("set 20%  actual 20%")
    message = ("RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase failed: "
               "metric error-rate assessed Failed")
    controller.write_status(client, namespace, name, {
        "abort": True, "abortedAt": ago(0), "phase": "Degraded", "message": message, "currentPodHash": "bbb222",
        "canary": {"weights": {"canary": {"weight": 0, "podTemplateHash": "bbb222"},
                               "stable": {"weight": 100, "podTemplateHash": "aaa111"}}}})
    rc, text = run.end()
    assert rc != 0, text
    assert message in text and "rolled back; decided by analysis" in text
    assert 'pd_verdict: rolled_back' in text
    [path] = reports(tmp_path)
    with open(path) as f:
        assert json.load(f)["verdict"] == "rolled_back"
    [told] = grafana.annotations  # the rollback, once
    assert "release %s registry.local/shop:2: rolled_back - %s" % (name, message) in told["body"]["text"]
    assert "rolled_back" in told["body"]["tags"]


def test_argo_release_refuses_a_new_image_during_a_freeze(kube, tmp_path):
    kubeconfig, client, namespace = kube
    name = healthy_rollout(kube)
    freeze = [{"start": ago(3600), "end": ago(-3600), "reason": "year-end freeze"}]
    rc, tasks, _out = harness.run_playbook(ARGO_RELEASE, str(tmp_path), env={"K8S_AUTH_KUBECONFIG": kubeconfig},
                                           extra_vars=release_vars(kube, name, tmp_path,
                                                                   argo_release_freeze_windows=freeze))
    assert rc != 0
    refused = [t for t in tasks if t.get("failed")][0]
    assert "year-end freeze" in refused["msg"] and "nothing was changed" in refused["msg"]
    assert controller.get(client, namespace, name)["spec"]["template"]["spec"]["containers"][0]["image"] \
        == "registry.local/shop:1"


def test_the_status_of_a_release_on_a_kubernetes_router_comes_from_its_configmap(kube, tmp_path):
    """Ansible as the controller on Istio: the state in the pd-release-NAME ConfigMap, the weights the
    VirtualService has (router_release is the controller here: nothing to simulate)."""
    kubeconfig, _client, namespace = kube
    name = "vs-%s" % uuid.uuid4().hex[:5]
    target = {"namespace": namespace, "name": name, "stable_service": "checkout", "canary_service": "checkout-canary"}
    env = {"K8S_AUTH_KUBECONFIG": kubeconfig}
    rc, tasks, _out = harness.run_playbook(harness.task("router_release", dict(
        release=name, router="istio", kubernetes_target=target, stable_version="v1", canary_version="v2",
        steps=[{"setWeight": 40}, {"pause": {}}, {"setWeight": 100}])), str(tmp_path), env=env)
    assert rc == 0 and tasks[0]["verdict"] == "paused", tasks[0].get("msg")
    rc, tasks, _out = harness.run_playbook(STATUS, str(tmp_path), env=env, extra_vars=dict(
        release=name, router="istio", kubernetes_target=target))
    assert rc == 0, tasks
    result = [t for t in tasks if t["_task"].startswith("Status of")][0]["results"][0]
    view = lines_of(result)
    assert "release    %s (istio router)" % name in view and "phase      Paused - CanaryPauseStep" in view
    assert "step       2/3  pause (until resumed)" in view and "set 40%  actual 40%" in view
    assert "paused for " in view and result["changed"] is False
    rc, tasks, _out = harness.run_playbook(STATUS, str(tmp_path), env=env, check=True, extra_vars=dict(
        release=name, router="istio", kubernetes_target=target))
    checked = [t for t in tasks if t["_task"].startswith("Status of")][0]["results"][0]
    assert rc == 0 and checked["status"]["step"] == result["status"]["step"] and checked["changed"] is False


def test_argo_release_in_check_mode_changes_nothing_and_tells_nobody(kube, tmp_path):
    kubeconfig, client, namespace = kube
    name = healthy_rollout(kube)
    before = controller.get(client, namespace, name)
    rc, tasks, _out = harness.run_playbook(ARGO_RELEASE, str(tmp_path), env={"K8S_AUTH_KUBECONFIG": kubeconfig},
                                           extra_vars=release_vars(kube, name, tmp_path), check=True)
    assert rc == 0, [t.get("msg") for t in tasks if t.get("failed")]
    assert controller.get(client, namespace, name) == before and reports(tmp_path) == []
    assert [t["changed"] for t in tasks if "Set the new image" in t["_task"]] == [True], [t["_task"] for t in tasks]
    assert not [t for t in tasks if "Tell people" in t["_task"] and not t.get("skipped")]


def test_argo_release_without_an_image_says_how_to_give_one(kube, tmp_path):
    kubeconfig, _client, _namespace = kube
    name = healthy_rollout(kube)
    options = release_vars(kube, name, tmp_path)
    del options["argo_release_images"]
    rc, tasks, _out = harness.run_playbook(ARGO_RELEASE, str(tmp_path), env={"K8S_AUTH_KUBECONFIG": kubeconfig},
                                           extra_vars=options)
    assert rc != 0 and "argo_release_image" in [t for t in tasks if t.get("failed")][0]["msg"]
