"""The sandbox's reports: the printed timeline, sandbox-report.json, and an HTML page with plots.

The plots are inline SVG drawn here (no plotting library to install): canary weight set vs the
share measured at the router, and the error rate of stable and canary, per second."""

import html
import json


def timeline_lines(release):
    lines = ["", "release %s -> %s: %s" % (release["stable_version"], release["version"], release["verdict"].upper()),
             "  %7s  %-22s %7s %9s  %-40s %s" % ("elapsed", "step", "weight", "measured", "analysis", "verdict")]
    for row in release["timeline"]:
        lines.append("  %6.1fs  %-22s %7s %9s  %-40s %s" % (
            row["elapsed_s"], row["step"], "" if row.get("weight") is None else "%d%%" % row["weight"],
            "" if row.get("measured_canary_share") is None else "%.1f%%" % (100 * row["measured_canary_share"]),
            row.get("analysis", "")[:40], row.get("verdict", "")))
    if release["verdict"] == "rolled_back":
        lines.append("  detected in %.1fs after the canary's first request, all traffic back on stable %.2fs later"
                     % (release["time_to_detect_s"], release["time_to_restore_s"]))
    return lines


def write_json(path, report):
    with open(path, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)


def _polyline(points, x0, x1, y0, y1, width, height, color, dash=""):
    if not points:
        return ""
    sx = (width - 60) / float(max(1e-9, x1 - x0))
    sy = (height - 40) / float(max(1e-9, y1 - y0))
    coords = " ".join("%.1f,%.1f" % (50 + (x - x0) * sx, height - 25 - (y - y0) * sy) for x, y in points)
    return '<polyline fill="none" stroke="%s" stroke-width="2" %s points="%s"/>' % (
        color, 'stroke-dasharray="%s"' % dash if dash else "", coords)


def svg_plot(title, series, y_max, y_label, duration, width=900, height=260):
    """series: [(label, color, dash, [(t, y)])] -> an SVG chart with axes and a legend."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s">'
             % (width, height, html.escape(title)),
             '<rect width="100%" height="100%" fill="white"/>',
             '<text x="50" y="16" font-size="14" font-family="sans-serif">%s</text>' % html.escape(title),
             '<line x1="50" y1="%d" x2="%d" y2="%d" stroke="#444"/>' % (height - 25, width - 10, height - 25),
             '<line x1="50" y1="25" x2="50" y2="%d" stroke="#444"/>' % (height - 25)]
    for frac in (0, 0.5, 1):
        y = height - 25 - frac * (height - 40)
        parts.append('<text x="4" y="%.0f" font-size="11" font-family="sans-serif">%s</text>'
                     % (y + 4, ("%g" % (frac * y_max)) + y_label))
    parts.append('<text x="%d" y="%d" font-size="11" font-family="sans-serif">%.0fs</text>'
                 % (width - 40, height - 8, duration))
    for i, (label, color, dash, points) in enumerate(series):
        parts.append(_polyline(points, 0, duration, 0, y_max, width, height, color, dash))
        parts.append('<text x="%d" y="16" font-size="12" font-family="sans-serif" fill="%s">%s</text>'
                     % (330 + 170 * i, color, html.escape(label)))
    parts.append("</svg>")
    return "\n".join(parts)


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
<p>%s &middot; failed requests on the stable path: %d</p>
%s
%s
<table><tr><th>elapsed</th><th>step</th><th>weight</th><th>measured</th><th>analysis</th><th>verdict</th></tr>%s</table>
</section>""" % (html.escape(release["stable_version"]), html.escape(release["version"]), release["verdict"],
                 "time to detect: %.2f s &middot; time to restore: %.2f s" % (
                     release["time_to_detect_s"], release["time_to_restore_s"])
                 if release["verdict"] == "rolled_back" else "no rollback", release["stable_failures"],
                 weights, errors, rows))
    with open(path, "w") as f:
        f.write("""<!doctype html><html><head><meta charset="utf-8"><title>progressive.delivery sandbox</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;
padding:2px 8px;text-align:left}svg{display:block;margin:8px 0}</style></head><body>
<h1>progressive.delivery sandbox report</h1>%s</body></html>""" % "\n".join(sections))
