"""status_view: one status, in the operator's vocabulary, from a release state or from a Rollout."""

from ansible_collections.progressive.delivery.plugins.module_utils import evidence
from ansible_collections.progressive.delivery.plugins.module_utils import status_view as sv

T0 = 1800000000.0  # 2027-01-15T08:00:00Z
STEPS = [{"setWeight": 10}, {"pause": {"duration": "2m"}}, {"analysis": {"templates": [{"templateName": "slo"}]}},
         {"pause": {}}, {"setWeight": 100}]


def state(**fields):
    base = dict(release="checkout", router="nginx", stable_version="v1", canary_version="v2", phase="Progressing",
                step_index=1, canary_weight=10, steps=STEPS, revision=3, format=2,
                history=[{"at": "x", "t": T0, "event": "started", "stable_version": "v1", "canary_version": "v2",
                          "by": "alice@ops"},
                         {"at": "x", "t": T0 + 1, "event": "set_weight", "step": 0, "weight": 10},
                         {"at": "x", "t": T0 + 2, "event": "pause", "step": 1, "seconds": 120.0}])
    base.update(fields)
    return base


def test_numbers_are_rounded_for_a_person():
    number = evidence.number_text  # the one wording of a value, Argo's display strings read as numbers
    assert number("[0.24249999999999997]") == "0.2425"  # as the release timeline rounds
    assert number([0.99]) == "0.99" and number(12.0) == "12" and number(3) == "3"
    assert number("[0.1, 0.2]") == "[0.1, 0.2]" and number(None) == "-" and number("NaN") == "NaN"
    assert number(float("nan")) == "NaN" and number(0.000012345) == "1.234e-05"


def test_durations_and_steps_read_short():
    assert [evidence.duration_text(s) for s in (None, 0, 42, 192, 3840)] == ["-", "0.0s", "42s", "3m12s", "1h04m"]
    assert [evidence.step_text(s) for s in STEPS] == ["setWeight 10", "pause 2m", "analysis slo",
                                                      "pause (until resumed)", "setWeight 100"]


def test_a_timed_pause_of_the_plan_says_how_long_of_how_long():
    st = sv.from_release_state(state(), "checkout", "nginx", (90, 10), now=T0 + 44)
    assert st["phase"] == "Progressing" and st["step"] == {"index": 1, "number": 2, "count": 5,
                                                           "text": "pause 2m"}
    assert st["weight"] == {"set": 10, "actual": 10} and st["terminal"] is False and st["elapsed_s"] == 44
    lines = sv.render(st)
    assert "pause      paused for 42s of 2m00s  pause step" in lines
    assert "step       2/5  pause 2m" in lines and "versions   v1 -> v2" in lines
    assert lines[-1] == "started    44s ago"


def test_a_pause_by_a_person_says_who_and_since_when():
    history = state()["history"] + [{"at": "x", "t": T0 + 10, "event": "paused", "reason": "operator",
                                     "by": "bob@laptop (AWX job 12)"}]
    st = sv.from_release_state(state(phase="Paused", message="paused by bob", history=history), "checkout",
                               "nginx", (90, 10), now=T0 + 130)
    assert st["pause"]["by"] == "bob@laptop (AWX job 12)" and st["pause"]["seconds"] == 120
    assert "pause      paused for 2m00s  operator (by bob@laptop (AWX job 12))" in sv.render(st)


def test_the_last_analysis_shows_each_value_its_condition_and_the_history():
    history = state()["history"] + [{
        "at": "x", "t": T0 + 200, "event": "analysis", "step": 2, "phase": "Failed", "message": "error-rate failed",
        "values": {"error-rate": "[0.2061]", "latency": "[0.0043]"}, "numbers": {},
        "conditions": {"error-rate": {"success": "result[0] < 0.05"}, "latency": {"success": "result[0] < 0.5"}}}, {
        "at": "x", "t": T0 + 201, "event": "aborted", "reason": "analysis Failed at step 3/5", "weight": 0,
        "time_to_restore_s": 0.4}]
    st = sv.from_release_state(state(aborted=True, phase="Degraded", canary_weight=0, step_index=2, history=history),
                               "checkout", "nginx", (100, 0), now=T0 + 300)
    assert st["terminal"] is True and st["verdict"] == "rolled_back" and st["decided_by"] == "analysis"
    assert st["elapsed_s"] == 201  # the release's length, not the time since
    metrics = dict((m["name"], m) for m in st["analysis"]["metrics"])
    assert metrics["error-rate"]["value"] == "0.2061" and metrics["error-rate"]["condition"] == "< 0.05"
    lines = sv.render(st)
    assert "analysis   Failed  step 3/5  1m40s ago" in lines and "  error-rate failed" in lines
    assert "verdict    rolled_back (decided by analysis)" in lines
    assert [line for line in lines if line.startswith("  08:")][-1] == "  08:03:21  ROLLED BACK by analysis: analysis Failed at step 3/5 (restored in 0.4s)"


def test_a_guard_trip_is_the_last_analysis():
    history = state()["history"] + [{
        "at": "x", "t": T0 + 30, "event": "guard_tripped", "metric": "error-rate",
        "measurements": [{"value": "[0.31]", "phase": "Failed"}], "checks": 2,
        "conditions": {"error-rate": {"failure": "result[0] > 0.1"}}}]
    st = sv.from_release_state(state(history=history), "checkout", "nginx", (90, 10), now=T0 + 31)
    assert st["analysis"]["name"] == "guard" and st["analysis"]["metrics"] == [
        {"name": "error-rate", "value": "0.31", "condition": "not > 0.1", "verdict": "Failed"}]


def test_no_state_is_said_and_ends_a_watch():
    st = sv.from_release_state(None, "cart", "nginx", (100, 0), now=T0)
    assert st["found"] is False and st["terminal"] is True
    assert sv.render(st) == ["release    cart (nginx router)",
                             "phase      no release state beside the nginx router: not started here"]


def rollout(status, paused=False):
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": "checkout", "namespace": "shop", "generation": 2,
                         "annotations": {"rollout.argoproj.io/revision": "2"}},
            "spec": {"paused": paused, "strategy": {"canary": {"steps": STEPS}},
                     "template": {"spec": {"containers": [{"name": "app", "image": "shop:2"}]}}},
            "status": dict({"observedGeneration": "2", "stableRS": "a1", "currentPodHash": "b2"}, **status)}


def test_a_manual_pause_of_a_rollout():
    st = sv.from_rollout(rollout({"currentStepIndex": 1}, paused=True), now=T0)
    assert st["phase"] == "Paused" and st["pause"]["reason"] == "manually paused (spec.paused)"
    assert st["step"]["number"] == 2 and st["weight"]["set"] == 10 and st["stable_version"] == "stable a1"


def test_an_aborted_rollout_says_the_message_and_ends_the_watch():
    message = "RolloutAborted: Rollout aborted update to revision 2: Step-based analysis phase failed"
    st = sv.from_rollout(rollout({"currentStepIndex": 2, "abort": True, "phase": "Degraded", "message": message,
                                  "abortedAt": "2027-01-15T08:05:00Z"}), now=T0 + 400)
    assert st["terminal"] is True and st["verdict"] == "rolled_back" and st["decided_by"] == "analysis"
    assert st["history"] == [{"at": "2027-01-15T08:05:00.000Z", "t": T0 + 300, "text": "aborted"}]
    assert "phase      Degraded - %s" % message in sv.render(st)


def test_a_rollout_not_yet_observed_is_progressing_not_healthy():
    st = sv.from_rollout(rollout({"observedGeneration": "1", "phase": "Healthy", "currentPodHash": "a1",
                                  "currentStepIndex": 5}), now=T0)
    assert st["phase"] == "Progressing" and st["terminal"] is False


def test_the_split_measured_at_this_weight_is_shown_beside_the_weight_set():
    history = state()["history"] + [{"at": "x", "t": T0 + 122, "event": "traffic", "step": 1, "weight": 10,
                                     "requests": 512, "canary_share": 0.0977}]
    st = sv.from_release_state(state(step_index=2, history=history), "checkout", "nginx", (90, 10), now=T0 + 130)
    assert st["weight"] == {"set": 10, "actual": 10, "measured": 9.8, "requests": 512}
    assert "weight     set 10%  actual 10%  measured 9.8% of 512 requests" in sv.render(st)
