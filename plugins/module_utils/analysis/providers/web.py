# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo's ``web`` metric provider: an HTTP GET, POST or PUT whose JSON answer (or the part ``jsonPath`` selects)
is bound to ``result`` as JSON types - objects, lists, numbers, strings, booleans; an answer that is not JSON is
bound as a string. A status outside 2xx, a timeout or a path that finds nothing is a measurement Error.

    provider:
      web:
        url: "http://checks.internal/api/{{args.service}}/health"
        method: POST                 # GET (default), POST or PUT
        headers: [{key: Authorization, value: "Bearer {{args.token}}"}]
        jsonBody: {window: 5m}       # or body: '...' (POST and PUT only)
        timeoutSeconds: 5            # default 10
        jsonPath: "{$.data.ok}"
        insecure: false              # true: do not verify the TLS certificate
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl
import time

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.error import URLError
from ansible.module_utils.six.moves.urllib.parse import urlparse
from ansible.module_utils.urls import Request, SSLValidationError
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import AnalysisSpecError
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.base import (
    Provider, ProviderError, Value)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.jsonpath import (
    JSONPath, JSONPathError)
from ansible_collections.progressive.delivery.plugins.module_utils.redact import redact_url, url_secrets
from ansible_collections.progressive.delivery.plugins.module_utils.timed_http import (
    BodyTooLarge, DeadlineExceeded, exchange, header_problem)

DEFAULT_TIMEOUT_SECONDS = 10  # Argo's web provider default
METHODS = ("GET", "POST", "PUT")
MAX_BODY_BYTES = 16 * 1024 * 1024
# header values never shown in a message, besides the values of secretKeyRef arguments
_SECRET_HEADER_WORDS = ("auth", "token", "secret", "password", "key", "cookie", "session")


def _fail(label, field, what):
    raise AnalysisSpecError("%s: provider.web.%s %s" % (label, field, what))


class WebProvider(Provider):
    """Measures web metrics: one request a measurement, its answer bound as JSON."""

    kind = "web"

    @classmethod
    def check(cls, spec, label):
        if not isinstance(spec, dict):
            raise AnalysisSpecError("%s: provider.web must be a mapping" % label)
        if spec.get("urlFrom") is not None and spec.get("url") in (None, ""):
            _fail(label, "urlFrom", "is not supported; give the URL in url (a {{args.x}} from a secretKeyRef "
                                    "argument stays hidden)")
        url = spec.get("url")
        if not isinstance(url, str) or not url.strip():
            _fail(label, "url", "is empty" if url in (None, "") else "must be a string")
        parsed = urlparse(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            _fail(label, "url", "%r is not an http(s) URL with a host" % redact_url(url))
        method = spec.get("method") or "GET"
        if method not in METHODS:
            _fail(label, "method", "must be one of %s, got %r" % (", ".join(METHODS), method))
        headers = spec.get("headers")
        if headers is not None:
            if not isinstance(headers, list) or not all(
                    isinstance(h, dict) and isinstance(h.get("key"), str) and h.get("key").strip()
                    and isinstance(h.get("value"), str) for h in headers):
                _fail(label, "headers", "must be a list of {key, value} strings")
            for h in headers:
                if header_problem(h["key"]) or ":" in h["key"]:
                    _fail(label, "headers", "has %r, which is not a valid HTTP header name" % h["key"])
        body, json_body = spec.get("body"), spec.get("jsonBody")
        if body not in (None, "") and json_body not in (None, "", {}):
            _fail(label, "body", "and jsonBody cannot both be set")
        if body not in (None, "") and not isinstance(body, str):
            _fail(label, "body", "must be a string (or give jsonBody)")
        if (body not in (None, "") or json_body not in (None, "", {})) and method == "GET":
            _fail(label, "body", "can only be used with POST or PUT WebMetric Method types")
        timeout = spec.get("timeoutSeconds")
        if timeout not in (None, ""):
            try:
                if isinstance(timeout, bool):
                    raise ValueError
                seconds = int(timeout)
            except (TypeError, ValueError):
                _fail(label, "timeoutSeconds", "must be a whole number of seconds, got %r" % (timeout,))
            if seconds <= 0:
                _fail(label, "timeoutSeconds", "must be more than 0")
        if spec.get("jsonPath") not in (None, ""):
            try:
                JSONPath(spec["jsonPath"])
            except JSONPathError as e:
                _fail(label, "jsonPath", "does not parse: %s" % e)
        if not isinstance(spec.get("insecure", False), bool):
            _fail(label, "insecure", "must be true or false")

    @classmethod
    def describe(cls, spec):
        return spec.get("url")

    def metric_secrets(self, metric):
        spec = metric.provider_spec
        out = url_secrets(spec.get("url"))
        for h in spec.get("headers") or []:
            if any(word in h["key"].lower() for word in _SECRET_HEADER_WORDS) and h["value"].strip():
                out.append(h["value"].strip())
                parts = h["value"].split()
                if len(parts) == 2:  # "Bearer <token>", "Basic <credentials>": the credential alone too
                    out.append(parts[1])
        return out

    def measure(self, metric, timeout=None):
        spec = metric.provider_spec
        url = spec["url"].strip()
        shown = redact_url(url)
        method = spec.get("method") or "GET"
        limit = float(spec.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS)
        if timeout is not None:
            limit = max(0.001, min(limit, timeout))
        headers = {"Accept": "application/json"}
        data = None
        if spec.get("jsonBody") not in (None, "", {}):
            data = json.dumps(spec["jsonBody"]).encode("utf-8")
        elif spec.get("body") not in (None, ""):
            data = spec["body"].encode("utf-8")
        if data is not None:
            headers["Content-Type"] = "application/json"
        for h in spec.get("headers") or []:
            value = h["value"].strip()
            if header_problem(value):
                raise ProviderError("web metric %s: header '%s' has %s, so it cannot be sent (its value is not shown)"
                                    % (metric.name, h["key"], header_problem(value)))
            headers[h["key"].strip()] = value
        request = Request(headers=headers, use_proxy=True, validate_certs=not spec.get("insecure", False),
                          follow_redirects="safe")
        try:
            code, reason, body = exchange(request, method, url, data, time.monotonic() + limit, "web-metric",
                                          MAX_BODY_BYTES)
        except DeadlineExceeded:
            raise ProviderError("%s %s did not answer within %ss" % (method, shown, _seconds(limit)))
        except BodyTooLarge:
            raise ProviderError("%s %s sent an answer larger than %d MiB" % (method, shown, MAX_BODY_BYTES >> 20))
        except Exception as e:  # pylint: disable=broad-except
            raise ProviderError(_failure(method, shown, limit, e))
        if not 200 <= code < 300:
            raise ProviderError("received non 2xx response code: %d %s (%s %s)" % (code, reason, method, shown))
        return parse_answer(body, spec.get("jsonPath"))


def parse_answer(body, json_path=None):
    """The Value of an answer body: its JSON (or the part ``json_path`` selects), else the text."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        if json_path not in (None, ""):
            raise ProviderError("Could not find JSONPath in body: the answer is not JSON (%s)" % _brief(text))
        return Value(text, text)
    if json_path not in (None, ""):
        try:
            document = JSONPath(json_path).find(document)
        except JSONPathError as e:
            raise ProviderError("Could not find JSONPath in body: %s" % e)
    return Value(document, json.dumps(document, separators=(",", ":"), sort_keys=True))


def _brief(text, limit=60):
    return text if len(text) <= limit else text[:limit] + "..."


def _seconds(value):
    return ("%.3f" % value).rstrip("0").rstrip(".")


def _failure(method, shown, limit, e):
    reason = getattr(e, "reason", None) if isinstance(e, URLError) else e
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "%s %s did not answer within %ss" % (method, shown, _seconds(limit))
    if isinstance(e, SSLValidationError) or isinstance(reason, ssl.SSLError):
        return "TLS verification of %s failed: %s; set provider.web.insecure: true for a test server" % (shown, reason)
    if isinstance(reason, http_client.HTTPException):
        return "%s %s: the answer is not valid HTTP (%s: %s)" % (method, shown, type(reason).__name__, reason)
    if isinstance(e, (URLError, OSError)):
        return "%s %s is unreachable (%s)" % (method, shown, reason)
    return "%s %s failed: %s: %s" % (method, shown, type(e).__name__, e)
