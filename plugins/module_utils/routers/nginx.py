# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host nginx: weighted upstreams plus a header map for cohorts, one file per release.

Every change is written beside the old file, checked with ``nginx -t``, and applied with a graceful
reload (old workers finish their requests); the previous file is kept as ``.prev`` and put back at
once when the check or the reload fails. A ``/__pd/routing`` location answers what the running
workers route, so a change is verified, not assumed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import time

from ansible.module_utils.urls import open_url
from ansible_collections.progressive.delivery.plugins.module_utils.routers import Change, Router, RouterError, Routing

MARK = "# progressive.delivery routing "


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


def upstream_servers(stable, canary, weights):
    """Server lines for the weighted upstream: shares per side, split evenly over that side's servers."""
    stable_w, canary_w = weights
    lines = []
    sides = [(stable, stable_w * max(1, len(canary))), (canary, canary_w * max(1, len(stable)))]
    divisor = 0
    for _servers, w in sides:
        divisor = _gcd(divisor, w) if w else divisor
    for servers, w in sides:
        if w:
            lines += ["server %s weight=%d;" % (s, w // (divisor or 1)) for s in servers]
    return lines


class NginxRouter(Router):
    kind = "nginx"

    def __init__(self, release, config_dir, listen, stable, canary, main_config="/etc/nginx/nginx.conf",
                 prefix=None, binary="nginx", verify_timeout=10.0, check_mode=False):
        super(NginxRouter, self).__init__(release, check_mode)
        if not stable:
            raise RouterError("nginx router of release '%s' needs at least one stable address" % release)
        if not canary:
            raise RouterError("nginx router of release '%s' needs at least one canary address" % release)
        self.config_dir = config_dir
        self.listen = str(listen) if ":" in str(listen) else "127.0.0.1:%s" % listen
        self.stable = list(stable)
        self.canary = list(canary)
        self.main_config = main_config
        self.prefix = prefix
        self.binary = binary
        self.verify_timeout = verify_timeout
        safe = "".join(c if c.isalnum() else "_" for c in release)
        self.name = "pd_%s" % safe
        self.path = os.path.join(config_dir, "pd-%s.conf" % release)
        self.state_path = os.path.join(config_dir, "pd-%s.state.json" % release)

    # ------------------------------------------------------------------ rendering

    def render(self, routing):
        stable_w, canary_w = routing.weights
        n = self.name
        header_var = "$http_" + routing.header.replace("-", "_")
        meta = dict(routing.to_dict(), stable=self.stable, canary=self.canary, listen=self.listen)
        meta_json = json.dumps(meta, sort_keys=True)
        lines = [MARK + meta_json, "# managed by progressive.delivery; edits are replaced on the next step", ""]
        lines += ["upstream %s_stable {" % n] + ["    server %s;" % s for s in self.stable] + ["    keepalive 16;", "}"]
        lines += ["upstream %s_canary {" % n] + ["    server %s;" % s for s in self.canary] + ["    keepalive 16;", "}"]
        lines += ["upstream %s_weighted {" % n] + ["    " + s for s in upstream_servers(
            self.stable, self.canary, (stable_w, canary_w))] + ["    keepalive 16;", "}"]
        lines += ["map %s $%s_backend {" % (header_var, n), "    default %s_weighted;" % n]
        for cohort, target in sorted(routing.cohort_targets().items()):
            lines.append('    "%s" %s_%s;' % (cohort, n, target))
        lines += ["}", "server {", "    listen %s;" % self.listen,
                  "    location = /__pd/routing {",
                  "        default_type application/json;",
                  "        return 200 '%s';" % meta_json,
                  "    }",
                  "    location / {",
                  "        proxy_pass http://$%s_backend;" % n,
                  "        proxy_http_version 1.1;",
                  '        proxy_set_header Connection "";',
                  "        proxy_set_header Host $host;",
                  "        add_header X-Canary-Weight %d always;" % canary_w,
                  "    }",
                  "}", ""]
        return "\n".join(lines)

    # ------------------------------------------------------------------ reading

    def _read(self, path):
        try:
            with open(path) as f:
                return f.read()
        except (IOError, OSError):
            return None

    @staticmethod
    def _routing_in(text):
        """The Routing a config file of ours was rendered from (its first line), or None."""
        if not text or not text.startswith(MARK):
            return None
        try:
            return Routing.from_dict(json.loads(text.splitlines()[0][len(MARK):]))
        except (ValueError, RouterError):
            return None

    def current_routing(self):
        return self._routing_in(self._read(self.path))

    def served_routing(self):
        """What the running nginx workers route (from /__pd/routing), or None when unreachable."""
        try:
            with open_url("http://%s/__pd/routing" % self.listen, timeout=2) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------------ writing

    def _nginx(self, *args):
        argv = [self.binary, "-c", self.main_config] + (["-p", self.prefix] if self.prefix else []) + list(args)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return 1, str(e)
        return proc.returncode, (proc.stderr or proc.stdout).strip()

    def _write(self, path, text):
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)

    def reconcile(self, routing):
        desired = self.render(routing)
        current = self._read(self.path)
        if current == desired:
            return Change(False, current, desired)
        if self.check_mode:
            return Change(True, current, desired)
        if not os.path.isdir(self.config_dir):
            raise RouterError("%s: config_dir %s does not exist; create it and include %s/*.conf in nginx's "
                              "http block" % (self.describe(), self.config_dir, self.config_dir))
        if current is not None:
            self._write(self.path + ".prev", current)
        self._write(self.path, desired)
        rc, out = self._nginx("-t")
        if rc != 0:
            self._restore(current)
            raise RouterError("%s: nginx -t rejected the new config, the previous one is still in place: %s"
                              % (self.describe(), out))
        rc, out = self._nginx("-s", "reload")
        if rc != 0:
            self._restore(current)
            raise RouterError("%s: nginx reload failed (%s); the previous config file was put back. Is nginx "
                              "running with %s?" % (self.describe(), out, self.main_config))
        self._verify(routing)
        return Change(True, current, desired)

    def _restore(self, previous):
        if previous is None:
            os.remove(self.path)
        else:
            self._write(self.path, previous)

    def _verify(self, routing):
        """Wait (bounded) until new connections are served by workers with the new routing."""
        want = routing.to_dict()
        deadline = time.time() + self.verify_timeout
        served = None
        while time.time() < deadline:
            served = self.served_routing()
            if served and all(served.get(k) == v for k, v in want.items()):
                return
            time.sleep(0.05)
        raise RouterError("%s: nginx was reloaded but http://%s/__pd/routing still says %s, not %s; check "
                          "nginx's error log" % (self.describe(), self.listen, served, want))

    def restore_previous(self):
        """Put the previous config back (the instant restore) and reload."""
        routing = self._routing_in(self._read(self.path + ".prev"))
        if routing is None:
            raise RouterError("%s: no previous config kept at %s.prev" % (self.describe(), self.path))
        return self.reconcile(routing)

    # ------------------------------------------------------------------ state

    def load_state(self):
        text = self._read(self.state_path)
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise RouterError("%s: state file %s is not JSON; move it away to start the release afresh"
                              % (self.describe(), self.state_path))

    def save_state(self, state):
        if not self.check_mode:
            self._write(self.state_path, json.dumps(state, indent=1, sort_keys=True))
