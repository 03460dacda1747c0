"""The dark canary (issue 17, points 2 and 4) on real nginx, Prometheus and app processes: `make demo-mirror` as a
user runs it - the bad build behind a mirror first is rolled back during its mirror phase having served users no
failed request (by the load generator, and by Prometheus' mirrored="false" series), while its answers to the
copies failed - and canary_release's report counting the canary's failures to users and to copies, the same on
a second run that changes nothing."""

import glob
import json
import os
import subprocess
import sys

import harness

RUN = os.path.join(harness.ROOT, "sandbox", "run.py")
SLO = os.path.join(harness.ROOT, "sandbox", "files", "slo-templates.yaml")
PLAY = "- name: release\n  ansible.builtin.import_playbook: %s\n" % os.path.join(
    harness.ROOT, "playbooks", "canary_release.yml")


def test_demo_mirror_rolls_the_bad_build_back_in_its_mirror_phase_with_no_failed_user_request(tmp_path):
    proc = subprocess.run([sys.executable, RUN, "--mirror", "--pause", "3s", "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(os.path.join(str(tmp_path), "sandbox-report.json")) as f:
        good, percentage, dark = json.load(f)["releases"]
    assert good["verdict"] == "promoted"
    # the same bad build, as a percentage canary: users got its failures
    assert percentage["version"] == "v3" and percentage["verdict"] == "rolled_back"
    assert percentage["canary_failures_to_users"] > 0 and percentage["prometheus_canary_failed"]["users"] > 0
    # behind the mirror first: rolled back before any user was routed to it
    assert dark["version"] == "v4" and dark["verdict"] == "rolled_back" and dark["rolled_back_in_mirror_phase"]
    assert dark["mirror"] == [{"percentage": 50, "methods": ["GET"]}]
    assert [r["step"] for r in dark["timeline"]][:2] == ["started", "setMirrorRoute 50% GET"]
    assert dark["steps"] == []  # no weight was ever set
    assert dark["canary_failures_to_users"] == 0  # the users' side: the load generator, every cohort
    assert dark["prometheus_canary_failed"]["users"] == 0  # the app's side: mirrored="false"
    assert dark["prometheus_canary_failed"]["copies"] > 0  # it did fail, on copies nobody received
    assert dark["stable_failures"] == 0 and dark["router_failures"] == 0
    assert "behind a 50% mirror first (v4): 0 (Prometheus: 0), rolled back in the mirror phase" in proc.stdout
    assert "v4 rolled_back in its mirror phase" in proc.stdout


def test_the_release_report_counts_failures_to_users_and_to_copies_and_a_second_run_changes_nothing(
        tmp_path, playbook):
    import load
    work = str(tmp_path)
    stack = harness.Stack(work, {"v1": {}, "v2": dict(error_rate=0.5)}, label="dark")
    port = harness.free_port()
    reports = str(tmp_path / "reports")
    gen = None
    try:
        nginx = dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % port,
                     stable=["127.0.0.1:%d" % stack.apps["v1"].port], canary=["127.0.0.1:%d" % stack.apps["v2"].port])
        variables = {
            "canary_release_name": "dark", "canary_release_stable_version": "v1", "canary_release_canary_version": "v2",
            "canary_release_cohorts": {}, "canary_release_nginx": nginx,
            "canary_release_steps": [
                {"setMirrorRoute": {"name": "dark", "percentage": 100}},
                {"pause": {"duration": "3s"}},
                {"analysis": {"args": [{"name": "mirrored", "value": "true"}]}},
                {"setMirrorRoute": {"name": "dark"}}, {"setWeight": 50}, {"analysis": {}}, {"setWeight": 100}],
            "canary_release_analysis": {"template_file": SLO}, "canary_release_guard": {"enabled": False},
            "canary_release_prometheus_url": stack.prometheus.url, "canary_release_report_dir": reports,
            "canary_release_report_selector": {"app": "dark", "version": "v2"},
            "notify_release_scrape_margin_s": 3}
        playbook(harness.task("router_step", {"release": "dark", "router": "nginx", "action": "set_weight",
                                              "weight": 0, "nginx": nginx}), expect_rc=0)
        gen = load.LoadGenerator("127.0.0.1", port, rps=50, max_seconds=300, max_requests=15000).start()
        stack.prometheus.wait_for_data('sum(rate(http_requests_total{app="dark",version="v1"}[10s])) > 0')
        rc, _tasks, out = playbook(PLAY, extra_vars=variables)
        assert rc == 2, out[-4000:]  # rolled back: the play fails, as a rolled-back release does
        paths = sorted(glob.glob(os.path.join(reports, "dark-v2-*")))
        assert [os.path.splitext(p)[1] for p in paths] == [".html", ".json", ".xml"], paths
        contents = {}
        for path in paths:
            with open(path) as f:
                contents[path] = f.read()
        counted = json.loads(contents[paths[1]])["canary_failed"]
        assert counted["users"] == 0 and counted["copies"] > 0, counted
        assert "0 served to users, %d answers to copies (discarded)" % counted["copies"] in contents[paths[0]]
        assert 'name="canary_failed_mirrored_answers" value="%d"' % counted["copies"] in contents[paths[2]]
        # Prometheus agrees: the canary's user series never counted a failure, its copies' did
        failed = 'sum(http_requests_total{app="dark",version="v2",code="500",mirrored="%s"})'
        assert float(stack.prometheus.query(failed % "false")[0]["value"][1]) == 0
        assert float(stack.prometheus.query(failed % "true")[0]["value"][1]) > 0
        assert not [r for r in gen.window(0, 1e12) if r.version == "v2"]  # no user was served by the canary
        # a second run: nothing changes, the report neither (its count is asked at the same time)
        rc, tasks, out = playbook(PLAY, extra_vars=variables)
        assert rc == 2 and [t["_task"] for t in tasks if t.get("changed")] == [], out[-4000:]
        for path, text in contents.items():
            with open(path) as f:
                assert f.read() == text, path
    finally:
        if gen:
            gen.stop()
        stack.stop()
