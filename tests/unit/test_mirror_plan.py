"""The mirror step (issue 17) in the release engine: the plan's setMirrorRoute steps, what the walker asks the
router, the refusal of a router that cannot mirror before anything changes, and the abort that drops the copies in
the same router update as the split. The router is test_release's in-memory stand-in; the real routers render
the mirror against real nginx and the Kubernetes test tier (tests/integration)."""

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import evidence
from ansible_collections.progressive.delivery.plugins.module_utils import release as rel
from ansible_collections.progressive.delivery.plugins.module_utils.release.plan import mirror_of
from ansible_collections.progressive.delivery.plugins.module_utils.routers import Mirror, Routing
from test_release import MemoryRouter, make, verdicts

MIRROR = {"setMirrorRoute": {"name": "dark", "percentage": 20}}
UNMIRROR = {"setMirrorRoute": {"name": "dark"}}
PLAN = [MIRROR, {"pause": {"duration": "10s"}}, {"analysis": {}}, UNMIRROR, {"setWeight": 10}, {"analysis": {}},
        {"setWeight": 100}]


class MirroringRouter(MemoryRouter):
    supports_mirror = True


def test_a_mirror_step_copies_get_and_head_by_default_and_its_removal_is_the_name_alone():
    assert mirror_of(MIRROR).to_dict() == {"name": "dark", "percentage": 20, "methods": ["GET", "HEAD"],
                                           "headers": {}}
    assert mirror_of(UNMIRROR) is None
    named = mirror_of({"setMirrorRoute": {"name": "dark", "match": [
        {"method": {"exact": "GET"}, "headers": {"x-tenant": {"exact": "internal"}}},
        {"method": {"exact": "post"}, "headers": {"x-tenant": {"exact": "internal"}}}]}})
    assert named.methods == ["GET", "POST"] and named.percentage == 100 and named.writes == ["POST"]
    assert named.headers == {"x-tenant": "internal"}
    assert evidence.step_text(MIRROR) == "setMirrorRoute dark 20%"
    assert evidence.step_text(UNMIRROR) == "setMirrorRoute dark removed"


@pytest.mark.parametrize("step,message", [
    ({"setMirrorRoute": {"name": "dark", "percentage": 0}}, "percentage"),
    ({"setMirrorRoute": {"name": "dark", "percentage": "20"}}, "percentage"),
    ({"setMirrorRoute": {"name": "Dark Route", "percentage": 20}}, "setMirrorRoute.name"),
    ({"setMirrorRoute": {"name": "dark", "match": [{"path": {"prefix": "/api"}}]}}, "path is not supported"),
    ({"setMirrorRoute": {"name": "dark", "match": [{"method": {"regex": "G.*"}}]}}, "exactly"),
    ({"setMirrorRoute": {"name": "dark", "match": [{"method": {"exact": "GET"}}, {"headers": {}}]}},
     "in every match entry"),
    ({"setMirrorRoute": {"name": "dark", "services": ["x"]}}, "unknown field services"),
    ({"setMirrorRoute": "dark"}, "must be a mapping"),
])
def test_a_bad_mirror_step_is_refused_with_its_step_and_the_fix(step, message):
    with pytest.raises(rel.ReleaseError, match=message):
        rel.validate_plan([{"setWeight": 10}, step], "canary")


def test_blue_green_has_no_mirror_step():
    with pytest.raises(rel.ReleaseError, match="blue-green release has no setMirrorRoute"):
        rel.validate_plan([MIRROR, {"setWeight": 100}], "blueGreen")


def test_the_mirror_phase_copies_while_users_stay_on_stable_then_the_split_goes_on_without_copies():
    router = MirroringRouter()
    r = make(PLAN, analyze=verdicts("Successful", "Successful"), router=router)
    assert r.begin("v1", "v2") is True
    state = r.run()
    assert state.phase == rel.HEALTHY and state.mirror is None
    seen = [(u["canary_weight"], (u.get("mirror") or {}).get("percentage")) for u in router.updates]
    assert seen == [(0, None), (0, 20), (0, None), (10, None), (100, None)]
    texts = [evidence.event_text(e) for e in state.history]
    assert "mirroring 20% of GET/HEAD to the canary (dark), its answers discarded" in texts
    assert "mirror dark removed" in texts


def test_an_abort_during_the_mirror_phase_removes_the_copies_in_one_router_update():
    router = MirroringRouter()
    r = make(PLAN, analyze=verdicts("Failed"), router=router)
    r.begin("v1", "v2")
    state = r.run()
    assert state.aborted and state.mirror is None and state.step_index == 2
    assert router.updates[-2]["mirror"]["percentage"] == 20
    assert "mirror" not in router.updates[-1] and router.updates[-1]["active"] is False
    assert state.time_to_detect_s is not None  # counted from the first copy


def test_a_router_that_cannot_mirror_refuses_the_plan_before_anything_changes():
    router = MemoryRouter()
    r = make(PLAN, analyze=verdicts(), router=router)
    refusal = r"memory router of release 'checkout' cannot mirror traffic \(setMirrorRoute dark\): remove the"
    with pytest.raises(rel.ReleaseError, match=refusal):
        r.begin("v1", "v2")
    assert router.updates == [] and router.store.state is None


def test_a_routing_drops_its_mirror_when_aborted_or_at_a_hundred_percent():
    mirror = Mirror("dark", 30)
    assert Routing(0, True, mirror=mirror).mirror == mirror
    assert Routing(0, False, mirror=mirror).mirror is None
    assert Routing(100, True, mirror=mirror).mirror is None
    assert Routing.from_dict(Routing(5, True, mirror=mirror).to_dict()).mirror == mirror
    assert "mirror" not in Routing(5).to_dict()  # what routers saved before mirroring existed reads the same


def test_a_dark_mirror_phase_serves_no_user_from_the_canary_cohorts_included():
    mirror = Mirror("dark", 50)
    dark = Routing(0, True, always_canary=["internal"], never_canary=["enterprise"], mirror=mirror)
    assert dark.dark and dark.cohort_targets() == {"internal": "stable", "enterprise": "stable"}
    # once users are split onto the canary, the internal cohort is again always on it
    split = Routing(10, True, always_canary=["internal"], mirror=mirror)
    assert not split.dark and split.cohort_targets() == {"internal": "canary"}
    assert Routing(0, True, always_canary=["internal"]).cohort_targets() == {"internal": "canary"}


def test_a_plan_that_mirrors_first_is_dark_from_its_start_to_its_first_weight():
    assert rel.plan.dark_until(PLAN) == 4 and rel.plan.dark_until([{"setWeight": 10}, MIRROR]) is None
    assert rel.plan.dark_until([{"setWeight": 0}, MIRROR, {"setWeight": 100}]) == 2
    router = MirroringRouter()
    cohorts = {"always_canary": ["internal"]}
    r = make(PLAN, analyze=verdicts("Successful", "Successful"), router=router, cohorts=cohorts)
    r.begin("v1", "v2")
    r.run()
    internal = [(u["canary_weight"], "mirror" in u, Routing.from_dict(dict(u, **cohorts)).cohort_targets()["internal"])
                for u in router.updates]
    # started, mirror set, mirror removed: all dark; from the first weight the internal cohort is on the canary
    assert internal == [(0, False, "stable"), (0, True, "stable"), (0, False, "stable"), (10, False, "canary"),
                        (100, False, "canary")]


@pytest.mark.parametrize("steps,message", [
    ([UNMIRROR, {"setWeight": 10}], r"step 0: setMirrorRoute removes the mirror 'dark', but no mirror is set"),
    ([MIRROR, {"setMirrorRoute": {"name": "other"}}],
     r"step 1: setMirrorRoute removes the mirror 'other', but mirror 'dark' \(step 0\) is the one set"),
    ([MIRROR, UNMIRROR, UNMIRROR], r"step 2: .* but no mirror is set at that point"),
    ([MIRROR, {"setMirrorRoute": {"name": "second", "percentage": 5}}],
     r"step 1: setMirrorRoute 'second' while mirror 'dark' \(step 0\) is set: this controller copies to one mirror "
     r"at a time; remove 'dark' first \(\{setMirrorRoute: \{name: dark\}\}\)"),
])
def test_one_mirror_at_a_time_a_removal_names_the_mirror_set_and_a_second_mirror_is_refused(steps, message):
    with pytest.raises(rel.ReleaseError, match=message):
        rel.validate_plan(steps, "canary")


def test_the_mirror_set_may_change_under_its_own_name_and_a_new_one_follows_its_removal():
    steps = [MIRROR, {"setMirrorRoute": {"name": "dark", "percentage": 50}}, UNMIRROR,
             {"setMirrorRoute": {"name": "second", "percentage": 30}}, {"setWeight": 10}, {"setMirrorRoute": {"name": "second"}}]
    assert rel.validate_plan(steps, "canary") == steps


def test_the_walk_and_the_controller_refuse_through_one_check(monkeypatch):
    router = MemoryRouter()
    r = make(PLAN, analyze=verdicts(), router=router)
    with pytest.raises(rel.ReleaseError, match="cannot mirror traffic"):
        r.check_mirrors()
    calls = []

    def checked(release):
        calls.append(release)
    monkeypatch.setattr(rel.Release, "check_mirrors", checked)
    r.begin("v1", "v2")  # the walker's refusal is that method: replaced, the release starts
    assert calls == [r] and router.updates
