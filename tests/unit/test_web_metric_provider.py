"""Argo's web metric provider against a real HTTP server on loopback: requests as Argo sends them, the answer
bound as JSON (or the jsonPath selection), and the same verdicts as a Prometheus metric."""

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import analysis as an
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers.jsonpath import (
    JSONPath, JSONPathError)
from webserver import WebServer


@pytest.fixture
def server():
    with WebServer() as s:
        yield s


def web_metric(url, name="check", **fields):
    web = {"url": url}
    web.update(fields.pop("web", {}))
    spec = {"name": name, "provider": {"web": web}}
    spec.update(fields)
    return spec


def run(metrics, on_empty="fail", redact=None):
    built = an.build_metrics({"metrics": metrics}, "once")
    return an.AnalysisRun(built, an.Providers(an.WebProvider()), on_empty=on_empty, redact=redact).run()


def test_get_sends_the_headers_and_binds_the_json_path(server):
    server.routes["/health"] = (200, {"data": {"ok": True, "rate": 0.99, "pods": [{"ready": 1}, {"ready": 0}]}})
    out = run([web_metric(server.url + "/health", successCondition="result == true",
                          web={"jsonPath": "{$.data.ok}", "headers": [{"key": "X-Tenant", "value": "shop"}]})])
    assert out.phase == "Successful", out.message
    request = server.requests[0]
    assert request["method"] == "GET" and request["headers"]["X-Tenant"] == "shop" and request["body"] == b""
    m = out.to_dict()["metrics"][0]
    assert m["provider"] == "web" and m["query"] == server.url + "/health"
    assert m["measurements"][0]["value"] == "true" and m["measurements"][0]["number"] is None


def test_post_sends_the_json_body(server):
    server.routes["/query"] = (200, {"value": 0.42})
    out = run([web_metric(server.url + "/query", successCondition="result < 0.5",
                          web={"method": "POST", "jsonBody": {"window": "5m"}, "jsonPath": "$.value"})])
    assert out.phase == "Successful", out.message
    request = server.requests[0]
    assert request["method"] == "POST" and request["body"] == b'{"window": "5m"}'
    assert request["headers"]["Content-Type"] == "application/json"
    measurement = out.to_dict()["metrics"][0]["measurements"][0]
    assert measurement["value"] == "0.42" and measurement["number"] == 0.42


@pytest.mark.parametrize("path,expected,number", [
    ("{$.data.rate}", 0.99, 0.99),
    ("{.data.pods[1].ready}", 0, 0.0),
    ("$.data.pods[-1].ready", 0, 0.0),
    ("{$.data.pods[*].ready}", [1, 0], [1.0, 0.0]),
    ("$['data']['name']", "checkout", None),
    ("{$}", {"data": {"rate": 0.99, "pods": [{"ready": 1}, {"ready": 0}], "name": "checkout"}}, None),
])
def test_json_path_values(server, path, expected, number):
    server.routes["/v"] = (200, {"data": {"rate": 0.99, "pods": [{"ready": 1}, {"ready": 0}], "name": "checkout"}})
    value = an.WebProvider().measure(an.build_metrics({"metrics": [web_metric(server.url + "/v",
                                                                              web={"jsonPath": path})]})[0])
    assert value.bound == expected and value.number == number


def test_wildcard_list_in_a_condition_and_no_json_path_binds_the_whole_body(server):
    server.routes["/pods"] = (200, {"pods": [{"ready": 1}, {"ready": 1}]})
    server.routes["/text"] = (200, b"OK")
    out = run([web_metric(server.url + "/pods", name="all-ready", successCondition="all(result, {# == 1})",
                          web={"jsonPath": "{$.pods[*].ready}"}),
               web_metric(server.url + "/text", name="text", successCondition='result == "OK"')])
    assert out.phase == "Successful", out.message


@pytest.mark.parametrize("success,failure,value,phase", [
    ("result >= 0.9", None, 0.95, "Successful"),
    ("result >= 0.9", None, 0.5, "Failed"),
    ("result >= 0.9", "result < 0.5", 0.7, "Inconclusive"),
    ("result > 0.1", "result > 0.2", 0.7, "Failed"),       # failure wins
    ("result.nope > 1", None, 0.7, "Error"),               # an evaluation error
])
def test_same_verdicts_as_argo(server, success, failure, value, phase):
    server.routes["/v"] = (200, {"v": value})
    fields = {"successCondition": success}
    if failure:
        fields["failureCondition"] = failure
    assert run([web_metric(server.url + "/v", web={"jsonPath": "$.v"}, **fields)]).phase == phase


def test_a_null_answer_never_passes_unless_argo_is_asked(server):
    server.routes["/null"] = (200, {"v": None})
    metric = web_metric(server.url + "/null", failureCondition="result == false", web={"jsonPath": "$.v"})
    out = run([metric])
    assert out.phase == "Failed" and "no data (nil)" in out.to_dict()["metrics"][0]["measurements"][0]["message"]
    assert run([metric], on_empty="argo").phase == "Successful"


def test_a_non_2xx_answer_is_an_error(server):
    server.routes["/down"] = (503, {"error": "unavailable"})
    out = run([web_metric(server.url + "/down", successCondition="result == true")])
    assert out.phase == "Error"
    assert "received non 2xx response code: 503" in out.message


def test_a_path_that_finds_nothing_is_an_error(server):
    server.routes["/v"] = (200, {"data": {}})
    out = run([web_metric(server.url + "/v", successCondition="result == true", web={"jsonPath": "{$.data.ok}"})])
    assert out.phase == "Error" and "Could not find JSONPath in body: $.data.ok is not found" in out.message


def test_an_answer_later_than_timeout_seconds_is_an_error(server):
    server.routes["/hold"] = (200, {"ok": True})
    out = run([web_metric(server.url + "/hold", successCondition="result.ok", web={"timeoutSeconds": 1})])
    server.release.set()
    assert out.phase == "Error"
    assert "did not answer within 1s" in out.message


def test_an_unreachable_server_is_an_error():
    out = run([web_metric("http://127.0.0.1:1/x", successCondition="result == true")])
    assert out.phase == "Error" and "is unreachable" in out.message


def test_credentials_in_headers_and_urls_never_show(server):
    server.routes["/echo"] = (500, {"error": "bad token"})
    metric = web_metric("http://bob:hunter22@127.0.0.1:%s/echo" % server.url.rsplit(":", 1)[1],
                        successCondition="result == true",
                        web={"headers": [{"key": "Authorization", "value": "Bearer s3cr3t-t0ken"}]})
    out = run([metric])
    assert out.phase == "Error"
    assert server.requests[0]["headers"]["Authorization"] == "Bearer s3cr3t-t0ken"
    text = repr(out.to_dict())
    assert "hunter22" not in text and "s3cr3t-t0ken" not in text and "bob:***@" in text


@pytest.mark.parametrize("web,message", [
    ({"url": ""}, "provider.web.url is empty"),
    ({"url": "ftp://host/x"}, "is not an http(s) URL"),
    ({"url": "http://h/x", "method": "DELETE"}, "provider.web.method must be one of GET, POST, PUT"),
    ({"url": "http://h/x", "body": "{}"}, "can only be used with POST or PUT"),
    ({"url": "http://h/x", "method": "POST", "body": "x", "jsonBody": {"a": 1}}, "cannot both be set"),
    ({"url": "http://h/x", "headers": [{"key": "A"}]}, "headers must be a list of {key, value}"),
    ({"url": "http://h/x", "timeoutSeconds": 0}, "timeoutSeconds must be more than 0"),
    ({"url": "http://h/x", "jsonPath": "{$.a[?(@.b)]}"}, "jsonPath does not parse"),
    ({"url": "http://h/x", "insecure": "yes"}, "insecure must be true or false"),
])
def test_invalid_web_specs_are_refused_before_anything_runs(web, message):
    with pytest.raises(an.AnalysisSpecError) as info:
        an.build_metrics({"metrics": [{"name": "m", "provider": {"web": web}}]})
    assert message in str(info.value)


def test_an_unsupported_provider_names_the_metric_and_the_supported_ones():
    with pytest.raises(an.AnalysisSpecError) as info:
        an.build_metrics({"metrics": [{"name": "dd", "provider": {"datadog": {"query": "x"}}}]})
    assert str(info.value) == ("metrics[0] (dd) uses the datadog provider, which is not supported "
                               "(supported providers: prometheus, web)")


@pytest.mark.parametrize("path,document,message", [
    ("$.a.b", {"a": 1}, "$.a is a number, not an object, at $.a.b"),
    ("$.a[3]", {"a": [1]}, "$.a[3] is out of range (1 items)"),
    ("$.a[*]", {"a": 1}, "$.a is a number, not a list or an object, at $.a[*]"),
])
def test_json_path_errors_say_where(path, document, message):
    with pytest.raises(JSONPathError) as info:
        JSONPath(path).find(document)
    assert str(info.value) == message


def test_validate_mode_measures_a_web_metric(server):
    server.routes["/v"] = (200, {"v": 3})
    metrics = an.build_metrics({"metrics": [web_metric(server.url + "/v", web={"jsonPath": "$.v"})]}, "validate")
    entries = an.validate(metrics, None)
    assert entries[0]["valid"] is True and entries[0]["value"] == "3" and entries[0]["number"] == 3.0
