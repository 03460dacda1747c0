# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a release's analyses found, as short text people read: rounded values beside the thresholds they met
or missed (``success-rate=0.733 not >= 0.99``), one line per analysis, and one summary line per release.

The HTML report, the JUnit report and the playbook output say the same thing in the same words; the values
come from the release state (``ReleaseState`` history), never parsed back from display text."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

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
    """A measured value as people read it: 0.2425, 12, 1.5e-05; a list of one number as that number."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or value is None:
        return str(value).lower() if isinstance(value, bool) else "no value"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return "%.*g" % (digits, value)
    if isinstance(value, list):
        return "[%s]" % ", ".join(number_text(v, digits) for v in value)
    return str(value)


def duration_text(seconds):
    """4.2 s, 1m04s, 1h02m03s: how long, at a glance."""
    if seconds is None:
        return "?"
    seconds = float(seconds)
    if seconds < 60:
        return "%.1f s" % seconds
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return ("%dh%02dm%02ds" % (hours, minutes, secs)) if hours else ("%dm%02ds" % (minutes, secs))


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


def metric_text(name, value, number, conditions):
    """``success-rate=0.733 not >= 0.99`` (missed), ``success-rate=0.997 (>= 0.99)`` (met),
    ``error-rate=0.2 > 0.05`` (its failure condition held); the display value when there is no number."""
    conditions = conditions or {}
    shown = number_text(number) if number is not None else (value if value not in (None, "") else "no value")
    outcome = metric_outcome(number, conditions)
    success = ["%s %s" % (op, number_text(n)) for op, n in comparisons(conditions.get("success") or "")]
    failure = ["%s %s" % (op, number_text(n)) for op, n in comparisons(conditions.get("failure") or "")]
    if outcome == "failed":
        bounds = ["not %s" % s for s in success] if success else failure
        return "%s=%s %s" % (name, shown, " and ".join(bounds)) if bounds else "%s=%s (failed)" % (name, shown)
    bounds = success + ["not %s" % f for f in failure]
    return "%s=%s (%s)" % (name, shown, ", ".join(bounds)) if bounds else "%s=%s" % (name, shown)


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


def failing_text(event):
    """What failed in an analysis: the metrics that missed their thresholds (all of them when none can be
    told apart), then the run's own message (Argo's 'Metric "x" assessed Failed due to failed (1) > ...')."""
    message = event.get("message") or ""
    # the metric the run's message names (Argo's worst) first, then the others that missed
    metrics = sorted(analysis_metrics(event), key=lambda m: ('"%s"' % m[0]) not in message)
    failed = [text for _name, text, outcome in metrics if outcome == "failed"] or [text for _n, text, _o in metrics]
    return "%s (%s%s)" % ("; ".join(failed) or "no metrics", event.get("phase") or "?",
                          (": " + message) if message else "")


def guard_text(event):
    """The guard's abort: its metric, the last measurements' values and the threshold."""
    measurements = event.get("measurements") or []
    name = event.get("metric") or "?"
    last = measurements[-1] if measurements else {}
    number = last.get("number", last.get("value"))
    text = metric_text(name, last.get("value"), number, (event.get("conditions") or {}).get(name))
    return "%s (guard, %d measurement%s)" % (text, len(measurements), "" if len(measurements) == 1 else "s")


def step_text(step):
    """A plan step as the plan reads: setWeight 10, pause 30s, pause (until resumed), analysis."""
    if "setWeight" in step:
        return "setWeight %s" % step["setWeight"]
    if "pause" in step:
        duration = (step.get("pause") or {}).get("duration")
        return "pause %s" % duration if duration is not None else "pause (until resumed)"
    return next(iter(step), "step") if step else "step"


def _detail(value):
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, (list, dict)):
        return number_text(value) if isinstance(value, list) and all(
            isinstance(v, (int, float)) for v in value) else str(value)
    return str(value)


def timeline(history):
    """[(seconds since the start, event, phase, details)] of a release's history, in words: an analysis
    reads as its metrics against their thresholds, every number rounded."""
    if not history:
        return []
    t0 = history[0]["t"]
    rows = []
    for ev in history:
        phase = ev.get("phase") or ""
        if ev["event"] == "analysis":
            details = "; ".join(text for _name, text, _outcome in analysis_metrics(ev))
            if ev.get("message") and phase not in ("Successful", ""):
                details += " - %s" % ev["message"]
        elif ev["event"] == "guard_tripped":
            details = guard_text(ev)
        else:
            details = ", ".join("%s=%s" % (k, _detail(v)) for k, v in sorted(ev.items())
                                if k not in ("at", "t", "event", "phase", "numbers", "conditions", "values"))
        rows.append((ev["t"] - t0, ev["event"], phase, details))
    return rows


def timeline_text(history):
    """The timeline as plain text lines (JUnit system-out, logs)."""
    return "\n".join("%9s  %-16s %-12s %s" % ("+" + duration_text(t).replace(" ", ""), event, phase, details)
                     for t, event, phase, details in timeline(history))


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
