"""The gate fails closed and secrets never show (issue 16, points 6 and 9), through ansible-playbook.

Prometheus cannot be made to answer in the wrong shape, trickle its answer or demand credentials, so a
real HTTP server from http.server on 127.0.0.1 plays those answers; the module, Ansible and the HTTP
client are the real ones. Secret arguments come from the Kubernetes tier (a real cluster when
K8S_AUTH_KUBECONFIG is set, else the local Kubernetes API test server)."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import yaml

import harness

TEMPLATE = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "success-rate"},
    "spec": {"metrics": [{"name": "success-rate", "successCondition": "len(result) > 0 && result[0] >= 0.95",
                          "provider": {"prometheus": {"query": "sum(rate(http_requests_total[1m]))"}}}]}}

GOOD = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "0.99"]}]}}


def shaped(data):
    return {"status": "success", "data": data}


# each malformed answer the issue lists, and what the error must say about it
MALFORMED = {
    "result-null": (shaped({"resultType": "vector", "result": None}), "vector data.result is null, not a list of samples"),
    "result-string": (shaped({"resultType": "vector", "result": "0.99"}), "vector data.result is the string '0.99'"),
    "missing-value": (shaped({"resultType": "vector", "result": [{"metric": {"pod": "a"}}]}),
                      'vector data.result[0] is an object without "value"'),
    "data-list": (shaped([]), "data is a list of 0, not an object"),
    "null-scalar": (shaped({"resultType": "scalar", "result": None}), "scalar data.result is null"),
    "null-sample": (shaped({"resultType": "scalar", "result": [1, None]}), "scalar data.result[1] (the sample value) is null"),
    "bad-matrix": (shaped({"resultType": "matrix", "result": [{"metric": {}, "values": [[1], [2, "1"]]}]}),
                   'matrix data.result[0].values[0] is a list of 1, not a [time, "value"] pair'),
    "true-value": (shaped({"resultType": "vector", "result": [{"metric": {}, "value": [1, True]}]}),
                   "vector data.result[0].value[1] (the sample value) is true, not a number in a string"),
}

TOKEN = "tok-4f9a2c"
USER, PASSWORD = "alice", "pa55word-7d1e"
TRICKLE_SECONDS = 300  # one byte every 0.5 s for 5 minutes, unless the client hangs up


class FakePrometheus(object):
    """Answers ``/<case>/api/v1/query`` as the case says; records what it was asked."""

    def __init__(self):
        self.seen = []
        self.stop_trickle = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                case = self.path.strip("/").split("/")[0]
                fake.seen.append((case, form.get("query", [""])[0], self.headers.get("Authorization")))
                fake.answer(self, case)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def url(self, case, userinfo=""):
        return "http://%s127.0.0.1:%d/%s" % (userinfo, self.server.server_address[1], case)

    @staticmethod
    def send(handler, code, body, headers=()):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        handler.send_response(code)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def answer(self, handler, case):
        auth = handler.headers.get("Authorization")
        if case in MALFORMED:
            return self.send(handler, 200, MALFORMED[case][0])
        if case == "good":
            return self.send(handler, 200, GOOD)
        if case == "token":
            return self.send(handler, 200, GOOD) if auth == "Bearer " + TOKEN else self.send(handler, 401, b"Unauthorized")
        if case == "basic":
            expected = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
            if auth == expected:
                return self.send(handler, 200, GOOD)
            return self.send(handler, 401, b"Unauthorized", [("WWW-Authenticate", 'Basic realm="prometheus"')])
        if case == "trickle":
            return self.trickle(handler)
        return self.send(handler, 404, b"no such case")

    def trickle(self, handler):
        try:
            handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
            handler.wfile.flush()
            for _i in range(TRICKLE_SECONDS * 2):
                if self.stop_trickle.wait(0.5):
                    return
                handler.wfile.write(b" ")
                handler.wfile.flush()
        except OSError:
            pass  # the client hung up: what it should do at its timeout

    def stop(self):
        self.stop_trickle.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_prometheus():
    fake = FakePrometheus()
    yield fake
    fake.stop()


@pytest.fixture
def template_file(tmp_path):
    path = tmp_path / "success-rate.yaml"
    path.write_text(yaml.safe_dump(TEMPLATE))
    return str(path)


def playbook_of(tasks):
    body = []
    for name, options in tasks:
        lines = ["    - name: %s" % name, "      ignore_errors: true", "      progressive.delivery.analysis_check:"]
        lines += ["        " + line for line in yaml.safe_dump(options, default_flow_style=False, width=1000).splitlines()]
        body.append("\n".join(lines))
    return "- hosts: localhost\n  gather_facts: false\n  tasks:\n%s\n" % "\n".join(body)


def assert_no_traceback(result, out):
    assert "Traceback" not in out, out[-3000:]
    # ansible-core 2.19 puts "(traceback unavailable)" in every fail_json result; a crash would put a traceback
    assert "Traceback" not in str(result.get("exception", "")), result.get("exception")
    assert "MODULE FAILURE" not in result.get("msg", ""), result


def test_every_malformed_answer_is_an_error_naming_the_metric(playbook, fake_prometheus, template_file):
    tasks = [(case, {"template_file": template_file, "prometheus_url": fake_prometheus.url(case), "mode": "once"})
             for case in MALFORMED]
    rc, results, out = playbook(playbook_of(tasks))
    assert rc == 0, out[-3000:]  # every task failed, and was ignored
    assert [r["_task"] for r in results] == list(MALFORMED)
    for result in results:
        _body, what = MALFORMED[result["_task"]]
        assert_no_traceback(result, out)
        assert result["failed"] is True, result
        assert result["phase"] == "Error", result
        assert result["message"].startswith('Metric "success-rate" assessed Error'), result["message"]
        assert "Prometheus returned a malformed answer: " + what in result["message"], result["message"]
        measurement = result["metrics"][0]["measurements"][0]
        assert measurement["phase"] == "Error" and measurement["value"] == ""


def test_the_same_answers_in_run_and_validate_mode_never_pass(playbook, fake_prometheus, template_file):
    tasks = [("run-" + case, {"template_file": template_file, "prometheus_url": fake_prometheus.url(case),
                              "max_duration": "2s"}) for case in ("result-null", "true-value")]
    tasks += [("validate-" + case, {"template_file": template_file, "prometheus_url": fake_prometheus.url(case),
                                    "mode": "validate"}) for case in ("missing-value", "true-value")]
    rc, results, out = playbook(playbook_of(tasks))
    assert rc == 0, out[-3000:]
    for result in results:
        assert_no_traceback(result, out)
        assert result["failed"] is True, result
        if result["_task"].startswith("run-"):
            # one error, then no time for its 10 s retry: Error, not a terminated "Successful"
            assert result["phase"] == "Error", result
            assert "analysis exceeded max_duration 2s (wall clock)" in result["message"], result["message"]
        else:
            assert result["valid"] is False
            assert "success-rate: Prometheus returned a malformed answer" in result["msg"], result["msg"]


def test_a_trickling_server_is_cut_at_prometheus_timeout(playbook, fake_prometheus, template_file):
    options = {"template_file": template_file, "prometheus_url": fake_prometheus.url("trickle"),
               "prometheus_timeout": 3, "max_duration": "5s"}
    started = time.monotonic()
    rc, results, out = playbook(playbook_of([("trickle", options)]))
    elapsed = time.monotonic() - started
    result = results[0]
    print("trickle: analysis took %.1f s, ansible-playbook %.1f s (prometheus_timeout 3, max_duration 5s; the "
          "server would trickle for %d s)" % (result.get("duration_seconds") or -1, elapsed, TRICKLE_SECONDS))
    assert rc == 0, out[-3000:]
    assert_no_traceback(result, out)
    assert result["phase"] == "Error", result
    assert "did not answer within 3s" in result["message"], result["message"]
    assert "analysis exceeded max_duration 5s (wall clock)" in result["message"], result["message"]
    # not a timing assertion: proof that the run did not wait for the 300 s trickle
    assert elapsed < 60, elapsed


def test_credentials_never_show(playbook, fake_prometheus, template_file):
    closed = harness.free_port()
    creds = "%s:%s@" % (USER, PASSWORD)
    tasks = [
        ("token with a trailing newline", {"template_file": template_file, "prometheus_url": fake_prometheus.url("token"),
                                           "prometheus_token": TOKEN + "\n", "mode": "once"}),
        ("url credentials that work", {"template_file": template_file, "mode": "once",
                                       "prometheus_url": fake_prometheus.url("basic", creds)}),
        ("url credentials in an error", {"template_file": template_file, "mode": "once",
                                         "prometheus_url": "http://%s127.0.0.1:%d" % (creds, closed)}),
        ("url credentials in validate", {"template_file": template_file, "mode": "validate",
                                         "prometheus_url": "http://%s127.0.0.1:%d" % (creds, closed)}),
        ("token with a line break inside", {"template_file": template_file, "mode": "once",
                                            "prometheus_url": fake_prometheus.url("token"),
                                            "prometheus_token": TOKEN[:4] + "\n" + TOKEN[4:]}),
    ]
    rc, results, out = playbook(playbook_of(tasks))
    assert rc == 0, out[-3000:]
    for result in results:
        assert_no_traceback(result, out)
    token, works, error, validate, broken = results
    assert token["phase"] == "Successful", token
    assert works["phase"] == "Successful", works
    assert error["phase"] == "Error"
    assert "http://alice:***@127.0.0.1:%d is unreachable" % closed in error["message"], error["message"]
    assert validate["valid"] is False and "http://alice:***@127.0.0.1:%d" % closed in validate["msg"]
    assert broken["phase"] == "Error"
    assert "the bearer token (prometheus_token) for Prometheus at" in broken["message"]
    assert "line break" in broken["message"]
    assert PASSWORD not in out  # anywhere in what ansible-playbook printed, invocation included
    assert TOKEN[4:] not in out
    assert ("Bearer " + TOKEN) in [auth for case, _q, auth in fake_prometheus.seen if case == "token"]


def test_secret_args_never_show_in_query_or_validate(playbook, fake_prometheus, kube):
    kubeconfig, client, namespace = kube
    secret = "sup3r-s3cret-9b2f"
    client.resources.get(api_version="v1", kind="Secret").create(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "prom-key"},
         "data": {"key": base64.b64encode(secret.encode()).decode()}}, namespace=namespace)
    template = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "keyed-rate"},
        "spec": {"args": [{"name": "key", "valueFrom": {"secretKeyRef": {"name": "prom-key", "key": "key"}}}],
                 "metrics": [{"name": "keyed-rate", "successCondition": "len(result) > 0 && result[0] >= 0.95",
                              "provider": {"prometheus": {"query": 'sum(rate(http_requests_total{key="{{args.key}}"}[1m]))'}}}]}}
    client.resources.get(api_version="argoproj.io/v1alpha1", kind="AnalysisTemplate").create(template, namespace=namespace)
    common = {"template_name": ["keyed-rate"], "namespace": namespace, "kubeconfig": kubeconfig}
    tasks = [("run", dict(common, prometheus_url=fake_prometheus.url("good"), mode="once")),
             ("validate", dict(common, prometheus_url=fake_prometheus.url("good"), mode="validate")),
             ("error", dict(common, prometheus_url=fake_prometheus.url("true-value"), mode="once"))]
    rc, results, out = playbook(playbook_of(tasks))
    assert rc == 0, out[-3000:]
    run, validate, error = results
    expected = 'sum(rate(http_requests_total{key="***"}[1m]))'
    assert run["phase"] == "Successful", run
    assert run["metrics"][0]["query"] == expected
    assert validate["valid"] is True and validate["metrics"][0]["query"] == expected
    assert error["phase"] == "Error" and error["metrics"][0]["query"] == expected
    assert secret not in out
    # the real value was sent to Prometheus: only what is shown is redacted
    assert [q for _c, q, _a in fake_prometheus.seen] == [expected.replace("***", secret)] * 3
