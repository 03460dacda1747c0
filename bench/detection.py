"""Fail fast, pass slow, measured (issue 13): the guide's production plan with every duration divided by 5,
on the sandbox (real Prometheus, real nginx, real app processes, bounded load through nginx).

The plan: setWeight 10, pause 60 s, then an analysis of success rate (>= 0.999) and p99 latency (< 150 ms)
every 12 s, 5 times, failureLimit 2; then 25, 50, 75 and 100 the same way. Each bad canary - 30% errors,
2% errors, p99 +200 ms - is released two ways: on the schedule alone (no guard), and with the guard
(every 2 s, 2 in a row) and the sequential test on request counts (guard-only). For each it prints the
time to detect, the time to restore and the failed requests the canary served to users, and the ratio
between the two ways. Then 10 healthy canaries, with the guard, on a shorter plan (pauses 12 s): how many
were aborted (goal 0), and how early each was promoted against its plan (goal: never early).

Figures are printed, never asserted. Run: .venv/bin/python bench/detection.py [--healthy 10]
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import harness  # noqa: E402
import load  # noqa: E402

SLO_LATENCY = 0.15


def template(guarded):
    """The guide's SLO template, scoped to the canary's version; with the SPRT as a guard-only metric."""
    scope = 'version="{{args.canary-version}}"'
    metrics = [
        {"name": "success-rate", "interval": "12s", "count": 5, "failureLimit": 2,
         "successCondition": "len(result) > 0 && result[0] >= 0.999",
         "provider": {"prometheus": {"query": 'sum(rate(http_requests_total{%s,code!~"5.."}[30s])) / '
                                              'sum(rate(http_requests_total{%s}[30s]))' % (scope, scope)}}},
        {"name": "latency-p99", "interval": "12s", "count": 5, "failureLimit": 2,
         "successCondition": "len(result) > 0 && result[0] < %g" % SLO_LATENCY,
         "provider": {"prometheus": {"query": "histogram_quantile(0.99, sum by (le) (rate("
                                              "http_request_duration_seconds_bucket{%s}[30s])))" % scope}}}]
    notes = {}
    if guarded:
        metrics.append({
            "name": "errors-sprt", "interval": "12s", "count": 5, "failureLimit": 0,
            "failureCondition": 'result.decision == "worse"', "successCondition": 'result.decision == "not_worse"',
            "provider": {"plugin": {"progressive-delivery/sequential": {
                "requests": "sum(increase(http_requests_total{%s}[5m]))" % scope,
                "errors": 'sum(increase(http_requests_total{%s,code=~"5.."}[5m]))' % scope,
                "slo": 0.999, "worse": 10, "alpha": 0.01, "beta": 0.01}}}})
        notes["progressive.delivery/guard-only"] = "errors-sprt"
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": {"name": "guide-slo", "annotations": notes},
            "spec": {"args": [{"name": "canary-version"}], "metrics": metrics}}


def plan(pause):
    steps = []
    for weight in (10, 25, 50, 75):
        steps += [{"setWeight": weight}, {"pause": {"duration": pause}}, {"analysis": {}}]
    return steps + [{"setWeight": 100}]


def release(stack, work, name, canary, guarded, pause, rps=20):
    """One release through ansible-playbook with load through nginx; what the users got from the canary."""
    port = harness.free_port()
    path = os.path.join(work, "%s.json" % name)
    with open(path, "w") as f:
        json.dump(template(guarded), f)
    router = dict(release=name, router="nginx", nginx=dict(
        stack.nginx.router_options(), listen="127.0.0.1:%d" % port,
        stable=["127.0.0.1:%d" % stack.apps["stable"].port], canary=["127.0.0.1:%d" % stack.apps[canary].port]))
    harness.run_playbook(harness.task("router_step", dict(router, action="set_weight", weight=0)), work, expect_rc=0)
    gen = load.LoadGenerator("127.0.0.1", port, rps=rps, max_seconds=900, max_requests=rps * 900).start()
    try:
        started = time.time()
        _rc, tasks, _out = harness.run_playbook(harness.task("router_release", dict(
            router, stable_version="stable", canary_version=canary, steps=plan(pause),
            analysis={"template_file": path, "args": {"canary-version": canary}},
            prometheus_url=stack.prometheus.url,
            guard={"enabled": guarded, "interval": "2s", "failures": 2})), work)
        ended = time.time()
    finally:
        gen.stop()
    result = tasks[0]
    if not result.get("verdict"):
        raise SystemExit("release %s of %s ended without a verdict: %s" % (name, canary, result.get("msg")))
    served = [r for r in gen.window(started, ended + 1) if r.version == canary]
    # every answer of the slow canary misses the latency SLO; of the others, the 5xx
    failed = served if canary.startswith("slow") else [r for r in served if r.code >= 500]
    return {"verdict": result.get("verdict"), "detect": result.get("time_to_detect_s"),
            "restore": result.get("time_to_restore_s"), "failed": len(failed), "seconds": ended - started,
            "decided": next((e.get("by") for e in reversed(result.get("state", {}).get("history", []))
                             if e["event"] in ("aborted", "promoted")), None),
            "history": result.get("state", {}).get("history", [])}


def ratio(a, b):
    return "%.1fx" % (a / b) if a and b else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--healthy", type=int, default=10)
    args = parser.parse_args()
    harness.ensure_collection_path()
    work = tempfile.mkdtemp(prefix="pd-detection-")
    bad = {"errors30": dict(error_rate=0.3, latency=0.005), "errors2": dict(error_rate=0.02, latency=0.005),
           "slow": dict(latency=0.205)}
    # one app a run: a version label no earlier run has put data under (rate windows would see that data)
    apps = dict(("%s-%s" % (name, way), behaviour) for name, behaviour in bad.items() for way in ("schedule", "guarded"))
    apps.update(stable=dict(latency=0.005), good=dict(latency=0.005))
    stack = harness.Stack(work, apps, label="detection")
    try:
        print("the guide's plan / 5: setWeight 10 -> pause 60s -> analysis every 12s x5 (failureLimit 2) -> 25 ...")
        print("%-10s %-9s %12s %12s %16s %10s" % ("canary", "way", "detect (s)", "restore (s)", "failed requests",
                                                  "decided by"))
        rows = {}
        for canary in ("errors30", "errors2", "slow"):
            for guarded in (False, True):
                app = "%s-%s" % (canary, "guarded" if guarded else "schedule")
                got = release(stack, work, "d%s%d" % (canary.replace("errors", "e"), int(guarded)), app, guarded, "60s")
                rows[(canary, guarded)] = got
                print("%-10s %-9s %12s %12s %16d %10s" % (canary, "guarded" if guarded else "schedule",
                                                          got["detect"], got["restore"], got["failed"], got["decided"]))
        print("\nratios, schedule / guarded:")
        for canary in ("errors30", "errors2", "slow"):
            slow_way, fast_way = rows[(canary, False)], rows[(canary, True)]
            print("  %-10s detect %s sooner, %s fewer failed requests" % (
                canary, ratio(slow_way["detect"], fast_way["detect"]), ratio(slow_way["failed"], fast_way["failed"])))

        print("\n%d healthy canaries with the guard (plan: pauses 12s, analyses every 12s x5):" % args.healthy)
        results = [None] * args.healthy

        def one(i):
            results[i] = release(stack, work, "healthy%d" % i, "good", True, "12s", rps=10)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(args.healthy)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        aborted = [r for r in results if r["verdict"] != "promoted"]
        print("  aborted: %d of %d (goal 0)" % (len(aborted), len(results)))
        for i, r in enumerate(results):
            events = dict((e["event"], e["t"]) for e in r["history"])
            took = events.get("promoted", 0) - events.get("started", 0)
            pauses = sum(e.get("seconds", 0) for e in r["history"] if e["event"] == "pause")
            analyses = [e for e in r["history"] if e["event"] == "analysis"]
            print("  healthy%d: %s after %.1fs; its pauses alone take %.0fs and its %d analyses ran in full "
                  "(promoted %s)" % (i, r["verdict"], took, pauses, len(analyses),
                                     "no earlier than the plan" if took >= pauses else "EARLY"))
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
