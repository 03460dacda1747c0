# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""PromQL builders as filters, each scoped to the canary's own pods by their pod-template hash.

- ``promql_matchers``: ``{a="b",pod=~".*-HASH-.*"}`` from a dict of labels (a value may start with =~, !~, !=);
- ``promql_success_rate`` / ``promql_error_rate``: the share of requests that did (not) fail over ``window``;
- ``promql_latency_quantile``: a latency quantile from the request duration histogram;
- ``promql_cpu_saturation``: CPU used over the CPU limit;
- ``promql_request_count`` / ``promql_error_count``: counts over ``window`` (``sum(increase(...))``), for the
  sequential judge (``progressive-delivery/sequential``'s ``requests`` and ``errors``).

Example: ``{{ {'app': 'checkout'} | progressive.delivery.promql_request_count(pod_hash=hash, window='5m') }}``
gives ``sum(increase(http_requests_total{app="checkout",pod=~".*-HASH-.*"}[5m]))``. Options:
``pod_hash``, ``window``, ``metric``, ``pod_label``, ``status_label`` / ``error_codes`` (default ``code``,
``5..``) for the error filters, and ``traffic`` (``all``, ``mirrored`` - a router's copies, ``users``) with
``mirrored_label`` for the request filters, to judge a dark canary on its answers to a mirror's copies."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.progressive.delivery.plugins.module_utils import promql


def _wrap(name, builder):
    def run(labels=None, **kwargs):
        try:
            return builder(labels, **kwargs)
        except (TypeError, ValueError) as e:
            raise AnsibleFilterError("%s: %s" % (name, e))
    return run


class FilterModule(object):
    def filters(self):
        return {
            "promql_matchers": _wrap("promql_matchers", promql.matchers),
            "promql_success_rate": _wrap("promql_success_rate", promql.success_rate),
            "promql_error_rate": _wrap("promql_error_rate", promql.error_rate),
            "promql_latency_quantile": _wrap("promql_latency_quantile", promql.latency_quantile),
            "promql_cpu_saturation": _wrap("promql_cpu_saturation", promql.cpu_saturation),
            "promql_request_count": _wrap("promql_request_count", promql.request_count),
            "promql_error_count": _wrap("promql_error_count", promql.error_count),
        }
