"""Every playbook runs on the hosts named by target_hosts (the load balancer is rarely localhost), keeps the
names of earlier releases working (release_hosts, plan_hosts), runs on localhost when given none, and never
makes Ansible warn of a reserved name (a variable called ``hosts`` would)."""

import glob
import os
import subprocess
import sys

import pytest

import harness

# the fleet release's hosts are its waves (fleet_release_waves or wave groups), planned on the controller
OWN_HOSTS = {"fleet_release.yml"}
PLAYBOOKS = sorted(p for p in glob.glob(os.path.join(harness.ROOT, "playbooks", "*.yml"))
                   if os.path.basename(p) not in OWN_HOSTS)
# the names of earlier releases, still read when target_hosts is not given
OLD_NAMES = {"canary_release.yml": "release_hosts", "bluegreen_release.yml": "release_hosts",
             "site.yml": "plan_hosts"}
OLD_NAMES.update((os.path.basename(p), "plan_hosts") for p in PLAYBOOKS if os.path.basename(p).startswith("phase_"))


def list_hosts(playbook, tmp_path, extra_vars=()):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[lb]\nlb1 ansible_connection=local\nlb2 ansible_connection=local\n")
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory), "--list-hosts",
            playbook]
    for e in extra_vars:
        argv += ["-e", e]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=harness.ensure_collection_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / ".ansible"), ANSIBLE_LOCALHOST_WARNING="0")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd=str(tmp_path), check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    hosts = set()
    for line in proc.stdout.splitlines():
        if line.startswith("      ") and line.strip() and ":" not in line:
            hosts.add(line.strip())
    return hosts, proc.stdout + proc.stderr


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=[os.path.basename(p) for p in PLAYBOOKS])
def test_target_hosts_names_the_hosts_of_every_playbook(playbook, tmp_path):
    name = os.path.basename(playbook)
    hosts, out = list_hosts(playbook, tmp_path, ["target_hosts=lb1"])
    assert hosts == {"lb1"}, out
    assert "reserved name" not in out
    hosts, out = list_hosts(playbook, tmp_path, ["target_hosts=lb"])
    assert hosts == {"lb1", "lb2"}, out
    hosts, out = list_hosts(playbook, tmp_path)
    assert hosts == {"localhost"}, out
    if name in OLD_NAMES:
        hosts, out = list_hosts(playbook, tmp_path, ["%s=lb2" % OLD_NAMES[name]])
        assert hosts == {"lb2"}, out
        hosts, out = list_hosts(playbook, tmp_path, ["%s=lb2" % OLD_NAMES[name], "target_hosts=lb1"])
        assert hosts == {"lb1"}, out  # the new name wins
