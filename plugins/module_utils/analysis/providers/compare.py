# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``progressive-delivery/compare``: the canary against the baseline over the same window, as Kayenta's
NetflixACAJudge judges them (Mann-Whitney U per metric, effect size, groups, score, thresholds)::

    provider:
      plugin:
        progressive-delivery/compare:
          window: 5m              # both sides over the same last 5 minutes (a range query) ...
          step: 15s               # ... one sample a step (instant: true takes an instant vector's values)
          confidence: 0.98        # significant when p < 0.02
          effectSize: {increase: 1.1, decrease: 0.9}   # ratio of the means beyond which a difference counts
          minSamples: 10          # fewer samples on a side: the measurement is Inconclusive
          thresholds: {pass: 95, marginal: 75}
          groups: {latency: 60, errors: 40}
          metrics:
            - name: mean-latency
              group: latency
              canary: sum(rate(http_request_duration_seconds_sum{pod=~".*-{{args.canary-hash}}-.*"}[30s])) / ...
              baseline: sum(rate(http_request_duration_seconds_sum{pod=~".*-{{args.stable-hash}}-.*"}[30s])) / ...
              direction: increase  # increase | decrease | either: the direction that is bad
              critical: true        # failing it fails the whole comparison
              nanStrategy: remove   # remove | replace (NaN samples become 0)
              onNoData: fail        # fail | pass | inconclusive

``result`` is {score, classification: Pass | Marginal | Fail, critical_failed, groups, metrics: [{name,
classification, failed, p_value, u, canary_median, baseline_median, effect, ...}]}."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import AnalysisSpecError
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.judges import score as judge
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.base import Provider
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.sequential import (
    CountedValue, PromSource, check_connection, count_field, number_field, query_field)
from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.prometheus import format_sample
from ansible_collections.progressive.delivery.plugins.module_utils.redact import url_secrets

NAME = "progressive-delivery/compare"
KNOWN = {"prometheus", "window", "step", "instant", "confidence", "effectSize", "minSamples", "thresholds",
         "groups", "metrics"}
METRIC_KNOWN = {"name", "canary", "baseline", "direction", "critical", "nanStrategy", "onNoData", "group",
                "weight", "effectSize"}


def _duration(spec, field, default, label):
    raw = spec.get(field, default)
    try:
        seconds = parse_go_duration(raw)
    except (TypeError, ValueError) as e:
        raise AnalysisSpecError("%s: %s: %s" % (label, field, e))
    if seconds <= 0:
        raise AnalysisSpecError("%s: %s must be more than 0" % (label, field))
    return raw


def _choice(spec, field, choices, default, label):
    value = spec.get(field, default)
    if value not in choices:
        raise AnalysisSpecError("%s: %s must be one of %s, got %r" % (label, field, ", ".join(choices), value))
    return value


def _effect(spec, default, label):
    raw = spec.get("effectSize", default)
    if not isinstance(raw, dict):
        raise AnalysisSpecError("%s: effectSize must be a mapping {increase, decrease}" % label)
    increase = number_field(raw, "increase", default["increase"], label + ": effectSize")
    decrease = number_field(raw, "decrease", default["decrease"], label + ": effectSize")
    if not (increase >= 1 and 0 <= decrease <= 1):
        raise AnalysisSpecError("%s: effectSize.increase must be >= 1 and effectSize.decrease between 0 and 1" % label)
    return {"increase": increase, "decrease": decrease}


def parse(spec, label):
    """The spec, checked and with its defaults: (settings, [metric settings])."""
    if not isinstance(spec, dict):
        raise AnalysisSpecError("%s must be a mapping" % label)
    unknown = sorted(set(spec) - KNOWN)
    if unknown:
        raise AnalysisSpecError("%s: unknown field(s) %s (known: %s)" % (label, ", ".join(unknown), ", ".join(sorted(KNOWN))))
    check_connection(spec, label)
    confidence = number_field(spec, "confidence", 0.98, label)
    if not 0 < confidence < 1:
        raise AnalysisSpecError("%s: confidence must be between 0 and 1 (0.98), got %s" % (label, confidence))
    thresholds = spec.get("thresholds") or {}
    if not isinstance(thresholds, dict):
        raise AnalysisSpecError("%s: thresholds must be a mapping {pass, marginal}" % label)
    passing = number_field(thresholds, "pass", 95, label + ": thresholds")
    marginal = number_field(thresholds, "marginal", 75, label + ": thresholds")
    if not 0 <= marginal <= passing <= 100:
        raise AnalysisSpecError("%s: thresholds must hold 0 <= marginal <= pass <= 100" % label)
    if not isinstance(spec.get("instant", False), bool):
        raise AnalysisSpecError("%s: instant must be true or false" % label)
    groups = spec.get("groups")
    if groups is not None:
        if not isinstance(groups, dict) or not groups:
            raise AnalysisSpecError("%s: groups must be a mapping of group name to weight" % label)
        for name in groups:
            if number_field(groups, name, None, label + ": groups") < 0:
                raise AnalysisSpecError("%s: groups.%s must be a weight >= 0" % (label, name))
    settings = {"window": _duration(spec, "window", "5m", label), "step": _duration(spec, "step", "15s", label),
                "instant": spec.get("instant", False), "confidence": confidence,
                "effect": _effect(spec, {"increase": 1.1, "decrease": 0.9}, label),
                "min_samples": count_field(spec, "minSamples", label), "pass": passing, "marginal": marginal,
                "groups": None if groups is None else dict((k, float(v)) for k, v in groups.items())}
    metrics = spec.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise AnalysisSpecError("%s: metrics must be a list of {name, canary, baseline, ...}" % label)
    out, names = [], set()
    for i, m in enumerate(metrics):
        where = "%s: metrics[%d]" % (label, i)
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not m.get("name"):
            raise AnalysisSpecError("%s must be a mapping with a name" % where)
        unknown = sorted(set(m) - METRIC_KNOWN)
        if unknown:
            raise AnalysisSpecError("%s: unknown field(s) %s (known: %s)" % (where, ", ".join(unknown), ", ".join(sorted(METRIC_KNOWN))))
        if m["name"] in names:
            raise AnalysisSpecError("%s: two metrics are named %s" % (label, m["name"]))
        names.add(m["name"])
        group = m.get("group") or "default"
        if groups is not None and group not in groups:
            raise AnalysisSpecError("%s: group %s has no weight in groups (%s)" % (where, group, ", ".join(sorted(groups))))
        if not isinstance(m.get("critical", False), bool):
            raise AnalysisSpecError("%s: critical must be true or false" % where)
        weight = number_field(m, "weight", 1, where)
        if weight < 0:
            raise AnalysisSpecError("%s: weight must be >= 0" % where)
        out.append({"name": m["name"], "canary": query_field(m, "canary", where),
                    "baseline": query_field(m, "baseline", where),
                    "direction": _choice(m, "direction", judge.DIRECTIONS, "either", where),
                    "critical": m.get("critical", False),
                    "nan_strategy": _choice(m, "nanStrategy", judge.NAN_STRATEGIES, "remove", where),
                    "on_no_data": _choice(m, "onNoData", judge.NO_DATA_STRATEGIES, "fail", where),
                    "group": group, "weight": weight, "effect": _effect(m, settings["effect"], where)})
    return settings, out


class CompareProvider(Provider):
    """Fetches each metric's canary and baseline samples over the same window and judges them."""

    kind = NAME

    def __init__(self, providers):
        self.providers = providers

    @classmethod
    def check(cls, spec, label):
        parse(spec, "%s: provider.plugin[%s]" % (label, NAME))

    @classmethod
    def describe(cls, spec):
        return "; ".join("%s: canary %s, baseline %s" % (m.get("name"), m.get("canary"), m.get("baseline"))
                         for m in spec.get("metrics") or [] if isinstance(m, dict))

    @classmethod
    def min_samples(cls, spec):
        return count_field(spec, "minSamples", "compare"), "samples"

    @classmethod
    def metric_secrets(cls, spec):
        conn = spec.get("prometheus") or {}
        return url_secrets(conn.get("address")) + [h.get("value") for h in conn.get("headers") or []
                                                   if isinstance(h, dict) and isinstance(h.get("value"), str)]

    def samples(self, source, what, promql, settings, timeout):
        if settings["instant"]:
            result = source.query(what, promql, timeout)
        else:
            result = source.query(what, promql, timeout, range_query={
                "start": 'now() - duration("%s")' % settings["window"], "end": "now()", "step": settings["step"]})
        bound = result.bind()
        return bound if isinstance(bound, list) else [bound]

    def measure_spec(self, spec, label, timeout=None):
        settings, metrics = parse(spec, label)
        source = PromSource(self.providers, spec, label)
        results = []
        for m in metrics:
            canary = judge.clean(self.samples(source, "%s canary" % m["name"], m["canary"], settings, timeout),
                                 m["nan_strategy"])
            baseline = judge.clean(self.samples(source, "%s baseline" % m["name"], m["baseline"], settings, timeout),
                                   m["nan_strategy"])
            verdict = judge.classify(canary, baseline, m["direction"], settings["confidence"],
                                     m["effect"]["increase"], m["effect"]["decrease"], m["on_no_data"])
            verdict.update(name=m["name"], group=m["group"], weight=m["weight"], critical=m["critical"],
                           direction=m["direction"])
            results.append(verdict)
        bound = judge.score(results, settings["groups"], settings["pass"], settings["marginal"])
        bound["metrics"] = results
        counted = [min(r["canary_count"], r["baseline_count"]) for r in results if r["classification"] != judge.NODATA]
        samples = min(counted) if counted else 0
        display = "%s: score %s (%s)" % (bound["classification"], format_sample(round(bound["score"], 2)), ", ".join(
            "%s %s%s" % (r["name"], r["classification"], "" if r["p_value"] is None else " p=%.3g effect=%.3g" % (
                r["p_value"], r["effect"] if r["effect"] is not None else float("inf"))) for r in results))
        return CountedValue(bound, display, number=bound["score"], samples=samples, unit="samples")
