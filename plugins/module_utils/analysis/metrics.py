# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metrics of a resolved template, validated as Argo's ValidateMetric does: the schedule (interval, count,
initialDelay), the limits, the conditions (parsed once), exactly one provider among those supported, and the
dryRun / measurementRetention rules matched on metric names as Go's regexp does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils import re2lite
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import (
    DEFAULT_CONSECUTIVE_ERROR_LIMIT, DEFAULT_MEASUREMENT_HISTORY, AnalysisSpecError)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers import provider_class
from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.expr import Expression, ExprError


def _int_field(metric, field, default, label):
    raw = metric.get(field)
    if raw is None or raw == "":
        return default
    try:
        if isinstance(raw, bool):
            raise ValueError
        return int(raw)
    except (TypeError, ValueError):
        raise AnalysisSpecError("%s: %s must be an integer, got %r" % (label, field, raw))


def _duration_field(metric, field, label):
    raw = metric.get(field)
    if raw in (None, ""):
        return None
    try:
        return parse_go_duration(raw)
    except ValueError as e:
        raise AnalysisSpecError("%s: %s: %s" % (label, field, e))


class Metric(object):
    """One validated metric of a resolved template."""

    def __init__(self, spec, index):
        if not isinstance(spec, dict):
            raise AnalysisSpecError("metrics[%d] must be a mapping" % index)
        self.spec = spec
        self.name = spec.get("name")
        if not self.name:
            raise AnalysisSpecError("metrics[%d] has no name" % index)
        label = "metrics[%d] (%s)" % (index, self.name)
        self.label = label
        self.interval = _duration_field(spec, "interval", label)
        self.initial_delay = _duration_field(spec, "initialDelay", label) or 0.0
        count = _int_field(spec, "count", 0, label)
        if count > 1 and self.interval is None:
            raise AnalysisSpecError("%s: interval must be specified when count > 1" % label)
        # Argo's EffectiveCount: one measurement without interval, forever with interval only
        self.count = count if count > 0 else (None if self.interval else 1)
        self.failure_limit = _int_field(spec, "failureLimit", 0, label)
        self.inconclusive_limit = _int_field(spec, "inconclusiveLimit", 0, label)
        self.consecutive_error_limit = _int_field(spec, "consecutiveErrorLimit",
                                                  DEFAULT_CONSECUTIVE_ERROR_LIMIT, label)
        self.consecutive_success_limit = _int_field(spec, "consecutiveSuccessLimit", 0, label)
        if self.failure_limit < -1:
            raise AnalysisSpecError("%s: failureLimit must be >= -1" % label)
        for field, value in (("inconclusiveLimit", self.inconclusive_limit),
                             ("consecutiveErrorLimit", self.consecutive_error_limit),
                             ("consecutiveSuccessLimit", self.consecutive_success_limit)):
            if value < 0:
                raise AnalysisSpecError("%s: %s must be >= 0" % (label, field))
        if self.failure_limit == -1 and self.consecutive_success_limit == 0:
            raise AnalysisSpecError("%s: failureLimit and consecutiveSuccessLimit cannot both be "
                                    "disabled" % label)
        if self.count is not None:
            if self.failure_limit >= 0 and self.count < self.failure_limit + self.consecutive_success_limit:
                raise AnalysisSpecError("%s: count must be >= failureLimit + consecutiveSuccessLimit"
                                        % label)
            if self.count < self.inconclusive_limit:
                raise AnalysisSpecError("%s: count must be >= inconclusiveLimit" % label)
        self.success = self._condition("successCondition")
        self.failure = self._condition("failureCondition")
        provider = spec.get("provider") or {}
        if not isinstance(provider, dict):
            raise AnalysisSpecError("%s: provider must be a mapping such as {prometheus: {query: ...}}" % label)
        if len(provider) != 1:
            raise AnalysisSpecError("%s: exactly one provider must be set (got %s)"
                                    % (label, ", ".join(sorted(provider)) or "none"))
        self.provider_kind = kind = list(provider)[0]
        self.provider_spec = provider[kind] or {}
        provider_class(kind, label).check(self.provider_spec, label)
        self.min_samples, self.samples_unit = _min_samples(spec, provider_class(kind, label), self.provider_spec, label)
        # the prometheus fields, read by name in results and by the modules' no_log net ({} for another provider)
        self.prometheus = self.provider_spec if kind == "prometheus" else {}
        self.dry_run = False
        self.history_limit = DEFAULT_MEASUREMENT_HISTORY

    def _condition(self, field):
        source = self.spec.get(field)
        if source in (None, ""):
            return None
        if not isinstance(source, str):
            raise AnalysisSpecError("%s: %s must be a string expression, got %s" % (self.label, field, type(source).__name__))
        try:
            return Expression(source)
        except ExprError as e:
            raise AnalysisSpecError("%s: %s does not parse: %s" % (self.label, field, e))
        except Exception as e:  # pylint: disable=broad-except
            raise AnalysisSpecError("%s: %s does not parse: %s: %s" % (self.label, field, type(e).__name__, e))

    def as_single_gate(self):
        """`once` mode: one measurement whose phase is the metric's phase."""
        self.interval = None
        self.initial_delay = 0.0
        self.count = 1
        self.failure_limit = 0
        self.inconclusive_limit = 0
        self.consecutive_error_limit = 0
        self.consecutive_success_limit = 0


def _min_samples(spec, provider, provider_spec, label):
    """(the fewest requests or samples a verdict needs, what is counted): the metric's ``minSamples``, else the
    provider's own (``minRequests`` of the sequential judge, ``minSamples`` of the comparison); 0 is none.

    Only a provider that counts what it measured can be held to a minimum: ``minSamples`` on another is refused."""
    own = getattr(provider, "min_samples", None)
    need, unit = own(provider_spec) if own else (0, "samples")
    if spec.get("minSamples") not in (None, ""):
        if not own:
            raise AnalysisSpecError("%s: minSamples needs a provider that counts its samples: the "
                                    "progressive-delivery/sequential or progressive-delivery/compare plugin" % label)
        need = _int_field(spec, "minSamples", 0, label)
        if need < 0:
            raise AnalysisSpecError("%s: minSamples must be >= 0" % label)
    return need, unit


def build_metrics(spec, mode="run"):
    metrics = [Metric(m, i) for i, m in enumerate(spec.get("metrics") or [])]
    names = [m.name for m in metrics]
    for rule, matched in _matching_rules(spec, "dryRun", metrics):
        for m in matched:
            m.dry_run = True
    for i, (rule, matched) in enumerate(_matching_rules(spec, "measurementRetention", metrics)):
        for m in matched:
            m.history_limit = _int_field(rule, "limit", DEFAULT_MEASUREMENT_HISTORY, "measurementRetention[%d]" % i)
    if len(set(names)) != len(names):
        raise AnalysisSpecError("two metrics have the same name")
    if mode == "once":
        for m in metrics:
            m.as_single_gate()
    return metrics


def _matching_rules(spec, field, metrics):
    """(rule, metrics it selects) for dryRun / measurementRetention; a rule must select one."""
    out = []
    for i, rule in enumerate(spec.get(field) or []):
        pattern = _regex(rule.get("metricName"), "%s[%d]" % (field, i))
        matched = [m for m in metrics if pattern.search(m.name)]
        if not matched:
            raise AnalysisSpecError("Analysis spec invalid: %s[%d]: Rule didn't match any metric name(s)" % (field, i))
        out.append((rule, matched))
    return out


def _regex(pattern, label):
    """Go's regexp (RE2), as Argo matches metric names: linear time, no backtracking."""
    try:
        return re2lite.compile_regex(pattern or "")
    except re2lite.RegexError as e:
        raise AnalysisSpecError("Analysis spec invalid: %s: metricName is not a valid regex: %s" % (label, e))
