# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A plan's detection bound, known before it runs: the longest a failing canary can serve users before
it is aborted.

A canary that fails from its first request is aborted by the first analysis that can fail after its
traffic begins: the pauses before it, then the slowest of its metrics to reach its limit,
``initialDelay + interval * (failureLimit + 1)`` (a canary may fail only that metric). A background
analysis (Argo's ``strategy.canary.analysis``) or the guard (Ansible as the controller) runs all along,
so the bound is the smaller of the two. A pause without a duration waits for a person: with no
background analysis, nothing bounds it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration

UNBOUNDED = float("inf")


def _seconds(value, default=0.0):
    if value in (None, ""):
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return parse_go_duration(str(value))


def metric_failure_seconds(metric):
    """How long one metric takes to fail a canary that fails every measurement."""
    interval = _seconds(metric.get("interval"))
    limit = metric.get("failureLimit", 0)
    limit = int(limit) if str(limit).lstrip("-").isdigit() else 0
    return _seconds(metric.get("initialDelay")) + interval * (max(limit, 0) + 1)


def analysis_failure_seconds(templates):
    """The slowest metric of the templates (a canary may fail only that one); 0 without metrics."""
    times = [metric_failure_seconds(m) for t in templates for m in ((t or {}).get("spec") or {}).get("metrics") or []]
    return max(times) if times else 0.0


def step_bound(steps, analysis_seconds):
    """Seconds from the first traffic to the canary until the first analysis step has failed it; ``analysis_seconds``
    gives the failure time of one analysis step. UNBOUNDED when the plan never judges the canary after it serves."""
    elapsed, serving_since = 0.0, None
    for step in steps or []:
        if "setWeight" in step:
            if step["setWeight"] and serving_since is None:
                serving_since = elapsed
        elif "pause" in step:
            duration = (step.get("pause") or {}).get("duration")
            if serving_since is not None and duration is None:
                return UNBOUNDED  # waits for a person
            elapsed += _seconds(duration)
        elif "analysis" in step and serving_since is not None:
            return elapsed + analysis_seconds(step) - serving_since
    return UNBOUNDED


def bound(steps, analysis_seconds, background_seconds=None):
    """The plan's detection bound: the step analyses, or the background analysis / guard when it is sooner."""
    found = step_bound(steps, analysis_seconds)
    if background_seconds is not None:
        found = min(found, background_seconds)
    return found


def guard_seconds(interval, failures):
    """The guard fails a canary after ``failures`` looks, ``interval`` apart, the first when its traffic begins."""
    return _seconds(interval) * max(int(failures), 1)


def describe(seconds):
    return "unbounded (a pause without a duration waits for a person)" if seconds == UNBOUNDED else "%gs" % seconds
