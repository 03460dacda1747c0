"""analysis_check reading AnalysisTemplates and secret arguments from Kubernetes.

Runs against K8S_AUTH_KUBECONFIG when set (the Argo Rollouts CRDs must be installed there),
otherwise against the local Kubernetes API test server; the test code is the same."""

import json
import yaml

from conftest import HASHES
from test_analysis_check import TEMPLATES, analysis


def create(client, obj, namespace=None):
    resource = client.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    return resource.create(obj, namespace=namespace)


def test_template_name_reads_from_the_cluster(playbook, prometheus, kube):
    kubeconfig, client, namespace = kube
    with open(TEMPLATES) as f:
        docs = list(yaml.safe_load_all(f))
    create(client, docs[0], namespace)  # success-rate
    rc, result = analysis(playbook, """
template_name: success-rate
namespace: %s
kubeconfig: %s
prometheus_url: %s
mode: once
args:
  canary-hash: "%s"
""" % (namespace, kubeconfig, prometheus.url, HASHES["bad"]))
    assert rc != 0
    assert result["phase"] == "Failed"
    assert HASHES["bad"] in result["metrics"][0]["query"]


def test_cluster_template_and_secret_args(playbook, prometheus, kube):
    kubeconfig, client, namespace = kube
    create(client, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "slo"},
                    "data": {"hash": __import__("base64").b64encode(HASHES["healthy"].encode()).decode()}},
           namespace)
    create(client, {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "ClusterAnalysisTemplate",
        "metadata": {"name": "pd-test-cluster-rate-%s" % namespace[-6:]},
        "spec": {"args": [{"name": "hash", "valueFrom": {"secretKeyRef": {"name": "slo", "key": "hash"}}}],
                 "metrics": [{"name": "rate", "successCondition": "len(result) > 0 && result[0] > 0",
                              "provider": {"prometheus": {"query": 'sum(rate(http_requests_total{pod=~".*-{{args.hash}}-.*"}[10s]))'}}}]}})
    try:
        rc, result = analysis(playbook, """
template_name: pd-test-cluster-rate-%s
cluster_scope: true
namespace: %s
kubeconfig: %s
prometheus_url: %s
mode: once
""" % (namespace[-6:], namespace, kubeconfig, prometheus.url))
        assert rc == 0, result
        assert result["phase"] == "Successful"
        # the hash came from a secretKeyRef: Argo treats it as secret, so it never shows in the query reported
        assert result["metrics"][0]["query"] == 'sum(rate(http_requests_total{pod=~".*-***-.*"}[10s]))'
        assert HASHES["healthy"] not in json.dumps(result)
    finally:
        client.resources.get(api_version="argoproj.io/v1alpha1", kind="ClusterAnalysisTemplate").delete(
            name="pd-test-cluster-rate-%s" % namespace[-6:])


def test_missing_template_in_cluster_is_named(playbook, prometheus, kube):
    kubeconfig, _client, namespace = kube
    rc, result = analysis(playbook, """
template_name: no-such-template
namespace: %s
kubeconfig: %s
prometheus_url: %s
""" % (namespace, kubeconfig, prometheus.url))
    assert rc != 0
    assert "AnalysisTemplate 'no-such-template' in namespace '%s' not found" % namespace in result["msg"]
