"""The person wins (issue 16), on the real nginx: a release walked by router_release in the background
while someone acts on it with router_step, a second walker, killed walkers and a vanished controller.

Each walk runs as its own ansible-playbook; the test waits (bounded) for the state beside the router to
reach the point it needs, never for a fixed time. Every load loop is bounded in requests and time."""

import collections
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import harness

LONG_PAUSE = "120s"  # far longer than any wait of the test: only an intervention can end it


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("walker"))
    stack = harness.Stack(work, {"v1": dict(latency=0.002), "v2": dict(latency=0.002)}, label="walker")
    try:
        yield stack
    finally:
        stack.stop()


class Release(object):
    """One release name on the stack's nginx."""

    def __init__(self, stack, tmp_path):
        self.stack, self.work = stack, str(tmp_path)
        self.name = "w%d" % (int(time.time() * 1000) % 10 ** 8)
        self.port = harness.free_port()
        self.nginx = dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % self.port,
                          stable=["127.0.0.1:%d" % stack.apps["v1"].port],
                          canary=["127.0.0.1:%d" % stack.apps["v2"].port])
        self.state_path = os.path.join(stack.nginx.conf_dir, "pd-%s.state.json" % self.name)

    def text(self, module, options):
        return harness.task(module, dict(release=self.name, router="nginx", nginx=self.nginx, **options))

    def walk(self, steps, env=None, **options):
        """router_release in the background."""
        body = dict(stable_version="v1", canary_version="v2", steps=steps, **options)
        return harness.start_playbook(self.text("router_release", body), self.work, env=env)

    def run(self, module, **options):
        rc, tasks, _out = harness.start_playbook(self.text(module, options), self.work).result()
        return rc, tasks[0]

    def state(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def wait_state(self, predicate, what, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.state()
            if st and predicate(st):
                return st
            time.sleep(0.2)
        raise AssertionError("release %s never reached %s; state: %s" % (self.name, what, self.state()))

    def versions(self, n):
        seen = collections.Counter()
        for _i in range(n):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/" % self.port, timeout=5) as resp:
                    seen[resp.headers["X-App-Version"]] += 1
            except urllib.error.HTTPError as e:
                seen[e.headers["X-App-Version"]] += 1
        return seen

    def nginx_t(self):
        n = self.stack.nginx
        argv = [n.binary, "-c", n.main_config] + (["-p", n.prefix] if n.prefix else []) + ["-t"]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        return proc.returncode, proc.stderr


def plan(first=30):
    return [{"setWeight": first}, {"pause": {"duration": LONG_PAUSE}}, {"setWeight": 60},
            {"pause": {"duration": LONG_PAUSE}}, {"setWeight": 100}]


def at_weight(weight):
    return lambda st: st.get("canary_weight") == weight and st["history"][-1]["event"] == "pause"


def test_an_abort_during_a_pause_ends_the_release_on_stable_for_good(stack, tmp_path):
    r = Release(stack, tmp_path)
    walker = r.walk(plan())
    r.wait_state(at_weight(30), "30% and pausing")
    assert 40 <= r.versions(200)["v2"] <= 80
    rc, aborted = r.run("router_step", action="abort", reason="INC-4711")
    assert rc == 0 and aborted["phase"] == "Degraded", aborted.get("msg")
    rc, tasks, _out = walker.result(timeout=120)
    walked = tasks[0]
    assert rc != 0 and walked["verdict"] == "rolled_back", walked.get("msg")
    assert "INC-4711" in walked["msg"] and "by " in walked["msg"]
    st = r.state()
    events = [e["event"] for e in st["history"]]
    assert events[-1] == "aborted" and st["history"][-1]["reason"] == "INC-4711" and st["history"][-1]["by"]
    assert "set_weight" not in events[events.index("aborted"):]  # nothing routed to the canary after it
    assert st["aborted"] is True and st["canary_weight"] == 0
    assert r.versions(100) == {"v1": 100}
    # the walker is gone, not waiting: running the release again changes nothing, the abort stands
    rc, again = r.run("router_release", stable_version="v1", canary_version="v2", steps=plan())
    assert again["changed"] is False and again["verdict"] == "rolled_back"


def test_an_abort_during_an_analysis_ends_it_at_the_next_look(stack, tmp_path):
    r = Release(stack, tmp_path)
    template = tmp_path / "long.yaml"
    template.write_text(json.dumps({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "long"},
        "spec": {"metrics": [{"name": "always-one", "interval": "1s", "count": 300,
                              "successCondition": "result[0] == 1",
                              "provider": {"prometheus": {"query": "vector(1)"}}}]}}))
    walker = r.walk([{"setWeight": 30}, {"analysis": {}}, {"setWeight": 100}],
                    analysis={"template_file": str(template)}, prometheus_url=stack.prometheus.url)
    r.wait_state(lambda st: st["step_index"] == 1 and st["revision"] >= 3, "30% and analysing")
    rc, aborted = r.run("router_step", action="abort", reason="stop the analysis")
    assert rc == 0, aborted.get("msg")
    rc, tasks, _out = walker.result(timeout=120)
    assert rc != 0 and tasks[0]["verdict"] == "rolled_back" and "stop the analysis" in tasks[0]["msg"]
    assert r.state()["history"][-1]["event"] == "aborted"
    assert r.versions(60) == {"v1": 60}


def test_a_pause_during_a_timed_pause_holds_the_weight_until_a_resume(stack, tmp_path):
    r = Release(stack, tmp_path)
    steps = [{"setWeight": 30}, {"pause": {"duration": "8s"}}, {"setWeight": 100}]
    walker = r.walk(steps)
    r.wait_state(at_weight(30), "30% and pausing")
    rc, paused = r.run("router_step", action="pause")
    assert rc == 0 and paused["phase"] == "Paused" and paused["changed"] is True
    rc, tasks, _out = walker.result(timeout=120)
    assert rc == 0 and tasks[0]["verdict"] == "paused" and "manually paused by" in tasks[0]["message"]
    # the walker has ended: nothing can move the weight now; the 8 s pause is long over by the resume
    assert r.state()["phase"] == "Paused" and r.state()["canary_weight"] == 30
    assert 35 <= r.versions(200)["v2"] <= 85
    rc, again = r.run("router_release", stable_version="v1", canary_version="v2", steps=steps)
    assert rc == 0 and again["verdict"] == "paused" and again["changed"] is False
    rc, resumed = r.run("router_step", action="resume")
    assert rc == 0 and resumed["phase"] == "Progressing"
    rc, done = r.run("router_release", stable_version="v1", canary_version="v2", steps=steps)
    assert rc == 0 and done["verdict"] == "promoted", done.get("msg")
    assert r.versions(50) == {"v2": 50}


def test_a_skip_ends_the_running_pause_and_a_manual_promote_ends_the_walk(stack, tmp_path):
    r = Release(stack, tmp_path)
    walker = r.walk(plan())
    r.wait_state(at_weight(30), "30% and pausing")
    rc, skipped = r.run("router_step", action="promote", full=False)
    assert rc == 0, skipped.get("msg")
    r.wait_state(at_weight(60), "60% after the skip")
    rc, promoted = r.run("router_step", action="promote")
    assert rc == 0 and promoted["phase"] == "Healthy"
    rc, tasks, _out = walker.result(timeout=120)
    assert rc == 0 and tasks[0]["verdict"] == "promoted", tasks[0].get("msg")
    events = [(e["event"], e.get("by")) for e in r.state()["history"]]
    assert events[-1][0] == "promoted" and events[-1][1] and ("step_skipped", events[-1][1]) in events


def test_a_second_walker_is_refused_with_the_name_of_the_first(stack, tmp_path):
    r = Release(stack, tmp_path)
    walker = r.walk(plan())
    r.wait_state(at_weight(30), "30% and pausing")
    with open(r.state_path + ".walker") as f:
        first = json.load(f)
    rc, second = r.run("router_release", stable_version="v1", canary_version="v2", steps=plan())
    assert rc != 0 and "is being walked by" in second["msg"]
    assert "pid %d" % first["pid"] in second["msg"] and first["since"] in second["msg"]
    assert r.state()["canary_weight"] == 30  # the refused walker changed nothing
    r.run("router_step", action="abort")
    walker.result(timeout=120)


def test_a_killed_walkers_lease_is_taken_over_and_the_release_resumes(stack, tmp_path):
    r = Release(stack, tmp_path)
    steps = [{"setWeight": 30}, {"pause": {"duration": LONG_PAUSE}}, {"setWeight": 100}]
    walker = r.walk(steps)
    r.wait_state(at_weight(30), "30% and pausing")
    with open(r.state_path + ".walker") as f:
        dead = json.load(f)
    os.kill(dead["pid"], signal.SIGKILL)  # the module itself: no chance to clean up
    walker.result(timeout=120)
    rc, skipped = r.run("router_step", action="promote", full=False)  # past the long pause, for a quick end
    assert rc == 0, skipped.get("msg")
    rc, resumed = r.run("router_release", stable_version="v1", canary_version="v2", steps=steps)
    assert rc == 0 and resumed["verdict"] == "promoted", resumed.get("msg")
    took_over = [e for e in r.state()["history"] if e["event"] == "walker_taken_over"]
    assert took_over and "pid %d" % dead["pid"] in took_over[0]["previous"]


def test_a_walker_whose_ansible_playbook_was_killed_stops_and_a_rerun_resumes(stack, tmp_path):
    r = Release(stack, tmp_path)
    steps = [{"setWeight": 30}, {"pause": {"duration": LONG_PAUSE}}, {"setWeight": 100}]
    walker = r.walk(steps)
    r.wait_state(at_weight(30), "30% and pausing")
    walker.proc.send_signal(signal.SIGKILL)  # ansible-playbook, not the module
    walker.proc.communicate()
    st = r.wait_state(lambda s: s["history"][-1]["event"] == "walker_stopped", "the walker noticing", timeout=60)
    assert st["phase"] == "Progressing" and st["canary_weight"] == 30
    assert "went away" in st["history"][-1]["reason"]
    r.run("router_step", action="promote", full=False)
    rc, resumed = r.run("router_release", stable_version="v1", canary_version="v2", steps=steps)
    assert rc == 0 and resumed["verdict"] == "promoted", resumed.get("msg")


@pytest.mark.parametrize("failpoint", ["state_save:3", "state_saved:3", "nginx_written:2", "nginx_reloaded:2"])
def test_a_walker_killed_at_any_phase_leaves_a_valid_router_and_a_rerun_resumes(stack, tmp_path, failpoint):
    r = Release(stack, tmp_path)
    steps = [{"setWeight": 30}, {"setWeight": 60}, {"setWeight": 100}]
    rc, tasks, out = r.walk(steps, env={"PROGRESSIVE_DELIVERY_FAILPOINT": failpoint}).result(timeout=120)
    assert rc != 0, "the failpoint %s was never reached: %s" % (failpoint, out[-2000:])
    code, err = r.nginx_t()
    assert code == 0, "nginx -t after a kill at %s: %s" % (failpoint, err)
    st = r.state()
    assert st is not None and st["phase"] == "Progressing"  # parsed: never half-written
    leftovers = [f for f in os.listdir(stack.nginx.conf_dir) if r.name in f and f.endswith(".tmp")]
    assert not leftovers
    rc, resumed = r.run("router_release", stable_version="v1", canary_version="v2", steps=steps)
    assert rc == 0 and resumed["verdict"] == "promoted", resumed.get("msg")
    events = [e["event"] for e in r.state()["history"]]
    assert events.count("started") == 1 and events[-1] == "promoted"
    assert r.versions(60) == {"v2": 60}
    rc, again = r.run("router_release", stable_version="v1", canary_version="v2", steps=steps)
    assert rc == 0 and again["changed"] is False


@pytest.mark.parametrize("case", ["result-null", "true-value", "bad-matrix", "trickle"])
def test_a_gate_that_cannot_judge_ends_the_walk_on_stable_and_a_rerun_does_not_crash(stack, tmp_path, case):
    from test_gate_fail_closed import TEMPLATE, FakePrometheus
    fake = FakePrometheus()
    try:
        r = Release(stack, tmp_path)
        template = tmp_path / "gate.yaml"
        template.write_text(json.dumps(TEMPLATE))
        options = dict(analysis={"template_file": str(template)}, prometheus_url=fake.url(case),
                       prometheus_timeout=3, analysis_max_duration="5s")
        steps = [{"setWeight": 30}, {"analysis": {}}, {"setWeight": 100}]
        rc, tasks, _out = r.walk(steps, **options).result(timeout=120)
        walked = tasks[0]
        assert rc != 0 and walked["verdict"] == "rolled_back", walked.get("msg")
        assert "success-rate" in walked["msg"] and "Traceback" not in json.dumps(walked)
        assert r.state()["aborted"] is True and r.versions(40) == {"v1": 40}
        rc, again = r.run("router_release", stable_version="v1", canary_version="v2", steps=steps, **options)
        assert again["verdict"] == "rolled_back" and again["changed"] is False
    finally:
        fake.stop()
