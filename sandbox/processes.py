"""Processes of the sandbox: the demo apps, the real Prometheus and the real nginx on 127.0.0.1.

Shared by `make demo` and the tests; every process is stopped by ``stop()`` (and its whole
process group on interrupt)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO_APP = os.path.join(HERE, "demo_app.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.read().decode("utf-8")


def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # the thing we wait for is not up yet
            last = e
        time.sleep(interval)
    raise TimeoutError("timed out after %ss waiting for %s (last error: %s)" % (timeout, what, last))


class Process(object):
    """A child process that is always stopped, with its output kept for failure messages."""

    def __init__(self, argv, name, cwd=None):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix="%s-" % name, suffix=".log", delete=False)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd,
                                     start_new_session=True)

    def output(self):
        with open(self.log.name) as f:
            return f.read()[-4000:]

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class DemoApp(object):
    def __init__(self, version="v1", error_rate=0.0, latency=0.0, load_rps=40, load_seconds=900):
        self.port = free_port()
        self.version = version
        self.url = "http://127.0.0.1:%d" % self.port
        self.process = Process([sys.executable, DEMO_APP, "--port", str(self.port), "--version", version,
                                "--error-rate", str(error_rate), "--latency", str(latency),
                                "--load-rps", str(load_rps), "--load-seconds", str(load_seconds)],
                               "app-%s" % version)
        wait_for(lambda: http_get(self.url + "/healthz")[0] == 200, 20, "demo app %s" % version)

    def control(self, **settings):
        return http_get(self.url + "/control?" + urllib.parse.urlencode(settings))

    def stop(self):
        self.process.stop()


def prometheus_binary():
    found = shutil.which("prometheus") or ("/usr/bin/prometheus" if os.path.exists("/usr/bin/prometheus") else None)
    if not found:
        raise RuntimeError("the prometheus server is not installed; run `make system-deps` "
                           "(Debian package prometheus)")
    return found


class Prometheus(object):
    """The real Prometheus server scraping the given targets every second: ``{job, address, labels}``, or
    ``{job, file_sd}`` for targets read from a file_sd JSON file."""

    def __init__(self, targets, workdir):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        os.makedirs(workdir, exist_ok=True)
        config = os.path.join(workdir, "prometheus.yml")
        jobs = []
        for target in targets:
            if "file_sd" in target:  # targets discovered from a file the caller rewrites (as pods come and go)
                jobs.append("  - job_name: %s\n    file_sd_configs:\n      - files: [%s]\n        refresh_interval: 1s\n"
                            % (target["job"], json.dumps(target["file_sd"])))
                continue
            labels = "".join("\n          %s: %s" % (k, json.dumps(v)) for k, v in sorted(target["labels"].items()))
            jobs.append("""  - job_name: %s
    static_configs:
      - targets: ["%s"]
        labels:%s
""" % (target["job"], target["address"], labels))
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n" + "".join(jobs))
        self.process = Process([prometheus_binary(), "--config.file=" + config,
                                "--storage.tsdb.path=" + os.path.join(workdir, "data"),
                                "--web.listen-address=127.0.0.1:%d" % self.port,
                                "--web.enable-lifecycle", "--log.level=warn"], "prometheus")
        try:
            wait_for(lambda: http_get(self.url + "/-/ready")[0] == 200, 60, "Prometheus ready")
        except TimeoutError:
            self.stop()
            raise

    def query(self, promql):
        data = urllib.parse.urlencode({"query": promql}).encode()
        with urllib.request.urlopen(self.url + "/api/v1/query", data=data, timeout=10) as resp:
            return json.loads(resp.read().decode())["data"]["result"]

    def wait_for_data(self, promql, timeout=60):
        return wait_for(lambda: self.query(promql), timeout, "data for %s" % promql, interval=0.5)

    def stop(self):
        self.process.stop()


def nginx_binary():
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not found:
        raise RuntimeError("nginx is not installed; run `make system-deps` (Debian package nginx-light)")
    return found


class Nginx(object):
    """The real nginx with its own prefix: a main config whose http block includes ``conf.d/*.conf``,
    where the collection's nginx router writes one file per release."""

    def __init__(self, workdir):
        self.prefix = os.path.join(workdir, "nginx")
        self.conf_dir = os.path.join(self.prefix, "conf.d")
        for d in ("conf.d", "logs", "tmp"):
            os.makedirs(os.path.join(self.prefix, d), exist_ok=True)
        self.main_config = os.path.join(self.prefix, "nginx.conf")
        user = "user root;\n" if os.geteuid() == 0 else ""
        with open(self.main_config, "w") as f:
            f.write("""%sworker_processes 1;
pid %s/nginx.pid;
error_log %s/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %s/tmp/body;
    proxy_temp_path %s/tmp/proxy;
    fastcgi_temp_path %s/tmp/fastcgi;
    uwsgi_temp_path %s/tmp/uwsgi;
    scgi_temp_path %s/tmp/scgi;
    include %s/*.conf;
}
""" % ((user,) + (self.prefix,) * 7 + (self.conf_dir,)))
        self.binary = nginx_binary()
        self.process = Process([self.binary, "-c", self.main_config, "-p", self.prefix, "-g", "daemon off;"], "nginx")
        wait_for(lambda: os.path.exists(os.path.join(self.prefix, "nginx.pid")) or not self.process.alive(), 20,
                 "nginx started")
        if not self.process.alive():
            raise RuntimeError("nginx did not start:\n%s" % self.process.output())

    def router_options(self):
        """The nginx router's options for this instance."""
        return {"config_dir": self.conf_dir, "main_config": self.main_config, "prefix": self.prefix,
                "binary": self.binary}

    def error_log(self):
        try:
            with open(os.path.join(self.prefix, "logs", "error.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        self.process.stop()


class Started(object):
    """Processes started one after another, stopped in reverse order (also after a start that failed half-way);
    a subclass sets ``self.started = []`` before it starts any."""

    def _keep(self, proc):
        self.started.append(proc)
        return proc

    def stop(self):
        for proc in reversed(self.started):
            proc.stop()
        self.started = []


class Stack(Started):
    """App processes (version -> error_rate/latency), the real Prometheus scraping them with the label
    ``app=<label>`` (ready once every app is up), and nginx. ``stop()`` ends them all, also when the
    start fails half-way."""

    def __init__(self, workdir, apps, label="app"):
        self.started = []
        self.apps = {}
        try:
            for version, behaviour in apps.items():
                self.apps[version] = self._keep(DemoApp(version=version, load_rps=0, **behaviour))
            self.prometheus = self._keep(Prometheus(
                [{"job": v, "address": "127.0.0.1:%d" % a.port, "labels": {"app": label}}
                 for v, a in self.apps.items()], os.path.join(workdir, "prometheus")))
            self.prometheus.wait_for_data('count(up{app="%s"} == 1) == %d' % (label, len(apps)), timeout=60)
            self.nginx = self._keep(Nginx(workdir))
        except BaseException:
            self.stop()
            raise


class Fleet(Started):
    """Targets on 127.0.0.1, each its own nginx (on its own port) and one app process a version; one Prometheus
    scraping every app (labels app=fleet, target): the fleet of `make demo-fleet`, its bench and its tests.
    ``stop()`` ends them all, also when the start fails half-way."""

    def __init__(self, workdir, targets, versions, timeout=120):
        self.workdir, self.targets, self.versions = workdir, list(targets), versions
        self.started, self.apps, self.nginx, self.ports = [], {}, {}, {}
        try:
            for target in self.targets:
                for version, behaviour in versions.items():
                    self.apps[target, version] = self._keep(DemoApp(version=version, load_rps=0, **behaviour))
            self.prometheus = self._keep(Prometheus(
                [{"job": "%s-%s" % key, "address": "127.0.0.1:%d" % app.port,
                  "labels": {"app": "fleet", "target": key[0]}} for key, app in self.apps.items()],
                os.path.join(workdir, "prometheus")))
            self.prometheus.wait_for_data('count(up{app="fleet"} == 1) == %d' % len(self.apps), timeout=timeout)
            for target in self.targets:
                self.nginx[target] = self._keep(Nginx(os.path.join(workdir, target)))
                self.ports[target] = free_port()
        except BaseException:
            self.stop()
            raise

    def pool(self, target, version):
        return "127.0.0.1:%d" % self.apps[target, version].port
