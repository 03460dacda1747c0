# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTML reports with inline SVG plots: a release (one summary line, the weight and each analysis value over
time with its thresholds, the steps, the timeline) and a rollback drill. No plotting library and nothing
external (no CDN, no font, no script): the charts are drawn here, so the report opens anywhere (an AWX
artifact, a mail attachment) without a network. The charts scale to the page (viewBox), one per row on a
phone and two on a desktop."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import math

from ansible_collections.progressive.delivery.plugins.module_utils import evidence
from ansible_collections.progressive.delivery.plugins.module_utils.release.state import ReleaseState

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
THRESHOLD = "#d62728"
STYLE = ("body{font-family:sans-serif;margin:0 auto;padding:12px;max-width:1000px;line-height:1.4;color:#222}"
         "h1{font-size:1.4em;margin:.3em 0}h2{font-size:1.15em;margin:1em 0 .3em}"
         ".summary{font-size:1.05em;padding:8px 12px;border-left:6px solid #2ca02c;background:#f3f8f3}"
         ".summary.bad{border-color:#d62728;background:#fbf1f1}"
         ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(440px,100%),1fr));gap:12px}"
         "svg{display:block;width:100%;height:auto;max-width:900px}"
         ".scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9em}"
         "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}td:last-child{overflow-wrap:anywhere}"
         ".bad{color:#b71c1c}.good{color:#1b5e20}")
WIDTH, HEIGHT = 480, 230  # the charts' own units; drawn at the page's width
LEFT, RIGHT, BOTTOM = 52, 12, 46  # room for the value axis, and for the time axis with its two label rows
FONT = 'font-family="sans-serif"'


def nice_ceiling(value):
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten) at or above
    ``value``, so that the value axis reads 0, 0.3, 0.6, 0.9, 1.2 rather than 0.299, 0.598..."""
    if not value or value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10 * power


def _e(value):
    return html.escape("" if value is None else str(value))


def _legend(series, width):
    """Legend entries laid out in rows that fit the chart: [(x, y, label, color, dash)], and the rows used."""
    out, x, row = [], LEFT, 0
    for label, color, dash, _points in series:
        size = 26 + 6.2 * len(label)
        if x + size > width - RIGHT and x > LEFT:
            x, row = LEFT, row + 1
        out.append((x, 34 + 15 * row, label, color, dash))
        x += size + 10
    return out, row + 1


def svg_plot(title, series, y_max, y_label, duration, width=WIDTH, height=HEIGHT, start=None, x_label=None,
             y_title=None):
    """series: [(label, color, dash, [(t, y)])] with t from 0 to duration -> an SVG chart: a title, a legend,
    a value axis (``y_title``, ticks with ``y_label`` as unit) and a time axis (elapsed, and the UTC clock
    when ``start`` - epoch seconds - is given). A series of one point, or a dashed one, still shows: every
    measured point is drawn as a marker."""
    legend, rows = _legend(series, width)
    top = 30 + 15 * rows
    plot_h = height - top - BOTTOM
    plot_w = width - LEFT - RIGHT
    duration = max(1e-9, float(duration))
    y_max = float(y_max) if y_max else 1.0

    def px(t):
        return LEFT + plot_w * min(max(t, 0.0), duration) / duration

    def py(y):
        return top + plot_h - plot_h * min(max(y, 0.0), y_max) / y_max

    parts = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s">'
             % (width, height, _e(title)),
             '<title>%s</title>' % _e(title),
             '<rect width="100%" height="100%" fill="white"/>',
             '<text x="4" y="16" font-size="14" font-weight="bold" %s>%s</text>' % (FONT, _e(title))]
    for x, y, label, color, dash in legend:
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"%s/>' % (
            x, y - 4, x + 18, y - 4, color, ' stroke-dasharray="%s"' % dash if dash else ""))
        parts.append('<text x="%.1f" y="%d" font-size="11" %s fill="%s">%s</text>' % (x + 22, y, FONT, color, _e(label)))
    for frac in (0, 0.25, 0.5, 0.75, 1):  # value axis: grid lines and ticks
        y = py(frac * y_max)
        parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e4e4e4"/>' % (LEFT, y, width - RIGHT, y))
        parts.append('<text x="%d" y="%.1f" font-size="10" text-anchor="end" %s>%s%s</text>' % (
            LEFT - 4, y + 3, FONT, _e(evidence.number_text(frac * y_max, 3)), _e(y_label)))
    for frac in (0, 0.25, 0.5, 0.75, 1):  # time axis: elapsed, and the clock time under it
        t = frac * duration
        x = px(t)
        anchor = "start" if frac == 0 else "end" if frac == 1 else "middle"
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#444"/>' % (x, top + plot_h, x, top + plot_h + 4))
        parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="%s" %s>%s</text>' % (
            x, top + plot_h + 15, anchor, FONT, _e(evidence.duration_text(t))))
        if start is not None:
            parts.append('<text x="%.1f" y="%d" font-size="9" fill="#666" text-anchor="%s" %s>%s</text>' % (
                x, top + plot_h + 26, anchor, FONT, _e(evidence.clock(start + t) + "Z")))
    parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#444"/>' % (LEFT, top + plot_h, width - RIGHT,
                                                                            top + plot_h))
    parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#444"/>' % (LEFT, top, LEFT, top + plot_h))
    x_label = x_label or ("time since the start" + (" (UTC clock below)" if start is not None else ""))
    parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle" %s>%s</text>' % (
        LEFT + plot_w / 2.0, height - 4, FONT, _e(x_label)))
    if y_title:
        parts.append('<text transform="translate(11,%.1f) rotate(-90)" font-size="10" text-anchor="middle" %s>%s</text>'
                     % (top + plot_h / 2.0, FONT, _e(y_title)))
    for label, color, dash, points in series:
        coords = ["%.1f,%.1f" % (px(t), py(y)) for t, y in points]
        if len(coords) > 1:
            parts.append('<polyline class="series" fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (
                color, ' stroke-dasharray="%s"' % dash if dash else "", " ".join(coords)))
        if not dash:  # measured points as markers: one measurement still shows
            for t, y in points:
                parts.append('<circle class="point" cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s: %s at %s</title>'
                             '</circle>' % (px(t), py(y), color, _e(label), _e(evidence.number_text(y)),
                                            _e(evidence.duration_text(t))))
    parts.append("</svg>")
    return "\n".join(parts)


def page(title, body, summary=None, bad=False):
    """A whole page: viewport for phones, the style inline, the summary line first."""
    head = '<p class="summary%s">%s</p>\n' % (" bad" if bad else "", _e(summary)) if summary else ""
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>%s</title><style>%s</style></head><body><h1>%s</h1>\n%s%s\n</body></html>\n'
            % (_e(title), STYLE, _e(title), head, body))


seconds = evidence.seconds


class _Cell(str):
    """A table cell built here, already escaped. Its type marks it, not its text: a metric name or message
    that happens to start with "<td" is still escaped."""


def _table(headers, rows):
    return '<div class="scroll"><table><tr>%s</tr>%s</table></div>' % (
        "".join("<th>%s</th>" % _e(h) for h in headers),
        "".join("<tr>%s</tr>" % "".join(cell if isinstance(cell, _Cell) else "<td>%s</td>" % _e(cell)
                                        for cell in row)
                for row in rows))


def _phase_cell(phase):
    return _Cell('<td class="%s">%s</td>' % ("bad" if phase in ("Failed", "Error") else "good" if phase else "",
                                             _e(phase)))


def release_charts(state):
    """The weight chart and one chart per analysed metric, with its thresholds, as SVG strings."""
    history = state.history
    t0 = history[0]["t"]
    duration = max(1.0, evidence.release_duration(state))
    charts = [svg_plot("canary weight set at the router", [
        ("canary weight (%s)" % (state.canary_version or "canary"), COLORS[0], "", state.weight_series())],
        100, "%", duration, start=t0, y_title="weight")]
    limits = state.thresholds()
    for i, (name, points) in enumerate(sorted(state.analysis_series().items())):
        points = [(t, evidence.round_number(y)) for t, y in points]
        lines = [("threshold %s" % evidence.number_text(th), THRESHOLD, "5,3", [(0.0, th), (duration, th)])
                 for th in limits.get(name, [])]
        top = nice_ceiling(max([y for _t, y in points] + list(limits.get(name, [])) + [0.0]) * 1.1)
        charts.append(svg_plot("analysis: %s" % name, [(name, COLORS[(i + 1) % len(COLORS)], "", points)] + lines,
                               top, "", duration, start=t0, y_title="value"))
    return charts


def release_body(state):
    """The release's charts, steps and timeline (a page's body, also a drill's second half)."""
    analyses = state.events("analysis")
    steps = []
    for i, result in enumerate(state.step_results):
        # an analysis belongs to the setWeight before it (record_analysis keeps it there)
        until = state.step_results[i + 1].get("step") if i + 1 < len(state.step_results) else None
        found = [ev for ev in analyses if isinstance(ev.get("step"), int) and ev["step"] >= (result.get("step") or 0)
                 and (until is None or ev["step"] < until)]
        values = "; ".join(text for _n, text, _o in evidence.analysis_metrics(found[-1])) if found else ", ".join(
            "%s=%s" % (k, evidence.number_text(v)) for k, v in sorted((result.get("analysis_numbers") or {}).items()))
        steps.append(["%s/%d" % ((result.get("step") or 0) + 1, len(state.steps)), "%s%%" % result.get("weight"),
                      _phase_cell(result.get("analysis_phase") or ""), values])
    timeline = [[evidence.duration_text(t), event, _phase_cell(phase), details]
                for t, event, phase, details in evidence.timeline(state.history)]
    return '<div class="charts">%s</div>\n<h2>Steps</h2>%s\n<h2>Timeline</h2>%s' % (
        "\n".join(release_charts(state)), _table(["step", "weight", "analysis", "values (thresholds)"], steps),
        _table(["elapsed", "event", "verdict", "details"], timeline))


def canary_failed_counts(counts):
    """``{users, copies}`` - the canary's failed requests served to users and its failed answers to a mirror's
    copies (which nobody received) - checked: whole numbers, or None when not measured."""
    if counts is None:
        return None
    if not isinstance(counts, dict) or set(counts) - {"users", "copies"}:
        raise ValueError("canary_failed must be a dictionary {users: N, copies: N} (the canary's failed requests "
                         "served to users and its failed answers to copies), got %r" % (counts,))
    out = {}
    for key in ("users", "copies"):
        value = counts.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise ValueError("canary_failed.%s must be a count (a number of requests, 0 or more), got %r" % (key, value))
        out[key] = None if value is None else int(round(value))
    return out


def canary_failed_text(counts):
    """"the canary's failed requests: 0 served to users, 412 answers to copies (discarded)"."""
    counts = canary_failed_counts(counts)
    if not counts or (counts["users"] is None and counts["copies"] is None):
        return ""
    parts = []
    if counts["users"] is not None:
        parts.append("%d served to users" % counts["users"])
    if counts["copies"] is not None:
        parts.append("%d answer%s to copies (discarded)" % (counts["copies"], "" if counts["copies"] == 1 else "s"))
    return "the canary's failed requests: " + ", ".join(parts)


def release_html(state, failed=None, canary_failed=None):
    """A release state (what router_release keeps beside the router; a ReleaseState or its dict) as an HTML
    page; ``failed``: the requests that failed during it, when someone counted them; ``canary_failed``: the
    canary's failed requests served to users and to a mirror's copies (``{users, copies}``), when measured."""
    if not isinstance(state, ReleaseState):
        state = ReleaseState.from_dict(state)
    if not state.history:
        raise ValueError("the release has no history to report")
    decided = state.decided_by()
    facts = ["%s &rarr; %s" % (_e(state.previous_stable), _e(state.canary_version)),
             '<b class="%s">%s</b>%s' % ("bad" if state.aborted else "good", _e(state.verdict.replace("_", " ")),
                                         " (decided by %s)" % _e(decided) if decided else ""),
             evidence.duration_text(evidence.release_duration(state))]
    if state.aborted:
        facts.append("time to detect %s &middot; time to restore %s" % (
            _e(evidence.duration_text(state.time_to_detect_s)), _e(evidence.duration_text(state.time_to_restore_s))))
    served = canary_failed_text(canary_failed)
    if served:
        facts.append('<span class="canary-failed">%s</span>' % _e(served))
    body = "<p>%s</p>\n%s" % (" &middot; ".join(facts), release_body(state))
    return page("release %s: %s \u2192 %s" % (state.release or "", state.previous_stable or "?",
                                              state.canary_version or "?"),
                body, summary=evidence.release_summary(state, failed), bad=state.verdict == "rolled_back")


def drill_chart(report):
    """Time to detect and to restore as horizontal bars against the guide's 2-minute target."""
    bars = [(label, seconds(report.get(key))) for label, key in (("time to detect", "time_to_detect_s"),
                                                                 ("time to restore", "time_to_restore_s"))]
    bars = [(label, v) for label, v in bars if v is not None]
    if not bars:
        return ""
    target = evidence.DRILL_TARGET_S
    top = nice_ceiling(max([v for _l, v in bars] + [target]) * 1.1)
    left, width, plot_w = 110, WIDTH, WIDTH - 110 - 20
    height = 40 + 34 * len(bars) + 40
    scale = plot_w / top
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="drill times">'
             % (width, height), "<title>drill times against the 2-minute target</title>",
             '<rect width="100%" height="100%" fill="white"/>',
             '<text x="4" y="16" font-size="14" font-weight="bold" %s>time to detect and to restore</text>' % FONT]
    base = 40 + 34 * len(bars)
    for i, (label, v) in enumerate(bars):
        y = 34 + 34 * i
        parts.append('<text x="%d" y="%d" font-size="11" text-anchor="end" %s>%s</text>' % (
            left - 6, y + 14, FONT, _e(label)))
        parts.append('<rect class="bar" x="%d" y="%d" width="%.1f" height="20" fill="%s"/>' % (
            left, y, max(1.5, v * scale), COLORS[i]))
        parts.append('<text x="%.1f" y="%d" font-size="11" %s>%s</text>' % (
            left + max(1.5, v * scale) + 4, y + 14, FONT, _e(evidence.duration_text(v))))
    for frac in (0, 0.2, 0.4, 0.6, 0.8, 1):
        x = left + frac * plot_w
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#444"/>' % (x, base, x, base + 4))
        parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle" %s>%s</text>' % (
            x, base + 15, FONT, _e(evidence.duration_text(frac * top))))
    parts.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#444"/>' % (left, base, left + plot_w, base))
    parts.append('<line x1="%d" y1="30" x2="%d" y2="%d" stroke="#444"/>' % (left, left, base))
    tx = left + target * scale
    parts.append('<line x1="%.1f" y1="28" x2="%.1f" y2="%d" stroke="%s" stroke-dasharray="5,3"/>' % (
        tx, tx, base, THRESHOLD))
    parts.append('<text x="%.1f" y="26" font-size="10" text-anchor="end" fill="%s" %s>2-minute target</text>' % (
        tx, THRESHOLD, FONT))
    parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle" %s>seconds</text>' % (
        left + plot_w / 2.0, height - 4, FONT))
    parts.append("</svg>")
    return "\n".join(parts)


def drill_html(report):
    """A rollback drill report (rollback_drill's JSON) as an HTML page: the summary line, the times against
    the target, the facts, and the release the drill ran (charts, steps, timeline) when the report holds it."""
    report = dict(report)
    state = report.pop("release_state", None)
    verdict = report.get("verdict", "")
    rows = [[k, evidence.number_text(v) if isinstance(v, float) else str(v)] for k, v in sorted(report.items())]
    body = '<p>verdict: <b class="%s">%s</b></p>\n<div class="charts">%s</div>\n<h2>The drill</h2>%s' % (
        "good" if verdict == "passed" else "bad", _e(verdict), drill_chart(report), _table(["what", "found"], rows))
    if state and state.get("history"):
        state = ReleaseState.from_dict(state)
        body += "\n<h2>The release it ran: %s</h2>\n<p>%s</p>\n%s" % (
            _e("%s \u2192 %s" % (state.previous_stable, state.canary_version)), _e(evidence.release_summary(state)),
            release_body(state))
    return page("rollback drill of %s" % report.get("target", ""), body, summary=evidence.drill_summary(report),
                bad=verdict != "passed")
