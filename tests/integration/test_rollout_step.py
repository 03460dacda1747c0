"""rollout_step and rollout_info on the Kubernetes test tier.

No Argo Rollouts controller runs here: the tests write `status` where the controller would,
then check what each action sent and what the object became. Same code against a real cluster
(K8S_AUTH_KUBECONFIG) with the Argo Rollouts CRDs installed."""

import copy
import uuid

import pytest

STEPS = [{"setWeight": 10}, {"pause": {}}, {"setWeight": 25}, {"pause": {"duration": "1m"}}, {"setWeight": 100}]


def rollout(name, labels=None):
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": name, "labels": labels or {"team": "shop"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "strategy": {"canary": {"steps": copy.deepcopy(STEPS)}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": "registry.local/app:1"}]}}},
    }


@pytest.fixture
def canary(kube):
    """A canary paused at step 1 (setWeight 10 done), as the controller would leave it."""
    _kubeconfig, client, namespace = kube
    resource = client.resources.get(api_version="argoproj.io/v1alpha1", kind="Rollout")
    name = "ro-%s" % uuid.uuid4().hex[:6]
    created = resource.create(rollout(name), namespace=namespace).to_dict()
    status = {"currentStepIndex": 1, "stableRS": "aaa111", "currentPodHash": "bbb222",
              "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}],
              "controllerPause": True, "replicas": 2, "updatedReplicas": 1, "readyReplicas": 2,
              "availableReplicas": 2, "observedGeneration": str(created["metadata"]["generation"]),
              "phase": "Paused", "message": "CanaryPauseStep"}
    body = copy.deepcopy(created)
    body["status"] = status
    resource.status.replace(body=body, namespace=namespace)
    return name


def get(kube, name):
    _kubeconfig, client, namespace = kube
    return client.resources.get(api_version="argoproj.io/v1alpha1", kind="Rollout").get(
        name=name, namespace=namespace).to_dict()


def step(playbook, kube, body, **kwargs):
    kubeconfig, _client, namespace = kube
    text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: step
      progressive.delivery.rollout_step:
        kubeconfig: %s
        namespace: %s
%s
""" % (kubeconfig, namespace, "\n".join("        " + line for line in body.strip().splitlines()))
    rc, tasks, out = playbook(text, **kwargs)
    return rc, tasks[0]


def test_promote_clears_the_pause_on_the_status_subresource(playbook, kube, canary):
    rc, result = step(playbook, kube, "name: %s\naction: promote" % canary)
    assert rc == 0, result
    assert result["changed"] is True
    patch = result["rollouts"][0]["patches"]
    assert patch == [{"subresource": "status", "patch_type": "application/merge-patch+json",
                      "body": {"status": {"pauseConditions": None}}}]
    assert "pauseConditions" not in get(kube, canary)["status"]


def test_skip_current_step_and_full(playbook, kube, canary):
    rc, result = step(playbook, kube, "name: %s\naction: promote\nskip_current_step: true" % canary)
    assert rc == 0 and get(kube, canary)["status"]["currentStepIndex"] == 2
    rc, result = step(playbook, kube, "name: %s\naction: promote\nfull: true" % canary)
    assert result["rollouts"][0]["patches"][0]["body"] == {"status": {"promoteFull": True}}
    assert get(kube, canary)["status"]["promoteFull"] is True


@pytest.mark.parametrize("action,target,field,value", [
    ("pause", None, ("spec", "paused"), True),
    ("abort", "status", ("status", "abort"), True),
])
def test_actions_are_idempotent(playbook, kube, canary, action, target, field, value):
    rc, first = step(playbook, kube, "name: %s\naction: %s" % (canary, action))
    assert rc == 0 and first["changed"] is True
    assert first["rollouts"][0]["patches"][0]["subresource"] == target
    assert get(kube, canary)[field[0]][field[1]] is value
    rc, second = step(playbook, kube, "name: %s\naction: %s" % (canary, action))
    assert rc == 0 and second["changed"] is False
    assert second["rollouts"][0]["patches"] == []


def test_resume_and_retry_undo_pause_and_abort(playbook, kube, canary):
    step(playbook, kube, "name: %s\naction: pause" % canary)
    step(playbook, kube, "name: %s\naction: abort" % canary)
    rc, result = step(playbook, kube, "name: %s\naction: resume" % canary)
    assert result["changed"] and get(kube, canary)["spec"]["paused"] is False
    assert get(kube, canary)["status"]["currentStepIndex"] == 1  # resume skips nothing
    rc, result = step(playbook, kube, "name: %s\naction: retry" % canary)
    assert result["rollouts"][0]["patches"][0]["body"] == {"status": {"abort": False}}
    assert get(kube, canary)["status"]["abort"] is False


def test_check_mode_writes_nothing(playbook, kube, canary):
    before = get(kube, canary)
    rc, result = step(playbook, kube, "name: %s\naction: abort" % canary, check=True)
    assert rc == 0 and result["changed"] is True
    assert result["rollouts"][0]["status"]["aborted"] is True  # predicted
    assert get(kube, canary) == before


def test_set_image_and_restart(playbook, kube, canary):
    rc, result = step(playbook, kube, "name: %s\naction: set_image\nimages:\n  app: registry.local/app:2" % canary)
    assert rc == 0 and result["changed"]
    assert get(kube, canary)["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/app:2"
    rc, again = step(playbook, kube, "name: %s\naction: set_image\nimages:\n  app: registry.local/app:2" % canary)
    assert again["changed"] is False
    rc, bad = step(playbook, kube, "name: %s\naction: set_image\nimages:\n  nope: x:1" % canary)
    assert rc != 0 and 'unable to find container named "nope"' in bad["msg"]
    rc, result = step(playbook, kube, "name: %s\naction: restart" % canary)
    assert rc == 0 and "restartAt" in get(kube, canary)["spec"]


def test_fleet_abort_by_label_in_parallel(playbook, kube):
    _kubeconfig, client, namespace = kube
    resource = client.resources.get(api_version="argoproj.io/v1alpha1", kind="Rollout")
    team = "fleet-%s" % uuid.uuid4().hex[:4]
    names = ["%s-%d" % (team, i) for i in range(6)]
    for n in names:
        resource.create(rollout(n, labels={"team": team}), namespace=namespace)
    rc, result = step(playbook, kube, "label_selectors:\n  - team=%s\naction: abort" % team)
    assert rc == 0
    assert sorted(r["name"] for r in result["rollouts"]) == names
    assert all(get(kube, n)["status"]["abort"] is True for n in names)


def test_not_found_names_the_object(playbook, kube):
    _kubeconfig, _client, namespace = kube
    rc, result = step(playbook, kube, "name: missing-rollout\naction: abort")
    assert rc != 0
    assert "Rollout 'missing-rollout' in namespace '%s' not found" % namespace in result["msg"]


def test_rollout_info_reports_status_and_failing_analysis(playbook, kube, canary):
    kubeconfig, client, namespace = kube
    ro = get(kube, canary)
    client.resources.get(api_version="argoproj.io/v1alpha1", kind="AnalysisRun").create({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
        "metadata": {"name": "%s-bbb222-2" % canary, "ownerReferences": [
            {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": canary, "uid": ro["metadata"]["uid"]}]},
        "spec": {"metrics": []}}, namespace=namespace)
    step(playbook, kube, "name: %s\naction: abort" % canary)
    text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: info
      progressive.delivery.rollout_info:
        kubeconfig: %s
        namespace: %s
        name: %s
""" % (kubeconfig, namespace, canary)
    rc, tasks, out = playbook(text)
    assert rc == 0, out
    info = tasks[0]["rollouts"][0]
    assert info["name"] == canary and info["strategy"] == "Canary"
    assert info["aborted"] is True
    assert info["current_step_index"] == 1 and info["set_weight"] == 10
    assert info["stable_hash"] == "aaa111" and info["canary_hash"] == "bbb222"
    assert info["replicas"]["desired"] == 2
    assert [r["name"] for r in info["analysis_runs"]] == ["%s-bbb222-2" % canary]
