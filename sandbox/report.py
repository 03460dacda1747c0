"""The sandbox's reports: the printed timeline, sandbox-report.json, and an HTML page with plots.

The plots are inline SVG (plugins/module_utils/report_html.py, no plotting library to install): canary
weight set vs the share measured at the router, and the error rate of stable and canary, per second."""

import html
import json
import os
import sys

# the collection's own chart code, shared with the release and drill reports of the roles, imported as the
# collection (make demo lays the repository out as .build/collections/ansible_collections/progressive/delivery)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".build", "collections"))
from ansible_collections.progressive.delivery.plugins.module_utils import evidence  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.progressive.delivery.plugins.module_utils.report_html import (  # noqa: E402
    page, svg_plot)  # pylint: disable=wrong-import-position


def timeline_lines(release):
    lines = ["", "release %s -> %s: %s" % (release["stable_version"], release["version"], release["verdict"].upper()),
             "  %7s  %-22s %7s %9s  %-40s %s" % ("elapsed", "step", "weight", "measured", "analysis", "verdict")]
    for row in release["timeline"]:
        lines.append("  %7s  %-22s %7s %9s  %-40s %s" % (
            evidence.duration_text(row["elapsed_s"]), row["step"], "" if row.get("weight") is None else "%d%%" % row["weight"],
            "" if row.get("measured_canary_share") is None else "%.1f%%" % (100 * row["measured_canary_share"]),
            row.get("analysis", "")[:40], row.get("verdict", "")))
    if release["verdict"] == "rolled_back":
        lines.append("  detected in %s after the canary's first request, all traffic back on stable %s later%s"
                     % (evidence.duration_text(release["time_to_detect_s"]),
                        evidence.duration_text(release["time_to_restore_s"]),
                        " - during the mirror phase" if release.get("rolled_back_in_mirror_phase") else ""))
    lines.append("  " + canary_failures_text(release))
    return lines


def canary_failures_text(release):
    """The canary's failed requests users got (load generator; Prometheus' mirrored="false"), and its failed
    answers to copies (Prometheus' mirrored="true"), which nobody received."""
    counted = release.get("prometheus_canary_failed") or {}
    text = "failed requests served to users by %s: %d (load generator)" % (
        release["version"], release["canary_failures_to_users"])
    if counted.get("users") is not None:
        text += ", %d (Prometheus, mirrored=\"false\")" % counted["users"]
    if counted.get("copies"):
        text += "; failed answers to copies, discarded: %d" % counted["copies"]
    return text


def mirror_summary_lines(percentage_run, mirror_run):
    """The closing comparison of `make demo-mirror`: the same bad build as a percentage canary and behind a mirror."""
    def users(release):
        counted = (release.get("prometheus_canary_failed") or {}).get("users")
        return "%d (Prometheus: %s)" % (release["canary_failures_to_users"], "?" if counted is None else counted)
    return ["", "the same bad build, failed requests served to users by the canary:",
            "  percentage canary (%s): %s" % (percentage_run["version"], users(percentage_run)),
            "  behind a %d%% mirror first (%s): %s, rolled back %s; its failed answers to copies (discarded): %s" % (
                mirror_run["mirror"][0]["percentage"] if mirror_run["mirror"] else 0, mirror_run["version"],
                users(mirror_run), "in the mirror phase" if mirror_run["rolled_back_in_mirror_phase"] else
                "after the mirror phase", (mirror_run.get("prometheus_canary_failed") or {}).get("copies", "?"))]


def write_json(path, report):
    with open(path, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)


def write_html(path, report):
    sections = []
    for release in report["releases"]:
        series = release["series"]
        duration = max([p[0] for p in series["weight_set"]] + [1])
        weights = svg_plot("%s: canary weight, set and measured" % release["version"], [
            ("weight set", "#1f77b4", "", series["weight_set"]),
            ("measured canary share", "#ff7f0e", "4,3", series["measured_share"])], 100, "%", duration)
        errors = svg_plot("%s: error rate, stable vs canary" % release["version"], [
            ("stable", "#2ca02c", "", series["stable_error_rate"]),
            ("canary", "#d62728", "", series["canary_error_rate"])], 100, "%", duration)
        rows = "".join("<tr><td>%.1fs</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            r["elapsed_s"], html.escape(r["step"]), "" if r.get("weight") is None else "%d%%" % r["weight"],
            "" if r.get("measured_canary_share") is None else "%.1f%%" % (100 * r["measured_canary_share"]),
            html.escape(r.get("analysis", "")), html.escape(r.get("verdict", ""))) for r in release["timeline"])
        sections.append("""<section><h2>%s &rarr; %s: %s</h2>
<p>%s &middot; failed requests on the stable path: %d &middot; %s</p>
<div class="charts">%s
%s</div>
<div class="scroll"><table><tr><th>elapsed</th><th>step</th><th>weight</th><th>measured</th><th>analysis</th><th>verdict</th></tr>%s</table></div>
</section>""" % (html.escape(release["stable_version"]), html.escape(release["version"]), release["verdict"],
                 "time to detect: %.2f s &middot; time to restore: %.2f s" % (
                     release["time_to_detect_s"], release["time_to_restore_s"])
                 if release["verdict"] == "rolled_back" else "no rollback", release["stable_failures"],
                 html.escape(canary_failures_text(release)), weights, errors, rows))
    with open(path, "w") as f:
        f.write(page("progressive.delivery sandbox report", "\n".join(sections)))
