# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo's ``prometheus`` metric provider: an instant (or range) query bound as Argo binds it - a float for a
scalar, a list of floats for a vector (``result[0]``), every sample flattened for a matrix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import threading

from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import AnalysisSpecError
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.base import (
    Provider, ProviderError, Value)
from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.expr import Expression, ExprError
from ansible_collections.progressive.delivery.plugins.module_utils.prometheus import PrometheusClient, PrometheusError
from ansible_collections.progressive.delivery.plugins.module_utils.redact import auth_secrets, url_secrets


class PrometheusProvider(Provider):
    """Measures prometheus metrics; one client per address and connection settings."""

    kind = "prometheus"

    def __init__(self, url=None, token=None, username=None, password=None, headers=None,
                 ca_file=None, validate_certs=True, timeout=None, client_cert=None, client_key=None):
        self.options = dict(token=token, username=username, password=password, ca_file=ca_file,
                            client_cert=client_cert, client_key=client_key)
        self.url = url
        self.headers = dict(headers or {})
        self.validate_certs = validate_certs
        self.timeout = timeout
        self._clients = {}
        self._lock = threading.Lock()

    def secrets(self):
        """Values no message may show: the token, the password, the header values, URL credentials."""
        out = auth_secrets(self.options["token"], self.options["username"], self.options["password"])
        out.extend(v for v in self.headers.values() if isinstance(v, str))
        out.extend(url_secrets(self.url))
        return out

    def address(self, metric):
        return self.url or metric.prometheus.get("address") or os.environ.get("ARGO_ROLLOUTS_PROMETHEUS_ADDRESS")

    def client(self, metric):
        prom = metric.prometheus
        address = self.address(metric)
        if not address:
            raise PrometheusError("%s has no Prometheus address: set prometheus_url or "
                                  "provider.prometheus.address" % metric.label, "config")
        headers = dict((h.get("key"), h.get("value")) for h in prom.get("headers") or [])
        headers.update(self.headers)
        if not isinstance(address, str):
            raise PrometheusError("%s: the Prometheus address must be a string" % metric.label, "config")
        validate = self.validate_certs and not prom.get("insecure", False)
        timeout = self.timeout or prom.get("timeout")
        key = (address, validate, timeout, tuple(sorted(headers.items())))
        with self._lock:
            if key not in self._clients:
                self._clients[key] = PrometheusClient(address, headers=headers, validate_certs=validate,
                                                      timeout=timeout, **self.options)
            return self._clients[key]

    def query(self, metric, timeout=None):
        """One query of ``metric``; ``timeout`` (the time left of the run) can only shorten the query's own."""
        client = self.client(metric)
        prom = metric.prometheus
        rng = prom.get("rangeQuery")
        if rng:
            start, end = (_time_expr(rng.get(k), metric, k) for k in ("start", "end"))
            try:
                step = parse_go_duration(rng.get("step") or "1m")
            except ValueError as e:
                raise PrometheusError("%s: rangeQuery.step: %s" % (metric.label, e), "config")
            return client.query_range(prom["query"], start, end, step, timeout=timeout)
        return client.query(prom["query"], timeout=timeout)

    @classmethod
    def check(cls, spec, label):
        _check_prometheus(spec, label)

    @classmethod
    def describe(cls, spec):
        return spec.get("query")

    def metric_secrets(self, metric):
        return url_secrets(metric.prometheus.get("address"))

    def measure(self, metric, timeout=None):
        return measure_query(self.query, metric, timeout)


def measure_query(query, metric, timeout):
    """A Value from a Prometheus query function (``query(metric[, timeout=])`` -> QueryResult)."""
    try:
        result = query(metric) if timeout is None else query(metric, timeout=timeout)
        return Value(result.bind(), result.display())
    except PrometheusError as e:
        raise ProviderError(e.message)


class QueryProvider(Provider):
    """Any object with Prometheus' ``query(metric, timeout=None)`` (a stand-in in tests) as a provider."""

    kind = "prometheus"

    def __init__(self, source):
        self.source = source

    def secrets(self):
        secrets = getattr(self.source, "secrets", None)
        return secrets() if callable(secrets) else []

    def measure(self, metric, timeout=None):
        return measure_query(self.source.query, metric, timeout)


def _time_expr(source, metric, field):
    try:
        value = Expression(source or "now()", names=()).evaluate({})
    except ExprError as e:
        raise PrometheusError("%s: rangeQuery.%s: %s" % (metric.label, field, e), "config")
    if not isinstance(value, datetime.datetime):
        raise PrometheusError("%s: rangeQuery.%s must give a time, e.g. now() - duration(\"1h\")"
                              % (metric.label, field), "config")
    return value.timestamp()


def _check_prometheus(prom, label):
    """The fields of provider.prometheus have the types Argo's CRD gives them."""
    if not isinstance(prom, dict):
        raise AnalysisSpecError("%s: provider.prometheus must be a mapping" % label)
    query = prom.get("query")
    if not isinstance(query, str) or not query.strip():
        raise AnalysisSpecError("%s: provider.prometheus.query %s" % (
            label, "is empty" if query in (None, "") else "must be a string"))
    if prom.get("address") not in (None, "") and not isinstance(prom.get("address"), str):
        raise AnalysisSpecError("%s: provider.prometheus.address must be a string" % label)
    timeout = prom.get("timeout")
    if timeout not in (None, ""):
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float, str)):
            raise AnalysisSpecError("%s: provider.prometheus.timeout must be a number of seconds" % label)
        try:
            seconds = float(timeout)
        except ValueError:
            raise AnalysisSpecError("%s: provider.prometheus.timeout must be a number of seconds, got %r" % (label, timeout))
        if not 0 < seconds < float("inf"):
            raise AnalysisSpecError("%s: provider.prometheus.timeout must be more than 0 seconds" % label)
    headers = prom.get("headers")
    if headers is not None:
        if not isinstance(headers, list) or not all(
                isinstance(h, dict) and isinstance(h.get("key"), str) and h.get("key") and h.get("value") is not None
                for h in headers):
            raise AnalysisSpecError("%s: provider.prometheus.headers must be a list of {key, value}" % label)
    if not isinstance(prom.get("insecure", False), bool):
        raise AnalysisSpecError("%s: provider.prometheus.insecure must be true or false" % label)
    if prom.get("rangeQuery") is not None and not isinstance(prom.get("rangeQuery"), dict):
        raise AnalysisSpecError("%s: provider.prometheus.rangeQuery must be a mapping of start, end, step" % label)
