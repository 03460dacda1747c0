"""The HTML release and drill reports, their file names, and the filter plugins' documentation.

Releases are walked by the real walker on test_release's in-memory router (simulated time); the pages are
rendered in a real browser in tests/integration/test_report_browser.py."""

import glob
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.progressive.delivery.plugins.filter import report as report_filters
from ansible_collections.progressive.delivery.plugins.module_utils import report_html
from test_junit import walked

import harness

FILTER_DIR = os.path.join(harness.ROOT, "plugins", "filter")


def svg_charts(page):
    """Each inline SVG chart of a page, parsed (they must be well-formed XML on their own)."""
    return [ET.fromstring(svg) for svg in re.findall(r"<svg .*?</svg>", page, re.S)]


def test_a_promoted_release_reads_old_to_new_and_says_what_serves():
    state = walked(1000)
    page = report_html.release_html(state.to_dict())
    assert state.stable_version == "v2"  # after the promotion the state's stable is the new version...
    assert "<title>release checkout: v1 \u2192 v2</title>" in page  # ...the report still says where it came from
    assert "v2 &rarr; v2" not in page and "v2 \u2192 v2" not in page
    summary = re.search(r'<p class="summary">(.*?)</p>', page).group(1)
    assert summary.startswith("release checkout v1 -&gt; v2: promoted in 52s")
    assert "v2 serves 100%" in summary and "stable 0%" not in page


def test_a_rollback_report_has_a_summary_first_and_charts_with_points_axes_and_thresholds():
    state = walked(25)
    page = report_html.release_html(state)
    body = page[page.index("<body>"):]
    assert body.index('class="summary bad"') < body.index("<svg")  # the summary line comes first
    summary = re.search(r'<p class="summary bad">(.*?)</p>', page).group(1)
    assert summary.startswith("release checkout v1 -&gt; v2: ROLLED BACK in 26s")
    assert "success-rate=0.7333 not &gt;= 0.99" in summary and "v1 serves 100%" in summary
    charts = svg_charts(page)
    assert [c.get("aria-label") for c in charts] == [
        "canary weight set at the router", "analysis: latency-p95", "analysis: success-rate"]
    ns = "{http://www.w3.org/2000/svg}"
    for chart in charts:
        assert chart.get("viewBox") and not chart.get("width")  # scales with the page
        texts = [t.text for t in chart.iter(ns + "text")]
        assert "time since the start (UTC clock below)" in texts  # the time axis is labelled...
        assert any(re.match(r"^\d\d:\d\d:\d\dZ$", t or "") for t in texts)  # ...with clock time stamps
        assert chart.findall(ns + "circle")  # every measurement is a marker: one point still shows
    success = charts[2]
    assert len(success.findall(ns + "circle")) == 2
    assert "threshold 0.99" in [t.text for t in success.iter(ns + "text")]
    dashed = [p for p in success.findall(ns + "polyline") if p.get("stroke-dasharray")]
    assert len(dashed) == 1  # the threshold, drawn across the chart
    assert "0.24249999999999997" not in page and "latency-p95=0.2425 (&lt; 0.3)" in page
    # nothing from outside: no script, no stylesheet or font to fetch, no image from a server
    assert not re.search(r"<script|<link|<img|@import|url\(", page)
    assert [u for u in re.findall(r"https?://[^\"' ]+", page) if u != "http://www.w3.org/2000/svg"] == []
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_a_metric_named_like_a_table_cell_is_text_not_html():
    # metric names and messages come from the user's analysis: a name that looks like a cell must stay text
    state = json.loads(json.dumps(walked(25).to_dict()).replace("success-rate", "<td><b>x</b>"))
    page = report_html.release_html(state)
    assert "<b>x</b>" not in page and "&lt;td&gt;&lt;b&gt;x&lt;/b&gt;" in page
    assert re.search(r'<td class="bad">Failed</td>', page)  # the verdict cells are still built as cells


def test_a_single_measurement_draws_a_marker_and_no_empty_line():
    state = walked(10)  # fails at the first analysis: one point per metric
    charts = svg_charts(report_html.release_html(state))
    ns = "{http://www.w3.org/2000/svg}"
    for chart in charts[1:]:
        assert len(chart.findall(ns + "circle")) == 1
        assert [p for p in chart.findall(ns + "polyline") if not p.get("stroke-dasharray")] == []


def test_the_drill_report_has_its_summary_its_times_and_the_release_it_ran():
    state = walked(25, canary="v3")
    report = {"drill": "ansible", "target": "shop", "started_at": "2026-11-30T04:12:00+00:00", "bad_version": "v3",
              "rolled_back_without_a_human": True, "time_to_detect_s": 26.0, "time_to_restore_s": 0.004,
              "availability": 0.97123456, "slo": 0.95, "within_slo": True, "verdict": "passed",
              "failed_requests": 117, "release_state": state.to_dict()}
    page = report_filters.FilterModule().filters()["drill_report_html"](report)
    summary = re.search(r'<p class="summary">(.*?)</p>', page).group(1)
    assert summary == ("rollback drill of shop: PASSED · v3 rolled back without a human · detected in 26s, "
                       "restored in 0.0s (target 2m00s each) · availability 97.12% (SLO 95%) · 117 requests failed")
    charts = svg_charts(page)
    assert charts[0].get("aria-label") == "drill times" and len(charts) == 4  # times, weight, two metrics
    assert "2-minute target" in page and "26s" in page and "seconds" in page
    assert "The release it ran: v1 \u2192 v3" in page and "0.97123456" not in page


def test_report_names_carry_the_start_so_a_second_release_of_a_version_keeps_the_first_report():
    name = report_filters.release_report_name
    first = walked(1000)
    assert name(first.to_dict()) == "checkout-v2-%s" % first.history[0]["at"][:19].replace("-", "").replace(
        ":", "") + "Z"
    assert re.match(r"^checkout-v2-\d{8}T\d{6}Z$", name(first.to_dict()))
    second = walked(1000)  # the simulated clock has moved on: the same version, released again
    assert name(second.to_dict()) != name(first.to_dict())
    odd = dict(first.to_dict(), release="../shop", canary_version="registry/app:v2 beta")
    assert re.match(r"^shop-registry_app_v2_beta-\d{8}T\d{6}Z$", name(odd))  # no path out of the report dir
    filters = report_filters.FilterModule().filters()
    with pytest.raises(AnsibleFilterError, match="release_report_name: the release has no history"):
        filters["release_report_name"]({"release": "shop"})
    with pytest.raises(AnsibleFilterError, match="release_junit: expected a dictionary"):
        filters["release_junit"]("not a state")


def test_every_filter_is_documented_in_a_yaml_file_ansible_doc_renders():
    from ansible_collections.progressive.delivery.plugins.filter import dashboards, duration, lint, promql
    names = set()
    for module in (dashboards, duration, lint, promql, report_filters):
        names.update(module.FilterModule().filters())
    docs = dict((os.path.basename(p)[:-4], p) for p in glob.glob(os.path.join(FILTER_DIR, "*.yml")))
    assert sorted(docs) == sorted(names)
    for name, path in docs.items():
        with open(path) as f:
            doc = yaml.safe_load(f)
        assert doc["DOCUMENTATION"]["name"] == name and doc["DOCUMENTATION"]["short_description"]
        assert "_input" in doc["DOCUMENTATION"]["options"] and doc["RETURN"]["_value"]["type"]
        assert "progressive.delivery.%s" % name in doc["EXAMPLES"]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(harness.ROOT, ".build", "collections"))
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    listed = subprocess.run([ansible_doc, "-t", "filter", "-l", "progressive.delivery"], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == len(names) and "UNDOCUMENTED" not in listed.stdout
    shown = subprocess.run([ansible_doc, "-t", "filter", "progressive.delivery.release_junit"], env=env,
                           capture_output=True, text=True, timeout=300, check=False)
    assert shown.returncode == 0 and "The JUnit XML document." in shown.stdout and "OPTIONS" in shown.stdout
