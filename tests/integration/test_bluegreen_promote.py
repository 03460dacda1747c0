"""bluegreen_promote on the Kubernetes test tier, inline analyses against the real Prometheus.

The tests play the controller (tests/support/controller.py): they create the ReplicaSets, write the
status it would write, and switch the active selector when the module promotes or aborts."""

import os
import uuid

import pytest

import controller
from conftest import HASHES

TEMPLATES = os.path.join(os.path.dirname(__file__), "files", "slo-templates.yaml")
OLD = "0ld5table"


def bluegreen_rollout(name, auto_promotion=False, own_pre=False, own_post=False):
    strategy = {"activeService": name + "-active", "previewService": name + "-preview",
                "autoPromotionEnabled": auto_promotion, "scaleDownDelaySeconds": 30}
    if own_pre:
        strategy["prePromotionAnalysis"] = {"templates": [{"templateName": "success-rate"}]}
    if own_post:
        strategy["postPromotionAnalysis"] = {"templates": [{"templateName": "success-rate"}]}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"blueGreen": strategy},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "db-front", "image": "registry.local/orders:2"}]}}}}


def waiting_for_promotion(kube, new_hash, available=2, pre_run=None, **kwargs):
    """A blue-green rollout paused before promotion, preview up, as the controller leaves it."""
    _kubeconfig, client, namespace = kube
    name = "orders-%s" % uuid.uuid4().hex[:6]
    ro = controller.api(client, "Rollout").create(bluegreen_rollout(name, **kwargs), namespace=namespace).to_dict()
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 1, OLD, "registry.local/orders:1"))
    controller.create_replicaset(client, namespace, controller.replicaset(ro, 2, new_hash, "registry.local/orders:2",
                                                                          available=available))
    status = {"observedGeneration": str(ro["metadata"]["generation"]), "stableRS": OLD, "currentPodHash": new_hash,
              "blueGreen": {"activeSelector": OLD, "previewSelector": new_hash},
              "pauseConditions": [{"reason": "BlueGreenPause", "startTime": "2026-01-01T00:00:00Z"}],
              "controllerPause": True, "phase": "Paused", "message": "BlueGreenPause",
              "replicas": 4, "updatedReplicas": 2, "readyReplicas": 4, "availableReplicas": 4}
    if pre_run:
        status["blueGreen"]["prePromotionAnalysisRunStatus"] = pre_run
    controller.write_status(client, namespace, name, status)
    return name


def switch_active_on_promote(kube, name, new_hash, post_run=None, healthy=True):
    """The controller's answer to promote: the active Service selects the new pods."""
    _kubeconfig, client, namespace = kube

    def status(ro):
        bg = dict(ro["status"]["blueGreen"], activeSelector=new_hash)
        if post_run:
            bg["postPromotionAnalysisRunStatus"] = post_run
        out = {"blueGreen": bg, "controllerPause": None, "pauseConditions": None}
        if healthy:
            out.update(stableRS=new_hash, phase="Healthy", message="")
        else:
            out.update(phase="Progressing", message="waiting for post-promotion verification to complete")
        return out
    return controller.React(client, namespace, name, lambda ro: "pauseConditions" not in ro["status"], status)


def switch_back_on_abort(kube, name):
    _kubeconfig, client, namespace = kube

    def status(ro):
        return {"blueGreen": dict(ro["status"]["blueGreen"], activeSelector=OLD), "abortedAt": "2026-01-01T00:05:00Z",
                "phase": "Degraded", "message": "RolloutAborted: Rollout aborted update to revision 2"}
    return controller.React(client, namespace, name, lambda ro: ro["status"].get("abort"), status, delay=0.2)


def promote(playbook, kube, name, body="", prometheus=None, **kwargs):
    kubeconfig, _client, namespace = kube
    extra = "\n        prometheus_url: %s" % prometheus.url if prometheus else ""
    text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: promote
      progressive.delivery.bluegreen_promote:
        kubeconfig: %s
        namespace: %s
        name: %s
        wait_sleep: 0.2
        promote_timeout: 60%s
%s
""" % (kubeconfig, namespace, name, extra, "\n".join("        " + line for line in body.strip().splitlines()))
    rc, tasks, _out = playbook(text, **kwargs)
    return rc, tasks[0]


def analysis(which, hash_=None):
    text = "%s_promotion_analysis:\n  template_file: %s\n  template_name: [success-rate]" % (which, TEMPLATES)
    if hash_:
        text += "\n  args:\n    canary-hash: %s" % hash_
    return text


def test_refuses_every_unmet_gate_and_writes_nothing(playbook, kube):
    name = waiting_for_promotion(kube, "9e9f00d", available=1)
    before = controller.get(kube[1], kube[2], name)
    rc, result = promote(playbook, kube, name)
    assert rc != 0 and result["outcome"] == "refused" and result["changed"] is False
    msg = result["msg"]
    assert "refusing to promote rollout '%s'" % name in msg
    assert "preview ReplicaSet %s-9e9f00d has 1 of 2 replicas available" % name in msg
    assert "autoPromotionEnabled is false: a person must approve this promotion (approved: true)" in msg
    assert "no pre-promotion analysis" in msg
    assert controller.get(kube[1], kube[2], name) == before


def test_refuses_while_the_rollouts_own_analysis_has_not_passed(playbook, kube):
    name = waiting_for_promotion(kube, "9e9f00e", own_pre=True,
                                 pre_run={"name": "orders-pre-1", "status": "Running"})
    rc, result = promote(playbook, kube, name, "approved: true")
    assert rc != 0 and "pre-promotion AnalysisRun orders-pre-1 is Running, not Successful" in result["msg"]


def test_promotes_on_the_rollouts_own_analysis_then_is_idempotent(playbook, kube):
    _kubeconfig, client, namespace = kube
    new = "7a7b7c7d"
    name = waiting_for_promotion(kube, new, own_pre=True, pre_run={"name": "orders-pre-1", "status": "Successful"})
    before = controller.get(client, namespace, name)
    rc, checked = promote(playbook, kube, name, "approved: true", check=True)
    assert rc == 0 and checked["outcome"] == "would_promote" and checked["changed"] is True
    assert controller.get(client, namespace, name) == before

    react = switch_active_on_promote(kube, name, new)
    rc, result = promote(playbook, kube, name, "approved: true")
    assert react.join()
    assert rc == 0, result
    assert result["outcome"] == "promoted" and result["changed"] is True
    assert result["pre_promotion_analysis"]["source"] == "rollout"
    assert result["pre_promotion_analysis"]["phase"] == "Successful"
    assert [e["event"] for e in result["timeline"]] == [
        "pre_promotion_analysis", "promoted", "active_switched", "post_promotion_analysis"]
    assert result["timeline"][1]["patches"] == [{"subresource": "status",
                                                 "patch_type": "application/merge-patch+json",
                                                 "body": {"status": {"pauseConditions": None}}}]
    assert result["durations"]["switch_seconds"] > 0
    assert result["rollout"]["active_selector"] == new

    rc, again = promote(playbook, kube, name, "approved: true")
    assert rc == 0 and again["outcome"] == "already_promoted" and again["changed"] is False


def test_inline_pre_promotion_analysis_that_fails_refuses(playbook, kube, prometheus):
    _kubeconfig, client, namespace = kube
    bad = HASHES["bad"]  # the app answering 20% errors
    name = waiting_for_promotion(kube, bad)
    before = controller.get(client, namespace, name)
    rc, result = promote(playbook, kube, name, "approved: true\n" + analysis("pre"), prometheus=prometheus)
    assert rc != 0 and result["outcome"] == "refused"
    assert "pre-promotion analysis Failed" in result["msg"]
    metric = result["pre_promotion_analysis"]["metrics"][0]
    assert metric["name"] == "success-rate" and bad in metric["query"]  # canary-hash filled from the rollout
    assert controller.get(client, namespace, name) == before


def test_inline_analyses_on_a_healthy_preview_promote(playbook, kube, prometheus):
    new = HASHES["healthy"]
    name = waiting_for_promotion(kube, new)
    react = switch_active_on_promote(kube, name, new)
    rc, result = promote(playbook, kube, name, "approved: true\n%s\n%s" % (analysis("pre"), analysis("post")),
                         prometheus=prometheus)
    assert react.join()
    assert rc == 0, result["msg"]
    assert result["outcome"] == "promoted"
    assert result["pre_promotion_analysis"]["phase"] == "Successful"
    assert result["post_promotion_analysis"]["source"] == "inline"
    assert result["post_promotion_analysis"]["phase"] == "Successful"


def test_failed_post_promotion_analysis_rolls_back_and_says_how_long(playbook, kube, prometheus):
    _kubeconfig, client, namespace = kube
    bad = HASHES["bad"]
    name = waiting_for_promotion(kube, bad, own_pre=True, pre_run={"name": "orders-pre-2", "status": "Successful"})
    promoted = switch_active_on_promote(kube, name, bad, healthy=False)
    aborted = switch_back_on_abort(kube, name)
    rc, result = promote(playbook, kube, name, "approved: true\n" + analysis("post"), prometheus=prometheus)
    assert promoted.join() and aborted.join()
    assert rc != 0 and result["outcome"] == "rolled_back" and result["changed"] is True
    assert "post-promotion analysis Failed" in result["msg"]
    rollback = result["rollback"]
    assert rollback["to_hash"] == OLD and rollback["seconds"] > 0
    assert rollback["patches"][0]["body"] == {"status": {"abort": True}}
    assert [e["event"] for e in result["timeline"]][-2:] == ["aborted", "active_restored"]
    assert controller.get(client, namespace, name)["status"]["blueGreen"]["activeSelector"] == OLD
    # the rollout stays aborted: promoting again is refused until someone retries it
    rc, again = promote(playbook, kube, name, "approved: true")
    assert rc != 0 and again["changed"] is False and "it is aborted" in again["msg"]


@pytest.mark.parametrize("strategy_name", ["canary"])
def test_a_canary_rollout_is_refused(playbook, kube, strategy_name):
    _kubeconfig, client, namespace = kube
    name = "canary-%s" % uuid.uuid4().hex[:6]
    body = bluegreen_rollout(name)
    body["spec"]["strategy"] = {strategy_name: {"steps": [{"setWeight": 50}]}}
    controller.api(client, "Rollout").create(body, namespace=namespace)
    controller.write_status(client, namespace, name, {"stableRS": "a", "currentPodHash": "b"})
    rc, result = promote(playbook, kube, name, "approved: true")
    assert rc != 0 and "uses the canary strategy; use rollout_step" in result["msg"]
