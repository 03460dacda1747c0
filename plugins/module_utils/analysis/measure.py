# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One measurement: ask the metric's provider for a value, then judge it with Argo's EvaluateResult.

Never raises: a provider error, a malformed answer or an exception while evaluating a condition is a
measurement of phase Error with the reason. ``on_empty: fail`` (the default) makes a measurement without
data (nil, no series, only NaN) that the conditions would pass Failed. A metric's minimum (``minSamples``, or
the judge's ``minRequests`` / ``minSamples``) makes a measurement that rests on fewer requests or samples
Inconclusive ("12 requests, 200 needed"), never Successful; a Failed one stays Failed (fail fast)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import (
    ERROR, FAILED, INCONCLUSIVE, NO_DATA, SUCCESSFUL, iso)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers import ProviderError
from ansible_collections.progressive.delivery.plugins.module_utils.expr import ExprError, type_name


class Measurement(object):
    """``value`` is Argo's display string (``"[0.99]"``); ``number`` the same as a float or a list of floats
    (None when the value is not numeric, or the measurement an Error), so reports never parse text."""

    def __init__(self, phase, value, message, started_at, finished_at, number=None, samples=None):
        self.phase = phase
        self.value = value
        self.message = message
        self.started_at = started_at
        self.finished_at = finished_at
        self.number = number
        self.samples = samples  # the requests or samples the value rests on, when the provider counts them

    def to_dict(self):
        out = {"phase": self.phase, "value": self.value, "number": self.number,
               "started_at": iso(self.started_at), "finished_at": iso(self.finished_at)}
        if self.samples is not None:
            out["samples"] = self.samples
        if self.message:
            out["message"] = self.message
        return out


def short_of_minimum(metric, samples):
    """"12 requests, 200 needed" when ``samples`` is below the metric's minimum, else None."""
    need = getattr(metric, "min_samples", 0) or 0
    if not need:
        return None
    unit = getattr(metric, "samples_unit", "samples")
    if samples is None:
        return "the provider did not count its %s, %d needed" % (unit, need)
    if samples >= need:
        return None
    shown = int(samples) if float(samples).is_integer() else samples
    return "%s %s, %d needed" % (shown, unit if shown != 1 else unit.rstrip("s"), need)


def is_empty(value):
    """No data to judge: nil, an empty list, or only NaN samples."""
    if value is None:
        return True
    values = value if isinstance(value, list) else [value]
    return not values or all(isinstance(v, float) and math.isnan(v) for v in values)


def no_data_text(bound):
    return "no series" if bound == [] else "nil" if bound is None else "only NaN"


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


def measure(metric, providers, clock, on_empty="fail", timeout=None):
    """Take one measurement of ``metric`` with its provider among ``providers`` (a ``Providers``).

    ``timeout`` (seconds, the time left before max_duration) can only shorten the provider's own."""
    started = clock()
    try:
        value = providers.for_metric(metric).measure(metric, timeout)
    except ProviderError as e:
        return Measurement(ERROR, "", e.message, started, clock())
    except Exception as e:  # pylint: disable=broad-except
        return Measurement(ERROR, "", "the %s provider failed: %s: %s" % (
            metric.provider_kind, type(e).__name__, e), started, clock())
    bound = value.bound
    try:
        phase, message = evaluate_conditions(metric, bound)
    except Exception as e:  # pylint: disable=broad-except
        return Measurement(ERROR, value.display, "could not evaluate the conditions: %s: %s" % (type(e).__name__, e),
                           started, clock(), value.number)
    if is_empty(bound):
        if phase == SUCCESSFUL and on_empty == "fail":
            phase = FAILED
            message = ("query returned no data (%s) and no data never passes; fix the query or its "
                       "labels, or set on_empty: argo to keep Argo Rollouts' verdict" % no_data_text(bound))
        elif not message:
            message = "query returned no data (%s)" % no_data_text(bound)
    samples = getattr(value, "samples", None)
    short = short_of_minimum(metric, samples)
    if short and phase in (SUCCESSFUL, INCONCLUSIVE):
        # too little data never passes: it holds the release for a person, with the count named
        phase, message = INCONCLUSIVE, short
    return Measurement(phase, value.display, message, started, clock(), value.number, samples)
