"""Rollback drills on the sandbox: time from the canary starting to fail to 100% back on stable.

Real Prometheus, real nginx, real app processes on 127.0.0.1 and a bounded load. Each of DRILLS
drills releases a canary that is healthy at first, then makes it fail (error rate 30%, latency
300 ms) right after its first weight is set, and lets router_release (through ansible-playbook)
detect and roll back. Detection = the failure starting -> the failed analysis verdict; router
update = the verdict -> nginx verified serving stable only. Printed against the guide's 2-minute
target as ratios; never asserted.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import harness  # noqa: E402
import load  # noqa: E402

DRILLS = int(os.environ.get("DRILLS", "5"))
TARGET_S = 120.0
TEMPLATES = os.path.join(ROOT, "sandbox", "files", "slo-templates.yaml")


def drill(n, apps, nginx, prometheus, work):
    release = "drill%d" % n
    port = harness.free_port()
    stable, canary = apps["stable"], apps["canary"]
    canary.control(error_rate=0.0, latency=0.005)
    variables = {"release": release, "router": "nginx",
                 "nginx": dict(nginx.router_options(), listen="127.0.0.1:%d" % port,
                               stable=["127.0.0.1:%d" % stable.port], canary=["127.0.0.1:%d" % canary.port]),
                 "stable_version": "stable", "canary_version": "canary-%d" % n, "pause": "3s",
                 "analysis": {"template_file": TEMPLATES, "args": {"canary-version": "canary"}},
                 "prometheus_url": prometheus.url}
    # route the listen port to stable before the drill starts
    to_stable = dict(release=release, router="nginx", nginx=variables["nginx"], action="set_weight", weight=0)
    harness.run_playbook(harness.task("router_step", to_stable), work, expect_rc=0)
    text = harness.task("router_release", variables)
    gen = load.LoadGenerator("127.0.0.1", port, rps=80, max_seconds=120, max_requests=9600).start()
    state_file = os.path.join(nginx.conf_dir, "pd-%s.state.json" % release)
    failing_since = {}

    def break_canary_once_it_has_traffic():
        deadline = time.time() + 60
        while time.time() < deadline and not failing_since:
            try:
                with open(state_file) as f:
                    if json.load(f).get("canary_traffic_since"):
                        canary.control(error_rate=0.3, latency=0.3)
                        failing_since["t"] = time.time()
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
    breaker = threading.Thread(target=break_canary_once_it_has_traffic, daemon=True)
    breaker.start()
    try:
        rc, tasks, out = harness.run_playbook(text, work)
    finally:
        breaker.join(timeout=5)
        gen.stop()
    result = tasks[0]
    if result.get("verdict") != "rolled_back" or "t" not in failing_since:
        raise SystemExit("drill %d did not roll back (rc %d): %s" % (n, rc, result.get("msg")))
    history = result["state"]["history"]
    verdict_t = [e for e in history if e["event"] == "analysis" and e["phase"] in ("Failed", "Error")][0]["t"]
    restored_t = verdict_t + result["time_to_restore_s"]
    stable_failures = sum(1 for r in gen.records if r.version == "stable" and r.code >= 500)
    return verdict_t - failing_since["t"], restored_t - verdict_t, stable_failures


def main():
    subprocess.run(["make", "-s", "-C", ROOT, "collection"], check=True)
    work = tempfile.mkdtemp(prefix="bench-rollback-")
    started = []
    try:
        stack = harness.Stack(work, {"stable": {}, "canary": {}}, label="drill")
        started.append(stack)
        apps, prometheus, nginx = stack.apps, stack.prometheus, stack.nginx
        rows = [drill(n, apps, nginx, prometheus, work) for n in range(DRILLS)]
    finally:
        for proc in reversed(started):
            proc.stop()
    print("rollback drills on the sandbox (%d drills; canary fails right after its first weight is set)" % DRILLS)
    print("%6s %12s %16s %10s %16s" % ("drill", "detect s", "router update s", "total s", "stable 5xx"))
    for i, (detect, update, failures) in enumerate(rows):
        print("%6d %12.2f %16.3f %10.2f %16d" % (i + 1, detect, update, detect + update, failures))
    totals = [d + u for d, u, _f in rows]
    print("median: detect %.2f s, router update %.3f s, total %.2f s" % (
        statistics.median([d for d, _u, _f in rows]), statistics.median([u for _d, u, _f in rows]),
        statistics.median(totals)))
    print("against the guide's 2-minute target: median total = %.3f of the target (%.0fx faster), worst %.3f"
          % (statistics.median(totals) / TARGET_S, TARGET_S / statistics.median(totals), max(totals) / TARGET_S))


if __name__ == "__main__":
    main()
