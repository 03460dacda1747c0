"""`make demo-fleet`: one version to a fleet of targets in waves (issue 15), with real parts on 127.0.0.1.

Each target is its own real nginx with its own app processes - v1 (stable), v2 (a good release), v3 (a bad one:
errors and latency) - under a bounded load; one real Prometheus scrapes every app. Runs
playbooks/fleet_release.yml twice with ansible-playbook: v2 goes out wave by wave to every target, then v3 is
rolled back in the first wave and never reaches the others. Prints which version each target runs and why, and
the time taken; stops everything it started, also when interrupted.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

import harness  # noqa: E402  (ansible-playbook runs with the JSON callback)
import load  # noqa: E402
import processes  # noqa: E402

RELEASE = "shop"
SLO = os.path.join(HERE, "files", "slo-templates.yaml")
PLAY = "- name: fleet\n  ansible.builtin.import_playbook: %s\n" % os.path.join(ROOT, "playbooks", "fleet_release.yml")
VERSIONS = {"v1": dict(error_rate=0.0, latency=0.01), "v2": dict(error_rate=0.0, latency=0.01),
            "v3": dict(error_rate=0.3, latency=0.3)}


def log(msg):
    print(msg, flush=True)


def waves_of(targets):
    """A canary wave of one target, then the rest in waves of at most twice the previous one."""
    waves, rest, size = [targets[:1]], list(targets[1:]), 2
    while rest:
        waves.append(rest[:size])
        rest, size = rest[size:], size * 2
    return waves


class Fleet(processes.Fleet):
    """Targets t1..tN (processes.Fleet), under a bounded load each once they serve."""

    def __init__(self, workdir, count, versions=None):
        super(Fleet, self).__init__(workdir, ["t%d" % (i + 1) for i in range(count)], versions or VERSIONS)
        self.generators = []

    def nginx_options(self, target, stable, canary):
        return dict(self.nginx[target].router_options(), listen="127.0.0.1:%d" % self.ports[target],
                    stable=[self.pool(target, stable)], canary=[self.pool(target, canary)])

    def set_weight(self, weight, stable, canary):
        """Every target's nginx sends weight% to canary, the rest to stable (router_step, by hand)."""
        step = "    - name: %s sends %d%% to %s\n      progressive.delivery.router_step: %s\n"
        tasks = "".join(step % (t, weight, canary, json.dumps({
            "release": RELEASE, "router": "nginx", "action": "set_weight", "weight": weight,
            "nginx": self.nginx_options(t, stable, canary)})) for t in self.targets)
        harness.run_playbook("- hosts: localhost\n  gather_facts: false\n  tasks:\n" + tasks, self.workdir,
                             expect_rc=0)

    def serve_stable(self, stable="v1", canary="v2", rps=20):
        """Every target's nginx serves its stable pool, under a bounded load; wait until Prometheus sees it."""
        self.set_weight(0, stable, canary)
        for target in self.targets:
            self.generators.append(load.LoadGenerator("127.0.0.1", self.ports[target], rps=rps, max_seconds=900,
                                                      max_requests=rps * 900, workers=2).start())
        processes.wait_for(lambda: self.prometheus.query(
            'count(sum by (target) (rate(http_requests_total{app="fleet",version="%s"}[10s])) > 0) == %d'
            % (stable, len(self.targets))), 120, "traffic on every target in Prometheus", interval=0.5)

    def inventory(self, stable, weights, pause):
        """Each target an inventory host with its own canary_release_* host vars (its nginx, its pools); the canary
        pool follows the version the fleet releases. Also the emergency rollback's host vars."""
        hosts = {}
        for target in self.targets:
            nginx = dict(self.nginx[target].router_options(), listen="127.0.0.1:%d" % self.ports[target],
                         stable=[self.pool(target, stable)], canary=["{{ fleet_pools[fleet_release_version] }}"])
            hosts[target] = {
                "fleet_pools": {v: self.pool(target, v) for v in self.versions},
                "canary_release_name": RELEASE, "canary_release_router": "nginx",
                "canary_release_stable_version": stable, "canary_release_weights": weights,
                "canary_release_pause": pause, "canary_release_analysis": {"template_file": SLO},
                "canary_release_prometheus_url": self.prometheus.url, "canary_release_nginx": nginx,
                "emergency_rollback_nginx": self.nginx[target].router_options()}
        path = os.path.join(self.workdir, "fleet-%s.yml" % stable)
        with open(path, "w") as f:
            json.dump({"all": {"hosts": hosts}}, f)  # YAML is a superset of JSON
        return path

    def serving(self, target, seconds=2.0):
        """What this target's nginx served in the last seconds of load: {version: share of its requests}."""
        records = self.generators[self.targets.index(target)].window(time.time() - seconds, time.time())
        return {v: load.share(records, v) for v in sorted({r.version for r in records if r.version})}

    def ever_served(self, target, version):
        return any(r.version == version for r in self.generators[self.targets.index(target)].records)

    def release(self, version, waves, soak, inventory):
        """One fleet release: (rc, the report's lines, the batches (waves) that ran, seconds)."""
        start = time.time()
        rc, tasks, out = harness.run_playbook(PLAY, self.workdir, inventory=inventory, extra_vars={
            "fleet_release_version": version, "fleet_release_waves": waves, "fleet_release_soak": soak},
            env={"ANSIBLE_FORKS": str(max(5, max(len(w) for w in waves)))})  # a wave's targets all in parallel
        seconds = time.time() - start
        lines = [t["msg"] for t in tasks if t["_task"].endswith(" : Which target runs which version, and why")]
        if not lines:
            raise RuntimeError("the fleet release of %s printed no report (rc %d):\n%s" % (version, rc, out[-4000:]))
        plays = json.JSONDecoder().raw_decode(out)[0]["plays"]
        batches = [sorted({h for task in p["tasks"] for h in task["hosts"]}) for p in plays
                   if p["play"]["name"] == "Release the fleet, one wave a batch"]
        return rc, lines[-1], batches, seconds

    def emergency_rollback(self, inventory, hosts=None):
        """The fleet emergency rollback: the emergency_rollback playbook over every target (or ``hosts``), one run;
        (rc, {target: its summary lines}, seconds)."""
        hosts = hosts or self.targets
        start = time.time()
        rc, _tasks, out = harness.run_playbook(
            "- name: rollback\n  ansible.builtin.import_playbook: %s\n" % os.path.join(
                ROOT, "playbooks", "emergency_rollback.yml"), self.workdir, inventory=inventory, extra_vars={
                "target_hosts": ",".join(hosts), "emergency_rollback_controller": "ansible",
                "emergency_rollback_releases": RELEASE, "emergency_rollback_reason": "fleet emergency rollback"},
            env={"ANSIBLE_FORKS": str(max(5, len(hosts)))})
        seconds = time.time() - start
        said = {}
        for play in json.JSONDecoder().raw_decode(out)[0]["plays"]:
            for task in play["tasks"]:
                if task["task"]["name"].endswith("What was changed, and how long it took"):
                    said.update({h: r.get("msg") for h, r in task["hosts"].items()})
        if rc != 0 or set(said) != set(hosts):
            raise RuntimeError("the fleet emergency rollback failed (rc %d):\n%s" % (rc, out[-4000:]))
        return rc, said, seconds

    def stop(self):
        for gen in getattr(self, "generators", []):
            gen.stop()
        self.generators = []
        super(Fleet, self).stop()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--targets", type=int, default=3, help="how many targets (default 3)")
    p.add_argument("--pause", default="3s", help="pause after each weight (default 3s)")
    p.add_argument("--soak", default="4s", help="how long a promoted wave stays healthy before the next (default 4s)")
    p.add_argument("--rps", type=int, default=20, help="load through each target's nginx (default 20 requests/s)")
    args = p.parse_args(argv)
    if args.targets < 3:
        p.error("--targets: a fleet needs at least 3 targets (a canary wave and a larger one)")

    def interrupted(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupted)

    workdir = tempfile.mkdtemp(prefix="pd-fleet-")
    fleet = None
    t0 = time.time()
    try:
        log("sandbox fleet in %s" % workdir)
        fleet = Fleet(workdir, args.targets)
        fleet.serve_stable(rps=args.rps)
        for target in fleet.targets:
            log("  %s: nginx on 127.0.0.1:%d, apps %s" % (target, fleet.ports[target], ", ".join(
                "%s :%d" % (v, fleet.apps[target, v].port) for v in VERSIONS)))
        log("  prometheus on %s; load %d requests/s through each nginx (bounded: 900 s at most)"
            % (fleet.prometheus.url, args.rps))
        waves = waves_of(fleet.targets)
        log("  waves: %s; canary weights 25%%, 50%%, pause %s; soak %s"
            % (" then ".join("[%s]" % ", ".join(w) for w in waves), args.pause, args.soak))

        outcomes = []
        for stable, version, expect in (("v1", "v2", 0), ("v2", "v3", 2)):
            log("\nfleet release of %s over %s (playbooks/fleet_release.yml) ..." % (version, stable))
            inventory = fleet.inventory(stable, [25, 50], args.pause)
            rc, lines, batches, seconds = fleet.release(version, waves, args.soak, inventory)
            time.sleep(3.0)  # what is served after the release, not requests already in flight
            for line in lines:
                log("  " + line)
            log("  waves that ran: %s; %.0f s; ansible-playbook rc %d" % (
                " then ".join("[%s]" % ", ".join(b) for b in batches) or "none", seconds, rc))
            log("  served in the last 2 s: %s" % "; ".join("%s %s" % (t, " ".join(
                "%s %.0f%%" % (v, 100 * share) for v, share in fleet.serving(t).items())) for t in fleet.targets))
            outcomes.append((rc, lines, batches))

        (good_rc, good, _b), (bad_rc, bad, bad_batches) = outcomes
        untouched = [t for t in fleet.targets if t not in waves[0] and not fleet.ever_served(t, "v3")]

        log("\nby hand, every target sends 50% to v3 (router_step); the fleet emergency rollback "
            "(playbooks/emergency_rollback.yml over all targets, controller ansible) ...")
        fleet.set_weight(50, "v2", "v3")
        _rc, said, seconds = fleet.emergency_rollback(inventory)
        time.sleep(3.0)  # what is served after the rollback, not requests already in flight
        for target in fleet.targets:
            log("  %s: %s; %s" % (target, said[target][1], said[target][3]))
        served = {t: fleet.serving(t) for t in fleet.targets}
        log("  every target back on stable in one run: %.0f s; served in the last 2 s: %s" % (seconds, "; ".join(
            "%s %s" % (t, " ".join("%s %.0f%%" % (v, 100 * x) for v, x in s.items())) for t, s in served.items())))
        rolled_back = all(s == {"v2": 1.0} for s in served.values())
        ok = (rolled_back and good_rc == 0 and good[0].endswith(": promoted") and bad_rc != 0 and bad_batches == waves[:1]
              and len(untouched) == len(fleet.targets) - len(waves[0]))
        log("\n%s: v2 on every target, v3 stopped in wave 1 and never reached %s; %.0f s in all" % (
            "OK" if ok else "UNEXPECTED", ", ".join(untouched) or "-", time.time() - t0))
        return 0 if ok else 1
    except KeyboardInterrupt:
        log("\ninterrupted: stopping everything the sandbox fleet started")
        return 130
    finally:
        if fleet:
            fleet.stop()


if __name__ == "__main__":
    sys.exit(main())
