"""The host nginx router and the Ansible-controlled release against the real nginx and Prometheus.

Requests go through nginx on 127.0.0.1 to real app processes; which version answered is read from
each response. Every load loop here is bounded in requests and time."""

import collections
import json
import os
import time
import urllib.error
import urllib.request

import pytest

import harness
import load

TEMPLATES = os.path.join(harness.ROOT, "sandbox", "files", "slo-templates.yaml")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Stable v1, a good canary v2 and a bad canary v3 (30% errors, 300 ms), nginx in front, Prometheus."""
    work = str(tmp_path_factory.mktemp("fleet"))
    stack = harness.Stack(work, {"v1": dict(latency=0.005), "v2": dict(latency=0.005),
                                 "v3": dict(error_rate=0.3, latency=0.3)}, label="co")
    try:
        yield {"apps": stack.apps, "nginx": stack.nginx, "prometheus": stack.prometheus, "work": work}
    finally:
        stack.stop()


class Release(object):
    """One release name on the fleet's nginx, driven through ansible-playbook."""

    def __init__(self, fleet, playbook, stable="v1", canary="v2"):
        self.fleet, self.playbook = fleet, playbook
        self.name = "r%d" % (int(time.time() * 1000) % 10 ** 8)
        self.port = harness.free_port()
        self.stable, self.canary = stable, canary
        self.nginx = dict(fleet["nginx"].router_options(), listen="127.0.0.1:%d" % self.port,
                          stable=["127.0.0.1:%d" % fleet["apps"][stable].port],
                          canary=["127.0.0.1:%d" % fleet["apps"][canary].port])

    @property
    def conf(self):
        return os.path.join(self.fleet["nginx"].conf_dir, "pd-%s.conf" % self.name)

    def task(self, module, options, **kwargs):
        body = dict(release=self.name, router="nginx", nginx=self.nginx,
                    cohorts={"always_canary": ["internal"], "never_canary": ["enterprise"]})
        body.update(options)
        text = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: %s
      progressive.delivery.%s: %s
""" % (module, module, json.dumps(body))
        rc, tasks, _out = self.playbook(text, **kwargs)
        return rc, tasks[0]

    def step(self, action, **options):
        return self.task("router_step", dict(options, action=action))

    def versions(self, n, cohort=None):
        """Which version answered each of n requests (n bounded by the caller)."""
        seen = collections.Counter()
        headers = {"X-Canary-Cohort": cohort} if cohort else {}
        for _i in range(n):
            req = urllib.request.Request("http://127.0.0.1:%d/" % self.port, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=5) as resp:
                    seen[resp.headers["X-App-Version"]] += 1
            except urllib.error.HTTPError as e:
                seen[e.headers["X-App-Version"]] += 1
        return seen


def test_measured_split_is_within_three_points_at_every_step(fleet, playbook):
    r = Release(fleet, playbook)
    for weight in (10, 25, 50, 75, 100):
        rc, result = r.step("set_weight", weight=weight)
        assert rc == 0, result.get("msg")
        assert result["weights"] == {"stable": 100 - weight, "canary": weight}
        seen = r.versions(2000)
        share = 100.0 * seen["v2"] / sum(seen.values())
        assert abs(share - weight) <= 3, "weight %d: measured %.1f%% over %s" % (weight, share, dict(seen))


def test_cohorts_internal_always_enterprise_never_until_full(fleet, playbook):
    r = Release(fleet, playbook)
    r.step("set_weight", weight=10)
    assert r.versions(40, "internal") == {"v2": 40}
    assert r.versions(40, "enterprise") == {"v1": 40}
    r.step("set_weight", weight=100)
    assert r.versions(20, "enterprise") == {"v2": 20}
    r.step("abort")
    assert r.versions(40, "internal") == {"v1": 40}  # an aborted canary gets nobody
    assert r.versions(100) == {"v1": 100}


def test_idempotent_check_mode_and_diff(fleet, playbook):
    r = Release(fleet, playbook)
    rc, first = r.step("set_weight", weight=25)
    assert rc == 0 and first["changed"] is True
    rc, second = r.step("set_weight", weight=25)
    assert rc == 0 and second["changed"] is False
    with open(r.conf) as f:
        before = f.read()
    rc, checked = r.task("router_step", {"action": "set_weight", "weight": 50}, check=True, diff=True)
    assert rc == 0 and checked["changed"] is True
    assert "weight=1;" in checked["diff"][0]["after"] and "weight=3;" in checked["diff"][0]["before"]
    with open(r.conf) as f:
        assert f.read() == before  # check mode wrote nothing
    assert r.versions(400)["v2"] in range(88, 113)  # still 25%


def test_a_config_nginx_rejects_leaves_the_router_as_it_was(fleet, playbook):
    r = Release(fleet, playbook)
    r.step("set_weight", weight=10)
    with open(r.conf) as f:
        before = f.read()
    # a valid address nginx cannot use (an address that is not host:port is refused before nginx -t:
    # test_router_nginx_safety.py)
    r.nginx["canary"] = ["notaport.invalid:80"]
    rc, result = r.step("set_weight", weight=50)
    assert rc != 0
    assert "nginx -t rejected the new config, the previous one is still in place" in result["msg"]
    assert "notaport" in result["msg"]
    with open(r.conf) as f:
        assert f.read() == before
    seen = r.versions(200)
    assert 12 <= seen["v2"] <= 28  # still 10%
    rc, result = r.step("set_weight", weight=150)
    assert rc != 0 and "from 0 to 100, got 150" in result["msg"]


def test_release_resumes_after_an_interruption_and_a_second_run_changes_nothing(fleet, playbook):
    r = Release(fleet, playbook)
    # 3 s: the canary's traffic must be scraped (every 1 s) at least twice before a rate exists
    base = {"stable_version": "v1", "canary_version": "v2", "pause": "3s", "weights": [20, 60],
            "analysis": {"template_file": TEMPLATES}, "prometheus_url": fleet["prometheus"].url}
    r.step("set_weight", weight=0)
    # the analysis needs traffic: without it there is no data, and no data fails
    gen = load.LoadGenerator("127.0.0.1", r.port, rps=60, max_seconds=120, max_requests=7200).start()
    try:
        rc, first = r.task("router_release", dict(base, until_step=3))
        assert rc == 0 and first["verdict"] == "in_progress", first.get("msg")
        assert first["state"]["step_index"] == 3 and first["weights"]["canary"] == 20
        rc, second = r.task("router_release", base)
    finally:
        gen.stop()
    assert rc == 0 and second["verdict"] == "promoted", second.get("msg")
    events = [e["event"] for e in second["state"]["history"]]
    assert events.count("started") == 1 and events.count("set_weight") == 3
    assert [s["analysis_phase"] for s in second["state"]["step_results"]] == ["Successful", "Successful", None]
    rc, third = r.task("router_release", base)
    assert rc == 0 and third["changed"] is False and third["verdict"] == "promoted"


def test_a_bad_canary_is_rolled_back_with_no_failed_request_on_stable(fleet, playbook):
    r = Release(fleet, playbook, stable="v2", canary="v3")
    r.step("set_weight", weight=0)
    gen = load.LoadGenerator("127.0.0.1", r.port, rps=100, max_seconds=120, max_requests=12000).start()
    try:
        rc, result = r.task("router_release", {
            "stable_version": "v2", "canary_version": "v3", "pause": "3s",
            "analysis": {"template_file": TEMPLATES}, "prometheus_url": fleet["prometheus"].url})
        time.sleep(1.0)
    finally:
        gen.stop()
    assert rc != 0 and result["verdict"] == "rolled_back"
    assert "rolled back" in result["msg"] and "analysis Failed at step 3/" in result["msg"]
    assert result["weights"] == {"stable": 100, "canary": 0}
    assert 0 < result["time_to_detect_s"] < 30 and 0 <= result["time_to_restore_s"] < 5
    aborted_at = [e for e in result["state"]["history"] if e["event"] == "aborted"][0]["t"]
    during = gen.window(aborted_at - 2, aborted_at + 1)
    after = gen.window(aborted_at + 0.5, aborted_at + 1)
    assert len(during) > 100
    assert not [x for x in gen.window(0, time.time() + 1) if x.version == "v2" and x.code >= 500]
    assert not [x for x in during if x.code == 0], "a request found no backend during the rollback"
    assert after and all(x.version == "v2" for x in after)


def test_restore_previous_puts_the_last_config_back_at_once(fleet, playbook):
    r = Release(fleet, playbook)
    r.step("set_weight", weight=10)
    r.step("set_weight", weight=50)
    rc, restored = r.step("restore_previous")
    assert rc == 0 and restored["changed"] is True and restored["weights"]["canary"] == 10
    assert 12 <= r.versions(200)["v2"] <= 28


def test_router_release_in_check_mode_writes_nothing(fleet, playbook):
    r = Release(fleet, playbook)
    base = {"stable_version": "v1", "canary_version": "v2", "pause": "3s",
            "analysis": {"template_file": TEMPLATES}, "prometheus_url": fleet["prometheus"].url}
    rc, result = r.task("router_release", base, check=True, diff=True)
    assert rc == 0 and result["changed"] is True, result.get("msg")
    assert result["next_step"] == {"setWeight": 10}
    assert any("weight=" in d["after"] for d in result["diff"])
    assert not os.path.exists(r.conf)
    assert not os.path.exists(os.path.join(fleet["nginx"].conf_dir, "pd-%s.state.json" % r.name))
