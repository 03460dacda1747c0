# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release's words, in one place: how a measured value, a duration, a metric against its thresholds, a plan
step and a timeline event read (``success-rate=0.7333 not >= 0.99``, ``3m04s``, ``pause (until resumed)``),
one line per analysis, and one summary line per release.

The live playbook lines (ReleaseState.timeline), the status watch (status_view), the HTML report and the JUnit
report all say them through here; the values come from the release state (``ReleaseState`` history), never
parsed back from display text (Argo's ``[0.99]`` display strings are read as the numbers they hold)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import math
import time

from ansible_collections.progressive.delivery.plugins.module_utils.expr import ExprError, comparisons, evaluate_condition

SIGNIFICANT = 4  # digits of a measured value in reports: 0.24249999999999997 reads 0.2425


def round_number(value, digits=SIGNIFICANT):
    """A float rounded to ``digits`` significant digits (ints, bools and non-numbers unchanged)."""
    if isinstance(value, bool) or not isinstance(value, float) or math.isnan(value) or math.isinf(value):
        return value
    if value == 0:
        return 0.0
    return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))


def number_text(value, digits=SIGNIFICANT):
    """A measured value as people read it: 0.2425, 12, 1.5e-05, NaN; a list of one number as that number;
    Argo's display string (``"[0.99]"``) as the number it holds; ``-`` for none."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):  # as Prometheus says them
            return "NaN" if math.isnan(value) else "+Inf" if value > 0 else "-Inf"
        return "%.*g" % (digits, value)
    if isinstance(value, list):
        return "[%s]" % ", ".join(number_text(v, digits) for v in value)
    return str(value)


def duration_text(seconds):
    """0.4s, 12s, 3m04s, 1h02m: how long, at a glance; ``-`` when unknown."""
    if seconds is None:
        return "-"
    seconds = max(0.0, float(seconds))
    if seconds < 10:
        return "%.1fs" % seconds
    whole = int(round(seconds))
    if whole < 60:
        return "%ds" % whole
    if whole < 3600:
        return "%dm%02ds" % (whole // 60, whole % 60)
    return "%dh%02dm" % (whole // 3600, (whole % 3600) // 60)


def iso(t):
    """An epoch as the state and the reports stamp it (UTC, milliseconds): 2026-11-30T04:12:00.123Z; None stays None."""
    if t is None:
        return None
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def clock(t):
    """The time of day (UTC) of an epoch, for history lines."""
    return time.strftime("%H:%M:%S", time.gmtime(t)) if t is not None else "--:--:--"


def metric_outcome(number, conditions):
    """'failed', 'passed' or None (unknown) for a measured number against its success/failure conditions,
    with the collection's own evaluator (the conditions are data, never code)."""
    if number is None:
        return None
    try:
        if conditions.get("failure") and evaluate_condition(conditions["failure"], number):
            return "failed"
        if conditions.get("success"):
            return "passed" if evaluate_condition(conditions["success"], number) else "failed"
        return "passed" if conditions.get("failure") else None
    except (ExprError, TypeError, ValueError):
        return None  # a judge's measurement of another shape: the run's phase and message say it


def bounds(conditions):
    """(success bounds, failure bounds) of a metric's conditions as text: ([">= 0.99"], ["> 0.05"]), from
    expr.comparisons (the conditions are parsed, never evaluated as text)."""
    conditions = conditions or {}
    return tuple(["%s %s" % (op, number_text(n)) for op, n in comparisons(conditions.get(kind) or "")]
                 for kind in ("success", "failure"))


def threshold_text(conditions):
    """What a metric must meet, as the watch's column and metric_text say it: ``>= 0.99``, ``not > 0.05``,
    ``< 0.3, not > 1``; empty when its conditions compare against no number."""
    success, failure = bounds(conditions)
    return ", ".join(success + ["not %s" % f for f in failure])


def metric_text(name, value, number, conditions):
    """``success-rate=0.733 not >= 0.99`` (missed), ``success-rate=0.997 (>= 0.99)`` (met),
    ``error-rate=0.2 > 0.05`` (its failure condition held); the display value when there is no number."""
    conditions = conditions or {}
    shown = number_text(number if number is not None else value)
    shown = "no value" if shown in ("-", "") else shown
    outcome = metric_outcome(number, conditions)
    success, failure = bounds(conditions)
    if outcome == "failed":
        missed = ["not %s" % s for s in success] if success else failure
        return "%s=%s %s" % (name, shown, " and ".join(missed)) if missed else "%s=%s (failed)" % (name, shown)
    met = threshold_text(conditions)
    return "%s=%s (%s)" % (name, shown, met) if met else "%s=%s" % (name, shown)


def analysis_metrics(event):
    """[(name, text, outcome)] of an analysis (or guard) event of the history, by metric name."""
    values = event.get("values") or {}
    numbers = event.get("numbers") or {}
    conditions = event.get("conditions") or {}
    out = []
    for name in sorted(set(values) | set(numbers)):
        number = numbers.get(name)
        out.append((name, metric_text(name, values.get(name), number, conditions.get(name)),
                    metric_outcome(number, conditions.get(name) or {})))
    return out


def analysis_text(event):
    """One analysis as one line: ``success-rate=0.733 not >= 0.99; latency-p95=0.12 (< 0.3): Failed``."""
    metrics = "; ".join(text for _name, text, _outcome in analysis_metrics(event))
    return "%s: %s" % (metrics or "no metrics", event.get("phase") or "?")


def failed_metrics_text(event):
    """The metrics of an analysis that missed their thresholds (all of them when none can be told apart),
    the metric the run's message names (Argo's worst) first."""
    message = event.get("message") or ""
    metrics = sorted(analysis_metrics(event), key=lambda m: ('"%s"' % m[0]) not in message)
    failed = [text for _name, text, outcome in metrics if outcome == "failed"] or [text for _n, text, _o in metrics]
    return "; ".join(failed)


def failing_text(event):
    """What failed in an analysis: the metrics that missed their thresholds, then the run's own message
    (Argo's 'Metric "x" assessed Failed due to failed (1) > ...')."""
    message = event.get("message") or ""
    return "%s (%s%s)" % (failed_metrics_text(event) or "no metrics", event.get("phase") or "?",
                          (": " + message) if message else "")


def guard_text(event):
    """The guard's abort: its metric, the last measurements' values and the threshold."""
    measurements = event.get("measurements") or []
    name = event.get("metric") or "?"
    last = measurements[-1] if measurements else {}
    number = last.get("number", last.get("value"))
    text = metric_text(name, last.get("value"), number, (event.get("conditions") or {}).get(name))
    return "guard: %s (%d measurement%s)" % (text, len(measurements), "" if len(measurements) == 1 else "s")


def step_text(step):
    """A plan step, short, as the live lines, the watch and the JUnit cases name it: setWeight 20, pause 2m (a
    duration as the plan writes it; seconds as a duration), pause (until resumed), analysis slo."""
    if not step:
        return ""
    if "setWeight" in step:
        return "setWeight %s" % step["setWeight"]
    if "pause" in step:
        length = (step.get("pause") or {}).get("duration")
        if length is None:
            return "pause (until resumed)"
        return "pause %s" % (duration_text(length) if isinstance(length, (int, float)) else length)
    if "setMirrorRoute" in step:
        spec = step.get("setMirrorRoute") or {}
        if set(spec) == {"name"}:
            return "setMirrorRoute %s removed" % spec["name"]
        return "setMirrorRoute %s %s%%" % (spec.get("name"), spec.get("percentage", 100))
    if "analysis" in step:
        names = [t.get("templateName") or t.get("clusterTemplateName")
                 for t in (step.get("analysis") or {}).get("templates") or []]
        return "analysis %s" % ", ".join(n for n in names if n) if any(names) else "analysis"
    return next(iter(step))


def _detail(value):
    if isinstance(value, float) or isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return number_text(value)
    return str(value)


_PAUSED_WHY = {
    "CanaryPauseStep": "a pause without duration: waiting for a person (router_step action=resume)",
    "InconclusiveAnalysisRun": "analysis Inconclusive: waiting for a person (router_step action=resume or abort)"}
FAILED_HELD = "AnalysisFailedHeld"  # the reason of a release held at its weight by on_failure: pause


def _by(ev, form=" by %s"):
    return form % ev["by"] if ev.get("by") else ""


def event_text(ev):
    """One event of a release's history as the operator reads it, the same words in the live lines, the
    watch's history, the HTML report and JUnit: weights, analysis values against their thresholds, the verdict."""
    name = ev["event"]
    if name == "started":
        return "started %s (over %s)" % (ev.get("canary_version"), ev.get("stable_version"))
    if name == "set_weight":
        return "%s%% set%s" % (ev.get("weight"), _by(ev) if ev.get("manual") else "")
    if name == "mirror_set":
        return "mirroring %s%% of %s to the canary (%s), its answers discarded" % (
            ev.get("percentage"), "/".join(ev.get("methods") or []), ev.get("route"))
    if name == "mirror_removed":
        return "mirror %s removed" % ev.get("route")
    if name == "pause":
        return "holding %s%s" % (duration_text(ev.get("seconds")), " at %s%%" % ev["weight"] if "weight" in ev else "")
    if name == "traffic":
        if ev.get("error"):
            return "%s%% set, split not measured (%s)" % (ev.get("weight"), ev["error"])
        if ev.get("canary_share") is None:
            return "%s%% set, no requests measured" % ev.get("weight")
        return "%s%% set, %.1f%% measured of %d requests" % (ev.get("weight"), 100 * ev["canary_share"],
                                                             ev.get("requests") or 0)
    if name == "analysis":
        text = analysis_text(ev)
        if ev.get("message") and ev.get("phase") not in ("Successful", None, ""):
            text += " - %s" % ev["message"]
        return text
    if name == "guard_tripped":
        return guard_text(ev)
    if name == "paused":
        why = _PAUSED_WHY.get(ev.get("reason"))
        if ev.get("reason") == FAILED_HELD:
            why = "analysis Failed (%s), held at %s%%: router_step action=abort or resume" % (
                ev.get("failed"), ev.get("weight"))
        return "PAUSED: %s" % (why or "%s%s" % (ev.get("reason"), _by(ev)))
    if name == "resumed":
        return "resumed%s" % _by(ev)
    if name == "aborted":
        return "ROLLED BACK by %s: %s (restored in %s)" % (
            ev.get("by") or "analysis", ev.get("reason"), duration_text(ev.get("time_to_restore_s")))
    if name == "promoted":
        return "PROMOTED %s: 100%% on it%s" % (ev.get("version"), _by(ev, " (by %s)"))
    if name in ("step_skipped", "retried", "walker_taken_over", "walker_stopped"):
        return "%s%s" % (name.replace("_", " "), _by(ev))
    return "%s %s" % (name.replace("_", " "), ", ".join(  # an event this version does not know: its fields
        "%s=%s" % (k, _detail(v)) for k, v in sorted(ev.items()) if k not in ("at", "t", "event")))


def timeline(history):
    """[(seconds since the start, event, phase, text)] of a release's history, the text in event_text's words."""
    if not history:
        return []
    t0 = history[0]["t"]
    return [(ev["t"] - t0, ev["event"], ev.get("phase") or "", event_text(ev)) for ev in history]


def timeline_text(history):
    """The timeline as plain text lines (JUnit system-out, logs): ``    +1m04s  holding 1m04s at 25%``."""
    return "\n".join("%9s  %s" % ("+" + duration_text(t), text) for t, _event, _phase, text in timeline(history))


VERDICT_WORDS = {"promoted": "promoted", "rolled_back": "ROLLED BACK", "paused": "paused", "in_progress": "in progress"}


def release_duration(state):
    return (state.history[-1]["t"] - state.history[0]["t"]) if state.history else 0.0


def failed_requests(state):
    """Failed requests counted during the release, when the state holds counts (events with ``errors``
    or ``failed_requests``), else None."""
    counts = [ev.get("failed_requests", ev.get("errors")) for ev in state.history]
    counts = [c for c in counts if isinstance(c, (int, float)) and not isinstance(c, bool)]
    return int(sum(counts)) if counts else None


def deciding_text(state):
    """Why a rolled-back release ended: the failing analysis with values and thresholds, the guard's
    evidence, or the person's abort with the reason given."""
    aborted = state.events("aborted")
    if not aborted:
        return ""
    last = aborted[-1]
    by = last.get("by") or "analysis"
    if by == "guard" and state.events("guard_tripped"):
        return guard_text(state.events("guard_tripped")[-1])
    failing = [ev for ev in state.events("analysis") if ev.get("phase") in ("Failed", "Error")]
    if by == "analysis" and failing:
        return failing_text(failing[-1])
    return "aborted by %s: %s" % (by, last.get("reason") or "no reason given")


def release_summary(state, failed=None):
    """One line: what, the verdict, how long, why (rolled back), how many requests failed (``failed``, or
    counts the state holds; left out when nobody counted)."""
    verdict = state.verdict
    parts = ["release %s %s -> %s: %s %s %s" % (
        state.release or "", state.previous_stable or "?", state.canary_version or "?",
        VERDICT_WORDS.get(verdict, verdict), "in" if verdict in ("promoted", "rolled_back") else "for",
        duration_text(release_duration(state)))]
    if verdict == "promoted":
        parts.append("%s serves 100%%" % state.canary_version)
    if verdict == "rolled_back":
        parts.append(deciding_text(state))
        parts.append("detected in %s, restored in %s; %s serves 100%%" % (
            duration_text(state.time_to_detect_s), duration_text(state.time_to_restore_s), state.previous_stable))
    if verdict == "paused":
        parts.append("held at %s%% on %s: %s" % (state.canary_weight, state.canary_version, state.message or "paused"))
    failed = failed if failed is not None else failed_requests(state)
    if failed is not None:
        parts.append("%d request%s failed" % (failed, "" if failed == 1 else "s"))
    return " · ".join(p for p in parts if p)


DRILL_TARGET_S = 120.0  # the guide's 2-minute target for detecting and for restoring


def seconds(value):
    """A number from a drill's JSON (null, a number, or a string a template made), or None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def drill_summary(report):
    """One line: what was drilled, the verdict, how long detection and restore took, availability and failed
    requests against the SLO."""
    detect, restore = seconds(report.get("time_to_detect_s")), seconds(report.get("time_to_restore_s"))
    availability, slo = seconds(report.get("availability")), seconds(report.get("slo"))
    rolled_back = report.get("rolled_back_without_a_human") in (True, "true", "True")
    parts = ["rollback drill of %s: %s" % (report.get("target") or "?", str(report.get("verdict") or "?").upper()),
             "%s %s" % (report.get("bad_version"), "rolled back without a human" if rolled_back
                        else "NOT rolled back without a human")]
    if detect is not None or restore is not None:
        parts.append("detected in %s, restored in %s (target %s each)" % (
            duration_text(detect) if detect is not None else "(not measured)",
            duration_text(restore) if restore is not None else "(not measured)", duration_text(DRILL_TARGET_S)))
    if availability is not None:
        slo_text = number_text(100 * slo) if slo is not None else "?"
        parts.append("availability %s%% (SLO %s%%)" % (number_text(100 * availability), slo_text))
    failed = seconds(report.get("failed_requests"))
    if failed is not None:
        parts.append("%d request%s failed" % (failed, "" if int(failed) == 1 else "s"))
    return " · ".join(parts)


def attempt(history):
    """The events of the release's latest attempt: from its last start or retry (router_step retry starts an
    aborted release again from step 0, keeping what happened before in the history)."""
    starts = [i for i, ev in enumerate(history) if ev.get("event") in ("started", "retried")]
    return history[starts[-1]:] if starts else list(history)
