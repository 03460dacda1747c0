"""Prometheus client: result typing, Argo's binding, and errors that say what to fix.

HTTP answers come from a small local server playing the Prometheus API's error shapes
(a real Prometheus is used by the integration tier; it cannot be made to answer 401 or 503)."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
        Handler.seen_headers = self.headers  # case-insensitive
        answer = Handler.answers[self.path]
        if callable(answer):
            answer(self)
            return
        code, body = answer
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
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


# ---------------------------------------------------------------- answers of the wrong shape fail closed

def success(data):
    return {"status": "success", "data": data}


@pytest.mark.parametrize("payload,where", [
    (success({"resultType": "vector", "result": None}), "vector data.result is null, not a list of samples"),
    (success({"resultType": "vector", "result": "0.99"}), "vector data.result is the string '0.99'"),
    (success({"resultType": "vector", "result": [{"metric": {}}]}), 'vector data.result[0] is an object without "value"'),
    (success([]), "data is a list of 0, not an object"),
    ({"status": "success"}, "data is null, not an object"),
    (success({"resultType": "vector"}), 'data is an object without "result"'),
    (success({"resultType": "scalar", "result": None}), "scalar data.result is null"),
    (success({"resultType": "scalar", "result": [1, None]}), "(the sample value) is null, not a number in a string"),
    (success({"resultType": "matrix", "result": [{"metric": {}, "values": [[1]]}]}),
     "matrix data.result[0].values[0] is a list of 1, not a [time, \"value\"] pair"),
    (success({"resultType": "matrix", "result": [{"metric": {}, "values": "1,2"}]}),
     "matrix data.result[0].values is the string '1,2', not a list of samples"),
    (success({"resultType": "matrix", "result": [{"metric": {}}]}), 'matrix data.result[0] is an object without "values"'),
    (success({"resultType": "vector", "result": [{"metric": {}, "value": [1, True]}]}),
     "vector data.result[0].value[1] (the sample value) is true, not a number in a string"),
    (success({"resultType": "vector", "result": [{"metric": {}, "value": [1, False]}]}), "is false"),
    (success({"resultType": "vector", "result": [{"metric": {}, "value": [1, 0.5]}]}),
     "is the number 0.5, not a number in a string"),
    (success({"resultType": "vector", "result": [{"metric": {}, "value": [1, "abc"]}]}),
     "is the string 'abc', not a number"),
    (success({"resultType": "vector", "result": [{"metric": {}, "value": [True, "1"]}]}), "(the sample time) is true"),
    (success({"resultType": "vector", "result": [{"metric": "x", "value": [1, "1"]}]}), "vector data.result[0].metric is"),
    (success({"resultType": "vector", "result": [{"metric": {}, "histogram": [1, {}]}]}), "native histogram"),
    (success({"resultType": 7, "result": []}), "data.resultType is the number 7"),
    ({"status": "pending", "data": {}}, "status is the string 'pending'"),
    ([1, 2], "returned JSON a list of 2, not an object"),
])
def test_malformed_answers_are_errors_that_say_what_is_wrong(server, payload, where):
    answer(200, payload)
    with pytest.raises(PrometheusError) as info:
        PrometheusClient(server).query("up")
    assert info.value.kind == "invalid_response"
    assert where in info.value.message


def test_json_true_is_never_one():
    with pytest.raises(PrometheusError):
        QueryResult("scalar", [0, True])
    with pytest.raises(PrometheusError):
        QueryResult("vector", [{"metric": {}, "value": [0, True]}])
    assert QueryResult("scalar", [0, "1"]).bind() == 1.0


def test_string_result_is_not_a_metric_value():
    r = QueryResult("string", [0, "hello"])
    assert r.text == "hello"
    with pytest.raises(PrometheusError) as info:
        r.bind()
    assert "not supported: string" in info.value.message


# ---------------------------------------------------------------- one deadline for the whole query

def trickle(head, interval=0.2, count=100):
    """A handler that sends ``head`` then one byte every ``interval`` seconds, as a stuck proxy might."""
    def send(handler):
        try:
            handler.wfile.write(head)
            handler.wfile.flush()
            for _i in range(count):
                time.sleep(interval)
                handler.wfile.write(b" ")
                handler.wfile.flush()
        except OSError:
            pass  # the client gave up, as it should
    return send


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",  # a trickling body
    b"HTTP/1.1 200 OK\r\nX-Slow: ",  # trickling headers
])
def test_a_trickling_server_is_cut_at_the_timeout(server, head):
    Handler.answers["/api/v1/query"] = trickle(head)
    started = time.monotonic()
    with pytest.raises(PrometheusError) as info:
        PrometheusClient(server, timeout=1).query("up")
    elapsed = time.monotonic() - started
    assert info.value.kind == "timeout"
    assert "did not answer within 1s" in info.value.message
    assert elapsed < 15, elapsed  # the trickle lasts 20 s; the deadline is 1 s (a generous bound, not a timing test)


def test_a_shorter_timeout_from_the_caller_wins(server):
    Handler.answers["/api/v1/query"] = trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    with pytest.raises(PrometheusError) as info:
        PrometheusClient(server, timeout=30).query("up", timeout=0.5)
    assert "did not answer within 0.5s (the time left of the analysis)" in info.value.message


def test_a_connection_closed_mid_answer_is_an_error(server):
    def cut(handler):
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"status\": \"succ")
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)
    Handler.answers["/api/v1/query"] = cut
    with pytest.raises(PrometheusError) as info:
        PrometheusClient(server).query("up")
    assert info.value.kind == "unreachable"
    assert "closed the connection before its answer was complete" in info.value.message


def test_an_answer_that_is_not_http_is_an_error(server):
    def junk(handler):
        handler.wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n")
        handler.wfile.flush()
        handler.close_connection = True
    Handler.answers["/api/v1/query"] = junk
    with pytest.raises(PrometheusError) as info:
        PrometheusClient(server).query("up")
    assert "Prometheus at %s" % server in info.value.message


# ---------------------------------------------------------------- secrets never show

GOOD_ANSWER = success({"resultType": "vector", "result": [{"metric": {}, "value": [1, "1"]}]})


def test_a_token_with_a_trailing_newline_works(server):
    answer(200, GOOD_ANSWER)
    assert PrometheusClient(server, token="t0k3n-from-secret\n").query("up").bind() == [1.0]
    assert Handler.seen_auth == "Bearer t0k3n-from-secret"
    PrometheusClient(server, headers={"X-Scope-OrgID": " tenant-1\r\n"}).query("up")
    assert Handler.seen_headers.get("X-Scope-OrgID") == "tenant-1"


@pytest.mark.parametrize("options,what", [
    (dict(token="abc\ndef-secret"), "the bearer token (prometheus_token)"),
    (dict(token="abc\rdef-secret"), "the bearer token (prometheus_token)"),
    (dict(headers={"Authorization": "Bearer abc\ndef-secret"}), "header 'Authorization'"),
    (dict(headers={"X-Key": "def-secret\x00"}), "header 'X-Key'"),
])
def test_a_header_with_a_line_break_inside_is_refused_without_showing_it(options, what):
    with pytest.raises(PrometheusError) as info:
        PrometheusClient("http://127.0.0.1:1", **options)
    assert info.value.kind == "config"
    assert what in info.value.message
    assert "def-secret" not in info.value.message and "abc" not in info.value.message


def test_url_credentials_never_show(server):
    port = server.rsplit(":", 1)[1]
    with pytest.raises(PrometheusError) as info:
        PrometheusClient("http://alice:pa55word@127.0.0.1:1").query("up")
    assert "http://alice:***@127.0.0.1:1" in info.value.message
    assert "pa55word" not in info.value.message and "pa55word" not in str(info.value.url)
    answer(401, "Unauthorized")
    with pytest.raises(PrometheusError) as info:
        PrometheusClient("http://alice:pa55word@127.0.0.1:%s" % port).query("up")
    assert "alice:***@" in info.value.message and "pa55word" not in info.value.message
    with pytest.raises(PrometheusError) as info:
        PrometheusClient("http://pa55word@127.0.0.1:%s" % port).query("up")
    assert "http://***@127.0.0.1" in info.value.message and "pa55word" not in info.value.message
    with pytest.raises(PrometheusError) as info:
        PrometheusClient("alice:pa55word@127.0.0.1")
    assert "pa55word" not in info.value.message


def test_a_token_prometheus_echoes_is_redacted(server):
    answer(400, {"status": "error", "errorType": "bad_data", "error": "unexpected Bearer s3cr3t-t0ken in query"})
    with pytest.raises(PrometheusError) as info:
        PrometheusClient(server, token="s3cr3t-t0ken").query("up")
    assert "unexpected Bearer *** in query" in info.value.message
