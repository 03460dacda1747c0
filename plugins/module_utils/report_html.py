# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTML reports with inline SVG plots: a release (timeline, weights, analysis values, verdicts,
durations) and a rollback drill. No plotting library: the charts are drawn here, so the report
opens anywhere (an AWX artifact, a mail attachment) without a network."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import json

from ansible_collections.progressive.delivery.plugins.module_utils.release.state import ReleaseState

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
         "padding:2px 8px;text-align:left}svg{display:block;margin:8px 0}.bad{color:#d62728}.good{color:#2ca02c}")


def _e(value):
    return html.escape("" if value is None else str(value))


def _polyline(points, x1, y1, width, height, color, dash=""):
    if not points:
        return ""
    sx = (width - 60) / float(max(1e-9, x1))
    sy = (height - 40) / float(max(1e-9, y1))
    coords = " ".join("%.1f,%.1f" % (50 + x * sx, height - 25 - y * sy) for x, y in points)
    return '<polyline fill="none" stroke="%s" stroke-width="2" %s points="%s"/>' % (
        color, 'stroke-dasharray="%s"' % dash if dash else "", coords)


def svg_plot(title, series, y_max, y_label, duration, width=900, height=260):
    """series: [(label, color, dash, [(t, y)])] with t from 0 to duration -> an SVG chart with axes and a legend."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s">'
             % (width, height, _e(title)),
             '<rect width="100%" height="100%" fill="white"/>',
             '<text x="50" y="16" font-size="14" font-family="sans-serif">%s</text>' % _e(title),
             '<line x1="50" y1="%d" x2="%d" y2="%d" stroke="#444"/>' % (height - 25, width - 10, height - 25),
             '<line x1="50" y1="25" x2="50" y2="%d" stroke="#444"/>' % (height - 25)]
    for frac in (0, 0.5, 1):
        y = height - 25 - frac * (height - 40)
        parts.append('<text x="4" y="%.0f" font-size="11" font-family="sans-serif">%s</text>'
                     % (y + 4, _e(("%.3g" % (frac * y_max)) + y_label)))
    parts.append('<text x="%d" y="%d" font-size="11" font-family="sans-serif">%.0fs</text>'
                 % (width - 40, height - 8, duration))
    for i, (label, color, dash, points) in enumerate(series):
        parts.append(_polyline(points, duration, y_max, width, height, color, dash))
        parts.append('<text x="%d" y="16" font-size="12" font-family="sans-serif" fill="%s">%s</text>'
                     % (330 + 170 * i, color, _e(label)))
    parts.append("</svg>")
    return "\n".join(parts)


def page(title, body):
    return ('<!doctype html><html><head><meta charset="utf-8"><title>%s</title><style>%s</style></head>'
            '<body><h1>%s</h1>\n%s\n</body></html>\n' % (_e(title), STYLE, _e(title), body))


def seconds(value):
    """A time as a float, or None (a drill's JSON may hold null, or a string from a template)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def release_html(state):
    """A release state (what router_release keeps beside the router; a ReleaseState or its dict) as an HTML page."""
    if not isinstance(state, ReleaseState):
        state = ReleaseState.from_dict(state)
    history = state.history
    if not history:
        raise ValueError("the release has no history to report")
    t0 = history[0]["t"]
    duration = max(1.0, history[-1]["t"] - t0)
    verdict = state.verdict.replace("_", " ")
    charts = [svg_plot("canary weight set at the router", [("canary weight", COLORS[0], "",
                                                            state.weight_series())], 100, "%", duration)]
    limits = state.thresholds()
    for i, (name, points) in enumerate(sorted(state.analysis_series().items())):
        lines = [("threshold %g" % th, "#d62728", "4,3", [(0.0, th), (duration, th)]) for th in limits.get(name, [])]
        top = max([y for _t, y in points] + list(limits.get(name, []))) * 1.2 or 1.0
        charts.append(svg_plot("analysis: %s" % name, [(name, COLORS[(i + 1) % len(COLORS)], "", points)] + lines,
                               top, "", duration, height=180))
    rows = []
    for ev in history:
        details = dict((k, v) for k, v in ev.items() if k not in ("at", "t", "event", "numbers", "conditions"))
        verdict_cell = details.pop("phase", "")
        rows.append("<tr><td>%.1fs</td><td>%s</td><td class=\"%s\">%s</td><td>%s</td></tr>" % (
            ev["t"] - t0, _e(ev["event"]), "bad" if verdict_cell in ("Failed", "Error") else "good",
            _e(verdict_cell), _e(", ".join("%s=%s" % (k, json.dumps(v, sort_keys=True))
                                           for k, v in sorted(details.items())))))
    steps = "".join("<tr><td>%s</td><td>%s%%</td><td>%s</td><td>%s</td></tr>" % (
        _e(s.get("step")), _e(s.get("weight")), _e(s.get("analysis_phase") or ""),
        _e(", ".join("%s=%s" % kv for kv in sorted((s.get("analysis_values") or {}).items()))))
        for s in state.step_results)
    decided = state.decided_by()
    summary = "<p>%s &rarr; %s: <b class=\"%s\">%s</b>%s &middot; %.1f s%s</p>" % (
        _e(state.previous_stable), _e(state.canary_version), "bad" if state.aborted else "good",
        _e(verdict), " (decided by %s)" % _e(decided) if decided else "", duration, " &middot; time to detect %s s &middot; time to restore %s s" % (
            _e(state.time_to_detect_s), _e(state.time_to_restore_s)) if state.aborted else "")
    body = "%s\n%s\n<h2>Steps</h2><table><tr><th>step</th><th>weight</th><th>analysis</th><th>values</th></tr>%s" \
           "</table>\n<h2>Timeline</h2><table><tr><th>elapsed</th><th>event</th><th>verdict</th><th>details</th></tr>" \
           "%s</table>" % (summary, "\n".join(charts), steps, "".join(rows))
    return page("release %s of %s" % (state.release or "", state.canary_version or ""), body)


def drill_html(report):
    """A rollback drill report (rollback_drill's JSON) as an HTML page."""
    detect, restore = report.get("time_to_detect_s"), report.get("time_to_restore_s")
    bars = [(label, seconds(v)) for label, v in (("time to detect", detect), ("time to restore", restore))
            if seconds(v) is not None]
    top = max([v for _l, v in bars] + [1.0]) * 1.2
    chart = ""
    if bars:  # one horizontal bar per measured time, against the 2-minute target of the guide
        target = 120.0
        scale = 700.0 / max(top, target)
        rects = "".join('<text x="4" y="%d" font-size="12">%s</text><rect x="130" y="%d" width="%.1f" height="18" '
                        'fill="%s"/><text x="%.1f" y="%d" font-size="12">%.2f s</text>' % (
                            30 + 30 * i, _e(label), 17 + 30 * i, v * scale, COLORS[i], 136 + v * scale, 30 + 30 * i, v)
                        for i, (label, v) in enumerate(bars))
        chart = ('<svg xmlns="http://www.w3.org/2000/svg" width="900" height="%d" role="img" aria-label="drill '
                 'times">%s<line x1="%.1f" y1="5" x2="%.1f" y2="%d" stroke="#d62728" stroke-dasharray="4,3"/>'
                 '<text x="%.1f" y="%d" font-size="11" fill="#d62728">2-minute target</text></svg>' % (
                     50 + 30 * len(bars), rects, 130 + target * scale, 130 + target * scale, 30 * len(bars) + 15,
                     134 + target * scale, 30 * len(bars) + 30))
    rows = "".join("<tr><th>%s</th><td>%s</td></tr>" % (_e(k), _e(json.dumps(v, sort_keys=True) if isinstance(
        v, (dict, list)) else v)) for k, v in sorted(report.items()))
    verdict = report.get("verdict", "")
    body = '<p>verdict: <b class="%s">%s</b></p>\n%s\n<table>%s</table>' % (
        "good" if verdict == "passed" else "bad", _e(verdict), chart, rows)
    return page("rollback drill of %s" % report.get("target", ""), body)
