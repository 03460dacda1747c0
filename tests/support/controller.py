"""Playing the Argo Rollouts controller's part on the Kubernetes test tier.

No controller runs in the tests: where it would act, these helpers write `status` (and create
the ReplicaSets it would own), on the local test server or on a real cluster alike."""

import copy
import threading
import time

ARGO = "argoproj.io/v1alpha1"


def api(client, kind, api_version=ARGO):
    return client.resources.get(api_version=api_version, kind=kind)


def get(client, namespace, name, kind="Rollout", api_version=ARGO):
    return api(client, kind, api_version).get(name=name, namespace=namespace).to_dict()


def write_status(client, namespace, name, status, kind="Rollout", api_version=ARGO):
    """Merge ``status`` into the object's status (None removes a field), as the controller would.

    Through the status subresource when the kind declares one (Rollout), else with the object itself
    (AnalysisRun, Experiment: their CRDs declare no status subresource)."""
    from kubernetes.dynamic.exceptions import ConflictError
    resource = api(client, kind, api_version)
    writer = (getattr(resource, "subresources", None) or {}).get("status") or resource
    for _attempt in range(10):
        obj = resource.get(name=name, namespace=namespace).to_dict()
        merged = copy.deepcopy(obj.get("status") or {})
        for key, value in status.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        obj["status"] = merged
        try:
            return writer.replace(body=obj, namespace=namespace).to_dict()
        except ConflictError:
            continue
    raise AssertionError("could not write the status of %s/%s" % (namespace, name))


class React(object):
    """In the background, wait (bounded) for ``when(obj)`` and then write ``status``: a controller
    answering what a module asked for. ``join()`` says whether it acted."""

    def __init__(self, client, namespace, name, when, status, timeout=60, delay=0.5, kind="Rollout",
                 api_version=ARGO):
        self.acted = False
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(client, namespace, name, when, status, timeout,
                                                               delay, kind, api_version), daemon=True)
        self.thread.start()

    def _run(self, client, namespace, name, when, status, timeout, delay, kind, api_version):
        from kubernetes.dynamic.exceptions import NotFoundError
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                try:
                    obj = get(client, namespace, name, kind, api_version)
                except NotFoundError:  # not created yet
                    obj = None
                if obj is not None and when(obj):
                    time.sleep(delay)  # the controller's reconcile takes a moment
                    write_status(client, namespace, name, status(get(client, namespace, name, kind, api_version))
                                 if callable(status) else status, kind, api_version)
                    self.acted = True
                    return
                time.sleep(0.1)
        except Exception as e:  # reported by join()
            self.error = e

    def join(self):
        self.thread.join(timeout=90)
        if self.error:
            raise self.error
        return self.acted


def replicaset(rollout, revision, pod_hash, image, available=None):
    """A ReplicaSet owned by the rollout, as the controller creates one per revision."""
    meta = rollout["metadata"]
    replicas = rollout["spec"].get("replicas", 1)
    template = copy.deepcopy(rollout["spec"]["template"])
    template["metadata"].setdefault("labels", {})["rollouts-pod-template-hash"] = pod_hash
    # a ReplicaSet's pod template carries the Go zero value, as the controller writes it (the Rollout CRD
    # prunes it from a Rollout's template: an undo that copies it back must still compare equal)
    template["metadata"]["creationTimestamp"] = None
    template["spec"]["containers"][0]["image"] = image
    return {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "%s-%s" % (meta["name"], pod_hash),
                     "labels": dict(template["metadata"]["labels"]),
                     "annotations": {"rollout.argoproj.io/revision": str(revision)},
                     "ownerReferences": [{"apiVersion": ARGO, "kind": "Rollout", "name": meta["name"],
                                          "uid": meta["uid"], "controller": True}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(template["metadata"]["labels"])},
                 "template": template},
        "status": {"replicas": replicas, "availableReplicas": replicas if available is None else available,
                   "readyReplicas": replicas if available is None else available},
    }


def create_replicaset(client, namespace, rs):
    """Create it and write its status (the ReplicaSet controller's part)."""
    resource = api(client, "ReplicaSet", "apps/v1")
    created = resource.create(body={k: v for k, v in rs.items() if k != "status"}, namespace=namespace).to_dict()
    created["status"] = rs["status"]
    return resource.status.replace(body=created, namespace=namespace).to_dict()
