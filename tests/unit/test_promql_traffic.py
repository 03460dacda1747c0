"""The PromQL builders' ``traffic`` scope: a dark canary's answers to a router's copies vs what users were served."""

import pytest

from ansible_collections.progressive.delivery.plugins.filter.promql import FilterModule as PromqlFilters
from ansible_collections.progressive.delivery.plugins.module_utils import promql
from ansible.errors import AnsibleFilterError


def test_all_traffic_is_the_default_and_leaves_queries_as_they_were():
    assert promql.error_rate({"version": "v3"}, window="10s") == promql.error_rate(
        {"version": "v3"}, window="10s", traffic="all")
    assert "mirrored" not in promql.success_rate({"version": "v3"})


def test_mirrored_counts_the_copies_only():
    q = promql.success_rate({"version": "v3"}, window="10s", traffic="mirrored")
    assert q == ('(sum(rate(http_requests_total{version="v3",mirrored="true",code!~"5.."}[10s])) or vector(0)) / '
                 'sum(rate(http_requests_total{version="v3",mirrored="true"}[10s]))')


def test_users_keeps_series_without_the_label():
    # an app that does not label its requests serves only users: != keeps its series, = "false" would not
    q = promql.error_count({"version": "v3"}, window="90s", traffic="users")
    assert q == 'sum(increase(http_requests_total{version="v3",mirrored!="true",code=~"5.."}[90s])) or vector(0)'


@pytest.mark.parametrize("builder", [promql.success_rate, promql.error_rate, promql.latency_quantile,
                                     promql.request_count, promql.error_count])
def test_every_request_builder_scopes_with_the_pod_hash(builder):
    q = builder({"app": "checkout"}, pod_hash="{{args.canary-hash}}", traffic="mirrored", mirrored_label="shadow")
    assert 'pod=~".*-{{args.canary-hash}}-.*",shadow="true"' in q
    assert "mirrored" not in q


def test_bad_scopes_are_refused_naming_the_fix():
    with pytest.raises(ValueError, match="traffic must be one of all, mirrored"):
        promql.error_rate({"app": "x"}, traffic="copies")
    with pytest.raises(ValueError, match="mirrored_label"):
        promql.error_rate({"app": "x"}, traffic="users", mirrored_label="bad-label")
    with pytest.raises(ValueError, match="leave it out"):
        promql.error_rate({"app": "x", "mirrored": "true"}, traffic="mirrored")


def test_filters_take_the_scope():
    f = PromqlFilters().filters()
    assert 'mirrored="true"' in f["promql_latency_quantile"]({"app": "x"}, traffic="mirrored")
    assert 'mirrored="true"' in f["promql_matchers"]({"app": "x"}, traffic="mirrored")
    with pytest.raises(AnsibleFilterError, match="promql_request_count: traffic must be"):
        f["promql_request_count"]({"app": "x"}, traffic="shadow")
