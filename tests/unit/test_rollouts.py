"""Rollout status, the patch each action builds, and the wait predicates (argo.py).

act_on's retry on a real 409 is tested in test_k8s_layer.py against the local Kubernetes API test server;
the Kubernetes test tier checks the module's answer end to end."""

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import argo, rollouts
from ansible_collections.progressive.delivery.plugins.module_utils.waiter import Waiter
from simclock import SimClock


def canary(**status):
    ro = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
          "metadata": {"name": "checkout", "namespace": "shop", "generation": 2},
          "spec": {"replicas": 4, "strategy": {"canary": {"steps": [
              {"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]}},
              "template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}},
          "status": {"observedGeneration": "2", "stableRS": "a", "currentPodHash": "b"}}
    ro["status"].update(status)
    return ro


@pytest.mark.parametrize("status,spec,phase,message", [
    ({"abort": True}, {}, "Degraded", "RolloutAborted"),
    ({}, {"paused": True}, "Paused", "manually paused"),
    ({"pauseConditions": [{"reason": "CanaryPauseStep"}]}, {}, "Paused", "CanaryPauseStep"),
    ({"controllerPause": True}, {}, "Progressing", "waiting for rollout to unpause"),
    ({"updatedReplicas": 1}, {}, "Progressing", "more replicas need to be updated"),
    ({"updatedReplicas": 4, "availableReplicas": 4, "replicas": 4}, {}, "Progressing",
     "waiting for all steps to complete"),
    ({"updatedReplicas": 4, "availableReplicas": 4, "replicas": 4, "currentPodHash": "a"}, {}, "Healthy", ""),
    ({"observedGeneration": "1"}, {}, "Progressing", "waiting for rollout spec update to be observed"),
    ({"phase": "Degraded", "message": "RolloutAborted: Rollout aborted update to revision 2"}, {}, "Degraded",
     "RolloutAborted"),
])
def test_phase(status, spec, phase, message):
    ro = canary(**status)
    ro["spec"].update(spec)
    got = rollouts.rollout_phase(ro)
    assert got[0] == phase and got[1].startswith(message)


def test_summary_weights_and_abort_flag():
    s = rollouts.summarize(canary(currentStepIndex=2, abort=True))
    assert s["set_weight"] == 50 and s["aborted"] is True and s["status"] == "Degraded"
    assert s["current_step"] == {"setWeight": 50}


@pytest.mark.parametrize("status,spec,expected", [
    ({"pauseConditions": [{"reason": "CanaryPauseStep"}]}, {}, [{"status": {"pauseConditions": None}}]),
    ({"currentStepIndex": 0}, {}, [{"status": {"pauseConditions": None, "currentStepIndex": 1}}]),
    ({"currentStepIndex": 1, "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}], "controllerPause": True,
      "canary": {"currentStepAnalysisRunStatus": {"status": "Inconclusive"}}}, {},
     [{"status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 2}}]),
    ({"pauseConditions": [{"reason": "CanaryPauseStep"}]}, {"paused": True},
     [{"spec": {"paused": False}}, {"status": {"pauseConditions": None}}]),
])
def test_promote_matches_the_plugin(status, spec, expected):
    ro = canary(**status)
    ro["spec"].update(spec)
    assert [p.body for p in rollouts.promote(ro)] == expected


def test_promote_refusals():
    with pytest.raises(rollouts.RolloutError):
        rollouts.promote(canary(), full=True, skip_current_step=True)
    bg = canary()
    bg["spec"]["strategy"] = {"blueGreen": {"activeService": "a"}}
    with pytest.raises(rollouts.RolloutError) as info:
        rollouts.promote(bg, skip_current_step=True)
    assert "Cannot skip steps of a bluegreen rollout" in str(info.value)


def test_effective_drops_patches_that_change_nothing():
    ro = canary(abort=True)
    assert rollouts.effective(ro, rollouts.abort(ro)) == []
    assert len(rollouts.effective(ro, rollouts.retry(ro))) == 1


def test_undo_picks_the_previous_revision_and_drops_the_hash_label():
    def rs(rev, image, h):
        return {"metadata": {"annotations": {rollouts.REVISION_ANNOTATION: str(rev)}, "labels": {rollouts.HASH_LABEL: h}},
                "spec": {"template": {"metadata": {"labels": {"app": "x", rollouts.HASH_LABEL: h}},
                                      "spec": {"containers": [{"name": "app", "image": image}]}}}}
    patches = rollouts.undo(canary(), [rs(1, "app:1", "a"), rs(2, "app:2", "b")])
    op = patches[0].body[0]
    assert op["op"] == "replace" and op["path"] == "/spec/template"
    assert op["value"]["spec"]["containers"][0]["image"] == "app:1"
    assert rollouts.HASH_LABEL not in op["value"]["metadata"]["labels"]
    with pytest.raises(rollouts.RolloutError):
        rollouts.undo(canary(), [rs(1, "app:1", "a")], revision=7)


# --------------------------------------------------------------------------- waiting


def summaries(*states):
    """read() returning one summary per call, then the last for ever."""
    objects = [rollouts.summarize(canary(**st)) for st in states]
    calls = {"n": 0}

    def read():
        calls["n"] += 1
        return objects[min(calls["n"], len(objects)) - 1]
    return read


HEALTHY = dict(currentStepIndex=4, currentPodHash="a", updatedReplicas=4, availableReplicas=4, replicas=4)
PAUSED = dict(currentStepIndex=1, pauseConditions=[{"reason": "CanaryPauseStep"}], controllerPause=True,
              updatedReplicas=4, availableReplicas=4, replicas=4)


def wait(states, target, timeout=30, interval=1.0):
    clock = SimClock()
    done, fatal = argo.wait_condition(argo.parse_wait_for(target))
    waiter = Waiter(summaries(*states), clock=clock, sleep=clock.sleep, interval=interval)
    return waiter.wait(done, timeout, fatal)


def test_wait_reaches_healthy_after_the_controller_catches_up():
    result = wait([dict(observedGeneration="1"), PAUSED, HEALTHY], "healthy")
    assert result.reached and result.elapsed == 2.0 and result.last["status"] == "Healthy"


def test_wait_for_a_step_index_and_for_paused():
    assert wait([dict(currentStepIndex=0), PAUSED], 1).reached
    assert not wait([dict(currentStepIndex=0), PAUSED], 3, timeout=5).reached
    assert wait([dict(currentStepIndex=0), HEALTHY], "Paused").reached  # no pause left to wait for


def test_wait_stops_at_degraded_unless_that_is_the_target():
    aborted = dict(abort=True, abortedAt="2026-01-01T00:00:00Z", phase="Degraded",
                   message="RolloutAborted: Rollout aborted update to revision 2")
    result = wait([PAUSED, aborted], "Healthy")
    assert not result.reached and result.reason.startswith("it is Degraded: RolloutAborted") and result.elapsed == 1.0
    assert wait([dict(abort=True), aborted], "Aborted").reached
    # abort requested but not yet acted on by the controller is not "Aborted"
    assert not wait([dict(abort=True)], "Aborted", timeout=3).reached


def test_wait_times_out_at_the_timeout():
    result = wait([PAUSED], "Healthy", timeout=10, interval=3)
    assert result.reason == "timeout" and result.elapsed == 10.0
    assert rollouts.describe_position(result.last) == "Paused - CanaryPauseStep, step 1/4, set weight 10"


@pytest.mark.parametrize("value", ["sideways", True, -1.5])
def test_wait_for_rejects_what_it_cannot_wait_for(value):
    with pytest.raises(rollouts.RolloutError, match="wait_for"):
        argo.parse_wait_for(value)


def replicaset(rev, pod_hash, image, uid="u1"):
    return {"metadata": {"annotations": {rollouts.REVISION_ANNOTATION: str(rev)},
                         "labels": {rollouts.HASH_LABEL: pod_hash}, "ownerReferences": [{"uid": uid}]},
            "spec": {"template": {"metadata": {"labels": {rollouts.HASH_LABEL: pod_hash}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


def test_undo_mid_update_goes_to_stable_not_an_earlier_aborted_release():
    ro = canary(stableRS="a", currentPodHash="c")
    ro["metadata"]["uid"] = "u1"
    history = [replicaset(1, "a", "app:1"), replicaset(2, "b", "app:2-aborted"), replicaset(3, "c", "app:3")]
    patch = rollouts.undo(ro, history)[0]
    assert patch.kind == "json"
    assert patch.body[0]["value"]["spec"]["containers"][0]["image"] == "app:1"
    assert rollouts.HASH_LABEL not in patch.body[0]["value"]["metadata"]["labels"]
    # fully promoted: the revision before the latest, as the plugin does
    ro = canary(stableRS="c", currentPodHash="c")
    ro["metadata"]["uid"] = "u1"
    assert rollouts.undo(ro, history)[0].body[0]["value"]["spec"]["containers"][0]["image"] == "app:2-aborted"
    assert rollouts.undo(ro, history, revision=1)[0].body[0]["value"]["spec"]["containers"][0]["image"] == "app:1"
    with pytest.raises(rollouts.RolloutError, match="unable to find specified revision 7"):
        rollouts.undo(ro, history, revision=7)


def test_relative_actions_do_not_repeat_while_the_controller_has_not_acted():
    unpausing = canary(currentStepIndex=1, controllerPause=True)
    assert rollouts.promote(unpausing) == []  # the plugin would send currentStepIndex 2 here
    assert [p.body for p in rollouts.promote(unpausing, skip_current_step=True)] == [{"status": {"currentStepIndex": 2}}]
    assert rollouts.retry(canary()) == [] and rollouts.resume(canary()) == []
    assert [p.body for p in rollouts.retry(canary(abort=True))] == [{"status": {"abort": False}}]
    pending = canary()
    pending["spec"]["restartAt"] = "2026-01-01T00:00:00Z"
    assert rollouts.restart(pending) == []
    pending["status"]["restartedAt"] = "2026-01-01T00:00:00Z"
    assert rollouts.restart(pending)[0].body["spec"]["restartAt"] != "2026-01-01T00:00:00Z"
