"""A fleet release of N targets against N single releases one after another, and a fleet abort (issue 15).

Sandbox targets on 127.0.0.1 (sandbox/fleet.py: each its own real nginx and app processes, one real Prometheus,
a bounded load through every nginx), short pauses (one weight, 50%, pause 1s; soak 1s). For each N, through
ansible-playbook:
  sequential  - playbooks/canary_release.yml on one target at a time, v1 -> v2, N runs; the sum of their times
  fleet       - playbooks/fleet_release.yml, v2 -> v3 on all N in waves (1, 2, 4, ...; a wave in parallel), with
                the soak and the analysis gate between waves that the single runs do not have
  abort       - every target at 50% canary (router_step), then playbooks/emergency_rollback.yml over all N in one
                run, against the same rollback of one target times N
Printed as ratios measured in one run; never asserted. N = 3 and 10; 30 only with FLEET_BENCH_SIZES=3,10,30
(90 app processes and 30 nginx on this machine's cores; the reason is printed when it is skipped).
"""

import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "sandbox"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import fleet as sandbox_fleet  # noqa: E402
import harness  # noqa: E402

SIZES = [int(n) for n in os.environ.get("FLEET_BENCH_SIZES", "3,10").split(",") if n.strip()]
HEALTHY = dict(error_rate=0.0, latency=0.005)
VERSIONS = {"v1": HEALTHY, "v2": HEALTHY, "v3": HEALTHY}
CANARY_PLAY = "- name: one\n  ansible.builtin.import_playbook: %s\n" % os.path.join(
    ROOT, "playbooks", "canary_release.yml")


def single_release(fleet, inventory, target, version):
    start = time.time()
    rc, _tasks, out = harness.run_playbook(CANARY_PLAY, fleet.workdir, inventory=inventory, extra_vars={
        "target_hosts": target, "canary_release_canary_version": version, "fleet_release_version": version})
    if rc != 0:
        raise SystemExit("the single release of %s on %s failed (rc %d):\n%s" % (version, target, rc, out[-3000:]))
    return time.time() - start


def measure(count):
    work = tempfile.mkdtemp(prefix="bench-fleet-%d-" % count)
    fleet = sandbox_fleet.Fleet(work, count, versions=VERSIONS)
    try:
        fleet.serve_stable("v1", "v2", rps=5)
        first = fleet.inventory("v1", [50], "1s")
        sequential = sum(single_release(fleet, first, t, "v2") for t in fleet.targets)

        waves = sandbox_fleet.waves_of(fleet.targets)
        second = fleet.inventory("v2", [50], "1s")
        rc, lines, batches, fleet_s = fleet.release("v3", waves, "1s", second)
        if rc != 0 or batches != [sorted(w) for w in waves]:  # a batch's hosts come sorted
            raise SystemExit("the fleet release of v3 did not promote every wave (rc %d):\n%s" % (rc, "\n".join(lines)))

        fleet.set_weight(50, "v3", "v1")
        _rc, _said, one_abort = fleet.emergency_rollback(second, hosts=fleet.targets[:1])
        fleet.set_weight(50, "v3", "v1")
        _rc, _said, fleet_abort = fleet.emergency_rollback(second)
        return {"n": count, "waves": len(waves), "sequential": sequential, "fleet": fleet_s,
                "one_abort": one_abort, "fleet_abort": fleet_abort}
    finally:
        fleet.stop()


def main():
    subprocess.run(["make", "-s", "-C", ROOT, "collection"], check=True)
    rows = []
    for count in SIZES:
        print("fleet of %d targets ..." % count, flush=True)
        rows.append(measure(count))
    print("fleet release on sandbox targets (one weight 50%, pause 1s, soak 1s; healthy versions)")
    print("%4s %6s %14s %10s %12s %13s %12s %12s" % (
        "N", "waves", "N singles s", "fleet s", "fleet/sum", "1 abort s", "fleet abort", "abort/(N*1)"))
    for r in rows:
        print("%4d %6d %14.1f %10.1f %12.2f %13.1f %12.1f %12.2f" % (
            r["n"], r["waves"], r["sequential"], r["fleet"], r["fleet"] / r["sequential"], r["one_abort"],
            r["fleet_abort"], r["fleet_abort"] / (r["n"] * r["one_abort"])))
    if 30 not in SIZES:
        print("N=30 skipped: 90 app processes and 30 nginx on %d cores would take well over a few minutes here; "
              "run with FLEET_BENCH_SIZES=3,10,30 on a larger machine" % (os.cpu_count() or 1))


if __name__ == "__main__":
    main()
