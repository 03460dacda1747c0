"""Prometheus client: result typing, Argo's binding, and errors that say what to fix.

HTTP answers come from a small local server playing the Prometheus API's error shapes
(a real Prometheus is used by the integration tier; it cannot be made to answer 401 or 503)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils.prometheus import (
    PrometheusClient, PrometheusError, QueryResult, format_sample)


def test_vector_binds_to_list_and_displays_like_argo():
    r = QueryResult("vector", [{"metric": {"a": "1"}, "value": [0, "0.99"]},
                               {"metric": {"a": "2"}, "value": [0, "10"]}])
    assert r.bind() == [0.99, 10.0]
    assert r.display() == "[0.99,10]"
    assert not r.is_empty()


def test_scalar_matrix_and_special_values():
    assert QueryResult("scalar", [0, "NaN"]).display() == "NaN"
    assert QueryResult("scalar", [0, "+Inf"]).bind() == float("inf")
    m = QueryResult("matrix", [{"metric": {}, "values": [[1, "11"], [2, "12"]]},
                               {"metric": {}, "values": [[1, "13"]]}])
    assert m.bind() == [11.0, 12.0, 13.0]
    assert QueryResult("vector", []).is_empty()
    assert QueryResult("vector", [{"metric": {}, "value": [0, "NaN"]}]).is_empty()
    assert format_sample(-float("inf")) == "-Inf"
    with pytest.raises(PrometheusError):
        QueryResult("streams", [])


class Handler(BaseHTTPRequestHandler):
    answers = {}

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        Handler.seen_auth = self.headers.get("Authorization")
        code, body = Handler.answers[self.path]
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def answer(code, body):
    Handler.answers["/api/v1/query"] = (code, body)


def test_success_and_auth_header(server):
    answer(200, {"status": "success", "data": {"resultType": "vector",
                                               "result": [{"metric": {}, "value": [1, "1"]}]}})
    r = PrometheusClient(server, token="t0k").query("up")
    assert r.bind() == [1.0]
    assert Handler.seen_auth == "Bearer t0k"
    PrometheusClient(server, username="u", password="p").query("up")
    assert Handler.seen_auth == "Basic dTpw"


@pytest.mark.parametrize("code,body,kind,text", [
    (400, {"status": "error", "errorType": "bad_data", "error": "1:5: parse error: unexpected"},
     "bad_data", "Prometheus rejected the query (bad_data): 1:5: parse error"),
    (503, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"},
     "timeout", "(timeout): query timed out"),
    (401, "Unauthorized", "http", "check prometheus_token"),
    (200, "<html>grafana</html>", "invalid_response", "not JSON"),
])
def test_errors_quote_prometheus(server, code, body, kind, text):
    answer(code, body)
    with pytest.raises(PrometheusError) as info:
        PrometheusClient(server).query("up")
    assert info.value.kind == kind
    assert text in info.value.message


def test_unreachable_names_the_address():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(PrometheusError) as info:
        PrometheusClient("http://127.0.0.1:%d" % port).query("up")
    assert info.value.kind == "unreachable"
    assert "127.0.0.1:%d is unreachable" % port in info.value.message


@pytest.mark.parametrize("url", ["", "prometheus:9090", "ftp://x"])
def test_bad_address(url):
    with pytest.raises(PrometheusError) as info:
        PrometheusClient(url)
    assert "not a URL with scheme and host" in info.value.message


def test_token_and_basic_auth_conflict():
    with pytest.raises(PrometheusError):
        PrometheusClient("http://x:1", token="a", username="b")


def test_missing_ca_file_is_a_config_error(tmp_path):
    with pytest.raises(PrometheusError) as info:
        PrometheusClient("https://127.0.0.1:1", ca_file=str(tmp_path / "missing.pem")).query("up")
    assert info.value.kind == "config"
    assert "prometheus_ca_file" in info.value.message
