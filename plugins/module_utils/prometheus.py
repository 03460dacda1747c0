# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus HTTP API client: instant and range queries with typed results.

Errors quote Prometheus's own message (``bad_data``, ``timeout``, ...) or say that the server
could not be reached and where, so an operator knows what to fix. Every query has one deadline
(connect, headers and the whole body); an answer that does not have the documented shape is an
error that says what was wrong, never a value. Credentials never appear in a message: the URL's
password shows as ``***`` and tokens, passwords and header values are redacted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import math
import socket
import ssl
import time

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.error import URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode, urlparse
from ansible.module_utils.urls import Request, SSLValidationError, make_context
from ansible_collections.progressive.delivery.plugins.module_utils.redact import (
    Redactor, auth_secrets, redact_url, url_secrets)
from ansible_collections.progressive.delivery.plugins.module_utils.timed_http import (
    MAX_BODY_BYTES, BodyTooLarge, DeadlineExceeded, exchange, header_problem)

DEFAULT_TIMEOUT = 30  # seconds, as Argo Rollouts' provider.prometheus.timeout
_CONTEXTS = {}  # SSL contexts by (ca_file, validate_certs, client_cert, client_key), shared by clients


class PrometheusError(Exception):
    """A query that did not produce a result.

    ``kind`` is Prometheus's errorType (bad_data, timeout, execution, ...) or one of
    ``unreachable``, ``timeout``, ``http``, ``tls``, ``invalid_response`` (an answer that is not the
    documented JSON shape), ``config`` or ``error`` (anything else). ``url`` is the redacted address.
    """

    def __init__(self, message, kind="error", url=None):
        super(PrometheusError, self).__init__(message)
        self.message = message
        self.kind = kind
        self.url = redact_url(url)


def format_sample(value):
    """A float the way Prometheus/Go print it: 10, 0.99, NaN, +Inf."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def format_seconds(seconds):
    """3 -> "3s", 2.46 -> "2.5s"."""
    return "%gs" % round(seconds, 1)


_RESULT_TYPES = ("scalar", "vector", "matrix", "string")


def _describe(value):
    """How a JSON value looks, for an error message (never a long value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "the number %r" % (value,)
    if isinstance(value, str):
        return "a string" if len(value) > 40 else "the string %r" % (value,)
    if isinstance(value, list):
        return "a list of %d" % len(value)
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _malformed(where, what):
    return PrometheusError("Prometheus returned a malformed answer: %s is %s; is the address a Prometheus "
                           "(or compatible) query API?" % (where, what), "invalid_response")


def _pair(raw, where):
    """A Prometheus sample ``[<unix time>, "<value>"]``: the time as a number, the value as the string."""
    if not isinstance(raw, list) or len(raw) != 2:
        raise _malformed(where, "%s, not a [time, \"value\"] pair" % _describe(raw))
    ts, value = raw
    if isinstance(ts, bool) or not isinstance(ts, (int, float)):
        raise _malformed(where + "[0] (the sample time)", _describe(ts) + ", not a number")
    if not isinstance(value, str):
        # JSON true is not 1.0 and null is not 0: Prometheus always sends a sample value as a string
        raise _malformed(where + "[1] (the sample value)", _describe(value) + ", not a number in a string")
    return float(ts), value


def _sample(raw, where="the sample"):
    """The float of a ``[time, "value"]`` pair; "NaN", "+Inf" and "-Inf" are read as Prometheus sends them."""
    _ts, value = _pair(raw, where)
    try:
        return float(value)
    except ValueError:
        raise _malformed(where + "[1] (the sample value)", "%s, not a number" % _describe(value))


def _object(raw, where):
    if not isinstance(raw, dict):
        raise _malformed(where, "%s, not an object" % _describe(raw))
    return raw


def _list(raw, where, what):
    if not isinstance(raw, list):
        raise _malformed(where, "%s, not a list of %s" % (_describe(raw), what))
    return raw


def _labels(item, where):
    labels = item.get("metric")
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise _malformed(where + ".metric", "%s, not an object of labels" % _describe(labels))
    return labels


def _refuse_histograms(item, where):
    if "histogram" in item or "histograms" in item:
        raise PrometheusError("Prometheus returned native histogram samples at %s; the Prometheus provider reads "
                              "float samples only: use histogram_quantile() or histogram_count() in the query"
                              % where, "invalid_response")


class QueryResult(object):
    """A typed Prometheus result, checked against the API's documented shape.

    ``result_type`` is scalar, vector, matrix or string. ``series`` holds
    ``(labels, value)`` for a vector and ``(labels, [(ts, value), ...])`` for a matrix.
    Any other shape raises PrometheusError (kind ``invalid_response``) naming what was wrong.
    """

    def __init__(self, result_type, data, warnings=None):
        if result_type not in _RESULT_TYPES:
            if result_type is None or isinstance(result_type, str):
                raise PrometheusError("Prometheus metric type not supported: %s" % result_type, "invalid_response")
            raise _malformed("data.resultType", _describe(result_type))
        self.result_type = result_type
        if isinstance(warnings, list):
            self.warnings = [w if isinstance(w, str) else json.dumps(w) for w in warnings]
        else:
            self.warnings = [] if warnings is None else [json.dumps(warnings)]
        self.scalar = None
        self.series = []
        self.text = None
        if result_type == "scalar":
            self.scalar = _sample(data, "scalar data.result")
        elif result_type == "string":
            self.text = _pair(data, "string data.result")[1]
        elif result_type == "vector":
            for i, item in enumerate(_list(data, "vector data.result", "samples")):
                where = "vector data.result[%d]" % i
                _object(item, where)
                _refuse_histograms(item, where)
                if "value" not in item:
                    raise _malformed(where, "an object without \"value\"")
                self.series.append((_labels(item, where), _sample(item["value"], where + ".value")))
        else:
            for i, item in enumerate(_list(data, "matrix data.result", "series")):
                where = "matrix data.result[%d]" % i
                _object(item, where)
                _refuse_histograms(item, where)
                if "values" not in item:
                    raise _malformed(where, "an object without \"values\"")
                points = []
                for j, raw in enumerate(_list(item["values"], where + ".values", "samples")):
                    here = "%s.values[%d]" % (where, j)
                    points.append((_pair(raw, here)[0], _sample(raw, here)))
                self.series.append((_labels(item, where), points))

    def bind(self):
        """The value Argo Rollouts binds to ``result``: a float for a scalar, a list of
        floats for a vector (use ``result[0]``), all samples flattened for a matrix."""
        if self.result_type == "scalar":
            return self.scalar
        if self.result_type == "vector":
            return [value for _labels, value in self.series]
        if self.result_type == "matrix":
            return [value for _labels, values in self.series for _ts, value in values]
        raise PrometheusError("Prometheus metric type not supported: %s" % self.result_type,
                              "invalid_response")

    def display(self):
        """Argo's measurement.value string: "10", "[0.99]", "[10,11]"."""
        bound = self.bind()
        if isinstance(bound, list):
            return "[" + ",".join(format_sample(v) for v in bound) + "]"
        return format_sample(bound)

    def is_empty(self):
        """True when there is no data to judge: no series, or only NaN samples."""
        bound = self.bind()
        values = bound if isinstance(bound, list) else [bound]
        return not values or all(math.isnan(v) for v in values)

    def to_dict(self):
        out = {"result_type": self.result_type, "value": self.bind()}
        if self.series:
            out["series"] = [{"labels": labels, "value": value} for labels, value in self.series] \
                if self.result_type == "vector" else \
                [{"labels": labels, "values": values} for labels, values in self.series]
        if self.warnings:
            out["warnings"] = self.warnings
        return out


def _seconds(value, url):
    if value is None or value == "":
        return float(DEFAULT_TIMEOUT)
    try:
        if isinstance(value, bool):
            raise ValueError
        seconds = float(value)
    except (TypeError, ValueError):
        raise PrometheusError("the Prometheus timeout must be a number of seconds, got %r" % (value,), "config", url)
    if math.isnan(seconds) or seconds <= 0 or math.isinf(seconds):
        raise PrometheusError("the Prometheus timeout must be a positive number of seconds, got %r" % (value,),
                              "config", url)
    return seconds


class PrometheusClient(object):
    """A small client for ``/api/v1/query`` and ``/api/v1/query_range``."""

    def __init__(self, url, token=None, username=None, password=None, headers=None,
                 ca_file=None, validate_certs=True, timeout=DEFAULT_TIMEOUT,
                 client_cert=None, client_key=None):
        url = url.strip() if isinstance(url, str) else url  # e.g. read from a file or secret with a newline
        self.redactor = Redactor(auth_secrets(token, username, password) + url_secrets(url))
        parsed = urlparse(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            shown = redact_url(url)
            if isinstance(shown, str) and "@" in shown and "://" not in shown:
                shown = "***@" + shown.rsplit("@", 1)[1]  # user:password@host without a scheme
            raise PrometheusError(
                "Prometheus address %r is not a URL with scheme and host; set prometheus_url "
                "(or provider.prometheus.address) to e.g. http://prometheus:9090" % (shown,), "config", shown)
        self.url = url.rstrip("/")
        self.shown_url = redact_url(self.url)
        if token and (username or password):
            raise PrometheusError("give either a bearer token or a username/password for "
                                  "Prometheus, not both", "config", url)
        self.timeout = _seconds(timeout, url)
        self.validate_certs = validate_certs
        self.ca_file = ca_file
        self.client_cert = client_cert
        self.client_key = client_key
        self.headers = {"Accept": "application/json",
                        "Content-Type": "application/x-www-form-urlencoded"}
        if token:
            token = self._header_value(token, "the bearer token (prometheus_token)")
            self.headers["Authorization"] = "Bearer %s" % token
        elif username is not None:
            creds = "%s:%s" % (username, password or "")
            self.headers["Authorization"] = "Basic %s" % base64.b64encode(creds.encode("utf-8")).decode("ascii")
        for name, value in (headers or {}).items():
            if not isinstance(name, str) or not name.strip() or header_problem(name.strip()) or ":" in name:
                raise PrometheusError("Prometheus header name %r is not a valid HTTP header name" % (name,),
                                      "config", url)
            if value is None:
                raise PrometheusError("Prometheus header '%s' has no value" % name.strip(), "config", url)
            value = value if isinstance(value, str) else str(value)
            self.redactor.add([value])
            self.headers[name.strip()] = self._header_value(value, "header '%s'" % name.strip())
        self._request = None

    def _header_value(self, value, what):
        value = value.strip()  # a secret written with `echo ... | kubectl create secret` ends in a newline
        problem = header_problem(value)
        if problem:
            raise PrometheusError("%s for Prometheus at %s has %s, so it cannot be sent; fix the value (its text is "
                                  "not shown)" % (what, self.shown_url, problem), "config", self.url)
        return value

    def _error(self, message, kind):
        return PrometheusError(self.redactor.text(message), kind, self.url)

    def _requester(self):
        # Building an SSL context loads the CA bundle (~15 ms): once per process and settings, not per query.
        if self._request is None:
            key = (self.ca_file, self.validate_certs, self.client_cert, self.client_key)
            try:
                if key not in _CONTEXTS:
                    _CONTEXTS[key] = make_context(cafile=self.ca_file, validate_certs=self.validate_certs,
                                                  client_cert=self.client_cert, client_key=self.client_key)
                context = _CONTEXTS[key]
            except (IOError, OSError, ValueError) as e:
                raise self._error("cannot load the TLS files for Prometheus at %s (%s); check "
                                  "prometheus_ca_file, prometheus_client_cert and prometheus_client_key"
                                  % (self.shown_url, e), "config")
            self._request = Request(headers=self.headers, use_proxy=True, validate_certs=self.validate_certs,
                                    follow_redirects="safe", context=context)
        return self._request

    def query(self, promql, at=None, timeout=None):
        """An instant query. ``timeout`` (seconds) can only shorten the client's own timeout."""
        params = {"query": promql}
        if at is not None:
            params["time"] = at
        return self._call("/api/v1/query", params, timeout)

    def query_range(self, promql, start, end, step, timeout=None):
        params = {"query": promql, "start": start, "end": end, "step": step}
        return self._call("/api/v1/query_range", params, timeout)

    def _call(self, path, params, timeout=None):
        limit = self.timeout if timeout is None else max(0.001, min(self.timeout, timeout))
        deadline = time.monotonic() + limit
        code, reason, body = self._exchange(self.url + path, urlencode(params), deadline, limit)
        payload = self._decode(body)
        if not 200 <= code < 300:
            if not isinstance(payload, dict):
                hint = ""
                if code in (401, 403):
                    hint = "; check prometheus_token or prometheus_username/prometheus_password"
                raise self._error("Prometheus at %s answered HTTP %d %s%s" % (self.shown_url, code, reason, hint),
                                  "http")
            self._raise_api_error(payload, code)
        if payload is None:
            raise self._error("Prometheus at %s returned a response that is not JSON; is prometheus_url pointing "
                              "at Prometheus?" % self.shown_url, "invalid_response")
        if not isinstance(payload, dict):
            raise self._error("Prometheus at %s returned JSON %s, not an object with status and data; is "
                              "prometheus_url pointing at Prometheus?" % (self.shown_url, _describe(payload)),
                              "invalid_response")
        if payload.get("status") != "success":
            if payload.get("status") == "error":
                self._raise_api_error(payload, code)
            raise self._error("Prometheus at %s returned a malformed answer: status is %s, not \"success\" or "
                              "\"error\"" % (self.shown_url, _describe(payload.get("status"))), "invalid_response")
        try:
            data = _object(payload.get("data"), "data")
            if "result" not in data:
                raise _malformed("data", "an object without \"result\"")
            return QueryResult(data.get("resultType"), data["result"], payload.get("warnings"))
        except PrometheusError as e:
            raise self._error(e.message, e.kind)

    def _exchange(self, url, data, deadline, limit):
        """POST and read the whole answer before ``deadline``; returns (HTTP code, reason, body)."""
        request = self._requester()
        try:
            return exchange(request, "POST", url, data, deadline, "prometheus-query")
        except DeadlineExceeded:
            raise self._timeout(limit)
        except BodyTooLarge:
            raise self._error("Prometheus sent an answer larger than %d MiB; narrow the query"
                              % (MAX_BODY_BYTES // (1024 * 1024)), "invalid_response")
        except Exception as e:  # pylint: disable=broad-except
            raise self._convert(e, limit)

    def _timeout(self, limit):
        why = "" if limit >= self.timeout else " (the time left of the analysis)"
        return self._error("Prometheus at %s did not answer within %s%s" % (self.shown_url, format_seconds(limit), why),
                           "timeout")

    def _convert(self, e, limit):
        """Any failure of the exchange as a PrometheusError whose message names no secret."""
        if isinstance(e, PrometheusError):
            return self._error(e.message, e.kind)
        if isinstance(e, SSLValidationError):
            return self._error("TLS verification of Prometheus at %s failed: %s; give prometheus_ca_file, or "
                               "prometheus_validate_certs: false for a test server" % (self.shown_url, e), "tls")
        reason = getattr(e, "reason", None) if isinstance(e, URLError) else e
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return self._timeout(limit)
        if isinstance(reason, ssl.SSLCertVerificationError):
            return self._error("TLS verification of Prometheus at %s failed: %s; give prometheus_ca_file, or "
                               "prometheus_validate_certs: false for a test server" % (self.shown_url, reason), "tls")
        if isinstance(reason, http_client.IncompleteRead):
            return self._error("Prometheus at %s closed the connection before its answer was complete (%d bytes "
                               "read)" % (self.shown_url, len(reason.partial or b"")), "unreachable")
        if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http_client.RemoteDisconnected)):
            return self._error("Prometheus at %s closed or reset the connection (%s); check that it is running and "
                               "that prometheus_url is right" % (self.shown_url, reason), "unreachable")
        if isinstance(reason, http_client.HTTPException):
            return self._error("Prometheus at %s sent an answer that is not valid HTTP (%s: %s)"
                               % (self.shown_url, type(reason).__name__, reason), "invalid_response")
        if isinstance(e, (URLError, OSError)):
            return self._error("Prometheus at %s is unreachable (%s); check that it is running and that "
                               "prometheus_url is right" % (self.shown_url, reason), "unreachable")
        if isinstance(e, (ValueError, UnicodeError)):
            return self._error("the query to Prometheus at %s could not be sent: %s" % (self.shown_url, e), "config")
        return self._error("the query to Prometheus at %s failed: %s: %s" % (self.shown_url, type(e).__name__, e),
                           "error")

    @staticmethod
    def _decode(body):
        try:
            return json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
        except (ValueError, TypeError, AttributeError, UnicodeDecodeError, RecursionError):
            return None

    def _raise_api_error(self, payload, code):
        kind = payload.get("errorType") or "error"
        kind = kind if isinstance(kind, str) else "error"
        error = payload.get("error")
        error = error if isinstance(error, str) and error else "HTTP %d" % code
        raise self._error("Prometheus rejected the query (%s): %s" % (kind, error), kind)
