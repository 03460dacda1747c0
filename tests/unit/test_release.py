"""The Ansible-controlled release engine and the routing rules.

The router here is an in-memory stand-in (the real routers are exercised against real nginx and
the Kubernetes test tier in tests/integration); time is simulated so pauses and timings are exact."""

import contextlib
import copy

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import evidence
from ansible_collections.progressive.delivery.plugins.module_utils import release as rel
from ansible_collections.progressive.delivery.plugins.module_utils.release_store import StateConflict, revision_of
from ansible_collections.progressive.delivery.plugins.module_utils.routers import (
    Change, Router, RouterError, Routing, validate_weight)
from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import upstream_servers
from simclock import SimClock


class MemoryStore(object):
    """The state store's contract (release_store.FileStore/ConfigMapStore) in memory: compare-and-swap
    on the revision; the lease and the mutex are exercised on real files and the API test server."""

    def __init__(self, state=None):
        self.state = state

    def read(self):
        return copy.deepcopy(self.state)

    def write(self, state, expected_revision):
        if revision_of(self.state) != expected_revision:
            raise StateConflict("moved from %d to %d" % (expected_revision, revision_of(self.state)))
        state["revision"] = expected_revision + 1
        self.state = copy.deepcopy(state)
        return state["revision"]

    @contextlib.contextmanager
    def mutex(self):
        yield

    def acquire_walker(self, me):
        return None

    def renew_walker(self, me):
        pass

    def release_walker(self, me):
        pass


class MemoryRouter(Router):
    kind = "memory"

    def __init__(self, release="checkout", state=None):
        super(MemoryRouter, self).__init__(release)
        self.routing = None
        self.store = MemoryStore(state)
        self.updates = []

    @property
    def state(self):
        """What the store keeps, read as the modules read it."""
        return rel.ReleaseState.from_dict(self.store.state)

    def current_routing(self):
        return self.routing

    def reconcile(self, routing):
        before = self.routing.to_dict() if self.routing else None
        if before == routing.to_dict():
            return Change(False, before, before)
        self.routing = routing
        self.updates.append(routing.to_dict())
        return Change(True, before, routing.to_dict())

    def state_store(self):
        return self.store


def verdicts(*phases):
    """An analyze() answering the given phases in turn (each takes 3 simulated seconds)."""
    answers = list(phases)

    def analyze(step, state, sleep=None):
        clock.sleep(3)
        return {"phase": answers.pop(0), "message": "", "metrics": [
            {"name": "success-rate", "measurements": [{"value": "[0.99]", "number": [0.99]}]}]}
    return analyze


clock = SimClock()


def make(plan=None, analyze=None, router=None, strategy="canary", cohorts=None):
    return rel.Release(router or MemoryRouter(), plan or rel.default_plan(pause="10s"), strategy,
                       analyze=analyze, cohorts=cohorts, clock=clock, sleep=clock.sleep)


def test_default_plan_is_ten_to_a_hundred_with_pause_and_analysis():
    plan = rel.default_plan()
    assert [s["setWeight"] for s in plan if "setWeight" in s] == [10, 25, 50, 75, 100]
    assert plan[:3] == [{"setWeight": 10}, {"pause": {"duration": "30s"}}, {"analysis": {}}]


@pytest.mark.parametrize("plan,strategy,message", [
    ([{"setWeight": 101}], "canary", "from 0 to 100"),
    ([{"setWeight": "ten"}], "canary", "integer"),
    ([{"setWeight": 10, "pause": {}}], "canary", "exactly one of"),
    ([{"setWeight": 50}], "blueGreen", "never splits traffic"),
    ([{"pause": {"duration": "soon"}}], "canary", "pause duration"),
    ([], "canary", "no steps"),
])
def test_bad_plans_are_refused_with_the_step(plan, strategy, message):
    with pytest.raises(rel.ReleaseError, match=message):
        rel.validate_plan(plan, strategy)


def test_a_good_release_walks_every_step_and_is_promoted():
    router = MemoryRouter()
    r = make(analyze=verdicts(*["Successful"] * 4), router=router)
    assert r.begin("v1", "v2") is True
    state = r.run()
    assert state.phase == rel.HEALTHY and state.stable_version == "v2"
    assert [u["canary_weight"] for u in router.updates] == [0, 10, 25, 50, 75, 100]
    assert [s["analysis_phase"] for s in state.step_results] == ["Successful"] * 4 + [None]
    assert state.step_results[0]["analysis_values"] == {"success-rate": "[0.99]"}
    # a finished release: running it again does nothing
    again = make(analyze=verdicts(), router=router)
    assert again.begin("v1", "v2") is False and again.changed is False


def test_the_router_is_asked_before_a_release_starts_over_a_promoted_one():
    class Refusing(MemoryRouter):
        def check_next_release(self, promoted_version, canary_version):
            self.asked = (promoted_version, canary_version)
            raise RouterError("give the pool serving %s as stable" % promoted_version)

    router = Refusing()
    r = make(analyze=verdicts(*["Successful"] * 4), router=router)
    r.begin("v1", "v2")  # over nothing promoted: not asked
    r.run()
    with pytest.raises(RouterError):
        make(analyze=verdicts(), router=router).begin("v2", "v3")
    assert router.asked == ("v2", "v3") and router.state.canary_version == "v2"  # refused: nothing written


def test_a_failed_analysis_aborts_at_once_and_times_detection_and_restore():
    router = MemoryRouter()
    r = make(analyze=verdicts("Successful", "Failed"), router=router)
    r.begin("v1", "v2")
    state = r.run()
    assert state.phase == rel.DEGRADED and state.aborted is True
    assert router.updates[-1] == dict(router.updates[-1], canary_weight=0, active=False)
    assert state.message.startswith("RolloutAborted: analysis Failed at step 6/13")
    # first traffic at setWeight 10; then pause 10 + analysis 3 + setWeight 25, pause 10, analysis 3
    assert state.time_to_detect_s == 26.0 and state.time_to_restore_s == 0.0
    assert Routing.from_dict(router.updates[-1]).cohort_targets() == {}
    # the verdict stands: running the same release again changes nothing
    assert make(router=router).begin("v1", "v2") is False


def test_releasing_the_version_that_already_serves_changes_nothing():
    router = MemoryRouter()
    good = make(analyze=verdicts(*["Successful"] * 4), router=router)
    good.begin("v1", "v2")
    good.run()
    bad = make(analyze=verdicts("Failed"), router=router)
    bad.begin("v2", "v3")
    bad.run()
    updates = len(router.updates)
    # the playbook of the v2 release, run again after v3 was rolled back: v2 serves, nothing to do
    again = make(analyze=verdicts(), router=router)
    assert again.begin("v1", "v2") is False and again.already_stable is True and again.changed is False
    assert len(router.updates) == updates and router.state.canary_version == "v3"
    # an older version than what serves is a real release (a roll forward to it)
    assert make(router=router).begin("v2", "v1") is True


def test_the_html_report_plots_the_weights_and_the_analysis_values():
    from ansible_collections.progressive.delivery.plugins.module_utils import report_html
    router = MemoryRouter()
    r = make(analyze=verdicts("Successful", "Failed"), router=router)
    r.begin("v1", "v<2>")
    state = r.run()
    page = report_html.release_html(state)
    assert page.count("<svg") == 2  # the weight, and the one metric measured
    assert "v&lt;2&gt;" in page and "v<2>" not in page  # escaped
    assert "time to detect 26s" in page and "rolled back" in page
    weights = state.weight_series()
    assert [w for _t, w in weights] == [0, 0, 10, 10, 25, 25, 0, 0]
    # the chart's points are the numbers the analysis measured, never parsed back from the display text
    assert [y for _t, y in state.analysis_series()["success-rate"]] == [0.99, 0.99]
    assert state.step_results[0]["analysis_numbers"] == {"success-rate": [0.99]}
    assert report_html.seconds("4.2") == 4.2 and report_html.seconds(None) is None
    with pytest.raises(ValueError, match="no history"):
        report_html.release_html({"history": []})
    drill = report_html.drill_html({"target": "shop", "verdict": "passed", "time_to_detect_s": 4.2,
                                    "time_to_restore_s": 0.1})
    assert "4.2s" in drill and "2-minute target" in drill and 'class="good">passed' in drill


def test_an_interrupted_release_resumes_where_it_stopped():
    router = MemoryRouter()
    first = make(analyze=verdicts("Successful"), router=router)
    first.begin("v1", "v2")
    first.run(until=4)  # 10%, pause, analysis, 25% done
    assert router.state.step_index == 4 and router.state.canary_weight == 25
    resumed = make(analyze=verdicts("Successful", "Successful", "Successful"), router=router)
    assert resumed.begin("v1", "v2") is True
    assert resumed.run().phase == rel.HEALTHY
    assert [e["event"] for e in router.state.history].count("started") == 1


def test_a_new_version_waits_for_the_one_in_progress():
    router = MemoryRouter()
    r = make(analyze=verdicts("Successful"), router=router)
    r.begin("v1", "v2")
    r.run(until=2)
    with pytest.raises(rel.ReleaseError, match="still rolling out v2"):
        make(router=router).begin("v1", "v3")


def test_pause_without_duration_and_inconclusive_wait_for_a_person():
    router = MemoryRouter()
    plan = [{"setWeight": 20}, {"pause": {}}, {"analysis": {}}, {"setWeight": 100}]
    r = make(plan=plan, analyze=verdicts("Inconclusive"), router=router)
    r.begin("v1", "v2")
    assert r.run().message == "CanaryPauseStep"
    r.resume()
    state = r.run()
    assert state.phase == rel.PAUSED and state.message == "InconclusiveAnalysisRun"
    r.resume()
    assert r.run().phase == rel.HEALTHY


def test_retry_starts_an_aborted_release_from_step_zero():
    router = MemoryRouter()
    r = make(analyze=verdicts("Failed"), router=router)
    r.begin("v1", "v2")
    r.run()
    r.retry()
    assert router.state.step_index == 0 and router.state.aborted is False
    assert router.routing.canary_weight == 0 and router.routing.active is True


def test_a_retried_release_is_decided_by_its_current_attempt_only():
    # the old attempt's abort stays in the history, but it no longer says who decided, nor when it finished
    from ansible_collections.progressive.delivery.plugins.module_utils import controller
    router = MemoryRouter()
    plan = [{"setWeight": 20}, {"analysis": {}}, {"pause": {}}, {"setWeight": 100}]
    r = make(plan=plan, analyze=verdicts("Failed", "Successful"), router=router)
    r.begin("v1", "v2")
    assert r.run().decided_by() == "analysis" and controller.report(r)["finished_t"] is not None
    r.retry(by="erin")
    state = r.run()  # held at the pause of the new attempt
    assert state.phase == rel.PAUSED and state.events("aborted") and state.decision() is None
    result = controller.report(r)
    assert result["decided_by"] is None and result["finished_t"] is None
    r.resume()
    state = r.run()
    assert state.phase == rel.HEALTHY and state.decided_by() == "plan"
    assert controller.report(r)["finished_t"] == state.events("promoted")[-1]["t"]


def test_bluegreen_needs_approval_and_never_splits():
    router = MemoryRouter()
    with pytest.raises(rel.ReleaseError, match="approve"):
        make(plan=rel.bluegreen_plan(), strategy="blueGreen", router=router).begin("v1", "v2", approved=False)
    r = make(plan=rel.bluegreen_plan(), strategy="blueGreen", analyze=verdicts("Successful", "Failed"),
             router=router)
    r.begin("v1", "v2", approved=True)
    r.run()
    assert [u["canary_weight"] for u in router.updates] == [0, 100, 0]
    assert router.state.aborted is True


@pytest.mark.parametrize("weight,active,expected", [
    (10, True, {"internal": "canary", "enterprise": "stable"}),
    (0, True, {"internal": "canary", "enterprise": "stable"}),
    (100, True, {"internal": "canary", "enterprise": "canary"}),
    (50, False, {"internal": "stable", "enterprise": "stable"}),
])
def test_cohorts_internal_always_enterprise_never_until_full(weight, active, expected):
    routing = Routing(weight, active, always_canary=["internal"], never_canary=["enterprise"])
    assert routing.cohort_targets() == expected
    assert routing.weights == ((100 - weight, weight) if active else (100, 0))


@pytest.mark.parametrize("value", [-1, 101, "x", 12.5, True, None])
def test_invalid_weights_are_refused(value):
    with pytest.raises(RouterError):
        validate_weight(value)


def test_weighted_upstream_keeps_the_ratio_across_server_counts():
    assert upstream_servers(["s1"], ["c1"], (90, 10)) == ["server s1 weight=9;", "server c1 weight=1;"]
    lines = upstream_servers(["s1", "s2"], ["c1"], (75, 25))
    assert lines == ["server s1 weight=3;", "server s2 weight=3;", "server c1 weight=2;"]  # 6:2 = 75:25
    assert upstream_servers(["s1"], ["c1"], (100, 0)) == ["server s1 weight=1;"]


# ---------------------------------------------------------------- the person wins (issue 16)

def operator_at(when, action, router, **kwargs):
    """A sleep that, once the simulated clock passes ``when``, acts as a person would with router_step:
    another Release over the same router, from the latest state, written back."""
    done = []

    def sleep(seconds):
        clock.sleep(seconds)
        if not done and clock() >= when:
            done.append(clock())
            person = rel.Release(router, clock=clock, sleep=clock.sleep)
            with person.operator():
                getattr(person, action)(**kwargs)
    return sleep, done


def walker(router, plan, analyze=None, sleep=None, **kwargs):
    return rel.Release(router, plan, "canary", analyze=analyze, clock=clock, sleep=sleep or clock.sleep, **kwargs)


PLAN = [{"setWeight": 10}, {"pause": {"duration": "60s"}}, {"setWeight": 50}, {"pause": {"duration": "60s"}},
        {"setWeight": 100}]


def test_an_abort_during_a_pause_ends_the_walk_on_stable_and_stays_in_the_history():
    router = MemoryRouter()
    start = clock()
    sleep, done = operator_at(start + 20, "abort", router, reason="INC-1", by="alice@lb1")
    r = walker(router, PLAN, sleep=sleep)
    r.begin("v1", "v2")
    state = r.run()
    assert done and clock() - done[0] <= 1.0  # seen at the next look, not at the end of the pause
    assert state.aborted is True and state.phase == rel.DEGRADED
    assert "INC-1" in state.message and "alice@lb1" in state.message
    # after the abort, the walker never routed to the canary again
    assert router.updates[-1]["canary_weight"] == 0 and router.updates[-1]["active"] is False
    assert [u["canary_weight"] for u in router.updates] == [0, 10, 0]
    events = [e["event"] for e in router.state.history]
    assert events[-1] == "aborted" and router.state.history[-1]["by"] == "alice@lb1"


def test_a_pause_during_a_timed_pause_holds_the_weight_until_a_resume():
    router = MemoryRouter()
    sleep, _done = operator_at(clock() + 30, "pause", router, by="bob@lb1")
    r = walker(router, PLAN, sleep=sleep)
    r.begin("v1", "v2")
    state = r.run()
    assert state.phase == rel.PAUSED and state.canary_weight == 10 and "bob@lb1" in state.message
    assert router.routing.canary_weight == 10 and len(router.updates) == 2
    # a re-run while paused changes nothing; after a resume it walks on to the end
    again = walker(router, PLAN)
    assert again.begin("v1", "v2") is True and again.run().phase == rel.PAUSED and again.changed is False
    person = rel.Release(router, clock=clock, sleep=clock.sleep)
    with person.operator():
        person.resume(by="bob@lb1")
    assert walker(router, PLAN).run().phase == rel.HEALTHY
    assert router.routing.canary_weight == 100


def test_a_manual_promote_or_skip_during_a_pause_is_taken_into_account():
    router = MemoryRouter()
    sleep, _done = operator_at(clock() + 5, "skip", router, by="carol")
    r = walker(router, PLAN, sleep=sleep)
    r.begin("v1", "v2")
    begun = clock()
    r.run(until=3)  # the 60 s pause skipped after 5 s, then 50%
    assert clock() - begun < 10 and router.state.canary_weight == 50
    assert "step_skipped" in [e["event"] for e in router.state.history]
    sleep, _done = operator_at(clock() + 5, "promote", router, by="carol")
    state = walker(router, PLAN, sleep=sleep).run()
    assert state.phase == rel.HEALTHY and router.routing.canary_weight == 100
    assert router.state.history[-1]["by"] == "carol"


def test_an_abort_that_lands_between_the_walkers_read_and_write_is_obeyed():
    """Kubernetes has no mutex across processes: the walker's write meets a conflict, reads again, and
    puts the router back to what the person decided."""
    class Racing(MemoryRouter):
        def reconcile(self, routing):
            change = super(Racing, self).reconcile(routing)
            if routing.canary_weight == 50 and not self.state.aborted:
                person = rel.Release(self, clock=clock, sleep=clock.sleep)
                with person.operator():
                    person.abort("racing abort", by="dave")
            return change
    router = Racing()
    r = walker(router, [{"setWeight": 10}, {"setWeight": 50}, {"setWeight": 100}])
    r.begin("v1", "v2")
    state = r.run()
    assert state.aborted is True and "dave" in state.message
    assert router.routing.canary_weight == 0 and router.routing.active is False


def test_an_error_in_the_middle_of_a_walk_aborts_to_stable_and_says_why():
    def broken(step, state, sleep=None):
        raise TypeError("'<' not supported between instances of 'str' and 'int'")
    router = MemoryRouter()
    r = walker(router, [{"setWeight": 10}, {"analysis": {}}, {"setWeight": 100}], analyze=broken)
    r.begin("v1", "v2")
    state = r.run()
    assert state.aborted is True and router.routing.canary_weight == 0
    assert "error at step 2/3 (analysis): TypeError" in state.message
    # on_error: pause holds the weight for a person instead
    router = MemoryRouter()
    r = walker(router, [{"setWeight": 10}, {"analysis": {}}, {"setWeight": 100}], analyze=broken, on_error="pause")
    r.begin("v1", "v2")
    state = r.run()
    assert state.phase == rel.PAUSED and router.routing.canary_weight == 10 and "TypeError" in state.message


def test_a_walker_whose_controller_went_away_stops_where_it_is_and_a_rerun_resumes():
    router = MemoryRouter()
    gone_at = clock() + 12
    r = walker(router, PLAN, alive=lambda: clock() < gone_at)
    r.begin("v1", "v2")
    with pytest.raises(rel.ReleaseError, match="controller went away"):
        r.run()
    assert router.state.phase == rel.PROGRESSING and router.state.step_index == 1
    assert router.state.history[-1]["event"] == "walker_stopped" and router.routing.canary_weight == 10
    assert walker(router, PLAN).run().phase == rel.HEALTHY


def test_an_abort_of_an_aborted_release_routes_again():
    router = MemoryRouter()
    r = walker(router, PLAN, analyze=verdicts("Failed"))
    r.begin("v1", "v2")
    with r.operator():
        r.abort("first", by="erin")
    router.routing = Routing(40)  # the router was changed behind our back (or the addresses were wrong)
    again = rel.Release(router, clock=clock, sleep=clock.sleep)
    with again.operator():
        again.abort("again", by="erin")
    assert router.routing.canary_weight == 0 and router.routing.active is False and again.changed is True
    assert [e["event"] for e in router.state.history].count("aborted") == 1


@pytest.mark.parametrize("step,message", [
    ({"setWeight": "10"}, "integer from 0 to 100, got '10'"),
    ({"setWeight": 10.0}, "integer"),
    ({"pause": "5m"}, "pause must be a mapping"),
    ("setWeight: 10", "must be a mapping"),
    ({"pause": {"duration": True}}, "pause duration"),
])
def test_plans_with_wrong_types_are_refused_before_anything_runs(step, message):
    with pytest.raises(rel.ReleaseError, match=message):
        rel.validate_plan([step], "canary")


# ---------------------------------------------------------------- the guard: fail fast, pass slow (issue 13)

def guard_of(phases_by_check, interval=5, failures=2):
    """A Guard whose measurements answer the given phases in turn (one list entry a check)."""
    from ansible_collections.progressive.delivery.plugins.module_utils.guard import Guard
    answers = list(phases_by_check)

    def measure(state):
        phase = answers.pop(0) if answers else "Successful"
        return [{"name": "success-rate", "phase": phase, "message": "",
                 "measurements": [{"value": "[0.7]" if phase == "Failed" else "[0.999]", "number": [0.7]}]}]
    return Guard(measure, interval, failures, clock=clock)


GUARDED = [{"setWeight": 10}, {"pause": {"duration": "5m"}}, {"analysis": {}}, {"setWeight": 50},
           {"pause": {"duration": "5m"}}, {"analysis": {}}, {"setWeight": 100}]


def test_the_guard_aborts_a_bad_canary_long_before_its_pause_ends():
    router = MemoryRouter()
    r = walker(router, GUARDED, analyze=verdicts("Successful", "Successful"),
               guard=guard_of(["Error", "Failed", "Failed"]))
    r.begin("v1", "v2")
    started = clock()
    state = r.run()
    assert state.aborted and router.routing.canary_weight == 0
    assert clock() - started < 20  # three looks 5 s apart, not the 5-minute pause
    assert state.time_to_detect_s <= 10.0
    tripped = state.events("guard_tripped")[0]
    assert tripped["metric"] == "success-rate" and [m["value"] for m in tripped["measurements"]] == ["[0.7]"] * 2
    assert state.events("aborted")[0]["by"] == "guard" and "guard: success-rate failed 2" in state.message
    assert not state.events("analysis")  # the step analysis never had to run


def test_the_guard_never_aborts_a_healthy_canary_nor_promotes_it_early():
    router = MemoryRouter()
    r = walker(router, GUARDED, analyze=verdicts("Successful", "Successful"),
               guard=guard_of(["Failed", "Successful", "Failed", "Error", "Successful"] * 30))
    r.begin("v1", "v2")
    started = clock()
    state = r.run()
    assert state.phase == rel.HEALTHY
    assert clock() - started >= 600 + 6  # both pauses and both analyses: the plan's own time, never less
    assert not state.events("guard_tripped")


def test_a_person_promote_during_a_pause_stands_against_the_guard():
    router = MemoryRouter()
    sleep, _done = operator_at(clock() + 3, "promote", router, by="frank")
    r = walker(router, GUARDED, sleep=sleep, guard=guard_of(["Failed"] * 10, interval=5))
    r.begin("v1", "v2")
    state = r.run()
    assert state.phase == rel.HEALTHY and not state.aborted


def test_every_decision_keeps_its_evidence_and_the_report_draws_the_thresholds():
    from ansible_collections.progressive.delivery.plugins.module_utils import report_html

    def failing(step, state, sleep=None):
        clock.sleep(3)
        return {"phase": "Failed", "message": "success-rate failed", "metrics": [
            {"name": "success-rate", "phase": "Failed", "success_condition": "len(result) > 0 && result[0] >= 0.95",
             "measurements": [{"value": "[0.71]", "number": [0.71]}]}]}
    router = MemoryRouter()
    r = walker(router, [{"setWeight": 20}, {"analysis": {}}, {"setWeight": 100}], analyze=failing)
    r.begin("v1", "v2")
    state = r.run()
    analysis = state.events("analysis")[0]
    assert analysis["conditions"] == {"success-rate": {"success": "len(result) > 0 && result[0] >= 0.95"}}
    assert analysis["numbers"] == {"success-rate": [0.71]} and analysis["values"] == {"success-rate": "[0.71]"}
    assert state.thresholds() == {"success-rate": [0.95]} and state.decided_by() == "analysis"
    page = report_html.release_html(state)
    assert "threshold 0.95" in page and "decided by analysis" in page


def test_the_guard_takes_no_data_for_no_evidence():
    """histogram_quantile over no traffic is NaN, and `result[0] < 0.25` is then false (Failed): the step
    analysis fails closed on it, the guard must not abort on it."""
    from ansible_collections.progressive.delivery.plugins.module_utils.guard import Guard

    def measure(state):
        return [{"name": "latency-p99", "phase": "Failed", "message": "",
                 "measurements": [{"value": "[NaN]", "number": [None]}]},
                {"name": "success-rate", "phase": "Failed", "message": "query returned no data",
                 "measurements": [{"value": "[]", "number": []}]}]
    router = MemoryRouter()
    r = walker(router, [{"setWeight": 10}, {"pause": {"duration": "60s"}}, {"setWeight": 100}],
               guard=Guard(measure, 5, 2, clock=clock))
    r.begin("v1", "v2")
    assert r.run().phase == rel.HEALTHY and r.guard.checks >= 12


def failing_analysis(step, state, sleep=None):
    clock.sleep(3)
    return {"phase": "Failed", "message": "success-rate failed", "metrics": [
        {"name": "success-rate", "phase": "Failed", "success_condition": "len(result) > 0 && result[0] >= 0.95",
         "measurements": [{"value": "[0.71]", "number": [0.71]}]},
        {"name": "latency-p95", "phase": "Successful", "success_condition": "result[0] < 0.25",
         "measurements": [{"value": "[0.1234567]", "number": [0.1234567]}]}]}


HELD_PLAN = [{"setWeight": 20}, {"analysis": {}}, {"setWeight": 100}]


def test_on_failure_pause_holds_the_canary_at_its_weight_and_names_the_failed_check():
    router = MemoryRouter()
    r = walker(router, HELD_PLAN, analyze=failing_analysis, on_failure="pause")
    r.begin("v1", "v2")
    state = r.run()  # no guard: the walker returns at once, the canary held
    assert state.phase == rel.PAUSED and not state.aborted and router.routing.canary_weight == 20
    assert state.verdict == "paused" and state.message.startswith(rel.FAILED_HELD)
    assert "success-rate=0.71 not >= 0.95" in state.message and "latency" not in state.message
    assert "router_step action=abort" in state.message and "held at 20%" in state.message
    lines = state.timeline()
    assert lines[2].startswith("latency-p95=0.1235 (< 0.25); success-rate=0.71 not >= 0.95: Failed - ")
    assert lines[3].startswith("PAUSED: analysis Failed (success-rate=0.71 not >= 0.95), held at 20%: router_step")
    # a person's resume goes on past the failed analysis; the default still aborts
    person = rel.Release(router, clock=clock, sleep=clock.sleep)
    with person.operator():
        person.resume(by="carol")
    assert walker(router, HELD_PLAN, analyze=failing_analysis, on_failure="pause").run().phase == rel.HEALTHY
    other = MemoryRouter()
    aborted = walker(other, HELD_PLAN, analyze=failing_analysis)
    aborted.begin("v1", "v2")
    assert aborted.run().aborted and other.routing.canary_weight == 0


def test_a_held_failure_shows_the_step_of_the_failed_analysis_one_based_even_the_last():
    from ansible_collections.progressive.delivery.plugins.module_utils import status_view
    router = MemoryRouter()
    plan = [{"setWeight": 20}, {"analysis": {}}, {"setWeight": 50}, {"analysis": {}}]
    r = walker(router, plan, analyze=failing_analysis, on_failure="pause")
    r.begin("v1", "v2")
    for number in (2, 4):  # held at the first analysis, a person resumes, held at the last one
        state = r.run()
        assert state.phase == rel.PAUSED and "analysis Failed at step %d/4 (" % number in state.message
        view = status_view.from_release_state(state.to_dict(), "checkout", "memory", (80, 20))
        assert view["step"] == {"index": number - 1, "number": number, "count": 4, "text": "analysis"}
        assert "step       %d/4  analysis" % number in status_view.render(view)
        assert view["analysis"]["name"] == "step %d/4" % number
        r.resume()


def test_a_held_canary_stays_watched_by_the_guard_which_still_aborts_it():
    router = MemoryRouter()
    r = walker(router, HELD_PLAN, analyze=failing_analysis, on_failure="pause",
               guard=guard_of(["Successful"] * 3 + ["Failed"] * 5, interval=5))
    r.begin("v1", "v2")
    state = r.run()
    assert state.aborted and router.routing.canary_weight == 0
    assert [e["event"] for e in state.history][-4:] == ["analysis", "paused", "guard_tripped", "aborted"]
    assert state.events("paused")[0]["reason"] == rel.FAILED_HELD and state.decided_by() == "guard"


def test_a_held_canary_with_a_guard_waits_for_a_person():
    router = MemoryRouter()
    sleep, done = operator_at(clock() + 40, "abort", router, reason="looked at it", by="dave")
    r = walker(router, HELD_PLAN, analyze=failing_analysis, on_failure="pause", sleep=sleep,
               guard=guard_of(["Successful"] * 100, interval=5))
    r.begin("v1", "v2")
    state = r.run()
    assert done and state.aborted and state.decided_by() == "dave"
    assert "paused" in [e["event"] for e in state.history]


def test_the_timeline_reads_as_the_operator_s_steps():
    router = MemoryRouter()
    r = walker(router, [{"setWeight": 25}, {"pause": {"duration": "64s"}}, {"analysis": {}}, {"setWeight": 100}],
               analyze=verdicts("Successful"))
    r.begin("v1", "v2")
    state = r.run()
    assert [line.rsplit("; ", 1)[0] for line in state.timeline()] == [
        "started v2 (over v1)", "25% set", "holding 1m04s at 25%", "success-rate=0.99: Successful", "100% set",
        "PROMOTED v2: 100% on it"]
    assert state.timeline()[-1].endswith("; 1m07s")
    assert evidence.step_text({"pause": {}}) == "pause (until resumed)"
    assert evidence.step_text({"analysis": {"templates": [{"templateName": "slo"}]}}) == "analysis slo"


def test_a_walk_by_steps_returns_when_it_holds_and_the_next_call_holds_with_the_guard():
    router = MemoryRouter()
    r = walker(router, HELD_PLAN, analyze=failing_analysis, on_failure="pause",
               guard=guard_of(["Successful"] * 3 + ["Failed"] * 5, interval=5))
    r.begin("v1", "v2")
    state = r.run(until=2)  # the role's step call: back at once, held, so the timeline shows it
    assert state.phase == rel.PAUSED and r.holding() and not state.events("guard_tripped")
    again = walker(router, HELD_PLAN, analyze=failing_analysis, on_failure="pause",
                   guard=guard_of(["Failed"] * 5, interval=5))
    state = again.run(until=2)  # the hold call: the guard watches, and aborts on evidence
    assert state.aborted and state.decided_by() == "guard"


def test_the_split_measured_after_a_pause_is_shown_and_never_decides():
    asked = []

    def traffic(state):
        asked.append(state.canary_weight)
        if len(asked) == 2:
            raise RuntimeError("Prometheus said no")
        return {"requests": 812, "canary_share": 0.2412}
    router = MemoryRouter()
    r = walker(router, [{"setWeight": 25}, {"pause": {"duration": "10s"}}, {"setWeight": 50},
                        {"pause": {"duration": "10s"}}, {"setWeight": 100}], traffic=traffic)
    r.begin("v1", "v2")
    state = r.run()
    assert state.phase == rel.HEALTHY and asked == [25, 50]
    lines = [line.rsplit("; ", 1)[0] for line in state.timeline()]
    assert "25% set, 24.1% measured of 812 requests" in lines
    assert "50% set, split not measured (RuntimeError: Prometheus said no)" in lines
