"""`make demo`: the whole job on one machine, with real parts on 127.0.0.1.

Starts the real Prometheus and the real nginx (Debian packages), three app processes exporting
real metrics - v1 (stable), v2 (a good release), v3 (a bad one: errors and latency set here) - and a
bounded load generator through nginx. Then runs playbooks/canary_release.yml twice with
ansible-playbook: v1 -> v2 is promoted step by step, v2 -> v3 is rolled back by its analysis.
Prints a timeline, writes sandbox-report.json and sandbox-report.html, and stops everything it
started, also when interrupted.

With ``--mirror`` (`make demo-mirror`), a dark canary follows: v4, the same bad build as v3, released over v2
behind a traffic mirror first (setMirrorRoute: half of the GET requests copied to the canary, its answers
discarded; an analysis on its answers to the copies only). It is rolled back during the mirror phase, and the
summary sets the failed requests users got from the canary in both bad releases side by side - counted by the
load generator and, from the apps' mirrored="false" series, by Prometheus.
"""

import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import load  # noqa: E402
import processes  # noqa: E402
import report  # noqa: E402

RELEASE = "checkout"
APPS = {"v1": dict(error_rate=0.0, latency=0.01), "v2": dict(error_rate=0.0, latency=0.01),
        "v3": dict(error_rate=0.3, latency=0.3)}
COHORTS = {"internal": 20, "enterprise": 23}  # one request in N carries the cohort header
MIRROR_PERCENT = 50


def mirror_plan(pause):
    """The dark canary's plan: copies first, judged on the canary's answers to them (arg mirrored="true" of
    files/slo-templates.yaml), then the percentage canary - only if the copies were served well."""
    steps = [{"setMirrorRoute": {"name": "dark", "percentage": MIRROR_PERCENT, "match": [{"method": {"exact": "GET"}}]}},
             {"pause": {"duration": pause}},
             {"analysis": {"args": [{"name": "mirrored", "value": "true"}]}},
             {"setMirrorRoute": {"name": "dark"}}]
    for weight in (10, 25, 50, 75):
        steps += [{"setWeight": weight}, {"pause": {"duration": pause}}, {"analysis": {}}]
    return steps + [{"setWeight": 100}]


def log(msg):
    print(msg, flush=True)


def run_release(workdir, nginx, listen, apps, prometheus, stable, canary, pause, out, steps=None, cohorts=None):
    """One canary_release playbook run (``steps``: a plan of its own, else weights and pause); returns (rc, seconds).
    The release report (in workdir/reports) counts the canary's failed requests to users and to copies."""
    variables = {
        "canary_release_name": RELEASE, "canary_release_router": "nginx",
        "canary_release_nginx": dict(nginx.router_options(), listen=listen,
                                     stable=["127.0.0.1:%d" % apps[stable].port],
                                     canary=["127.0.0.1:%d" % apps[canary].port]),
        "canary_release_stable_version": stable, "canary_release_canary_version": canary,
        "canary_release_pause": pause,
        "canary_release_analysis": {"template_file": os.path.join(HERE, "files", "slo-templates.yaml")},
        "canary_release_prometheus_url": prometheus.url,
        "canary_release_steps": steps or [],
        "canary_release_cohorts": cohorts or {"always_canary": ["internal"], "never_canary": ["enterprise"]},
        "canary_release_report_dir": os.path.join(workdir, "reports"),
        "canary_release_report_selector": {"version": canary},
        "notify_release_scrape_margin_s": 3,  # Prometheus scrapes the apps every second here
    }
    var_file = os.path.join(workdir, "release-%s.json" % canary)
    with open(var_file, "w") as f:
        json.dump(variables, f)
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_HOME=os.path.join(workdir, ".ansible"))
    start = time.time()
    with open(out, "a") as f:
        rc = subprocess.call([os.path.join(bin_dir, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                              "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "@" + var_file,
                              os.path.join(ROOT, "playbooks", "canary_release.yml")],
                             stdout=f, stderr=subprocess.STDOUT, env=env, cwd=workdir)
    return rc, time.time() - start


def sandbox_router(nginx, listen, stable_port, canary_port):
    """The collection's own nginx router for the sandbox's release."""
    collections = os.path.join(ROOT, ".build", "collections")
    if not os.path.isdir(collections):
        raise RuntimeError("%s is missing; run `make demo` (it lays the collection out there)" % collections)
    sys.path.insert(0, collections)
    from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import NginxRouter
    return NginxRouter(RELEASE, listen=listen, stable=["127.0.0.1:%d" % stable_port],
                       canary=["127.0.0.1:%d" % canary_port], **nginx.router_options())


def route_all_to_stable(router):
    """Serve the release from v1 before any release starts."""
    from ansible_collections.progressive.delivery.plugins.module_utils.routers import Routing
    router.reconcile(Routing(0, active=False))


def release_state(router):
    """The release as the router keeps it (release.ReleaseState), read through the router's own store."""
    from ansible_collections.progressive.delivery.plugins.module_utils.release import ReleaseState
    return ReleaseState.from_dict(router.state_store().read())


def prometheus_counts(workdir, canary):
    """The canary's failed requests as the release report counted them in Prometheus - {users, copies} - or None."""
    reports = glob.glob(os.path.join(workdir, "reports", "%s-%s-*.json" % (RELEASE, canary)))
    if not reports:
        return None
    with open(max(reports, key=os.path.getmtime)) as f:
        return json.load(f).get("canary_failed")


def per_second(records, t0, t1, fn):
    """[(seconds since t0, fn(records of that second))] for seconds with records."""
    out = []
    for s in range(int(t1 - t0) + 1):
        window = [r for r in records if t0 + s <= r.t < t0 + s + 1]
        if window:
            value = fn(window)
            if value is not None:
                out.append((s, value))
    return out


def error_rate(version):
    def rate(window):
        mine = [r for r in window if r.version == version]
        return 100.0 * sum(1 for r in mine if r.code >= 500) / len(mine) if mine else None
    return rate


def describe_release(state, gen, t0, t1):
    """Timeline rows, per-step results and plot series from the state's history and the load records."""
    history = state.history
    stable, canary = state.previous_stable, state.canary_version
    rows, steps = [], []
    routing_events = ("set_weight", "aborted", "promoted")
    for i, event in enumerate(history):
        # a weight holds until the next routing change
        end = next((e["t"] for e in history[i + 1:] if e["event"] in routing_events), t1)
        row = {"elapsed_s": round(event["t"] - t0, 1), "step": event["event"]}
        if event["event"] == "set_weight":
            measured = load.share(gen.window(event["t"] + 0.2, end), canary)  # 0.2 s: requests already in flight
            row.update(step="setWeight %d" % event["weight"], weight=event["weight"],
                       measured_canary_share=measured)
            steps.append({"weight": event["weight"], "measured_canary_share": measured, "analysis_phase": None,
                          "requests": len(gen.window(event["t"] + 0.2, end))})
        elif event["event"] == "mirror_set":
            row.update(step="setMirrorRoute %d%% %s" % (event["percentage"], "/".join(event["methods"])))
        elif event["event"] == "mirror_removed":
            row.update(step="setMirrorRoute removed")
        elif event["event"] == "pause":
            row.update(step="pause %gs" % event["seconds"])
        elif event["event"] == "analysis":
            numbers = event.get("numbers") or {}
            values = " ".join("%s=%s" % (k, report.evidence.number_text(numbers[k] if numbers.get(k) is not None else v))
                              for k, v in sorted((event.get("values") or {}).items()))
            row.update(step="analysis", analysis=values, verdict=event["phase"])
            if steps:
                steps[-1]["analysis_phase"] = event["phase"]
                steps[-1]["analysis_values"] = event.get("values")
        elif event["event"] == "aborted":
            row.update(step="abort: 100% to stable", weight=0, verdict="rolled back")
        elif event["event"] == "promoted":
            row.update(step="promoted", weight=100, verdict="promoted",
                       measured_canary_share=load.share(gen.window(event["t"] + 0.2, t1), canary))
        rows.append(row)
    start = history[0]["t"] - t0  # the series count from the release's start; the plot from t0
    weight_set = [(start + t, w) for t, w in state.weight_series(until=t1)]
    records = gen.window(t0, t1)
    aborted = state.events("aborted")
    rollback_window = gen.window(aborted[0]["t"] - 1, t1) if aborted else []
    # rolled back before any user was routed to the canary: while its only traffic was the mirror's copies
    in_mirror_phase = bool(aborted) and bool(state.events("mirror_set")) and not [
        e for e in history if e["event"] == "set_weight" and e.get("weight") and e["t"] <= aborted[0]["t"]]
    return {
        "version": canary, "stable_version": stable,
        "verdict": {"in_progress": "unfinished", "paused": "unfinished"}.get(state.verdict, state.verdict),
        "time_to_detect_s": state.time_to_detect_s, "time_to_restore_s": state.time_to_restore_s,
        "steps": steps, "timeline": rows,
        "requests": len(records),
        "stable_failures": sum(1 for r in records if r.version == stable and r.code >= 500),
        "router_failures": sum(1 for r in records if r.code == 0),
        "stable_failures_during_rollback": sum(1 for r in rollback_window if r.version == stable and r.code >= 500),
        # what users got from the canary, as the load generator (the users, every cohort) saw it
        "canary_failures_to_users": sum(1 for r in list(gen.records) if t0 <= r.t < t1 and r.version == canary
                                        and r.code >= 500),
        "mirror": [dict(percentage=e["percentage"], methods=e["methods"]) for e in state.events("mirror_set")],
        "rolled_back_in_mirror_phase": in_mirror_phase,
        "series": {"weight_set": weight_set,
                   "measured_share": per_second(records, t0, t1, lambda w: 100 * load.share(w, canary)),
                   "stable_error_rate": per_second(records, t0, t1, error_rate(stable)),
                   "canary_error_rate": per_second(records, t0, t1, error_rate(canary))},
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pause", default="4s", help="pause after each weight (default 4s)")
    p.add_argument("--rps", type=int, default=100, help="load through nginx (default 100 requests/s)")
    p.add_argument("--report-dir", default=os.getcwd())
    p.add_argument("--mirror", action="store_true",
                   help="then the dark canary: v4, v3's bad build again, behind a traffic mirror first (make demo-mirror)")
    args = p.parse_args(argv)
    apps_wanted = dict(APPS, v4=APPS["v3"]) if args.mirror else APPS
    releases = [("v1", "v2", None), ("v2", "v3", None)] + ([("v2", "v4", mirror_plan(args.pause))] if args.mirror else [])

    def interrupted(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupted)

    workdir = tempfile.mkdtemp(prefix="pd-sandbox-")
    started = []
    gen = None
    ansible_log = os.path.join(workdir, "ansible.log")
    try:
        log("sandbox in %s (ansible output: %s)" % (workdir, ansible_log))
        stack = processes.Stack(workdir, apps_wanted, label="checkout")
        started.append(stack)
        apps, prometheus, nginx = stack.apps, stack.prometheus, stack.nginx
        for version, behaviour in apps_wanted.items():
            log("  app %s on 127.0.0.1:%d (error rate %.0f%%, latency %.0f ms)" % (
                version, apps[version].port, 100 * behaviour["error_rate"], 1000 * behaviour["latency"]))
        log("  prometheus on %s" % prometheus.url)
        listen_port = processes.free_port()
        listen = "127.0.0.1:%d" % listen_port
        log("  nginx, release %s served on %s" % (RELEASE, listen))
        # a first routing, everything on v1, so the load has somewhere to go
        router = sandbox_router(nginx, listen, apps["v1"].port, apps["v2"].port)
        route_all_to_stable(router)
        gen = load.LoadGenerator("127.0.0.1", listen_port, rps=args.rps, max_seconds=900,
                                 max_requests=args.rps * 900, cohorts=COHORTS).start()
        prometheus.wait_for_data('sum(rate(http_requests_total{version="v1"}[10s])) > 0', timeout=60)
        log("  load: %d requests/s through nginx (bounded: 900 s at most); internal and enterprise cohorts "
            "by header" % args.rps)

        results = []
        for stable, canary, steps in releases:
            log("\nreleasing %s over %s (playbooks/canary_release.yml%s) ..." % (
                canary, stable, ", behind a %d%% GET mirror first" % MIRROR_PERCENT if steps else ""))
            t0 = time.time()
            # a dark canary serves no user: the internal cohort too stays on stable while only copies reach it
            rc, seconds = run_release(workdir, nginx, listen, apps, prometheus, stable, canary, args.pause,
                                      ansible_log, steps)
            time.sleep(1.0)  # a second of traffic after the last change, for the plots
            t1 = time.time()
            state = release_state(router)
            if state is None or state.canary_version != canary:
                raise RuntimeError("the playbook did not start the release of %s (rc %d); see %s"
                                   % (canary, rc, ansible_log))
            described = describe_release(state, gen, t0, t1)
            described["playbook_rc"] = rc
            described["prometheus_canary_failed"] = prometheus_counts(workdir, canary)
            results.append(described)
            for line in report.timeline_lines(described):
                log(line)
        gen.stop()

        out = {"releases": results, "router": "nginx", "prometheus": prometheus.url,
               "load_requests": len(gen.records)}
        json_path = os.path.join(args.report_dir, "sandbox-report.json")
        html_path = os.path.join(args.report_dir, "sandbox-report.html")
        report.write_json(json_path, out)
        report.write_html(html_path, out)
        log("\nreports: %s, %s" % (json_path, html_path))
        good, bad = results[:2]
        ok = good["verdict"] == "promoted" and bad["verdict"] == "rolled_back"
        if args.mirror:
            dark = results[2]
            ok = ok and dark["verdict"] == "rolled_back" and dark["rolled_back_in_mirror_phase"]
            for line in report.mirror_summary_lines(bad, dark):
                log(line)
        log("%s: v2 %s, v3 %s%s; %d requests, %d failed on the stable path during the rollback" % (
            "OK" if ok else "UNEXPECTED", good["verdict"], bad["verdict"],
            ", v4 %s%s" % (results[2]["verdict"], " in its mirror phase" if results[2]["rolled_back_in_mirror_phase"]
                           else "") if args.mirror else "",
            out["load_requests"], bad["stable_failures_during_rollback"]))
        return 0 if ok else 1
    except KeyboardInterrupt:
        log("\ninterrupted: stopping everything the sandbox started")
        return 130
    finally:
        if gen:
            gen.stop()
        for proc in reversed(started):
            proc.stop()


if __name__ == "__main__":
    sys.exit(main())
