"""Stands in for the Deployment controller in molecule scenarios: waits (bounded) for a Deployment to
exist, then writes the status the controller would once its pods are available."""

import argparse
import time

from kubernetes import config
from kubernetes.client import ApiClient
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--namespace", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--timeout", type=float, default=120)
    args = p.parse_args(argv)
    client = DynamicClient(ApiClient(config.new_client_from_config(config_file=args.kubeconfig).configuration))
    deployments = client.resources.get(api_version="apps/v1", kind="Deployment")
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        try:
            obj = deployments.get(name=args.name, namespace=args.namespace).to_dict()
        except NotFoundError:
            time.sleep(0.2)
            continue
        replicas = obj["spec"].get("replicas", 1)
        obj["status"] = {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                         "updatedReplicas": replicas, "observedGeneration": obj["metadata"].get("generation", 1),
                         "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]}
        deployments.status.replace(body=obj, namespace=args.namespace)
        return 0
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
