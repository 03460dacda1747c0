"""The reports of a real rolled-back release, as CI and people read them.

A bad canary is released through playbooks/canary_release.yml on real nginx and Prometheus and rolled back by
its analysis. Its JUnit XML is read with xml.etree as CI tools read it; its HTML report, and a drill report of
the same release, are rendered by Debian's chromium (tests/support/install-system-deps.sh installs it) at a
phone's width and at a desktop's: the DOM holds the SVG charts with their lines and points, nothing overflows
the phone's width, and the screenshots (PNG, decoded here with zlib) show the charts' colours."""

import json
import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib

import pytest

import harness
from test_runbooks import routed

PHONE, DESKTOP = (390, 844), (1280, 900)
WEIGHT_BLUE, THRESHOLD_RED = (0x1F, 0x77, 0xB4), (0xD6, 0x27, 0x28)


def chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed: run tests/support/install-system-deps.sh (CI must render the reports)")
        pytest.skip("chromium is not installed (tests/support/install-system-deps.sh installs it)")
    return found


def browse(browser, workdir, url, size, *args):
    """chromium headless on a file:// page (its own profile directory, no network); returns stdout."""
    profile = os.path.join(workdir, "chromium-profile-%dx%d" % size)
    argv = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--hide-scrollbars", "--no-first-run", "--user-data-dir=%s" % profile,
            "--window-size=%d,%d" % size] + list(args) + [url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, cwd=workdir, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA PNG, decoded with zlib and the PNG filters."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour = header[:4]
    assert depth == 8 and colour in (2, 6), "PNG of bit depth %d, colour type %d" % (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            upleft = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upleft)) & 0xFF
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        previous = line
    return width, height, rows


def near(pixel, colour, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


PROBE = """<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0}
iframe{border:0;display:block}</style></head><body><iframe id="report" src="%s" width="%d" height="%d"></iframe>
<script>
// the report in a frame of exactly the device's size (chromium's window is at least 500 px wide), and what the
// browser laid out written into the DOM (the report itself has no script)
var frame = document.getElementById("report");
frame.onload = function () {
  var doc = frame.contentDocument, svgs = doc.querySelectorAll("svg");
  document.body.setAttribute("data-layout", JSON.stringify({
    viewport: frame.contentWindow.innerWidth, scroll: doc.documentElement.scrollWidth,
    charts: Array.prototype.map.call(svgs, function (e) { return e.getBoundingClientRect().width; }),
    points: doc.querySelectorAll("svg circle").length, lines: doc.querySelectorAll("svg polyline").length}));
};
</script></body></html>"""


def look_at(browser, workdir, page_path, size):
    """Render a page in a frame of ``size``: (what the browser laid out, the screenshot's pixels)."""
    probe = page_path + ".probe-%dx%d.html" % size
    with open(probe, "w") as f:
        f.write(PROBE % ((os.path.basename(page_path),) + size))
    dom = browse(browser, workdir, "file://" + probe, size, "--dump-dom", "--allow-file-access-from-files")
    start = dom.index("data-layout=")
    layout = json.loads(ET.fromstring("<b %s/>" % dom[start:dom.index("\"", start + 13) + 1]).get("data-layout"))
    shot = os.path.join(workdir, os.path.basename(page_path) + "-%dx%d.png" % size)
    browse(browser, workdir, "file://" + probe, size, "--screenshot=%s" % shot, "--allow-file-access-from-files")
    return layout, png_pixels(shot)


def assert_renders_with_charts(browser, workdir, page_path, charts):
    dom = browse(browser, workdir, "file://" + page_path, DESKTOP, "--dump-dom")
    first = ET.fromstring(dom[dom.index("<svg"):dom.index("</svg>") + 6])  # a chart, as the browser parsed it
    assert first.tag == "{http://www.w3.org/2000/svg}svg" and dom.count("<svg") == charts
    for size in (PHONE, DESKTOP):
        layout, (width, height, rows) = look_at(browser, workdir, page_path, size)
        assert layout["viewport"] == size[0] and layout["points"] > 0 and layout["lines"] > 0
        assert layout["scroll"] <= size[0], "the page is wider than the screen at %dx%d: %s" % (size + (layout,))
        assert len(layout["charts"]) == charts and all(0 < w <= size[0] for w in layout["charts"])
        if size == PHONE:
            assert all(w >= size[0] * 0.8 for w in layout["charts"]), layout  # a chart spans a phone's width
        assert (width, height) == size
        pixels = [p for row in rows for p in row]
        drawn = sum(1 for p in pixels if p != (255, 255, 255))
        assert drawn > len(pixels) * 0.02, "the screenshot at %dx%d is (almost) blank" % size
        assert any(near(p, WEIGHT_BLUE, 30) for p in pixels), "no chart colour in the screenshot at %dx%d" % size


def test_a_rolled_back_release_writes_junit_ci_reads_and_reports_a_browser_renders(playbook, tmp_path):
    import load
    browser = chromium()
    workdir = str(tmp_path)
    stack = harness.Stack(workdir, {"v1": {}, "v3": dict(error_rate=0.3, latency=0.3)}, label="junit")
    port, nginx = routed(playbook, stack, "pay", "v1", "v3", 0)
    gen = load.LoadGenerator("127.0.0.1", port, rps=60, max_seconds=150, max_requests=9000).start()
    reports = os.path.join(workdir, "reports")
    variables = {"canary_release_name": "pay", "canary_release_nginx": nginx, "canary_release_stable_version": "v1",
                 "canary_release_canary_version": "v3", "canary_release_pause": "3s",
                 "canary_release_analysis": {"template_file": os.path.join(harness.ROOT, "sandbox", "files",
                                                                           "slo-templates.yaml")},
                 "canary_release_prometheus_url": stack.prometheus.url, "canary_release_report_dir": reports}
    text = "- name: release\n  ansible.builtin.import_playbook: %s\n" % os.path.join(
        harness.ROOT, "playbooks", "canary_release.yml")
    try:
        harness.wait_for(lambda: stack.prometheus.query('sum(rate(http_requests_total{app="junit"}[10s])) > 0'),
                         60, "traffic in Prometheus")
        rc, tasks, out = playbook(text, extra_vars=variables)
        again = playbook(text, extra_vars=variables)  # the same release, run again: same files, no change
    finally:
        gen.stop()
        stack.stop()
    assert rc != 0 and "rolled back" in out, out[-3000:]
    noted = [t for t in tasks if t["_task"].endswith("notify : Note where the reports are")][0]
    paths = noted["ansible_facts"]["notify_release_report_paths"]
    assert sorted(paths) == ["html", "json", "junit"]
    with open(paths["json"]) as f:
        state = json.load(f)
    started = state["history"][0]["at"]
    stamp = started[:19].replace("-", "").replace(":", "") + "Z"
    assert paths["junit"] == os.path.join(reports, "pay-v3-%s.xml" % stamp)  # the release's start, in UTC
    assert sorted(os.listdir(reports)) == ["pay-v3-%s.%s" % (stamp, ext) for ext in ("html", "json", "xml")]
    rewritten = [t for t in again[1] if t["_task"].endswith("notify : Write the release report, JSON, HTML and JUnit XML")]
    assert again[0] != 0 and [r["changed"] for r in rewritten[0]["results"]] == [False, False, False]
    assert [t["_task"] for t in again[1] if t.get("changed")] == []
    assert sorted(os.listdir(reports)) == ["pay-v3-%s.%s" % (stamp, ext) for ext in ("html", "json", "xml")]

    # the JUnit XML, as CI tools read it
    root = ET.parse(paths["junit"]).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert suite.get("name") == "release pay v1 -> v3" and suite.get("tests") == root.get("tests") == str(len(cases))
    failures = [c for c in cases if c.find("failure") is not None]
    assert suite.get("failures") == root.get("failures") == str(len(failures)) and len(failures) >= 2
    assert suite.get("errors") == "0" and float(suite.get("time")) > 0 and suite.get("timestamp") == started[:19]
    assert all(c.get("classname") == "progressive.delivery.release.pay" and float(c.get("time")) >= 0 for c in cases)
    assert cases[0].get("name").endswith(": setWeight 10") and cases[-1].get("name") == "verdict"
    failed_analysis = [c for c in failures if ": analysis at " in c.get("name")][0]
    message = failed_analysis.find("failure").get("message")
    # the failing metric, its value and the threshold it missed (sandbox/files/slo-templates.yaml: >= 0.95)
    # (the run's message names success-rate: it comes first; latency-p95 may have missed its threshold too)
    assert message.startswith("success-rate=") and "(Failed: Metric \"success-rate\" assessed Failed" in message
    shown = message.split("=", 1)[1].split(" ", 1)[0]
    assert message.startswith("success-rate=%s not >= 0.95" % shown)
    assert 0 < float(shown) < 0.95 and len(shown) <= 6  # rounded
    verdict = cases[-1].find("failure")
    assert verdict.get("message").startswith("rolled back: success-rate=") and verdict.get("type") == "RolledBack"
    out_text = suite.find("system-out").text
    assert out_text.startswith("release pay v1 -> v3: ROLLED BACK in ") and "% set" in out_text

    # the HTML report, and a drill report of the same release, in a real browser
    assert_renders_with_charts(browser, workdir, paths["html"], charts=1 + len(
        [m for m in state["history"] if m["event"] == "analysis"][0]["numbers"]))
    drill = {"drill": "ansible", "target": "pay", "started_at": started, "bad_version": "v3",
             "rolled_back_without_a_human": True, "time_to_detect_s": state["time_to_detect_s"],
             "time_to_restore_s": state["time_to_restore_s"], "availability": 0.97, "slo": 0.95, "within_slo": True,
             "verdict": "passed", "failed_requests": 12, "release_state": state}
    drill_page = os.path.join(workdir, "drill.html")
    playbook("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: drill report\n"
             "      ansible.builtin.copy:\n        dest: %s\n"
             "        content: \"{{ drill | progressive.delivery.drill_report_html }}\"\n"
             "        mode: \"0644\"\n" % drill_page, extra_vars={"drill": drill}, expect_rc=0)
    with open(drill_page) as f:
        assert "rollback drill of pay: PASSED" in f.read()
    assert_renders_with_charts(browser, workdir, drill_page, charts=2 + len(
        [m for m in state["history"] if m["event"] == "analysis"][0]["numbers"]))
