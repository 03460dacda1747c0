"""A fleet release over Argo Rollouts targets (issue 15 point 7): three namespaces stand in for three clusters,
each reached through its own kubeconfig context (the kubeconfig's current context is a server nobody listens on,
so a module that ignored its context would fail), one Rollout each; the stand-in plays the Argo Rollouts
controller (tests/support/cluster_stand_in.py: an image with "bad" in it is aborted, any other promoted).
A bad version is aborted in wave 1 and the other clusters' Rollouts are never touched; a good version is
promoted wave by wave; re-running it changes nothing; the fleet report lists every cluster with its verdict.
The same code runs on a real cluster (K8S_AUTH_KUBECONFIG) with no Argo Rollouts controller of its own."""

import copy
import json
import os
import uuid

import pytest

import controller
import harness
from fleet_results import fleet_reports, listed, said
import kube_contexts
from cluster_stand_in import ClusterStandIn

PLAY = "- name: fleet\n  ansible.builtin.import_playbook: %s\n" % os.path.join(
    harness.ROOT, "playbooks", "fleet_release.yml")
CLUSTERS = ("c1", "c2", "c3")
WAVES = [["c1"], ["c2", "c3"]]
STEPS = [{"setWeight": 20}, {"pause": {"duration": "1s"}}, {"setWeight": 50}, {"pause": {"duration": "1s"}}]
IMAGE = "registry.local/shop:%s"


class RecordingStandIn(ClusterStandIn):
    """The controllers' stand-in, noting each new image of a Rollout as it first sees it: the order in which the
    fleet release set them, cluster by cluster."""

    def __init__(self, *args, **kwargs):
        super(RecordingStandIn, self).__init__(*args, **kwargs)
        self.seen = []  # (namespace, image), in the order seen
        self._last = {}
        self.frozen = set()  # namespaces the test writes itself

    def reconcile(self, namespace, ro, owned):
        if namespace in self.frozen:
            return None
        image = ro["spec"]["template"]["spec"]["containers"][0]["image"]
        if self._last.get(namespace) != image:
            self._last[namespace] = image
            self.seen.append((namespace, image))
        return super(RecordingStandIn, self).reconcile(namespace, ro, owned)


class ArgoFleet(object):
    """Three "clusters": a namespace each with a Rollout `shop` on IMAGE % 1, a context each in one kubeconfig."""

    def __init__(self, kube, workdir):
        kubeconfig, self.client, _namespace = kube
        suffix = uuid.uuid4().hex[:6]
        self.namespaces = {c: "pd-fleet-%s-%s" % (suffix, c) for c in CLUSTERS}
        self.kubeconfig = kube_contexts.write(kubeconfig, os.path.join(workdir, "fleet-kubeconfig"), self.namespaces)
        # the environment's kubeconfig knows none of the contexts: a module must use the one it was given
        self.env = {"K8S_AUTH_KUBECONFIG": kube_contexts.write(kubeconfig, os.path.join(workdir, "unreachable"), {})}
        self.workdir = workdir
        ns_api = controller.api(self.client, "Namespace", "v1")
        for namespace in self.namespaces.values():
            ns_api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        self.cluster = RecordingStandIn(self.client, list(self.namespaces.values())).start()
        for namespace in self.namespaces.values():
            controller.api(self.client, "Rollout").create({
                "apiVersion": controller.ARGO, "kind": "Rollout", "metadata": {"name": "shop"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "shop"}},
                         "strategy": {"canary": {"steps": copy.deepcopy(STEPS)}},
                         "template": {"metadata": {"labels": {"app": "shop"}},
                                      "spec": {"containers": [{"name": "app", "image": IMAGE % 1}]}}}},
                namespace=namespace)
        for cluster in CLUSTERS:
            harness.wait_for(lambda: (self.rollout(cluster).get("status") or {}).get("phase") == "Healthy", 90,
                             "the Rollout in %s healthy on its first revision" % cluster)

    def rollout(self, cluster):
        return controller.get(self.client, self.namespaces[cluster], "shop")

    def image(self, cluster):
        return self.rollout(cluster)["spec"]["template"]["spec"]["containers"][0]["image"]

    def inventory(self, image="registry.local/shop:{{ fleet_release_version }}", host_vars=None, **shared_vars):
        """Each cluster an inventory host: its context and namespace; the image follows the fleet's version."""
        path = os.path.join(self.workdir, "fleet.yml")
        hosts = {c: {"ansible_connection": "local", "fleet_release_target_kind": "argo", "argo_release_context": c,
                     "argo_release_namespace": self.namespaces[c]} for c in CLUSTERS}
        shared = {"argo_release_kubeconfig": self.kubeconfig, "argo_release_name": "shop",
                  "argo_release_image": image, "argo_release_interval": 1, "argo_release_timeout": 180}
        shared.update(shared_vars)
        for cluster, own in (host_vars or {}).items():
            hosts[cluster].update(own)
        with open(path, "w") as f:
            json.dump({"all": {"hosts": hosts, "vars": shared}}, f)  # YAML is a superset of JSON
        return path

    def stop(self):
        try:
            self.cluster.stop()
        finally:
            ns_api = controller.api(self.client, "Namespace", "v1")
            for namespace in self.namespaces.values():
                ns_api.delete(name=namespace)


@pytest.fixture(scope="module")
def fleet(kube, tmp_path_factory):
    argo_fleet = ArgoFleet(kube, str(tmp_path_factory.mktemp("argo-fleet")))
    try:
        yield argo_fleet
    finally:
        argo_fleet.stop()


def output(out):
    """The JSON callback's report (stdout comes first in the harness's output)."""
    return json.JSONDecoder().raw_decode(out)[0]


def waves_run(out):
    """The batches of the release play, in order: (targets, start, end)."""
    return [(sorted({h for task in play["tasks"] for h in task["hosts"]}), play["play"]["duration"]["start"],
             play["play"]["duration"]["end"])
            for play in output(out)["plays"] if play["play"]["name"] == "Release the fleet, one wave a batch"]


def host_results(out, task_name):
    """host -> result of the tasks whose name has ``task_name`` in it (the last one a host ran)."""
    found = {}
    for play in output(out)["plays"]:
        for task in play["tasks"]:
            if task_name in task["task"]["name"]:
                found.update(task["hosts"])
    return found


def test_an_argo_fleet_release_over_three_clusters(fleet, playbook, tmp_path):
    inventory = fleet.inventory()
    report_dir = str(tmp_path / "reports")
    run = dict(fleet_release_waves=WAVES, fleet_release_soak="1s", fleet_release_report_dir=report_dir)

    # the kubeconfig's trap is real: without its context, the Rollout cannot be reached
    rc, tasks, out = playbook(harness.task("release_status", {
        "release": "shop", "namespace": fleet.namespaces["c1"], "kubeconfig": fleet.kubeconfig}), env=fleet.env)
    assert rc != 0 and "cannot connect" in tasks[-1]["msg"] and "port=1" in tasks[-1]["msg"], out[-3000:]

    before = {c: fleet.rollout(c) for c in CLUSTERS}

    # a bad version: aborted in wave 1 (c1), and c2, c3 are never touched
    rc, tasks, out = playbook(PLAY, inventory=inventory, env=fleet.env,
                              extra_vars=dict(run, fleet_release_version="3-bad"))
    assert rc != 0, out[-6000:]
    lines = said(tasks, "Which target runs which version, and why", out)
    assert lines[0] == "fleet release of 3-bad: stopped - c1 failed in wave 1", lines
    assert lines[1].startswith("wave 1 c1: runs stable, rolled back"), lines
    assert lines[2].startswith("wave 2 c2: runs stable, not started - c1 failed in wave 1"), lines
    assert lines[3].startswith("wave 2 c3: runs stable, not started"), lines
    assert [w[0] for w in waves_run(out)] == [["c1"]], waves_run(out)
    c1 = fleet.rollout("c1")
    assert fleet.image("c1") == IMAGE % "3-bad" and c1["status"]["phase"] == "Degraded", c1["status"]
    for cluster in ("c2", "c3"):
        after = fleet.rollout(cluster)
        assert fleet.image(cluster) == IMAGE % 1, cluster
        assert after["metadata"]["generation"] == before[cluster]["metadata"]["generation"], cluster
        assert after["status"]["phase"] == "Healthy", after["status"]
    (bad,) = fleet_reports(report_dir).values()
    assert bad["verdict"] == "stopped" and bad["version"] == "3-bad", bad
    assert listed(bad) == [("c1", 1, "stable", "rolled_back"), ("c2", 2, "stable", "not_started"),
                           ("c3", 2, "stable", "not_started")], bad
    assert bad["targets"][0]["started"] and bad["targets"][0]["finished"], bad

    # check mode predicts the good version's release and touches no Rollout
    before = {c: fleet.rollout(c) for c in CLUSTERS}
    rc, tasks, out = playbook(PLAY, inventory=inventory, env=fleet.env, check=True,
                              extra_vars=dict(run, fleet_release_version="2"))
    verdicts = host_results(out, "Record the target's verdict")
    assert {c: verdicts[c]["ansible_facts"]["fleet_release_target_verdict"] for c in CLUSTERS} == dict.fromkeys(
        CLUSTERS, "in_progress"), out[-6000:]
    for cluster in CLUSTERS:
        assert fleet.rollout(cluster)["metadata"]["generation"] == before[cluster]["metadata"]["generation"], cluster
    print("check mode: rc %d, %s" % (rc, said(tasks, "Which target runs which version, and why", out)))

    # a good version: promoted on every cluster, wave by wave
    fleet.cluster.seen[:] = []
    rc, tasks, out = playbook(PLAY, inventory=inventory, env=fleet.env, extra_vars=dict(run, fleet_release_version="2"))
    assert rc == 0, out[-6000:]
    print("\n".join(said(tasks, "Which target runs which version, and why", out)))
    lines = said(tasks, "Which target runs which version, and why", out)
    assert lines[0] == "fleet release of 2: promoted", lines
    for line, cluster, wave in zip(lines[1:], CLUSTERS, (1, 2, 2)):
        assert line.startswith("wave %d %s: runs 2, promoted" % (wave, cluster)), lines
    (wave1, _s1, end1), (wave2, start2, _e2) = waves_run(out)
    assert (wave1, wave2) == (["c1"], ["c2", "c3"]) and end1 <= start2, waves_run(out)
    # the controller saw the new image on c1 first, then on c2 and c3
    order = [ns for ns, image in fleet.cluster.seen if image == IMAGE % 2]
    assert order[0] == fleet.namespaces["c1"] and sorted(order[1:]) == sorted(
        [fleet.namespaces["c2"], fleet.namespaces["c3"]]), fleet.cluster.seen
    for cluster in CLUSTERS:
        ro = fleet.rollout(cluster)
        assert fleet.image(cluster) == IMAGE % 2 and ro["status"]["phase"] == "Healthy", (cluster, ro["status"])
    # after the soak, each Rollout was read again, healthy on the fleet's version
    soaked = host_results(out, "The Rollout after the soak")
    for cluster in CLUSTERS:
        assert soaked[cluster]["status"]["verdict"] == "promoted", soaked
        assert soaked[cluster]["status"]["canary_version"] == IMAGE % 2, soaked
    (good,) = [r for r in fleet_reports(report_dir).values() if r["version"] == "2"]
    assert good["verdict"] == "promoted", good
    assert listed(good) == [("c1", 1, "2", "promoted"), ("c2", 2, "2", "promoted"), ("c3", 2, "2", "promoted")], good
    for target in good["targets"]:
        assert target["step"] == "4/4" and target["started"] and target["finished"], target

    # again: nothing changes anywhere, nothing is reported
    rc, tasks, out = playbook(PLAY, inventory=inventory, env=fleet.env, extra_vars=dict(run, fleet_release_version="2"))
    assert rc == 0, out[-6000:]
    lines = said(tasks, "Which target runs which version, and why", out)
    assert lines[0] == "fleet release of 2: already_stable", lines
    assert all(", no change - already promoted by an earlier run" in line for line in lines[1:]), lines
    assert {host: counts["changed"] for host, counts in output(out)["stats"].items()} == dict.fromkeys(
        CLUSTERS + ("localhost",), 0), output(out)["stats"]
    assert len(fleet_reports(report_dir)) == 2


# the version is the image's whole tag: version 2 is not in shop:1.2 (nor in a registry's port)
@pytest.mark.parametrize("image, version", [("registry.local/shop:2", "5"), ("registry.local/shop:1.2", "2"),
                                            ("registry.local:2/shop:1.2", "2")])
def test_an_image_without_the_fleets_version_is_refused_before_the_rollout_is_touched(fleet, playbook, image,
                                                                                      version):
    before = fleet.rollout("c1")
    rc, tasks, out = playbook(PLAY, inventory=fleet.inventory(image=image), env=fleet.env,
                              extra_vars=dict(fleet_release_waves=WAVES, fleet_release_soak="1s",
                                              fleet_release_version=version))
    assert rc != 0, out[-6000:]
    lines = said(tasks, "Which target runs which version, and why", out)
    assert lines[0] == "fleet release of %s: stopped - c1 failed in wave 1" % version, lines
    refused = host_results(out, "The new image carries the fleet's version")["c1"]
    assert "%s, which is not the fleet's version %s" % (image, version) in refused["msg"], refused
    after = fleet.rollout("c1")
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["spec"]["template"] == before["spec"]["template"]


def untouched(fleet, before, clusters=("c2", "c3")):
    for cluster in clusters:
        after = fleet.rollout(cluster)
        assert after["metadata"]["generation"] == before[cluster]["metadata"]["generation"], cluster
        assert after["spec"]["template"] == before[cluster]["spec"]["template"], cluster


def test_an_analysis_that_cannot_measure_after_the_soak_stops_the_fleet(fleet, playbook, tmp_path):
    """The soak's analysis gate on an Argo target (its canary_release_analysis): Prometheus unreachable is an
    Error, never a pass - the target is unhealthy and wave 2 never starts."""
    template = tmp_path / "soak.yaml"
    template.write_text(json.dumps({
        "apiVersion": controller.ARGO, "kind": "AnalysisTemplate", "metadata": {"name": "soak"},
        "spec": {"metrics": [{"name": "error-rate", "count": 1, "interval": "1s", "consecutiveErrorLimit": 0,
                              "successCondition": "result[0] < 0.05",
                              "provider": {"prometheus": {"query": 'sum(rate(http_requests_total{code=~"5.."}[1m]))'}}}]}}))
    before = {c: fleet.rollout(c) for c in CLUSTERS}
    inventory = fleet.inventory(canary_release_analysis={"template_file": str(template)},
                                canary_release_prometheus_url="http://127.0.0.1:%d" % harness.free_port())
    rc, tasks, out = playbook(PLAY, inventory=inventory, env=fleet.env, extra_vars=dict(
        fleet_release_waves=WAVES, fleet_release_soak="1s", fleet_release_version="6"))
    assert rc != 0, out[-6000:]
    lines = said(tasks, "Which target runs which version, and why", out)
    assert lines[0] == "fleet release of 6: stopped - c1 failed in wave 1", lines
    assert lines[1].startswith("wave 1 c1: runs 6, page - promoted, then its analysis failed during the soak"), lines
    why = host_results(out, "Why the Argo Rollouts target is red after the soak")["c1"]["msg"]
    assert "its analysis failed" in why and "is unreachable" in why, why
    assert fleet.image("c1") == IMAGE % 6
    untouched(fleet, before)


def test_a_rollout_degraded_during_the_soak_stops_the_fleet(fleet, playbook, tmp_path):
    """The soak's Rollout check on an Argo target: promoted, then Degraded before the soak ends (written once the
    target's own release has written its report, i.e. has stopped watching) - unhealthy, wave 2 never starts."""
    before = {c: fleet.rollout(c) for c in CLUSTERS}
    namespace = fleet.namespaces["c1"]
    reports = tmp_path / "c1-reports"
    reports.mkdir()

    def released(ro):
        done = ro["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE % 7 and list(reports.glob("*.json"))
        if done:
            fleet.cluster.frozen.add(namespace)  # from now on the test plays the controller for c1
        return bool(done)

    degraded = controller.React(fleet.client, namespace, "shop", released, {
        "phase": "Degraded", "message": "ProgressDeadlineExceeded: ReplicaSet shop has timed out progressing"},
        timeout=240, delay=0)
    try:
        rc, tasks, out = playbook(PLAY, inventory=fleet.inventory(argo_release_report_dir=str(reports)), env=fleet.env,
                                  extra_vars=dict(fleet_release_waves=WAVES, fleet_release_soak="30s",
                                                  fleet_release_version="7"))
        assert degraded.join(), "the test never saw c1's release end"
    finally:
        fleet.cluster.frozen.discard(namespace)
    assert rc != 0, out[-6000:]
    lines = said(tasks, "Which target runs which version, and why", out)
    assert lines[0] == "fleet release of 7: stopped - c1 failed in wave 1", lines
    assert lines[1].startswith("wave 1 c1: runs 7, page"), lines
    why = host_results(out, "Why the Argo Rollouts target is red after the soak")["c1"]["msg"]
    assert "the Rollout is Degraded on registry.local/shop:7 - ProgressDeadlineExceeded" in why, why
    untouched(fleet, before)


def test_a_rollout_left_paused_in_wave_1_holds_the_fleet(fleet, playbook, tmp_path):
    """A pause step without a duration waits for a person: the target's release ends paused (not red, not
    promoted) and wave 2 must not start - a wave starts only when the previous one is promoted."""
    before = {c: fleet.rollout(c) for c in CLUSTERS}
    namespace = fleet.namespaces["c1"]

    def set_to_8(ro):
        done = ro["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE % 8
        if done:
            fleet.cluster.frozen.add(namespace)  # the test plays the controller for c1: paused at step 2
        return done

    paused = controller.React(fleet.client, namespace, "shop", set_to_8, lambda ro: {
        "observedGeneration": str(ro["metadata"]["generation"]), "currentStepIndex": 1, "phase": "Paused",
        "message": "CanaryPauseStep", "controllerPause": True,
        "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-01T00:00:00Z"}]},
        timeout=240, delay=0)
    try:
        rc, tasks, out = playbook(PLAY, inventory=fleet.inventory(argo_release_timeout=5), env=fleet.env,
                                  extra_vars=dict(fleet_release_waves=WAVES, fleet_release_soak="1s",
                                                  fleet_release_version="8"))
        assert paused.join(), "the playbook never set c1's image"
    finally:
        fleet.cluster.frozen.discard(namespace)
    lines = said(tasks, "Which target runs which version, and why", out)
    assert [w[0] for w in waves_run(out)] == [["c1"]], (waves_run(out), lines)
    untouched(fleet, before)
    assert rc != 0 and lines[0].startswith("fleet release of 8: in_progress"), lines


def test_on_promoted_rollback_puts_the_clusters_promoted_in_this_release_back(fleet, playbook):
    """fleet_release_on_promoted=rollback: c1 (wave 1) and c3 (wave 2) promoted, c2's image is bad (aborted):
    the fleet stops and puts c1 and c3 back on the images they ran before."""
    for cluster in CLUSTERS:  # the earlier tests' last versions settled
        harness.wait_for(lambda: (fleet.rollout(cluster).get("status") or {}).get("phase") == "Healthy", 90,
                         "the Rollout in %s healthy" % cluster)
    ran = {c: fleet.image(c) for c in CLUSTERS}
    bad = {"c2": {"argo_release_image": "registry.local/shop-bad:{{ fleet_release_version }}"}}
    rc, tasks, out = playbook(PLAY, inventory=fleet.inventory(host_vars=bad), env=fleet.env, extra_vars=dict(
        fleet_release_waves=WAVES, fleet_release_soak="1s", fleet_release_version="9",
        fleet_release_on_promoted="rollback"))
    assert rc != 0, out[-6000:]
    lines = said(tasks, "Which target runs which version, and why", out)
    assert lines[0].startswith("fleet release of 9: stopped - c2 failed in wave 2"), lines
    assert [w[0] for w in waves_run(out)] == [["c1"], ["c2", "c3"]], waves_run(out)
    assert fleet.image("c2") == "registry.local/shop-bad:9" and fleet.rollout("c2")["status"]["phase"] == "Degraded"
    for cluster in ("c1", "c3"):
        ro = fleet.rollout(cluster)
        assert fleet.image(cluster) == ran[cluster] and ro["status"]["phase"] == "Healthy", (cluster, ro["status"])
    undone = host_results(out, "Record the fleet's rollback of")
    assert sorted(h for h, r in undone.items() if r.get("ansible_facts")) == ["c1", "c3"], undone
    for line in lines[1:]:
        if line.startswith(("wave 1 c1", "wave 2 c3")):
            assert "runs stable" in line, lines


def test_a_red_target_holds_or_aborts_its_wave_peers_still_releasing(fleet, playbook, tmp_path):
    """Issue 15 point 2 on Argo targets: a wave of two, c2's image bad (aborted by its analysis) while c1 (then c3)
    still waits at its first pause step (the stand-in keeps the good version there 600 s). The good one's watch
    reads its peer on each look and stops before 100%: held (paused) with fleet_release_on_same_wave=hold, aborted
    with abort - each saying which peer was red."""
    for cluster in ("c1", "c3"):  # the earlier tests' last versions settled
        harness.wait_for(lambda: (fleet.rollout(cluster).get("status") or {}).get("phase") == "Healthy", 90,
                         "the Rollout in %s healthy" % cluster)
    harness.wait_for(lambda: (fleet.rollout("c2").get("status") or {}).get("phase") in ("Healthy", "Degraded"), 90,
                     "the Rollout in c2 settled")
    ran = {c: (fleet.rollout(c)["spec"]["template"], fleet.rollout(c)["status"]["phase"]) for c in CLUSTERS}
    # a peer that cannot be read fails the look, naming it (it may be red): fail closed
    rc, tasks, out = playbook(harness.task("release_status", {
        "release": "shop", "namespace": fleet.namespaces["c1"], "kubeconfig": fleet.kubeconfig, "context": "c1",
        "peers": [{"target": "c2", "name": "shop-gone", "namespace": fleet.namespaces["c2"], "context": "c2"}]}),
        env=fleet.env)
    assert rc != 0 and tasks[-1]["msg"].startswith("release_status shop: peer c2: ") and "shop-gone" in tasks[-1]["msg"], \
        out[-3000:]
    bad = {"c2": {"argo_release_image": "registry.local/shop-bad:{{ fleet_release_version }}"}}
    fleet.cluster.slow = lambda image: 600 if image in (IMAGE % 10, IMAGE % 11) else 0
    report_dir = str(tmp_path / "reports")
    try:
        # hold: c1 paused where it stands, at its first weight, never promoted
        hold = dict(fleet_release_waves=[["c1", "c2"]], fleet_release_soak="1s", fleet_release_version="10",
                    fleet_release_report_dir=report_dir)
        rc, tasks, out = playbook(PLAY, inventory=fleet.inventory(host_vars=bad), env=fleet.env, extra_vars=hold)
        assert rc != 0, out[-6000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        print("\n".join(lines))
        assert lines[0] == "fleet release of 10: stopped - c2 failed in wave 1", lines
        assert lines[1].startswith("wave 1 c1: runs canary split, held at 20% - c2 failed in wave 1"), lines
        assert lines[2].startswith("wave 1 c2: runs stable, rolled back"), lines
        c1 = fleet.rollout("c1")
        assert fleet.image("c1") == IMAGE % 10 and c1["spec"].get("paused") is True, c1["spec"]
        assert c1["status"]["phase"] == "Paused" and c1["status"]["stableRS"] != c1["status"]["currentPodHash"], \
            c1["status"]
        held = host_results(out, "Report the release of")["c1"]["msg"]
        print(held)
        assert "paused - held, its peer c2 is red (Degraded - RolloutAborted" in held, held
        (report,) = fleet_reports(report_dir).values()
        assert listed(report)[:2] == [("c1", 1, "canary split", "paused"), ("c2", 1, "stable", "rolled_back")], report

        # again: c1 stays held, nothing changes
        rc, tasks, out = playbook(PLAY, inventory=fleet.inventory(host_vars=bad), env=fleet.env, extra_vars=hold)
        assert rc != 0, out[-6000:]
        assert said(tasks, "Which target runs which version, and why", out)[1].startswith(
            "wave 1 c1: runs canary split, held at 20%"), out[-6000:]
        assert {h: n["changed"] for h, n in output(out)["stats"].items() if h in ("c1", "c2")} == {"c1": 0, "c2": 0}, \
            output(out)["stats"]

        # abort: c3 back on stable at once, reported aborted by the fleet (not red: c2 is the red one)
        rc, tasks, out = playbook(PLAY, inventory=fleet.inventory(host_vars=bad), env=fleet.env, extra_vars=dict(
            fleet_release_waves=[["c3", "c2"]], fleet_release_soak="1s", fleet_release_version="11",
            fleet_release_on_same_wave="abort"))
        assert rc != 0, out[-6000:]
        lines = said(tasks, "Which target runs which version, and why", out)
        print("\n".join(lines))
        assert lines[0] == "fleet release of 11: stopped - c2 failed in wave 1", lines
        assert lines[1].startswith("wave 1 c3: runs stable, aborted by the fleet - c2 failed in wave 1"), lines
        c3 = fleet.rollout("c3")
        assert fleet.image("c3") == IMAGE % 11 and c3["status"]["phase"] == "Degraded", c3["status"]
        assert c3["status"]["abort"] is True and c3["status"]["canary"]["weights"]["canary"]["weight"] == 0, c3["status"]
        aborted = host_results(out, "Report the release of")["c3"]["msg"]
        print(aborted)
        assert aborted.startswith("shop: aborted, its peer c2 is red (Degraded - RolloutAborted"), aborted
    finally:
        fleet.cluster.slow = lambda image: 0
        for cluster in CLUSTERS:  # each back on what it ran, not paused, for the tests after this one
            template, phase = ran[cluster]
            controller.api(fleet.client, "Rollout").patch(
                body={"spec": {"paused": False, "template": template}}, name="shop",
                namespace=fleet.namespaces[cluster], content_type="application/merge-patch+json")
            harness.wait_for(lambda: fleet.rollout(cluster)["status"].get("observedGeneration") == str(
                fleet.rollout(cluster)["metadata"]["generation"]) and fleet.rollout(cluster)["status"]["phase"] == phase,
                90, "the Rollout in %s %s again" % (cluster, phase))
