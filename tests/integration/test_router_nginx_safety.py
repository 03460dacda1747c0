"""Issue 16 on the host nginx router, against the real nginx: nothing reaches nginx's configuration
unchecked (point 5), and a change is checked against what nginx serves, not against the file (point 8).

Every probe goes through the modules (router_step), as an operator's or an inventory's value would.
Requests go through nginx on 127.0.0.1 to real app processes; every load loop here is bounded."""

import collections
import json
import os
import http.client
import signal
import socket
import time
import urllib.error
import urllib.request

import pytest

import harness

INJECTED_COHORT = 'x" pd_R_canary;\n}\nserver { listen 127.0.0.1:%d; location / { return 200 "pwned"; } }\nmap $a $b {'


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Stable v1 and canary v2, the real nginx in front (no Prometheus: nothing here is analysed)."""
    work = str(tmp_path_factory.mktemp("safety"))
    started = []
    try:
        for version in ("v1", "v2"):
            started.append(harness.DemoApp(version=version, load_rps=0))
        started.append(harness.Nginx(work))
        yield {"apps": {"v1": started[0], "v2": started[1]}, "nginx": started[2], "work": work}
    finally:
        for proc in reversed(started):
            proc.stop()


class Release(object):
    def __init__(self, fleet, playbook, name=None):
        self.fleet, self.playbook = fleet, playbook
        self.name = name or "s%d" % (int(time.time() * 1000) % 10 ** 8)
        self.port = harness.free_port()
        self.nginx = dict(fleet["nginx"].router_options(), listen="127.0.0.1:%d" % self.port,
                          stable=["127.0.0.1:%d" % fleet["apps"]["v1"].port],
                          canary=["127.0.0.1:%d" % fleet["apps"]["v2"].port])

    @property
    def conf(self):
        return os.path.join(self.fleet["nginx"].conf_dir, "pd-%s.conf" % self.name)

    def body(self, **changes):
        body = dict(release=self.name, router="nginx", nginx=dict(self.nginx),
                    cohorts={"always_canary": ["internal"], "never_canary": ["enterprise"]})
        for key, value in changes.items():
            if key.startswith("nginx."):
                body["nginx"][key[len("nginx."):]] = value
            elif key.startswith("cohorts."):
                body["cohorts"][key[len("cohorts."):]] = value
            else:
                body[key] = value
        return body

    def steps(self, bodies, **kwargs):
        """One playbook, one router_step task a body (each may fail); the task results."""
        tasks = "".join("""
    - name: step %d
      progressive.delivery.router_step: %s
      ignore_errors: true
""" % (i, json.dumps(b)) for i, b in enumerate(bodies))
        _rc, results, _out = self.playbook("- hosts: localhost\n  gather_facts: false\n  tasks:%s" % tasks, **kwargs)
        return results

    def step(self, action, env=None, check=False, diff=False, **changes):
        body = self.body(**changes)
        body["action"] = action
        rc, results, _out = self.playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: step
      progressive.delivery.router_step: %s
""" % json.dumps(body), env=env, check=check, diff=diff)
        return rc, results[0]

    def get_from(self, source, path):
        """(status, body) of a request from another address of this machine (127.0.0.2 stands for a client
        elsewhere: nginx sees it as the source address)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5, source_address=(source, 0))
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def get(self, path="/", headers=None, port=None):
        """(status, headers, body) of one request to the release's listener."""
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (port or self.port, path), headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, resp.headers, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("utf-8", "replace")

    def versions(self, n):
        """Which version answered each of n requests (n bounded by the caller)."""
        seen = collections.Counter()
        for _i in range(n):
            _code, headers, _body = self.get()
            seen[headers["X-App-Version"]] += 1
        return seen

    def served(self):
        """What nginx answers at the routing endpoint, asked from this host (the router's own read-back)."""
        from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import NginxRouter
        opts = dict(self.nginx)
        return NginxRouter(self.name, opts.pop("config_dir"), opts.pop("listen"), opts.pop("stable"),
                           opts.pop("canary"), **opts).served_routing()


def snapshot(folder):
    """Every entry of a folder, with the content of the regular files (sockets by name)."""
    out = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                out[name] = f.read()
        else:
            out[name] = None
    return out


def parent_of(pid):
    from ansible_collections.progressive.delivery.plugins.module_utils.procs import proc_stat
    try:
        return proc_stat(pid)[0]
    except OSError:
        return None


def refused_connection(port):
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_every_injection_probe_is_refused_before_anything_is_written(fleet, playbook):
    r = Release(fleet, playbook)
    rc, first = r.step("set_weight", weight=10)
    assert rc == 0, first.get("msg")
    conf_dir = fleet["nginx"].conf_dir
    before = snapshot(conf_dir)
    evil = harness.free_port()
    probes = [
        ("cohorts.always_canary", r.body(**{"cohorts.always_canary": [INJECTED_COHORT % evil]})),
        ("cohorts.always_canary", r.body(**{"cohorts.always_canary": ["$http_authorization"]})),
        ("cohorts.never_canary", r.body(**{"cohorts.never_canary": ["internal\n"]})),
        ("cohorts.header", r.body(**{"cohorts.header": "x-cohort $request_uri"})),
        ("cohorts.header", r.body(**{"cohorts.header": "x_cohort"})),
        ("nginx.listen", r.body(**{"nginx.listen": "127.0.0.1:%d; location /etc { alias /etc/; } #" % r.port})),
        ("nginx.listen", r.body(**{"nginx.listen": "127.0.0.1:%d;\nserver { listen 127.0.0.1:%d; }" % (r.port, evil)})),
        ("nginx.stable", r.body(**{"nginx.stable": ["127.0.0.1:1; } server { listen 127.0.0.1:%d; location / { "
                                                    "return 200 pwned; } } upstream u { server 127.0.0.1:1" % evil]})),
        ("nginx.canary", r.body(**{"nginx.canary": ["127.0.0.1:%d backup" % fleet["apps"]["v2"].port]})),
        ("nginx.canary", r.body(**{"nginx.canary": ["127.0.0.1:notaport"]})),
        ("nginx.config_dir", r.body(**{"nginx.config_dir": conf_dir + ";"})),
        ("release", r.body(release="x/../../tmp/escaped")),
        ("release", r.body(release="co.l")),
        ("release", r.body(release="Checkout")),
    ]
    results = r.steps([dict(body, action="set_weight", weight=50) for _option, body in probes])
    for (option, body), result in zip(probes, results):
        assert result.get("failed") is True, (option, result)
        assert " %s " % option in result["msg"] or result["msg"].startswith(option), result["msg"]
        assert "is refused: it must be" in result["msg"] and "nothing was changed" in result["msg"], result["msg"]
    assert snapshot(conf_dir) == before  # not a byte written, no file added
    assert not os.path.exists(os.path.join(fleet["nginx"].prefix, "tmp", "escaped.conf"))
    assert refused_connection(evil)  # no injected server answers
    code, _headers, text = r.get("/etc/passwd")
    assert "root:" not in text and code in (200, 404)
    assert 3 <= r.versions(100)["v2"] <= 20  # still the 10% it had
    # and the router still works with good values
    rc, result = r.step("set_weight", weight=0)
    assert rc == 0 and result["changed"] is True


def test_the_routing_endpoint_is_off_the_public_listener_unless_asked(fleet, playbook):
    r = Release(fleet, playbook)
    rc, result = r.step("set_weight", weight=10)
    assert rc == 0, result.get("msg")
    code, text = r.get_from("127.0.0.2", "/__pd/routing")
    assert code == 403 and "canary_weight" not in text  # a client from elsewhere is refused
    served = r.served()  # the router's read-back, from this host
    assert served["canary_weight"] == 10 and served["listen"] == r.nginx["listen"]
    assert oct(os.stat(r.conf).st_mode & 0o777) == "0o644"
    rc, result = r.step("set_weight", weight=10, **{"nginx.expose_routing": True})
    assert rc == 0 and result["changed"] is True
    code, text = r.get_from("127.0.0.2", "/__pd/routing?token=s3cret")
    assert code == 200
    reply = json.loads(text)
    assert reply["canary_weight"] == 10 and reply["expose_routing"] is True and "s3cret" not in text
    rc, result = r.step("set_weight", weight=10, **{"nginx.expose_routing": True})
    assert rc == 0 and result["changed"] is False


def test_an_abort_killed_before_the_reload_is_finished_by_the_next_run(fleet, playbook):
    """Point 8: the walker is killed between writing the config and reloading nginx; the file says
    "all on stable", nginx still serves 50%. The next abort reads back what nginx serves and reloads."""
    r = Release(fleet, playbook)
    rc, result = r.step("set_weight", weight=50)
    assert rc == 0, result.get("msg")
    rc, killed = r.step("abort", env={"PROGRESSIVE_DELIVERY_FAILPOINT": "nginx_written"})
    assert rc != 0  # SIGKILLed at the failpoint
    with open(r.conf) as f:
        meta = json.loads(f.readline().split(" routing ", 1)[1])
    assert meta["canary_weight"] == 0 or meta["active"] is False  # the file says: all on stable
    assert r.served()["canary_weight"] == 50 and r.served()["active"] is True  # nginx does not
    assert r.versions(60)["v2"] > 0
    # check mode sees it too, and changes nothing
    rc, checked = r.step("abort", check=True, diff=True)
    assert rc == 0 and checked["changed"] is True, checked.get("msg")
    assert "# nginx serves: " in checked["diff"][0]["before"]
    assert r.served()["canary_weight"] == 50
    rc, result = r.step("abort")
    assert rc == 0 and result["changed"] is True, result.get("msg")
    assert result["weights"] == {"stable": 100, "canary": 0}
    assert r.versions(60) == {"v1": 60}
    rc, again = r.step("abort")
    assert rc == 0 and again["changed"] is False
    leftovers = [n for n in os.listdir(fleet["nginx"].conf_dir) if n.endswith(".tmp")]
    assert not leftovers, leftovers


def test_a_run_killed_after_the_reload_left_nothing_to_do(fleet, playbook):
    r = Release(fleet, playbook)
    rc, result = r.step("set_weight", weight=50)
    assert rc == 0, result.get("msg")
    rc, _killed = r.step("abort", env={"PROGRESSIVE_DELIVERY_FAILPOINT": "nginx_reloaded"})
    assert rc != 0
    # the reload had been asked for (nginx applies it on its own time); the killed run verified nothing
    harness.wait_for(lambda: r.served()["active"] is False, 10, "nginx to apply the reload")
    rc, result = r.step("abort")
    assert rc == 0 and result["changed"] is False and result["weights"] == {"stable": 100, "canary": 0}
    assert r.versions(60) == {"v1": 60}


def test_a_config_nginx_cannot_serve_is_put_back_and_nginx_reloaded_to_it(fleet, playbook):
    """nginx -t passes, the reload is accepted, but the new listener cannot bind (the port is taken):
    nginx keeps the old config, the read-back says so, and the previous file is put back."""
    r = Release(fleet, playbook)
    rc, result = r.step("set_weight", weight=10)
    assert rc == 0, result.get("msg")
    with open(r.conf) as f:
        before = f.read()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        rc, result = r.step("set_weight", weight=50, **{"nginx.listen": "127.0.0.1:%d" % taken.getsockname()[1]})
    assert rc != 0
    assert "the previous config file was put back and nginx reloaded to it" in result["msg"], result["msg"]
    with open(r.conf) as f:
        assert f.read() == before
    assert r.served()["canary_weight"] == 10
    assert 3 <= r.versions(100)["v2"] <= 20


def test_nginx_starts_again_after_its_master_was_killed(fleet, playbook, tmp_path):
    """The routing endpoint lives on the release's own listener, not on a unix socket: nginx leaves a socket
    file behind when its master is killed and then cannot start again until someone removes it."""
    own = harness.Nginx(str(tmp_path))
    try:
        r = Release(dict(fleet, nginx=own), playbook)
        rc, result = r.step("set_weight", weight=10)
        assert rc == 0, result.get("msg")
        assert not [f for f in os.listdir(own.conf_dir) if f.endswith(".sock")]
        # a crash, and what systemd does about it: the master and its workers killed, nginx started again
        master = own.process.proc.pid
        workers = [int(p) for p in os.listdir("/proc") if p.isdigit() and parent_of(int(p)) == master]
        for pid in [master] + workers:
            os.kill(pid, signal.SIGKILL)
        own.process.proc.wait()
        os.remove(os.path.join(own.prefix, "nginx.pid"))
        again = harness.Nginx(str(tmp_path))  # the same prefix and config, as systemd would restart it
        try:
            assert r.served()["canary_weight"] == 10
        finally:
            again.stop()
    finally:
        own.stop()
