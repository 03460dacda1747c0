"""The collection's own judges: Wald's SPRT, the Mann-Whitney U test (against scipy, a test-only dependency),
Kayenta's score, and the engine's minimum-samples rule through the plugin providers.

Prometheus itself is exercised by tests/integration/test_judges.py; here a stand-in answers each PromQL
query from a table, so the counts and samples are exact."""

import math
import random

import pytest
from scipy import stats

from ansible_collections.progressive.delivery.plugins.module_utils import analysis as an
from ansible_collections.progressive.delivery.plugins.module_utils import promql
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.judges import score as judge
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.judges import sprt
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.judges.mannwhitney import (
    mann_whitney, rank_sum)
from ansible_collections.progressive.delivery.plugins.module_utils.prometheus import QueryResult
from simclock import SimClock

SEQ = "progressive-delivery/sequential"
CMP = "progressive-delivery/compare"


# ---------------------------------------------------------------- Mann-Whitney against scipy

def _sample(rng, n, scale, shift, grid):
    # values on a grid make ties common, as latencies from a histogram or a rounding exporter have
    return [round(rng.gauss(shift, scale) / grid) * grid for _i in range(n)]


def test_mann_whitney_agrees_with_scipy_on_many_samples_with_ties():
    rng = random.Random(20260813)
    checked = ties_seen = small_p = 0
    for _i in range(300):
        n1, n2 = rng.randint(1, 60), rng.randint(1, 60)
        grid = rng.choice([1.0, 0.5, 0.1, 0.001])
        x = _sample(rng, n1, 1.0, rng.choice([0.0, 0.3, 1.5]), grid)
        y = _sample(rng, n2, rng.choice([1.0, 2.0]), 0.0, grid)
        ours = mann_whitney(x, y)
        theirs = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True)
        assert ours.u == pytest.approx(float(theirs.statistic), rel=1e-9, abs=1e-12)
        if math.isnan(theirs.pvalue):
            assert math.isnan(ours.p_value)  # every value tied
            continue
        assert ours.p_value == pytest.approx(float(theirs.pvalue), rel=1e-9, abs=1e-300), (x, y)
        checked += 1
        ties_seen += len(set(x + y)) < len(x + y)
        small_p += theirs.pvalue < 1e-6
    assert checked >= 250 and ties_seen >= 200 and small_p >= 10


def test_mann_whitney_without_continuity_and_on_known_figures():
    x, y = [1, 2, 3, 4, 5], [6, 7, 8, 9, 10]
    ours = mann_whitney(x, y, continuity=False)
    theirs = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=False)
    assert ours.u == 0 and ours.p_value == pytest.approx(theirs.pvalue, rel=1e-12)
    # ranks of ties are averaged: x = [1, 2, 2] in [1, 2, 2, 2, 3] -> 1 + 3 + 3
    assert rank_sum([1, 2, 2], [2, 3]) == (7.0, [3])
    assert math.isnan(mann_whitney([1, 1], [1, 1, 1]).p_value)
    with pytest.raises(ValueError):
        mann_whitney([], [1])


# ---------------------------------------------------------------- SPRT

def test_sprt_bounds_are_walds():
    lower, upper = sprt.bounds(0.05, 0.05)
    assert upper == pytest.approx(math.log(19)) and lower == pytest.approx(-math.log(19))
    assert sprt.bounds(0.01, 0.1) == pytest.approx((math.log(0.1 / 0.99), math.log(0.9 / 0.01)))


@pytest.mark.parametrize("errors,requests,decision", [
    (15, 50, "worse"),          # 30% errors in 50 requests
    (0, 10, "continue"),        # too little evidence either way
    (0, 5000, "not_worse"),     # a clean canary, long enough
    (1, 100, "continue"),
    (5, 1000, "worse"),         # 0.5% against a 0.1% budget
    (1, 3000, "not_worse"),
])
def test_sprt_decisions_on_known_counts(errors, requests, decision):
    d = sprt.decide(errors, requests, slo=0.999, worse=3, alpha=0.05, beta=0.05)
    assert d.decision == decision
    expected = errors * math.log(3) + (requests - errors) * math.log(0.997 / 0.999)
    assert d.llr == pytest.approx(expected)
    assert d.to_dict()["error_rate"] == pytest.approx(errors / requests)


def test_sprt_needs_1470_clean_requests_to_accept_at_999_and_3x():
    n = sprt.requests_to_accept(0.999, 3, 0.05, 0.05)
    assert n == 1470  # ln(19) / -ln(0.997 / 0.999) = 1469.3
    assert sprt.decide(0, n - 1).decision == "continue" and sprt.decide(0, n).decision == "not_worse"


@pytest.mark.parametrize("params,message", [
    (dict(slo=1.0), "slo must be between 0 and 1"),
    (dict(worse=1), "worse must be more than 1"),
    (dict(slo=0.5, worse=3), "worse x (1 - slo) must be below 1"),
    (dict(alpha=0.5), "alpha must be between 0 and 0.5"),
])
def test_sprt_refuses_parameters_out_of_range(params, message):
    with pytest.raises(ValueError) as info:
        sprt.decide(0, 10, **params)
    assert message in str(info.value)


# ---------------------------------------------------------------- classification and score

def test_a_significant_difference_inside_the_effect_size_passes_and_one_beyond_fails():
    rng = random.Random(7)
    base = [0.100 + rng.random() * 0.002 for _i in range(200)]
    tiny = [v * 1.02 for v in base]          # significant, but 2%: not a failure
    slow = [v * 1.30 for v in base]          # 30% slower
    small = judge.classify(tiny, base, "increase")
    assert small["p_value"] < 0.02 and small["classification"] == "Pass"
    big = judge.classify(slow, base, "increase")
    assert big["classification"] == "High" and big["failed"] and big["effect"] == pytest.approx(1.3)
    # a faster canary is no failure when only an increase is bad, and is Low when either direction is
    assert judge.classify(base, slow, "increase")["classification"] == "Pass"
    assert judge.classify(base, slow, "either")["classification"] == "Low"
    assert judge.classify(base, slow, "decrease")["classification"] == "Low"


def test_no_data_follows_the_metric_strategy():
    assert judge.classify([], [1.0], on_no_data="fail")["failed"] is True
    assert judge.classify([1.0], [], on_no_data="pass")["failed"] is False
    held = judge.classify([], [], on_no_data="inconclusive")
    assert held["excluded"] and held["classification"] == "NoData"
    assert judge.clean([1.0, float("nan"), float("inf")], "remove") == [1.0]
    assert judge.clean([1.0, float("nan")], "replace") == [1.0, 0.0]


def _r(name, failed, group="default", critical=False, weight=1.0, excluded=False):
    return dict(name=name, failed=failed, group=group, critical=critical, weight=weight, excluded=excluded)


def test_score_is_group_weighted_with_thresholds_and_the_critical_rule():
    results = [_r("p95", True, "latency"), _r("mean", False, "latency"), _r("errors", False, "errors")]
    s = judge.score(results, {"latency": 60, "errors": 40})
    assert s["score"] == pytest.approx(0.6 * 50 + 0.4 * 100) and s["classification"] == "Fail"
    assert judge.score(results, {"latency": 20, "errors": 80})["classification"] == "Marginal"  # 90
    on_the_line = judge.score(results, {"latency": 10, "errors": 90}, 95, 75)
    assert on_the_line["score"] == pytest.approx(95.0) and on_the_line["classification"] == "Pass"
    assert judge.score(results, {"latency": 10, "errors": 90}, 96, 95)["classification"] == "Marginal"
    assert judge.score([_r("a", False), _r("b", False)])["classification"] == "Pass"
    # a failed critical metric fails the comparison whatever the others say
    crit = judge.score([_r("a", True, critical=True)] + [_r("x%d" % i, False) for i in range(30)])
    assert crit["score"] == 0 and crit["classification"] == "Fail" and crit["critical_failed"] == ["a"]
    # weights inside a group
    assert judge.score([_r("a", True, weight=1), _r("b", False, weight=3)])["score"] == pytest.approx(75)
    # a metric left out for want of data holds a Pass back to Marginal; nothing scored is Marginal, not Fail
    assert judge.score([_r("a", False), _r("b", False, excluded=True)])["classification"] == "Marginal"
    assert judge.score([_r("b", False, excluded=True)])["classification"] == "Marginal"


# ---------------------------------------------------------------- the providers and the engine's minimum

def vector(value):
    return QueryResult("vector", [] if value is None else [{"metric": {}, "value": [0, repr(float(value))]}])


def matrix(values):
    return QueryResult("matrix", [{"metric": {}, "values": [[i, repr(float(v))] for i, v in enumerate(values)]}])


class Table(object):
    """Answers each PromQL query from a table (query text -> QueryResult); remembers range queries."""

    def __init__(self, answers):
        self.answers = answers
        self.ranges = []

    def query(self, metric, timeout=None):
        if metric.prometheus.get("rangeQuery"):
            self.ranges.append(metric.prometheus["rangeQuery"])
        return self.answers[metric.prometheus["query"]]


def sequential(requests, errors, **fields):
    spec = dict(requests="reqs", errors="errs", **fields)
    return {"name": "error-budget", "failureCondition": 'result.decision == "worse"',
            "successCondition": 'result.decision == "not_worse"', "provider": {"plugin": {SEQ: spec}}}, \
        Table({"reqs": vector(requests), "errs": vector(errors)})


def run_one(metric, table):
    clock = SimClock()  # an Error is retried 10 s later: simulated time
    return an.AnalysisRun(an.build_metrics({"metrics": [metric]}), table, clock=clock, sleep=clock.sleep).run()


@pytest.mark.parametrize("requests,errors,phase", [
    (50, 15, "Failed"), (5000, 0, "Successful"), (300, 0, "Inconclusive")])
def test_the_sequential_judge_through_a_template(requests, errors, phase):
    run = run_one(*sequential(requests, errors))
    assert run.phase == phase, run.message
    m = run.to_dict()["metrics"][0]["measurements"][0]
    assert m["samples"] == requests and m["value"].startswith("%s: %d errors in %d requests" % (
        {"Failed": "worse", "Successful": "not_worse", "Inconclusive": "continue"}[phase], errors, requests))


def test_a_low_traffic_canary_is_inconclusive_with_the_count_and_never_successful():
    # 12 clean requests with a template that would pass anything: the minimum holds it
    metric, table = sequential(12, 0, minRequests=200)
    metric["successCondition"] = "true"
    del metric["failureCondition"]
    run = run_one(metric, table)
    m = run.to_dict()["metrics"][0]
    assert run.phase == "Inconclusive" and "12 requests, 200 needed" in run.message
    assert m["measurements"][0]["message"] == "12 requests, 200 needed" and m["measurements"][0]["samples"] == 12
    # the metric-level minSamples says the same for any counting provider; enough requests pass
    metric["minSamples"] = 10
    assert run_one(metric, table).phase == "Successful"
    # conclusive evidence of worse still fails below the minimum (fail fast, pass slow)
    assert run_one(*sequential(40, 12, minRequests=200)).phase == "Failed"


def test_no_request_series_is_an_error_and_no_error_series_is_zero_errors():
    run = run_one(*sequential(None, 0))
    assert run.to_dict()["metrics"][0]["measurements"][0]["phase"] == "Error"
    assert "requests query returned no series" in run.to_dict()["metrics"][0]["measurements"][0]["message"]
    assert run_one(*sequential(5000, None)).phase == "Successful"


def compare_metric(canary, baseline, **fields):
    spec = dict(window="2m", step="5s", metrics=[dict(name="latency", canary="c", baseline="b", direction="increase",
                                                      critical=True)], **fields)
    metric = {"name": "vs-baseline", "successCondition": 'result.classification == "Pass"',
              "failureCondition": 'result.classification == "Fail"', "provider": {"plugin": {CMP: spec}}}
    return metric, Table({"c": matrix(canary), "b": matrix(baseline)})


def test_the_comparison_through_a_template():
    rng = random.Random(3)
    base = [0.1 + rng.random() * 0.01 for _i in range(24)]
    metric, table = compare_metric([v * 1.3 for v in base], base)
    run = run_one(metric, table)
    assert run.phase == "Failed"
    value = run.to_dict()["metrics"][0]["measurements"][0]
    assert value["number"] == 0 and value["samples"] == 24 and value["value"].startswith("Fail: score 0")
    assert table.ranges[0] == {"start": 'now() - duration("2m")', "end": "now()", "step": "5s"}
    metric, table = compare_metric(base, base)
    assert run_one(metric, table).phase == "Successful"
    metric, table = compare_metric(base[:5], base, minSamples=20)
    run = run_one(metric, table)
    assert run.phase == "Inconclusive" and "5 samples, 20 needed" in run.message


@pytest.mark.parametrize("spec,message", [
    ({SEQ: {"errors": "e"}}, "requests must be a PromQL query"),
    ({SEQ: {"requests": "r", "errors": "e", "slo": 99.9}}, "slo must be between 0 and 1"),
    ({SEQ: {"requests": "r", "errors": "e", "minRequests": -1}}, "minRequests must be a whole number"),
    ({SEQ: {"requests": "r", "errors": "e", "sloo": 1}}, "unknown field(s) sloo"),
    ({CMP: {"metrics": [{"name": "a", "canary": "c", "baseline": "b", "direction": "up"}]}},
     "direction must be one of increase, decrease, either"),
    ({CMP: {"metrics": [{"name": "a", "canary": "c", "baseline": "b", "group": "x"}], "groups": {"y": 1}}},
     "group x has no weight in groups"),
    ({CMP: {"metrics": [{"name": "a", "canary": "c", "baseline": "b"}], "thresholds": {"pass": 50, "marginal": 80}}},
     "0 <= marginal <= pass <= 100"),
    ({"someone/else": {}}, "the metric plugin someone/else, which is not supported"),
])
def test_bad_judge_specs_are_refused_before_anything_runs(spec, message):
    with pytest.raises(an.AnalysisSpecError) as info:
        an.build_metrics({"metrics": [{"name": "m", "provider": {"plugin": spec}}]})
    assert message in str(info.value) and "metrics[0] (m)" in str(info.value)


def test_min_samples_needs_a_provider_that_counts():
    with pytest.raises(an.AnalysisSpecError) as info:
        an.build_metrics({"metrics": [{"name": "m", "minSamples": 5, "provider": {"prometheus": {"query": "up"}}}]})
    assert "minSamples needs a provider that counts" in str(info.value)


def test_count_builders_are_scoped_to_the_canary_pods():
    assert promql.request_count({"app": "checkout"}, pod_hash="abc", window="5m") == \
        'sum(increase(http_requests_total{app="checkout",pod=~".*-abc-.*"}[5m]))'
    assert promql.error_count(None, pod_hash="abc", window="1m") == \
        'sum(increase(http_requests_total{pod=~".*-abc-.*",code=~"5.."}[1m])) or vector(0)'
    with pytest.raises(ValueError):
        promql.request_count(window="five minutes")


def test_a_metric_below_its_minimum_never_ends_successful_whatever_its_limits():
    """Argo's rules would call it Successful once count is reached with inconclusiveLimit >= count: too little
    traffic never passes."""
    from ansible_collections.progressive.delivery.plugins.module_utils.analysis import run as analysis_run
    from ansible_collections.progressive.delivery.plugins.module_utils.analysis.measure import Measurement

    from ansible_collections.progressive.delivery.plugins.module_utils.analysis.metrics import build_metrics
    metric = build_metrics({"metrics": [{
        "name": "errors-sprt", "count": 5, "interval": "5s", "inconclusiveLimit": 5, "successCondition": "true",
        "provider": {"plugin": {"progressive-delivery/sequential": {
            "requests": "sum(increase(r[5m]))", "errors": "sum(increase(e[5m]))", "minRequests": 200}}}}]})[0]
    res = analysis_run.MetricResult(metric)
    for i in range(5):  # count reached, inconclusiveLimit not exceeded: Argo would end it Successful
        res.record(Measurement("Inconclusive", "{...}", "12 requests, 200 needed", i, i + 0.1, samples=12))
    assert analysis_run.assess_metric(res, terminating=False) == (
        "Inconclusive", "too little traffic to pass: 12 requests, 200 needed")
