"""Fleet-wide emergency abort: one rollout_step task against one task a rollout, as a ratio.

Creates 200 canary rollouts spread over 10 namespaces (on the cluster in K8S_AUTH_KUBECONFIG, or
on the local Kubernetes API test server), then times, through ansible-playbook:
  fleet    - one rollout_step task, action abort, label_selectors choosing all 200 (parallel)
  per-task - rollout_step in a loop of 200 items, one rollout each (what a playbook without
             fleet support does)
Between the two every rollout is un-aborted. Printed, never asserted.
"""

import os
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import controller  # noqa: E402
import harness  # noqa: E402

ROLLOUTS = int(os.environ.get("FLEET_ROLLOUTS", "200"))
NAMESPACES = int(os.environ.get("FLEET_NAMESPACES", "10"))


def connect():
    from kubernetes import config as kconfig
    from kubernetes.client import ApiClient
    from kubernetes.dynamic import DynamicClient
    server = None
    kubeconfig = os.environ.get("K8S_AUTH_KUBECONFIG")
    if not kubeconfig:
        import kube_api
        server = kube_api.KubeAPI().start()
        kubeconfig = server.kubeconfig(os.path.join(tempfile.mkdtemp(prefix="fleet-"), "kubeconfig"))
    client = DynamicClient(ApiClient(kconfig.new_client_from_config(config_file=kubeconfig).configuration))
    return server, kubeconfig, client


def rollout(name, fleet):
    return {"apiVersion": controller.ARGO, "kind": "Rollout",
            "metadata": {"name": name, "labels": {"fleet": fleet}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"canary": {"steps": [{"setWeight": 10}, {"pause": {}}]}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "registry.local/app:2"}]}}}}


def timed_playbook(text, workdir):
    start = time.perf_counter()
    rc, tasks, out = harness.run_playbook(text, workdir)
    elapsed = time.perf_counter() - start
    if rc != 0:
        raise SystemExit("playbook failed (rc %d):\n%s" % (rc, out[-3000:]))
    return elapsed, tasks


def main():
    server, kubeconfig, client = connect()
    fleet = "bench-%s" % uuid.uuid4().hex[:5]
    namespaces = ["%s-%d" % (fleet, i) for i in range(NAMESPACES)]
    targets = []
    work = tempfile.mkdtemp(prefix="fleet-abort-")
    ns_api = client.resources.get(api_version="v1", kind="Namespace")
    try:
        for ns in namespaces:
            ns_api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for i in range(ROLLOUTS):
            ns = namespaces[i % NAMESPACES]
            name = "svc-%03d" % i
            controller.api(client, "Rollout").create(rollout(name, fleet), namespace=ns)
            controller.write_status(client, ns, name, {"currentStepIndex": 1, "stableRS": "a", "currentPodHash": "b"})
            targets.append((ns, name))

        fleet_s, tasks = timed_playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: abort the fleet
      progressive.delivery.rollout_step:
        kubeconfig: %s
        label_selectors: [fleet=%s]
        action: abort
""" % (kubeconfig, fleet), work)
        aborted = sum(1 for r in tasks[0]["rollouts"] if r["changed"])

        for ns, name in targets:
            controller.write_status(client, ns, name, {"abort": None})
        items = "\n".join("          - {ns: %s, name: %s}" % t for t in targets)
        per_task_s, tasks = timed_playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: abort one rollout a task
      progressive.delivery.rollout_step:
        kubeconfig: %s
        namespace: "{{ item.ns }}"
        name: "{{ item.name }}"
        action: abort
      loop:
%s
""" % (kubeconfig, items), work)
        per_task_aborted = sum(1 for r in tasks[0]["results"] if r["changed"])

        print("fleet abort of %d rollouts in %d namespaces (%s)" % (
            ROLLOUTS, NAMESPACES, "K8S_AUTH_KUBECONFIG" if server is None else "local Kubernetes API test server"))
        print("%-34s %8s %10s" % ("", "aborted", "seconds"))
        print("%-34s %8d %10.2f" % ("one task, label selector", aborted, fleet_s))
        print("%-34s %8d %10.2f" % ("%d tasks, one rollout each" % ROLLOUTS, per_task_aborted, per_task_s))
        print("ratio per-task / fleet: %.1fx (time to abort everything, ansible-playbook start-up included)"
              % (per_task_s / fleet_s))
    finally:
        for ns in namespaces:
            try:
                ns_api.delete(name=ns)
            except Exception:  # best effort on a real cluster; the test server goes away with us
                pass
        if server:
            server.stop()


if __name__ == "__main__":
    main()
