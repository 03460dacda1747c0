"""Overhead of analysis_check over raw queries, printed as ratios (never asserted).

Starts the real Prometheus and one demo app on 127.0.0.1, then for 1, 4 and 16 metrics times:
  curl    - the same PromQL queries sent one after another with curl
  engine  - the analysis engine in-process (module_utils, mode once: concurrent queries + evaluation)
  module  - analysis_check through ansible-playbook (process start, AnsiballZ, everything)
Each figure is the median of REPEAT runs; ratios are against curl for the same metric count.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import harness  # noqa: E402

harness.ensure_collection_path()
from ansible_collections.progressive.delivery.plugins.module_utils import analysis  # noqa: E402

REPEAT = 5
QUERY = 'sum(rate(http_requests_total{pod=~".*-bench1-.*",code!~"5.."}[10s])) / sum(rate(http_requests_total{pod=~".*-bench1-.*"}[10s]))'


def template(n):
    return {"metrics": [{"name": "m%d" % i, "successCondition": "len(result) > 0 && result[0] >= 0.9",
                         "provider": {"prometheus": {"query": QUERY}}} for i in range(n)]}


def median_time(fn):
    times = []
    for _attempt in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    curl = shutil.which("curl")
    work = tempfile.mkdtemp(prefix="bench-")
    app = harness.DemoApp(version="bench", load_rps=20, load_seconds=300)
    prom = None
    try:
        prom = harness.Prometheus([{"job": "bench", "address": "127.0.0.1:%d" % app.port,
                                    "labels": {"pod": "checkout-bench1-xyz"}}], work)
        prom.wait_for_data(QUERY, timeout=60)
        print("analysis_check overhead (median of %d runs; ratio = time / curl time)" % REPEAT)
        print("%8s %10s %10s %10s %14s %14s" % ("metrics", "curl s", "engine s", "module s", "engine/curl", "module/curl"))
        for n in (1, 4, 16):
            def raw():
                for _attempt in range(n):
                    if curl:
                        subprocess.run([curl, "-s", "-o", "/dev/null", "--data-urlencode", "query=" + QUERY,
                                        prom.url + "/api/v1/query"], check=True)
                    else:
                        prom.query(QUERY)

            def engine():
                metrics = analysis.prepare([template(n)], mode="once")[0]
                run = analysis.AnalysisRun(metrics, analysis.PrometheusProvider(url=prom.url)).run()
                assert run.phase == "Successful", run.message

            import json
            body = json.dumps(template(n))
            playbook = ("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: gate\n"
                        "      progressive.delivery.analysis_check:\n        template: !unsafe %s\n"
                        "        prometheus_url: %s\n        mode: once\n" % (body, prom.url))

            def module():
                rc, _tasks, out = harness.run_playbook(playbook, work)
                assert rc == 0, out[-2000:]

            t_raw, t_engine, t_module = median_time(raw), median_time(engine), median_time(module)
            row = (n, t_raw, t_engine, t_module, t_engine / t_raw, t_module / t_raw)
            print("%8d %10.3f %10.3f %10.3f %14.2f %14.2f" % row)
        print("(curl starts one process per query; the engine queries concurrently in one process;"
              " the module figure is dominated by ansible-playbook start-up)")
    finally:
        if prom:
            prom.stop()
        app.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
