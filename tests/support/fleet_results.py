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
    files = sorted(os.listdir(report_dir)) if os.path.isdir(report_dir) else []
    names = [n[:-5] for n in files if n.endswith(".json")]
    assert files == sorted(n + ext for n in names for ext in (".html", ".json"))
    return {n: read_json(os.path.join(report_dir, n + ".json")) for n in names}


def read_json(path):
    with open(path) as f:
        return json.load(f)


def listed(report):
    """(target, wave, runs, verdict) of each target of a fleet report, in wave order."""
    return [(t["target"], t["wave"], t["runs"], t["verdict"]) for t in report["targets"]]
