# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AnalysisTemplate semantics as Argo Rollouts implements them.

Templates are merged, ``{{args.NAME}}`` tags substituted, metrics validated, then measured on
their schedule (interval, count, initialDelay, the 10 s retry after an Error) with the metric
and run phase rules of Argo's analysis controller. ``shared/reference`` in the repository and
docs/analysis.md set the rules out. Deliberate differences, all towards failing closed:

- ``on_empty``: by default a measurement with no data never passes;
- nothing raises out of a measurement: a provider error, a malformed answer or an exception while
  evaluating a condition is a measurement of phase Error with the (redacted) reason;
- ``max_duration`` is a wall-clock limit from the start of the run: a query gets no more time than
  is left, and a metric whose last measurement is an Error when the time is up (a query cut by the
  limit, or an error not yet retried) ends Error with "analysis exceeded max_duration ... (wall
  clock)", where Argo's termination would call it Successful;
- secret values (``valueFrom.secretKeyRef`` args, tokens, passwords, URL credentials) are shown as
  ``***`` in every message, query and result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import math
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.progressive.delivery.plugins.module_utils import re2lite
from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.expr import (
    Expression, ExprError, type_name)
from ansible_collections.progressive.delivery.plugins.module_utils.prometheus import (
    PrometheusClient, PrometheusError, format_seconds)
from ansible_collections.progressive.delivery.plugins.module_utils.redact import (
    Redactor, auth_secrets, url_secrets)

PENDING = "Pending"
RUNNING = "Running"
SUCCESSFUL = "Successful"
FAILED = "Failed"
ERROR = "Error"
INCONCLUSIVE = "Inconclusive"
COMPLETED = (SUCCESSFUL, FAILED, ERROR, INCONCLUSIVE)
# Argo's IsWorse order, best to worst
_SEVERITY = {SUCCESSFUL: 0, RUNNING: 1, PENDING: 2, INCONCLUSIVE: 3, ERROR: 4, FAILED: 5}

DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
DEFAULT_MEASUREMENT_HISTORY = 10
ERROR_RETRY_SECONDS = 10.0
# With max_duration, a measurement due this close to the end is not started (a metric's first always is):
# it could only be cut short by the limit, which would end the run Error for want of time, not of data.
START_MARGIN_SECONDS = 0.25
NO_DATA = "metric result is nil or empty: no data returned from the metric provider"

MODES = ("run", "once", "validate")
ON_EMPTY = ("fail", "argo")


class AnalysisSpecError(Exception):
    """The template cannot be run as given: bad args, invalid metric, unknown template."""


# --------------------------------------------------------------------------- templates


def template_spec(template):
    """The spec of an AnalysisTemplate object, or the object itself if it is a bare spec."""
    if not isinstance(template, dict):
        raise AnalysisSpecError("an AnalysisTemplate must be a mapping, got %s" % type(template).__name__)
    spec = template.get("spec", template) if "kind" in template or "spec" in template else template
    if not isinstance(spec, dict) or not ("metrics" in spec or "templates" in spec):
        raise AnalysisSpecError("AnalysisTemplate %s has no spec.metrics" % template_label(template))
    return spec


def template_label(template):
    meta = template.get("metadata") or {} if isinstance(template, dict) else {}
    kind = template.get("kind", "AnalysisTemplate") if isinstance(template, dict) else "AnalysisTemplate"
    return "%s '%s'" % (kind, meta.get("name", "<inline>"))


def merge_templates(templates, lookup=None):
    """Merge several templates as Argo does when a step names more than one.

    ``lookup(name, cluster_scope)`` returns a referenced template for ``spec.templates``.
    """
    merged = {"args": [], "metrics": [], "dryRun": [], "measurementRetention": []}
    seen_args = {}
    seen_metrics = set()

    def add(template, chain):
        spec = template_spec(template)
        for ref in spec.get("templates") or []:
            name = ref.get("templateName") or ref.get("clusterTemplateName")
            cluster = bool(ref.get("clusterScope") or ref.get("clusterTemplateName"))
            if name in chain:
                raise AnalysisSpecError("templates reference each other in a loop: %s"
                                        % " -> ".join(chain + [name]))
            if lookup is None:
                raise AnalysisSpecError("%s references template '%s'; give it in template_file or "
                                        "read it from the cluster" % (template_label(template), name))
            add(lookup(name, cluster), chain + [name])
        for arg in spec.get("args") or []:
            name = arg.get("name")
            if name in seen_args:
                prev = seen_args[name]
                if prev.get("value") != arg.get("value") and arg.get("value") is not None \
                        and prev.get("value") is not None:
                    raise AnalysisSpecError("Argument `%s` specified multiple times with different values: "
                                            "'%s', '%s'" % (name, prev.get("value"), arg.get("value")))
                if prev.get("value") is None:
                    prev.update(arg)
                continue
            seen_args[name] = dict(arg)
            merged["args"].append(seen_args[name])
        for metric in spec.get("metrics") or []:
            if metric.get("name") in seen_metrics:
                raise AnalysisSpecError("two metrics have the same name '%s'" % metric.get("name"))
            seen_metrics.add(metric.get("name"))
            merged["metrics"].append(copy.deepcopy(metric))
        merged["dryRun"].extend(copy.deepcopy(spec.get("dryRun") or []))
        merged["measurementRetention"].extend(copy.deepcopy(spec.get("measurementRetention") or []))

    for template in templates:
        meta = template.get("metadata") or {} if isinstance(template, dict) else {}
        add(template, [meta.get("name", "<inline>")])
    if not merged["metrics"]:
        raise AnalysisSpecError("the AnalysisTemplate defines no metrics")
    return merged


def resolve_args(declared, given, secret_lookup=None):
    """Values for the template's declared args: given values override template defaults.

    Returns ``(values, secrets, ignored)``: ``secrets`` are values to redact from messages and
    ``ignored`` the given names the template does not declare (Argo drops those).
    """
    given = dict(given or {})
    values, secrets = {}, []
    for arg in declared:
        name = arg.get("name")
        value = given.pop(name, None) if name in given else arg.get("value")
        if value is None and (arg.get("valueFrom") or {}).get("secretKeyRef"):
            ref = arg["valueFrom"]["secretKeyRef"]
            if secret_lookup is None:
                raise AnalysisSpecError(
                    "args.%s comes from secret '%s' key '%s'; read the template from the cluster "
                    "(template_name) or give its value in args" % (name, ref.get("name"), ref.get("key")))
            value = secret_lookup(ref.get("name"), ref.get("key"))
            secrets.append(value)
        if value is None:
            raise AnalysisSpecError("args.%s was not resolved: the template declares it without a "
                                    "value; give it in args (args: {%s: ...})" % (name, name))
        if isinstance(value, bool):
            value = "true" if value else "false"
        values[name] = value if isinstance(value, str) else str(value)
    return values, secrets, sorted(given)


_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)


def substitute(obj, values):
    """Replace every ``{{args.NAME}}`` tag in every string of ``obj`` (Argo's fasttemplate pass)."""
    if isinstance(obj, dict):
        return dict((k, substitute(v, values)) for k, v in obj.items())
    if isinstance(obj, list):
        return [substitute(v, values) for v in obj]
    if not isinstance(obj, str) or "{{" not in obj:
        return obj

    def replace(match):
        tag = match.group(1).strip()
        if tag.startswith("args.") and tag[5:] in values:
            return values[tag[5:]]
        raise AnalysisSpecError("failed to resolve {{%s}}: declare it in the template's spec.args "
                                "and give its value in args" % tag)

    if "{{" in _TAG.sub("", obj):
        raise AnalysisSpecError('Cannot find end tag="}}" in the template="%s"' % obj)
    return _TAG.sub(replace, obj)


# --------------------------------------------------------------------------- metrics


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
        kind = list(provider)[0]
        if kind != "prometheus":
            raise AnalysisSpecError("%s uses the %s provider; analysis_check measures prometheus "
                                    "metrics only" % (label, kind))
        self.prometheus = provider["prometheus"] or {}
        _check_prometheus(self.prometheus, label)
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


# --------------------------------------------------------------------------- measurements


def _iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_empty(value):
    """No data to judge: nil, an empty list, or only NaN samples."""
    if value is None:
        return True
    values = value if isinstance(value, list) else [value]
    return not values or all(isinstance(v, float) and math.isnan(v) for v in values)


def evaluate_conditions(metric, result):
    """Argo's EvaluateResult: the measurement phase and a message for one bound result."""
    outcomes = {}
    for field, expression in (("successCondition", metric.success), ("failureCondition", metric.failure)):
        if expression is None:
            continue
        try:
            value = expression.evaluate({"result": result})
        except ExprError as e:
            reason = NO_DATA if result is None or result == [] else e.message
            return ERROR, 'could not evaluate %s "%s": %s' % (field, expression.source, reason)
        except Exception as e:  # pylint: disable=broad-except
            # defence in depth: whatever the evaluator raises is an Error measurement, never a crash
            return ERROR, 'could not evaluate %s "%s": %s: %s' % (field, expression.source, type(e).__name__, e)
        if not isinstance(value, bool):
            return ERROR, 'could not evaluate %s "%s": expected bool, but got %s' % (
                field, expression.source, type_name(value))
        outcomes[field] = value
    success = outcomes.get("successCondition")
    failure = outcomes.get("failureCondition")
    if success is None and failure is None:
        return SUCCESSFUL, ""
    if failure is None:
        return (SUCCESSFUL if success else FAILED), ""
    if success is None:
        return (FAILED if failure else SUCCESSFUL), ""
    if failure:
        return FAILED, ""
    return (SUCCESSFUL if success else INCONCLUSIVE), ""


class PrometheusProvider(object):
    """Measures prometheus metrics; one client per address and connection settings."""

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


def _time_expr(source, metric, field):
    try:
        value = Expression(source or "now()", names=()).evaluate({})
    except ExprError as e:
        raise PrometheusError("%s: rangeQuery.%s: %s" % (metric.label, field, e), "config")
    if not isinstance(value, datetime.datetime):
        raise PrometheusError("%s: rangeQuery.%s must give a time, e.g. now() - duration(\"1h\")"
                              % (metric.label, field), "config")
    return value.timestamp()


class Measurement(object):
    def __init__(self, phase, value, message, started_at, finished_at):
        self.phase = phase
        self.value = value
        self.message = message
        self.started_at = started_at
        self.finished_at = finished_at

    def to_dict(self):
        out = {"phase": self.phase, "value": self.value, "started_at": _iso(self.started_at),
               "finished_at": _iso(self.finished_at)}
        if self.message:
            out["message"] = self.message
        return out


def measure(metric, provider, clock, on_empty="fail", timeout=None):
    """Take one measurement of ``metric``; never raises: any error is a measurement of phase Error.

    ``timeout`` (seconds) is passed to the provider only when set (the time left before max_duration)."""
    started = clock()
    try:
        result = provider.query(metric) if timeout is None else provider.query(metric, timeout=timeout)
        bound = result.bind()
        value = result.display()
    except PrometheusError as e:
        return Measurement(ERROR, "", e.message, started, clock())
    except Exception as e:  # pylint: disable=broad-except
        return Measurement(ERROR, "", "the %s provider failed: %s: %s" % (
            "prometheus", type(e).__name__, e), started, clock())
    try:
        phase, message = evaluate_conditions(metric, bound)
    except Exception as e:  # pylint: disable=broad-except
        return Measurement(ERROR, value, "could not evaluate the conditions: %s: %s" % (type(e).__name__, e),
                           started, clock())
    if is_empty(bound):
        if phase == SUCCESSFUL and on_empty == "fail":
            phase = FAILED
            message = ("query returned no data (%s) and no data never passes; fix the query or its "
                       "labels, or set on_empty: argo to keep Argo Rollouts' verdict"
                       % ("no series" if bound == [] else "only NaN"))
        elif not message:
            message = "query returned no data (%s)" % ("no series" if bound == [] else "only NaN")
    return Measurement(phase, value, message, started, clock())


# --------------------------------------------------------------------------- run


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
               "query": self.metric.prometheus.get("query"),
               "measurements": [m.to_dict() for m in self.measurements]}
        return out


def assess_metric(res, terminating):
    """Argo's assessMetricStatus: the phase and message of one metric."""
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
        if worst is None or _SEVERITY[res.phase] > _SEVERITY[worst]:
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
        self.on_empty = on_empty
        self.max_duration = max_duration
        self.clock = clock
        self.sleep = sleep
        self.redactor = Redactor([s for s in (redact or []) if s])
        secrets = getattr(provider, "secrets", None)
        if callable(secrets):
            self.redactor.add(secrets())
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
        m = measure(res.metric, self.provider, self.clock, self.on_empty, timeout)
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
            "started_at": _iso(self.started_at) if self.started_at else None,
            "finished_at": _iso(self.finished_at) if self.finished_at else None,
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
    """`validate` mode: every query runs and returns data and every condition parses; no verdict.

    ``redact`` lists secret values; they (and the provider's secrets) show as ``***`` in the entries."""
    redactor = Redactor([s for s in (redact or []) if s])
    if callable(getattr(provider, "secrets", None)):
        redactor.add(provider.secrets())

    def check(metric):
        entry = {"name": metric.name, "query": metric.prometheus.get("query"), "dry_run": metric.dry_run}
        try:
            result = provider.query(metric)
            bound = result.bind()
            entry["value"] = result.display()
        except PrometheusError as e:
            entry.update(valid=False, message=e.message)
            return entry
        except Exception as e:  # pylint: disable=broad-except
            entry.update(valid=False, message="the prometheus provider failed: %s: %s" % (type(e).__name__, e))
            return entry
        if is_empty(bound):
            entry.update(valid=False, message="query returned no data (%s); check the metric name and "
                                              "labels" % ("no series" if bound == [] else "only NaN"))
        else:
            entry.update(valid=True, message="")
        return entry

    with ThreadPoolExecutor(max_workers=max(1, min(16, len(metrics)))) as pool:
        return redactor.deep(list(pool.map(check, metrics)))


def prepare(templates, args=None, lookup=None, secret_lookup=None, mode="run", known_args=None):
    """Merge, resolve args, substitute and validate: the metrics ready to measure.

    ``known_args`` fill arguments the templates declare without a value or valueFrom and ``args``
    leaves out (as Argo fills ``valueFrom.podTemplateHashValue``). Returns ``(metrics, secrets, ignored_args)``.
    """
    if mode not in MODES:
        raise AnalysisSpecError("mode must be one of %s" % ", ".join(MODES))
    try:
        return _prepare(templates, args, lookup, secret_lookup, mode, known_args)
    except _MALFORMED as e:
        raise AnalysisSpecError(_malformed_text(e))


# what reading a template of the wrong shape (a string where a mapping belongs, ...) raises
_MALFORMED = (AttributeError, TypeError, KeyError, IndexError)


def _malformed_text(e):
    return "the AnalysisTemplate is malformed (%s: %s); check it against the AnalysisTemplate schema" % (
        type(e).__name__, e)


def _prepare(templates, args, lookup, secret_lookup, mode, known_args):
    spec = merge_templates(templates, lookup)
    args = dict(args or {})
    for arg in spec["args"]:
        name = arg.get("name")
        if name in (known_args or {}) and name not in args and arg.get("value") is None \
                and not arg.get("valueFrom"):
            args[name] = known_args[name]
    values, secrets, ignored = resolve_args(spec["args"], args, secret_lookup)
    redactor = Redactor(secrets)
    try:
        resolved = substitute({"metrics": spec["metrics"], "dryRun": spec["dryRun"],
                               "measurementRetention": spec["measurementRetention"]}, values)
        return build_metrics(resolved, mode), secrets, ignored
    except AnalysisSpecError as e:
        raise AnalysisSpecError(redactor.text(str(e)))
    except _MALFORMED as e:
        raise AnalysisSpecError(redactor.text(_malformed_text(e)))
