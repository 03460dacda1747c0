"""A template with a web metric through analysis_check (ansible-playbook), against a real HTTP server on loopback:
Argo's verdicts, a non-2xx answer and a timeout as Errors, a template file that mixes web and Prometheus metrics."""

import os
import sys

import pytest

from conftest import HASHES

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit"))
from webserver import WebServer  # noqa: E402  pylint: disable=wrong-import-position

TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: web-health
spec:
  args:
    - name: service
    - name: token
  metrics:
    - name: health
      successCondition: result == true
      provider:
        web:
          url: "%(url)s/health/{{args.service}}"
          headers:
            - key: Authorization
              value: "Bearer {{args.token}}"
          timeoutSeconds: 2
          jsonPath: "{$.data.ok}"
    - name: error-budget
      successCondition: result[0] >= 0.5
      failureCondition: result[0] < 0.2
      provider:
        web:
          url: "%(url)s/budget/{{args.service}}"
          method: POST
          jsonBody: {window: 5m}
          jsonPath: "{$.budgets[*].left}"
"""


@pytest.fixture
def server():
    with WebServer() as s:
        yield s


def check(playbook, tmp_path, server, service, extra=""):
    path = tmp_path / "web-template.yaml"
    path.write_text(TEMPLATE % {"url": server.url})
    rc, tasks, out = playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: analysis
      progressive.delivery.analysis_check:
        template_file: %s
        args:
          service: %s
          token: s3cr3t-t0ken
        mode: once
%s
""" % (path, service, extra))
    assert len(tasks) == 1, out
    return rc, tasks[0], out


def test_a_healthy_web_metric_passes(playbook, tmp_path, server):
    server.routes["/health/checkout"] = (200, {"data": {"ok": True}})
    server.routes["/budget/checkout"] = (200, {"budgets": [{"left": 0.8}, {"left": 0.6}]})
    rc, result, out = check(playbook, tmp_path, server, "checkout")
    assert rc == 0, out
    assert result["phase"] == "Successful"
    health, budget = result["metrics"]
    assert health["provider"] == "web" and health["measurements"][0]["value"] == "true"
    assert budget["measurements"][0]["number"] == [0.8, 0.6]
    by_path = dict((r["path"], r) for r in server.requests)
    assert by_path["/health/checkout"]["headers"]["Authorization"] == "Bearer s3cr3t-t0ken"
    assert by_path["/health/checkout"]["method"] == "GET" and by_path["/budget/checkout"]["method"] == "POST"
    assert by_path["/budget/checkout"]["body"] == b'{"window": "5m"}'


@pytest.mark.parametrize("ok,left,phase", [
    (False, 0.8, "Failed"),
    (True, 0.3, "Inconclusive"),
    (True, 0.1, "Failed"),
])
def test_argo_verdicts(playbook, tmp_path, server, ok, left, phase):
    server.routes["/health/checkout"] = (200, {"data": {"ok": ok}})
    server.routes["/budget/checkout"] = (200, {"budgets": [{"left": left}]})
    rc, result, _out = check(playbook, tmp_path, server, "checkout")
    assert result["phase"] == phase
    assert (rc != 0) == (phase == "Failed")


def test_a_non_2xx_answer_and_a_timeout_are_errors_and_secrets_never_show(playbook, tmp_path, server):
    server.holds.add("/health/hold")
    server.routes["/health/hold"] = (200, {"data": {"ok": True}})
    server.routes["/budget/hold"] = (503, {"error": "down"})
    rc, result, out = check(playbook, tmp_path, server, "hold")
    assert rc != 0 and result["phase"] == "Error"
    messages = [m["measurements"][0]["message"] for m in result["metrics"]]
    assert any("did not answer within 2s" in text for text in messages), messages   # /health/hold never answers
    assert any("received non 2xx response code: 503" in text for text in messages), messages
    assert "s3cr3t-t0ken" not in out


def test_a_template_mixing_web_and_prometheus(playbook, tmp_path, server, prometheus):
    server.routes["/health/checkout"] = (200, {"data": {"ok": True}})
    path = tmp_path / "mixed.yaml"
    path.write_text("""
kind: AnalysisTemplate
metadata: {name: mixed}
spec:
  metrics:
    - name: health
      successCondition: result == true
      provider: {web: {url: "%s/health/checkout", jsonPath: "{$.data.ok}"}}
    - name: requests
      successCondition: len(result) > 0 && result[0] > 0
      provider: {prometheus: {query: 'sum(rate(http_requests_total{pod=~".*-%s-.*"}[10s]))'}}
""" % (server.url, HASHES["healthy"]))
    rc, tasks, out = playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - progressive.delivery.analysis_check:
        template_file: %s
        prometheus_url: %s
        mode: once
""" % (path, prometheus.url))
    assert rc == 0, out
    assert [m["provider"] for m in tasks[0]["metrics"]] == ["web", "prometheus"]
