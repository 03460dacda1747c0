# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metric providers behind one interface (``base.Provider``), chosen by the key under a metric's ``provider``.

``Providers`` holds one provider a kind for a run; those not given are built with their defaults, so a
template that mixes prometheus and web metrics needs no more than the Prometheus options."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import AnalysisSpecError
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.base import (
    Provider, ProviderError, Value, as_number)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.prometheus import (
    PrometheusProvider, QueryProvider)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.web import WebProvider

__all__ = ["KINDS", "Provider", "ProviderError", "Providers", "PrometheusProvider", "QueryProvider", "Value",
           "WebProvider", "as_number", "provider_class"]

KINDS = {"prometheus": PrometheusProvider, "web": WebProvider}


def provider_class(kind, label):
    """The provider class for ``kind``; an unsupported kind is an AnalysisSpecError naming the metric."""
    if kind not in KINDS:
        raise AnalysisSpecError("%s uses the %s provider, which is not supported (supported providers: %s)"
                                % (label, kind, ", ".join(sorted(KINDS))))
    return KINDS[kind]


class Providers(object):
    """The providers of one run, by kind."""

    def __init__(self, *providers):
        self.by_kind = {}
        for provider in providers:
            self.by_kind[provider.kind] = provider

    @classmethod
    def of(cls, provider):
        """``provider`` as Providers: a Providers, one Provider (the others default), or an object with
        Prometheus' ``query(metric, timeout=None)`` (a test's stand-in) for the prometheus metrics."""
        if isinstance(provider, cls):
            return provider
        if provider is None:
            return cls()
        if isinstance(provider, Provider):
            return cls(provider)
        return cls(QueryProvider(provider))

    def get(self, kind):
        if kind not in self.by_kind:
            self.by_kind[kind] = provider_class(kind, "a metric")()
        return self.by_kind[kind]

    def for_metric(self, metric):
        return self.get(metric.provider_kind)

    def secrets(self, metrics=()):
        """Values no message may show: each provider's own, and those in the metrics' provider specs."""
        out = []
        for provider in list(self.by_kind.values()):
            out.extend(provider.secrets())
        for metric in metrics:
            out.extend(self.for_metric(metric).metric_secrets(metric))
        return [s for s in out if s]
