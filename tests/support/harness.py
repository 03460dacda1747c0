"""Real parts for the tests: Prometheus and the demo app on 127.0.0.1, and ansible-playbook runs."""

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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
DEMO_APP = os.path.join(ROOT, "tests", "support", "demo_app.py")


def ensure_collection_path():
    """Lay the repository out as ansible_collections/progressive/delivery (a symlink)."""
    link = os.path.join(COLLECTIONS, "ansible_collections", "progressive", "delivery")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        tmp = link + ".%d" % os.getpid()
        os.symlink(ROOT, tmp)
        os.replace(tmp, link)
    if COLLECTIONS not in sys.path:
        sys.path.insert(0, COLLECTIONS)
    return COLLECTIONS


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
    """The real Prometheus server scraping the given targets every second."""

    def __init__(self, targets, workdir):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        config = os.path.join(workdir, "prometheus.yml")
        jobs = []
        for target in targets:
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


def run_playbook(playbook_text, workdir, extra_vars=None, check=False, diff=False, env=None, expect_rc=None):
    """Run ansible-playbook on localhost; return (rc, [task results of the one host], raw output)."""
    ensure_collection_path()
    path = os.path.join(workdir, "playbook-%d.yml" % int(time.time() * 1000))
    with open(path, "w") as f:
        f.write(playbook_text)
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
            "-c", "local", path, "-e", "ansible_python_interpreter=%s" % sys.executable]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    full_env = dict(os.environ)
    full_env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_HOME": os.path.join(workdir, ".ansible"),
    })
    full_env.update(env or {})
    proc = subprocess.run(argv, capture_output=True, text=True, env=full_env, cwd=workdir, timeout=600,
                          check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible-playbook did not print JSON (rc %d):\n%s\n%s"
                             % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    tasks = []
    for play in report["plays"]:
        for task in play["tasks"]:
            result = dict(task["hosts"].get("localhost", {}))
            result["_task"] = task["task"]["name"]
            tasks.append(result)
    if expect_rc is not None:
        assert proc.returncode == expect_rc, "ansible-playbook rc %d, expected %d:\n%s" % (
            proc.returncode, expect_rc, json.dumps(tasks, indent=1)[-4000:])
    return proc.returncode, tasks, proc.stdout + proc.stderr
