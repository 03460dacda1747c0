"""A fleet release (issue 15) on a sandbox fleet of 3 targets on 127.0.0.1 - each its own real nginx and its own
app processes, one real Prometheus: a bad version is rolled back in wave 1 and never reaches wave 2 (its nginx
never routes to a v3 pool); a good version reaches every target wave by wave; re-running it changes nothing.
When one target of a wave goes red, the others of that wave are held or aborted before their next step; the
targets the fleet promoted can be rolled back; several services go in their stated order."""

import json
import os
import time

import harness
from fleet_results import fleet_reports, listed, said

SLO = os.path.join(harness.ROOT, "sandbox", "files", "slo-templates.yaml")
PLAY = "- name: fleet\n  ansible.builtin.import_playbook: %s\n" % os.path.join(
    harness.ROOT, "playbooks", "fleet_release.yml")
TARGETS = ("t1", "t2", "t3")
WAVES = [["t1"], ["t2", "t3"]]
VERSIONS = {"v1": {}, "v2": {}, "v3": dict(error_rate=0.5)}


class Fleet(harness.Fleet):
    """Per target: its own nginx and apps v1 (stable), v2 (good), v3 (bad); one Prometheus scraping all apps."""

    def __init__(self, workdir, versions=None):
        super(Fleet, self).__init__(workdir, TARGETS, versions or VERSIONS, timeout=90)

    def nginx_options(self, target, canary):
        return dict(self.nginx[target].router_options(), listen="127.0.0.1:%d" % self.ports[target],
                    stable=[self.pool(target, "v1")], canary=[self.pool(target, canary)])

    def inventory(self, path, notify=None, own_analysis=False, weights=(50,), pools=None):
        """Each target an inventory host with its own canary_release_* host vars (its own notifications too,
        which the fleet switches off); the canary pool follows the version the fleet releases (``pools``:
        version -> the app version serving it). ``own_analysis``: each target's analysis measures its own apps
        only (the sandbox SLO template with a target matcher), so one target can be red while its peer is green."""
        hosts = {}
        pools = pools or {"v2": "v2", "v3": "v3"}
        for target in TARGETS:
            nginx = dict(self.nginx[target].router_options(), listen="127.0.0.1:%d" % self.ports[target],
                         stable=[self.pool(target, "v1")],
                         canary=["{{ fleet_pools[fleet_release_version] }}"])
            analysis = SLO
            if own_analysis:
                analysis = os.path.join(os.path.dirname(path), "slo-%s.yaml" % target)
                with open(SLO) as f, open(analysis, "w") as own:
                    own.write(f.read().replace('version="{{args.canary-version}}"',
                                               'target="%s",version="{{args.canary-version}}"' % target))
            hosts[target] = {
                "fleet_pools": {v: self.pool(target, app) for v, app in pools.items()},
                "canary_release_name": "shop", "canary_release_stable_version": "v1",
                "canary_release_weights": list(weights), "canary_release_pause": "2s",
                "canary_release_analysis": {"template_file": analysis},
                "canary_release_prometheus_url": self.prometheus.url, "canary_release_nginx": nginx,
                "canary_release_notify": notify or {}}
        with open(path, "w") as f:
            json.dump({"all": {"hosts": hosts}}, f)  # YAML is a superset of JSON
        return path


def nginx_conf(fleet, target):
    conf_dir = fleet.nginx[target].conf_dir
    return "".join(open(os.path.join(conf_dir, n)).read() for n in sorted(os.listdir(conf_dir)))


def recap(out):
    """The play recap of the JSON callback: host -> counts."""
    return json.JSONDecoder().raw_decode(out)[0]["stats"]


def waves_run(out):
    """The batches of the release play as the JSON callback saw them, in order: (targets, start, end, the soak
    gate's phase per target)."""
    batches = []
    for play in json.JSONDecoder().raw_decode(out)[0]["plays"]:
        if play["play"]["name"] != "Release the fleet, one wave a batch":
            continue
        hosts = sorted({h for task in play["tasks"] for h in task["hosts"]})
        gate = {h: r["phase"] for task in play["tasks"] if "After the soak" in task["task"]["name"]
                for h, r in task["hosts"].items() if "phase" in r}
        batches.append((hosts, play["play"]["duration"]["start"], play["play"]["duration"]["end"], gate))
    return batches


def test_a_fleet_release_goes_wave_by_wave_stops_on_the_first_red_and_resumes_with_no_change(
        tmp_path, playbook, grafana):
    import load
    work = str(tmp_path)
    fleet = Fleet(work)
    generators = []
    report_dir = str(tmp_path / "reports")
    channels = {"grafana": {"url": grafana.url, "token": "s3cr3t"}}
    try:
        # each target asks for its own annotations; in the fleet only the fleet's one is sent
        inventory = fleet.inventory(str(tmp_path / "fleet.yml"), notify=channels)
        for target in TARGETS:  # each target's nginx serves the stable pool before the fleet release
            playbook(harness.task("router_step", {"release": "shop", "router": "nginx", "action": "set_weight",
                                                  "weight": 0, "nginx": fleet.nginx_options(target, "v2")}),
                     expect_rc=0)
            generators.append(load.LoadGenerator("127.0.0.1", fleet.ports[target], rps=20, max_seconds=600,
                                                 max_requests=12000, workers=2).start())
        harness.wait_for(lambda: fleet.prometheus.query(
            'count(sum by (target) (rate(http_requests_total{app="fleet",version="v1"}[10s])) > 0) == 3'),
            90, "traffic on every target in Prometheus")

        # a bad version: rolled back by its own release in wave 1, and wave 2 never starts
        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars={
            "fleet_release_version": "v3", "fleet_release_waves": WAVES, "fleet_release_soak": "2s",
            "fleet_release_report_dir": report_dir, "fleet_release_notify": channels})
        assert rc != 0, out[-4000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        assert lines[0] == "fleet release of v3: stopped - t1 failed in wave 1", lines
        assert lines[1].startswith("wave 1 t1: runs stable, rolled back by its own analysis"), lines
        assert lines[2].startswith("wave 2 t2: runs stable, not started - t1 failed in wave 1"), lines
        assert lines[3].startswith("wave 2 t3: runs stable, not started"), lines
        assert [b[0] for b in waves_run(out)] == [["t1"]], waves_run(out)
        assert fleet.pool("t1", "v3") in nginx_conf(fleet, "t1")  # t1 did route to v3, then back
        for target in ("t2", "t3"):
            assert fleet.pool(target, "v3") not in nginx_conf(fleet, target), target
        status = playbook(harness.task("router_step", {"release": "shop", "router": "nginx", "action": "status",
                                                       "nginx": fleet.nginx_options("t1", "v3")}), expect_rc=0)[1][-1]
        assert status["weights"]["canary"] == 0, status
        # one report for the fleet: every target with its wave, the version it runs and its verdict
        (bad_report,) = fleet_reports(report_dir).values()
        assert bad_report["verdict"] == "stopped" and bad_report["version"] == "v3", bad_report
        assert listed(bad_report) == [("t1", 1, "stable", "rolled_back"), ("t2", 2, "stable", "not_started"),
                                      ("t3", 2, "stable", "not_started")], bad_report
        assert bad_report["targets"][0]["started"] and bad_report["targets"][0]["finished"], bad_report
        # and ONE annotation for the fleet release, not one per target (nor t1's own start and end)
        assert [a["body"]["text"].split(" - {")[0] for a in grafana.annotations] == [lines[0]], grafana.annotations
        assert grafana.annotations[0]["body"]["tags"] == ["progressive-delivery", "fleet-release", "stopped"]

        # a good version: every target, wave by wave
        good = {"fleet_release_version": "v2", "fleet_release_waves": WAVES, "fleet_release_soak": "2s",
                "fleet_release_report_dir": report_dir, "fleet_release_notify": channels}
        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=good)
        assert rc == 0, out[-6000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        assert lines[0] == "fleet release of v2: promoted", lines
        for line, target, wave in zip(lines[1:], ("t1", "t2", "t3"), (1, 2, 2)):
            assert line.startswith("wave %d %s: runs v2, promoted" % (wave, target)), lines
        # wave 2 started after wave 1 was promoted, soaked and passed the analysis gate again
        (wave1, _s1, end1, gate1), (wave2, start2, _e2, gate2) = waves_run(out)
        assert (wave1, wave2) == (["t1"], ["t2", "t3"]) and end1 <= start2, waves_run(out)
        assert gate1 == {"t1": "Successful"} and gate2 == {"t2": "Successful", "t3": "Successful"}, waves_run(out)
        states = {}
        for target in TARGETS:
            states[target] = playbook(harness.task("router_step", {
                "release": "shop", "router": "nginx", "action": "status",
                "nginx": fleet.nginx_options(target, "v2")}), expect_rc=0)[1][-1]
            assert states[target]["weights"]["canary"] == 100 or states[target]["phase"] == "Healthy", states[target]
        assert recap(out)["t1"]["changed"] > 0 and recap(out)["t2"]["changed"] > 0, recap(out)
        good_reports = [r for r in fleet_reports(report_dir).values() if r["version"] == "v2"]
        assert len(good_reports) == 1 and good_reports[0]["verdict"] == "promoted", good_reports
        assert listed(good_reports[0]) == [("t1", 1, "v2", "promoted"), ("t2", 2, "v2", "promoted"),
                                           ("t3", 2, "v2", "promoted")], good_reports
        assert [a["body"]["text"].split(" - {")[0] for a in grafana.annotations[1:]] == [
            "fleet release of v2: promoted"], grafana.annotations

        # re-running the good fleet release changes nothing anywhere
        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=good)
        assert rc == 0, out[-6000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        assert lines[0] == "fleet release of v2: already_stable", lines
        assert all(", no change - already promoted by an earlier run" in line for line in lines[1:]), lines
        assert {host: counts["changed"] for host, counts in recap(out).items()} == dict.fromkeys(
            TARGETS + ("localhost",), 0), recap(out)
        assert len(fleet_reports(report_dir)) == 2 and len(grafana.annotations) == 2, grafana.annotations
    finally:
        for gen in generators:
            gen.stop()
        fleet.stop()


def test_a_bad_wave_plan_is_refused_before_any_target_is_touched(tmp_path, playbook):
    inventory = str(tmp_path / "fleet.yml")
    with open(inventory, "w") as f:
        json.dump({"all": {"hosts": {t: {} for t in TARGETS}}, "wave1": {"hosts": {"t1": {}}}}, f)
    for extra, message in (
            ({"fleet_release_waves": [["t1"], ["t2", "t1"]]}, "target 't1' is in wave 1 and in wave 2"),
            ({"fleet_release_waves": [["t1"], []]}, "wave 2 is empty"),
            ({"fleet_release_waves": [["t1"], ["t2", "t9"]]}, "wave 2: 't9' not in the inventory"),
            ({"fleet_release_wave_groups": ["wave1", "wave9"]}, "wave 2: unknown inventory group 'wave9'"),
            ({"fleet_release_waves": [["t1"]], "fleet_release_soak": "soon"}, "fleet_release_soak: ")):
        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=dict(extra, fleet_release_version="v2"))
        assert rc != 0, out[-3000:]
        failed = [t for t in tasks if t.get("failed")]
        assert len(failed) == 1 and failed[0]["_task"].endswith("Plan the fleet release of v2"), out[-3000:]
        assert message in failed[0]["msg"], failed[0]["msg"]
        assert not [t for t in tasks if t["_play"] != "Plan the fleet release"], out[-3000:]


def test_an_awx_wave_job_releases_only_its_wave_and_a_wave_not_in_the_plan_is_refused(tmp_path, playbook):
    """fleet_release_only_wave (one AWX job a wave): wave 2 runs on t2 and t3 only - here with no router, so
    their releases fail, which is enough to see who ran - and wave 3 of a 2-wave plan touches nothing."""
    inventory = str(tmp_path / "fleet.yml")
    with open(inventory, "w") as f:
        json.dump({"all": {"hosts": {t: {} for t in TARGETS}}}, f)
    plan = {"fleet_release_version": "v2", "fleet_release_waves": WAVES}
    rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=dict(plan, fleet_release_only_wave=2))
    assert rc != 0 and [b[0] for b in waves_run(out)] == [["t2", "t3"]], out[-4000:]
    lines = said(tasks, "Which target runs which version, and why", out)
    assert [line.split(":")[0] for line in lines[1:]] == ["wave 2 t2", "wave 2 t3"], lines
    rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=dict(plan, fleet_release_only_wave=3))
    assert rc != 0, out[-3000:]
    failed = [t for t in tasks if t.get("failed")]
    assert len(failed) == 1 and "fleet_release_only_wave: 3, but the plan has 2 waves" in failed[0]["msg"], out[-3000:]
    assert not [t for t in tasks if t["_play"] != "Plan the fleet release"], out[-3000:]
    # a wave job cannot see what earlier wave jobs promoted, so it cannot roll them back: refused, naming the fix
    rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=dict(
        plan, fleet_release_only_wave=2, fleet_release_on_promoted="rollback"))
    assert rc != 0, out[-3000:]
    failed = [t for t in tasks if t.get("failed")]
    assert len(failed) == 1 and failed[0]["msg"].startswith(
        "fleet_release_on_promoted=rollback with fleet_release_only_wave: 2 - a one-wave job"), out[-3000:]
    assert "progressive.delivery.emergency_rollback" in failed[0]["msg"], failed[0]["msg"]
    assert not [t for t in tasks if t["_play"] != "Plan the fleet release"], out[-3000:]


def serving_stable(fleet, playbook):
    """Every target's nginx serves its stable pool under a bounded load, seen in Prometheus; the load generators."""
    import load
    generators = []
    for target in TARGETS:
        playbook(harness.task("router_step", {"release": "shop", "router": "nginx", "action": "set_weight",
                                              "weight": 0, "nginx": fleet.nginx_options(target, "v2")}),
                 expect_rc=0)
        generators.append(load.LoadGenerator("127.0.0.1", fleet.ports[target], rps=20, max_seconds=600,
                                             max_requests=12000, workers=2).start())
    harness.wait_for(lambda: fleet.prometheus.query(
        'count(sum by (target) (rate(http_requests_total{app="fleet",version="v1"}[10s])) > 0) == 3'),
        90, "traffic on every target in Prometheus")
    return generators


def status(fleet, playbook, target, canary="v2"):
    return playbook(harness.task("router_step", {"release": "shop", "router": "nginx", "action": "status",
                                                 "nginx": fleet.nginx_options(target, canary)}), expect_rc=0)[1][-1]


def ran_on(out, name):
    """Host -> its result, for the hosts a task ran on (not skipped), found by the start of its name (without
    its role)."""
    return {h: r for play in json.JSONDecoder().raw_decode(out)[0]["plays"] for task in play["tasks"]
            if task["task"]["name"].split(" : ")[-1].startswith(name)
            for h, r in task["hosts"].items() if not r.get("skipped")}


def test_a_red_target_holds_its_wave_peer_before_its_next_step_and_the_annotation_is_a_span(
        tmp_path, playbook, grafana):
    """Wave 2 is t2 (its v2 made bad) and t3 (good), walking 25/50/75% in lockstep: t2 fails its first analysis
    and is rolled back; t3 is held at 25% before its next step (never 50%, never 100%), t1 of wave 1 is kept."""
    fleet = Fleet(str(tmp_path))
    generators = []
    channels = {"grafana": {"url": grafana.url, "token": "s3cr3t"}}
    try:
        inventory = fleet.inventory(str(tmp_path / "fleet.yml"), own_analysis=True, weights=(25, 50, 75))
        generators = serving_stable(fleet, playbook)
        fleet.apps["t2", "v2"].control(error_rate=0.6)
        started_ms = int(time.time() * 1000)
        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars={
            "fleet_release_version": "v2", "fleet_release_waves": WAVES, "fleet_release_soak": "2s",
            "fleet_release_notify": channels})
        ended_ms = int(time.time() * 1000)
        assert rc != 0, out[-4000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        assert lines[0] == "fleet release of v2: stopped - t2 failed in wave 2", lines
        assert lines[1].startswith("wave 1 t1: runs v2, keep - t2 failed in wave 2; promoted targets are kept"), lines
        assert lines[2].startswith("wave 2 t2: runs stable, rolled back by its own analysis"), lines
        assert lines[3] == ("wave 2 t3: runs canary split, held at 25% - t2 failed in wave 2; held at 25% before "
                            "its next step (fleet_release_on_same_wave=hold) - router_step action=resume or abort"), lines
        # held by the walk's own stop, before its next step: t3's router stayed at 25%, Paused
        held = status(fleet, playbook, "t3")
        assert (held["phase"], held["weights"]["canary"]) == ("Paused", 25), held
        assert held["state"]["canary_weight"] == 25 and held["state"]["step_index"] < len(held["state"]["steps"])
        stops = ran_on(out, "Stop before the next step")
        assert list(stops) == ["t3"] and stops["t3"]["msg"].startswith("pause shop: Paused"), stops
        assert status(fleet, playbook, "t1")["weights"]["canary"] == 100  # wave 1 kept (the default)
        assert status(fleet, playbook, "t2")["weights"]["canary"] == 0
        # ONE annotation for the fleet release, a span from its start to its end
        (note,) = grafana.annotations
        assert note["body"]["text"].startswith(lines[0]), note
        assert started_ms - 5000 <= note["body"]["time"] < note["body"]["timeEnd"] <= ended_ms + 1000, note
    finally:
        for gen in generators:
            gen.stop()
        fleet.stop()


def test_abort_stops_the_wave_peer_and_rollback_restores_every_target_the_fleet_promoted(tmp_path, playbook):
    """on_same_wave=abort, on_promoted=rollback: t3 (good, wave 2) is aborted before its next step, and t1
    (promoted in wave 1) is put back on stable by the emergency rollback after the release play."""
    fleet = Fleet(str(tmp_path))
    generators = []
    try:
        inventory = fleet.inventory(str(tmp_path / "fleet.yml"), own_analysis=True, weights=(25, 50, 75))
        generators = serving_stable(fleet, playbook)
        fleet.apps["t2", "v2"].control(error_rate=0.6)
        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars={
            "fleet_release_version": "v2", "fleet_release_waves": WAVES, "fleet_release_soak": "2s",
            "fleet_release_on_same_wave": "abort", "fleet_release_on_promoted": "rollback"})
        assert rc != 0, out[-4000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        assert lines[0] == "fleet release of v2: stopped - t2 failed in wave 2", lines
        assert lines[1].startswith("wave 1 t1: runs stable, rolled back by the fleet - t2 failed in wave 2"), lines
        assert lines[2].startswith("wave 2 t2: runs stable, rolled back by its own analysis"), lines
        assert lines[3].startswith("wave 2 t3: runs stable, aborted by the fleet - t2 failed in wave 2; aborted "
                                   "before its next step (fleet_release_on_same_wave=abort)"), lines
        stops = ran_on(out, "Stop before the next step")
        assert list(stops) == ["t3"] and stops["t3"]["msg"].startswith("abort shop: Degraded"), stops
        assert list(ran_on(out, "Abort - 100% to stable in one router update")) == ["t1"], out[-4000:]
        for target in TARGETS:  # every target back on its stable pool
            st = status(fleet, playbook, target)
            assert st["weights"] == {"stable": 100, "canary": 0} and st["state"]["aborted"], (target, st)
        aborted = status(fleet, playbook, "t3")["state"]
        assert "fleet stopped: t2 failed in wave 2" in aborted["message"], aborted
        assert max(e.get("weight") or 0 for e in aborted["history"]) < 100, aborted["history"]
    finally:
        for gen in generators:
            gen.stop()
        fleet.stop()


def test_services_go_in_their_stated_order_and_a_red_first_service_stops_the_next(tmp_path, playbook):
    """orders (t1, then t2) before payments-worker (t3), one playbook: orders v3 (bad) stops in its first wave
    and payments-worker never starts; orders v2 then payments-worker v7 go out in order; a re-run changes nothing."""
    fleet = Fleet(str(tmp_path), dict(VERSIONS, v7={}))  # payments-worker's v7, good
    generators = []
    try:
        inventory = fleet.inventory(str(tmp_path / "fleet.yml"), own_analysis=True,
                                    pools={"v2": "v2", "v3": "v3", "v7": "v7"})
        generators = serving_stable(fleet, playbook)

        def services(orders):
            return {"fleet_release_soak": "2s", "fleet_release_services": [
                {"name": "orders", "version": orders, "waves": [["t1"], ["t2"]]},
                {"name": "payments-worker", "version": "v7", "waves": [["t3"]]}]}

        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=services("v3"))
        assert rc != 0, out[-4000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        assert lines[:3] == ["fleet release of orders v3, payments-worker v7: stopped - t1 failed in wave 1 (orders)",
                             "service orders v3: stopped", "service payments-worker v7: not_started"], lines
        assert lines[5].startswith("wave 3 (payments-worker) t3: runs stable, not started - t1 failed in wave 1 "
                                   "(orders); later waves do not start"), lines
        assert [b[0] for b in waves_run(out)] == [["t1"]], waves_run(out)
        untouched = status(fleet, playbook, "t3")  # payments-worker's release of v7 never started
        assert untouched["state"].get("canary_version") != "v7" and untouched["weights"]["canary"] == 0, untouched

        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=services("v2"))
        assert rc == 0, out[-6000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        assert lines[:3] == ["fleet release of orders v2, payments-worker v7: promoted", "service orders v2: promoted",
                             "service payments-worker v7: promoted"], lines
        assert lines[3:] == [
            "wave 1 (orders) t1: runs v2, promoted - its analysis passed at every step",
            "wave 2 (orders) t2: runs v2, promoted - its analysis passed at every step",
            "wave 3 (payments-worker) t3: runs v7, promoted - its analysis passed at every step"], lines
        runs = waves_run(out)
        assert [b[0] for b in runs] == [["t1"], ["t2"], ["t3"]], runs
        assert runs[0][2] <= runs[1][1] and runs[1][2] <= runs[2][1], runs  # in order, one after the other
        assert status(fleet, playbook, "t3")["state"]["canary_version"] == "v7"
        assert status(fleet, playbook, "t3")["weights"]["canary"] == 100

        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=services("v2"))
        assert rc == 0, out[-6000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        assert lines[0] == "fleet release of orders v2, payments-worker v7: already_stable", lines
        assert {host: counts["changed"] for host, counts in recap(out).items()} == dict.fromkeys(
            TARGETS + ("localhost",), 0), recap(out)
    finally:
        for gen in generators:
            gen.stop()
        fleet.stop()


def test_several_services_and_one_version_together_are_refused(tmp_path, playbook):
    inventory = str(tmp_path / "fleet.yml")
    with open(inventory, "w") as f:
        json.dump({"all": {"hosts": {t: {} for t in TARGETS}}}, f)
    for extra, message in (
            ({"fleet_release_version": "v2", "fleet_release_services": [
                {"name": "orders", "version": "v2", "waves": [["t1"]]}]}, "not both"),
            ({"fleet_release_services": [{"name": "orders", "version": "v2", "waves": [["t1"]]},
                                         {"name": "payments-worker", "version": "v7", "waves": [["t1"]]}]},
             "target 't1' is in wave 1 and in wave 2"),
            ({"fleet_release_waves": WAVES}, "set fleet_release_version")):
        rc, tasks, out = playbook(PLAY, inventory=inventory, extra_vars=extra)
        assert rc != 0, out[-3000:]
        failed = [t for t in tasks if t.get("failed")]
        assert len(failed) == 1 and message in failed[0]["msg"], out[-3000:]
        assert not [t for t in tasks if t["_play"] != "Plan the fleet release"], out[-3000:]


def test_a_soak_gate_that_errs_on_one_target_stops_the_fleet_though_its_peer_passes(tmp_path, playbook):
    """Wave 1 is t1 and t2, both promoted; during the soak t1's analysis template becomes unreadable, so its gate
    errs as a module error (no phase). That is red, not a failed host its peer t2 could pass the wave without:
    t1 is unhealthy, the fleet stops and wave 2 (t3) never starts."""
    fleet = Fleet(str(tmp_path))
    generators = []
    try:
        inventory = fleet.inventory(str(tmp_path / "fleet.yml"), own_analysis=True)
        generators = serving_stable(fleet, playbook)
        running = harness.start_playbook(PLAY, str(tmp_path), inventory=inventory, extra_vars={
            "fleet_release_version": "v2", "fleet_release_waves": [["t1", "t2"], ["t3"]],
            "fleet_release_soak": "60s"})
        try:
            # both promoted: the wave is soaking (60 s), its gate not run yet
            harness.wait_for(lambda: running.proc.poll() is None and all(
                status(fleet, playbook, t)["weights"]["canary"] == 100 for t in ("t1", "t2")), 300,
                "t1 and t2 promoted, their wave soaking")
            with open(str(tmp_path / "slo-t1.yaml"), "w") as f:
                f.write("kind: AnalysisTemplate\nspec: [not, a, template\n")
        finally:
            rc, tasks, out = running.result(timeout=600)
        assert rc != 0, out[-4000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        assert lines[0] == "fleet release of v2: stopped - t1 failed in wave 1", lines
        assert lines[1].startswith("wave 1 t1: runs v2, page - promoted, then its analysis failed during the soak"), lines
        assert lines[2].startswith("wave 1 t2: runs v2, keep - t1 failed in wave 1"), lines
        assert lines[3].startswith("wave 2 t3: runs stable, not started - t1 failed in wave 1"), lines
        assert [b[0] for b in waves_run(out)] == [["t1", "t2"]], waves_run(out)
        why = ran_on(out, "Why the canary target is red after the soak")
        assert list(why) == ["t1"] and "its analysis failed: no phase, the check erred" in why["t1"]["msg"], why
        untouched = status(fleet, playbook, "t3")  # wave 2's release of v2 never started
        assert untouched["state"].get("canary_version") != "v2" and untouched["weights"]["canary"] == 0, untouched
        assert recap(out)["t1"]["failures"] == 0, recap(out)  # red is a verdict, not a failed host
    finally:
        for gen in generators:
            gen.stop()
        fleet.stop()


def files_under(directory):
    """path -> (content, mtime) of every file under ``directory``."""
    found = {}
    for root, _dirs, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                found[path] = (f.read(), os.stat(path).st_mtime_ns)
    return found


def test_check_mode_predicts_a_fleet_release_and_changes_no_nginx_or_state_file(tmp_path, playbook):
    """--check over the whole fleet, rollback configured: every target's nginx config and release state stay
    byte for byte (and untouched), nothing is reported rolled back or failed to roll back, and the real run after
    it still releases."""
    fleet = Fleet(str(tmp_path))
    generators = []
    try:
        inventory = fleet.inventory(str(tmp_path / "fleet.yml"))
        generators = serving_stable(fleet, playbook)
        before = {t: files_under(fleet.nginx[t].conf_dir) for t in TARGETS}
        assert all(before.values()), before
        for version in ("v2", "v3"):
            rc, tasks, out = playbook(PLAY, inventory=inventory, check=True, extra_vars={
                "fleet_release_version": version, "fleet_release_waves": WAVES, "fleet_release_soak": "2s",
                "fleet_release_on_promoted": "rollback", "fleet_release_report_dir": str(tmp_path / "reports")})
            lines = said(tasks, "Which target runs which version, and why", out)
            print("check mode %s: rc %d\n%s" % (version, rc, "\n".join(lines)))
            assert rc == 0 and lines[0] == "fleet release of %s: in_progress" % version, (rc, lines)
            (done,) = [t for t in tasks if t["_task"].endswith("Report the fleet release of %s" % version)]
            assert done["msg"] == ("%s: check mode - its release would start on t1, t2, t3; nothing was changed"
                                   % version), done
            assert {t: files_under(fleet.nginx[t].conf_dir) for t in TARGETS} == before, (version, lines)
            assert not [line for line in lines if "roll back failed" in line or "rolled back by the fleet" in line], lines
            assert not ran_on(out, "Abort - 100% to stable in one router update"), out[-4000:]
            assert not os.path.exists(str(tmp_path / "reports")), os.listdir(str(tmp_path / "reports"))
        for target in TARGETS:
            st = status(fleet, playbook, target)
            assert st["weights"]["canary"] == 0 and st["state"].get("canary_version") != "v2", (target, st)
    finally:
        for gen in generators:
            gen.stop()
        fleet.stop()
