"""The nginx on-call path on the real nginx: a step, a status and the emergency rollback given only the
release (and where nginx is), the cohorts the release set up kept through hand-made steps, and the router
emitting only upstreams and the cohort map for a server block of the user's own (server_name, TLS).

Which version answered is read from each response; every load loop is bounded in requests."""

import collections
import http.client
import json
import os
import socket
import ssl
import subprocess
import time

import pytest

import harness


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("oncall"))
    stack = harness.Stack(work, {"v1": dict(latency=0.002), "v2": dict(latency=0.002)}, label="oncall")
    try:
        yield {"apps": stack.apps, "nginx": stack.nginx, "work": work}
    finally:
        stack.stop()


COHORTS = {"always_canary": ["internal"], "never_canary": ["enterprise"]}


class Release(object):
    def __init__(self, fleet, playbook, **nginx):
        self.fleet, self.playbook = fleet, playbook
        self.name = "oc%d" % (int(time.time() * 1000) % 10 ** 8)
        self.port = harness.free_port()
        # where nginx is: all the on-call gives besides the release
        self.where = fleet["nginx"].router_options()
        self.full = dict(self.where, listen="127.0.0.1:%d" % self.port,
                         stable=["127.0.0.1:%d" % fleet["apps"]["v1"].port],
                         canary=["127.0.0.1:%d" % fleet["apps"]["v2"].port], **nginx)
        self.conf = os.path.join(self.where["config_dir"], "pd-%s.conf" % self.name)

    def run(self, module, options, expect_rc=0, **kwargs):
        body = dict(release=self.name, router="nginx")
        body.update(options)
        rc, tasks, _out = self.playbook(harness.task(module, body), **kwargs)
        assert expect_rc is None or rc == expect_rc, tasks[0].get("msg")
        return tasks[0]

    def step(self, action, full=False, expect_rc=0, **options):
        """router_step with the whole nginx block and the cohorts (full), or only where nginx is."""
        if full:
            options = dict(options, nginx=self.full, cohorts=COHORTS)
        else:
            options = dict({"nginx": self.where}, **options)
        return self.run("router_step", dict(options, action=action), expect_rc)

    def versions(self, n, cohort=None, port=None):
        """Which version answered each of n requests, over one keep-alive connection."""
        seen = collections.Counter()
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=10)
        try:
            for _i in range(n):
                conn.request("GET", "/", headers={"X-Canary-Cohort": cohort} if cohort else {})
                resp = conn.getresponse()
                resp.read()
                seen[resp.getheader("X-App-Version")] += 1
        finally:
            conn.close()
        return seen


def test_the_on_call_needs_only_the_release_and_nothing_drops_the_cohorts(fleet, playbook):
    r = Release(fleet, playbook)
    boot = r.step("bootstrap", full=True)
    assert boot["changed"] is True and boot["weights"] == {"stable": 100, "canary": 0}
    assert r.versions(20) == {"v1": 20} and r.versions(10, "internal") == {"v1": 10}  # no canary yet
    assert r.step("bootstrap", full=True)["changed"] is False

    # the release the role would start, held at 20% by a pause without a duration
    walked = r.run("router_release", dict(nginx=r.full, cohorts=COHORTS, stable_version="v1", canary_version="v2",
                                          steps=[{"setWeight": 20}, {"pause": {}}]))
    assert walked["state"]["phase"] == "Paused" and walked["weights"]["canary"] == 20, walked.get("msg")

    status = r.step("status")  # release, router and where nginx is: nothing else
    assert status["phase"] == "Paused" and status["weights"] == {"stable": 80, "canary": 20}
    assert status["changed"] is False

    moved = r.step("set_weight", weight=50)
    assert moved["changed"] is True and moved["weights"] == {"stable": 50, "canary": 50}
    assert r.versions(30, "internal") == {"v2": 30}  # the role's cohorts survived the hand-made step
    assert r.versions(30, "enterprise") == {"v1": 30}
    seen = r.versions(400)
    assert seen["v1"] + seen["v2"] == 400 and abs(seen["v2"] - 200) <= 12, dict(seen)
    assert r.step("set_weight", weight=50)["changed"] is False

    # the runbook's emergency rollback, with no addresses and no cohorts
    rc, tasks, out = playbook(open(os.path.join(harness.ROOT, "playbooks", "emergency_rollback.yml")).read(),
                              extra_vars={"emergency_rollback_controller": "ansible",
                                          "emergency_rollback_releases": [r.name],
                                          "emergency_rollback_nginx": r.where,
                                          "emergency_rollback_health_path": "/healthz"})
    assert rc == 0, out[-3000:]
    aborted = [t for t in tasks if "Abort - 100%" in t["_task"]][0]["results"][0]
    assert aborted["changed"] is True and aborted["weights"] == {"stable": 100, "canary": 0}
    assert aborted["stable_check"]["healthy"] is True
    assert r.versions(30, "internal") == {"v1": 30} and r.versions(100) == {"v1": 100}
    with open(r.conf) as f:
        meta = json.loads(f.readline().split(" routing ", 1)[1])
    assert meta["always_canary"] == ["internal"] and meta["never_canary"] == ["enterprise"]
    assert aborted["state"]["cohorts"]["always_canary"] == ["internal"]


def test_a_hand_made_step_without_a_state_keeps_the_cohorts_the_router_holds(fleet, playbook):
    r = Release(fleet, playbook)
    r.step("set_weight", full=True, weight=10)
    moved = r.step("set_weight", weight=30)  # no release state: the cohorts come from the router's file
    assert moved["changed"] is True and moved["weights"]["canary"] == 30
    assert r.versions(20, "internal") == {"v2": 20} and r.versions(20, "enterprise") == {"v1": 20}


def test_nothing_saved_is_a_clear_error_naming_the_file_and_the_fix(fleet, playbook):
    r = Release(fleet, playbook)
    for action in ("status", "abort"):
        failed = r.step(action, expect_rc=2)
        assert failed["failed"] is True
        assert r.conf in failed["msg"], failed["msg"]
        assert "Give nginx.listen, nginx.stable and nginx.canary" in failed["msg"]
        assert "nginx.config_dir" in failed["msg"]
    assert not os.path.exists(r.conf)


# ---------------------------------------------------------------- include mode: the user's own server block

def self_signed(workdir):
    """A certificate for shop.test and 127.0.0.1, made now with openssl."""
    cert, key = os.path.join(workdir, "shop.crt"), os.path.join(workdir, "shop.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=shop.test",
                    "-addext", "subjectAltName=DNS:shop.test,IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def user_server_block(r, port, cert, key):
    """What a user writes: their server_name, their TLS, and our include in their location; a default server
    on the same port refuses every other name."""
    return """
server {
    listen 127.0.0.1:%(port)d ssl default_server;
    server_name _;
    ssl_certificate %(cert)s;
    ssl_certificate_key %(key)s;
    return 421;
}
server {
    listen 127.0.0.1:%(port)d ssl;
    server_name shop.test;
    ssl_certificate %(cert)s;
    ssl_certificate_key %(key)s;
    add_header Strict-Transport-Security "max-age=60" always;
    location / {
        include %(location)s;
    }
}
""" % dict(port=port, cert=cert, key=key, location=os.path.join(r.where["config_dir"], "pd-%s.location" % r.name))


def https_get(port, cafile, n, host="shop.test", path="/", cohort=None):
    """n requests over one verified TLS connection to 127.0.0.1; [(status, headers, body)]."""
    context = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    out = []
    try:
        for _i in range(n):
            headers = {"Host": host}
            if cohort:
                headers["X-Canary-Cohort"] = cohort
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            out.append((resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read().decode()))
    finally:
        conn.close()
    return out


def test_include_mode_serves_through_the_users_tls_server_block_and_keeps_the_routing_private(
        fleet, playbook, tmp_path):
    r = Release(fleet, playbook, mode="include")
    cert, key = self_signed(str(tmp_path))
    boot = r.step("bootstrap", full=True)
    assert boot["changed"] is True
    location = os.path.join(r.where["config_dir"], "pd-%s.location" % r.name)
    with open(location) as f:
        assert "proxy_pass http://$pd_%s_backend;" % r.name in f.read()
    with open(r.conf) as f:
        assert "proxy_pass" not in f.read()  # no server of ours proxies the release

    https_port = harness.free_port()
    user_conf = os.path.join(r.where["config_dir"], "shop-%s.conf" % r.name)
    with open(user_conf, "w") as f:
        f.write(user_server_block(r, https_port, cert, key))
    try:
        nginx = r.where
        reload = subprocess.run([nginx["binary"], "-c", nginx["main_config"], "-p", nginx["prefix"], "-s", "reload"],
                                capture_output=True, text=True, timeout=30, check=False)
        assert reload.returncode == 0, reload.stderr
        harness.wait_for(lambda: _answers(https_port, cert), 20, "the user's https server")

        assert https_get(https_port, cert, 1, host="other.test")[0][0] == 421  # server_name matters
        moved = r.step("set_weight", weight=25)  # only where nginx is: mode and addresses from the file
        assert moved["changed"] is True and moved["weights"]["canary"] == 25
        answers = https_get(https_port, cert, 400)
        versions = collections.Counter(body.split()[0] for _status, _h, body in answers)
        assert sum(versions.values()) == 400 and abs(versions["v2"] - 100) <= 12, dict(versions)
        assert all("x-canary-weight" not in h for _s, h, _b in answers)  # off the public server
        assert all(h.get("strict-transport-security") == "max-age=60" for _s, h, _b in answers)  # theirs kept
        assert [b.split()[0] for _s, _h, b in https_get(https_port, cert, 10, cohort="internal")] == ["v2"] * 10

        status, headers, body = https_get(https_port, cert, 1, path="/__pd/routing")[0]
        assert "canary_weight" not in body and "x-pd-worker" not in headers  # the endpoint is not public
        assert r.step("status")["weights"]["canary"] == 25  # the router's own read-back still works

        # asked for: the weight header on the user's server
        shown = r.step("set_weight", weight=25, nginx=dict(r.where, weight_header=True))
        assert shown["changed"] is True
        assert https_get(https_port, cert, 1)[0][1].get("x-canary-weight") == "25"
        assert r.step("set_weight", weight=25)["changed"] is False  # weight_header kept in the file
        aborted = r.step("abort", health_path="/healthz")
        assert aborted["stable_check"]["healthy"] is True
        assert {b.split()[0] for _s, _h, b in https_get(https_port, cert, 50)} == {"v1"}
    finally:
        os.remove(user_conf)


def _answers(port, cafile):
    try:
        return https_get(port, cafile, 1)[0][0] == 200
    except (OSError, ssl.SSLError, http.client.HTTPException, socket.timeout):
        return False
