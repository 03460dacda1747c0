# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release state: one typed record of a release kept beside its router, and what is read from it
(the verdict, the weight over time, each analysis value over time). Modules, reports, notifications and
the sandbox read a release through this class, never through the dict or the file.

On disk it is the JSON of ``to_dict()`` with a ``format`` number and a ``revision`` (release_store).
Measured values are kept twice: Argo's display string (``"[0.99]"``, as the timeline shows it) and the
number (``0.99``), so nothing parses text back."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import re

from ansible_collections.progressive.delivery.plugins.module_utils.expr import thresholds as expr_thresholds

PROGRESSING, PAUSED, HEALTHY, DEGRADED = "Progressing", "Paused", "Healthy", "Degraded"
FAILING = ("Failed", "Error")
FAILED_HELD = "AnalysisFailedHeld"  # the message of a release held at its weight by on_failure: pause
STATE_FORMAT = 2  # 2: analysis numbers beside the display values


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def summarize(metrics):
    """(metric -> its last display value, metric -> its last number, metric -> its conditions) of an analysis
    run's metrics."""
    values, numbers, conditions = {}, {}, {}
    for m in metrics or []:
        measurements = m.get("measurements") or []
        last = measurements[-1] if measurements else {}
        values[m["name"]] = last.get("value")
        numbers[m["name"]] = last.get("number")
        conditions[m["name"]] = dict((k, m[k + "_condition"]) for k in ("success", "failure")
                                     if m.get(k + "_condition"))
    return values, numbers, conditions


class ReleaseState(object):
    """One release: versions, plan, where it stands, what happened (``history``) and what each step found."""

    FIELDS = (("release", None), ("strategy", "canary"), ("router", None), ("stable_version", None),
              ("canary_version", None), ("phase", PROGRESSING), ("message", ""), ("aborted", False),
              ("step_index", 0), ("canary_weight", 0), ("steps", list), ("cohorts", dict),
              ("step_results", list), ("history", list), ("canary_traffic_since", None),
              ("time_to_detect_s", None), ("time_to_restore_s", None), ("revision", 0))

    def __init__(self, **fields):
        for name, default in self.FIELDS:
            value = fields.pop(name, None)
            if value is None:
                value = default() if callable(default) else default
            setattr(self, name, value)
        self.extra = fields  # fields this version does not know are kept, not lost

    @classmethod
    def from_dict(cls, data):
        """A state read from the store (None stays None)."""
        if data is None:
            return None
        data = copy.deepcopy(data)
        data.pop("format", None)
        return cls(**data)

    def to_dict(self):
        out = copy.deepcopy(self.extra)
        for name, _default in self.FIELDS:
            out[name] = copy.deepcopy(getattr(self, name))
        out["format"] = STATE_FORMAT
        return out

    def update(self, **fields):
        for name, value in fields.items():
            if not hasattr(self, name) or name == "extra":
                raise AttributeError("a release state has no field %r" % name)
            setattr(self, name, value)

    # ------------------------------------------------------------------ what happened

    def event(self, name, t, **details):
        entry = dict(at=iso(t), t=round(t, 3), event=name)
        entry.update(details)
        self.history.append(entry)
        return entry

    def record_analysis(self, index, verdict, t):
        """An analysis step's verdict, its values (display and number), in the history and the step results."""
        values, numbers, conditions = summarize(verdict.get("metrics"))
        found = self.event("analysis", t, step=index, phase=verdict["phase"], message=verdict.get("message", ""),
                           values=values, numbers=numbers, conditions=conditions,
                           phases=dict((m["name"], m.get("phase")) for m in verdict.get("metrics") or []))
        result = {"analysis_phase": verdict["phase"], "analysis_values": values, "analysis_numbers": numbers}
        if self.step_results:
            self.step_results[-1].update(result)
        else:
            self.step_results.append(dict(result, step=index, weight=self.canary_weight))
        return found

    # ------------------------------------------------------------------ what it means

    @property
    def active(self):
        return self.phase in (PROGRESSING, PAUSED) and not self.aborted

    @property
    def verdict(self):
        """promoted, rolled_back, paused or in_progress."""
        if self.aborted:
            return "rolled_back"
        return {HEALTHY: "promoted", DEGRADED: "rolled_back", PAUSED: "paused"}.get(self.phase, "in_progress")

    @property
    def previous_stable(self):
        """The version that served before this release (after a promotion ``stable_version`` is the new one)."""
        return (self.history[0].get("stable_version") if self.history else None) or self.stable_version

    def next_step(self):
        """The step the walker applies next (a final setWeight 100 past the plan's end)."""
        return self.steps[self.step_index] if self.step_index < len(self.steps) else {"setWeight": 100}

    def weight_series(self, until=None):
        """The canary weight set at the router over time, as a step line: [(seconds since the start, weight)]."""
        if not self.history:
            return []
        t0 = self.history[0]["t"]
        points, weight = [(0.0, 0)], 0
        for ev in self.history:
            new = {"set_weight": ev.get("weight"), "aborted": 0, "promoted": 100}.get(ev["event"], weight)
            if new != weight:
                points += [(ev["t"] - t0, weight), (ev["t"] - t0, new)]
                weight = new
        points.append(((until if until is not None else self.history[-1]["t"]) - t0, weight))
        return points

    def analysis_series(self):
        """metric -> [(seconds since the start, number)] of every analysis step (numbers only: a measurement
        that is no single number, or none, is left out)."""
        if not self.history:
            return {}
        t0 = self.history[0]["t"]
        series = {}
        for ev in self.history:
            if ev["event"] != "analysis":
                continue
            for name, number in sorted((ev.get("numbers") or {}).items()):
                if isinstance(number, list) and len(number) == 1:
                    number = number[0]
                if isinstance(number, (int, float)) and not isinstance(number, bool):
                    series.setdefault(name, []).append((ev["t"] - t0, float(number)))
        return series

    def thresholds(self):
        """metric -> the numbers its conditions compare against (for the charts)."""
        out = {}
        for ev in self.events("analysis", "guard_tripped"):
            for name, conditions in sorted((ev.get("conditions") or {}).items()):
                for source in conditions.values():
                    out.setdefault(name, set()).update(expr_thresholds(source))
        return dict((name, sorted(found)) for name, found in out.items())

    def decided_by(self):
        """Who ended the release: analysis, guard, a person (user@host), or None while it goes on."""
        ended = self.events("aborted", "promoted")
        if not ended:
            return None
        return ended[-1].get("by") or ("analysis" if ended[-1]["event"] == "aborted" else "plan")

    def events(self, *names):
        return [ev for ev in self.history if ev["event"] in names]

    # ------------------------------------------------------------------ the operator's timeline

    def elapsed(self, t):
        """Seconds from the release's start to t."""
        return t - self.history[0]["t"] if self.history else 0.0

    def timeline(self, since_t=None):
        """What happened since ``since_t`` (all of it without), one line an event, as an operator reads it:
        weights, analysis values against their thresholds, the verdict, and the time since the start."""
        lines = []
        for ev in self.history:
            if since_t is not None and ev["t"] < since_t:
                continue
            line = describe_event(ev)
            if line:
                lines.append("%s; %s" % (line, duration(self.elapsed(ev["t"]))))
        return lines


def duration(seconds):
    """1h02m, 3m04s, 12s, 0.4s."""
    seconds = max(0.0, float(seconds or 0))
    if seconds < 10:
        return "%.1fs" % seconds
    s = int(round(seconds))
    if s < 60:
        return "%ds" % s
    if s < 3600:
        return "%dm%02ds" % (s // 60, s % 60)
    return "%dh%02dm" % (s // 3600, (s % 3600) // 60)


def rounded(value):
    """A measured value for display: numbers to 4 significant digits, one-element lists unwrapped."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        return "%.4g" % value
    if isinstance(value, list):
        return "[%s]" % ", ".join(rounded(v) for v in value)
    return str(value)


_COMPARISON = re.compile(r"result(?:\[\d+\])?\s*(>=|<=|==|!=|<|>)\s*(-?[\d.]+(?:[eE][-+]?\d+)?)")


def brief_condition(conditions):
    """'>= 0.99' from successCondition 'len(result) > 0 && result[0] >= 0.99', 'fails > 0.05' from a
    failureCondition; the text itself (shortened) when it compares otherwise. Display only: never evaluated."""
    out = []
    for kind in ("success", "failure"):
        source = (conditions or {}).get(kind)
        if not source:
            continue
        found = ["%s %s" % m for m in _COMPARISON.findall(source)]
        text = " and ".join(found) if found else (source if len(source) <= 60 else source[:57] + "...")
        out.append(text if kind == "success" else "fails %s" % text)
    return "; ".join(out)


def checks(ev, only=None):
    """'name=value (threshold)' of each metric of an analysis event (only those in phase ``only``, if given)."""
    out = []
    phases = ev.get("phases") or {}
    for name in sorted(ev.get("values") or {}):
        if only and phases.get(name) != only:
            continue
        number = (ev.get("numbers") or {}).get(name)
        shown = rounded(number if number is not None else ev["values"][name])
        brief = brief_condition((ev.get("conditions") or {}).get(name))
        out.append("%s=%s%s" % (name, shown, " (%s)" % brief if brief else ""))
    return " ".join(out)


def failed_checks(ev):
    return checks(ev, only="Failed") or checks(ev)


def describe_event(ev):
    """One event as a line of the timeline, or None for the bookkeeping ones."""
    name = ev["event"]
    if name == "started":
        return "started %s (over %s)" % (ev.get("canary_version"), ev.get("stable_version"))
    if name == "set_weight":
        return "%s%% set%s" % (ev.get("weight"), " by %s" % ev["by"] if ev.get("manual") else "")
    if name == "pause":
        return "holding %s%s" % (duration(ev.get("seconds")), " at %s%%" % ev["weight"] if "weight" in ev else "")
    if name == "traffic":
        if ev.get("error"):
            return "%s%% set, split not measured (%s)" % (ev.get("weight"), ev["error"])
        if ev.get("canary_share") is None:
            return "%s%% set, no requests measured" % ev.get("weight")
        return "%s%% set, %.1f%% measured of %d requests" % (ev.get("weight"), 100 * ev["canary_share"],
                                                             ev.get("requests") or 0)
    if name == "analysis":
        line = checks(ev)
        return "%s: %s" % (line, ev.get("phase")) if line else "analysis: %s %s" % (ev.get("phase"), ev.get("message"))
    if name == "guard_tripped":
        last = (ev.get("measurements") or [{}])[-1]
        return "guard: %s=%s failed %d in a row" % (ev.get("metric"), rounded(last.get("value")),
                                                    len(ev.get("measurements") or []))
    if name == "paused":
        why = {"CanaryPauseStep": "a pause without duration: waiting for a person (router_step action=resume)",
               "InconclusiveAnalysisRun": "analysis Inconclusive: waiting for a person (router_step action=resume "
                                          "or abort)",
               FAILED_HELD: "analysis Failed (%s), held at %s%%: router_step action=abort or resume" % (
                   ev.get("failed"), ev.get("weight"))}.get(ev.get("reason"))
        return "PAUSED: %s" % (why or "%s%s" % (ev.get("reason"), " by %s" % ev["by"] if ev.get("by") else ""))
    if name == "resumed":
        return "resumed%s" % (" by %s" % ev["by"] if ev.get("by") else "")
    if name == "aborted":
        return "ROLLED BACK by %s: %s (restored in %ss)" % (
            ev.get("by") or "analysis", ev.get("reason"), ev.get("time_to_restore_s"))
    if name == "promoted":
        return "PROMOTED %s: 100%% on it%s" % (ev.get("version"), " (by %s)" % ev["by"] if ev.get("by") else "")
    if name in ("step_skipped", "retried", "walker_taken_over", "walker_stopped"):
        return "%s%s" % (name.replace("_", " "), " by %s" % ev["by"] if ev.get("by") else "")
    return None
