# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guard: fail fast, pass slow.

While a release walks, the gate's metrics are also measured on a short interval of their own, through
every pause and analysis step. The guard can only abort: when one metric fails ``failures`` measurements
in a row, the release is aborted at once, with the measurements that decided. It never promotes and
never shortens a step; a measurement in Error (Prometheus away), or one Failed only for want of data (an
empty answer, a NaN: no traffic yet), neither counts nor clears a streak, since the step analysis fails
closed on those. A template reserves metrics to the guard or to
the steps with the annotations ``progressive.delivery/guard-only`` and ``progressive.delivery/step-only``
(see gate.metric_roles)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class GuardTripped(BaseException):
    """The guard has conclusive evidence: abort. A BaseException, as the walker's Interrupted, so that it passes
    through the analysis engine that is running when the guard looks."""

    def __init__(self, trip):
        super(GuardTripped, self).__init__(trip["reason"])
        self.trip = trip


def no_data(measurement):
    """Whether a measurement has no number to judge: an empty result, or NaN (numbers keep NaN as null)."""
    number = measurement.get("number")
    if isinstance(number, list):
        return not number or any(n is None for n in number)
    return number is None


class Guard(object):
    """``measure(state)`` measures the guard's metrics once and gives them as an analysis run's metrics
    (name, phase, message, measurements)."""

    def __init__(self, measure, interval, failures=2, clock=None):
        if failures < 1:
            raise ValueError("guard.failures must be 1 or more")
        self.measure = measure
        self.interval = interval
        self.failures = failures
        self.clock = clock
        self.next_at = None
        self.streaks = {}
        self.checks = 0

    def look(self, state):
        """Measure when due (only while the canary takes traffic); raise GuardTripped on conclusive evidence."""
        if state is None or state.aborted or not state.canary_weight:
            return
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            return
        self.next_at = now + self.interval
        self.checks += 1
        for metric in self.measure(state):
            name, phase = metric["name"], metric["phase"]
            last = (metric.get("measurements") or [{}])[-1]
            if phase == "Failed" and no_data(last):
                continue  # a NaN or an empty answer (no traffic yet) is no evidence: the step analysis judges it
            if phase == "Failed":
                self.streaks.setdefault(name, []).append({
                    "at": round(now, 3), "weight": state.canary_weight, "value": last.get("value"),
                    "number": last.get("number"), "message": metric.get("message") or last.get("message", ""),
                    "conditions": dict((k, metric[k + "_condition"]) for k in ("success", "failure")
                                       if metric.get(k + "_condition"))})
            elif phase in ("Successful", "Inconclusive"):
                self.streaks[name] = []
            streak = self.streaks.get(name) or []
            if len(streak) >= self.failures:
                raise GuardTripped({
                    "reason": "guard: %s failed %d measurements in a row at weight %d%% (values %s)" % (
                        name, len(streak), state.canary_weight, ", ".join(str(m["value"]) for m in streak)),
                    "metric": name, "measurements": streak, "at": now, "checks": self.checks})
