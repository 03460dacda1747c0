# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``progressive-delivery/sequential``: Wald's SPRT of the canary's error rate against the SLO's error budget.

Reached as an Argo metric plugin, so the template stays a valid AnalysisTemplate on a cluster (the CRD keeps
the fields under ``provider.plugin``)::

    provider:
      plugin:
        progressive-delivery/sequential:
          prometheus: {address: http://prometheus:9090}     # optional: the gate's prometheus_url wins
          requests: sum(increase(http_requests_total{pod=~".*-{{args.canary-hash}}-.*"}[5m]))
          errors: sum(increase(http_requests_total{pod=~".*-{{args.canary-hash}}-.*",code=~"5.."}[5m]))
          slo: 0.999        # p0 = 1 - slo, the error budget
          worse: 3          # p1 = worse * p0
          alpha: 0.05       # P(calling a canary at p0 worse)
          beta: 0.05        # P(missing a canary at p1)
          minRequests: 200  # fewer requests: the measurement is Inconclusive, never Successful

``result`` is {decision: worse | not_worse | continue, llr, upper, lower, requests, errors, error_rate, p0, p1}.
The provider measures and computes the test; the template's conditions decide (docs/analysis.md)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import AnalysisSpecError
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.judges import sprt
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.base import (
    Provider, ProviderError, Value)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.prometheus import (
    PrometheusProvider)
from ansible_collections.progressive.delivery.plugins.module_utils.prometheus import PrometheusError, format_sample
from ansible_collections.progressive.delivery.plugins.module_utils.redact import url_secrets

NAME = "progressive-delivery/sequential"


class CountedValue(Value):
    """A Value that says how many requests (or samples) it rests on, for the metric's minimum."""

    def __init__(self, bound, display, number=None, samples=None, unit="samples"):
        super(CountedValue, self).__init__(bound, display, number)
        self.samples = samples
        self.unit = unit


class _QueryMetric(object):
    """What the Prometheus provider reads of a metric (label, prometheus fields), for one of a judge's queries."""

    def __init__(self, label, prometheus):
        self.label = label
        self.prometheus = prometheus


class PromSource(object):
    """The judges' queries through the run's Prometheus provider: the gate's prometheus_url, token, TLS and
    headers apply, and the spec's ``prometheus`` block (address, headers, insecure, timeout) as in Argo."""

    def __init__(self, providers, spec, label):
        self.providers = providers
        self.connection = dict(spec.get("prometheus") or {})
        self.label = label

    def query(self, what, promql, timeout=None, range_query=None):
        prom = dict(self.connection, query=promql)
        if range_query:
            prom["rangeQuery"] = range_query
        provider = self.providers.get("prometheus")
        run = getattr(provider, "query", None) or provider.source.query
        try:
            return run(_QueryMetric("%s: %s" % (self.label, what), prom), timeout=timeout)
        except PrometheusError as e:
            raise ProviderError("%s: %s" % (what, e.message))


def check_connection(spec, label):
    """The spec's optional ``prometheus`` block has the shape of provider.prometheus (without a query)."""
    conn = spec.get("prometheus")
    if conn is None:
        return
    if not isinstance(conn, dict) or "query" in conn:
        raise AnalysisSpecError("%s: prometheus must be a mapping of address, timeout, headers, insecure" % label)
    PrometheusProvider.check(dict(conn, query="vector(1)"), label)


def number_field(spec, field, default, label):
    raw = spec.get(field, default)
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = float(raw)
    except (TypeError, ValueError):
        raise AnalysisSpecError("%s: %s must be a number, got %r" % (label, field, raw))
    if not math.isfinite(value):
        raise AnalysisSpecError("%s: %s must be a finite number, got %r" % (label, field, raw))
    return value


def count_field(spec, field, label):
    value = number_field(spec, field, 0, label)
    if value < 0 or value != int(value):
        raise AnalysisSpecError("%s: %s must be a whole number >= 0, got %r" % (label, field, spec.get(field)))
    return int(value)


def query_field(spec, field, label):
    query = spec.get(field)
    if not isinstance(query, str) or not query.strip():
        raise AnalysisSpecError("%s: %s must be a PromQL query (a count, e.g. sum(increase(...[5m])))" % (label, field))
    return query


def _parameters(spec, label):
    params = dict(slo=number_field(spec, "slo", 0.999, label), worse=number_field(spec, "worse", 3, label),
                  alpha=number_field(spec, "alpha", 0.05, label), beta=number_field(spec, "beta", 0.05, label))
    try:
        sprt.check_parameters(**params)
    except ValueError as e:
        raise AnalysisSpecError("%s: %s" % (label, e))
    return params


def _total(result, what, allow_empty):
    """The sum of a scalar or an instant vector; None for no series."""
    bound = result.bind()
    values = bound if isinstance(bound, list) else [bound]
    if not values:
        if allow_empty:
            return 0.0
        raise ProviderError("%s returned no series: the canary has no such metric yet, or the labels are wrong"
                            % what)
    if any(math.isnan(v) or math.isinf(v) for v in values):
        raise ProviderError("%s returned %s, not a count" % (what, result.display()))
    return sum(values)


class SequentialProvider(Provider):
    """Counts the canary's requests and errors, and runs Wald's test on them."""

    kind = NAME

    def __init__(self, providers):
        self.providers = providers

    @classmethod
    def check(cls, spec, label):
        label = "%s: provider.plugin[%s]" % (label, NAME)
        if not isinstance(spec, dict):
            raise AnalysisSpecError("%s must be a mapping" % label)
        known = {"prometheus", "requests", "errors", "slo", "worse", "alpha", "beta", "minRequests"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise AnalysisSpecError("%s: unknown field(s) %s (known: %s)" % (label, ", ".join(unknown), ", ".join(sorted(known))))
        query_field(spec, "requests", label)
        query_field(spec, "errors", label)
        _parameters(spec, label)
        count_field(spec, "minRequests", label)
        check_connection(spec, label)

    @classmethod
    def describe(cls, spec):
        return "requests: %s; errors: %s" % (spec.get("requests"), spec.get("errors"))

    @classmethod
    def min_samples(cls, spec):
        return count_field(spec, "minRequests", "sequential"), "requests"

    @classmethod
    def metric_secrets(cls, spec):
        conn = spec.get("prometheus") or {}
        return url_secrets(conn.get("address")) + [h.get("value") for h in conn.get("headers") or []
                                                   if isinstance(h, dict) and isinstance(h.get("value"), str)]

    def measure_spec(self, spec, label, timeout=None):
        source = PromSource(self.providers, spec, label)
        requests = _total(source.query("requests", spec["requests"], timeout), "the requests query", False)
        errors = _total(source.query("errors", spec["errors"], timeout), "the errors query", True)
        # increase() extrapolates to the window's edges: counts come back as 11.97 for 12
        n, k = int(round(requests)), int(round(errors))
        decision = sprt.decide(k, n, **_parameters(spec, label))
        bound = decision.to_dict()
        display = "%s: %d errors in %d requests (llr %s, bounds %s / %s)" % (
            decision.decision, decision.errors, n, format_sample(round(decision.llr, 4)),
            format_sample(round(decision.lower, 4)), format_sample(round(decision.upper, 4)))
        return CountedValue(bound, display, number=decision.llr, samples=n, unit="requests")
