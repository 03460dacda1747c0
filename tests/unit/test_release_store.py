"""The release state store on real files: compare-and-swap, atomic 0600 writes, one walker at a time
with the lease of a killed walker taken over (the ConfigMap store runs on the Kubernetes test tier)."""

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import release_store as rs


def test_a_write_over_a_newer_state_is_refused(tmp_path):
    store = rs.FileStore(str(tmp_path / "pd-a.state.json"), "nginx router of release 'a'")
    assert store.read() is None
    assert store.write({"phase": "Progressing"}, 0) == 1
    other = rs.FileStore(store.path, store.what)
    assert other.write(dict(other.read(), phase="Paused"), 1) == 2
    with pytest.raises(rs.StateConflict, match="from revision 1 to 2"):
        store.write({"phase": "Healthy"}, 1)
    saved = store.read()
    assert saved["phase"] == "Paused" and saved["revision"] == 2


def test_state_files_are_private_and_leave_no_temp_files(tmp_path):
    store = rs.FileStore(str(tmp_path / "pd-a.state.json"), "x")
    for revision in range(3):
        store.write({"n": revision, "token_free": True}, revision)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_check_mode_writes_nothing(tmp_path):
    store = rs.FileStore(str(tmp_path / "pd-a.state.json"), "x", check_mode=True)
    store.write({"phase": "Progressing"}, 0)
    assert store.read() is None and store.acquire_walker(rs.holder()) is None


def test_a_corrupt_state_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "pd-a.state.json"
    path.write_text("{half")
    with pytest.raises(rs.StateError, match="not JSON; move it away"):
        rs.FileStore(str(path), "x").read()


HOLD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, %r)
    from ansible_collections.progressive.delivery.plugins.module_utils import release_store as rs
    store = rs.FileStore(sys.argv[1], "nginx router of release 'a'")
    store.acquire_walker(rs.holder())
    print("held", flush=True)
    time.sleep(60)
""")


def _holder_process(path):
    collections = [p for p in sys.path if p.endswith(os.path.join(".build", "collections"))][0]
    proc = subprocess.Popen([sys.executable, "-c", HOLD % collections, path], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_walker_is_refused_with_the_name_of_the_first_and_a_dead_ones_lease_is_taken_over(tmp_path):
    path = str(tmp_path / "pd-a.state.json")
    first = _holder_process(path)
    try:
        with pytest.raises(rs.WalkerBusy) as refused:
            rs.FileStore(path, "nginx router of release 'a'").acquire_walker(rs.holder())
        message = str(refused.value)
        assert "pid %d" % first.pid in message and "since" in message and "router_step action=abort" in message
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # the kernel dropped the dead walker's lock; the file still says who it was
    me = rs.holder()
    store = rs.FileStore(path, "x")
    stale = store.acquire_walker(me)
    assert stale["pid"] == first.pid
    with open(path + ".walker") as f:
        assert json.load(f)["pid"] == os.getpid()
    store.release_walker(me)
    assert rs.FileStore(path, "x").acquire_walker(rs.holder()) is None  # released cleanly: nothing stale


def test_the_configmap_lease_expires_and_names_its_holder():
    cm = {}
    clock = [1000.0]

    def read():
        return json.loads(json.dumps(cm["obj"])) if "obj" in cm else None

    def write(body, create):
        cm["obj"] = body
        return body
    store = rs.ConfigMapStore(read, write, "pd-release-a", "shop", "istio router of release 'a'",
                              clock=lambda: clock[0])
    first = dict(rs.holder(clock[0]), pid=1, host="awx-1")
    assert store.acquire_walker(first) is None
    clock[0] += 10
    with pytest.raises(rs.WalkerBusy, match="pid 1 on awx-1"):
        store.acquire_walker(rs.holder(clock[0]))
    clock[0] += rs.LEASE_SECONDS
    stale = store.acquire_walker(rs.holder(clock[0]))
    assert stale["host"] == "awx-1"
    assert store.write({"phase": "Progressing"}, 0) == 1
    with pytest.raises(rs.StateConflict):
        store.write({"phase": "Progressing"}, 0)
