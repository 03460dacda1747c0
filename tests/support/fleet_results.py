"""What a fleet release run left, read the same way by the sandbox fleet tests and the Argo fleet tests."""

import json
import os


def said(tasks, name, out):
    """The message of the last task named ``name`` (its role prefix aside) in a JSON-callback run."""
    found = [t for t in tasks if t["_task"].endswith(" : " + name)]
    assert found, "no task %r:\n%s" % (name, out[-6000:])
    return found[-1]["msg"]


def fleet_reports(report_dir):
    """The fleet reports written so far: name -> the JSON report parsed (and its HTML page is there too)."""
    if not os.path.isdir(report_dir):
        return {}
    names = sorted(n[:-5] for n in os.listdir(report_dir) if n.endswith(".json"))
    assert sorted(os.listdir(report_dir)) == sorted(n + ext for n in names for ext in (".html", ".json"))
    reports = {}
    for name in names:
        with open(os.path.join(report_dir, name + ".json")) as f:
            reports[name] = json.load(f)
    return reports


def listed(report):
    """(target, wave, runs, verdict) of each target of a fleet report, in wave order."""
    return [(t["target"], t["wave"], t["runs"], t["verdict"]) for t in report["targets"]]
