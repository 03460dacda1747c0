# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
        }
