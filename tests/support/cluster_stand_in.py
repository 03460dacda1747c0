"""The controllers of a cluster, played for whole playbooks on the Kubernetes test tier.

No kubelet, Deployment controller, endpoints controller or Argo Rollouts controller runs on the
local test server. Where a playbook waits for one of them, this loop writes what it would:
- a Deployment becomes Available;
- a Service gets an EndpointSlice with one ready address once something selects it;
- a Rollout's new template gets its ReplicaSet (revision annotated); a template whose image
  ``is_bad`` is aborted as a failing canary analysis would abort it, any other is promoted to
  Healthy; a template put back on the stable ReplicaSet (undo) is Healthy again.
- a template whose image ``slow`` gives seconds for waits that long at its first pause step before it is
  promoted, and honours what a person (or a fleet) does meanwhile: spec.paused holds it Paused
  (``manually paused``), status.abort aborts it (Degraded, back on stable), as the controller would.
On a real cluster the real controllers do this and the stand-in is not started.
"""

import hashlib
import json
import os
import threading
import time

from kubernetes.dynamic.exceptions import NotFoundError

import controller


def pod_hash(template):
    body = json.loads(json.dumps(template))
    (body.get("metadata") or {}).get("labels", {}).pop("rollouts-pod-template-hash", None)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]


class ClusterStandIn(object):
    def __init__(self, client, namespaces, is_bad=lambda image: "bad" in image, max_seconds=900, discovery=None,
                 slow=lambda image: 0):
        self.discovery = discovery
        self.slow = slow
        self._slow_since = {}  # (namespace, name, pod hash) -> when its slow walk began
        self.client = client
        self.namespaces = list(namespaces)
        self.is_bad = is_bad
        self.max_seconds = max_seconds
        self.errors = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self._stop.set()
        self.thread.join(timeout=10)
        if self.errors:
            raise AssertionError("cluster stand-in: %s" % self.errors[-1])

    def _loop(self):
        deadline = time.time() + self.max_seconds  # bounded, like every loop in the tests
        while not self._stop.is_set() and time.time() < deadline:
            for namespace in self.namespaces:
                try:
                    self.deployments(namespace)
                    self.rollouts(namespace)
                    self.endpoints(namespace)
                except NotFoundError:  # the namespace is not there yet
                    pass
                except Exception as e:  # kept for stop(); the loop carries on
                    self.errors.append("%s: %r" % (namespace, e))
            if self.discovery:
                self.discovery.follow()
            self._stop.wait(0.3)

    def _items(self, kind, api_version, namespace):
        return controller.api(self.client, kind, api_version).get(namespace=namespace).to_dict()["items"]

    def deployments(self, namespace):
        for dep in self._items("Deployment", "apps/v1", namespace):
            if (dep.get("status") or {}).get("availableReplicas"):
                continue
            n = dep["spec"].get("replicas", 1)
            controller.write_status(self.client, namespace, dep["metadata"]["name"], {
                "replicas": n, "readyReplicas": n, "availableReplicas": n, "updatedReplicas": n,
                "observedGeneration": dep["metadata"].get("generation", 1),
                "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]},
                kind="Deployment", api_version="apps/v1")

    def endpoints(self, namespace):
        slices = controller.api(self.client, "EndpointSlice", "discovery.k8s.io/v1")
        have = set(s["metadata"]["labels"].get("kubernetes.io/service-name")
                   for s in self._items("EndpointSlice", "discovery.k8s.io/v1", namespace))
        ready = [ro for ro in self._items("Rollout", controller.ARGO, namespace)
                 if (ro.get("status") or {}).get("stableRS")]
        for svc in self._items("Service", "v1", namespace):
            name = svc["metadata"]["name"]
            selector = svc["spec"].get("selector") or {}
            selected = [ro for ro in ready if all(
                ro["spec"]["template"]["metadata"].get("labels", {}).get(k) == v for k, v in selector.items()
                if k != "rollouts-pod-template-hash")]
            if name in have or not selector or not selected:
                continue
            slices.create({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                           "metadata": {"name": "%s-stand-in" % name,
                                        "labels": {"kubernetes.io/service-name": name}},
                           "endpoints": [{"addresses": ["10.0.0.10"], "conditions": {"ready": True}}],
                           "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}, namespace=namespace)

    def rollouts(self, namespace):
        sets = self._items("ReplicaSet", "apps/v1", namespace)
        for ro in self._items("Rollout", controller.ARGO, namespace):
            self.reconcile(namespace, ro, [rs for rs in sets if any(
                ref.get("uid") == ro["metadata"]["uid"] for ref in rs["metadata"].get("ownerReferences") or [])])

    def reconcile(self, namespace, ro, owned):
        status = ro.get("status") or {}
        spec = ro["spec"]
        current = pod_hash(spec["template"])
        image = spec["template"]["spec"]["containers"][0]["image"]
        hashes = [rs["metadata"]["labels"].get("rollouts-pod-template-hash") for rs in owned]
        if current not in hashes:
            revision = 1 + max([int(rs["metadata"]["annotations"]["rollout.argoproj.io/revision"]) for rs in owned]
                               or [0])
            controller.create_replicaset(self.client, namespace, controller.replicaset(ro, revision, current, image))
        name = ro["metadata"]["name"]
        n = spec.get("replicas", 1)
        generation = str(ro["metadata"].get("generation", 1))
        steps = ((spec.get("strategy") or {}).get("canary") or {}).get("steps") or []
        healthy = {"phase": "Healthy", "message": None, "abort": None, "abortedAt": None, "pauseConditions": None,
                   "controllerPause": None, "stableRS": current, "currentPodHash": current,
                   "observedGeneration": generation, "replicas": n, "updatedReplicas": n, "readyReplicas": n,
                   "availableReplicas": n, "currentStepIndex": len(steps) if steps else None}
        if "blueGreen" in spec.get("strategy", {}):
            healthy["blueGreen"] = {"activeSelector": current, "previewSelector": current}
        else:
            healthy["canary"] = {"weights": {"canary": {"weight": 0, "podTemplateHash": current},
                                             "stable": {"weight": 100, "podTemplateHash": current}}}
        if status.get("stableRS") == current:
            if status.get("phase") != "Healthy" or status.get("observedGeneration") != generation:
                controller.write_status(self.client, namespace, name, healthy)  # first seen, or undone
            return
        if not status.get("stableRS"):
            controller.write_status(self.client, namespace, name, healthy)  # the first revision is stable at once
            return
        if self.is_bad(image):
            if status.get("currentPodHash") != current or not status.get("abortedAt"):
                time.sleep(1.0)  # the first analysis takes a moment to fail
                controller.write_status(self.client, namespace, name, {
                    "phase": "Degraded", "abort": True, "abortedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "message": 'RolloutAborted: Metric "success-rate" assessed Failed due to failed (1) > '
                               'failureLimit (0)', "currentPodHash": current, "currentStepIndex": 0,
                    "observedGeneration": generation, "pauseConditions": None, "controllerPause": None})
            return
        if self.slow(image) and self.walk_slowly(namespace, ro, current, generation, steps, self.slow(image)):
            return
        if self.discovery and self.discovery.name == name:
            self.discovery.serve(current)  # the canary's pods serve and are measured, step after step
        else:
            time.sleep(0.5)  # steps and analyses pass
        controller.write_status(self.client, namespace, name, healthy)

    def walk_slowly(self, namespace, ro, current, generation, steps, seconds):
        """A good revision at its first pause step for ``seconds``; True while it is not to be promoted."""
        name, status, spec = ro["metadata"]["name"], ro.get("status") or {}, ro["spec"]
        since = self._slow_since.setdefault((namespace, name, current), time.time())
        at = next((i for i, step in enumerate(steps) if "pause" in step), 0)
        weight = max([step.get("setWeight", 0) for step in steps[:at]] or [0])
        if status.get("abort"):
            if not status.get("abortedAt"):
                controller.write_status(self.client, namespace, name, {
                    "phase": "Degraded", "abortedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "message": "RolloutAborted: Rollout aborted update to revision %s"
                               % ro["metadata"].get("annotations", {}).get("rollout.argoproj.io/revision", ""),
                    "currentStepIndex": 0, "observedGeneration": generation, "pauseConditions": None,
                    "controllerPause": None,
                    "canary": {"weights": {"canary": {"weight": 0, "podTemplateHash": current},
                                           "stable": {"weight": 100, "podTemplateHash": status.get("stableRS")}}}})
            return True
        if spec.get("paused"):
            if status.get("message") != "manually paused" or status.get("observedGeneration") != generation:
                controller.write_status(self.client, namespace, name, {
                    "phase": "Paused", "message": "manually paused", "observedGeneration": generation})
            return True
        if time.time() - since < seconds:
            if status.get("currentPodHash") != current:
                controller.write_status(self.client, namespace, name, {
                    "phase": "Paused", "message": "CanaryPauseStep", "currentPodHash": current,
                    "currentStepIndex": at, "observedGeneration": generation, "controllerPause": True,
                    "pauseConditions": [{"reason": "CanaryPauseStep",
                                         "startTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))}],
                    "canary": {"weights": {"canary": {"weight": weight, "podTemplateHash": current},
                                           "stable": {"weight": 100 - weight,
                                                      "podTemplateHash": status.get("stableRS")}}}})
            return True
        return False


class PodDiscovery(object):
    """What the Prometheus Operator and the kubelet would give Prometheus for the app's pods.

    The app's pods are a real demo app process; its series get the labels a ServiceMonitor adds
    (namespace, pod named NAME-HASH-SUFFIX with the Rollout's stable hash) through a file_sd file
    rewritten when the stable ReplicaSet changes. A small exporter stands in for the kubelet's cAdvisor
    and kube-state-metrics: the app process's real CPU time (from /proc) and its CPU limit."""

    def __init__(self, client, namespace, name, app, path, prometheus, cpu_limit=0.5):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        self.client, self.namespace, self.name, self.app, self.path = client, namespace, name, app, path
        self.prometheus = prometheus
        pid = app.process.proc.pid

        class Kubelet(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                cpu = (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
                body = ('container_cpu_usage_seconds_total{container="%s"} %f\n'
                        'kube_pod_container_resource_limits{container="%s",resource="cpu",unit="core"} %f\n'
                        % (name, cpu, name, cpu_limit)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.kubelet = ThreadingHTTPServer(("127.0.0.1", 0), Kubelet)
        threading.Thread(target=self.kubelet.serve_forever, daemon=True).start()
        self.hash = None
        self.write("5d8f6c7b9a")  # the app runs before its first Rollout (today's Deployment's pods)

    def write(self, pod_hash):
        labels = {"namespace": self.namespace, "pod": "%s-%s-x7k2p" % (self.name, pod_hash)}
        groups = [{"targets": ["127.0.0.1:%d" % self.app.port, "127.0.0.1:%d" % self.kubelet.server_address[1]],
                   "labels": labels}]
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(groups, f)
        os.replace(tmp, self.path)
        self.hash = pod_hash

    def serve(self, pod_hash, timeout=30):
        """The new ReplicaSet's pods serve and are scraped (what the canary steps' analyses measured)."""
        self.write(pod_hash)
        deadline = time.time() + timeout
        query = 'sum(rate(http_requests_total{namespace="%s",pod=~".*-%s-.*"}[2m])) > 0' % (self.namespace, pod_hash)
        while time.time() < deadline and not self.prometheus.query(query):
            time.sleep(0.5)

    def follow(self):
        """Point the pods at the Rollout's stable hash, when it changed; returns the hash."""
        from kubernetes.dynamic.exceptions import NotFoundError
        try:
            stable = (controller.get(self.client, self.namespace, self.name).get("status") or {}).get("stableRS")
        except NotFoundError:
            stable = None
        if stable and stable != self.hash:
            self.write(stable)
        return self.hash

    def stop(self):
        self.kubelet.shutdown()
