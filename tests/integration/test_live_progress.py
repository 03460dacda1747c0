"""The operator's view of a release walked by Ansible (issue 14): canary_release through ansible-playbook on real
nginx, Prometheus and app processes shows each step AS IT HAPPENS - the weight, each analysis with its values and
thresholds, the verdict - and a second run changes nothing; on_failure: pause holds a bad canary at its weight for
a person (router_step abort then works, and the guard still aborts while it is held); a freeze refuses a release."""

import datetime
import json
import os
import queue
import re
import threading
import time

import harness

SLO = os.path.join(harness.ROOT, "sandbox", "files", "slo-templates.yaml")
PLAY = "- name: release\n  ansible.builtin.import_playbook: %s\n" % os.path.join(
    harness.ROOT, "playbooks", "canary_release.yml")


def release_vars(stack, port, canary, **extra):
    variables = {"canary_release_name": "live", "canary_release_stable_version": "v1",
                 "canary_release_canary_version": canary, "canary_release_weights": [20, 60],
                 "canary_release_pause": "2s", "canary_release_analysis": {"template_file": SLO},
                 "canary_release_prometheus_url": stack.prometheus.url,
                 "canary_release_nginx": dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % port,
                                              stable=["127.0.0.1:%d" % stack.apps["v1"].port],
                                              canary=["127.0.0.1:%d" % stack.apps[canary].port])}
    variables.update(extra)
    return variables


class Lines(object):
    """ansible-playbook's stdout read line by line as it is written, each line with whether the process was
    still running when it arrived."""

    def __init__(self, proc):
        self.proc, self.seen, self.queue = proc, [], queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.queue.put((line.rstrip("\n"), self.proc.poll() is None))
        self.seen.append((self.proc.stderr.read(), False))
        self.queue.put(None)

    def finish(self, timeout=300):
        """Wait for the end (bounded); all the output."""
        self.proc.wait(timeout=timeout)
        while True:
            item = self.queue.get(timeout=60)
            if item is None:
                return "\n".join(s for s, _r in self.seen)
            self.seen.append(item)

    def until(self, pattern, timeout=300):
        """The first line matching ``pattern`` from here on, as (line, running); bounded."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                item = self.queue.get(timeout=1)
            except queue.Empty:
                continue
            if item is None:
                raise AssertionError("ansible-playbook ended without %r:\n%s" % (pattern, "\n".join(
                    s for s, _r in self.seen)[-4000:]))
            self.seen.append(item)
            if re.search(pattern, item[0]):
                return item
        raise AssertionError("no %r within %ds:\n%s" % (pattern, timeout, "\n".join(s for s, _r in self.seen)[-4000:]))


def status(playbook, nginx):
    _rc, tasks, _out = playbook(harness.task("router_step", {"release": "live", "router": "nginx", "nginx": nginx,
                                                             "action": "status"}), expect_rc=0)
    return tasks[-1]


def test_each_step_shows_while_the_release_runs_and_a_second_run_changes_nothing(tmp_path, playbook):
    import load
    work = str(tmp_path)
    stack = harness.Stack(work, {"v1": {}, "v2": {}}, label="live")
    port = harness.free_port()
    gen = None
    try:
        variables = release_vars(stack, port, "v2", canary_release_report_dir=str(tmp_path / "reports"),
                                 canary_release_traffic_query='sum by (version) (increase(http_requests_total'
                                                              '{app="live"}[5s]))')
        playbook(harness.task("router_step", {"release": "live", "router": "nginx", "action": "set_weight",
                                              "weight": 0, "nginx": variables["canary_release_nginx"]}), expect_rc=0)
        gen = load.LoadGenerator("127.0.0.1", port, rps=60, max_seconds=300, max_requests=18000).start()
        harness.wait_for(lambda: stack.prometheus.query('sum(rate(http_requests_total{app="live"}[10s])) > 0'),
                         60, "traffic in Prometheus")
        running = harness.start_playbook(PLAY, work, extra_vars=variables, env={
            "ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml", "PYTHONUNBUFFERED": "1"})
        lines = Lines(running.proc)
        try:
            # the first weight, its line, and the analysis with its values and thresholds, each seen while the
            # playbook still runs (the release has steps to go)
            lines.until(r"TASK \[.*Walk live: step 1/7 setWeight 20\]")
            line, running_then = lines.until(r"20% set; ")
            assert running_then, line
            # after the pause, the split measured by Prometheus beside the weight set
            line, running_then = lines.until(r"20% set, [\d.]+% measured of \d+ requests; ")
            assert running_then, line
            line, running_then = lines.until(r"success-rate=[\d.]+ \(>= 0\.95\)")
            assert running_then and "latency-p95=" in line and "(< 0.25)" in line and ": Successful; " in line, line
            line, running_then = lines.until(r"TASK \[.*Walk live: step 4/7 setWeight 60\]")
            assert running_then, line
            lines.until(r"PROMOTED v2: 100% on it; ")
            out = lines.finish()
        finally:
            if running.proc.poll() is None:
                running.proc.kill()
                running.proc.communicate()
        assert running.proc.returncode == 0, out[-4000:]
        # the operator's timeline, in order, step by step
        headers = re.findall(r"TASK \[progressive\.delivery\.canary_release : (step \d/7 [^\]]*)\]", out)
        assert headers == ["step 1/7 setWeight 20", "step 2/7 pause 2s", "step 3/7 analysis", "step 4/7 setWeight 60",
                           "step 5/7 pause 2s", "step 6/7 analysis", "step 7/7 setWeight 100"], out[-4000:]
        # a second run: nothing changes, the release is told as it stands
        rc, tasks, out2 = playbook(PLAY, extra_vars=variables)
        assert rc == 0 and [t["_task"] for t in tasks if t.get("changed")] == [], out2[-3000:]
        said = [t for t in tasks if t["_task"].endswith("where it stands")][0]["msg"]
        assert said.startswith("at step 7/7 (100% on the canary), promoted, ")
    finally:
        if gen:
            gen.stop()
        stack.stop()


def test_on_failure_pause_holds_each_failure_of_a_bad_canary_for_a_person_whose_abort_ends_it(tmp_path, playbook):
    import load
    work = str(tmp_path)
    stack = harness.Stack(work, {"v1": {}, "v3": dict(error_rate=0.5)}, label="held")
    port = harness.free_port()
    gen = None
    try:
        # the guard on a long interval here, so the person decides (the guard's own abort of a held canary: below)
        # two analyses: a person resumes past the first failure, and the second is held the same way
        variables = release_vars(stack, port, "v3", canary_release_weights=[20, 60], canary_release_on_failure="pause",
                                 canary_release_guard={"interval": "10m"})
        nginx = variables["canary_release_nginx"]
        playbook(harness.task("router_step", {"release": "live", "router": "nginx", "action": "set_weight",
                                              "weight": 0, "nginx": nginx}), expect_rc=0)
        gen = load.LoadGenerator("127.0.0.1", port, rps=60, max_seconds=300, max_requests=18000).start()
        harness.wait_for(lambda: stack.prometheus.query('sum(rate(http_requests_total{app="held"}[10s])) > 0'),
                         60, "traffic in Prometheus")
        running = harness.start_playbook(PLAY, work, extra_vars=variables, env={
            "ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml", "PYTHONUNBUFFERED": "1"})
        lines = Lines(running.proc)
        try:
            line, running_then = lines.until(r"success-rate=[\d.]+ not >= 0\.95.*: Failed")
            assert running_then, line
            line, running_then = lines.until(r"PAUSED: analysis Failed \(success-rate=.*\), held at 20%")
            assert running_then, line
            lines.until(r"TASK \[.*Walk live: hold at 20% for a person, the guard watching")
            # held: the walker stays, the canary keeps its weight, the state says what failed and what to do

            def paused():
                now = status(playbook, nginx)
                return now if now["phase"] == "Paused" else None
            held = harness.wait_for(paused, 120, "the release held Paused")
            assert held["weights"] == {"stable": 80, "canary": 20} and not held["state"]["aborted"]
            assert held["message"].startswith("AnalysisFailedHeld: analysis Failed at step 3/7 (success-rate=")
            assert "not >= 0.95" in held["message"] and "router_step action=abort" in held["message"]
            assert running.proc.poll() is None  # the walker waits with it, the guard watching
            playbook(harness.task("router_step", {"release": "live", "router": "nginx", "nginx": nginx,
                                                  "action": "resume"}), expect_rc=0)
            line, running_then = lines.until(r"PAUSED: analysis Failed \(success-rate=.*\), held at 60%")
            assert running_then, line
            # the second failure is held with the guard watching too, not left paused with nobody
            lines.until(r"TASK \[.*Walk live: hold at 60% for a person, the guard watching")
            held = harness.wait_for(paused, 120, "the release held Paused again")
            assert held["weights"] == {"stable": 40, "canary": 60} and not held["state"]["aborted"]
            assert held["message"].startswith("AnalysisFailedHeld: analysis Failed at step 6/7 (success-rate=")
            assert running.proc.poll() is None
            playbook(harness.task("router_step", {"release": "live", "router": "nginx", "nginx": nginx,
                                                  "action": "abort", "reason": "looked at it"}), expect_rc=0)
            lines.until(r"ROLLED BACK by .*looked at it")
            out = lines.finish()
        finally:
            if running.proc.poll() is None:
                running.proc.kill()
                running.proc.communicate()
        assert running.proc.returncode != 0 and "release live of v3 rolled back" in out, out[-3000:]
        after = status(playbook, nginx)
        assert after["weights"] == {"stable": 100, "canary": 0} and after["state"]["aborted"] is True
        paused = [e for e in after["state"]["history"] if e["event"] == "paused"]
        assert [(e["reason"], e["weight"]) for e in paused] == [("AnalysisFailedHeld", 20), ("AnalysisFailedHeld", 60)]

        # the same bad canary with the guard on a short interval: held, and then aborted by the guard
        port2 = harness.free_port()
        variables = release_vars(stack, port2, "v3", canary_release_name="guarded", canary_release_weights=[20],
                                 canary_release_pause="", canary_release_on_failure="pause",
                                 canary_release_guard={"interval": "2s"})  # no pause: the guard first looks at the analysis
        playbook(harness.task("router_step", {"release": "guarded", "router": "nginx", "action": "set_weight",
                                              "weight": 0, "nginx": variables["canary_release_nginx"]}), expect_rc=0)
        gen2 = load.LoadGenerator("127.0.0.1", port2, rps=60, max_seconds=300, max_requests=18000).start()
        try:
            rc, tasks, out = playbook(PLAY, extra_vars=variables)
        finally:
            gen2.stop()
        assert rc != 0, out[-3000:]
        hold = "hold at 20% for a person, the guard watching (router_step action=abort or resume)"
        assert [t for t in tasks if t["_task"].endswith(hold)]
        history = [t for t in tasks if "progress" in t][-1]["state"]["history"]
        events = [e["event"] for e in history]
        assert events.index("paused") < events.index("guard_tripped") < events.index("aborted"), events
    finally:
        if gen:
            gen.stop()
        stack.stop()


def test_until_step_given_as_text_as_with_dash_e_walks_to_that_step(tmp_path, playbook):
    # -e canary_release_until_step=2 arrives as the string "2": the walk compares it as a number
    work = str(tmp_path)
    stack = harness.Stack(work, {"v1": {}, "v2": {}}, label="until")
    port = harness.free_port()
    try:
        variables = release_vars(stack, port, "v2", canary_release_name="until", canary_release_analysis={},
                                 canary_release_steps=[{"setWeight": 20}, {"setWeight": 60}, {"setWeight": 100}],
                                 canary_release_until_step="2")
        nginx = variables["canary_release_nginx"]
        playbook(harness.task("router_step", {"release": "until", "router": "nginx", "action": "set_weight",
                                              "weight": 0, "nginx": nginx}), expect_rc=0)
        rc, tasks, out = playbook(PLAY, extra_vars=variables)
        assert rc == 0, out[-3000:]
        walked = [t for t in tasks if "progress" in t][-1]
        assert walked["verdict"] == "in_progress" and walked["weights"] == {"stable": 40, "canary": 60}
        assert walked["progress"]["step_index"] == 2
    finally:
        stack.stop()


def test_a_freeze_refuses_a_release_and_touches_nothing(tmp_path, playbook):
    work = str(tmp_path)
    stack = harness.Stack(work, {"v1": {}, "v2": {}}, label="frozen")
    port = harness.free_port()
    try:
        now = datetime.datetime.now(datetime.timezone.utc)
        window = {"start": (now - datetime.timedelta(hours=1)).isoformat(),
                  "end": (now + datetime.timedelta(hours=2)).isoformat(), "reason": "INC-4711: payments degraded"}
        variables = release_vars(stack, port, "v2", canary_release_freeze_windows=[window])
        nginx = variables["canary_release_nginx"]
        playbook(harness.task("router_step", {"release": "live", "router": "nginx", "action": "set_weight",
                                              "weight": 0, "nginx": nginx}), expect_rc=0)
        before = status(playbook, nginx)
        rc, tasks, out = playbook(PLAY, extra_vars=variables, env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
        assert rc != 0
        refused = [t for t in tasks if t["_task"].endswith("Start or pick up the release of live v2")][0]
        assert refused["changed"] is False and refused["verdict"] == "refused"
        assert "freeze 'INC-4711: payments degraded' (from %s to %s) is in effect" % (
            window["start"], window["end"]) in refused["msg"], refused["msg"]
        assert refused["freeze"] == window
        assert "INC-4711" in [t for t in tasks if t["_task"].endswith("Report the release of live")][0]["msg"]
        stats = json.loads(out[:out.rindex("}") + 1])["global_custom_stats"]
        assert stats["pd_verdict"] == "refused" and stats["pd_release"]["freeze"]["reason"] == window["reason"]
        after = status(playbook, nginx)
        assert after["weights"] == before["weights"] == {"stable": 100, "canary": 0}
        assert after["state"] == before["state"]  # nothing written
        # a bad window is refused naming it
        rc, tasks, out = playbook(PLAY, extra_vars=dict(variables, canary_release_freeze_windows=[
            dict(window, end="2026-12-27T00:00:00")]))
        assert rc != 0 and "freeze_windows[0].end '2026-12-27T00:00:00' has no time zone" in out
    finally:
        stack.stop()
