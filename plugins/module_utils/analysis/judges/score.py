# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canary against baseline, shaped like Kayenta's NetflixACAJudge.

Each metric is classified from the two samples:

- the Mann-Whitney test at ``confidence``: a difference is significant when p < 1 - confidence;
- the effect size, the ratio of the means (canary / baseline): a significant difference counts only beyond
  ``effect_size`` (``increase`` above it, ``decrease`` below it), so a tiny but significant difference does
  not fail a release;
- High (canary larger) or Low (canary smaller); a metric fails only in its bad ``direction`` (increase,
  decrease or either) - a Low latency is a Pass;
- NoData when either side has no samples: ``on_no_data`` fail (counts as failed), pass (counts as passed)
  or inconclusive (left out of the score, and the result is at best Marginal).

The score is the group-weighted share of passed metrics (each group the weighted share of its metrics that
passed), from 0 to 100; a failed ``critical`` metric makes it 0. Pass when score >= thresholds.pass,
Marginal when >= thresholds.marginal, Fail below."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.progressive.delivery.plugins.module_utils.analysis.judges.mannwhitney import mann_whitney

PASS = "Pass"
HIGH = "High"
LOW = "Low"
NODATA = "NoData"
MARGINAL = "Marginal"
FAIL = "Fail"
DIRECTIONS = ("increase", "decrease", "either")
NO_DATA_STRATEGIES = ("fail", "pass", "inconclusive")
NAN_STRATEGIES = ("remove", "replace")


def clean(values, nan_strategy="remove"):
    """Finite samples: NaN removed, or replaced by 0 (Kayenta's nanStrategy); infinities always removed."""
    out = []
    for v in values:
        v = float(v)
        if math.isnan(v):
            if nan_strategy == "replace":
                out.append(0.0)
            continue
        if math.isinf(v):
            continue
        out.append(v)
    return out


def median(values):
    s = sorted(values)
    if not s:
        return None
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2.0


def mean(values):
    return sum(values) / len(values) if values else None


def effect_ratio(canary, baseline):
    """canary mean / baseline mean; 1.0 when both are 0, infinite when only the baseline is."""
    c, b = mean(canary), mean(baseline)
    if b == 0:
        return 1.0 if c == 0 else math.copysign(float("inf"), c)
    return c / b


def classify(canary, baseline, direction="either", confidence=0.98, increase=1.1, decrease=0.9,
             on_no_data="fail"):
    """One metric's verdict: a dict with classification (Pass, High, Low, NoData), failed (bool), excluded
    (NoData left out of the score), p_value, u, the medians, means and effect (the ratio of the means)."""
    out = {"canary_count": len(canary), "baseline_count": len(baseline), "canary_median": median(canary),
           "baseline_median": median(baseline), "canary_mean": mean(canary), "baseline_mean": mean(baseline),
           "p_value": None, "u": None, "effect": None, "excluded": False}
    if not canary or not baseline:
        out.update(classification=NODATA, failed=on_no_data == "fail", excluded=on_no_data == "inconclusive",
                   reason="no %s samples" % ("canary" if not canary else "baseline"))
        return out
    test = mann_whitney(canary, baseline)
    effect = effect_ratio(canary, baseline)
    significant = not math.isnan(test.p_value) and test.p_value < 1.0 - confidence
    # NaN (every value tied) and infinity (a baseline of 0) have no place in JSON: None, and the reason says why
    out.update(p_value=None if math.isnan(test.p_value) else test.p_value, u=test.u,
               effect=effect if math.isfinite(effect) else None)
    label = PASS
    if significant and effect >= increase and direction in ("increase", "either"):
        label = HIGH
    elif significant and effect <= decrease and direction in ("decrease", "either"):
        label = LOW
    if label == PASS:
        reason = ("not significant (p %.3g >= %.3g)" % (test.p_value, 1.0 - confidence)) if not significant else \
            "significant but within the effect size (%.3g)" % effect
        if math.isnan(test.p_value):
            reason = "every value the same on both sides"
    else:
        reason = "canary %s than baseline: effect %.3g, p %.3g" % (
            "higher" if label == HIGH else "lower", effect, test.p_value)
    out.update(classification=label, failed=label != PASS, reason=reason)
    return out


def score(results, groups=None, pass_threshold=95.0, marginal_threshold=75.0):
    """The score and classification of classified metrics.

    ``results``: dicts with name, failed, excluded, critical, group, weight. ``groups``: {group: weight};
    when None every group weighs the same. Returns {score, classification, critical_failed, groups}."""
    by_group = {}
    for r in results:
        by_group.setdefault(r.get("group") or "default", []).append(r)
    group_scores = {}
    total_weight = 0.0
    weighted = 0.0
    for name, members in sorted(by_group.items()):
        scored = [m for m in members if not m.get("excluded")]
        weight = float((groups or {}).get(name, 1.0)) if groups is not None else 1.0
        if not scored:
            continue
        members_weight = sum(float(m.get("weight", 1.0)) for m in scored)
        passed = sum(float(m.get("weight", 1.0)) for m in scored if not m.get("failed"))
        group_score = 100.0 * passed / members_weight if members_weight else 100.0
        group_scores[name] = group_score
        weighted += weight * group_score
        total_weight += weight
    value = weighted / total_weight if total_weight else 0.0
    critical_failed = [r["name"] for r in results if r.get("critical") and r.get("failed")]
    if critical_failed:
        value = 0.0
    if value >= pass_threshold:
        classification = PASS
    elif value >= marginal_threshold:
        classification = MARGINAL
    else:
        classification = FAIL
    if not critical_failed and (not total_weight or (classification == PASS and any(r.get("excluded") for r in results))):
        classification = MARGINAL  # a metric without data held back its verdict: never a Pass, not a Fail
    return {"score": round(value, 6), "classification": classification, "critical_failed": critical_failed,
            "groups": group_scores}
