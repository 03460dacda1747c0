"""The fleet release as data (issue 15): the wave plan validated with errors that name the fix, and the fleet's
verdict - the first red stops later waves, same-wave targets held or aborted, promoted targets kept or rolled
back, and targets done by an earlier run report no change."""

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import fleet

PLAN = [["eu-canary"], ["eu-1", "eu-2"], ["us-1"]]


def test_a_list_plan_is_kept_in_order():
    assert fleet.build_plan(waves=PLAN) == PLAN
    assert fleet.wave_sizes(PLAN) == [1, 2, 1]
    assert fleet.ordered_targets(PLAN) == ["eu-canary", "eu-1", "eu-2", "us-1"]


def test_a_plan_from_inventory_groups_follows_the_group_order():
    groups = {"all": ["a", "b", "c"], "wave2": ["b", "c"], "wave1": ["a"]}
    assert fleet.build_plan(wave_groups=["wave1", "wave2"], groups=groups) == [["a"], ["b", "c"]]


@pytest.mark.parametrize("kwargs, message", [
    (dict(waves=[["a"], ["b", "a"]]), "target 'a' is in wave 1 and in wave 2"),
    (dict(waves=[["a"], []]), "wave 2 is empty"),
    (dict(waves=[["a"], "b"]), "wave 2 must be a list of targets"),
    (dict(waves=[["a", ""]]), "wave 1: a target must be an inventory host name"),
    (dict(waves=[]), "no wave plan: set fleet_release_waves"),
    (dict(wave_groups=["wave1", "nope"], groups={"wave1": ["a"], "all": ["a"]}),
     "wave 2: unknown inventory group 'nope'; known groups: wave1"),
    (dict(waves=[["a"]], wave_groups=["w"]), "not both"),
    (dict(waves=[["a"], ["b", "x"]], groups={"all": ["a", "b"]}), "wave 2: 'x' not in the inventory"),
])
def test_a_bad_plan_is_refused_naming_the_wave_and_the_fix(kwargs, message):
    with pytest.raises(fleet.FleetPlanError, match=message.replace("(", r"\(")):
        fleet.build_plan(**kwargs)


def test_every_target_green_is_a_promoted_fleet():
    results = {"eu-canary": "promoted", "eu-1": "promoted", "eu-2": "promoted", "us-1": "promoted"}
    verdict = fleet.fleet_verdict(PLAN, results, "v2")
    assert verdict["verdict"] == "promoted" and verdict["changed"] and verdict["stopped_at_wave"] is None
    assert {t: e["runs"] for t, e in verdict["targets"].items()} == dict.fromkeys(results, "v2")
    assert fleet.next_wave(PLAN, results) is None


def test_the_first_red_stops_later_waves_and_keeps_promoted_targets_by_default():
    results = {"eu-canary": "promoted", "eu-1": "rolled_back", "eu-2": "in_progress"}
    verdict = fleet.fleet_verdict(PLAN, results, "v3")
    assert verdict["verdict"] == "stopped" and verdict["stopped_at_wave"] == 2
    assert verdict["reason"] == "eu-1 failed in wave 2"
    targets = verdict["targets"]
    assert targets["eu-1"]["runs"] == "stable" and targets["eu-1"]["action"] == "rolled back by its own analysis"
    assert targets["eu-2"]["action"] == "held" and "fleet_release_on_same_wave=hold" in targets["eu-2"]["why"]
    assert targets["eu-canary"]["action"] == "keep" and targets["eu-canary"]["runs"] == "v3"
    assert "paged" in targets["eu-canary"]["why"]
    assert targets["us-1"]["action"] == "not started" and "later waves do not start" in targets["us-1"]["why"]
    assert fleet.next_wave(PLAN, results) == 2


def test_a_target_the_fleet_held_says_at_which_weight_and_how_to_go_on():
    results = {"eu-canary": "promoted", "eu-1": "rolled_back", "eu-2": "paused"}
    entry = fleet.fleet_verdict(PLAN, results, "v3", details={"eu-2": {"weight": 25}})["targets"]["eu-2"]
    assert (entry["runs"], entry["action"]) == ("canary split", "held at 25%")
    assert entry["why"] == ("eu-1 failed in wave 2; held at 25% before its next step "
                            "(fleet_release_on_same_wave=hold) - router_step action=resume or abort")


def test_configured_abort_and_rollback():
    results = {"eu-canary": "promoted", "eu-1": "rolled_back", "eu-2": "aborted"}
    verdict = fleet.fleet_verdict(PLAN, results, "v3", on_same_wave="abort", on_promoted="rollback",
                                  rolled_back=["eu-canary"])
    targets = verdict["targets"]
    # the fleet's abort is not a red of its own: the reason names only the target that failed
    assert verdict["reason"] == "eu-1 failed in wave 2"
    assert (targets["eu-2"]["action"], targets["eu-2"]["runs"]) == ("aborted by the fleet", "stable")
    assert "fleet_release_on_same_wave=abort" in targets["eu-2"]["why"]
    assert (targets["eu-canary"]["action"], targets["eu-canary"]["runs"]) == ("rolled back by the fleet", "stable")
    # a promoted target the rollback did not reach is said so, with the version it still runs
    targets = fleet.fleet_verdict(PLAN, results, "v3", on_promoted="rollback")["targets"]
    assert (targets["eu-canary"]["action"], targets["eu-canary"]["runs"]) == ("roll back failed", "v3")


def test_a_wave_released_alone_keeps_its_number_in_the_plan():
    verdict = fleet.fleet_verdict([["eu-1", "eu-2"]], {"eu-1": "rolled_back"}, "v3", numbers=[2])
    assert verdict["stopped_at_wave"] == 2 and verdict["reason"] == "eu-1 failed in wave 2"
    assert [line.split(":")[0] for line in fleet.summary_lines(verdict)[1:]] == ["wave 2 eu-1", "wave 2 eu-2"]
    with pytest.raises(fleet.FleetPlanError, match="one per wave"):
        fleet.fleet_verdict([["eu-1"]], {}, "v3", numbers=[1, 2])


SERVICES = [{"name": "orders", "version": "v2", "waves": [["orders-eu1"], ["orders-us1", "orders-us2"]]},
            {"name": "payments-worker", "version": "v7", "wave_groups": ["pay-canary", "pay-rest"]}]
GROUPS = {"all": ["orders-eu1", "orders-us1", "orders-us2", "pay-1", "pay-2"], "pay-canary": ["pay-1"],
          "pay-rest": ["pay-2"]}


def test_several_services_are_one_plan_in_their_stated_order_each_wave_labelled():
    waves, services, versions = fleet.build_services_plan(SERVICES, GROUPS)
    assert waves == [["orders-eu1"], ["orders-us1", "orders-us2"], ["pay-1"], ["pay-2"]]
    assert services == ["orders", "orders", "payments-worker", "payments-worker"]
    assert versions == {"orders-eu1": "v2", "orders-us1": "v2", "orders-us2": "v2", "pay-1": "v7", "pay-2": "v7"}


def test_a_red_wave_of_the_first_service_stops_the_next_service():
    waves, services, versions = fleet.build_services_plan(SERVICES, GROUPS)
    verdict = fleet.fleet_verdict(waves, {"orders-eu1": "promoted", "orders-us1": "rolled_back",
                                          "orders-us2": "aborted"}, "orders v2, payments-worker v7",
                                  on_same_wave="abort", services=services, versions=versions)
    assert verdict["reason"] == "orders-us1 failed in wave 2 (orders)"
    assert verdict["services"] == {"orders": {"version": "v2", "verdict": "stopped"},
                                   "payments-worker": {"version": "v7", "verdict": "not_started"}}
    lines = fleet.summary_lines(verdict)
    assert lines[1:3] == ["service orders v2: stopped", "service payments-worker v7: not_started"]
    assert lines[3].startswith("wave 1 (orders) orders-eu1: runs v2, keep")
    assert lines[6] == ("wave 3 (payments-worker) pay-1: runs stable, not started - orders-us1 failed in wave 2 "
                        "(orders); later waves do not start")
    green = dict.fromkeys(versions, "promoted")
    verdict = fleet.fleet_verdict(waves, green, "orders v2, payments-worker v7", services=services,
                                  versions=versions)
    assert verdict["verdict"] == "promoted" and verdict["targets"]["pay-2"]["runs"] == "v7"
    assert {s["verdict"] for s in verdict["services"].values()} == {"promoted"}
    page = fleet.fleet_html(fleet.fleet_report(verdict))
    assert "<td>wave 3 (payments-worker)</td>" in page and "<td>payments-worker</td>" in page


@pytest.mark.parametrize("services, message", [
    ([], "fleet_release_services must be a list of services in release order"),
    ([{"name": "orders", "version": "v2"}], "service orders: no wave plan"),
    ([{"name": "orders", "waves": [["a"]]}], r"item 1 \(orders\): version must be a non-empty string"),
    ([{"name": "orders", "version": "v2", "wave": [["a"]]}], "unknown key wave"),
    ([{"name": "o", "version": "v2", "waves": [["a"]]}, {"name": "o", "version": "v3", "waves": [["b"]]}],
     "service 'o' is listed twice"),
    ([{"name": "o", "version": "v2", "waves": [["a"]]}, {"name": "p", "version": "v3", "waves": [["a"]]}],
     "target 'a' is in wave 1 and in wave 2"),
    (["orders"], "item 1 must be a dict"),
])
def test_a_bad_service_list_is_refused_naming_the_service_and_the_fix(services, message):
    with pytest.raises(fleet.FleetPlanError, match=message):
        fleet.build_services_plan(services)


def test_a_red_canary_wave_never_touches_the_next_waves():
    verdict = fleet.fleet_verdict(PLAN, {"eu-canary": "rolled_back"}, "v3")
    assert verdict["stopped_at_wave"] == 1
    assert [verdict["targets"][t]["action"] for t in ("eu-1", "eu-2", "us-1")] == ["not started"] * 3


def test_resume_targets_done_before_report_no_change():
    results = dict.fromkeys(fleet.ordered_targets(PLAN), "already_stable")
    verdict = fleet.fleet_verdict(PLAN, results, "v2")
    assert verdict["verdict"] == "already_stable" and not verdict["changed"]
    assert {e["action"] for e in verdict["targets"].values()} == {"no change"}
    # half done: the first wave done before, the next one released now
    verdict = fleet.fleet_verdict(PLAN, {"eu-canary": "already_stable", "eu-1": "promoted", "eu-2": "promoted"}, "v2")
    assert verdict["verdict"] == "in_progress" and verdict["changed"]
    assert verdict["targets"]["us-1"]["why"] == "its wave has not started yet"


def test_bad_choices_and_unknown_verdicts_are_refused():
    with pytest.raises(fleet.FleetPlanError, match="fleet_release_on_same_wave must be one of hold, abort"):
        fleet.fleet_verdict(PLAN, {}, "v2", on_same_wave="ignore")
    with pytest.raises(fleet.FleetPlanError, match="target 'eu-1': unknown release verdict 'great'"):
        fleet.fleet_verdict(PLAN, {"eu-1": "great"}, "v2")


def test_the_report_says_which_target_runs_which_version_and_why():
    lines = fleet.summary_lines(fleet.fleet_verdict(PLAN, {"eu-canary": "rolled_back"}, "v3"))
    assert lines[0] == "fleet release of v3: stopped - eu-canary failed in wave 1"
    assert lines[2] == ("wave 2 eu-1: runs stable, not started - eu-canary failed in wave 1; later waves do not "
                        "start")


def test_a_target_red_during_the_soak_stops_the_fleet_and_pages():
    results = {"eu-canary": "unhealthy"}
    verdict = fleet.fleet_verdict(PLAN, results, "v2")
    assert verdict["stopped_at_wave"] == 1 and verdict["verdict"] == "stopped"
    assert verdict["targets"]["eu-canary"]["runs"] == "v2" and verdict["targets"]["eu-canary"]["action"] == "page"


def test_the_fleet_report_lists_every_target_in_wave_order_with_its_step_and_times_on_one_page():
    verdict = fleet.fleet_verdict(PLAN, {"eu-canary": "promoted", "eu-1": "rolled_back", "eu-2": "promoted"}, "v3")
    report = fleet.fleet_report(verdict, {"eu-1": {"step": "1/3", "started": "2026-11-30T05:00:00Z",
                                                   "finished": "2026-11-30T05:01:00Z"}}, "2026-11-30T04:59:00Z")
    assert (report["verdict"], report["stopped_at_wave"], report["started"]) == ("stopped", 2, "2026-11-30T04:59:00Z")
    assert [(t["target"], t["wave"], t["runs"], t["verdict"]) for t in report["targets"]] == [
        ("eu-canary", 1, "v3", "promoted"), ("eu-1", 2, "stable", "rolled_back"), ("eu-2", 2, "v3", "promoted"),
        ("us-1", 3, "stable", "not_started")]
    assert report["targets"][1]["step"] == "1/3" and report["targets"][3]["started"] is None
    page = fleet.fleet_html(report)
    assert page.count("<tr>") == 5 and '<p class="summary bad">fleet release of v3: stopped - eu-1 failed' in page
    assert "<td>2026-11-30T05:01:00Z</td>" in page


def test_the_fleet_report_escapes_what_targets_say():
    verdict = fleet.fleet_verdict([["<b>x</b>"]], {"<b>x</b>": "promoted"}, "v2")
    page = fleet.fleet_html(fleet.fleet_report(verdict))
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


def test_the_awx_fleet_workflow_runs_one_wave_a_job_with_an_approval_between_waves():
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import test_awx_files
    (nodes,) = [wf["workflow_nodes"] for _w, wf in test_awx_files.WORKFLOWS if "fleet release workflow" in wf["name"]]
    by_id = {n["identifier"]: n for n in nodes}
    chain, node = [], by_id["wave_1"]
    while node:
        chain.append(node["identifier"])
        following = (node.get("related") or {}).get("success_nodes") or [{}]
        node = by_id.get(following[0].get("identifier"))
    assert chain == ["wave_1", "approve_wave_2", "wave_2", "approve_wave_3", "wave_3"], chain
    assert [by_id["wave_%d" % k]["extra_data"] for k in (1, 2, 3)] == [{"fleet_release_only_wave": k} for k in (1, 2, 3)]
    assert by_id["approve_wave_2"]["unified_job_template"]["type"] == "workflow_approval"


def test_under_rollback_a_target_an_earlier_run_promoted_and_the_rollback_kept_is_reported_kept():
    """on_promoted=rollback: an Argo Rollouts target promoted by an earlier run (already_stable) is kept by the
    rollback (its earlier images are not known) - reported kept, not 'roll back failed'; one the rollback was
    meant to put back but did not is still 'roll back failed'."""
    results = {"eu-canary": "already_stable", "eu-1": "promoted", "eu-2": "rolled_back"}
    verdict = fleet.fleet_verdict(PLAN, results, "v2", on_promoted="rollback", rolled_back=["eu-1"],
                                  kept=["eu-canary"])
    kept = verdict["targets"]["eu-canary"]
    assert (kept["runs"], kept["action"]) == ("v2", "keep"), kept
    assert kept["why"] == ("eu-2 failed in wave 2; promoted by an earlier run, so kept: the rollback puts back only "
                           "what this run promoted (fleet_release_on_promoted=rollback)"), kept
    assert "roll back failed" not in "\n".join(fleet.summary_lines(verdict))
    assert verdict["targets"]["eu-1"]["action"] == "rolled back by the fleet"
    missed = fleet.fleet_verdict(PLAN, results, "v2", on_promoted="rollback", rolled_back=["eu-1"])
    assert missed["targets"]["eu-canary"]["action"] == "roll back failed"


def test_a_fleet_held_by_a_wave_not_promoted_yet_says_which_wave_and_what_to_do():
    verdict = fleet.fleet_verdict(PLAN, {"eu-canary": "promoted", "eu-1": "promoted", "eu-2": "paused"}, "v2")
    assert (verdict["verdict"], verdict["reason"], verdict["held_at_wave"]) == ("in_progress", "", 2), verdict
    assert verdict["held"] == ("held: wave 2 is not promoted yet - eu-2 paused; no later wave starts until it is: "
                               "resume or promote it (or abort it), then run the fleet release again")
    # a wave released alone (one AWX job a wave) keeps its number, and its service
    alone = fleet.fleet_verdict([["eu-1", "eu-2"]], {"eu-1": "in_progress", "eu-2": "promoted"}, "v2",
                                numbers=[2], services=["orders"])
    assert alone["held"].startswith("held: wave 2 (orders) is not promoted yet - eu-1 in_progress;"), alone
    done = fleet.fleet_verdict(PLAN, dict.fromkeys(fleet.ordered_targets(PLAN), "promoted"), "v2")
    assert (done["held_at_wave"], done["held"]) == (None, ""), done


def test_a_held_argo_target_is_told_to_go_on_with_the_plugins_verbs():
    verdict = fleet.fleet_verdict([["c1", "c2"]], {"c1": "paused", "c2": "rolled_back"}, "v2",
                                  details={"c1": {"weight": 20, "continue_with": "rollout_step action=promote or abort"}})
    assert verdict["targets"]["c1"]["why"].endswith("held at 20% before its next step "
                                                    "(fleet_release_on_same_wave=hold) - rollout_step action=promote or abort")
