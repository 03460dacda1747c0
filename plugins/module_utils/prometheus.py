# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus HTTP API client: instant and range queries with typed results.

Errors quote Prometheus's own message (``bad_data``, ``timeout``, ...) or say that the server
could not be reached and where, so an operator knows what to fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import math
import socket

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode, urlparse
from ansible.module_utils.urls import Request, SSLValidationError, make_context

DEFAULT_TIMEOUT = 30  # seconds, as Argo Rollouts' provider.prometheus.timeout
_CONTEXTS = {}  # SSL contexts by (ca_file, validate_certs, client_cert, client_key), shared by clients


class PrometheusError(Exception):
    """A query that did not produce a result.

    ``kind`` is Prometheus's errorType (bad_data, timeout, execution, ...) or one of
    ``unreachable``, ``http``, ``tls``, ``invalid_response``, ``config``.
    """

    def __init__(self, message, kind="error", url=None):
        super(PrometheusError, self).__init__(message)
        self.message = message
        self.kind = kind
        self.url = url


def format_sample(value):
    """A float the way Prometheus/Go print it: 10, 0.99, NaN, +Inf."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def _sample(raw):
    try:
        return float(raw)  # Prometheus sends "NaN", "+Inf", "-Inf" as strings; float() reads them
    except (TypeError, ValueError):
        raise PrometheusError("Prometheus returned a non-numeric sample %r" % (raw,), "invalid_response")


class QueryResult(object):
    """A typed Prometheus result.

    ``result_type`` is scalar, vector, matrix or string. ``series`` holds
    ``(labels, value)`` for a vector and ``(labels, [(ts, value), ...])`` for a matrix.
    """

    def __init__(self, result_type, data, warnings=None):
        self.result_type = result_type
        self.warnings = list(warnings or [])
        self.scalar = None
        self.series = []
        self.text = None
        if result_type == "scalar":
            self.scalar = _sample(data[1])
        elif result_type == "string":
            self.text = data[1]
        elif result_type == "vector":
            self.series = [(s.get("metric", {}), _sample(s["value"][1])) for s in data]
        elif result_type == "matrix":
            self.series = [(s.get("metric", {}), [(float(t), _sample(v)) for t, v in s["values"]])
                           for s in data]
        else:
            raise PrometheusError("Prometheus metric type not supported: %s" % result_type,
                                  "invalid_response")

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


class PrometheusClient(object):
    """A small client for ``/api/v1/query`` and ``/api/v1/query_range``."""

    def __init__(self, url, token=None, username=None, password=None, headers=None,
                 ca_file=None, validate_certs=True, timeout=DEFAULT_TIMEOUT,
                 client_cert=None, client_key=None):
        parsed = urlparse(url or "")
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise PrometheusError(
                "Prometheus address %r is not a URL with scheme and host; set prometheus_url "
                "(or provider.prometheus.address) to e.g. http://prometheus:9090" % (url,), "config", url)
        if token and (username or password):
            raise PrometheusError("give either a bearer token or a username/password for "
                                  "Prometheus, not both", "config", url)
        self.url = url.rstrip("/")
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.validate_certs = validate_certs
        self.ca_file = ca_file
        self.client_cert = client_cert
        self.client_key = client_key
        self.headers = {"Accept": "application/json",
                        "Content-Type": "application/x-www-form-urlencoded"}
        if token:
            self.headers["Authorization"] = "Bearer %s" % token
        elif username is not None:
            creds = "%s:%s" % (username, password or "")
            self.headers["Authorization"] = "Basic %s" % base64.b64encode(creds.encode("utf-8")).decode("ascii")
        self.headers.update(headers or {})
        self._request = None

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
                raise PrometheusError("cannot load the TLS files for Prometheus at %s (%s); check "
                                      "prometheus_ca_file, prometheus_client_cert and prometheus_client_key"
                                      % (self.url, e), "config", self.url)
            self._request = Request(headers=self.headers, use_proxy=True, validate_certs=self.validate_certs,
                                    follow_redirects="safe", context=context)
        return self._request

    def query(self, promql, at=None, timeout=None):
        params = {"query": promql}
        if at is not None:
            params["time"] = at
        return self._call("/api/v1/query", params, timeout)

    def query_range(self, promql, start, end, step, timeout=None):
        params = {"query": promql, "start": start, "end": end, "step": step}
        return self._call("/api/v1/query_range", params, timeout)

    def _call(self, path, params, timeout=None):
        timeout = timeout or self.timeout
        url = self.url + path
        body = None
        request = self._requester()
        try:
            resp = request.open("POST", url, data=urlencode(params), timeout=timeout)
            body = resp.read()
        except HTTPError as e:
            body = e.read() if hasattr(e, "read") else b""
            payload = self._decode(body, e.code)
            if payload is None:
                hint = ""
                if e.code in (401, 403):
                    hint = "; check prometheus_token or prometheus_username/prometheus_password"
                raise PrometheusError("Prometheus at %s answered HTTP %d %s%s"
                                      % (self.url, e.code, e.reason, hint), "http", self.url)
            self._raise_api_error(payload, e.code)
        except SSLValidationError as e:
            raise PrometheusError("TLS verification of Prometheus at %s failed: %s; give "
                                  "prometheus_ca_file, or prometheus_validate_certs: false for a "
                                  "test server" % (self.url, e), "tls", self.url)
        except (socket.timeout, TimeoutError):
            raise PrometheusError("Prometheus at %s did not answer within %ss"
                                  % (self.url, timeout), "timeout", self.url)
        except (URLError, ConnectionError, OSError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise PrometheusError("Prometheus at %s did not answer within %ss"
                                      % (self.url, timeout), "timeout", self.url)
            raise PrometheusError("Prometheus at %s is unreachable (%s); check that it is running "
                                  "and that prometheus_url is right" % (self.url, reason),
                                  "unreachable", self.url)
        payload = self._decode(body, 200)
        if payload is None:
            raise PrometheusError("Prometheus at %s returned a response that is not JSON; is "
                                  "prometheus_url pointing at Prometheus?" % self.url,
                                  "invalid_response", self.url)
        if payload.get("status") != "success":
            self._raise_api_error(payload, 200)
        data = payload.get("data") or {}
        return QueryResult(data.get("resultType"), data.get("result"), payload.get("warnings"))

    @staticmethod
    def _decode(body, code):
        try:
            payload = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
        except (ValueError, AttributeError, UnicodeDecodeError):
            return None
        return payload if isinstance(payload, dict) else None

    def _raise_api_error(self, payload, code):
        kind = payload.get("errorType") or "error"
        raise PrometheusError("Prometheus rejected the query (%s): %s"
                              % (kind, payload.get("error") or "HTTP %d" % code), kind, self.url)
