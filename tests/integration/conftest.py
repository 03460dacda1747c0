"""Real servers for the integration tier: Prometheus (Debian package) scraping demo apps.

Each app stands for the pods of one ReplicaSet: Prometheus attaches a pod label of the form
NAME-HASH-SUFFIX, as Kubernetes pod names have, so the tests can scope queries by hash.
"""

import pytest

import harness
from grafana_stand_in import GrafanaStandIn

HASHES = {"healthy": "6b9f7c4d5", "bad": "84d2c1f97", "slow": "5c7e9a1b3"}
SETTINGS = {"healthy": dict(error_rate=0.0, latency=0.005),
            "bad": dict(error_rate=0.2, latency=0.005),
            "slow": dict(error_rate=0.0, latency=0.6)}


@pytest.fixture(scope="session")
def apps():
    started = {}
    try:
        for name, settings in SETTINGS.items():
            started[name] = harness.DemoApp(version=name, load_rps=25 if name != "slow" else 8,
                                            load_seconds=900, **settings)
        yield started
    finally:
        for app in started.values():
            app.stop()


@pytest.fixture(scope="session")
def prometheus(apps, tmp_path_factory):
    targets = [{"job": "checkout-%s" % name, "address": "127.0.0.1:%d" % app.port,
                "labels": {"pod": "checkout-%s-x%s" % (HASHES[name], name[:4]), "namespace": "shop"}}
               for name, app in apps.items()]
    server = harness.Prometheus(targets, str(tmp_path_factory.mktemp("prometheus")))
    try:
        for h in HASHES.values():
            server.wait_for_data('sum(rate(http_requests_total{pod=~".*-%s-.*"}[10s])) > 0' % h, timeout=90)
            server.wait_for_data('histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket'
                                 '{pod=~".*-%s-.*"}[10s]))) > 0' % h, timeout=60)
        yield server
    finally:
        server.stop()


@pytest.fixture
def playbook(tmp_path):
    def run(text, **kwargs):
        return harness.run_playbook(text, str(tmp_path), **kwargs)
    return run


class KubeTier(tuple):
    """(kubeconfig path, kubernetes DynamicClient, namespace); ``.server`` is the local test server,
    or None on a real cluster."""
    server = None


@pytest.fixture(scope="session")
def kube(tmp_path_factory, request):
    """The cluster in K8S_AUTH_KUBECONFIG when set, else the local Kubernetes API test server.

    Yields a KubeTier: (kubeconfig path, kubernetes DynamicClient, a fresh namespace name)."""
    import os
    import uuid

    from kubernetes import config as kconfig
    from kubernetes.client import ApiClient
    from kubernetes.dynamic import DynamicClient

    server = None
    kubeconfig = os.environ.get("K8S_AUTH_KUBECONFIG")
    if not kubeconfig:
        import kube_api
        server = kube_api.KubeAPI().start()
        request.config.pluginmanager.get_plugin("terminalreporter").write_line(
            "Kubernetes API test server: %s (loaded in %.2f s)" % (server.crd_source, server.crd_load_seconds))
        kubeconfig = server.kubeconfig(str(tmp_path_factory.mktemp("kube") / "kubeconfig"))
    client = DynamicClient(ApiClient(kconfig.new_client_from_config(config_file=kubeconfig).configuration))
    namespace = "pd-test-%s" % uuid.uuid4().hex[:6]
    namespaces = client.resources.get(api_version="v1", kind="Namespace")
    namespaces.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    tier = KubeTier((kubeconfig, client, namespace))
    tier.server = server
    try:
        yield tier
    finally:
        namespaces.delete(name=namespace)
        if server:
            server.stop()


@pytest.fixture
def grafana():
    """A stand-in for Grafana's annotation API (Grafana cannot be installed here)."""
    stand_in = GrafanaStandIn()
    yield stand_in
    stand_in.stop()
