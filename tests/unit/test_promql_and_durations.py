"""PromQL builders and duration parsing, as the filters expose them."""

import pytest

from ansible_collections.progressive.delivery.plugins.filter.duration import FilterModule as DurationFilters
from ansible_collections.progressive.delivery.plugins.filter.promql import FilterModule as PromqlFilters
from ansible_collections.progressive.delivery.plugins.module_utils import promql
from ansible_collections.progressive.delivery.plugins.module_utils.durations import duration_seconds, parse_go_duration
from ansible.errors import AnsibleFilterError


@pytest.mark.parametrize("text,seconds", [
    ("2m", 120.0), ("1h30m", 5400.0), ("500ms", 0.5), ("30s", 30.0), ("1.5h", 5400.0),
    ("-2s", -2.0), ("0", 0.0), ("1m30s500ms", 90.5), ("100us", 0.0001),
])
def test_go_durations(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "5", "1d", "m", "1h 30m", "2 minutes", "1.2.3s"])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError):
        parse_go_duration(bad)


def test_duration_seconds_filter():
    f = DurationFilters().filters()["duration_seconds"]
    assert f("2m") == 120.0
    assert f(45) == 45.0
    assert f("45") == 45.0
    with pytest.raises(AnsibleFilterError) as info:
        f("soon")
    assert 'invalid duration "soon"' in str(info.value)
    assert duration_seconds("1h") == 3600.0


def test_success_rate_is_scoped_to_the_canary_pods():
    q = promql.success_rate({"namespace": "shop"}, pod_hash="6b9f7c4d5", window="2m")
    assert q == ('(sum(rate(http_requests_total{namespace="shop",pod=~".*-6b9f7c4d5-.*",code!~"5.."}[2m])) '
                 'or vector(0)) / sum(rate(http_requests_total{namespace="shop",pod=~".*-6b9f7c4d5-.*"}[2m]))')


def test_error_rate_counts_5xx():
    q = promql.error_rate({"service": "checkout"}, pod_hash="{{args.canary-hash}}")
    assert 'code=~"5.."' in q
    assert 'pod=~".*-{{args.canary-hash}}-.*"' in q  # an Argo arg passes through untouched


def test_latency_quantile():
    q = promql.latency_quantile({"app": "checkout"}, pod_hash="abc", quantile=0.99, window="5m")
    assert q == ('histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket'
                 '{app="checkout",pod=~".*-abc-.*"}[5m])))')
    with pytest.raises(ValueError):
        promql.latency_quantile(quantile=95)


def test_cpu_saturation():
    q = promql.cpu_saturation({"namespace": "shop"}, pod_hash="abc")
    assert "container_cpu_usage_seconds_total" in q and 'resource="cpu"' in q
    assert q.count('pod=~".*-abc-.*"') == 2


def test_label_operators_and_escaping():
    assert promql.matchers({"code": "!~5..", "path": 'a"b'}) == '{code!~"5..",path="a\\"b"}'
    with pytest.raises(ValueError):
        promql.matchers({"bad-label": "x"})


def test_filters_raise_filter_errors():
    f = PromqlFilters().filters()["promql_success_rate"]
    with pytest.raises(AnsibleFilterError) as info:
        f({"namespace": "shop"}, window="two minutes")
    assert "not a PromQL duration" in str(info.value)
