"""AnalysisTemplate semantics, table-driven from Argo Rollouts' documented rules.

The metric provider here is a scripted stand-in (Prometheus itself is exercised by the
integration tier); the clock is simulated so interval, retry and delay rules are checked exactly.
"""

import math

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import analysis as an
from ansible_collections.progressive.delivery.plugins.module_utils.prometheus import (
    PrometheusError, QueryResult)
from simclock import SimClock

NAN = float("nan")


def vector(*values):
    return QueryResult("vector", [{"metric": {"pod": "p%d" % i}, "value": [0, repr(v) if not math.isnan(v) else "NaN"]}
                                  for i, v in enumerate(values)])


def scalar(value):
    return QueryResult("scalar", [0, "NaN" if math.isnan(value) else repr(value)])


class Script(object):
    """Answers each metric's queries from a list; the last answer repeats."""

    def __init__(self, clock, answers):
        self.clock = clock
        self.answers = dict((k, list(v)) for k, v in answers.items())
        self.calls = []
        self.timeouts = []

    def query(self, metric, timeout=None):
        self.calls.append((metric.name, self.clock.now))
        self.timeouts.append(timeout)
        queue = self.answers[metric.name]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def metric(name="m", **fields):
    spec = {"name": name, "provider": {"prometheus": {"address": "http://127.0.0.1:1", "query": "up"}}}
    spec.update(fields)
    return spec


def run(metrics, answers, mode="run", on_empty="fail", max_duration=None, dry_run=None):
    clock = SimClock()
    spec = {"metrics": metrics, "dryRun": dry_run or []}
    built = an.build_metrics(spec, mode)
    script = Script(clock, answers)
    result = an.AnalysisRun(built, script, on_empty=on_empty, max_duration=max_duration,
                            clock=clock, sleep=clock.sleep).run()
    return result, script, clock


# ---------------------------------------------------------------- condition table (EvaluateResult)

@pytest.mark.parametrize("success,failure,result,expected", [
    (None, None, [0.5], "Successful"),
    ("result[0] > 0.9", None, [0.95], "Successful"),
    ("result[0] > 0.9", None, [0.5], "Failed"),
    (None, "result[0] < 0.9", [0.5], "Failed"),
    (None, "result[0] < 0.9", [0.95], "Successful"),
    ("result[0] > 0.9", "result[0] < 0.5", [0.95], "Successful"),
    ("result[0] > 0.9", "result[0] < 0.5", [0.3], "Failed"),
    ("result[0] > 0.9", "result[0] < 0.5", [0.7], "Inconclusive"),
    # failure wins when both are true
    ("result[0] > 0.1", "result[0] > 0.2", [0.7], "Failed"),
    # NaN: both false -> Inconclusive; success only -> Failed
    ("result >= 0.9", "result < 0.9", NAN, "Inconclusive"),
    ("result >= 0.9", None, NAN, "Failed"),
    ("result >= 0.9 || isNaN(result)", None, NAN, "Successful"),
    # +Inf
    ("result >= 0.9", None, float("inf"), "Successful"),
    (None, "isInf(result)", float("inf"), "Failed"),
    # an evaluation error on either condition is an Error
    ("result[0] > 0.9", "result[5] > 1", [0.95], "Error"),
    ("result[0] + 1", None, [0.95], "Error"),
])
def test_conditions(success, failure, result, expected):
    fields = {}
    if success:
        fields["successCondition"] = success
    if failure:
        fields["failureCondition"] = failure
    m = an.build_metrics({"metrics": [metric(**fields)]})[0]
    assert an.evaluate_conditions(m, result)[0] == expected


def test_empty_vector_unguarded_is_error_with_argo_message():
    m = an.build_metrics({"metrics": [metric(successCondition="result[0] > 0.9")]})[0]
    phase, message = an.evaluate_conditions(m, [])
    assert phase == "Error"
    assert message == ('could not evaluate successCondition "result[0] > 0.9": metric result is nil or '
                       'empty: no data returned from the metric provider')


def test_non_bool_condition_message():
    m = an.build_metrics({"metrics": [metric(successCondition="result[0]")]})[0]
    assert an.evaluate_conditions(m, [1.0]) == (
        "Error", 'could not evaluate successCondition "result[0]": expected bool, but got float')


# ---------------------------------------------------------------- empty means fail

@pytest.mark.parametrize("fields,answer,on_empty,expected", [
    ({"successCondition": "len(result) == 0 || result[0] > 0.9"}, vector(), "argo", "Successful"),
    ({"successCondition": "len(result) == 0 || result[0] > 0.9"}, vector(), "fail", "Failed"),
    ({}, vector(), "argo", "Successful"),
    ({}, vector(), "fail", "Failed"),
    ({"successCondition": "result >= 0.9 || isNaN(result)"}, scalar(NAN), "argo", "Successful"),
    ({"successCondition": "result >= 0.9 || isNaN(result)"}, scalar(NAN), "fail", "Failed"),
    ({"successCondition": "len(result) > 0 && result[0] > 0.9"}, vector(), "fail", "Failed"),
    ({"successCondition": "result[0] > 0.9"}, vector(), "fail", "Error"),
    ({"successCondition": "result[0] > 0.9"}, vector(), "argo", "Error"),
])
def test_no_data_never_passes_unless_asked(fields, answer, on_empty, expected):
    result, _script, _clock = run([metric(**fields)], {"m": [answer]}, mode="once", on_empty=on_empty)
    assert result.phase == expected
    if expected != "Successful":
        assert "no data" in result.message or "nil or empty" in result.message


# ---------------------------------------------------------------- limits (assessMetricStatus)

GOOD, BAD = vector(0.99), vector(0.5)
COND = {"successCondition": "result[0] > 0.9"}


@pytest.mark.parametrize("fields,answers,phase,message", [
    # failureLimit default 0: one failure fails
    (dict(COND, count=3, interval="10s"), [GOOD, BAD, GOOD], "Failed", "failed (1) > failureLimit (0)"),
    # failed == failureLimit is still fine (strict >)
    (dict(COND, count=3, interval="10s", failureLimit=1), [GOOD, BAD, GOOD], "Successful", ""),
    (dict(COND, count=4, interval="10s", failureLimit=1), [BAD, GOOD, BAD, GOOD], "Failed",
     "failed (2) > failureLimit (1)"),
    # inconclusiveLimit
    ({"successCondition": "result[0] > 0.9", "failureCondition": "result[0] < 0.2", "count": 2,
      "interval": "10s", "inconclusiveLimit": 1}, [BAD, BAD], "Inconclusive", "inconclusive (2) > inconclusiveLimit (1)"),
    # consecutiveErrorLimit default 4: Error on the 5th consecutive error
    (dict(COND, count=2, interval="10s"), [PrometheusError("boom")], "Error",
     "consecutiveErrors (5) > consecutiveErrorLimit (4)"),
    (dict(COND, count=2, interval="10s", consecutiveErrorLimit=0), [PrometheusError("boom")], "Error",
     "consecutiveErrors (1) > consecutiveErrorLimit (0)"),
    # errors interleaved with good measurements reset the streak and do not use up count
    (dict(COND, count=3, interval="10s", consecutiveErrorLimit=1),
     [PrometheusError("a"), GOOD, PrometheusError("b"), GOOD, GOOD], "Successful", ""),
    # consecutiveSuccessLimit with failureLimit disabled
    (dict(COND, count=5, interval="10s", failureLimit=-1, consecutiveSuccessLimit=2), [BAD, GOOD, GOOD],
     "Successful", "consecutiveSuccessful (2) >= consecutiveSuccessLimit (2)"),
    (dict(COND, count=3, interval="10s", failureLimit=-1, consecutiveSuccessLimit=2), [BAD, GOOD, BAD],
     "Failed", "consecutiveSuccessful (0) < consecutiveSuccessLimit (2)"),
    # both applicable, neither reached -> Inconclusive
    (dict(COND, count=3, interval="10s", failureLimit=1, consecutiveSuccessLimit=2), [GOOD, BAD, GOOD],
     "Inconclusive", "neither"),
])
def test_metric_limits(fields, answers, phase, message):
    result, _script, _clock = run([metric(**fields)], {"m": answers})
    res = result.results[0]
    assert res.phase == phase
    assert message in res.message
    assert result.phase == phase


def test_error_precedence_over_inconclusive_over_failed():
    res = an.MetricResult(an.build_metrics({"metrics": [metric(count=9, interval="1s")]})[0])
    res.last = an.Measurement("Error", "", "", 0, 0)
    res.failed, res.inconclusive, res.consecutive_error = 1, 1, 5
    assert an.assess_metric(res, False)[0] == "Error"
    res.consecutive_error = 0
    assert an.assess_metric(res, False)[0] == "Inconclusive"
    res.inconclusive = 0
    assert an.assess_metric(res, False)[0] == "Failed"


# ---------------------------------------------------------------- scheduling

def test_interval_count_and_initial_delay():
    result, script, clock = run([metric(count=3, interval="30s", initialDelay="1m")], {"m": [GOOD]})
    times = [t - 1000.0 for _name, t in script.calls]
    assert times == [60.0, 90.0, 120.0]
    assert result.phase == "Successful"
    assert result.results[0].count == 3


def test_error_retry_is_10s_whatever_the_interval():
    result, script, _clock = run([metric(count=2, interval="5m", **COND)],
                                 {"m": [GOOD, PrometheusError("down"), PrometheusError("down"), GOOD]})
    times = [t - 1000.0 for _name, t in script.calls]
    assert times == [0.0, 300.0, 310.0, 320.0]
    assert result.phase == "Successful"
    assert result.results[0].error == 2
    assert result.results[0].count == 2


def test_prometheus_outage_errors_after_about_40s():
    result, script, _clock = run([metric(count=2, interval="1m", **COND)], {"m": [PrometheusError("unreachable")]})
    times = [t - 1000.0 for _name, t in script.calls]
    assert times == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert result.phase == "Error"
    assert 'Error Message: unreachable' in result.message


def test_count_defaults():
    assert an.build_metrics({"metrics": [metric()]})[0].count == 1
    assert an.build_metrics({"metrics": [metric(interval="1m")]})[0].count is None
    assert an.build_metrics({"metrics": [metric(count=0)]})[0].count == 1


def test_indefinite_metric_needs_max_duration():
    with pytest.raises(an.AnalysisSpecError) as info:
        run([metric(interval="1m")], {"m": [GOOD]})
    assert "run indefinitely" in str(info.value)
    result, script, clock = run([metric(interval="1m", **COND)], {"m": [GOOD]}, max_duration=150)
    assert result.phase == "Successful"
    assert result.message == "Run Terminated"
    assert len(script.calls) == 3  # at 0, 60, 120; terminated at 150


def test_terminated_run_keeps_a_failure():
    result, _script, _clock = run([metric(interval="1m", failureLimit=1, **COND)], {"m": [BAD, BAD]}, max_duration=300)
    assert result.phase == "Failed"


# ---------------------------------------------------------------- run phase (assessRunStatus)

def test_run_phase_is_worst_metric_and_fails_fast():
    metrics = [metric("latency", count=5, interval="1m", **COND), metric("errors", **COND)]
    result, script, _clock = run(metrics, {"latency": [GOOD], "errors": [BAD]})
    assert result.phase == "Failed"
    assert result.message.startswith('Metric "errors" assessed Failed due to failed (1) > failureLimit (0)')
    # fast fail: the other metric is not measured again, and ends Successful (terminated)
    assert [c for c in script.calls if c[0] == "latency"] == [("latency", 1000.0)]
    assert result.results[0].phase == "Successful"


def test_run_order_failed_worse_than_error_worse_than_inconclusive():
    metrics = [metric("a", consecutiveErrorLimit=0, **COND),
               metric("b", **COND),
               metric("c", successCondition="result[0] > 0.9", failureCondition="result[0] < 0.1")]
    result, _script, _clock = run(metrics, {"a": [PrometheusError("x")], "b": [BAD], "c": [BAD]})
    assert result.phase == "Failed"
    assert '"b"' in result.message


def test_first_metric_in_spec_order_names_the_message():
    metrics = [metric("first", **COND), metric("second", **COND)]
    result, _script, _clock = run(metrics, {"first": [BAD], "second": [BAD]})
    assert result.message.startswith('Metric "first"')


def test_dry_run_metrics_never_decide():
    metrics = [metric("success-rate", **COND), metric("error-rate", **COND)]
    result, _script, _clock = run(metrics, {"success-rate": [GOOD], "error-rate": [BAD]},
                                  dry_run=[{"metricName": "error"}])
    assert result.phase == "Successful"
    assert result.results[1].phase == "Failed"
    assert result.to_dict()["dry_run_summary"]["failed"] == 1


def test_dry_run_regex_is_unanchored_and_must_match():
    metrics = [metric("success-rate"), metric("error-rate")]
    built = an.build_metrics({"metrics": metrics, "dryRun": [{"metricName": "rate"}]})
    assert all(m.dry_run for m in built)
    with pytest.raises(an.AnalysisSpecError) as info:
        an.build_metrics({"metrics": metrics, "dryRun": [{"metricName": "latency"}]})
    assert "dryRun[0]: Rule didn't match any metric name(s)" in str(info.value)


def test_only_dry_run_metrics_is_successful():
    result, _script, _clock = run([metric(**COND)], {"m": [BAD]}, dry_run=[{"metricName": ".*"}])
    assert result.phase == "Successful"


def test_measurement_history_keeps_last_ten():
    result, _script, _clock = run([metric(count=12, interval="1s", **COND)], {"m": [GOOD]})
    assert len(result.results[0].measurements) == 10
    assert result.results[0].count == 12


def test_metrics_are_measured_concurrently():
    import threading
    import time

    barrier = threading.Barrier(4, timeout=5)

    class Meeting(object):
        def query(self, metric):
            barrier.wait()  # only returns if all four queries are in flight at once
            return GOOD

    built = an.build_metrics({"metrics": [metric("m%d" % i, **COND) for i in range(4)]})
    start = time.time()
    result = an.AnalysisRun(built, Meeting()).run()
    assert result.phase == "Successful"
    assert time.time() - start < 5


def test_once_mode_is_one_measurement_per_metric():
    result, script, _clock = run([metric(count=5, interval="1m", failureLimit=3, initialDelay="5m", **COND)],
                                 {"m": [BAD]}, mode="once")
    assert len(script.calls) == 1
    assert result.phase == "Failed"
    result, script, _clock = run([metric(count=5, interval="1m", **COND)], {"m": [PrometheusError("down")]}, mode="once")
    assert len(script.calls) == 1
    assert result.phase == "Error"


# ---------------------------------------------------------------- args and templates

TEMPLATE = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "success-rate"},
    "spec": {
        "args": [{"name": "service-name"}, {"name": "threshold", "value": "0.95"}],
        "metrics": [{"name": "success-rate", "successCondition": "result[0] >= {{ args.threshold }}",
                     "provider": {"prometheus": {"address": "http://127.0.0.1:9090",
                                                 "query": 'sum(rate(x{service="{{args.service-name}}"}[1m]))'}}}],
    },
}


def test_args_are_substituted_everywhere():
    metrics, _secrets, ignored = an.prepare([TEMPLATE], {"service-name": "checkout", "extra": "x"})
    m = metrics[0]
    assert m.prometheus["query"] == 'sum(rate(x{service="checkout"}[1m]))'
    assert m.success.source == "result[0] >= 0.95"
    assert ignored == ["extra"]


def test_given_args_override_defaults():
    metrics = an.prepare([TEMPLATE], {"service-name": "checkout", "threshold": 0.5})[0]
    assert metrics[0].success.source == "result[0] >= 0.5"


def test_missing_arg_is_named():
    with pytest.raises(an.AnalysisSpecError) as info:
        an.prepare([TEMPLATE], {})
    assert "args.service-name was not resolved" in str(info.value)


def test_undeclared_tag_is_named():
    template = {"metrics": [metric(provider={"prometheus": {"address": "http://x:1", "query": "{{args.nope}}"}})]}
    with pytest.raises(an.AnalysisSpecError) as info:
        an.prepare([template], {})
    assert "failed to resolve {{args.nope}}" in str(info.value)


def test_unclosed_tag():
    template = {"metrics": [metric(provider={"prometheus": {"address": "http://x:1", "query": "up{{args.x"}})],
                "args": [{"name": "x", "value": "1"}]}
    with pytest.raises(an.AnalysisSpecError) as info:
        an.prepare([template], {})
    assert 'Cannot find end tag="}}"' in str(info.value)


def test_secret_args_come_from_the_lookup_and_are_redacted():
    template = {"args": [{"name": "token", "valueFrom": {"secretKeyRef": {"name": "prom", "key": "token"}}}],
                "metrics": [metric(provider={"prometheus": {"address": "http://x:1", "query": "up{t='{{args.token}}'}"}})]}
    with pytest.raises(an.AnalysisSpecError) as info:
        an.prepare([template], {})
    assert "secret 'prom' key 'token'" in str(info.value)
    metrics, secrets, _ignored = an.prepare([template], {}, secret_lookup=lambda name, key: "s3cr3t")
    assert secrets == ["s3cr3t"]
    assert "s3cr3t" in metrics[0].prometheus["query"]


def test_merging_templates():
    other = {"kind": "AnalysisTemplate", "metadata": {"name": "latency"},
             "spec": {"args": [{"name": "service-name"}],
                      "metrics": [metric("p99", successCondition="result[0] < 0.5")]}}
    metrics = an.prepare([TEMPLATE, other], {"service-name": "checkout"})[0]
    assert [m.name for m in metrics] == ["success-rate", "p99"]
    with pytest.raises(an.AnalysisSpecError) as info:
        an.prepare([TEMPLATE, TEMPLATE], {"service-name": "checkout"})
    assert "two metrics have the same name 'success-rate'" in str(info.value)
    clash = {"metrics": [metric("x")], "args": [{"name": "threshold", "value": "0.5"}]}
    with pytest.raises(an.AnalysisSpecError) as info:
        an.prepare([TEMPLATE, clash], {"service-name": "checkout"})
    assert "Argument `threshold` specified multiple times with different values" in str(info.value)


def test_template_references_are_resolved():
    parent = {"kind": "AnalysisTemplate", "metadata": {"name": "all"},
              "spec": {"templates": [{"templateName": "success-rate"}], "metrics": [metric("extra")]}}
    metrics = an.prepare([parent], {"service-name": "a"}, lookup=lambda name, scope: TEMPLATE)[0]
    assert [m.name for m in metrics] == ["success-rate", "extra"]


@pytest.mark.parametrize("fields,message", [
    ({"count": 3}, "interval must be specified when count > 1"),
    ({"failureLimit": -2}, "failureLimit must be >= -1"),
    ({"failureLimit": -1}, "cannot both be disabled"),
    ({"count": 2, "interval": "1m", "failureLimit": 3}, "count must be >= failureLimit"),
    ({"interval": "soon"}, 'invalid duration "soon"'),
    ({"count": "many"}, "count must be an integer"),
    ({"successCondition": "result[0] >"}, "successCondition does not parse"),
    ({"provider": {"datadog": {"query": "x"}}}, "the datadog provider, which is not supported (supported providers: prometheus, web)"),
    ({"provider": {}}, "exactly one provider"),
])
def test_invalid_metrics_are_refused(fields, message):
    with pytest.raises(an.AnalysisSpecError) as info:
        an.build_metrics({"metrics": [metric(**fields)]})
    assert message in str(info.value)


def test_count_from_an_argument():
    template = {"args": [{"name": "n", "value": "3"}],
                "metrics": [metric(count="{{args.n}}", interval="1m")]}
    metrics = an.prepare([template], {})[0]
    assert metrics[0].count == 3


# ---------------------------------------------------------------- the gate fails closed

@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyError("value"), TypeError("'NoneType' is not iterable"),
                                   PrometheusError("Prometheus returned a malformed answer: data is null", "invalid_response")])
def test_any_provider_exception_is_an_error_measurement(error):
    result, _script, _clock = run([metric(**COND)], {"m": [error]}, mode="once")
    assert result.phase == "Error"
    measurement = result.results[0].measurements[0]
    assert measurement.phase == "Error"
    assert str(error).strip("'") in measurement.message
    assert 'Metric "m" assessed Error' in result.message


@pytest.mark.parametrize("condition", ["floor(result[0]) > 1", "asInt(result[0]) > 1", "result[0] * 100 > 5",
                                       "round(result[0]) > 1", "result[0] % 2 == 0"])
def test_nan_in_arithmetic_never_passes_and_never_raises(condition):
    result, _script, _clock = run([metric(successCondition=condition)], {"m": [vector(NAN)]}, mode="once")
    assert result.phase in ("Error", "Failed"), result.message
    m = result.results[0].measurements[0]
    if m.phase == "Error":
        assert m.message.startswith('could not evaluate successCondition "%s": ' % condition)


class SlowProvider(object):
    """A query that uses all the time it is given and then times out, as against a trickling server."""

    def __init__(self, clock, own_timeout=30.0):
        self.clock = clock
        self.own_timeout = own_timeout
        self.timeouts = []

    def query(self, metric, timeout=None):
        limit = self.own_timeout if timeout is None else min(timeout, self.own_timeout)
        self.timeouts.append(timeout)
        self.clock.now += limit
        raise PrometheusError("Prometheus at http://127.0.0.1:9 did not answer within %gs" % limit, "timeout")


def run_with(provider_factory, metrics, max_duration):
    clock = SimClock()
    provider = provider_factory(clock)
    built = an.build_metrics({"metrics": metrics})
    result = an.AnalysisRun(built, provider, max_duration=max_duration, clock=clock, sleep=clock.sleep).run()
    return result, provider, clock


def test_max_duration_cuts_a_query_and_the_run_ends_error():
    result, provider, clock = run_with(SlowProvider, [metric(**COND)], max_duration=5)
    assert provider.timeouts == [5]  # the query got the time left, not its own 30 s
    assert clock.now - 1000.0 == 5
    assert result.phase == "Error"
    assert "analysis exceeded max_duration 5s (wall clock)" in result.message
    assert "did not answer within 5s" in result.message
    assert result.to_dict()["metrics"][0]["phase"] == "Error"


def test_an_error_whose_retry_does_not_fit_ends_error_not_terminated_successful():
    # prometheus_timeout 3 s, max_duration 5 s: the query times out at 3 s, its retry would be at 13 s
    result, provider, clock = run_with(lambda c: SlowProvider(c, own_timeout=3), [metric(**COND)], max_duration=5)
    assert provider.timeouts == [5]
    assert clock.now - 1000.0 == 5
    assert result.phase == "Error"
    assert result.results[0].message == ("analysis exceeded max_duration 5s (wall clock) with the last "
                                         "measurement an Error (consecutiveErrors 1)")
    assert "did not answer within 3s" in result.message


def test_queries_get_the_time_left_and_good_data_still_terminates_successful():
    result, script, _clock = run([metric(interval="1m", **COND)], {"m": [GOOD]}, max_duration=150)
    assert script.timeouts == [150, 90, 30]
    assert result.phase == "Successful" and result.message == "Run Terminated"
    result, script, _clock = run([metric(**COND)], {"m": [GOOD]})
    assert script.timeouts == [None]  # without max_duration the query keeps its own timeout


def test_a_measurement_due_at_the_very_end_is_not_started():
    result, script, clock = run([metric(interval="1s", **COND)], {"m": [GOOD]}, max_duration=2.1)
    assert [t - 1000.0 for _n, t in script.calls] == [0.0, 1.0]  # the one due at 2.0 would have 0.1 s
    assert result.phase == "Successful"
    assert clock.now - 1000.0 == pytest.approx(2.1)


# ---------------------------------------------------------------- malformed templates are spec errors

@pytest.mark.parametrize("template,message", [
    ({"metrics": ["success-rate"]}, "malformed"),
    ({"metrics": [{"name": "m", "provider": "prometheus"}]}, "provider must be a mapping"),
    ({"metrics": [{"name": "m", "provider": {"prometheus": "up"}}]}, "provider.prometheus must be a mapping"),
    ({"metrics": [metric(provider={"prometheus": {"query": 5}})]}, "query must be a string"),
    ({"metrics": [metric(provider={"prometheus": {"query": "up", "timeout": "soon"}})]}, "timeout must be a number"),
    ({"metrics": [metric(provider={"prometheus": {"query": "up", "headers": "X: y"}})]}, "headers must be a list"),
    ({"metrics": [metric(successCondition=True)]}, "successCondition must be a string"),
    ({"args": ["service"], "metrics": [metric()]}, "malformed"),
])
def test_malformed_templates_are_spec_errors(template, message):
    with pytest.raises(an.AnalysisSpecError) as info:
        an.prepare([template], {})
    assert message in str(info.value)


# ---------------------------------------------------------------- secrets never show

SECRET_TEMPLATE = {
    "args": [{"name": "token", "valueFrom": {"secretKeyRef": {"name": "prom", "key": "token"}}}],
    "metrics": [metric(successCondition="result[0] > 0.9",
                       provider={"prometheus": {"address": "http://127.0.0.1:1",
                                                "query": "sum(up{key='{{args.token}}'})"}})]}


def test_secret_args_never_show_in_results_messages_or_validate():
    metrics, secrets, _ignored = an.prepare([SECRET_TEMPLATE], {}, secret_lookup=lambda name, key: "s3cr3t-v4lue\n")
    clock = SimClock()
    echo = PrometheusError("Prometheus rejected the query (bad_data): unknown key s3cr3t-v4lue", "bad_data")
    script = Script(clock, {"m": [echo]})
    result = an.AnalysisRun(metrics, script, redact=secrets, clock=clock, sleep=clock.sleep).run()
    out = result.to_dict()
    assert "s3cr3t" not in repr(out) and "s3cr3t" not in result.message
    assert out["metrics"][0]["query"] == "sum(up{key='***'})"
    assert "unknown key ***" in out["metrics"][0]["measurements"][0]["message"]
    entries = an.validate(metrics, Script(clock, {"m": [GOOD]}), redact=secrets)
    assert entries[0]["query"] == "sum(up{key='***'})" and entries[0]["valid"] is True
    entries = an.validate(metrics, Script(clock, {"m": [echo]}), redact=secrets)
    assert "s3cr3t" not in repr(entries)


def test_a_secret_in_a_spec_error_is_redacted():
    template = {"args": SECRET_TEMPLATE["args"],
                "metrics": [metric(successCondition="result[0] > '{{args.token}}' +")]}
    with pytest.raises(an.AnalysisSpecError) as info:
        an.prepare([template], {}, secret_lookup=lambda name, key: "s3cr3t-v4lue")
    assert "s3cr3t" not in str(info.value)
    assert "***" in str(info.value)


def test_provider_credentials_never_show():
    metrics = an.build_metrics({"metrics": [metric(**COND)]}, "once")
    provider = an.PrometheusProvider(url="http://alice:pa55word@127.0.0.1:1", timeout=5)
    result = an.AnalysisRun(metrics, provider).run()
    assert result.phase == "Error"
    assert "http://alice:***@127.0.0.1:1" in result.message
    assert "pa55word" not in repr(result.to_dict()) and "pa55word" not in result.message
    provider = an.PrometheusProvider(url="http://127.0.0.1:1", token="t0k\nen")
    result = an.AnalysisRun(metrics, provider).run()
    assert result.phase == "Error" and "line break" in result.message
    assert "t0k" not in repr(result.to_dict())
