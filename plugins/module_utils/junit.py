# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JUnit XML of a release and of a rollback drill, for CI systems (GitLab, Jenkins, GitHub test reporters):
one test case per plan step and per analysis, the failing analysis as the ``<failure>`` with its values and
thresholds, the release's verdict as a test case of its own (a rolled-back release is a failed test with its
reason), and the timeline as ``system-out``.

Built with xml.etree, which escapes text and attributes; characters XML 1.0 cannot hold at all (control
characters from a metric's message) are dropped first."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import xml.etree.ElementTree as ET

from ansible_collections.progressive.delivery.plugins.module_utils import evidence
from ansible_collections.progressive.delivery.plugins.module_utils.report_html import (
    canary_failed_counts, canary_failed_text)
from ansible_collections.progressive.delivery.plugins.module_utils.release.state import ReleaseState

NOT_XML = re.compile(u"[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SUITE_PREFIX = "progressive.delivery"


def _text(value):
    return NOT_XML.sub("", "" if value is None else str(value))


def _seconds(value):
    return "%.3f" % max(0.0, float(value or 0.0))


class Suite(object):
    """One <testsuite>: test cases added in order, the counts CI tools read kept as they are added."""

    def __init__(self, name, timestamp=None, properties=None):
        self.element = ET.Element("testsuite", name=_text(name))
        if timestamp:
            self.element.set("timestamp", _text(timestamp))
        if properties:
            props = ET.SubElement(self.element, "properties")
            for key, value in properties:
                if value is not None:
                    ET.SubElement(props, "property", name=_text(key), value=_text(value))
        self.tests = self.failures = self.errors = self.skipped = 0
        self.time = 0.0

    def case(self, classname, name, time=0.0, failure=None, error=None, skipped=None, details=None):
        """A test case; ``failure``/``error``/``skipped`` is its message (``details`` the element's text)."""
        tc = ET.SubElement(self.element, "testcase", classname=_text(classname), name=_text(name),
                           time=_seconds(time))
        self.tests += 1
        for tag, message in (("failure", failure), ("error", error), ("skipped", skipped)):
            if message is not None:
                child = ET.SubElement(tc, tag, message=_text(message))
                if tag != "skipped":
                    child.set("type", "RolledBack" if tag == "failure" else "Error")
                    child.text = _text(details if details is not None else message)
        self.failures += failure is not None
        self.errors += error is not None
        self.skipped += skipped is not None
        return tc

    def finish(self, time, system_out=""):
        self.time = max(0.0, float(time or 0.0))
        for key in ("tests", "failures", "errors", "skipped"):
            self.element.set(key, str(getattr(self, key)))
        self.element.set("time", _seconds(self.time))
        if system_out:
            ET.SubElement(self.element, "system-out").text = _text(system_out)
        return self


def document(name, suites):
    """<testsuites> around the suites, with their totals, as an XML string."""
    root = ET.Element("testsuites", name=_text(name))
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(getattr(s, key) for s in suites)))
    root.set("time", _seconds(sum(s.time for s in suites)))
    for s in suites:
        root.append(s.element)
    if hasattr(ET, "indent"):
        ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _step_spans(history):
    """step index -> (start, end) of the steps the release reached. A setWeight is an instant; a pause runs
    from its event for its seconds (or to the next event, when interrupted or held for a person); an analysis
    is recorded when it ends, and began where the step before it ended."""
    spans, cursor = {}, history[0]["t"] if history else 0.0
    for i, ev in enumerate(history):
        index = ev.get("step")
        if not isinstance(index, int) or index in spans or ev["event"] not in ("set_weight", "pause", "paused",
                                                                               "analysis"):
            continue
        t = ev["t"]
        following = [later["t"] for later in history[i + 1:]]
        if ev["event"] == "analysis":
            start, end = min(cursor, t), t
        elif ev["event"] == "pause":
            start = t
            end = min([t + float(ev.get("seconds") or 0.0)] + following[:1])
        elif ev["event"] == "paused":
            start, end = t, (following[:1] or [t])[0]
        else:
            start = end = t
        spans[index] = (start, end)
        cursor = end
    return spans


def release_suite(state, canary_failed=None):
    """A release state (a ReleaseState or its dict) as one <testsuite>; ``canary_failed`` (``{users, copies}``,
    when measured) adds the canary's failed requests served to users and answered to copies as properties."""
    counts = canary_failed_counts(canary_failed) or {}
    if not isinstance(state, ReleaseState):
        state = ReleaseState.from_dict(state)
    if not state.history:
        raise ValueError("the release has no history to report")
    t0 = state.history[0]["t"]
    classname = "%s.release.%s" % (SUITE_PREFIX, state.release or "release")
    title = "release %s %s -> %s" % (state.release or "", state.previous_stable or "?", state.canary_version or "?")
    suite = Suite(title, timestamp=evidence.iso(t0)[:19],
                  properties=[("release", state.release), ("strategy", state.strategy), ("router", state.router),
                              ("stable_version", state.previous_stable), ("canary_version", state.canary_version),
                              ("verdict", state.verdict), ("phase", state.phase), ("decided_by", state.decided_by()),
                              ("time_to_detect_s", state.time_to_detect_s),
                              ("time_to_restore_s", state.time_to_restore_s),
                              ("canary_failed_user_requests", counts.get("users")),
                              ("canary_failed_mirrored_answers", counts.get("copies"))])
    # the steps of the latest attempt (a retried release starts again at step 0); the timeline keeps all
    latest = evidence.attempt(state.history)
    spans = _step_spans(latest)
    analyses = dict((ev["step"], ev) for ev in latest if ev["event"] == "analysis" and isinstance(ev.get("step"), int))
    total = len(state.steps)
    weight = 0
    for index, step in enumerate(state.steps):
        weight = step.get("setWeight", weight)
        name = "step %0*d/%d: %s" % (len(str(total)), index + 1, total, evidence.step_text(step))
        if "analysis" in step:
            name += " at %s%%" % weight
        span = spans.get(index)
        if span is None:
            suite.case(classname, name, skipped="not reached: %s" % (
                "the release was %s" % evidence.VERDICT_WORDS.get(state.verdict, state.verdict)
                if not state.active else "the release is at step %d" % (state.step_index + 1)))
            continue
        took = span[1] - span[0]
        found = analyses.get(index)
        if "analysis" in step and found is not None:
            phase = found.get("phase")
            text = evidence.analysis_text(found)
            if phase == "Failed":
                suite.case(classname, name, took, failure=evidence.failing_text(found), details=text)
            elif phase == "Error":
                suite.case(classname, name, took, error=evidence.failing_text(found), details=text)
            elif phase == "Inconclusive":
                suite.case(classname, name, took, skipped="inconclusive, held for a person: %s" % text)
            else:
                suite.case(classname, name, took)
        elif "analysis" in step:
            suite.case(classname, name, took, skipped="no verdict: the analysis did not finish")
        else:
            suite.case(classname, name, took)
    for ev in [e for e in latest if e["event"] == "guard_tripped"]:
        suite.case(classname, "guard: %s" % (ev.get("metric") or "?"), 0.0, failure=evidence.guard_text(ev))
    duration = evidence.release_duration(state)
    verdict = state.verdict
    if verdict == "rolled_back":
        suite.case(classname, "verdict", duration, failure="rolled back: %s" % evidence.deciding_text(state),
                   details=state.message)
    elif verdict == "promoted":
        suite.case(classname, "verdict", duration)
    else:
        suite.case(classname, "verdict", duration, skipped="%s: %s" % (
            evidence.VERDICT_WORDS.get(verdict, verdict), state.message or "not finished"))
    served = canary_failed_text(canary_failed)
    return suite.finish(duration, evidence.release_summary(state) + ("\n" + served if served else "") + "\n\n"
                        + evidence.timeline_text(state.history))


def release_junit(state, canary_failed=None):
    """A release as a JUnit XML document."""
    return document("%s release" % SUITE_PREFIX, [release_suite(state, canary_failed)])


def drill_suite(report):
    """A rollback drill report (rollback_drill's JSON) as one <testsuite>: rolled back without a human, time to
    detect and to restore against the 2-minute target, availability against the SLO."""
    classname = "%s.drill.%s" % (SUITE_PREFIX, report.get("target") or "drill")
    detect = evidence.seconds(report.get("time_to_detect_s"))
    restore = evidence.seconds(report.get("time_to_restore_s"))
    suite = Suite("rollback drill of %s" % (report.get("target") or ""), timestamp=(report.get("started_at") or "")[:19],
                  properties=[(k, report.get(k)) for k in ("drill", "target", "bad_version", "verdict", "availability",
                                                           "slo", "failed_requests")])
    rolled_back = report.get("rolled_back_without_a_human") in (True, "true", "True")
    suite.case(classname, "the bad version is rolled back without a human", (detect or 0) + (restore or 0),
               failure=None if rolled_back else "the bad version %s was NOT rolled back without a human" % (
                   report.get("bad_version"),))
    for label, value in (("time to detect", detect), ("time to restore", restore)):
        if value is None:
            suite.case(classname, "%s within %s" % (label, evidence.duration_text(evidence.DRILL_TARGET_S)),
                       skipped="not measured on this path")
        else:
            suite.case(classname, "%s within %s" % (label, evidence.duration_text(evidence.DRILL_TARGET_S)), value,
                       failure=None if value <= evidence.DRILL_TARGET_S else "%s %s, over the %s target" % (
                           label, evidence.duration_text(value), evidence.duration_text(evidence.DRILL_TARGET_S)))
    availability, slo = evidence.seconds(report.get("availability")), evidence.seconds(report.get("slo"))
    if availability is None:
        suite.case(classname, "availability within the SLO", skipped="availability not measured (no Prometheus)")
    else:
        suite.case(classname, "availability within the SLO", failure=None if slo is None or availability >= slo else
                   "availability %s not >= SLO %s" % (evidence.number_text(availability), evidence.number_text(slo)))
    return suite.finish((detect or 0) + (restore or 0), evidence.drill_summary(report))


def drill_junit(report, release_state=None):
    """A drill as a JUnit XML document: the drill's checks, and the release it ran (when there is one)."""
    suites = [drill_suite(report)]
    state = release_state or report.get("release_state")
    if state and (state.get("history") if isinstance(state, dict) else state.history):
        suites.append(release_suite(state))
    return document("%s rollback drill" % SUITE_PREFIX, suites)
