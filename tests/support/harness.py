"""Real parts for the tests (sandbox/processes.py: apps, Prometheus, nginx on 127.0.0.1) and ansible-playbook runs."""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
sys.path.insert(0, os.path.join(ROOT, "sandbox"))


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


# re-exported for the tests
from processes import (  # noqa: F401,E402  pylint: disable=unused-import
    DemoApp, Fleet, Nginx, Process, Prometheus, Stack, free_port, http_get, prometheus_binary, wait_for)


def task(module, options, name=None):
    """A playbook of one task on localhost: the collection's ``module`` with ``options``."""
    return ("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: %s\n      progressive.delivery.%s: %s\n"
            % (name or module, module, json.dumps(options)))


def run_playbook(playbook_text, workdir, extra_vars=None, check=False, diff=False, env=None, expect_rc=None,
                 inventory="localhost,"):
    """Run ansible-playbook on localhost; return (rc, [task results of the one host], raw output)."""
    return start_playbook(playbook_text, workdir, extra_vars, check, diff, env, inventory).result(expect_rc)


class RunningPlaybook(object):
    """ansible-playbook started in the background (``proc``); ``result()`` waits for it (bounded)."""

    def __init__(self, argv, env, cwd):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=cwd)

    def result(self, expect_rc=None, timeout=600):
        try:
            stdout, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise
        try:
            report = json.loads(stdout)
        except ValueError:
            raise AssertionError("ansible-playbook did not print JSON (rc %d):\n%s\n%s"
                                 % (self.proc.returncode, stdout[-3000:], stderr[-3000:]))
        tasks = []
        for play in report["plays"]:
            for task in play["tasks"]:
                result = dict(task["hosts"].get("localhost", {}))
                result["_task"] = task["task"]["name"]
                result["_play"] = play["play"]["name"]
                tasks.append(result)
        if expect_rc is not None:
            assert self.proc.returncode == expect_rc, "ansible-playbook rc %d, expected %d:\n%s" % (
                self.proc.returncode, expect_rc, json.dumps(tasks, indent=1)[-4000:])
        return self.proc.returncode, tasks, stdout + stderr


def start_playbook(playbook_text, workdir, extra_vars=None, check=False, diff=False, env=None, inventory="localhost,"):
    """Start ansible-playbook on localhost in the background; a RunningPlaybook. ``inventory`` (a file) adds
    hosts beside localhost - the targets of a fleet release, local connections with their own host vars."""
    ensure_collection_path()
    path = os.path.join(workdir, "playbook-%d.yml" % int(time.time() * 1000000))
    with open(path, "w") as f:
        f.write(playbook_text)
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
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
    return RunningPlaybook(argv, full_env, workdir)
