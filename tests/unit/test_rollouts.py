"""Rollout status and the patch each action builds; the 409 retry of act_on.

The retry test uses a stand-in client because a conflict cannot be provoked on demand on a real
API server; everything else about the API is exercised on the Kubernetes test tier."""

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import k8s, rollouts


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


class ConflictOnce(object):
    """Stand-in client: the first write answers 409 as the API server does on a stale write."""

    class Conflict(k8s.DynamicApiError):
        status = 409

        def __init__(self):  # pylint: disable=super-init-not-called
            pass

    def __init__(self, obj):
        self.obj = obj
        self.reads = 0
        self.writes = 0


def test_act_on_rereads_and_retries_after_a_conflict(monkeypatch):
    fake = ConflictOnce(canary())

    def read(client, kind, name, namespace, api_version):
        fake.reads += 1
        return fake.obj

    def send(client, obj, patch, api_version):
        fake.writes += 1
        if fake.writes == 1:
            raise ConflictOnce.Conflict()
        return rollouts.apply(obj, [patch])

    monkeypatch.setattr(k8s, "read_object", read)
    monkeypatch.setattr(k8s, "send_patch", send)
    before, after, patches = k8s.act_on(None, "Rollout", "checkout", "shop", rollouts.abort)
    assert fake.reads == 2 and fake.writes == 2
    assert after["status"]["abort"] is True and len(patches) == 1
