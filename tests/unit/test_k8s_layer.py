"""The Kubernetes layer (k8s.py, and argo.act_on on top of it): one update with retry, errors classed by the
server's status code, one owner-reference filter.

The update loop is pinned down with plain functions; everything that talks to a server talks to the local
Kubernetes API test server (tests/support/kube_api.py, the project's minimal CRDs) through kubernetes.core's
client, and meets real 404s, 403s and 409s."""

import pytest

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.progressive.delivery.plugins.module_utils import argo, k8s, rollouts

import kube_api

NS = "shop"


# --------------------------------------------------------------------------- update_with_retry


class Server(object):
    """An object with a resourceVersion; ``conflicts`` writes are refused as a stale write is."""

    def __init__(self, conflicts):
        self.obj = {"metadata": {"name": "x", "resourceVersion": "1"}, "data": {"n": 0}}
        self.conflicts = conflicts
        self.reads = 0
        self.writes = []

    def read(self):
        self.reads += 1
        return {"metadata": dict(self.obj["metadata"]), "data": dict(self.obj["data"])}

    def write(self, before, planned):
        if self.conflicts:
            self.conflicts -= 1
            self.obj["metadata"]["resourceVersion"] = str(int(self.obj["metadata"]["resourceVersion"]) + 1)
            raise k8s.Conflict("the object has been modified")
        assert planned["metadata"]["resourceVersion"] == self.obj["metadata"]["resourceVersion"]
        self.writes.append(planned)
        self.obj = planned
        return planned


def increment(before):
    return {"metadata": before["metadata"], "data": {"n": before["data"]["n"] + 1}}


def test_a_conflict_reads_again_and_rebuilds_from_the_latest():
    server = Server(conflicts=1)
    done = k8s.update_with_retry(server.read, increment, server.write, "ConfigMap 'x'")
    assert done.conflicts == 1 and server.reads == 2 and len(server.writes) == 1
    assert done.after["data"]["n"] == 1 and done.after["metadata"]["resourceVersion"] == "2"
    assert done.before["metadata"]["resourceVersion"] == "2"  # the object read the second time


def test_conflicts_in_a_row_name_the_object_and_write_nothing():
    server = Server(conflicts=5)
    with pytest.raises(k8s.Conflict, match=r"^ConfigMap 'x' kept changing under us \(5 conflicts in a row\); try again"):
        k8s.update_with_retry(server.read, increment, server.write, "ConfigMap 'x'", attempts=5)
    assert server.reads == 5 and server.writes == []


def test_an_error_that_is_no_conflict_is_not_retried():
    server = Server(conflicts=0)

    def refuse(before):
        raise k8s.Forbidden("no")
    with pytest.raises(k8s.Forbidden):
        k8s.update_with_retry(server.read, refuse, server.write, "ConfigMap 'x'")
    assert server.reads == 1


# --------------------------------------------------------------------------- owned_by


def test_owned_by_matches_the_owner_uid_only():
    owner = {"metadata": {"name": "checkout", "uid": "u1"}}
    mine = {"metadata": {"ownerReferences": [{"uid": "u0"}, {"uid": "u1"}]}}
    other = {"metadata": {"ownerReferences": [{"uid": "u2"}]}}
    orphan = {"metadata": {}}
    assert k8s.owned_by(mine, owner)
    assert not k8s.owned_by(other, owner) and not k8s.owned_by(orphan, owner)
    # an owner that was never stored (no uid) owns nothing, not everything without a uid
    assert not k8s.owned_by({"metadata": {"ownerReferences": [{"name": "checkout"}]}}, {"metadata": {}})


# --------------------------------------------------------------------------- against an API server


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = kube_api.KubeAPI(crds=False, namespace_seconds=0.3).start()
    server.add_namespace(NS)
    path = server.kubeconfig(str(tmp_path_factory.mktemp("kube") / "kubeconfig"))
    try:
        yield server, get_api_client(kubeconfig=path), path
    finally:
        server.stop()


def configmap(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS}, "data": data}


def test_a_missing_object_is_notfound_from_the_status_code(api):
    _server, client, _path = api
    with pytest.raises(k8s.NotFound) as raised:
        k8s.read_object(client, "ConfigMap", "absent", NS, "v1")
    assert str(raised.value) == ("ConfigMap 'absent' in namespace 'shop' not found; check the name and namespace "
                                 "(kubectl get configmap -n shop)")
    assert k8s.read_object(client, "ConfigMap", "absent", NS, "v1", missing_ok=True) is None
    # a kind the server does not serve is no missing object: it is said, never taken for "absent"
    with pytest.raises(k8s.KubernetesError, match="is the Nothing API") as raised:
        k8s.read_object(client, "Nothing", "x", NS, "example.com/v1", missing_ok=True)
    assert not isinstance(raised.value, k8s.NotFound)


def test_a_refusal_is_forbidden_and_names_the_grant(api):
    _server, _client, path = api
    nobody = get_api_client(kubeconfig=path, impersonate_user="nobody")
    with pytest.raises(k8s.Forbidden, match="reading ConfigMap 'x' in namespace 'shop' is forbidden .*grant get on "
                                            "configmap"):
        k8s.read_object(nobody, "ConfigMap", "x", NS, "v1", missing_ok=True)


def test_write_object_meets_a_real_conflict_and_the_retry_keeps_the_other_writer(api):
    server, client, _path = api
    k8s.write_object(client, configmap("counter", n="0"), NS, create=True)
    server.write_concurrently("", "configmaps", NS, "counter", times=2)

    def plan(before):
        before["data"]["n"] = str(int(before["data"]["n"]) + 1)
        return before
    done = k8s.update_with_retry(lambda: k8s.read_object(client, "ConfigMap", "counter", NS, "v1"), plan,
                                 lambda before, body: k8s.write_object(client, body, NS), "ConfigMap 'counter'")
    assert done.conflicts == 2
    stored = k8s.read_object(client, "ConfigMap", "counter", NS, "v1")
    assert stored["data"]["n"] == "1"
    assert stored["metadata"]["annotations"]["test.progressive.delivery/other-writer"] == "2"
    with pytest.raises(k8s.Conflict):  # creating what exists is a 409 as well: read again, then replace
        k8s.write_object(client, configmap("counter"), NS, create=True)


def rollout(name):
    return {"apiVersion": argo.ARGO_API_VERSION, "kind": "Rollout", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "strategy": {"canary": {"steps": [{"setWeight": 10}, {"pause": {}}]}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "app:1"}]}}}}


def test_act_on_reads_again_and_rebuilds_after_a_real_conflict(api):
    server, client, _path = api
    k8s.write_object(client, rollout("checkout"), NS, create=True)
    server.write_concurrently("argoproj.io", "rollouts", NS, "checkout", times=1)
    before, after, patches, conflicts = argo.act_on(client, "checkout", NS,
                                                    lambda ro: rollouts.set_image(ro, {"app": "app:2"}))
    assert conflicts == 1 and len(patches) == 1 and patches[0].kind == "update"
    assert before["metadata"]["annotations"]["test.progressive.delivery/other-writer"] == "1"
    stored = argo.read_argo(client, "Rollout", "checkout", NS)
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "app:2" == \
        after["spec"]["template"]["spec"]["containers"][0]["image"]
    assert stored["metadata"]["annotations"]["test.progressive.delivery/other-writer"] == "1"
    # the same again changes nothing: no patch, nothing sent
    _before, _after, patches, conflicts = argo.act_on(client, "checkout", NS,
                                                      lambda ro: rollouts.set_image(ro, {"app": "app:2"}))
    assert patches == [] and conflicts == 0


def test_act_on_in_check_mode_answers_with_the_server_and_stores_nothing(api):
    _server, client, _path = api
    k8s.write_object(client, rollout("cart"), NS, create=True)
    stored = argo.read_argo(client, "Rollout", "cart", NS)
    _before, after, patches, conflicts = argo.act_on(client, "cart", NS, rollouts.abort, check_mode=True)
    assert [p.body for p in patches] == [{"status": {"abort": True}}] and conflicts == 0
    assert after["status"]["abort"] is True
    assert argo.read_argo(client, "Rollout", "cart", NS) == stored
