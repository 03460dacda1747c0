"""The collection's own judges on real parts: the real Prometheus scraping real demo apps, analysis_check and
router_release through ansible-playbook, the real nginx.

- the sequential test (Wald's SPRT) says "worse" for the app with 20% errors at its first look, and "not
  worse" for the healthy one, with queries built by the promql_request_count / promql_error_count filters;
- the comparison fails a canary 30% slower than its baseline while an absolute latency SLO passes it, and
  passes a canary as fast as its baseline;
- a low-traffic canary holds Paused through router_release with the count named, and is never promoted.

Every load loop is bounded in requests and time; waits are bounded polls, never fixed sleeps."""

import json
import re
import time

import pytest

import harness
from conftest import HASHES

SEQ = "progressive-delivery/sequential"
CMP = "progressive-delivery/compare"


def gate(playbook, template_path, args, prometheus_url):
    """analysis_check with a template_file: its {{args.x}} tags never meet Jinja."""
    text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: gate
      progressive.delivery.analysis_check:
        template_file: %s
        args: %s
        prometheus_url: %s
""" % (template_path, json.dumps(args), prometheus_url)
    rc, tasks, out = playbook(text)
    assert len(tasks) == 1 and "metrics" in tasks[0], out[-3000:]
    return rc, tasks[0]


def by_name(result):
    return dict((m["name"], m) for m in result["metrics"])


# ---------------------------------------------------------------- the sequential test

SEQUENTIAL_PLAY = """
- hosts: localhost
  gather_facts: false
  vars:
    requests_query: "{{ {} | progressive.delivery.promql_request_count(pod_hash=canary_hash, window='30s') }}"
    errors_query: "{{ {} | progressive.delivery.promql_error_count(pod_hash=canary_hash, window='30s') }}"
  tasks:
    - name: error budget
      progressive.delivery.analysis_check:
        template: !unsafe
          kind: AnalysisTemplate
          metadata: {name: error-budget}
          spec:
            args: [{name: requests}, {name: errors}, {name: slo}]
            metrics:
              - name: error-budget
                interval: 2s
                count: 30
                inconclusiveLimit: 29        # "continue" keeps measuring ...
                consecutiveSuccessLimit: 1   # ... "not_worse" ends it Successful, "worse" Failed at once
                failureCondition: result.decision == "worse"
                successCondition: result.decision == "not_worse"
                provider:
                  plugin:
                    progressive-delivery/sequential:
                      requests: "{{args.requests}}"
                      errors: "{{args.errors}}"
                      slo: "{{args.slo}}"
                      worse: 3
                      minRequests: 100
        args: {requests: "{{ requests_query }}", errors: "{{ errors_query }}", slo: "{{ slo }}"}
        prometheus_url: "{{ prometheus_url }}"
"""


@pytest.mark.parametrize("app,slo,phase,decision", [
    ("bad", "0.999", "Failed", "worse"), ("healthy", "0.99", "Successful", "not_worse")])
def test_the_sequential_test_decides_on_the_canary_counts(playbook, prometheus, app, slo, phase, decision):
    rc, tasks, out = playbook(SEQUENTIAL_PLAY, extra_vars={"canary_hash": HASHES[app], "slo": slo,
                                                           "prometheus_url": prometheus.url})
    result = tasks[0]
    assert result["phase"] == phase, out[-3000:]
    assert (rc == 0) == (phase == "Successful")
    metric = by_name(result)["error-budget"]
    last = metric["measurements"][-1]
    assert last["value"].startswith(decision + ":")
    # "worse" fails at once, even short of minRequests (fail fast); a pass needs the minimum (pass slow)
    assert app == "bad" or last["samples"] >= 100
    errors, requests = map(int, re.match(r"\w+: (\d+) errors in (\d+) requests", last["value"]).groups())
    if app == "bad":
        assert 0.15 <= errors / requests <= 0.25
    else:
        assert errors == 0
    print("\nsequential %s: %s after %d measurement(s) (%s)" % (app, decision, metric["count"], last["value"]))


# ---------------------------------------------------------------- canary against baseline

def mean_latency(hash_):
    sel = '{pod=~".*-%s-.*"}' % hash_
    return ("sum(rate(http_request_duration_seconds_sum%s[5s])) / sum(rate(http_request_duration_seconds_count%s[5s]))"
            % (sel, sel))


@pytest.fixture(scope="module")
def latency_apps(tmp_path_factory):
    """Three apps of our own, bounded load: a baseline at 100 ms, a twin at 100 ms and a canary at 130 ms."""
    hashes = {"base": "7a1b2c3d4", "twin": "8e9f0a1b2", "slow": "9c8d7e6f5"}
    latency = {"base": 0.10, "twin": 0.10, "slow": 0.13}
    started = {}
    server = None
    try:
        for name in hashes:
            started[name] = harness.DemoApp(version=name, latency=latency[name], load_rps=8, load_seconds=180)
        server = harness.Prometheus([{"job": name, "address": "127.0.0.1:%d" % app.port,
                                      "labels": {"pod": "shop-%s-x%s" % (hashes[name], name)}}
                                     for name, app in started.items()], str(tmp_path_factory.mktemp("latency")))
        # enough history for a 40 s window at a 2 s step on every side (bounded wait)
        for h in hashes.values():
            harness.wait_for(lambda h=h: _points(server, mean_latency(h)) >= 16, 120, "40 s of latency for %s" % h,
                             interval=1.0)
        yield server, hashes
    finally:
        if server:
            server.stop()
        for app in started.values():
            app.stop()


def _points(server, promql):
    import urllib.parse
    import urllib.request
    end = time.time()
    data = urllib.parse.urlencode({"query": promql, "start": end - 40, "end": end, "step": 2}).encode()
    with urllib.request.urlopen(server.url + "/api/v1/query_range", data=data, timeout=10) as resp:
        series = json.loads(resp.read().decode())["data"]["result"]
    return sum(len([v for v in s["values"] if v[1] not in ("NaN",)]) for s in series)


def comparison_template():
    return {"kind": "AnalysisTemplate", "metadata": {"name": "canary-vs-baseline"},
            "spec": {"args": [{"name": "canary"}, {"name": "baseline"}, {"name": "canary-hash"}],
                     "metrics": [
                         {"name": "latency-slo",  # the absolute gate: mean latency under 250 ms
                          "successCondition": "len(result) > 0 && result[0] < 0.25",
                          "provider": {"prometheus": {"query": "{{args.canary}}"}}},
                         {"name": "vs-baseline",
                          "successCondition": 'result.classification == "Pass"',
                          "failureCondition": 'result.classification == "Fail"',
                          "provider": {"plugin": {CMP: {
                              "window": "40s", "step": "2s", "confidence": 0.98, "minSamples": 10,
                              "thresholds": {"pass": 95, "marginal": 75}, "groups": {"latency": 100},
                              "metrics": [{"name": "mean-latency", "group": "latency", "direction": "increase",
                                           "critical": True, "canary": "{{args.canary}}",
                                           "baseline": "{{args.baseline}}"}]}}}}]}}


@pytest.mark.parametrize("canary,phase", [("slow", "Failed"), ("twin", "Successful")])
def test_the_comparison_fails_a_slow_canary_the_absolute_slo_passes(playbook, latency_apps, canary, phase, tmp_path):
    server, hashes = latency_apps
    args = {"canary": mean_latency(hashes[canary]), "baseline": mean_latency(hashes["base"]),
            "canary-hash": hashes[canary]}
    path = tmp_path / "compare.yaml"
    path.write_text(json.dumps(comparison_template()))
    rc, result = gate(playbook, str(path), args, server.url)
    metrics = by_name(result)
    slo = metrics["latency-slo"]["measurements"][-1]
    assert metrics["latency-slo"]["phase"] == "Successful" and slo["number"][0] < 0.25, slo
    compared = metrics["vs-baseline"]
    assert result["phase"] == phase and compared["phase"] == phase, result.get("msg")
    value = compared["measurements"][-1]
    assert value["samples"] >= 10
    print("\ncompare %s vs base: %s; latency-slo %s" % (canary, value["value"], slo["value"]))
    if canary == "slow":
        assert value["value"].startswith("Fail: score 0") and "mean-latency High" in value["value"]
        assert rc != 0
    else:
        assert value["value"].startswith("Pass: score 100") and rc == 0


# ---------------------------------------------------------------- low traffic holds the release

@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("judges"))
    stack = harness.Stack(work, {"v1": dict(latency=0.002), "v2": dict(latency=0.002)}, label="judges")
    try:
        yield stack
    finally:
        stack.stop()


def test_a_low_traffic_canary_holds_paused_with_the_count_and_is_never_promoted(stack, tmp_path):
    for _i in range(12):  # a dozen requests reach the canary: far from the 200 the verdict needs
        assert harness.http_get(stack.apps["v2"].url + "/")[0] == 200
    stack.prometheus.wait_for_data('sum(http_requests_total{app="judges",job="v2"}) >= 12', timeout=30)
    template = tmp_path / "sequential.yaml"
    template.write_text(json.dumps({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "error-budget"},
        "spec": {"metrics": [{
            "name": "error-budget", "failureCondition": 'result.decision == "worse"',
            "successCondition": "true",  # would pass anything: only the minimum holds it
            "provider": {"plugin": {SEQ: {
                "requests": 'sum(increase(http_requests_total{app="judges",job="v2"}[5m]))',
                "errors": 'sum(increase(http_requests_total{app="judges",job="v2",code=~"5.."}[5m])) or vector(0)',
                "slo": 0.999, "minRequests": 200}}}}]}}))
    name = "lowtraffic%d" % (int(time.time() * 1000) % 10 ** 6)
    port = harness.free_port()
    body = dict(release=name, router="nginx", stable_version="v1", canary_version="v2",
                nginx=dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % port,
                           stable=["127.0.0.1:%d" % stack.apps["v1"].port],
                           canary=["127.0.0.1:%d" % stack.apps["v2"].port]),
                steps=[{"setWeight": 20}, {"analysis": {}}, {"setWeight": 100}],
                analysis={"template_file": str(template)}, prometheus_url=stack.prometheus.url)
    text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: release
      progressive.delivery.router_release: %s
""" % json.dumps(body)
    _rc, tasks, out = harness.start_playbook(text, str(tmp_path)).result(timeout=180)
    walked = tasks[0]
    assert walked["verdict"] == "paused", out[-3000:]
    with open("%s/pd-%s.state.json" % (stack.nginx.conf_dir, name)) as f:
        state = json.load(f)
    assert state["phase"] == "Paused" and state["message"] == "InconclusiveAnalysisRun"
    assert state["canary_weight"] == 20  # held where it was: never promoted
    analysis = [e for e in state["history"] if e["event"] == "analysis"][-1]
    assert analysis["phase"] == "Inconclusive"
    found = re.search(r"(\d+) requests, 200 needed", analysis["message"])
    assert found and 1 <= int(found.group(1)) < 200, analysis["message"]
    assert "set_weight" not in [e["event"] for e in state["history"][state["history"].index(analysis):]]
    print("\nlow traffic: %s" % analysis["message"])
