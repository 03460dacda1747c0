"""The project's own minimal CustomResourceDefinitions, used by the Kubernetes API test server only when
no folder of real CRDs is there (neither PD_TEST_CRDS nor ../shared/crds; see kube_api.crd_documents).

Written here, much smaller than the upstream CRDs: structural schemas that declare the fields the
README of the shared CRD folder names as facts of a real cluster (Rollout
``spec.template.metadata`` keeps only labels and annotations, ``status.pauseConditions[].startTime``
is required, HTTPRoute defaults, at most 16 HTTPRoute rules, OpenShift Route weights), the same
scope, served versions and subresources as the upstream CRDs (AnalysisRun, AnalysisTemplate and
Experiment have none), and ``x-kubernetes-preserve-unknown-fields`` everywhere else. With the real
CRDs the server prunes, defaults and validates far more; tests that need that say so.
"""

PRESERVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
STRING = {"type": "string"}
INT32 = {"type": "integer", "format": "int32"}
INT_OR_STRING = {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
ANY_ARRAY = {"type": "array", "items": PRESERVE}


def _obj(properties, required=None, preserve=False, **extra):
    out = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if preserve:
        out["x-kubernetes-preserve-unknown-fields"] = True
    out.update(extra)
    return out


def _root(spec, status=None, required=("spec",)):
    props = {"apiVersion": STRING, "kind": STRING, "metadata": {"type": "object"}, "spec": spec,
             "status": status or PRESERVE}
    out = _obj(props)
    if required:
        out["required"] = list(required)
    return out


ARG = _obj({"name": STRING, "value": STRING, "valueFrom": PRESERVE}, required=["name"])

ANALYSIS = _obj({"templates": {"type": "array", "items": _obj({"templateName": STRING,
                                                               "clusterScope": {"type": "boolean"}})},
                 "args": {"type": "array", "items": ARG}, "startingStep": INT32,
                 "dryRun": ANY_ARRAY, "measurementRetention": ANY_ARRAY})

STEP = _obj({"setWeight": INT32, "pause": _obj({"duration": INT_OR_STRING}), "analysis": ANALYSIS,
             "experiment": PRESERVE, "setCanaryScale": PRESERVE, "setHeaderRoute": PRESERVE,
             "setMirrorRoute": PRESERVE, "plugin": PRESERVE})

ROLLOUT = _root(
    _obj({"replicas": INT32, "revisionHistoryLimit": INT32, "paused": {"type": "boolean"}, "restartAt":
          {"type": "string", "format": "date-time"}, "selector": PRESERVE, "workloadRef": PRESERVE,
          "template": _obj({"metadata": _obj({"labels": STRING_MAP, "annotations": STRING_MAP}), "spec": PRESERVE}),
          "strategy": _obj({"canary": _obj({"steps": {"type": "array", "items": STEP}, "analysis": ANALYSIS},
                                           preserve=True),
                            "blueGreen": _obj({"activeService": STRING, "prePromotionAnalysis": ANALYSIS,
                                               "postPromotionAnalysis": ANALYSIS},
                                              required=["activeService"], preserve=True)})},
         preserve=True),
    _obj({"pauseConditions": {"type": "array", "items": _obj(
        {"reason": STRING, "startTime": {"type": "string", "format": "date-time"}}, required=["reason", "startTime"])},
        "abort": {"type": "boolean"}, "abortedAt": {"type": "string", "format": "date-time"},
        "controllerPause": {"type": "boolean"}}, preserve=True))

METRIC = _obj({"name": STRING, "provider": PRESERVE, "count": INT_OR_STRING, "failureLimit": INT_OR_STRING,
               "inconclusiveLimit": INT_OR_STRING, "consecutiveErrorLimit": INT_OR_STRING}, required=["name", "provider"],
              preserve=True)

ANALYSIS_TEMPLATE = _root(_obj({"metrics": {"type": "array", "items": METRIC}, "args": {"type": "array", "items": ARG},
                                "dryRun": ANY_ARRAY, "measurementRetention": ANY_ARRAY, "templates": ANY_ARRAY},
                               required=["metrics"]))

ANALYSIS_RUN = _root(_obj({"metrics": {"type": "array", "items": METRIC}, "args": {"type": "array", "items": ARG}},
                          required=["metrics"], preserve=True), PRESERVE)

PATH_DEFAULT = {"type": "PathPrefix", "value": "/"}
HTTP_ROUTE = _root(_obj({
    "parentRefs": {"type": "array", "maxItems": 32, "items": _obj({
        "group": {"type": "string", "default": "gateway.networking.k8s.io"}, "kind": {"type": "string", "default": "Gateway"},
        "name": STRING, "namespace": STRING, "port": INT32, "sectionName": STRING}, required=["name"])},
    "hostnames": {"type": "array", "items": STRING, "maxItems": 16},
    "rules": {"type": "array", "maxItems": 16, "default": [{"matches": [{"path": PATH_DEFAULT}]}], "items": _obj({
        "name": STRING, "filters": ANY_ARRAY, "timeouts": PRESERVE,
        "matches": {"type": "array", "maxItems": 64, "default": [{"path": PATH_DEFAULT}], "items": _obj({
            "path": _obj({"type": {"type": "string", "default": "PathPrefix",
                                   "enum": ["Exact", "PathPrefix", "RegularExpression"]},
                          "value": {"type": "string", "default": "/"}}, default=PATH_DEFAULT),
            "headers": {"type": "array", "items": _obj({"type": {"type": "string", "default": "Exact"}, "name": STRING,
                                                        "value": STRING}, required=["name", "value"])},
            "queryParams": ANY_ARRAY, "method": STRING})},
        "backendRefs": {"type": "array", "maxItems": 16, "items": _obj({
            "group": {"type": "string", "default": ""}, "kind": {"type": "string", "default": "Service"},
            "name": STRING, "namespace": STRING, "port": INT32,
            "weight": {"type": "integer", "format": "int32", "default": 1, "minimum": 0, "maximum": 1000000},
            "filters": ANY_ARRAY}, required=["name"])}})}}),
    required=None)

ROUTE_BACKEND = _obj({"kind": {"type": "string", "default": "Service"}, "name": STRING,
                      "weight": {"type": "integer", "format": "int32", "default": 100}}, required=["kind", "name"])
OPENSHIFT_ROUTE = _root(_obj({"to": ROUTE_BACKEND, "alternateBackends": {"type": "array", "maxItems": 3,
                                                                         "items": ROUTE_BACKEND},
                              "host": STRING, "path": STRING, "port": PRESERVE, "tls": PRESERVE,
                              "subdomain": STRING, "wildcardPolicy": {"type": "string", "default": "None"}},
                             required=["to"]))

OPEN = _root(PRESERVE, required=None)


def _crd(group, kind, plural, versions, schema, scope="Namespaced", subresources=None, short_names=None):
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "%s.%s" % (plural, group)},
            "spec": {"group": group, "scope": scope,
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": kind + "List",
                               "shortNames": short_names or []},
                     "versions": [{"name": v, "served": True, "storage": i == 0,
                                   "schema": {"openAPIV3Schema": schema}, "subresources": subresources or {}}
                                  for i, v in enumerate(versions)]}}


STATUS = {"status": {}}


def minimal_crds():
    """CustomResourceDefinition documents, as the upstream ones would be loaded."""
    istio = ["v1", "v1alpha3", "v1beta1"]
    return [
        _crd("argoproj.io", "Rollout", "rollouts", ["v1alpha1"], ROLLOUT, short_names=["ro"],
             subresources={"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                   "statusReplicasPath": ".status.HPAReplicas",
                                                   "labelSelectorPath": ".status.selector"}}),
        _crd("argoproj.io", "AnalysisTemplate", "analysistemplates", ["v1alpha1"], ANALYSIS_TEMPLATE),
        _crd("argoproj.io", "ClusterAnalysisTemplate", "clusteranalysistemplates", ["v1alpha1"], ANALYSIS_TEMPLATE,
             scope="Cluster"),
        _crd("argoproj.io", "AnalysisRun", "analysisruns", ["v1alpha1"], ANALYSIS_RUN),
        _crd("argoproj.io", "Experiment", "experiments", ["v1alpha1"], OPEN),
        _crd("gateway.networking.k8s.io", "HTTPRoute", "httproutes", ["v1", "v1beta1"], HTTP_ROUTE, subresources=STATUS),
        _crd("networking.istio.io", "VirtualService", "virtualservices", istio, OPEN, subresources=STATUS),
        _crd("networking.istio.io", "DestinationRule", "destinationrules", istio, OPEN, subresources=STATUS),
        _crd("route.openshift.io", "Route", "routes", ["v1"], OPENSHIFT_ROUTE, subresources=STATUS),
        _crd("monitoring.coreos.com", "ServiceMonitor", "servicemonitors", ["v1"], OPEN, subresources=STATUS),
        _crd("monitoring.coreos.com", "PodMonitor", "podmonitors", ["v1"], OPEN, subresources=STATUS),
        _crd("monitoring.coreos.com", "PrometheusRule", "prometheusrules", ["v1"], OPEN, subresources=STATUS),
    ]
