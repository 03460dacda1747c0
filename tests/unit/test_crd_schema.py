"""The structural-schema engine of the Kubernetes API test server (tests/support/crd_schema.py).

Cases from the facts a real kube-apiserver shows for the upstream CRDs (../shared/crds/README.md),
run on the upstream CRDs when they are there (PD_TEST_CRDS or ../shared/crds) and always on the
project's minimal CRDs; each test id says which. Then the engine's rules on small schemas, and the
server's REST API end to end with the kubernetes DynamicClient."""

import copy
import json
import time

import pytest

import crd_schema
import crd_schemas
import kube_api

UPSTREAM = kube_api.crd_folder()


def _schemas(docs):
    out = {}
    for doc in docs:
        spec = doc["spec"]
        for v in spec["versions"]:
            out[(spec["names"]["kind"], v["name"])] = (v["schema"]["openAPIV3Schema"], v.get("subresources") or {})
    return out


@pytest.fixture(scope="module", params=["upstream", "minimal"])
def crds(request):
    if request.param == "upstream":
        if UPSTREAM is None:
            pytest.skip("no upstream CRDs (set PD_TEST_CRDS or provide ../shared/crds)")
        docs, source = kube_api.crd_documents(UPSTREAM)
    else:
        docs, source = crd_schemas.minimal_crds(), "minimal"
    schemas = _schemas(docs)
    schemas["source"] = source
    return schemas


ROLLOUT = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "checkout", "namespace": "shop"},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "checkout"}},
             "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "checkout"}},
                          "spec": {"containers": [{"name": "app", "image": "checkout:1"}]}},
             "strategy": {"canary": {"steps": [{"setWeight": 20}, {"pause": {"duration": "1m"}}, {"pause": {}}]}}}}

HTTP_ROUTE = {
    "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "checkout"},
    "spec": {"parentRefs": [{"name": "gateway"}],
             "rules": [{"matches": [{"headers": [{"name": "x-canary", "value": "1"}]}, {}],
                        "backendRefs": [{"name": "checkout-stable", "port": 80, "weight": 90},
                                        {"name": "checkout-canary", "port": 80, "weight": 10}]}]}}


def test_rollout_template_creation_timestamp_is_pruned(crds):
    schema, _sub = crds[("Rollout", "v1alpha1")]
    stored, errors = crd_schema.admit(ROLLOUT, schema)
    assert errors == [], crds["source"]
    assert stored["spec"]["template"]["metadata"] == {"labels": {"app": "checkout"}}
    assert stored["spec"]["strategy"] == ROLLOUT["spec"]["strategy"]
    assert stored["metadata"] == ROLLOUT["metadata"]  # the root's metadata is the server's, never pruned


def test_rollout_undeclared_fields_are_pruned_not_refused(crds):
    schema, _sub = crds[("Rollout", "v1alpha1")]
    sent = copy.deepcopy(ROLLOUT)
    sent["spec"]["strategy"]["canary"]["steps"][0]["setWieght"] = 30
    sent["bogus"] = {"a": 1}
    stored, errors = crd_schema.admit(sent, schema)
    assert errors == []
    assert stored["spec"]["strategy"]["canary"]["steps"][0] == {"setWeight": 20}
    assert "bogus" not in stored


def test_rollout_pause_condition_needs_start_time(crds):
    schema, _sub = crds[("Rollout", "v1alpha1")]
    sent = dict(ROLLOUT, status={"pauseConditions": [{"reason": "PausedByUser"}]})
    _stored, errors = crd_schema.admit(sent, schema)
    assert [str(e) for e in errors] == ["status.pauseConditions[0].startTime: Required value"]
    assert (crd_schema.invalid_message("Rollout", "argoproj.io", "checkout", errors)
            == 'Rollout.argoproj.io "checkout" is invalid: status.pauseConditions[0].startTime: Required value')
    sent["status"]["pauseConditions"][0]["startTime"] = "2024-05-01T10:00:00Z"
    assert crd_schema.admit(sent, schema)[1] == []


def test_rollout_declares_status_and_scale_analysis_run_declares_none(crds):
    assert set(crds[("Rollout", "v1alpha1")][1]) == {"status", "scale"}
    for kind in ("AnalysisRun", "AnalysisTemplate", "ClusterAnalysisTemplate", "Experiment"):
        assert crds[(kind, "v1alpha1")][1] == {}, kind


def test_http_route_defaults(crds):
    schema, _sub = crds[("HTTPRoute", "v1")]
    stored, errors = crd_schema.admit(HTTP_ROUTE, schema)
    assert errors == []
    rule = stored["spec"]["rules"][0]
    assert rule["backendRefs"] == [
        {"group": "", "kind": "Service", "name": "checkout-stable", "port": 80, "weight": 90},
        {"group": "", "kind": "Service", "name": "checkout-canary", "port": 80, "weight": 10}]
    assert rule["matches"][0]["path"] == {"type": "PathPrefix", "value": "/"}
    assert rule["matches"][0]["headers"] == [{"name": "x-canary", "value": "1", "type": "Exact"}]
    assert rule["matches"][1] == {"path": {"type": "PathPrefix", "value": "/"}}
    assert stored["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                             "name": "gateway"}]
    # a rule without matches gets the default match; a route without rules the default rule
    stored, _errors = crd_schema.admit(dict(HTTP_ROUTE, spec={"rules": [{"backendRefs": []}]}), schema)
    assert stored["spec"]["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    stored, _errors = crd_schema.admit(dict(HTTP_ROUTE, spec={}), schema)
    assert stored["spec"]["rules"] == [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]


def test_http_route_with_17_rules_is_refused(crds):
    schema, _sub = crds[("HTTPRoute", "v1")]
    rule = HTTP_ROUTE["spec"]["rules"][0]
    _stored, errors = crd_schema.admit(dict(HTTP_ROUTE, spec={"rules": [rule] * 17}), schema)
    assert [str(e) for e in errors] == ["spec.rules: Too many: 17: must have at most 16 items"]
    assert crd_schema.admit(dict(HTTP_ROUTE, spec={"rules": [rule] * 16}), schema)[1] == []


def test_http_route_weight_range_and_type(crds):
    schema, _sub = crds[("HTTPRoute", "v1")]
    sent = copy.deepcopy(HTTP_ROUTE)
    sent["spec"]["rules"][0]["backendRefs"][0]["weight"] = -1
    sent["spec"]["rules"][0]["backendRefs"][1]["weight"] = "10"
    _stored, errors = crd_schema.admit(sent, schema)
    assert [str(e) for e in errors] == [
        "spec.rules[0].backendRefs[0].weight: Invalid value: -1: spec.rules[0].backendRefs[0].weight in body should "
        "be greater than or equal to 0",
        'spec.rules[0].backendRefs[1].weight: Invalid value: "string": spec.rules[0].backendRefs[1].weight in body '
        'must be of type integer: "string"']


def test_openshift_route_weights_are_defaulted(crds):
    schema, _sub = crds[("Route", "v1")]
    stored, errors = crd_schema.admit({"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "r"},
                                       "spec": {"to": {"kind": "Service", "name": "stable"},
                                                "alternateBackends": [{"kind": "Service", "name": "canary"}]}}, schema)
    assert errors == []
    assert stored["spec"]["to"]["weight"] == 100 and stored["spec"]["alternateBackends"][0]["weight"] == 100


def test_analysis_template_metric_needs_a_provider(crds):
    schema, _sub = crds[("AnalysisTemplate", "v1alpha1")]
    _stored, errors = crd_schema.admit({"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate",
                                        "metadata": {"name": "t"}, "spec": {"metrics": [{"name": "m"}]}}, schema)
    assert "spec.metrics[0].provider: Required value" in [str(e) for e in errors]


def test_int_or_string_on_the_real_kinds(crds):
    schema, _sub = crds[("Rollout", "v1alpha1")]
    for duration in ("30s", 30):
        sent = copy.deepcopy(ROLLOUT)
        sent["spec"]["strategy"]["canary"]["steps"][1]["pause"]["duration"] = duration
        assert crd_schema.admit(sent, schema)[1] == []
    sent["spec"]["strategy"]["canary"]["steps"][1]["pause"]["duration"] = True
    assert crd_schema.admit(sent, schema)[1]


# ------------------------------------------------------------------------------ the engine's rules

MAP = {"type": "object", "additionalProperties": {"type": "string"}}
SCHEMA = {"type": "object", "properties": {
    "spec": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 8, "pattern": "^[a-z]+$"},
        "size": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 10, "default": 1},
        "ratio": {"type": "number"},
        "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
        "port": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
        "labels": MAP,
        "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                 "properties": {"closed": {"type": "object", "properties": {"a": {"type": "string"}}}}},
        "maybe": {"type": "string", "nullable": True},
        "never": {"type": "string"},
        "withDefault": {"type": "string", "default": "d"},
        "items": {"type": "array", "maxItems": 2, "minItems": 1, "items": {
            "type": "object", "properties": {"k": {"type": "string"}, "v": {"type": "integer", "default": 7}}}},
        "set": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "byKey": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"],
                  "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
        "choice": {"type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "string"}},
                   "oneOf": [{"required": ["x"]}, {"required": ["y"]}]},
        "when": {"type": "string", "format": "date-time"},
        "template": {"type": "object", "x-kubernetes-embedded-resource": True, "properties": {
            "spec": {"type": "object", "properties": {"a": {"type": "string"}}}}},
        "celChecked": {"type": "string", "x-kubernetes-validations": [{"rule": "self == 'never'"}]}}}}}


def admit(spec):
    return crd_schema.admit({"apiVersion": "x/v1", "kind": "X", "metadata": {"name": "x"}, "spec": spec}, SCHEMA)


def messages(spec):
    return sorted(str(e) for e in admit(spec)[1])


def test_defaults_fill_absent_fields_recursively_also_in_array_items():
    stored, errors = admit({"name": "ok", "items": [{"k": "a"}, {"k": "b", "v": 2}]})
    assert errors == []
    assert stored["spec"]["size"] == 1 and stored["spec"]["mode"] == "a" and stored["spec"]["withDefault"] == "d"
    assert stored["spec"]["items"] == [{"k": "a", "v": 7}, {"k": "b", "v": 2}]


def test_prune_then_default_then_validate():
    # a pruned field cannot satisfy required; a null non-nullable field is dropped, or defaulted
    stored, errors = admit({"nmae": "typo", "never": None, "withDefault": None, "maybe": None})
    assert [str(e) for e in errors] == ["spec.name: Required value"]
    assert "nmae" not in stored["spec"] and "never" not in stored["spec"]
    assert stored["spec"]["withDefault"] == "d" and stored["spec"]["maybe"] is None


def test_preserve_unknown_fields_keeps_unknown_but_prunes_declared_children():
    stored, _errors = admit({"name": "ok", "open": {"anything": {"deep": [1]}, "closed": {"a": "x", "b": "pruned"}}})
    assert stored["spec"]["open"] == {"anything": {"deep": [1]}, "closed": {"a": "x"}}


def test_embedded_resource_keeps_api_version_kind_metadata():
    stored, errors = admit({"name": "ok", "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "p", "labels": {"a": "b"}, "nonsense": 1}, "spec": {"a": "x", "b": "y"}, "other": 1}})
    assert errors == []
    assert stored["spec"]["template"] == {"apiVersion": "v1", "kind": "Pod", "spec": {"a": "x"}, "metadata": {
        "name": "p", "labels": {"a": "b"}, "creationTimestamp": None}}
    assert messages({"name": "ok", "template": {"spec": {}}}) == [
        "spec.template.apiVersion: Required value: must not be empty", "spec.template.kind: Required value: must not be empty"]


def test_int_or_string():
    assert messages({"name": "ok", "port": 8080}) == []
    assert messages({"name": "ok", "port": "http"}) == []
    assert messages({"name": "ok", "port": 1.5}) == [
        'spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"']


def test_scalar_rules():
    assert messages({"name": "", "size": 11, "mode": "c", "ratio": 1}) == [
        'spec.mode: Unsupported value: "c": supported values: "a", "b"',
        'spec.name: Invalid value: "": spec.name in body should be at least 1 chars long',
        "spec.name: Invalid value: \"\": spec.name in body should match '^[a-z]+$'",
        "spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"]
    assert messages({"name": "toolongname"}) == ["spec.name: Too long: may not be longer than 8"]
    assert messages({"name": "ok", "size": 2 ** 40}) == [
        "spec.size: Invalid value: 1099511627776: spec.size in body must be of type int32: 1099511627776",
        "spec.size: Invalid value: 1099511627776: spec.size in body should be less than or equal to 10"]
    assert messages({"name": "ok", "when": "yesterday"}) == [
        'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"']
    assert messages({"name": "ok", "when": "2024-05-01T10:00:00.123Z", "size": 2.0}) == []
    assert messages({"name": "ok", "size": True}) == [
        'spec.size: Invalid value: "boolean": spec.size in body must be of type integer: "boolean"']


def test_arrays_maps_sets():
    assert messages({"name": "ok", "items": []}) == ["spec.items: Invalid value: 0: spec.items in body should have at "
                                                     "least 1 items"]
    assert messages({"name": "ok", "items": [{}, {}, {}]}) == ["spec.items: Too many: 3: must have at most 2 items"]
    assert messages({"name": "ok", "labels": {"a": 1}}) == [
        'spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"']
    assert messages({"name": "ok", "set": ["a", "b", "a"]}) == ['spec.set[2]: Duplicate value: "a"']
    assert messages({"name": "ok", "byKey": [{"k": "a"}, {"k": "a"}]}) == [
        'spec.byKey[1]: Duplicate value: map[string]interface {}{"k":"a"}']


def test_one_of_is_validation_only():
    assert messages({"name": "ok", "choice": {"x": "1"}}) == []
    assert messages({"name": "ok", "choice": {"x": "1", "y": "2"}}) == [
        'spec.choice: Invalid value: "object": spec.choice in body must validate one and only one schema (oneOf). '
        'Found 2 valid alternatives']


def test_cel_rules_are_not_evaluated():
    # x-kubernetes-validations are skipped by this engine (a real API server would refuse this)
    assert messages({"name": "ok", "celChecked": "anything"}) == []


def test_several_errors_in_one_message():
    errors = admit({"size": -1})[1]
    assert crd_schema.invalid_message("X", "x.io", "x", errors) == (
        'X.x.io "x" is invalid: [spec.name: Required value, spec.size: Invalid value: -1: spec.size in body should be '
        'greater than or equal to 0]')
    body = crd_schema.invalid_status("X", "x.io", "x", errors)
    assert body["code"] == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0] == {"reason": "FieldValueRequired", "message": "Required value",
                                            "field": "spec.name"}


def test_root_metadata_is_coerced_not_pruned():
    stored, errors = crd_schema.admit({"apiVersion": "x/v1", "kind": "X", "metadata": {
        "name": "x", "labels": {"a": "b"}, "annotations": {"c": "d"}, "finalizers": ["f"], "junk": 1},
        "spec": {"name": "ok"}}, SCHEMA)
    assert errors == []
    assert stored["metadata"] == {"name": "x", "labels": {"a": "b"}, "annotations": {"c": "d"}, "finalizers": ["f"]}
    assert [str(e) for e in crd_schema.admit({"metadata": {"name": "Not_A_Name"}, "spec": {"name": "ok"}},
                                             SCHEMA)[1]][0].startswith('metadata.name: Invalid value: "Not_A_Name"')


def test_crd_documents_are_parsed_once_per_process():
    if UPSTREAM is None:
        pytest.skip("no upstream CRDs")
    started = time.time()
    first, source = kube_api.crd_documents(UPSTREAM)
    again, _source = kube_api.crd_documents(UPSTREAM)
    assert again is first and time.time() - started < 30
    assert "CRDs from" in source and len(first) >= 12


# ------------------------------------------------------------------------------ through the REST API

@pytest.fixture(scope="module", params=["upstream", "minimal"])
def server(tmp_path_factory, request):
    from kubernetes import config as kconfig
    from kubernetes.client import ApiClient
    from kubernetes.dynamic import DynamicClient
    if request.param == "upstream" and UPSTREAM is None:
        pytest.skip("no upstream CRDs (set PD_TEST_CRDS or provide ../shared/crds)")
    api = kube_api.KubeAPI(crds=UPSTREAM if request.param == "upstream" else False, namespace_seconds=0.3).start()
    path = api.kubeconfig(str(tmp_path_factory.mktemp("kube") / "kubeconfig"))
    client = DynamicClient(ApiClient(kconfig.new_client_from_config(config_file=path).configuration))
    client.resources.get(api_version="v1", kind="Namespace").create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    try:
        yield api, client
    finally:
        api.stop()


def _error(call):
    from kubernetes.dynamic.exceptions import DynamicApiError
    with pytest.raises(DynamicApiError) as raised:
        call()
    return raised.value.status, json.loads(raised.value.body)


def test_dry_run_stores_nothing_and_answers_the_admitted_object(server):
    api, client = server
    routes = client.resources.get(api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute")
    answer = routes.create(body=HTTP_ROUTE, namespace="shop", query_params=[("dryRun", "All")]).to_dict()
    assert answer["spec"]["rules"][0]["backendRefs"][0]["kind"] == "Service"
    assert answer["metadata"]["uid"] and "resourceVersion" not in answer["metadata"]
    assert _error(lambda: routes.get(name="checkout", namespace="shop"))[0] == 404
    created = routes.create(body=HTTP_ROUTE, namespace="shop").to_dict()
    changed = copy.deepcopy(created)
    changed["spec"]["rules"][0]["backendRefs"][0]["weight"] = 50
    answer = routes.replace(body=changed, namespace="shop", query_params=[("dryRun", "All")]).to_dict()
    assert answer["spec"]["rules"][0]["backendRefs"][0]["weight"] == 50
    assert routes.get(name="checkout", namespace="shop").to_dict() == created


def test_strategic_merge_patch_on_a_custom_resource_is_415(server):
    api, client = server
    rollouts = client.resources.get(api_version="argoproj.io/v1alpha1", kind="Rollout")
    rollouts.create(body=ROLLOUT, namespace="shop")
    status, body = _error(lambda: rollouts.patch(name="checkout", namespace="shop", body={"spec": {"paused": True}},
                                                 content_type="application/strategic-merge-patch+json"))
    assert status == 415 and body["reason"] == "UnsupportedMediaType"
    services = client.resources.get(api_version="v1", kind="Service")  # built-in kinds take it
    services.create(body={"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                          "spec": {"ports": [{"port": 80}]}}, namespace="shop")
    services.patch(name="s", namespace="shop", body={"metadata": {"labels": {"a": "b"}}},
                   content_type="application/strategic-merge-patch+json")


def test_invalid_status_is_422_with_the_path_and_status_ignores_spec(server):
    api, client = server
    rollouts = client.resources.get(api_version="argoproj.io/v1alpha1", kind="Rollout")
    if not _exists(rollouts, "checkout"):
        rollouts.create(body=ROLLOUT, namespace="shop")
    status, body = _error(lambda: rollouts.status.patch(
        name="checkout", namespace="shop", body={"status": {"pauseConditions": [{"reason": "PausedByUser"}]}},
        content_type="application/merge-patch+json"))
    assert status == 422
    assert body["message"] == ('Rollout.argoproj.io "checkout" is invalid: status.pauseConditions[0].startTime: '
                               'Required value')
    assert body["details"]["causes"][0]["field"] == "status.pauseConditions[0].startTime"
    before = rollouts.get(name="checkout", namespace="shop").to_dict()
    after = rollouts.status.patch(name="checkout", namespace="shop", content_type="application/merge-patch+json",
                                  body={"spec": {"replicas": 9}, "status": {"phase": "Healthy"}}).to_dict()
    assert after["spec"] == before["spec"] and after["status"]["phase"] == "Healthy"
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    again = rollouts.patch(name="checkout", namespace="shop", content_type="application/merge-patch+json",
                           body={"spec": {"replicas": 3}, "status": {"phase": "Degraded"}}).to_dict()
    assert again["status"]["phase"] == "Healthy" and again["spec"]["replicas"] == 3
    assert again["metadata"]["generation"] == before["metadata"]["generation"] + 1
    # an update without resourceVersion is refused for custom resources
    body = dict(again, metadata=dict(again["metadata"]))
    del body["metadata"]["resourceVersion"]
    status, answer = _error(lambda: rollouts.replace(body=body, namespace="shop"))
    assert status == 422 and "metadata.resourceVersion" in answer["message"]


def _exists(resource, name):
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        resource.get(name=name, namespace="shop")
        return True
    except NotFoundError:
        return False


def test_analysis_run_has_no_status_subresource(server):
    api, client = server
    runs = client.resources.get(api_version="argoproj.io/v1alpha1", kind="AnalysisRun")
    run = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun", "metadata": {"name": "run"},
           "spec": {"metrics": [{"name": "m", "provider": {"prometheus": {"query": "up"}}}]},
           "status": {"phase": "Running"}}
    created = runs.create(body=run, namespace="shop").to_dict()
    assert created["status"] == {"phase": "Running"}  # written with the main resource
    status, _body = _error(lambda: client.request(
        "GET", "/apis/argoproj.io/v1alpha1/namespaces/shop/analysisruns/run/status"))
    assert status == 404
    written = runs.patch(name="run", namespace="shop", body={"status": {"phase": "Successful"}},
                         content_type="application/merge-patch+json").to_dict()
    assert written["status"]["phase"] == "Successful"
    assert written["metadata"]["generation"] == 2  # no status subresource: status counts as a change
    names = [r["name"] for r in client.request("GET", "/apis/argoproj.io/v1alpha1").to_dict()["resources"]]
    assert "rollouts/status" in names and "rollouts/scale" in names and "analysisruns/status" not in names


def test_namespace_deletion_is_asynchronous(server):
    api, client = server
    namespaces = client.resources.get(api_version="v1", kind="Namespace")
    namespaces.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "going"}})
    config_maps = client.resources.get(api_version="v1", kind="ConfigMap")
    config_maps.create(body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, namespace="going")
    answer = namespaces.delete(name="going").to_dict()
    assert answer["status"]["phase"] == "Terminating" and answer["metadata"]["deletionTimestamp"]
    assert namespaces.get(name="going").to_dict()["status"]["phase"] == "Terminating"
    status, body = _error(lambda: config_maps.create(body={"apiVersion": "v1", "kind": "ConfigMap",
                                                           "metadata": {"name": "d"}}, namespace="going"))
    assert status == 403 and "is being terminated" in body["message"]
    deadline = time.time() + 10
    while time.time() < deadline and _namespace_exists(namespaces, "going"):
        time.sleep(0.1)
    assert not _namespace_exists(namespaces, "going")
    assert config_maps.get(namespace="going").to_dict()["items"] == []


def _namespace_exists(namespaces, name):
    from kubernetes.dynamic.exceptions import NotFoundError
    try:
        namespaces.get(name=name)
        return True
    except NotFoundError:
        return False


def test_served_versions_answer_in_the_version_asked(server):
    api, client = server
    v1 = client.resources.get(api_version="networking.istio.io/v1", kind="VirtualService")
    beta = client.resources.get(api_version="networking.istio.io/v1beta1", kind="VirtualService")
    v1.create(body={"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "vs"},
                    "spec": {"hosts": ["checkout"]}}, namespace="shop")
    assert beta.get(name="vs", namespace="shop").to_dict()["apiVersion"] == "networking.istio.io/v1beta1"
    assert api.crd_source
