"""analysis_check through ansible-playbook against the real Prometheus server and real apps."""

import os

import harness
from conftest import HASHES

FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")
TEMPLATES = os.path.join(FILES, "slo-templates.yaml")


def task(body, name="analysis"):
    return """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: %s
      progressive.delivery.analysis_check:
%s
""" % (name, "\n".join("        " + line for line in body.strip("\n").splitlines()))


def analysis(playbook, body, **kwargs):
    rc, tasks, out = playbook(task(body), **kwargs)
    assert len(tasks) == 1, out
    return rc, tasks[0]


def file_body(prometheus, names, hash_, extra=""):
    return """
template_file: %s
template_name: %s
prometheus_url: %s
args:
  canary-hash: "%s"
%s""" % (TEMPLATES, names, prometheus.url, hash_, extra)


def test_healthy_app_is_successful(playbook, prometheus):
    rc, result = analysis(playbook, file_body(prometheus, "[success-rate, latency-p95]", HASHES["healthy"]))
    assert rc == 0, result
    assert result["phase"] == "Successful"
    assert result["changed"] is False
    names = [m["name"] for m in result["metrics"]]
    assert names == ["success-rate", "latency-p95"]
    success = result["metrics"][0]
    assert success["count"] == 2  # count: 2 with interval 2s: the full loop ran
    values = [float(m["value"].strip("[]")) for m in success["measurements"]]
    assert all(v >= 0.95 for v in values), values
    assert HASHES["healthy"] in success["query"]  # args substituted into the query


def test_app_at_20_percent_errors_fails(playbook, prometheus):
    rc, result = analysis(playbook, file_body(prometheus, "[success-rate]", HASHES["bad"]))
    assert rc != 0
    assert result["failed"] is True
    assert result["phase"] == "Failed"
    assert 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)' in result["message"]
    value = float(result["metrics"][0]["measurements"][0]["value"].strip("[]"))
    assert 0.7 < value < 0.9  # the app's 20% errors, measured through Prometheus


def test_slow_app_fails_latency(playbook, prometheus):
    rc, result = analysis(playbook, file_body(prometheus, "[latency-p95]", HASHES["slow"]))
    assert result["phase"] == "Failed"
    assert rc != 0


def test_query_with_no_data_fails_not_passes(playbook, prometheus):
    rc, result = analysis(playbook, file_body(prometheus, "[success-rate]", "0000000000", "mode: once"))
    assert rc != 0
    assert result["phase"] == "Failed"
    assert result["metrics"][0]["measurements"][0]["value"] == "[]"
    assert "no data" in result["message"]
    # an unguarded condition on no data is an Error, which fails the task too
    rc, result = analysis(playbook, file_body(prometheus, "[unguarded]", "0000000000", "mode: once"))
    assert rc != 0
    assert result["phase"] == "Error"
    assert "metric result is nil or empty" in result["message"]


def test_no_data_fails_even_when_the_condition_allows_it(playbook, prometheus):
    body = """
template: !unsafe
  metrics:
    - name: lenient
      successCondition: len(result) == 0 || result[0] > 0.9
      provider:
        prometheus:
          query: sum(rate(http_requests_total{pod="nothing-here"}[10s]))
prometheus_url: %s
mode: once
""" % prometheus.url
    rc, result = analysis(playbook, body)
    assert rc != 0 and result["phase"] == "Failed"
    assert "no data never passes" in result["message"]
    rc, result = analysis(playbook, body + "on_empty: argo\n")
    assert rc == 0 and result["phase"] == "Successful"  # Argo's own verdict, when asked for


def test_malformed_promql_is_a_clear_error(playbook, prometheus):
    rc, result = analysis(playbook, """
template_file: %s
template_name: malformed
prometheus_url: %s
mode: once
""" % (TEMPLATES, prometheus.url))
    assert rc != 0
    assert result["phase"] == "Error"
    assert 'Metric "broken-query" assessed Error' in result["message"]
    assert "Prometheus rejected the query (bad_data)" in result["message"]
    assert "parse error" in result["message"]  # Prometheus's own words


def test_prometheus_down_is_a_clear_error(playbook, prometheus):
    port = harness.free_port()
    rc, result = analysis(playbook, file_body(
        prometheus, "[success-rate]", HASHES["healthy"], "mode: once").replace(
        prometheus.url, "http://127.0.0.1:%d" % port))
    assert rc != 0
    assert result["phase"] == "Error"
    assert "Prometheus at http://127.0.0.1:%d is unreachable" % port in result["message"]
    assert "prometheus_url" in result["message"]


def test_inline_template_with_unsafe_and_filters(playbook, prometheus):
    """An inline template keeps {{args.x}} and {# ...} away from Jinja with !unsafe; the query
    itself comes from the collection's PromQL builder filter, scoped to the canary's pods."""
    text = """
- hosts: localhost
  gather_facts: false
  vars:
    error_query: "{{ {'namespace': 'shop'} | progressive.delivery.promql_error_rate(pod_hash='%s', window='10s') }}"
    interval_s: "{{ '1m30s' | progressive.delivery.duration_seconds }}"
  tasks:
    - name: Gate
      progressive.delivery.analysis_check:
        template: !unsafe
          kind: AnalysisTemplate
          metadata:
            name: inline-error-rate
          spec:
            args:
              - name: query
            metrics:
              - name: error-rate
                successCondition: all(result, {# < 0.05})
                provider:
                  prometheus:
                    query: "{{args.query}}"
        args:
          query: "{{ error_query }}"
        prometheus_url: %s
        mode: once
    - name: Seconds
      ansible.builtin.debug:
        var: interval_s
""" % (HASHES["healthy"], prometheus.url)
    rc, tasks, out = playbook(text)
    assert rc == 0, out
    gate = tasks[0]
    assert gate["phase"] == "Successful"
    assert 'pod=~".*-%s-.*"' % HASHES["healthy"] in gate["metrics"][0]["query"]
    assert 'code=~"5.."' in gate["metrics"][0]["query"]
    assert float(tasks[1]["interval_s"]) == 90.0


def test_validate_mode(playbook, prometheus):
    rc, result = analysis(playbook, file_body(prometheus, "[success-rate, latency-p95]", HASHES["healthy"],
                                              "mode: validate"))
    assert rc == 0 and result["valid"] is True and result["phase"] is None
    rc, result = analysis(playbook, file_body(prometheus, "[success-rate]", "0000000000", "mode: validate"))
    assert rc != 0 and result["valid"] is False
    assert "success-rate: query returned no data" in result["msg"]


def test_check_mode_runs_read_only_queries(playbook, prometheus):
    rc, result = analysis(playbook, file_body(prometheus, "[success-rate]", HASHES["healthy"], "mode: once"),
                          check=True)
    assert rc == 0
    assert result["phase"] == "Successful"
    assert "check mode" in result["msg"]
    assert result["changed"] is False


def test_unknown_template_and_missing_arg_are_named(playbook, prometheus):
    rc, result = analysis(playbook, file_body(prometheus, "[no-such-template]", "x"))
    assert rc != 0
    assert "AnalysisTemplate 'no-such-template' not found in %s" % TEMPLATES in result["msg"]
    assert "success-rate" in result["msg"]  # says what the file does have
    rc, result = analysis(playbook, """
template_file: %s
template_name: success-rate
prometheus_url: %s
""" % (TEMPLATES, prometheus.url))
    assert rc != 0
    assert "args.canary-hash was not resolved" in result["msg"]


def test_secrets_are_not_logged(playbook, prometheus):
    rc, result = analysis(playbook, file_body(prometheus, "[success-rate]", HASHES["healthy"],
                                              "mode: once\nprometheus_token: tok-12345-secret"))
    assert rc == 0
    assert "tok-12345-secret" not in str(result)
