"""The JUnit XML of a release and of a drill, read back with xml.etree as CI tools read it.

The release is walked by the real walker (release.Release) on the in-memory router of test_release, with
simulated time; the rolled-back release through ansible-playbook is in tests/integration/test_report_browser.py."""

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import evidence, junit
from test_release import MemoryRouter, clock, make

FAILING = 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)'


def analysis_failing_at(weight_limit):
    """An analyze() that passes below ``weight_limit``% and fails from it on (success-rate 0.733 < 0.99)."""
    def analyze(step, state, sleep=None):
        clock.sleep(3)
        good = state.canary_weight < weight_limit
        return {"phase": "Successful" if good else "Failed", "message": "" if good else FAILING, "metrics": [
            {"name": "success-rate", "phase": "Successful" if good else "Failed",
             "success_condition": "len(result) > 0 && result[0] >= 0.99",
             "measurements": [{"value": "[0.997]" if good else "[0.7333333333333333]",
                               "number": [0.997 if good else 0.7333333333333333]}]},
            {"name": "latency-p95", "phase": "Successful", "success_condition": "result[0] < 0.3",
             "measurements": [{"value": "[0.24249999999999997]", "number": [0.24249999999999997]}]}]}
    return analyze


def walked(weight_limit, canary="v2"):
    r = make(analyze=analysis_failing_at(weight_limit), router=MemoryRouter())
    r.begin("v1", canary)
    return r.run()


def parse(xml_text):
    root = ET.fromstring(xml_text.encode("utf-8"))
    assert root.tag == "testsuites"
    return root


def test_a_rolled_back_release_is_a_failed_test_naming_the_metric_and_threshold():
    state = walked(25)
    assert state.verdict == "rolled_back"
    root = parse(junit.release_junit(state.to_dict()))
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    # the counts CI tools read, on the suite and the document
    assert suite.get("tests") == str(len(cases)) == root.get("tests")
    failed = [c for c in cases if c.find("failure") is not None]
    assert suite.get("failures") == root.get("failures") == str(len(failed)) == "2"  # the analysis and the verdict
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert suite.get("skipped") == str(len(skipped)) and suite.get("errors") == "0"
    assert suite.get("name") == "release checkout v1 -> v2"
    # one case per plan step (13 in the default plan), then the verdict
    names = [c.get("name") for c in cases]
    assert names[:4] == ["step 01/13: setWeight 10", "step 02/13: pause 10s", "step 03/13: analysis at 10%",
                         "step 04/13: setWeight 25"]
    assert names[-1] == "verdict" and len(names) == 14
    assert all(c.get("classname") == "progressive.delivery.release.checkout" for c in cases)
    assert all(float(c.get("time")) >= 0 for c in cases) and float(cases[1].get("time")) == 10.0
    # the failing analysis: the metric, its rounded value and the threshold it missed, and Argo's message
    analysis = cases[5]
    assert analysis.get("name") == "step 06/13: analysis at 25%"
    message = analysis.find("failure").get("message")
    assert message.startswith("success-rate=0.7333 not >= 0.99 (Failed: Metric \"success-rate\" assessed Failed")
    assert "latency-p95" not in message  # it met its threshold: not the reason
    assert "latency-p95=0.2425 (< 0.3)" in analysis.find("failure").text
    verdict = cases[-1].find("failure")
    assert verdict.get("message").startswith("rolled back: success-rate=0.7333 not >= 0.99")
    assert verdict.get("type") == "RolledBack"
    # the steps after the rollback were not reached
    assert [c.get("name") for c in skipped][0] == "step 07/13: setWeight 50"
    assert "not reached: the release was ROLLED BACK" in skipped[0].find("skipped").get("message")
    props = dict((p.get("name"), p.get("value")) for p in suite.find("properties"))
    assert props["verdict"] == "rolled_back" and props["decided_by"] == "analysis"
    assert props["stable_version"] == "v1" and props["canary_version"] == "v2"
    out = suite.find("system-out").text
    assert out.startswith("release checkout v1 -> v2: ROLLED BACK")
    assert "10% set" in out and "success-rate=0.7333 not >= 0.99" in out and "0.24249999999999997" not in out


def test_a_promoted_release_passes_and_the_text_is_escaped():
    state = walked(1000, canary='v2"<&>\x01')
    text = junit.release_junit(state)
    root = parse(text)  # parses: escaped, and the control character dropped
    suite = root.find("testsuite")
    assert suite.get("failures") == "0" and suite.get("skipped") == "0" and suite.get("tests") == "14"
    assert suite.get("name") == 'release checkout v1 -> v2"<&>'
    assert "&lt;&amp;&gt;" in text and "\x01" not in text
    assert root.find("testsuite/system-out").text.splitlines()[0].startswith(
        'release checkout v1 -> v2"<&>: promoted in ')


def test_a_drill_is_a_suite_of_its_checks_and_its_release():
    state = walked(25, canary="v3")
    report = {"drill": "ansible", "target": "shop", "started_at": "2026-11-30T04:12:00.123456+00:00",
              "bad_version": "v3", "rolled_back_without_a_human": True, "time_to_detect_s": 26.0,
              "time_to_restore_s": 0.0, "availability": 0.93, "slo": 0.95, "verdict": "failed",
              "failed_requests": 42}
    root = parse(junit.drill_junit(report, state.to_dict()))
    drill, release = root.findall("testsuite")
    assert drill.get("name") == "rollback drill of shop" and drill.get("timestamp") == "2026-11-30T04:12:00"
    cases = dict((c.get("name"), c) for c in drill.findall("testcase"))
    assert cases["the bad version is rolled back without a human"].find("failure") is None
    assert cases["time to detect within 2m00s"].get("time") == "26.000"
    assert cases["availability within the SLO"].find("failure").get("message") == "availability 0.93 not >= SLO 0.95"
    assert drill.get("failures") == "1" and root.get("failures") == "3"  # the drill's SLO, the analysis, the verdict
    assert release.get("name") == "release checkout v1 -> v3"
    assert "42 requests failed" in drill.find("system-out").text
    # the Argo path: no detection time, no availability, not rolled back
    argo = parse(junit.drill_junit({"target": "ns/app", "bad_version": {"app": "img:broken"},
                                    "rolled_back_without_a_human": False, "time_to_detect_s": None,
                                    "time_to_restore_s": "3.5", "verdict": "failed"}))
    suite = argo.find("testsuite")
    assert suite.get("tests") == "4" and suite.get("failures") == "1" and suite.get("skipped") == "2"


@pytest.mark.parametrize("number,conditions,expected", [
    ([0.7333333333333333], {"success": "len(result) > 0 && result[0] >= 0.99"}, "m=0.7333 not >= 0.99"),
    ([0.997], {"success": "result[0] >= 0.99"}, "m=0.997 (>= 0.99)"),
    (0.2, {"failure": "result > 0.05"}, "m=0.2 > 0.05"),
    (0.01, {"failure": "result > 0.05"}, "m=0.01 (not > 0.05)"),
    ({"verdict": "worse"}, {"success": "result.verdict != 'worse'"}, "m={'verdict': 'worse'} (failed)"),
    (None, {"success": "result[0] >= 0.99"}, "m=[] (>= 0.99)"),
])
def test_a_metric_reads_as_its_value_against_its_threshold(number, conditions, expected):
    assert evidence.metric_text("m", "[]", number, conditions) == expected


def test_numbers_and_durations_are_rounded_for_people():
    assert evidence.number_text(0.24249999999999997) == "0.2425" and evidence.number_text([12]) == "12"
    assert evidence.round_number(0.24249999999999997) == 0.2425 and evidence.round_number(1234567.0) == 1235000.0
    assert evidence.duration_text(4.25) == "4.2s" and evidence.duration_text(64) == "1m04s"
    assert evidence.duration_text(3723) == "1h02m"


def test_a_retried_release_is_reported_as_its_latest_attempt_under_a_name_of_its_own():
    from ansible_collections.progressive.delivery.plugins.filter.report import release_report_name
    router = MemoryRouter()
    first = make(analyze=analysis_failing_at(25), router=router)
    first.begin("v1", "v2")
    aborted = first.run().to_dict()
    first.retry()
    clock.sleep(60)
    again = make(analyze=analysis_failing_at(1000), router=router)  # the fix is in: this attempt passes
    again.begin("v1", "v2")
    promoted = again.run().to_dict()
    assert release_report_name(promoted) != release_report_name(aborted)  # the first attempt's reports stay
    suite = parse(junit.release_junit(promoted)).find("testsuite")
    assert suite.get("failures") == "0" and suite.get("skipped") == "0"  # this attempt's steps, not the first's
    assert "ROLLED BACK" not in suite.find("system-out").text.splitlines()[0]
    assert "retried" in suite.find("system-out").text  # the whole timeline is still told


def test_a_blue_green_release_reads_as_its_analyses_around_the_switch():
    from ansible_collections.progressive.delivery.plugins.module_utils import release as rel
    from ansible_collections.progressive.delivery.plugins.module_utils import report_html
    router = MemoryRouter()
    r = make(plan=rel.bluegreen_plan(), strategy="blueGreen", analyze=analysis_failing_at(100), router=router)
    r.begin("v1", "v2", approved=True)
    state = r.run()
    assert state.verdict == "rolled_back"
    suite = parse(junit.release_junit(state)).find("testsuite")
    names = [c.get("name") for c in suite.findall("testcase")]
    assert names[-1] == "verdict" and any(": setWeight 100" in n for n in names)
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert failed[0].get("name").endswith("analysis at 100%")
    assert failed[0].find("failure").get("message").startswith("success-rate=0.7333 not >= 0.99")
    assert "release checkout: v1 \u2192 v2" in report_html.release_html(state)
