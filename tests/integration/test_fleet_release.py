"""A fleet release (issue 15) on a sandbox fleet of 3 targets on 127.0.0.1 - each its own real nginx and its own
app processes, one real Prometheus: a bad version is rolled back in wave 1 and never reaches wave 2 (its nginx
never routes to a v3 pool); a good version reaches every target wave by wave; re-running it changes nothing."""

import json
import os

import harness

SLO = os.path.join(harness.ROOT, "sandbox", "files", "slo-templates.yaml")
PLAY = "- name: fleet\n  ansible.builtin.import_playbook: %s\n" % os.path.join(
    harness.ROOT, "playbooks", "fleet_release.yml")
TARGETS = ("t1", "t2", "t3")
WAVES = [["t1"], ["t2", "t3"]]
VERSIONS = {"v1": {}, "v2": {}, "v3": dict(error_rate=0.5)}


class Fleet(harness.Fleet):
    """Per target: its own nginx and apps v1 (stable), v2 (good), v3 (bad); one Prometheus scraping all apps."""

    def __init__(self, workdir):
        super(Fleet, self).__init__(workdir, TARGETS, VERSIONS, timeout=90)

    def nginx_options(self, target, canary):
        return dict(self.nginx[target].router_options(), listen="127.0.0.1:%d" % self.ports[target],
                    stable=[self.pool(target, "v1")], canary=[self.pool(target, canary)])

    def inventory(self, path, notify=None):
        """Each target an inventory host with its own canary_release_* host vars (its own notifications too,
        which the fleet switches off); the canary pool follows the version the fleet releases."""
        hosts = {}
        for target in TARGETS:
            nginx = dict(self.nginx[target].router_options(), listen="127.0.0.1:%d" % self.ports[target],
                         stable=[self.pool(target, "v1")],
                         canary=["{{ fleet_pools[fleet_release_version] }}"])
            hosts[target] = {
                "fleet_pools": {v: self.pool(target, v) for v in ("v2", "v3")},
                "canary_release_name": "shop", "canary_release_stable_version": "v1",
                "canary_release_weights": [50], "canary_release_pause": "2s",
                "canary_release_analysis": {"template_file": SLO},
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


def said(tasks, name, out):
    found = [t for t in tasks if t["_task"].endswith(" : " + name)]
    assert found, "no task %r:\n%s" % (name, out[-6000:])
    return found[-1]["msg"]


def fleet_reports(report_dir):
    """The fleet reports written so far: name -> the JSON report parsed (and its HTML page is there too)."""
    if not os.path.isdir(report_dir):
        return {}
    names = sorted(n[:-5] for n in os.listdir(report_dir) if n.endswith(".json"))
    assert sorted(os.listdir(report_dir)) == sorted(n + ext for n in names for ext in (".html", ".json"))
    return {n: json.load(open(os.path.join(report_dir, n + ".json"))) for n in names}


def listed(report):
    return [(t["target"], t["wave"], t["runs"], t["verdict"]) for t in report["targets"]]


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
