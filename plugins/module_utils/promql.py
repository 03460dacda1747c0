# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PromQL builders for the usual SLO queries, scoped to the canary's own pods.

Scoping by pod-template hash (pod=~".*-HASH-.*") is what keeps a 10% canary from being
averaged with the 90% stable pods, the most common way a canary analysis lies.

``traffic`` scopes a query to one kind of request when a router mirrors traffic (a dark canary): apps label
their request metrics ``mirrored="true"`` for a router's copy (it carries X-PD-Mirrored, or its Host ends with
"-shadow") and ``mirrored="false"`` for a user's request. ``all`` (the default) counts both - the canary's
every answer, which is what judges it: during a mirror phase it serves only copies. ``mirrored`` counts the
copies only (no data, and so a failed gate, when the app does not label them: a mirror phase judged on
nothing never passes); ``users`` counts what users were served (a series without the label is a user's).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_OPS = ("=~", "!~", "!=", "=")
MIRRORED_LABEL = "mirrored"
TRAFFIC = {"all": None, "mirrored": '="true"', "users": '!="true"'}


def _quote(value):
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def traffic_matcher(traffic="all", mirrored_label=MIRRORED_LABEL):
    """The matcher that keeps one kind of request (``traffic``: all, mirrored or users), or None for all."""
    if traffic not in TRAFFIC:
        raise ValueError("traffic must be one of all, mirrored (the router's copies) or users (requests users "
                         "sent), got %r" % (traffic,))
    if TRAFFIC[traffic] is None:
        return None
    if not _LABEL.match(str(mirrored_label)):
        raise ValueError("%r is not a valid Prometheus label name (mirrored_label)" % (mirrored_label,))
    return mirrored_label + TRAFFIC[traffic]


def matchers(labels=None, pod_hash=None, pod_label="pod", extra=(), traffic="all", mirrored_label=MIRRORED_LABEL):
    """``{a="b",pod=~".*-HASH-.*"}`` from a dict; a value may start with =~, !~ or != to pick the operator;
    ``traffic`` adds the mirrored label's matcher (see the module's text)."""
    scope = traffic_matcher(traffic, mirrored_label)
    if scope and mirrored_label in (labels or {}):
        raise ValueError("the labels select %s themselves; leave it out, or leave traffic at all" % mirrored_label)
    parts = []
    for name, value in sorted((labels or {}).items()):
        if not _LABEL.match(str(name)):
            raise ValueError("%r is not a valid Prometheus label name" % (name,))
        op, text = "=", value
        if isinstance(value, str):
            for candidate in _OPS:
                if value.startswith(candidate):
                    op, text = candidate, value[len(candidate):]
                    break
        parts.append("%s%s%s" % (name, op, _quote(text)))
    if pod_hash:
        parts.append("%s=~%s" % (pod_label, _quote(".*-%s-.*" % pod_hash)))
    if scope:
        parts.append(scope)
    parts.extend(extra)
    return "{%s}" % ",".join(parts)


def _window(window):
    if not re.match(r"^\d+(ms|s|m|h|d|w|y)$", str(window)) and "{{" not in str(window):
        raise ValueError("window %r is not a PromQL duration such as 30s, 2m or 1h" % (window,))
    return window


def _ratio(metric, part, total, window):
    # A pod with no errors has no code="500" series at all: the part falls back to 0, but only the
    # part, so pods with no traffic still give no data (and fail) instead of a perfect score.
    return "(sum(rate(%s%s[%s])) or vector(0)) / sum(rate(%s%s[%s]))" % (metric, part, window, metric, total, window)


def success_rate(labels=None, pod_hash=None, window="2m", metric="http_requests_total",
                 status_label="code", error_codes="5..", pod_label="pod", traffic="all", mirrored_label=MIRRORED_LABEL):
    """Share of requests that did not fail: 1.0 is all good."""
    scope = dict(pod_hash=pod_hash, pod_label=pod_label, traffic=traffic, mirrored_label=mirrored_label)
    ok = matchers(labels, extra=['%s!~%s' % (status_label, _quote(error_codes))], **scope)
    return _ratio(metric, ok, matchers(labels, **scope), _window(window))


def error_rate(labels=None, pod_hash=None, window="2m", metric="http_requests_total",
               status_label="code", error_codes="5..", pod_label="pod", traffic="all", mirrored_label=MIRRORED_LABEL):
    """Share of requests that failed: 0.0 is all good."""
    scope = dict(pod_hash=pod_hash, pod_label=pod_label, traffic=traffic, mirrored_label=mirrored_label)
    bad = matchers(labels, extra=['%s=~%s' % (status_label, _quote(error_codes))], **scope)
    return _ratio(metric, bad, matchers(labels, **scope), _window(window))


def latency_quantile(labels=None, pod_hash=None, quantile=0.95, window="2m",
                     metric="http_request_duration_seconds", pod_label="pod", traffic="all",
                     mirrored_label=MIRRORED_LABEL):
    """The q-quantile of request latency in seconds, from a histogram."""
    q = float(quantile)
    if not 0 < q < 1:
        raise ValueError("quantile must be between 0 and 1 (0.95 for p95), got %s" % quantile)
    return "histogram_quantile(%s, sum by (le) (rate(%s_bucket%s[%s])))" % (
        q, metric, matchers(labels, pod_hash, pod_label, traffic=traffic, mirrored_label=mirrored_label),
        _window(window))


def cpu_saturation(labels=None, pod_hash=None, window="2m", pod_label="pod"):
    """CPU used over CPU limit of the selected pods: 1.0 is fully saturated (a pod's CPU is not per request:
    no ``traffic`` here)."""
    sel = matchers(labels, pod_hash, pod_label, ['container!=""'])
    limit = matchers(labels, pod_hash, pod_label, ['resource="cpu"'])
    return "sum(rate(container_cpu_usage_seconds_total%s[%s])) / sum(kube_pod_container_resource_limits%s)" % (
        sel, _window(window), limit)


def request_count(labels=None, pod_hash=None, window="5m", metric="http_requests_total", pod_label="pod",
                  traffic="all", mirrored_label=MIRRORED_LABEL):
    """The number of requests the selected pods served over ``window``: ``sum(increase(...[window]))``.

    No series (no such pods yet, or wrong labels) gives no data, never 0: the sequential judge then errs
    instead of judging an empty canary."""
    return "sum(increase(%s%s[%s]))" % (
        metric, matchers(labels, pod_hash, pod_label, traffic=traffic, mirrored_label=mirrored_label), _window(window))


def error_count(labels=None, pod_hash=None, window="5m", metric="http_requests_total",
                status_label="code", error_codes="5..", pod_label="pod", traffic="all", mirrored_label=MIRRORED_LABEL):
    """The number of failed requests of the selected pods over ``window``; 0 when no error series exists yet."""
    bad = matchers(labels, pod_hash, pod_label, ['%s=~%s' % (status_label, _quote(error_codes))], traffic=traffic,
                   mirrored_label=mirrored_label)
    return "sum(increase(%s%s[%s])) or vector(0)" % (metric, bad, _window(window))
