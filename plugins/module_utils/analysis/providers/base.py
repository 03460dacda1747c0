# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metric provider interface: measure one metric, return a typed Value or raise a ProviderError.

A provider measures; it never decides a phase. The conditions, ``on_empty``, the limits and the run's
phase are the engine's (analysis.measure and analysis.run), the same for every provider."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math


class ProviderError(Exception):
    """A measurement that could not be taken (unreachable, timeout, bad answer); its message says why."""

    def __init__(self, message):
        self.message = message
        super(ProviderError, self).__init__(message)


def as_number(value):
    """The number(s) in a bound value, for reports: a float, a list of floats, or None.

    Booleans, strings and maps are not numbers; NaN and infinities are None (JSON has no place for them)."""
    def one(v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError
        v = float(v)
        return v if math.isfinite(v) else None

    try:
        if isinstance(value, (list, tuple)):
            return [one(v) for v in value]
        return one(value)
    except (ValueError, OverflowError):
        return None


class Value(object):
    """What one measurement gave: ``bound`` is what a condition sees as ``result``, ``display`` the
    measurement's value as Argo Rollouts shows it (``"[0.99]"``), ``number`` the same as numbers."""

    def __init__(self, bound, display, number=None):
        self.bound = bound
        self.display = display
        self.number = as_number(bound) if number is None else number


class Provider(object):
    """One kind of metric provider (the key under a metric's ``provider``)."""

    kind = None

    @classmethod
    def check(cls, spec, label):
        """Refuse a provider spec of the wrong shape before anything runs (raises AnalysisSpecError)."""

    @classmethod
    def describe(cls, spec):
        """What the metric asks for, as results show it (``query``): a PromQL query, a URL."""
        return None

    def measure(self, metric, timeout=None):
        """Measure ``metric`` once, within ``timeout`` seconds when it is set; a Value, or ProviderError."""
        raise NotImplementedError

    def secrets(self):
        """Values of the provider's own settings that no message may show."""
        return []

    def metric_secrets(self, metric):
        """Values in ``metric``'s provider spec that no message may show (URL passwords, auth headers)."""
        return []
