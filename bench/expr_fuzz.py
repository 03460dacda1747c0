"""Fuzz the condition evaluator: crashes, hangs and memory blow-ups over many inputs (issue 16, point 7).

Inputs come from the generator of tests/unit/test_expr_fuzz.py (grammar + mutation, fixed seed).
Each input runs in a worker process with an address-space cap (RLIMIT_AS); the parent is a watchdog:

  crash           the evaluator raised anything but ExprError (counted per distinct file:line)
  hang            no answer within --timeout seconds (the worker is killed and replaced)
  memory blow-up  MemoryError, or the worker died under its memory cap

    .venv/bin/python bench/expr_fuzz.py [--count 50000] [--seed 20260716] [--timeout 2] [--memory-mb 512]

Prints the counts, the distinct crash sites and the slowest input; exits 1 when any count is not 0.
"""

import argparse
import importlib.util
import multiprocessing
import multiprocessing.connection
import os
import resource
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import harness  # noqa: E402

harness.ensure_collection_path()


def _load_generator():
    path = os.path.join(ROOT, "tests", "unit", "test_expr_fuzz.py")
    spec = importlib.util.spec_from_file_location("test_expr_fuzz", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _vm_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _worker(conn, memory_mb):
    from ansible_collections.progressive.delivery.plugins.module_utils.expr import Expression, ExprError
    limit = _vm_bytes() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        index, text, result = job
        start = time.perf_counter()
        try:
            Expression(text).evaluate({"result": result})
            outcome, site = "value", None
        except ExprError:
            outcome, site = "error", None
        except MemoryError:
            outcome, site = "memory", None
        except Exception as e:  # pylint: disable=broad-except
            frames = [f for f in traceback.extract_tb(e.__traceback__) if "module_utils" in f.filename]
            where = frames[-1] if frames else traceback.extract_tb(e.__traceback__)[-1]
            outcome, site = "crash", "%s:%d %s" % (os.path.basename(where.filename), where.lineno, type(e).__name__)
        conn.send((index, outcome, site, time.perf_counter() - start))


class _Slot(object):
    def __init__(self, memory_mb):
        self.memory_mb = memory_mb
        self.job = None
        self.started = 0.0
        self.start()

    def start(self):
        self.conn, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=_worker, args=(child, self.memory_mb), daemon=True)
        self.proc.start()
        child.close()

    def restart(self):
        self.proc.kill()
        self.proc.join()
        self.conn.close()
        self.start()

    def send(self, job):
        self.job = job
        self.started = time.perf_counter()
        self.conn.send(job)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=20260716)
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds before an input counts as a hang")
    parser.add_argument("--memory-mb", type=int, default=512, help="address space a worker may add")
    parser.add_argument("--heavy", type=float, default=0.05, help="share of atoms that are costly values")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    gen = _load_generator().Generator(args.seed, heavy=args.heavy)
    jobs = [(i,) + gen.case() for i in range(args.count)]
    counts = {"value": 0, "error": 0, "crash": 0, "hang": 0, "memory": 0}
    sites, examples = {}, []
    slowest = (0.0, None)
    begin = time.perf_counter()
    slots = [_Slot(args.memory_mb) for _worker_index in range(max(1, args.workers))]
    pending = list(reversed(jobs))
    for slot in slots:
        if pending:
            slot.send(pending.pop())
    while any(slot.job is not None for slot in slots):
        busy = [slot for slot in slots if slot.job is not None]
        now = time.perf_counter()
        wait = max(0.01, min(slot.started + args.timeout - now for slot in busy))
        ready = multiprocessing.connection.wait([slot.conn for slot in busy], timeout=wait)
        for slot in busy:
            job = slot.job
            outcome, site, elapsed = None, None, None
            if slot.conn in ready:
                try:
                    _index, outcome, site, elapsed = slot.conn.recv()
                except (EOFError, OSError):
                    outcome = "memory"          # the worker died: its memory cap, most likely
                    slot.restart()
            elif time.perf_counter() - slot.started > args.timeout:
                outcome, elapsed = "hang", time.perf_counter() - slot.started
                slot.restart()
            if outcome is None:
                continue
            counts[outcome] += 1
            if elapsed is not None and elapsed > slowest[0]:
                slowest = (elapsed, job[1])
            if outcome in ("crash", "hang", "memory"):
                if site:
                    sites[site] = sites.get(site, 0) + 1
                if len(examples) < 10:
                    examples.append("%s: %r (result=%r) %s" % (outcome, job[1][:200], job[2], site or ""))
            slot.job = None
            if pending:
                slot.send(pending.pop())
    for slot in slots:
        slot.conn.close()
        slot.proc.kill()
        slot.proc.join()

    elapsed = time.perf_counter() - begin
    print("inputs:               %d (seed %d, %d workers, %.0f s)" % (args.count, args.seed, len(slots), elapsed))
    print("values / ExprErrors:  %d / %d" % (counts["value"], counts["error"]))
    print("crashes:              %d" % counts["crash"])
    print("hangs (> %.1f s):      %d" % (args.timeout, counts["hang"]))
    print("memory blow-ups:      %d (cap: +%d MB address space per worker)" % (counts["memory"], args.memory_mb))
    print("distinct crash sites: %d" % len(sites))
    for site, n in sorted(sites.items(), key=lambda kv: -kv[1]):
        print("  %5d  %s" % (n, site))
    for example in examples:
        print("  e.g. " + example)
    print("slowest input:        %.3f s  %r" % (slowest[0], (slowest[1] or "")[:120]))
    return 1 if counts["crash"] or counts["hang"] or counts["memory"] else 0


if __name__ == "__main__":
    sys.exit(main())
