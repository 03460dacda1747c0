"""Fail fast, pass slow (issue 13), on the real nginx and Prometheus: the guard aborts a bad canary long
before its pause ends, and a healthy canary is never aborted and never promoted before its plan says.
Load goes through nginx, bounded in requests and time; the test waits for data, never for a fixed time."""

import os
import time

import pytest

import harness
import load

TEMPLATES = os.path.join(harness.ROOT, "sandbox", "files", "slo-templates.yaml")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("guard"))
    stack = harness.Stack(work, {"v1": dict(latency=0.005), "v2": dict(latency=0.005),
                                 "v3": dict(error_rate=0.3, latency=0.3)}, label="guard")
    try:
        yield stack
    finally:
        stack.stop()


def release(stack, tmp_path, canary, steps, guard):
    """Everything on stable with load through nginx, then router_release of ``canary``; (rc, result, seconds)."""
    name = "g%d" % (int(time.time() * 1000) % 10 ** 8)
    port = harness.free_port()
    router = dict(release=name, router="nginx", nginx=dict(
        stack.nginx.router_options(), listen="127.0.0.1:%d" % port,
        stable=["127.0.0.1:%d" % stack.apps["v1"].port], canary=["127.0.0.1:%d" % stack.apps[canary].port]))
    harness.run_playbook(harness.task("router_step", dict(router, action="set_weight", weight=0)), str(tmp_path),
                         expect_rc=0)
    gen = load.LoadGenerator("127.0.0.1", port, rps=60, max_seconds=240, max_requests=14400).start()
    try:
        started = time.time()
        rc, tasks, _out = harness.run_playbook(harness.task("router_release", dict(
            router, stable_version="v1", canary_version=canary, steps=steps, guard=guard,
            analysis={"template_file": TEMPLATES}, prometheus_url=stack.prometheus.url)), str(tmp_path))
        return rc, tasks[0], time.time() - started
    finally:
        gen.stop()


def test_the_guard_aborts_a_bad_canary_before_its_pause_ends(stack, tmp_path):
    steps = [{"setWeight": 20}, {"pause": {"duration": "90s"}}, {"analysis": {}}, {"setWeight": 100}]
    rc, result, seconds = release(stack, tmp_path, "v3", steps, {"interval": "2s", "failures": 2})
    assert rc != 0 and result["verdict"] == "rolled_back", result.get("msg")
    assert "guard: " in result["message"] and seconds < 90, (seconds, result["message"])
    state = result["state"]
    tripped = [e for e in state["history"] if e["event"] == "guard_tripped"][0]
    assert len(tripped["measurements"]) == 2 and all(m["number"] is not None for m in tripped["measurements"])
    assert [e for e in state["history"] if e["event"] == "aborted"][0]["by"] == "guard"
    assert not [e for e in state["history"] if e["event"] == "analysis"]  # decided before the step analysis
    print("guard: detected in %ss, walk ended after %.1fs of a 90s pause" % (result["time_to_detect_s"], seconds))


def test_a_healthy_canary_is_never_aborted_and_never_promoted_early(stack, tmp_path):
    steps = [{"setWeight": 20}, {"pause": {"duration": "8s"}}, {"analysis": {}}, {"setWeight": 60},
             {"pause": {"duration": "8s"}}, {"analysis": {}}, {"setWeight": 100}]
    rc, result, seconds = release(stack, tmp_path, "v2", steps, {"interval": "2s", "failures": 2})
    assert rc == 0 and result["verdict"] == "promoted", result.get("msg")
    history = result["state"]["history"]
    assert not [e for e in history if e["event"] == "guard_tripped"]
    started = [e for e in history if e["event"] == "started"][0]["t"]
    promoted = [e for e in history if e["event"] == "promoted"][0]["t"]
    assert promoted - started >= 16  # both pauses in full: the guard never shortens a step
