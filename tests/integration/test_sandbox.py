"""The sandbox behind `make demo`, run as a user runs it, and the blue-green playbook on real nginx."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import harness

RUN = os.path.join(harness.ROOT, "sandbox", "run.py")


def test_demo_promotes_the_good_release_and_rolls_back_the_bad_one(tmp_path):
    proc = subprocess.run([sys.executable, RUN, "--pause", "3s", "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=400, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "release v1 -> v2: PROMOTED" in proc.stdout and "release v2 -> v3: ROLLED_BACK" in proc.stdout
    with open(os.path.join(str(tmp_path), "sandbox-report.json")) as f:
        report = json.load(f)
    good, bad = report["releases"]
    assert good["version"] == "v2" and good["verdict"] == "promoted"
    assert [s["weight"] for s in good["steps"]] == [10, 25, 50, 75, 100]
    for step in good["steps"][:-1]:  # the last weight ends the release at once
        assert step["analysis_phase"] == "Successful"
        assert abs(100 * step["measured_canary_share"] - step["weight"]) <= 5, step
    assert bad["version"] == "v3" and bad["verdict"] == "rolled_back"
    assert bad["steps"][0]["analysis_phase"] == "Failed"
    assert 0 < bad["time_to_detect_s"] < 30 and 0 <= bad["time_to_restore_s"] < 5
    assert bad["stable_failures_during_rollback"] == 0 and bad["router_failures"] == 0
    with open(os.path.join(str(tmp_path), "sandbox-report.html")) as f:
        page = f.read()
    assert page.count("<svg") == 4 and "error rate, stable vs canary" in page


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_demo_stops_everything_it_started_when_interrupted(tmp_path):
    proc = subprocess.Popen([sys.executable, RUN, "--report-dir", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    ports, lines = [], []
    deadline = time.time() + 120
    try:
        for line in proc.stdout:
            lines.append(line)
            ports += [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", line)]
            if line.startswith("releasing") or time.time() > deadline:
                break
        assert len(ports) >= 5, "".join(lines)  # three apps, Prometheus, nginx's listen address
        assert all(listening(p) for p in ports)
        time.sleep(2)  # the first playbook is running
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(lines) + rest
    assert "interrupted: stopping everything the sandbox started" in rest
    harness.wait_for(lambda: not any(listening(p) for p in ports), 10, "every sandbox port closed")


def test_bluegreen_playbook_needs_approval_and_never_switches_to_a_failing_preview(tmp_path, playbook):
    work = str(tmp_path)
    started = []
    try:
        stack = harness.Stack(work, {"blue": {}, "green": dict(error_rate=0.5)}, label="bg")
        started.append(stack)
        apps, prometheus, nginx = stack.apps, stack.prometheus, stack.nginx
        port = harness.free_port()
        variables = {"bluegreen_release_name": "orders",
                     "bluegreen_release_nginx": dict(nginx.router_options(), listen="127.0.0.1:%d" % port,
                                                     stable=["127.0.0.1:%d" % apps["blue"].port],
                                                     canary=["127.0.0.1:%d" % apps["green"].port]),
                     "bluegreen_release_cohorts": {"always_canary": ["internal"]},
                     "bluegreen_release_stable_version": "blue", "bluegreen_release_canary_version": "green",
                     "bluegreen_release_analysis": {"template_file": os.path.join(
                         harness.ROOT, "sandbox", "files", "slo-templates.yaml")},
                     "bluegreen_release_prometheus_url": prometheus.url}
        text = "- name: blue-green\n  ansible.builtin.import_playbook: %s\n" % os.path.join(
            harness.ROOT, "playbooks", "bluegreen_release.yml")

        def switch(tasks):
            return [t for t in tasks if ": Switch the release" in t["_task"]][-1]  # the last step walked
        rc, tasks, out = playbook(text, extra_vars=variables)
        assert rc != 0 and "a person must approve it" in switch(tasks)["msg"]
        # the preview answers the internal cohort before the switch, so the pre-promotion analysis has data
        feed = harness.Process([sys.executable, "-c", (
            "import time, urllib.request as u\n"
            "end = time.time() + 60\n"
            "while time.time() < end:\n"
            "    try: u.urlopen(u.Request('http://127.0.0.1:%d/', headers={'X-Canary-Cohort': 'internal'}), timeout=2)\n"
            "    except Exception: pass\n"
            "    time.sleep(0.05)\n") % port], "internal-feed")
        started.append(feed)
        rc, tasks, out = playbook(text, extra_vars=dict(variables, bluegreen_release_approved=True))
        result = switch(tasks)
        assert rc != 0 and result["verdict"] == "rolled_back", out[-2000:]
        weights = [e["weight"] for e in result["state"]["history"] if e["event"] == "set_weight"]
        assert weights == [] or set(weights) <= {0, 100}  # never split
        assert result["state"]["step_results"][0]["analysis_phase"] == "Failed"  # the preview failed first
        assert result["weights"] == {"stable": 100, "canary": 0}
    finally:
        for proc in reversed(started):
            proc.stop()
