# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scheduling and phases: measurements on each metric's schedule (interval, count, initialDelay, the 10 s
retry after an Error), Argo's assessMetricStatus and assessRunStatus, fast fail, dryRun, and the
wall-clock ``max_duration``. Providers measure; only this file decides phases."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import (
    COMPLETED, ERROR, ERROR_RETRY_SECONDS, FAILED, INCONCLUSIVE, PENDING, RUNNING, SEVERITY, START_MARGIN_SECONDS,
    SUCCESSFUL, AnalysisSpecError, iso)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.measure import (
    is_empty, measure, no_data_text, short_of_minimum)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers import (
    ProviderError, Providers, provider_class)
from ansible_collections.progressive.delivery.plugins.module_utils.prometheus import format_seconds
from ansible_collections.progressive.delivery.plugins.module_utils.redact import Redactor


class MetricResult(object):
    def __init__(self, metric):
        self.metric = metric
        self.name = metric.name
        self.phase = PENDING
        self.message = ""
        self.measurements = []
        self.count = self.successful = self.failed = self.inconclusive = self.error = 0
        self.consecutive_error = self.consecutive_success = 0
        self.last = None  # kept apart from history so retention cannot hide it

    def record(self, m):
        self.last = m
        self.measurements.append(m)
        if len(self.measurements) > self.metric.history_limit:
            del self.measurements[:len(self.measurements) - self.metric.history_limit]
        if m.phase == ERROR:
            self.error += 1
            self.consecutive_error += 1
            self.consecutive_success = 0
            return
        self.count += 1
        self.consecutive_error = 0
        if m.phase == SUCCESSFUL:
            self.successful += 1
            self.consecutive_success += 1
        else:
            self.consecutive_success = 0
            if m.phase == FAILED:
                self.failed += 1
            else:
                self.inconclusive += 1

    def done_measuring(self):
        return self.metric.count is not None and self.count >= self.metric.count

    def due_at(self, started):
        if self.last is None:
            return started + self.metric.initial_delay
        if self.last.phase == ERROR:
            return self.last.finished_at + ERROR_RETRY_SECONDS
        return self.last.finished_at + (self.metric.interval or 0.0)

    def to_dict(self):
        out = {"name": self.name, "phase": self.phase, "message": self.message,
               "dry_run": self.metric.dry_run, "count": self.count, "successful": self.successful,
               "failed": self.failed, "inconclusive": self.inconclusive, "error": self.error,
               "consecutive_error": self.consecutive_error,
               "provider": self.metric.provider_kind, "query": describe(self.metric),
               "success_condition": self.metric.success.source if self.metric.success else None,
               "failure_condition": self.metric.failure.source if self.metric.failure else None,
               "measurements": [m.to_dict() for m in self.measurements]}
        return out


def assess_metric(res, terminating):
    """Argo's assessMetricStatus: the phase and message of one metric; a metric whose last measurement rested
    on too little traffic (below its minimum) never ends Successful - it ends Inconclusive, saying why."""
    phase, message = _assess_metric(res, terminating)
    if phase == SUCCESSFUL and res.last is not None:
        short = short_of_minimum(res.metric, res.last.samples)
        if short:
            return INCONCLUSIVE, "too little traffic to pass: %s" % short
    return phase, message


def _assess_metric(res, terminating):
    m = res.metric
    if res.phase in COMPLETED:
        return res.phase, res.message
    if res.last is None:
        return (SUCCESSFUL if terminating else PENDING), ""
    phase, message = None, ""
    if m.failure_limit >= 0 and res.failed > m.failure_limit:
        phase, message = FAILED, "failed (%d) > failureLimit (%d)" % (res.failed, m.failure_limit)
    if res.inconclusive > m.inconclusive_limit:
        phase, message = INCONCLUSIVE, "inconclusive (%d) > inconclusiveLimit (%d)" % (
            res.inconclusive, m.inconclusive_limit)
    if res.consecutive_error > m.consecutive_error_limit:
        phase, message = ERROR, "consecutiveErrors (%d) > consecutiveErrorLimit (%d)" % (
            res.consecutive_error, m.consecutive_error_limit)
    if phase:
        return phase, message
    if m.consecutive_success_limit > 0 and res.consecutive_success >= m.consecutive_success_limit:
        return SUCCESSFUL, "consecutiveSuccessful (%d) >= consecutiveSuccessLimit (%d)" % (
            res.consecutive_success, m.consecutive_success_limit)
    if res.done_measuring():
        failure_applies = m.failure_limit >= 0
        success_applies = m.consecutive_success_limit > 0
        if failure_applies and not success_applies:
            return SUCCESSFUL, ""
        if success_applies and not failure_applies:
            return FAILED, "consecutiveSuccessful (%d) < consecutiveSuccessLimit (%d)" % (
                res.consecutive_success, m.consecutive_success_limit)
        return INCONCLUSIVE, "neither failureLimit nor consecutiveSuccessLimit was reached"
    return (SUCCESSFUL if terminating else RUNNING), ""


def assess_run(results, terminated=False):
    """Argo's assessRunStatus: the run phase and message from the metric results."""
    worst, worst_res = None, None
    running = False
    for res in results:
        if res.phase not in COMPLETED:
            running = True
            continue
        if res.metric.dry_run:
            continue
        if worst is None or SEVERITY[res.phase] > SEVERITY[worst]:
            worst, worst_res = res.phase, res
    if running and not terminated:
        return RUNNING, ""
    if worst is None:
        return SUCCESSFUL, "Run Terminated" if terminated else ""
    if worst == SUCCESSFUL:
        return SUCCESSFUL, "Run Terminated" if terminated else ""
    message = 'Metric "%s" assessed %s due to %s' % (worst_res.name, worst, worst_res.message)
    last = worst_res.last
    if last is not None and last.message:
        message += ': "Error Message: %s"' % last.message
    return worst, message


class AnalysisRun(object):
    """Runs metrics to a verdict. ``clock`` and ``sleep`` are injectable for tests.

    ``redact`` lists secret values (e.g. the values of ``secretKeyRef`` args); they and the provider's
    own secrets are shown as ``***`` in every message and in ``to_dict()``. ``run()`` raises only
    AnalysisSpecError (a metric that would run forever without ``max_duration``); anything else that
    goes wrong ends the run in phase Error with the reason."""

    def __init__(self, metrics, provider, on_empty="fail", max_duration=None,
                 clock=time.time, sleep=time.sleep, redact=None):
        self.metrics = metrics
        self.provider = provider
        self.providers = Providers.of(provider)
        self.on_empty = on_empty
        self.max_duration = max_duration
        self.clock = clock
        self.sleep = sleep
        self.redactor = Redactor([s for s in (redact or []) if s])
        self.redactor.add(self.providers.secrets(metrics))
        self.redact = self.redactor.secrets
        self.results = [MetricResult(m) for m in metrics]
        self.phase = PENDING
        self.message = ""
        self.started_at = None
        self.finished_at = None
        self.deadline = None

    def _limit_text(self):
        return "analysis exceeded max_duration %s (wall clock)" % format_seconds(self.max_duration)

    def _measure(self, job):
        res, timeout = job
        m = measure(res.metric, self.providers, self.clock, self.on_empty, timeout)
        if self.deadline is not None and m.phase == ERROR and m.finished_at >= self.deadline:
            m.message = "%s while measuring: %s" % (self._limit_text(), m.message)
        m.message = self.redactor.text(m.message or "")
        m.value = self.redactor.text(m.value)
        return res, m

    def run(self):
        indefinite = [m.name for m in self.metrics if m.count is None]
        if indefinite and self.max_duration is None:
            raise AnalysisSpecError(
                "metric(s) %s run indefinitely (interval without count); set count, or max_duration "
                "to end the run (like a step ending a background analysis)" % ", ".join(indefinite))
        self.started_at = self.clock()
        try:
            self._loop(self.started_at)
        except Exception as e:  # pylint: disable=broad-except
            # never an uncaught exception out of a gate: an unexpected failure is a run in Error
            self.phase = ERROR
            self.message = "the analysis failed: %s" % self.redactor.exception_text(e)
        self.message = self.redactor.text(self.message)
        self.finished_at = self.clock()
        return self

    def _due(self, start, now):
        due = [r for r in self.results
               if r.phase not in COMPLETED and not r.done_measuring() and r.due_at(start) <= now]
        if self.deadline is not None and self.deadline - now < START_MARGIN_SECONDS:
            due = [r for r in due if r.last is None]
        return due

    def _loop(self, start):
        self.deadline = deadline = None if self.max_duration is None else start + self.max_duration
        workers = max(1, min(16, len(self.results)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            while True:
                now = self.clock()
                terminated = deadline is not None and now >= deadline
                if not terminated and not self._failing():
                    timeout = None if deadline is None else deadline - now
                    for res, m in pool.map(self._measure, [(r, timeout) for r in self._due(start, now)]):
                        res.record(m)
                if terminated:
                    self._out_of_time()
                for res in self.results:
                    res.phase, res.message = assess_metric(res, terminated)
                if terminated or self._failing():
                    # fast fail: what is still running is terminated and counts as Successful
                    for res in self.results:
                        res.phase, res.message = assess_metric(res, True)
                if terminated or self._failing() or all(r.phase in COMPLETED for r in self.results):
                    self.phase, self.message = assess_run(self.results, terminated)
                    break
                now = self.clock()  # measuring took time: wake from now, not from before
                pending = [r.due_at(start) for r in self.results
                           if r.phase not in COMPLETED and not r.done_measuring()]
                wake = min(pending) if pending else now
                if deadline is not None:
                    # in the last moments nothing more is started: wait for the end
                    wake = deadline if deadline - now < START_MARGIN_SECONDS else min(wake, deadline)
                if wake > now:
                    self.sleep(wake - now)

    def _out_of_time(self):
        """max_duration is up: a metric whose last measurement is an Error (a query cut by the limit, or an
        error whose retry did not fit) has not been measured and must not pass as terminated."""
        for res in self.results:
            if res.phase in COMPLETED or res.last is None or res.last.phase != ERROR:
                continue
            res.phase = ERROR
            res.message = "%s with the last measurement an Error (consecutiveErrors %d)" % (
                self._limit_text(), res.consecutive_error)

    def _failing(self):
        return any(r.phase in (FAILED, ERROR, INCONCLUSIVE) and not r.metric.dry_run for r in self.results)

    def to_dict(self):
        """The run as a result: secrets (args from secretKeyRef, tokens, URL passwords) are ``***``."""
        return self.redactor.deep({
            "phase": self.phase, "message": self.message,
            "started_at": iso(self.started_at) if self.started_at else None,
            "finished_at": iso(self.finished_at) if self.finished_at else None,
            "duration_seconds": round(self.finished_at - self.started_at, 3)
            if self.finished_at and self.started_at else None,
            "metrics": [r.to_dict() for r in self.results],
            "dry_run_summary": _summary([r for r in self.results if r.metric.dry_run]),
            "run_summary": _summary([r for r in self.results if not r.metric.dry_run])})


def _summary(results):
    out = {"count": len(results)}
    for phase in COMPLETED:
        out[phase.lower()] = sum(1 for r in results if r.phase == phase)
    return out


def validate(metrics, provider, redact=None):
    """`validate` mode: every metric is measured once and gives data, and every condition parses; no verdict.

    ``redact`` lists secret values; they (and the providers' secrets) show as ``***`` in the entries."""
    providers = Providers.of(provider)
    redactor = Redactor([s for s in (redact or []) if s])
    redactor.add(providers.secrets(metrics))

    def check(metric):
        entry = {"name": metric.name, "provider": metric.provider_kind, "query": describe(metric),
                 "dry_run": metric.dry_run}
        try:
            value = providers.for_metric(metric).measure(metric)
            entry["value"] = value.display
            entry["number"] = value.number
        except ProviderError as e:
            entry.update(valid=False, message=e.message)
            return entry
        except Exception as e:  # pylint: disable=broad-except
            entry.update(valid=False, message="the %s provider failed: %s: %s" % (metric.provider_kind, type(e).__name__, e))
            return entry
        if is_empty(value.bound):
            entry.update(valid=False, message="query returned no data (%s); check the metric name and "
                                              "labels" % no_data_text(value.bound))
        else:
            entry.update(valid=True, message="")
        return entry

    with ThreadPoolExecutor(max_workers=max(1, min(16, len(metrics)))) as pool:
        return redactor.deep(list(pool.map(check, metrics)))


def describe(metric):
    """What the metric asks its provider for: the PromQL query, the URL of a web metric."""
    return provider_class(metric.provider_kind, metric.label).describe(metric.provider_spec)
