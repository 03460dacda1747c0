# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a release's state lives beside its router, and who may walk it.

Two promises, for a state file beside host nginx and for a ConfigMap on Kubernetes:

- **compare and swap**: every write names the revision it read; a write over someone else's newer state
  is refused (``StateConflict``), so a person's abort, pause or promote is never overwritten. A file is
  written to a temp name of its own, fsynced, then renamed (never half-written), mode 0600;
- **one walker**: ``acquire_walker()`` takes a lease that names its holder (host, pid, AWX job, since);
  a second walker is refused with that name (``WalkerBusy``). A lease whose holder died is stale and
  taken over: on a host, an flock the kernel drops with its process; on Kubernetes, an annotation on
  the state ConfigMap with a renew time, guarded by resourceVersion.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import errno
import fcntl
import json
import os
import pwd
import socket
import time

from ansible_collections.progressive.delivery.plugins.module_utils.k8s import Conflict, update_with_retry

WALKER_ANNOTATION = "progressive.delivery/walker"
LEASE_SECONDS = 30


class StateConflict(Exception):
    """Someone else wrote the state since it was read; read it again and decide again."""


class WalkerBusy(Exception):
    """Another walker holds the release."""


class StateError(Exception):
    """The state cannot be read or written; the message names the place and the fix."""


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def actor():
    """Who is acting: user@host, with the AWX job when there is one."""
    try:
        user = os.environ.get("USER") or pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        user = "uid %d" % os.getuid()
    job = os.environ.get("JOB_ID") or os.environ.get("AWX_JOB_ID") or os.environ.get("TOWER_JOB_ID")
    who = "%s@%s" % (user, socket.gethostname())
    return "%s (AWX job %s)" % (who, job) if job else who


def holder(now=None):
    """This process as a walker: a dict kept in the lease, and said to whoever is refused."""
    now = time.time() if now is None else now
    return {"who": actor(), "host": socket.gethostname(), "pid": os.getpid(), "since": iso(now),
            "since_t": round(now, 3), "renewed_t": round(now, 3), "lease_s": LEASE_SECONDS}


def describe_holder(h):
    return "%s, pid %s on %s, since %s" % (h.get("who"), h.get("pid"), h.get("host"), h.get("since"))


def revision_of(state):
    return (state or {}).get("revision", 0)


class FileStore(object):
    """The state as ``pd-<release>.state.json``; a ``.lock`` file serialises read-decide-write, a
    ``.walker`` file is flocked by the walker for its whole life."""

    def __init__(self, path, what, check_mode=False):
        self.path = path
        self.what = what
        self.check_mode = check_mode
        self._walker_fd = None
        self._held = 0

    def read(self):
        try:
            with open(self.path) as f:
                text = f.read()
        except (IOError, OSError) as e:
            if e.errno == errno.ENOENT:
                return None
            raise StateError("%s: cannot read state file %s: %s" % (self.what, self.path, e))
        try:
            return json.loads(text)
        except ValueError:
            raise StateError("%s: state file %s is not JSON; move it away to start the release afresh"
                             % (self.what, self.path))

    @contextlib.contextmanager
    def mutex(self):
        """Held around read-decide-route-write, so one change at a time lands whole."""
        if self._held or self.check_mode or not os.path.isdir(os.path.dirname(self.path) or "."):
            # re-entrant: a second flock on a new descriptor of the same file would wait for ourselves
            self._held += 1
            try:
                yield
            finally:
                self._held -= 1
            return
        fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._held = 1
            yield
        finally:
            self._held = 0
            os.close(fd)

    def write(self, state, expected_revision):
        """Write ``state`` as revision ``expected_revision + 1``; refused when the file moved on."""
        if self.check_mode:
            return expected_revision
        with self.mutex():
            current = revision_of(self.read())
            if current != expected_revision:
                raise StateConflict("%s: the state moved from revision %d to %d"
                                    % (self.what, expected_revision, current))
            state["revision"] = expected_revision + 1
            write_atomic(self.path, json.dumps(state, indent=1, sort_keys=True))
        return state["revision"]

    # ------------------------------------------------------------------ the walker's lease

    def _walker_path(self):
        return self.path + ".walker"

    def acquire_walker(self, me):
        """Take the walker lease; returns the stale holder taken over, or None."""
        if self.check_mode:
            return None
        fd = os.open(self._walker_path(), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            previous = _read_fd_json(fd)
            os.close(fd)
            raise WalkerBusy("%s is being walked by %s; wait for it, or stop it with router_step action=abort "
                             "or pause" % (self.what, describe_holder(previous or {"who": "another walker"})))
        previous = _read_fd_json(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        os.fsync(fd)
        self._walker_fd = fd
        # the kernel dropped the lock of a walker that died; what it left in the file says who it was
        return previous if previous and previous.get("pid") != me.get("pid") else None

    def renew_walker(self, me):
        """Nothing to renew: the flock lives as long as this process."""

    def release_walker(self, me):
        if self._walker_fd is not None:
            os.ftruncate(self._walker_fd, 0)
            os.close(self._walker_fd)
            self._walker_fd = None


def _read_fd_json(fd):
    try:
        text = os.pread(fd, 65536, 0).decode("utf-8")
        return json.loads(text) if text.strip() else None
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def write_atomic(path, text, mode=0o600):
    """A temp name of this writer's own, fsync, rename, fsync the folder: the file is old or new, never half."""
    folder = os.path.dirname(path) or "."
    tmp = "%s.%d.%s.tmp" % (path, os.getpid(), os.urandom(4).hex())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class ConfigMapStore(object):
    """The state in ConfigMap ``pd-release-<release>`` (key ``state``); the walker's lease in an
    annotation of the same ConfigMap. Every write carries the resourceVersion it read (409: read again)."""

    def __init__(self, read, write, name, namespace, what, check_mode=False, clock=time.time):
        """``read()`` gives the ConfigMap or None; ``write(body, create)`` writes it, raising k8s.Conflict
        on a 409 (k8s.write_object)."""
        self._read = read
        self._write = write
        self.name = name
        self.namespace = namespace
        self.what = what
        self.check_mode = check_mode
        self.clock = clock

    def read(self):
        cm = self._read()
        return _state_in(cm, self.what)

    @contextlib.contextmanager
    def mutex(self):
        """No lock across processes on the API server: resourceVersion guards every write instead."""
        yield

    def _new(self):
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": self.name, "namespace": self.namespace,
                             "labels": {"app.kubernetes.io/managed-by": "progressive.delivery"}},
                "data": {}}

    def _update(self, change, attempts=10):
        """Read the ConfigMap, let ``change(cm)`` edit it (it may raise), write it with its resourceVersion
        (k8s.update_with_retry: on a 409, read and change again)."""
        def edit(cm):
            body = cm if cm is not None else self._new()
            return body, change(body)

        def write(cm, edited):
            if not self.check_mode:
                self._write(edited[0], cm is None)
            return edited[1]
        try:
            return update_with_retry(self._read, edit, write, "%s: ConfigMap '%s'" % (self.what, self.name),
                                     attempts).after
        except Conflict as e:
            raise StateError(str(e))

    def write(self, state, expected_revision):
        def change(body):
            current = revision_of(_state_in(body, self.what) if body.get("data") else None)
            if current != expected_revision:
                raise StateConflict("%s: the state moved from revision %d to %d"
                                    % (self.what, expected_revision, current))
            state["revision"] = expected_revision + 1
            body.setdefault("data", {})["state"] = json.dumps(state, sort_keys=True)
            return state["revision"]
        if self.check_mode:
            return expected_revision
        return self._update(change)

    def acquire_walker(self, me):
        if self.check_mode:
            return None

        def change(body):
            notes = body["metadata"].setdefault("annotations", {}) or {}
            body["metadata"]["annotations"] = notes
            previous = _json_or_none(notes.get(WALKER_ANNOTATION))
            if previous and (previous.get("pid"), previous.get("host")) != (me["pid"], me["host"]):
                if self.clock() < previous.get("renewed_t", 0) + previous.get("lease_s", LEASE_SECONDS):
                    raise WalkerBusy("%s is being walked by %s (lease renewed %ds ago); wait for it, or stop it "
                                     "with router_step action=abort or pause" % (
                                         self.what, describe_holder(previous),
                                         self.clock() - previous.get("renewed_t", 0)))
                # its renew time passed: the walker died; take the lease over, and say whose it was
            else:
                previous = None
            notes[WALKER_ANNOTATION] = json.dumps(me, sort_keys=True)
            return previous
        return self._update(change)

    def renew_walker(self, me):
        if self.check_mode:
            return
        me["renewed_t"] = round(self.clock(), 3)

        def change(body):
            notes = body["metadata"].setdefault("annotations", {}) or {}
            body["metadata"]["annotations"] = notes
            current = _json_or_none(notes.get(WALKER_ANNOTATION)) or {}
            if (current.get("pid"), current.get("host")) != (me["pid"], me["host"]):
                raise WalkerBusy("%s: the walker's lease was taken over by %s"
                                 % (self.what, describe_holder(current)))
            notes[WALKER_ANNOTATION] = json.dumps(me, sort_keys=True)
        self._update(change)

    def release_walker(self, me):
        if self.check_mode:
            return

        def change(body):
            notes = body["metadata"].get("annotations") or {}
            current = _json_or_none(notes.get(WALKER_ANNOTATION)) or {}
            if (current.get("pid"), current.get("host")) == (me["pid"], me["host"]):
                notes.pop(WALKER_ANNOTATION, None)
        self._update(change)


def _json_or_none(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _state_in(cm, what):
    if cm is None:
        return None
    text = (cm.get("data") or {}).get("state")
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise StateError("%s: ConfigMap '%s' key 'state' is not JSON; delete the ConfigMap to start afresh"
                         % (what, cm["metadata"]["name"]))
