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

from ansible_collections.progressive.delivery.plugins.module_utils.evidence import (  # noqa: F401 pylint: disable=unused-import
    FAILED_HELD, attempt, duration_text, event_text, iso)
from ansible_collections.progressive.delivery.plugins.module_utils.expr import thresholds as expr_thresholds

PROGRESSING, PAUSED, HEALTHY, DEGRADED = "Progressing", "Paused", "Healthy", "Degraded"
FAILING = ("Failed", "Error")
STATE_FORMAT = 2  # 2: analysis numbers beside the display values


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
              ("time_to_detect_s", None), ("time_to_restore_s", None), ("mirror", None), ("revision", 0))

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

    def decision(self):
        """The event that ended the current attempt (aborted or promoted), or None while it goes on: after
        router_step action=retry the old attempt's end is history, not the verdict."""
        ended = [ev for ev in attempt(self.history) if ev["event"] in ("aborted", "promoted")]
        return ended[-1] if ended else None

    def decided_by(self):
        """Who ended the release: analysis, guard, a person (user@host), or None while it goes on."""
        ended = self.decision()
        if not ended:
            return None
        return ended.get("by") or ("analysis" if ended["event"] == "aborted" else "plan")

    def events(self, *names):
        return [ev for ev in self.history if ev["event"] in names]

    # ------------------------------------------------------------------ the operator's timeline

    def elapsed(self, t):
        """Seconds from the release's start to t."""
        return t - self.history[0]["t"] if self.history else 0.0

    def timeline(self, since_t=None):
        """What happened since ``since_t`` (all of it without), one line an event, as an operator reads it:
        weights, analysis values against their thresholds, the verdict, and the time since the start."""
        return ["%s; %s" % (event_text(ev), duration_text(self.elapsed(ev["t"])))
                for ev in self.history if since_t is None or ev["t"] >= since_t]
