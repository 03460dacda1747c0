"""The host nginx router's mirror (issue 17) on the real nginx, driven as a user drives it: router_release with a
setMirrorRoute step, router_step to abort. Copies are counted where they land - the canary app's own request
counter (its /metrics) - and users' answers by the X-App-Version of every response. Every load is bounded in
requests; every wait is bounded."""

import collections
import http.client
import json
import os
import re
import stat
import subprocess
import time

import pytest

import harness
import load

TEMPLATES = os.path.join(harness.ROOT, "sandbox", "files", "slo-templates.yaml")
LONG_PAUSE = "300s"  # longer than any test here: only an abort (or the test's end) ends it
SLOW = 1.5  # seconds the slow canary takes for every answer


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Stable v1, a healthy canary v2, a slow canary (SLOW s an answer), nginx in front, Prometheus."""
    work = str(tmp_path_factory.mktemp("mirror"))
    stack = harness.Stack(work, {"v1": dict(latency=0.002), "v2": dict(latency=0.002), "slow": dict(latency=SLOW)},
                          label="mirror")
    try:
        yield stack
    finally:
        stack.stop()


def counted(app, method="GET", mirrored=None):
    """Requests of ``method`` the app has answered (its http_requests_total), of every code; only those with the
    label mirrored="true"/"false" when ``mirrored`` is given."""
    _status, body = harness.http_get(app.url + "/metrics")
    total = 0.0
    for line in body.splitlines():
        if line.startswith("http_requests_total{") and 'method="%s"' % method in line:
            if mirrored is None or 'mirrored="%s"' % mirrored in line:
                total += float(line.rsplit(" ", 1)[1])
    return int(total)


def settled(read, what, timeout=30, interval=0.5):
    """``read()`` once two reads ``interval`` s apart agree (bounded): a copy still in flight has landed (give an
    interval longer than the canary takes to answer)."""
    last = [None]

    def same():
        now = read()
        agreed, last[0] = now == last[0], now
        return agreed
    harness.wait_for(same, timeout, what, interval=interval)
    return last[0]


class Release(object):
    """One release on the stack's nginx; its nginx binary is a shim that logs every call (to count reloads)."""

    def __init__(self, stack, tmp_path, canary="v2", mode="server"):
        self.stack, self.work = stack, str(tmp_path)
        self.name = "m%d" % (int(time.time() * 1000) % 10 ** 8)
        self.port = harness.free_port()
        self.calls = os.path.join(self.work, "nginx-calls.log")
        shim = os.path.join(self.work, "nginx-shim")
        with open(shim, "w") as f:
            f.write('#!/bin/sh\necho "$*" >> %s\nexec %s "$@"\n' % (self.calls, stack.nginx.binary))
        os.chmod(shim, os.stat(shim).st_mode | stat.S_IXUSR)
        self.canary = stack.apps[canary]
        self.nginx = dict(stack.nginx.router_options(), binary=shim, listen="127.0.0.1:%d" % self.port,
                          stable=["127.0.0.1:%d" % stack.apps["v1"].port],
                          canary=["127.0.0.1:%d" % self.canary.port], mode=mode)
        self.location = os.path.join(stack.nginx.conf_dir, "pd-%s.location" % self.name)
        self.conf = os.path.join(stack.nginx.conf_dir, "pd-%s.conf" % self.name)
        self.state_path = os.path.join(stack.nginx.conf_dir, "pd-%s.state.json" % self.name)
        self.walking = None
        self.user_port = None  # include mode: requests go to the user's own server block

    def text(self, module, options):
        return harness.task(module, dict(release=self.name, router="nginx", nginx=self.nginx, **options))

    def run(self, module, **options):
        rc, tasks, _out = harness.start_playbook(self.text(module, options), self.work).result()
        return rc, tasks[0]

    def walk(self, steps, **options):
        """router_release in the background."""
        body = dict(stable_version="v1", canary_version="v2", steps=steps, **options)
        self.walking = harness.start_playbook(self.text("router_release", body), self.work)
        return self.walking

    def state(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def wait_state(self, predicate, what, timeout=120):
        def reached():
            st = self.state()
            return st if st and predicate(st) else None
        return harness.wait_for(reached, timeout, "release %s: %s" % (self.name, what))

    def mirroring(self, steps):
        """Walk ``steps`` (a mirror, then a long pause) until the walker pauses with the mirror set."""
        self.walk(steps)
        return self.wait_state(lambda st: st.get("mirror") and st["history"][-1]["event"] == "pause",
                               "the mirror phase")

    def abort(self):
        rc, result = self.run("router_step", action="abort", reason="test over")
        assert rc == 0, result.get("msg")
        if self.walking:
            self.walking.result()
            self.walking = None
        return result

    def reload(self):
        n = self.stack.nginx
        proc = subprocess.run([n.binary, "-c", n.main_config, "-p", n.prefix, "-s", "reload"], capture_output=True,
                              text=True, timeout=30, check=False)
        assert proc.returncode == 0, proc.stderr

    def requests(self, n, method="GET", body=None, kept_alive=True, per_second=None, headers=None):
        """n requests over one kept-alive connection, then one that nginx serves only once every copy of the
        others has reached the relay (nginx finishes a request's mirror before it reads the next request of that
        connection): [(status, X-App-Version, seconds)]. ``kept_alive=False``: a new connection a request, no
        barrier. ``per_second``: at most that many a second."""
        port = self.user_port or self.port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        out = []
        try:
            first = time.time()
            for i in range(n):
                if per_second:
                    time.sleep(max(0.0, first + i / float(per_second) - time.time()))
                if not kept_alive:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                started = time.time()
                conn.request(method, "/shop?n=%d" % i, body=body,
                             headers=dict({"Content-Type": "text/plain"} if body is not None else {}, **(headers or {})))
                resp = conn.getresponse()
                resp.read()
                out.append((resp.status, resp.getheader("X-App-Version"), time.time() - started))
            if kept_alive:
                conn.request("GET", "/__pd/routing" if not self.user_port else "/healthz")  # the barrier: a
                # location without a mirror
                conn.getresponse().read()
        finally:
            conn.close()
        return out

    def reloads(self):
        try:
            with open(self.calls) as f:
                return [line.strip() for line in f if "-s reload" in line]
        except OSError:
            return []


def p95(seconds):
    ordered = sorted(seconds)
    return ordered[int(0.95 * (len(ordered) - 1))]


MIRROR_20 = [{"setMirrorRoute": {"name": "dark", "percentage": 20}}, {"pause": {"duration": LONG_PAUSE}}]


def test_the_canary_receives_its_share_of_copies_and_users_only_stable(stack, tmp_path):
    r = Release(stack, tmp_path)
    r.mirroring(MIRROR_20)
    try:
        before = {m: counted(r.canary, m) for m in ("GET", "POST")}
        copies_before = counted(r.canary, "GET", mirrored="true")
        answers = r.requests(2000)
        gets = settled(lambda: counted(r.canary, "GET"), "the copies landing") - before["GET"]
        share = 100.0 * gets / 2000
        print("mirror 20%%: the canary received %d copies of 2000 GETs (%.1f%%)" % (gets, share))
        assert abs(share - 20) <= 3, "measured %.1f%% copies" % share
        assert collections.Counter((s, v) for s, v, _t in answers) == {(200, "v1"): 2000}  # users: stable only
        # every copy carried x-pd-mirrored: the app labelled it a copy
        assert counted(r.canary, "GET", mirrored="true") - copies_before == gets

        # a write is not copied: the plan named no method, so GET and HEAD only
        posts = r.requests(200, "POST", body="order=1")
        assert all(s == 200 and v == "v1" for s, v, _t in posts)
        assert settled(lambda: counted(r.canary, "POST"), "POSTs") == before["POST"]

        # what nginx serves says so; the same routing again changes nothing (the mirror is read back)
        rc, status = r.run("router_step", action="status")
        assert rc == 0 and status["changed"] is False
        with open(r.conf) as f:
            first_line = json.loads(f.readline().split("routing ", 1)[1])
        assert first_line["mirror"] == {"name": "dark", "percentage": 20, "methods": ["GET", "HEAD"], "headers": {}}
        harness.ensure_collection_path()
        from ansible_collections.progressive.delivery.plugins.module_utils.routers import Mirror, Routing
        from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import NginxRouter
        router = NginxRouter(r.name, **dict((k, v) for k, v in r.nginx.items()))
        assert router.current_routing().mirror == Mirror("dark", 20)
        reloads = len(r.reloads())
        assert router.reconcile(Routing(0, mirror=Mirror("dark", 20))).changed is False
        assert len(r.reloads()) == reloads
    finally:
        r.abort()


def relay_request(r, method="GET", token=None):
    """A request straight to the release's relay (as a user behind a load balancer on this host could send one),
    asking it to copy /shop?forged=1 to the canary: its status."""
    conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=30)
    headers = {"x-pd-relay-uri": "/shop?forged=1", "Content-Length": "0"}
    if token is not None:
        headers["x-pd-relay-token"] = token
    try:
        conn.request(method, "/__pd/relay/%s" % r.name, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_the_relay_refuses_a_request_that_is_not_the_mirrors_copy(stack, tmp_path):
    r = Release(stack, tmp_path)
    r.mirroring(MIRROR_20)
    try:
        before = {m: counted(r.canary, m, mirrored="true") for m in ("GET", "POST", "DELETE")}
        assert relay_request(r) == 403  # no token
        assert relay_request(r, token="0" * 32) == 403  # a wrong one
        assert relay_request(r, "POST", token="") == 403
        with open(r.conf) as f:
            found = re.search(r'default "([0-9a-f]{32})";  # the relay token', f.read())
        assert found
        token = found.group(1)
        assert relay_request(r, "POST", token=token) == 405  # the mirror copies GET and HEAD only
        assert relay_request(r, "DELETE", token=token) == 405
        # nothing reached the canary marked a copy (settled over a while longer than a copy takes)
        assert settled(lambda: {m: counted(r.canary, m, mirrored="true") for m in before}, "no copies",
                       interval=1.0) == before
        # the token is the relay's only difference: with it, a GET is copied (so the refusals above were the guard)
        assert relay_request(r, token=token) == 200
        harness.wait_for(lambda: counted(r.canary, "GET", mirrored="true") == before["GET"] + 1, 30,
                         "the copy with the token")
        # and it is in no answer a user or an operator sees
        rc, status = r.run("router_step", action="status")
        assert rc == 0 and token not in json.dumps(status)
        _code, routing = harness.http_get("http://127.0.0.1:%d/__pd/routing" % r.port)
        assert token not in routing
    finally:
        r.abort()


def test_a_cohorts_requests_are_routed_never_copied(stack, tmp_path):
    """As on Istio and Gateway API: a request with a cohort's header value is routed by the cohort rule (stable in
    the dark phase, for both cohorts), and never copied, even by a 100% mirror."""
    r = Release(stack, tmp_path)
    r.walk([{"setMirrorRoute": {"name": "dark", "percentage": 100}}, {"pause": {"duration": LONG_PAUSE}}],
           cohorts={"header": "x-cohort", "always_canary": ["internal"], "never_canary": ["enterprise"]})
    r.wait_state(lambda st: st.get("mirror") and st["history"][-1]["event"] == "pause", "the mirror phase")
    try:
        before = counted(r.canary, "GET")
        cohorts = r.requests(50, headers={"x-cohort": "internal"}) + r.requests(50, headers={"x-cohort": "enterprise"})
        assert settled(lambda: counted(r.canary, "GET"), "no copies") == before
        others = r.requests(50, headers={"x-cohort": "someone"}) + r.requests(50)
        assert settled(lambda: counted(r.canary, "GET"), "the copies") - before == 100
        assert all(s == 200 and v == "v1" for s, v, _t in cohorts + others)
    finally:
        r.abort()


def test_a_write_is_copied_only_when_the_plan_names_it(stack, tmp_path):
    r = Release(stack, tmp_path)
    r.mirroring([{"setMirrorRoute": {"name": "writes", "percentage": 100,
                                     "match": [{"method": {"exact": "POST"}}]}},
                 {"pause": {"duration": LONG_PAUSE}}])
    try:
        before = {m: counted(r.canary, m) for m in ("GET", "POST")}
        posts = r.requests(50, "POST", body="order=1")
        gets = r.requests(50)
        assert all(s == 200 and v == "v1" for s, v, _t in posts + gets)
        assert settled(lambda: counted(r.canary, "POST"), "POST copies") - before["POST"] == 50
        assert counted(r.canary, "GET") == before["GET"]  # only the methods named
        with open(r.conf) as f:
            assert "mirror_request_body off" not in f.read()  # a write's copy carries its body
    finally:
        r.abort()


def test_a_slow_canary_does_not_slow_stable(stack, tmp_path):
    """nginx ends a request only when its copy has ended, so on a kept-alive connection a slow canary would hold
    the client's next request for as long as it takes; the relay answers the mirror at once and waits for the canary
    itself. Measured on one kept-alive connection (the worst case), then with a new connection a request."""
    r = Release(stack, tmp_path, canary="slow")
    rc, result = r.run("router_step", action="set_weight", weight=0)
    assert rc == 0, result.get("msg")
    without = p95([t for _s, _v, t in r.requests(120)])
    r.mirroring([{"setMirrorRoute": {"name": "dark", "percentage": 50}}, {"pause": {"duration": LONG_PAUSE}}])
    before = counted(r.canary, "GET")
    try:
        # paced, so the copies waiting at once on the slow canary stay under the relay's cap (RELAY_CONNECTIONS)
        kept_alive = r.requests(120, per_second=30)
        fresh = r.requests(120, kept_alive=False, per_second=30)
        # the relay answered the mirror at once and waited for the canary: the canary answered every copy in full
        # (this app counts a request once its answer is written) - 50% of 240, +-10 points
        copies = settled(lambda: counted(r.canary, "GET"), "the slow canary's answers", timeout=60,
                         interval=SLOW + 0.5) - before
    finally:
        r.abort()
    print("the slow canary answered %d copies of 240 requests in full" % copies)
    assert 96 <= copies <= 144
    with_mirror, fresh_p95 = p95([t for _s, _v, t in kept_alive]), p95([t for _s, _v, t in fresh])
    print("stable's p95 seen by the client, canary answering in %.1f s: %.4f s without a mirror; with a 50%% mirror "
          "%.4f s on one kept-alive connection, %.4f s with a new connection a request"
          % (SLOW, without, with_mirror, fresh_p95))
    assert all(s == 200 and v == "v1" for s, v, _t in kept_alive + fresh)
    # unchanged within noise: at most 20 ms over stable's own p95 without a mirror (a wait for the canary is 1.5 s)
    assert with_mirror <= without + 0.02 and fresh_p95 <= without + 0.02


def test_an_abort_in_the_mirror_phase_drops_the_mirror_in_the_one_reload_that_moves_the_split(stack, tmp_path):
    r = Release(stack, tmp_path)
    r.walk([{"setWeight": 10}, {"setMirrorRoute": {"name": "dark", "percentage": 50}},
            {"pause": {"duration": LONG_PAUSE}}])
    r.wait_state(lambda st: st.get("mirror") and st["history"][-1]["event"] == "pause", "the mirror phase")
    seen = collections.Counter(v for _s, v, _t in r.requests(300))
    assert 10 <= seen["v2"] <= 55, dict(seen)  # 10% of users on the canary, copies beside them
    reloads = len(r.reloads())
    result = r.abort()
    assert result["weights"] == {"stable": 100, "canary": 0}
    assert len(r.reloads()) == reloads + 1, r.reloads()  # one router update: the split and the mirror together
    with open(r.conf) as f:
        text = f.read()
    assert "mirror /__pd" not in text and '"mirror"' not in text.splitlines()[0]
    copies = settled(lambda: counted(r.canary, "GET"), "copies before the abort")
    answers = r.requests(300)
    assert collections.Counter(v for _s, v, _t in answers) == {"v1": 300}
    assert counted(r.canary, "GET") == copies  # no copies after the abort
    events = [e["event"] for e in r.state()["history"]]
    assert events[-1] == "aborted" and "mirror_set" in events


def test_a_plan_with_a_mirror_phase_walks_to_promotion_and_a_second_run_changes_nothing(stack, tmp_path):
    r = Release(stack, tmp_path)
    steps = [{"setMirrorRoute": {"name": "dark", "percentage": 50}}, {"pause": {"duration": "3s"}},
             {"analysis": {"templates": [{"templateName": "canary-slo"}]}},
             {"setMirrorRoute": {"name": "dark"}},
             {"setWeight": 30}, {"pause": {"duration": "3s"}},
             {"analysis": {"templates": [{"templateName": "canary-slo"}]}}]
    options = dict(stable_version="v1", canary_version="v2", steps=steps, analysis={"template_file": TEMPLATES},
                   prometheus_url=stack.prometheus.url)
    rc, result = r.run("router_step", action="set_weight", weight=0)
    assert rc == 0, result.get("msg")
    gen = load.LoadGenerator("127.0.0.1", r.port, rps=60, max_seconds=180, max_requests=10800).start()
    try:
        rc, result = r.run("router_release", **options)
    finally:
        gen.stop()
    assert rc == 0 and result["verdict"] == "promoted", result.get("msg")
    history = result["state"]["history"]
    events = [e["event"] for e in history]
    assert events.index("mirror_set") < events.index("mirror_removed") < events.index("set_weight")
    mirror_set = [e for e in history if e["event"] == "mirror_set"][0]
    assert (mirror_set["route"], mirror_set["percentage"], mirror_set["methods"]) == ("dark", 50, ["GET", "HEAD"])
    phases = [s.get("analysis_phase") for s in result["state"]["step_results"]]
    assert phases.count("Successful") == 2, result["state"]["step_results"]
    # the mirror phase was judged on copies alone: users were served by stable until the first weight
    removed_at = [e for e in history if e["event"] == "mirror_removed"][0]["t"]
    during = gen.window(mirror_set["t"], removed_at)
    assert len(during) > 100 and all(rec.version == "v1" for rec in during)
    with open(r.conf) as f:
        assert "mirror /__pd" not in f.read()
    rc, again = r.run("router_release", **options)
    assert rc == 0 and again["changed"] is False and again["verdict"] == "promoted"


def user_server_block(r, prefix="/"):
    """A user's own server block (include mode) with our include in its ``location <prefix>``, and a barrier
    location without the mirror."""
    r.user_port = harness.free_port()
    path = os.path.join(r.stack.nginx.conf_dir, "shop-%s.conf" % r.name)
    with open(path, "w") as f:
        f.write("server {\n    listen 127.0.0.1:%d;\n    location = /healthz {\n        return 200;\n    }\n"
                "    location %s {\n        include %s;\n    }\n}\n" % (r.user_port, prefix, r.location))
    return path


def test_include_mode_mirrors_from_the_users_server_block_and_the_abort_puts_the_include_back(stack, tmp_path):
    r = Release(stack, tmp_path, mode="include")
    rc, boot = r.run("router_step", action="bootstrap")
    assert rc == 0 and boot["changed"] is True, boot.get("msg")
    with open(r.location) as f:
        plain = f.read()
    user_conf = user_server_block(r)
    try:
        r.reload()
        harness.wait_for(lambda: r.requests(1)[0][1] == "v1", 20, "the user's server block")
        r.mirroring(MIRROR_20)
        with open(r.location) as f:
            assert "mirror /__pd/mirror/%s;" % r.name in f.read()
        before = counted(r.canary, "GET")
        answers = r.requests(1000)
        gets = settled(lambda: counted(r.canary, "GET"), "the copies landing") - before
        print("include mode, mirror 20%%: %d copies of 1000 GETs" % gets)
        assert abs(gets - 200) <= 45 and all(s == 200 and v == "v1" for s, v, _t in answers)
        reloads = len(r.reloads())
        r.abort()
        assert len(r.reloads()) == reloads + 1
        with open(r.location) as f:
            assert f.read() == plain  # the include without a mirror again
        copies = counted(r.canary, "GET")
        assert all(v == "v1" for _s, v, _t in r.requests(200)) and counted(r.canary, "GET") == copies
    finally:
        os.remove(user_conf)
        r.reload()


def test_include_mode_refuses_a_mirror_outside_location_slash_and_changes_nothing(stack, tmp_path):
    r = Release(stack, tmp_path, mode="include")
    rc, boot = r.run("router_step", action="bootstrap")
    assert rc == 0, boot.get("msg")
    with open(r.location) as f:
        plain = f.read()
    with open(r.conf) as f:
        conf = f.read()
    user_conf = user_server_block(r, prefix="/shop/")
    try:
        r.reload()
        rc, tasks, _out = harness.start_playbook(r.text("router_release", dict(
            stable_version="v1", canary_version="v2", steps=MIRROR_20)), r.work).result()
        result = tasks[0]
        assert rc != 0
        assert "nginx -t rejected the new config, the previous one is still in place" in result["msg"]
        assert "needs that include in your server block's `location /`" in result["msg"]
        with open(r.location) as f:
            assert f.read() == plain
        # the release's start routed (dark until its first weight: a plan that mirrors first); its mirror step
        # changed nothing: the routing file is the one that start wrote, without a mirror
        harness.ensure_collection_path()
        from ansible_collections.progressive.delivery.plugins.module_utils.routers import Routing
        from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import NginxRouter, _meta_in
        started = NginxRouter(r.name, **r.nginx).render(Routing.from_dict(dict(_meta_in(conf), dark=True)))
        with open(r.conf) as f:
            assert f.read() == started
    finally:
        os.remove(user_conf)
        r.reload()
