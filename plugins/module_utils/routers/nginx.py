# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host nginx: weighted upstreams plus a header map for cohorts, one file per release.

Nothing reaches the configuration unchecked: the release name, every address, the listen address,
the header name and the cohort values are validated against their grammars before anything is
written (``RouterError`` names the option, the value and the grammar).

Every change is written to a temp name of its own, fsynced and renamed, checked with ``nginx -t``, and
applied with a graceful reload (old workers finish their requests); the previous file is kept as
``.prev``. A change is verified, not assumed: a ``/__pd/routing`` endpoint on the release's listener
answers what the running workers route, to this host only (loopback and the listen address itself;
to everyone only with ``expose_routing``). Not a unix socket: nginx leaves a socket file behind when
its master is killed, and then refuses to start until someone removes it.
A config that fails ``nginx -t``, the reload or that
read-back is always put back (and nginx reloaded to it once a reload happened). ``reconcile`` compares
with what nginx serves, not only with the file, so a job killed between writing and reloading is
finished by the next run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import secrets
import subprocess
import time
from http.client import HTTPConnection, HTTPException

from ansible_collections.progressive.delivery.plugins.module_utils.failpoints import failpoint
from ansible_collections.progressive.delivery.plugins.module_utils.procs import proc_stat
from ansible_collections.progressive.delivery.plugins.module_utils.release_store import FileStore, write_atomic
from ansible_collections.progressive.delivery.plugins.module_utils.routers import (
    MIRROR_HEADER, Change, Router, RouterError, Routing, shown)
from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx_values import (  # noqa: F401
    ADDRESS_GRAMMAR, local_addresses, validate_address, validate_listen, validate_nginx_header, validate_path)

MARK = "# progressive.delivery routing "
FORMAT = 5  # of the rendered file; a file of another format is rewritten (5: the relay's token)
MODES = ("server", "include")
DEFAULT_CONFIG_DIR = "/etc/nginx/conf.d"
ROUTING_PATH = "/__pd/routing"
CONFIG_MODE = 0o644

WORKER_HEADER = "X-PD-Worker"  # the routing endpoint says which worker answered
SETTLE_SECONDS = 0.5

# Mirroring (issue 17): nginx ends a request only once its mirror subrequest has ended, so a copy that waited for a
# slow canary would hold the client's next request on a kept-alive connection for as long as the canary takes. The
# copy therefore goes to a relay on the router's own server (loopback) that answers at once (empty_gif) and hands
# the copy to the canary by a mirror of its own: the user's request ends as soon as the relay has answered, and the
# relay's copy - which ignores that its client has gone - still waits for the canary's whole answer, so the
# canary's own metrics see every copy answered in full (an app that counts a request after writing its answer
# would lose the slow ones otherwise, and a slow canary would look fast). MIRROR_TIMEOUTS only bound a relay that
# does not answer; RELAY_CONNECTIONS caps the copies waiting at once on each canary server (more are dropped, never
# queued), so a canary that hangs cannot use up nginx's connections. Measured in
# tests/integration/test_router_nginx_mirror.py, documented in docs/mirroring.md.
# The relay is on a server users may reach through a load balancer on this host (which connects from loopback), so
# the remote address does not tell a copy from a forged one: the mirror sends a random token of the release's in
# RELAY_TOKEN_HEADER and the relay refuses (403) a request without it, and (405) a method the mirror does not copy.
# The token lives only in the routing file (never in the routing endpoint's answer, a diff or a result), and is read
# back from it, so a re-render is the same file.
MIRROR_PATH = "/__pd/mirror/"
RELAY_PATH = "/__pd/relay/"
COPY_PATH = "/__pd/copy/"
RELAY_HEADER = "x-pd-relay-uri"  # the copy's original request URI, from the mirror to the relay
RELAY_TOKEN_HEADER = "x-pd-relay-token"
RELAY_TOKEN_LINE = re.compile(r'^ *default "([0-9a-f]{32})";  # the relay token$', re.M)
REDACTED_TOKEN = "<the relay token>"
MIRROR_TIMEOUTS = (("proxy_connect_timeout", "200ms"), ("proxy_send_timeout", "300ms"),
                   ("proxy_read_timeout", "300ms"))
RELAY_TIMEOUT = "10s"
RELAY_CONNECTIONS = 64
RELAY_ZONE = "64k"  # the relay upstream's shared memory: max_conns counts over all workers, not per worker


def upstream_name(release):
    """``pd_`` and the release with '-' as '_': one name a release (a DNS label has no '_')."""
    return "pd_" + release.replace("-", "_")


def older_workers(pid):
    """Pids of nginx workers under the same master as worker ``pid`` that started before it and still accept
    connections (not "shutting down"), or None when /proc cannot tell."""
    if not pid or not os.path.isdir("/proc/%d" % pid):
        return None
    try:
        master, started = proc_stat(pid)
        tolerance = max(1, os.sysconf("SC_CLK_TCK") // 50)  # the workers of one generation start within 20 ms
        older = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == pid:
                continue
            try:
                parent, since = proc_stat(int(entry))
                if parent != master or since >= started - tolerance:
                    continue
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    title = f.read().replace(b"\0", b" ").strip()
            except (IOError, OSError, ValueError, IndexError):
                continue  # gone meanwhile
            if title.startswith(b"nginx: worker process") and b"shutting down" not in title:
                older.append(int(entry))
        return sorted(older)
    except (IOError, OSError, ValueError, IndexError):
        return None


def _meta_in(text):
    """The first line of a config file of ours, as a dict, or None."""
    if not text or not text.startswith(MARK):
        return None
    try:
        meta = json.loads(text.splitlines()[0][len(MARK):])
    except ValueError:
        return None
    return meta if isinstance(meta, dict) else None


def config_path(config_dir, release):
    return os.path.join(config_dir, "pd-%s.conf" % release)


def saved_options(config_dir, release):
    """The nginx options the release's last routing change kept (its file's first line): listen, stable,
    canary, mode, expose_routing, weight_header and the cohorts, or None when there is no such file."""
    try:
        with open(config_path(config_dir, release)) as f:
            return _meta_in(f.readline())
    except (IOError, OSError):
        return None


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
                 prefix=None, binary="nginx", verify_timeout=10.0, expose_routing=False, mode="server",
                 weight_header=False, check_mode=False):
        super(NginxRouter, self).__init__(release, check_mode)
        for option, addresses in (("nginx.stable", stable), ("nginx.canary", canary)):
            if not addresses or isinstance(addresses, str):
                raise RouterError("nginx router of release '%s' needs a list of at least one %s address (%s)"
                                  % (release, option.split(".")[1], ADDRESS_GRAMMAR))
        self.config_dir = validate_path(config_dir, "nginx.config_dir")
        self.listen = validate_listen(listen)
        self.stable = [validate_address(a, "nginx.stable") for a in stable]
        self.canary = [validate_address(a, "nginx.canary") for a in canary]
        self.main_config = validate_path(main_config, "nginx.main_config")
        self.prefix = validate_path(prefix, "nginx.prefix", required=False)
        self.binary = validate_path(binary, "nginx.binary")
        self.verify_timeout = verify_timeout
        self.expose_routing = bool(expose_routing)
        if mode not in MODES:
            raise RouterError("nginx.mode %s is refused: it must be one of %s; nothing was changed"
                              % (shown(mode), ", ".join(MODES)))
        self.mode = mode
        self.weight_header = bool(weight_header)
        self.name = upstream_name(self.release)
        self.path = config_path(self.config_dir, self.release)
        # include mode: the lines a location of the user's own server block includes (not *.conf: nginx's
        # http block must not include it)
        self.location_path = os.path.join(self.config_dir, "pd-%s.location" % self.release)
        self.state_path = os.path.join(self.config_dir, "pd-%s.state.json" % self.release)
        self.probe_allowed = local_addresses(self.listen)[2]
        self._relay_token = None  # read from the routing file, or made, on first use (relay_token)

    supports_mirror = True

    def check_routing(self, routing):
        validate_nginx_header(routing.header)
        if routing.mirror:
            self.check_mirror(routing.mirror)
        return routing

    def check_mirror(self, mirror):
        for name in mirror.headers:  # nginx sees header variables only for these names
            validate_nginx_header(name, "setMirrorRoute header")

    def relay_token(self):
        """The release's relay token: the one its routing file has (a re-render is the same file), else a new one."""
        if self._relay_token is None:
            found = RELAY_TOKEN_LINE.search(self._read(self.path) or "")
            self._relay_token = found.group(1) if found else secrets.token_hex(16)
        return self._relay_token

    def _change(self, changed, before, after):
        """A Change whose texts (a diff, a result) never show the relay token."""
        def redacted(text):
            return text.replace(self.relay_token(), REDACTED_TOKEN) if text else text
        return Change(changed, redacted(before), redacted(after))

    # ------------------------------------------------------------------ rendering

    def meta(self, routing):
        """What a config says it routes; the routing endpoint answers it, and the file's first line keeps it."""
        return dict(routing.to_dict(), stable=self.stable, canary=self.canary, listen=self.listen,
                    expose_routing=self.expose_routing, mode=self.mode, weight_header=self.weight_header,
                    format=FORMAT)

    def location_lines(self, routing=None):
        """What a location of the user's server block includes in include mode: the proxy to the release.
        The same for every step (the weight and the cohorts live in variables every config of ours defines),
        so a config put back never leaves it pointing at nothing; only a mirror adds lines while it lasts (and
        the variable they read is defined by every config of this format, mirror or not)."""
        lines = ["# managed by progressive.delivery: the proxy to release %s, for a location of your own server "
                 "block:" % self.release,
                 "#     location / { include %s; }" % self.location_path]
        lines += self.proxy_lines(routing, weight_header=self.weight_header, indent="")
        return "\n".join(lines + [""])

    def proxy_lines(self, routing, weight_header, indent):
        """The proxy to the release (and, while one is asked for, the mirror to the canary) for a location."""
        n = self.name
        lines = ["proxy_pass http://$%s_backend;" % n,
                 "proxy_http_version 1.1;",
                 'proxy_set_header Connection "";',
                 "proxy_set_header Host $host;",
                 # a user's request never passes for a copy: the canary's metrics tell copies by this header
                 'proxy_set_header %s "";' % MIRROR_HEADER]
        if weight_header:
            # only when asked in include mode: an add_header there stops the location inheriting the server's
            lines.append("add_header X-Canary-Weight $%s_weight_header always;" % n)
        if routing is not None and routing.mirror:
            lines += self.mirror_lines(routing.mirror)
        return [indent + line if line else line for line in lines]

    def mirror_lines(self, mirror):
        """nginx's mirror to an internal location nested in the release's location (nginx takes no other
        place in a user's server block): it answers 204 for the requests the mirror does not pick, and sends the
        others to the relay (relay_lines), which answers at once (MIRROR_TIMEOUTS bound one that does not); nginx
        discards every answer."""
        n, uri = self.name, MIRROR_PATH + self.release
        host, port, _allowed = local_addresses(self.listen)
        relay = "%s:%d" % ("[%s]" % host if ":" in host else host, port)
        lines = ["mirror %s;" % uri]
        if not mirror.writes:
            lines.append("mirror_request_body off;")  # GET/HEAD copies carry no body: nothing to wait for
        lines += ["location = %s {" % uri,
                  "    internal;",
                  "    if ($%s_mirror = 0) {" % n,
                  "        return 204;",
                  "    }",
                  "    proxy_pass http://%s%s%s;" % (relay, RELAY_PATH, self.release),
                  "    proxy_set_header Host $host;",
                  "    proxy_set_header %s $request_uri;" % RELAY_HEADER,
                  "    proxy_set_header %s $%s_relay_token;" % (RELAY_TOKEN_HEADER, n),
                  "    proxy_next_upstream off;"]
        lines += ["    %s %s;" % pair for pair in MIRROR_TIMEOUTS]
        if not mirror.writes:
            lines += ["    proxy_pass_request_body off;", '    proxy_set_header Content-Length "";']
        return lines + ["}"]

    def relay_lines(self, mirror):
        """The relay, on the router's own server, to this host only: it answers the mirror at once and copies the
        request on to the canary pool with MIRROR_HEADER, waited for in full though the relay's client has gone
        (proxy_ignore_client_abort)."""
        n = self.name
        header_var = "$http_" + RELAY_HEADER.replace("-", "_")
        lines = ["    location = %s%s {" % (RELAY_PATH, self.release),
                 "        if ($%s_here = 0) {" % n,
                 "            return 403;",
                 "        }",
                 "        if ($http_%s != $%s_relay_token) {" % (RELAY_TOKEN_HEADER.replace("-", "_"), n),
                 "            return 403;",
                 "        }",
                 # the methods were validated (capitals only)
                 '        if ($request_method !~ "^(%s)$") {' % "|".join(mirror.methods),
                 "            return 405;",
                 "        }",
                 '        if (%s !~ "^/") {' % header_var,
                 "            return 400;",
                 "        }",
                 "        mirror %s%s;" % (COPY_PATH, self.release)]
        if not mirror.writes:
            lines.append("        mirror_request_body off;")
        lines += ["        empty_gif;  # the answer the mirror waits for, at once (405 to a write: discarded too)",
                  "    }",
                  "    location = %s%s {" % (COPY_PATH, self.release),
                  "        internal;",
                  "        proxy_pass http://%s_relay%s;" % (n, header_var),
                  "        proxy_http_version 1.1;",
                  '        proxy_set_header Connection "";',
                  "        proxy_set_header Host $host;",
                  "        proxy_set_header %s 1;" % MIRROR_HEADER,
                  '        proxy_set_header %s "";' % RELAY_HEADER,
                  '        proxy_set_header %s "";' % RELAY_TOKEN_HEADER,
                  "        proxy_ignore_client_abort on;",
                  "        proxy_next_upstream off;",
                  "        proxy_read_timeout %s;" % RELAY_TIMEOUT]
        if not mirror.writes:
            lines += ["        proxy_pass_request_body off;", '        proxy_set_header Content-Length "";']
        return lines + ["    }"]

    def mirror_maps(self, routing):
        """``$<name>_mirror``: 1 for a request the mirror copies - its method is mirrored, its headers equal the
        mirror's, it is not of a cohort (a cohort's requests are routed, never copied, as on Istio and Gateway API),
        and split_clients on the request's random id picks it for ``percentage``% - else 0. Defined by every config
        (0 without a mirror) so an include file with mirror lines never names an unknown variable.
        Maps chain to AND the conditions; keys are literal (a leading backslash), values were validated."""
        n, mirror = self.name, routing.mirror
        if not mirror:
            return ["map $host $%s_mirror {" % n, "    default 0;", "}"]
        lines, picked = [], "1"
        if mirror.percentage < 100:
            picked = "$%s_mirror_pick" % n
            lines += ['split_clients "${request_id}" %s {' % picked, "    %d%% 1;" % mirror.percentage,
                      "    * 0;", "}"]
        cohorts = sorted(routing.cohort_targets())
        if cohorts:
            var = "$%s_mirror_cohort" % n
            lines += ["map $http_%s %s {" % (routing.header.replace("-", "_"), var), "    default %s;" % picked]
            lines += ['    "\\%s" 0;' % cohort for cohort in cohorts] + ["}"]
            picked = var
        headers = sorted(mirror.headers.items())
        for i in reversed(range(len(headers))):
            name, value = headers[i]
            var = "$%s_mirror_h%d" % (n, i)
            lines += ["map $http_%s %s {" % (name.replace("-", "_"), var), "    default 0;",
                      '    "\\%s" %s;' % (value, picked), "}"]
            picked = var
        lines += ["map $request_method $%s_mirror {" % n, "    default 0;"]
        lines += ['    "\\%s" %s;' % (method, picked) for method in mirror.methods]
        return lines + ["}"]

    def render(self, routing):
        self.check_routing(routing)
        stable_w, canary_w = routing.weights
        n = self.name
        header_var = "$http_" + routing.header.replace("-", "_")
        meta_json = json.dumps(self.meta(routing), sort_keys=True)
        # every value in it was validated; nginx would expand a '$' in the reply, and a quote would end it
        if set(meta_json) & set("$'\\\n\r"):
            raise RouterError("%s: the routing reply %s would not be literal in nginx's configuration"
                              % (self.describe(), shown(meta_json)))
        # this host only, unless asked; the reply says which worker answered: the read-back tells
        # the generations of workers apart after a reload
        # (``return`` runs before allow/deny would, hence a geo variable and a 403 ahead of the reply)
        endpoint = ["    location = %s {" % ROUTING_PATH]
        if not self.expose_routing:
            endpoint += ["        if ($%s_here = 0) {" % n, "            return 403;", "        }"]
        endpoint += ["        default_type application/json;",
                     "        add_header %s $pid always;" % WORKER_HEADER,
                     "        return 200 '%s';" % meta_json,
                     "    }"]
        lines = [MARK + meta_json, "# managed by progressive.delivery; edits are replaced on the next step", ""]
        lines += ["upstream %s_stable {" % n] + ["    server %s;" % s for s in self.stable] + ["    keepalive 16;", "}"]
        lines += ["upstream %s_canary {" % n] + ["    server %s;" % s for s in self.canary] + ["    keepalive 16;", "}"]
        lines += ["upstream %s_weighted {" % n] + ["    " + s for s in upstream_servers(
            self.stable, self.canary, (stable_w, canary_w))] + ["    keepalive 16;", "}"]
        if routing.mirror:  # the canary pool for copies: a cap on the copies waiting at once, over all workers
            lines += ["upstream %s_relay {" % n, "    zone %s_relay %s;" % (n, RELAY_ZONE)]
            lines += ["    server %s max_conns=%d;" % (s, RELAY_CONNECTIONS) for s in self.canary]
            lines += ["    keepalive 16;", "}"]
        lines += ["map %s $%s_backend {" % (header_var, n), "    default %s_weighted;" % n]
        for cohort, target in sorted(routing.cohort_targets().items()):
            # the leading backslash makes the value literal: not a regex (~), nor default/include/hostnames
            lines.append('    "\\%s" %s_%s;' % (cohort, n, target))
        lines += ["}"]
        # an empty value: add_header sends nothing, so the header is off the public server unless asked for
        lines += ["map $host $%s_weight_header {" % n,
                  '    default "%s";' % (canary_w if self.weight_header else ""), "}"]
        lines += self.mirror_maps(routing)
        lines += ["map $host $%s_relay_token {" % n, '    default "%s";  # the relay token' % self.relay_token(),
                  "}"]
        lines += ["geo $%s_here {" % n, "    default 0;"] + ["    %s 1;" % a for a in self.probe_allowed]
        lines += ["}", "server {", "    listen %s;" % self.listen]
        lines += endpoint
        if routing.mirror:
            lines += self.relay_lines(routing.mirror)
        if self.mode == "include":
            # the router's own server: the routing endpoint only; the release is served by the user's server
            # block through pd-<release>.location
            lines += ["    location / {", "        return 404;", "    }", "}", ""]
        else:
            lines += ["    location / {"] + self.proxy_lines(routing, weight_header=True, indent="        ")
            lines += ["    }", "}", ""]
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
        meta = _meta_in(text)
        try:
            return Routing.from_dict(meta) if meta is not None else None
        except RouterError:
            return None

    def file_routing(self):
        """The Routing the config file says, or None."""
        return self._routing_in(self._read(self.path))

    def current_routing(self):
        """What nginx serves when it answers, else what the file says (None when neither has any)."""
        served = self.served_routing()
        if served:
            try:
                return Routing.from_dict(served)
            except RouterError:
                pass
        return self.file_routing()

    def served_routing(self):
        """What the running nginx workers route (the routing endpoint, asked from this host), or None when
        nothing answers there."""
        return self._probe()[0]

    def _probe(self, listen=None):
        """(the routing endpoint's answer or None, the pid of the worker that answered or None)."""
        # http.client, not ansible's open_url: no process-wide opener, no proxy from the environment
        host, port, _allowed = local_addresses(listen or self.listen)
        conn = HTTPConnection(host, port, timeout=2)
        try:
            conn.request("GET", ROUTING_PATH)
            resp = conn.getresponse()
            if resp.status != 200:
                return None, None
            data = json.loads(resp.read(1 << 20).decode("utf-8"))
            pid = resp.getheader(WORKER_HEADER)
        except (OSError, ValueError, HTTPException):
            return None, None
        finally:
            conn.close()
        if not isinstance(data, dict):
            return None, None
        return data, int(pid) if pid and pid.isdigit() else None

    # ------------------------------------------------------------------ writing

    def _nginx(self, *args):
        argv = [self.binary, "-c", self.main_config] + (["-p", self.prefix] if self.prefix else []) + list(args)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return 1, str(e)
        return proc.returncode, (proc.stderr or proc.stdout).strip()

    def _location_change(self, routing):
        """Include mode: write pd-<release>.location when it is missing or differs. Returns (changed, the text it
        had: None when there was none) - (False, None) in server mode."""
        if self.mode != "include":
            return False, None
        wanted = self.location_lines(routing)
        had = self._read(self.location_path)
        if had == wanted:
            return False, had
        if not self.check_mode:
            if not os.path.isdir(self.config_dir):
                raise RouterError("%s: config_dir %s does not exist; create it and include %s/*.conf in nginx's "
                                  "http block" % (self.describe(), self.config_dir, self.config_dir))
            write_atomic(self.location_path, wanted, CONFIG_MODE)
        return True, had

    def _location_put_back(self, had):
        """Include mode, after a failed change: the include file as it was - or, when there was none, the one
        without a mirror (the user's server block may include it already: it must never be missing)."""
        if self.mode == "include":
            write_atomic(self.location_path, had if had is not None else self.location_lines(), CONFIG_MODE)

    def _hint(self, out):
        """What to do about an nginx -t error the router's own lines can cause."""
        if self.mode == "include" and "is outside location" in out and MIRROR_PATH in out:
            return (" (a mirror adds a location nested in the one that includes %s: mirroring in include mode "
                    "needs that include in your server block's `location /`)" % self.location_path)
        return ""

    def reconcile(self, routing):
        desired = self.render(routing)
        want = self.meta(routing)
        # first: a server block of the user's that includes it must never find it missing
        location_changed, location_had = self._location_change(routing)
        current = self._read(self.path)
        served = self.served_routing()
        if current == desired and served == want and not (location_changed and not self.check_mode):
            return self._change(location_changed, current, desired)
        before = current
        if current == desired and served != want:
            # the file is right, nginx does not serve it (a run killed before its reload): reload
            before = "%s# nginx serves: %s\n" % (current, json.dumps(served, sort_keys=True) if served else
                                                 "nothing at http://%s%s" % (self.listen, ROUTING_PATH))
        if self.check_mode:
            return self._change(True, before, desired)
        if not os.path.isdir(self.config_dir):
            raise RouterError("%s: config_dir %s does not exist; create it and include %s/*.conf in nginx's "
                              "http block" % (self.describe(), self.config_dir, self.config_dir))
        if current != desired:
            if current is not None:
                write_atomic(self.path + ".prev", current, CONFIG_MODE)
            write_atomic(self.path, desired, CONFIG_MODE)
        failpoint("nginx_written")
        rc, out = self._nginx("-t")
        if rc != 0:
            hint = self._hint(out)
            if location_changed:
                self._location_put_back(location_had)
            restored = self._put_back(current, desired, reloaded=False)
            if current == desired and not location_changed:
                raise RouterError("%s: nginx -t rejects the config file, which is the one asked for (%s): %s"
                                  % (self.describe(), restored, out))
            raise RouterError("%s: nginx -t rejected the new config, the previous one is still in place (%s): %s%s"
                              % (self.describe(), restored, out, hint))
        rc, out = self._nginx("-s", "reload")
        if rc != 0:
            if location_changed:
                self._location_put_back(location_had)
            restored = self._put_back(current, desired, reloaded=False)
            raise RouterError("%s: nginx reload failed (%s); %s. Is nginx running with %s?"
                              % (self.describe(), out, restored, self.main_config))
        failpoint("nginx_reloaded")
        seen, lingering = self._wait_served(want)
        if seen != want:
            if location_changed:
                self._location_put_back(location_had)
            restored = self._put_back(current, desired, reloaded=True)
            raise RouterError("%s: nginx was reloaded but its routing endpoint (%s) says %s, not %s; %s. Check "
                              "nginx's error log" % (self.describe(), self.listen, shown(seen, 300),
                                                     shown(want, 300), restored))
        if lingering:
            raise RouterError("%s: nginx serves the new routing, but older nginx workers (pids %s) still accept "
                              "connections with the previous one %ss after the reload; check nginx's error log"
                              % (self.describe(), ", ".join(str(p) for p in lingering), self.verify_timeout))
        return self._change(True, before, desired)

    def _put_back(self, previous, desired, reloaded):
        """Put the previous config file back (and reload nginx to it when a reload happened); says what it did."""
        if previous == desired:
            return "the config file is the one asked for; nginx still serves the routing it had"
        if previous is None:
            try:
                os.remove(self.path)
            except OSError:
                pass
            what = "the new config file was removed (there was none before)"
        else:
            write_atomic(self.path, previous, CONFIG_MODE)
            what = "the previous config file was put back"
        if not reloaded:
            return what
        rc, out = self._nginx("-s", "reload")
        if rc != 0:
            return "%s, but reloading nginx to it failed: %s" % (what, out)
        old = _meta_in(previous)
        if old is not None and old.get("format") == FORMAT and self._wait_served(old)[0] != old:
            return "%s and nginx reloaded, but nginx does not serve it yet" % what
        return "%s and nginx reloaded to it" % what

    def _wait_served(self, want):
        """Wait (bounded) until new connections are served by workers with ``want`` only: a worker of the new
        generation answers ``want`` and no worker of an older one still accepts connections (after a reload
        nginx's master lets both accept for a moment before it tells the old ones to stop).

        Returns (the last answer, pids of older workers still accepting: [] when none, or when that cannot
        be known, once ``want`` has been answered for SETTLE_SECONDS in a row)."""
        deadline = time.time() + self.verify_timeout
        agreed_since = None
        served, lingering = None, []
        while True:
            served, pid = self._probe(want.get("listen"))  # a config put back may listen elsewhere
            if served == want:
                lingering = older_workers(pid)
                if lingering is None:  # no /proc: the same answer for a while instead
                    agreed_since = agreed_since or time.time()
                    lingering = [] if time.time() - agreed_since >= SETTLE_SECONDS else ["unknown"]
                if not lingering:
                    return served, []
            else:
                agreed_since = None
            if time.time() >= deadline:
                return served, lingering if served == want else []
            time.sleep(0.05)

    def check_next_release(self, promoted_version, canary_version):
        """After a promotion the canary pool serves everything: the next release's stable pool is that pool.
        Given the old stable pool again, its first step would move all traffic back onto the version the
        promotion replaced (a silent downgrade): refuse, naming the pool to give."""
        saved = saved_options(self.config_dir, self.release) or {}
        served, replaced = sorted(saved.get("canary") or []), sorted(saved.get("stable") or [])
        if served and replaced and sorted(self.stable) == replaced and served != replaced:
            raise RouterError(
                "release '%s': %s was promoted and serves from the canary pool %s; releasing %s with nginx.stable %s "
                "would move all traffic back to the pool %s replaced. Give nginx.stable: %s (the pool serving %s) "
                "and the addresses of %s as nginx.canary (docs/first-release-nginx.md, the pools after a promotion)"
                % (self.release, promoted_version, ",".join(served), canary_version, ",".join(self.stable),
                   promoted_version, ",".join(served), promoted_version, canary_version))

    def restore_previous(self):
        """Put the previous config back (the instant restore) and reload."""
        routing = self._routing_in(self._read(self.path + ".prev"))
        if routing is None:
            raise RouterError("%s: no previous config kept at %s.prev" % (self.describe(), self.path))
        return self.reconcile(routing)

    # ------------------------------------------------------------------ state

    def state_store(self):
        return FileStore(self.state_path, self.describe(), self.check_mode)
