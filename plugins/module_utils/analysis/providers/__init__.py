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
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.sequential import (
    SequentialProvider)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.compare import CompareProvider

__all__ = ["KINDS", "PLUGINS", "CompareProvider", "PluginProvider", "Provider", "ProviderError", "Providers",
           "PrometheusProvider", "QueryProvider", "SequentialProvider", "Value", "WebProvider", "as_number",
           "provider_class"]

# the collection's own judges, reached as Argo metric plugins: provider: {plugin: {<name>: {...}}}
PLUGINS = {SequentialProvider.kind: SequentialProvider, CompareProvider.kind: CompareProvider}


def _plugin(spec, label):
    """(name, class, its spec) of a provider.plugin spec; an AnalysisSpecError for another shape or name."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise AnalysisSpecError("%s: provider.plugin must name exactly one plugin (supported: %s)"
                                % (label, ", ".join(sorted(PLUGINS))))
    name = list(spec)[0]
    if name not in PLUGINS:
        raise AnalysisSpecError("%s uses the metric plugin %s, which is not supported (supported plugins: %s)"
                                % (label, name, ", ".join(sorted(PLUGINS))))
    return name, PLUGINS[name], spec[name] if spec[name] is not None else {}


class PluginProvider(Provider):
    """Argo's ``plugin`` provider key: the metric plugins this collection carries, by name. They query
    Prometheus through the run's prometheus provider (the gate's prometheus_url, auth and TLS)."""

    kind = "plugin"
    needs_providers = True

    def __init__(self, providers=None):
        self.providers = providers if providers is not None else Providers()
        self._judges = {}

    @classmethod
    def check(cls, spec, label):
        _name, plugin, inner = _plugin(spec, label)
        plugin.check(inner, label)

    @classmethod
    def describe(cls, spec):
        try:
            name, plugin, inner = _plugin(spec, "a metric")
        except AnalysisSpecError:
            return None
        return "%s: %s" % (name, plugin.describe(inner))

    @classmethod
    def min_samples(cls, spec):
        """(the minimum the plugin's spec asks for, what it counts): ``minRequests`` or ``minSamples``."""
        _name, plugin, inner = _plugin(spec, "a metric")
        return plugin.min_samples(inner)

    def metric_secrets(self, metric):
        _name, plugin, inner = _plugin(metric.provider_spec, metric.label)
        return plugin.metric_secrets(inner)

    def measure(self, metric, timeout=None):
        name, plugin, inner = _plugin(metric.provider_spec, metric.label)
        if name not in self._judges:
            self._judges[name] = plugin(self.providers)
        return self._judges[name].measure_spec(inner, metric.label, timeout)


KINDS = {"prometheus": PrometheusProvider, "web": WebProvider, "plugin": PluginProvider}


def provider_class(kind, label):
    """The provider class for ``kind``; an unsupported kind is an AnalysisSpecError naming the metric."""
    if kind not in KINDS:
        # the message lists the providers Argo has built in; provider.plugin names its own when misused
        raise AnalysisSpecError("%s uses the %s provider, which is not supported (supported providers: %s)"
                                % (label, kind, ", ".join(sorted(k for k in KINDS if k != "plugin"))))
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
            cls = provider_class(kind, "a metric")
            self.by_kind[kind] = cls(self) if getattr(cls, "needs_providers", False) else cls()
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
