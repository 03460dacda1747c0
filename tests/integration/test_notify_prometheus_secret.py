"""The release report's Prometheus count (roles/notify tasks/release.yml) keeps a secret in Prometheus's URL - a
``user:password@`` - out of the output, as it does a token, a password or headers (issue 17 review). Run as a
playbook includes it after router_release; Prometheus here is a port nothing listens on, so the count is left out
and the play goes on (the result still carries the URL, which is what must not be printed)."""

import time

import harness

PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - name: Report the release
      ansible.builtin.include_role:
        name: progressive.delivery.notify
        tasks_from: release.yml
"""


def run(tmp_path, url):
    finished = time.time() - 120  # long past: no wait for a scrape
    result = {"verdict": "rolled_back", "changed": False, "message": "", "finished_t": finished,
              "time_to_detect_s": 1, "time_to_restore_s": 1,
              "state": {"canary_version": "v2", "history": [], "canary_traffic_since": finished - 30}}
    variables = {"notify_release_result": result, "notify_release_name": "checkout", "notify_release_since": 0,
                 "notify_release_channels": {}, "notify_release_report_dir": str(tmp_path / "reports"),
                 "notify_release_canary_selector": {"app": "checkout", "version": "v2"},
                 "notify_release_prometheus": {"url": url}}
    rc, tasks, out = harness.run_playbook(PLAY, str(tmp_path), extra_vars=variables)
    assert rc == 0, out[-3000:]
    asked = [t for t in tasks if "Ask Prometheus" in t["_task"]]
    assert asked and not asked[0].get("skipped"), tasks  # the count was asked (and failed: nothing listens)
    return asked[0], out


def test_a_password_in_prometheus_url_is_never_printed(tmp_path):
    port = harness.free_port()
    asked, out = run(tmp_path, "http://reporter:s3cret-pw@127.0.0.1:%d" % port)
    assert "s3cret-pw" not in out and asked.get("censored"), asked


def test_without_a_secret_the_count_is_shown(tmp_path):
    port = harness.free_port()
    asked, out = run(tmp_path, "http://127.0.0.1:%d/" % port)
    assert "censored" not in asked and "127.0.0.1:%d" % port in out
