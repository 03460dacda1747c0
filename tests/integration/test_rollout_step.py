"""rollout_step and rollout_info on the Kubernetes test tier.

No Argo Rollouts controller runs here: the tests write `status` where the controller would
(tests/support/controller.py), then check what each action sent and what the object became.
Same code against a real cluster (K8S_AUTH_KUBECONFIG) with the Argo Rollouts CRDs installed."""

import copy
import json
import uuid

import pytest

import controller

STEPS = [{"setWeight": 10}, {"pause": {}}, {"setWeight": 25}, {"pause": {"duration": "1m"}}, {"setWeight": 100}]


def rollout(name, labels=None):
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": name, "labels": labels or {"team": "shop"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "strategy": {"canary": {"steps": copy.deepcopy(STEPS)}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": "registry.local/app:2"}]}}},
    }


PAUSED_AT_STEP_1 = {"currentStepIndex": 1, "stableRS": "aaa111", "currentPodHash": "bbb222",
                    "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}],
                    "controllerPause": True, "replicas": 2, "updatedReplicas": 1, "readyReplicas": 2,
                    "availableReplicas": 2, "phase": "Paused", "message": "CanaryPauseStep"}


@pytest.fixture
def canary(kube):
    """A canary paused at step 1 (setWeight 10 done), as the controller would leave it."""
    _kubeconfig, client, namespace = kube
    name = "ro-%s" % uuid.uuid4().hex[:6]
    created = controller.api(client, "Rollout").create(rollout(name), namespace=namespace).to_dict()
    status = dict(PAUSED_AT_STEP_1, observedGeneration=str(created["metadata"]["generation"]))
    controller.write_status(client, namespace, name, status)
    return name


def get(kube, name):
    _kubeconfig, client, namespace = kube
    return controller.get(client, namespace, name)


def run_module(playbook, kube, module, body, **kwargs):
    kubeconfig, _client, namespace = kube
    text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: step
      progressive.delivery.%s:
        kubeconfig: %s
        namespace: %s
%s
""" % (module, kubeconfig, namespace, "\n".join("        " + line for line in body.strip().splitlines()))
    rc, tasks, _out = playbook(text, **kwargs)
    return rc, tasks[0]


def step(playbook, kube, body, **kwargs):
    return run_module(playbook, kube, "rollout_step", body, **kwargs)


def info(playbook, kube, body):
    rc, result = run_module(playbook, kube, "rollout_info", body)
    assert rc == 0, result
    return result["rollouts"]


STATUS_MERGE = "application/merge-patch+json"


def aborted_canary(kube, name):
    _kubeconfig, client, namespace = kube
    controller.write_status(client, namespace, name, {"abort": True})


def paused_canary(kube, name):
    _kubeconfig, client, namespace = kube
    controller.api(client, "Rollout").patch(name=name, namespace=namespace, body={"spec": {"paused": True}},
                                            content_type=STATUS_MERGE)


# (action, extra options, set-up, expected patches, what the object shows afterwards)
ACTIONS = [
    ("promote", "", None,
     [("status", STATUS_MERGE, {"status": {"pauseConditions": None}})],
     lambda ro: "pauseConditions" not in ro["status"] and ro["status"]["currentStepIndex"] == 1),
    ("promote", "skip_current_step: true", None,
     [("status", STATUS_MERGE, {"status": {"currentStepIndex": 2}})],
     lambda ro: ro["status"]["currentStepIndex"] == 2),
    ("promote", "full: true", None,
     [("status", STATUS_MERGE, {"status": {"promoteFull": True}})],
     lambda ro: ro["status"]["promoteFull"] is True),
    ("pause", "", None,
     [(None, STATUS_MERGE, {"spec": {"paused": True}})],
     lambda ro: ro["spec"]["paused"] is True),
    ("resume", "", paused_canary,
     [(None, STATUS_MERGE, {"spec": {"paused": False}})],
     lambda ro: ro["spec"]["paused"] is False and ro["status"]["currentStepIndex"] == 1),  # resume skips nothing
    ("abort", "", None,
     [("status", STATUS_MERGE, {"status": {"abort": True}})],
     lambda ro: ro["status"]["abort"] is True),
    ("retry", "", aborted_canary,
     [("status", STATUS_MERGE, {"status": {"abort": False}})],
     lambda ro: ro["status"]["abort"] is False),
    ("set_image", "images:\n  app: registry.local/app:3", None,
     [(None, "PUT", None)],
     lambda ro: ro["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/app:3"),
    ("restart", "", None,
     [(None, STATUS_MERGE, None)],
     lambda ro: ro["spec"]["restartAt"].endswith("Z")),
]


@pytest.mark.parametrize("action,options,setup,patches,shows", ACTIONS,
                         ids=["%s %s" % (a[0], a[1].split(":")[0]) for a in ACTIONS])
def test_every_action_check_mode_then_patch_then_idempotent(
        playbook, kube, canary, action, options, setup, patches, shows):
    if setup:
        setup(kube, canary)
    body = "name: %s\naction: %s\n%s" % (canary, action, options)
    before = get(kube, canary)

    rc, checked = step(playbook, kube, body, check=True, diff=True)
    assert rc == 0 and checked["changed"] is True, checked
    assert get(kube, canary) == before  # check mode writes nothing
    assert shows(checked["diff"][0]["after"]), "check mode predicts the object after the action"

    rc, first = step(playbook, kube, body)
    assert rc == 0 and first["changed"] is True, first
    sent = [(p["subresource"], p["patch_type"], p["body"]) for p in first["rollouts"][0]["patches"]]
    assert [(s, t) for s, t, _b in sent] == [(s, t) for s, t, _b in patches]
    for (_s, _t, body_sent), (_s2, _t2, expected) in zip(sent, patches):
        if expected is not None:
            assert body_sent == expected
    assert shows(get(kube, canary))

    rc, second = step(playbook, kube, body)
    assert rc == 0, second
    if "skip_current_step" in options:  # relative by nature: each run moves one step further
        assert second["changed"] is True and get(kube, canary)["status"]["currentStepIndex"] == 3
    else:
        assert second["changed"] is False, second
        assert second["rollouts"][0]["patches"] == []


def test_diff_mode_shows_the_rollout_before_and_after(playbook, kube, canary):
    _kubeconfig, _client, namespace = kube
    rc, result = step(playbook, kube, "name: %s\naction: pause" % canary, diff=True)
    diff = result["diff"][0]
    assert rc == 0 and diff["before_header"] == "%s/%s" % (namespace, canary)
    assert "paused" not in diff["before"]["spec"] and diff["after"]["spec"]["paused"] is True


def test_undo_goes_back_to_the_stable_replicaset(playbook, kube, canary):
    _kubeconfig, client, namespace = kube
    ro = get(kube, canary)
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 1, "aaa111", "registry.local/app:1"))
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 2, "bbb222", "registry.local/app:2"))
    rc, first = step(playbook, kube, "name: %s\naction: undo" % canary)
    assert rc == 0 and first["changed"] is True, first
    sent = first["rollouts"][0]["patches"][0]
    assert sent["patch_type"] == "application/json-patch+json" and sent["body"][0]["path"] == "/spec/template"
    template = get(kube, canary)["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "registry.local/app:1"
    assert "rollouts-pod-template-hash" not in template["metadata"]["labels"]
    rc, second = step(playbook, kube, "name: %s\naction: undo" % canary)
    assert rc == 0 and second["changed"] is False
    rc, missing = step(playbook, kube, "name: %s\naction: undo\nrevision: 9" % canary)
    assert rc != 0 and "unable to find specified revision 9 in history" in missing["msg"]


def test_a_conflict_is_read_again_and_retried(playbook, kube, canary):
    """Another client writes the rollout between our read and our PUT: the API answers 409, and
    the module reads again and rebuilds, keeping the other writer's change."""
    if kube.server is None:
        pytest.skip("a concurrent write can be timed between a module's read and write only on the test server")
    _kubeconfig, _client, namespace = kube
    kube.server.write_concurrently("argoproj.io", "rollouts", namespace, canary, times=2)
    rc, result = step(playbook, kube, "name: %s\naction: set_image\nimages:\n  app: registry.local/app:4" % canary)
    assert rc == 0, result
    assert result["rollouts"][0]["conflicts_retried"] == 2
    ro = get(kube, canary)
    assert ro["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/app:4"
    assert ro["metadata"]["annotations"]["test.progressive.delivery/other-writer"] == "2"


def grant(kube, user, verbs):
    """A Role with ``verbs`` on rollouts, replicasets and analysisruns, bound to ``user``."""
    _kubeconfig, client, namespace = kube
    rbac = "rbac.authorization.k8s.io/v1"
    name = "pd-%s" % user
    controller.api(client, "Role", rbac).create({
        "apiVersion": rbac, "kind": "Role", "metadata": {"name": name},
        "rules": [{"apiGroups": ["argoproj.io"], "resources": ["rollouts", "analysisruns"], "verbs": verbs},
                  {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": verbs}]}, namespace=namespace)
    controller.api(client, "RoleBinding", rbac).create({
        "apiVersion": rbac, "kind": "RoleBinding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]}, namespace=namespace)


def test_forbidden_names_the_object_and_the_grant(playbook, kube, canary):
    _kubeconfig, _client, namespace = kube
    viewer = "viewer-%s" % uuid.uuid4().hex[:5]
    grant(kube, viewer, ["get", "list"])
    before = get(kube, canary)
    rc, result = step(playbook, kube, "name: %s\naction: abort\nimpersonate_user: %s" % (canary, viewer))
    assert rc != 0
    assert "changing Rollout '%s' in namespace '%s' is forbidden" % (canary, namespace) in result["msg"]
    assert "grant patch" in result["msg"]
    assert get(kube, canary) == before
    # the same identity may look
    assert info(playbook, kube, "name: %s\nimpersonate_user: %s" % (canary, viewer))[0]["name"] == canary
    stranger = "stranger-%s" % uuid.uuid4().hex[:5]
    rc, result = step(playbook, kube, "name: %s\naction: abort\nimpersonate_user: %s" % (canary, stranger))
    assert rc != 0 and "reading Rollout '%s' in namespace '%s' is forbidden" % (canary, namespace) in result["msg"]


def test_fleet_abort_by_label_in_parallel(playbook, kube):
    _kubeconfig, client, namespace = kube
    team = "fleet-%s" % uuid.uuid4().hex[:4]
    names = ["%s-%d" % (team, i) for i in range(6)]
    for n in names:
        controller.api(client, "Rollout").create(rollout(n, labels={"team": team}), namespace=namespace)
    rc, result = step(playbook, kube, "label_selectors:\n  - team=%s\naction: abort" % team)
    assert rc == 0
    assert sorted(r["name"] for r in result["rollouts"]) == names
    assert all(get(kube, n)["status"]["abort"] is True for n in names)


def test_an_abort_that_matches_nothing_fails_unless_allowed(playbook, kube):
    _kubeconfig, _client, namespace = kube
    selector = "team=nobody-%s" % uuid.uuid4().hex[:4]
    rc, result = step(playbook, kube, "label_selectors:\n  - %s\naction: abort" % selector)
    assert rc != 0 and result["changed"] is False and result["rollouts"] == []
    assert "no rollout matches label_selectors ['%s'] in namespace '%s', so nothing was aborted" % (
        selector, namespace) in result["msg"]
    assert "kubectl get rollouts -n %s -l %s" % (namespace, selector) in result["msg"]
    assert "allow_no_match: true" in result["msg"]
    rc, result = step(playbook, kube, "label_selectors:\n  - %s\naction: resume\nallow_no_match: true" % selector)
    assert rc == 0 and result["changed"] is False and result["rollouts"] == []
    assert "nothing to resume (allow_no_match)" in result["msg"]


def run_without_namespace(playbook, kube, module, options):
    """A task with the connection options only: no namespace, so a selector would reach every namespace."""
    kubeconfig, _client, _namespace = kube
    text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: step
      progressive.delivery.%s: %s
""" % (module, json.dumps(dict(options, kubeconfig=kubeconfig)))
    rc, tasks, out = playbook(text)
    return rc, tasks[0], out


@pytest.mark.parametrize("selectors", [[""], [], ["team=shop", " "]], ids=["empty string", "empty list", "blank entry"])
def test_an_empty_selector_is_refused_and_nothing_is_touched(playbook, kube, canary, selectors):
    before = get(kube, canary)
    for namespaced in (True, False):
        if namespaced:
            rc, result = step(playbook, kube, "label_selectors: %s\naction: abort" % json.dumps(selectors))
            where = "in namespace '%s'" % kube[2]
        else:
            rc, result, _out = run_without_namespace(playbook, kube, "rollout_step",
                                                     {"label_selectors": selectors, "action": "abort"})
            where = "in every namespace of the cluster"
        assert rc != 0 and result.get("changed") is not True
        assert "label_selectors %s is empty: it would select every rollout %s" % (selectors, where) in result["msg"]
        assert "give a selector such as team=payments, or name the rollouts" in result["msg"]
    assert get(kube, canary) == before  # nothing was aborted anywhere


@pytest.mark.parametrize("module", ["rollout_step", "rollout_info"])
def test_an_empty_name_is_refused_without_a_traceback(playbook, kube, canary, module):
    before = get(kube, canary)
    extra = "\naction: abort" if module == "rollout_step" else ""
    rc, result = run_module(playbook, kube, module, 'names: ["%s", ""]%s' % (canary, extra))
    assert rc != 0
    assert result["msg"] == "names has an empty name at position 1 (an unset variable?); give every rollout's name"
    assert "module_stderr" not in result and "Traceback" not in str(result)
    rc, result = run_module(playbook, kube, module, 'name: ""%s' % extra)
    assert rc != 0 and "name is empty (an unset variable?)" in result["msg"] and "module_stderr" not in result
    rc, result = run_module(playbook, kube, module, "names: []%s" % extra)
    assert rc != 0 and "names is an empty list: no rollout is named" in result["msg"]
    rc, result = run_module(playbook, kube, module, 'label_selectors: [""]%s' % extra)
    assert rc != 0 and "would select every rollout" in result["msg"]
    assert get(kube, canary) == before


def test_not_found_names_the_object(playbook, kube):
    _kubeconfig, _client, namespace = kube
    rc, result = step(playbook, kube, "name: missing-rollout\naction: abort")
    assert rc != 0
    assert "Rollout 'missing-rollout' in namespace '%s' not found" % namespace in result["msg"]


# --------------------------------------------------------------------------- waiting


def test_promote_waits_for_the_controller_to_reach_the_next_pause(playbook, kube, canary):
    _kubeconfig, client, namespace = kube
    react = controller.React(client, namespace, canary, lambda ro: "pauseConditions" not in ro["status"], {
        "currentStepIndex": 3, "controllerPause": True, "phase": "Paused", "message": "CanaryPauseStep",
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:01:00Z"}]})
    rc, result = step(playbook, kube, "name: %s\naction: promote\nwait: true\nwait_for: 3\nwait_sleep: 0.2" % canary)
    assert react.join()
    assert rc == 0, result
    status = result["rollouts"][0]["status"]
    assert status["current_step_index"] == 3 and status["status"] == "Paused" and status["set_weight"] == 25
    assert result["rollouts"][0]["waited_seconds"] > 0


def test_abort_waits_until_the_controller_has_acted(playbook, kube, canary):
    _kubeconfig, client, namespace = kube
    react = controller.React(client, namespace, canary, lambda ro: ro["status"].get("abort"), {
        "abortedAt": "2026-01-01T00:02:00Z", "currentStepIndex": 0, "phase": "Degraded",
        "message": "RolloutAborted: Rollout aborted update to revision 2", "pauseConditions": None,
        "controllerPause": None})
    rc, result = step(playbook, kube, "name: %s\naction: abort\nwait: true\nwait_sleep: 0.2" % canary)
    assert react.join()
    assert rc == 0, result
    assert result["rollouts"][0]["status"]["aborted_at"] == "2026-01-01T00:02:00Z"
    assert "reached Aborted" in result["msg"]


def test_wait_ends_at_degraded_with_the_reason(playbook, kube, canary):
    _kubeconfig, client, namespace = kube
    react = controller.React(client, namespace, canary, lambda ro: "pauseConditions" not in ro["status"], {
        "controllerPause": None, "phase": "Degraded",
        "message": "ProgressDeadlineExceeded: ReplicaSet has timed out progressing"})
    rc, result = step(playbook, kube, "name: %s\naction: promote\nwait: true\nwait_timeout: 60\nwait_sleep: 0.2"
                      % canary)
    assert react.join()
    assert rc != 0
    assert "will not reach Healthy: it is Degraded: ProgressDeadlineExceeded" in result["msg"]


def test_wait_times_out_saying_where_the_rollout_stands(playbook, kube, canary):
    # resume of a rollout that is not manually paused sends nothing: the wait sees the canary pause step
    rc, result = step(playbook, kube, "name: %s\naction: resume\nwait: true\nwait_timeout: 1\n"
                      "wait_sleep: 0.2" % canary)
    assert rc != 0 and result["changed"] is False
    assert "did not reach Healthy within 1s: it is Paused - CanaryPauseStep, step 1/5, set weight 10" in result["msg"]
    assert "promote it or raise wait_timeout" in result["msg"]
    rc, result = step(playbook, kube, "name: %s\naction: pause\nwait: true\nwait_for: sideways" % canary)
    assert rc != 0 and "wait_for 'sideways' is not a step index" in result["msg"]


# --------------------------------------------------------------------------- rollout_info


def test_rollout_info_reports_status_images_and_failing_analysis(playbook, kube, canary):
    _kubeconfig, client, namespace = kube
    ro = get(kube, canary)
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 1, "aaa111", "registry.local/app:1"))
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 2, "bbb222", "registry.local/app:2"))
    owner = [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": canary, "uid": ro["metadata"]["uid"]}]
    run = controller.api(client, "AnalysisRun").create({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
        "metadata": {"name": "%s-bbb222-2" % canary, "ownerReferences": owner},
        "spec": {"metrics": []}}, namespace=namespace).to_dict()
    controller.write_status(client, namespace, run["metadata"]["name"], {
        "phase": "Failed", "message": 'Metric "success-rate" assessed Failed',
        "metricResults": [{"name": "success-rate", "phase": "Failed"}, {"name": "latency", "phase": "Successful"}]},
        kind="AnalysisRun")
    step(playbook, kube, "name: %s\naction: abort" % canary)
    found = info(playbook, kube, "name: %s" % canary)[0]
    assert found["name"] == canary and found["strategy"] == "Canary"
    assert found["aborted"] is True and found["status"] == "Paused"  # the controller has not acted yet
    assert found["current_step_index"] == 1 and found["set_weight"] == 10
    assert found["stable_hash"] == "aaa111" and found["canary_hash"] == "bbb222"
    assert found["stable_images"] == {"app": "registry.local/app:1"}
    assert found["canary_images"] == {"app": "registry.local/app:2"}
    assert found["replicas"]["desired"] == 2
    assert found["analysis_runs"] == [{"name": "%s-bbb222-2" % canary, "phase": "Failed",
                                       "message": 'Metric "success-rate" assessed Failed',
                                       "failing_metrics": ["success-rate"]}]
    by_label = info(playbook, kube, "label_selectors:\n  - team=shop")
    assert canary in [r["name"] for r in by_label]
