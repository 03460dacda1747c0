"""OpenAPI v3 schemas of the Argo Rollouts CRDs for the local Kubernetes API test server.

Written here from the Argo Rollouts API reference (not copied from its generated CRDs), covering the
fields the collection renders and closed (additionalProperties: false) where a typo would otherwise
be silently dropped, so the test server answers 422 as a real API server with the CRDs installed
would. On a real cluster (K8S_AUTH_KUBECONFIG) the real CRDs validate instead."""

INT_OR_STRING = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
DURATION = INT_OR_STRING

ARG = {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
    "name": {"type": "string"}, "value": {"type": "string"},
    "valueFrom": {"type": "object", "additionalProperties": False, "properties": {
        "podTemplateHashValue": {"type": "string", "enum": ["Stable", "Latest"]},
        "fieldRef": {"type": "object"}, "secretKeyRef": {"type": "object"}}}}}

TEMPLATE_REF = {"type": "object", "additionalProperties": False, "properties": {
    "templateName": {"type": "string"}, "clusterScope": {"type": "boolean"}}}

ANALYSIS = {"type": "object", "additionalProperties": False, "properties": {
    "templates": {"type": "array", "items": TEMPLATE_REF}, "args": {"type": "array", "items": ARG},
    "startingStep": {"type": "integer"}, "dryRun": {"type": "array"}, "measurementRetention": {"type": "array"}}}

STEP = {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1, "properties": {
    "setWeight": {"type": "integer", "minimum": 0, "maximum": 100},
    "pause": {"type": "object", "additionalProperties": False, "properties": {"duration": DURATION}},
    "analysis": ANALYSIS, "experiment": {"type": "object"}, "setCanaryScale": {"type": "object"},
    "setHeaderRoute": {"type": "object"}, "setMirrorRoute": {"type": "object"}, "plugin": {"type": "object"}}}

CANARY = {"type": "object", "additionalProperties": False, "properties": {
    "steps": {"type": "array", "items": STEP}, "canaryService": {"type": "string"},
    "stableService": {"type": "string"}, "maxSurge": INT_OR_STRING, "maxUnavailable": INT_OR_STRING,
    "abortScaleDownDelaySeconds": {"type": "integer", "minimum": 0}, "scaleDownDelaySeconds": {"type": "integer"},
    "dynamicStableScale": {"type": "boolean"}, "analysis": ANALYSIS, "trafficRouting": {
        "type": "object", "additionalProperties": False, "properties": {
            "istio": {"type": "object"}, "nginx": {"type": "object", "required": ["stableIngress"]},
            "alb": {"type": "object"}, "smi": {"type": "object"}, "plugins": {"type": "object"},
            "managedRoutes": {"type": "array"}}},
    "antiAffinity": {"type": "object"}, "canaryMetadata": {"type": "object"}, "stableMetadata": {"type": "object"},
    "minPodsPerReplicaSet": {"type": "integer"}, "pingPong": {"type": "object"}}}

BLUE_GREEN = {"type": "object", "required": ["activeService"], "additionalProperties": False, "properties": {
    "activeService": {"type": "string"}, "previewService": {"type": "string"},
    "autoPromotionEnabled": {"type": "boolean"}, "autoPromotionSeconds": {"type": "integer"},
    "scaleDownDelaySeconds": {"type": "integer", "minimum": 0}, "scaleDownDelayRevisionLimit": {"type": "integer"},
    "previewReplicaCount": {"type": "integer"}, "prePromotionAnalysis": ANALYSIS, "postPromotionAnalysis": ANALYSIS,
    "abortScaleDownDelaySeconds": {"type": "integer"}, "antiAffinity": {"type": "object"},
    "activeMetadata": {"type": "object"}, "previewMetadata": {"type": "object"}}}

ROLLOUT = {"type": "object", "required": ["spec"], "properties": {"spec": {
    "type": "object", "properties": {
        "replicas": {"type": "integer", "minimum": 0}, "revisionHistoryLimit": {"type": "integer"},
        "selector": {"type": "object"}, "template": {"type": "object"}, "workloadRef": {"type": "object"},
        "paused": {"type": "boolean"}, "restartAt": {"type": "string"},
        "strategy": {"type": "object", "additionalProperties": False, "maxProperties": 1,
                     "properties": {"canary": CANARY, "blueGreen": BLUE_GREEN}}}}}}

METRIC = {"type": "object", "required": ["name", "provider"], "additionalProperties": False, "properties": {
    "name": {"type": "string"}, "interval": {"type": "string"}, "initialDelay": {"type": "string"},
    "count": INT_OR_STRING, "failureLimit": INT_OR_STRING, "inconclusiveLimit": INT_OR_STRING,
    "consecutiveErrorLimit": INT_OR_STRING, "consecutiveSuccessLimit": INT_OR_STRING,
    "successCondition": {"type": "string"}, "failureCondition": {"type": "string"},
    "provider": {"type": "object", "minProperties": 1, "properties": {
        "prometheus": {"type": "object", "required": ["query"], "properties": {
            "address": {"type": "string"}, "query": {"type": "string"}, "timeout": {"type": "integer"},
            "insecure": {"type": "boolean"}, "headers": {"type": "array"}, "authentication": {"type": "object"}}}}}}}

ANALYSIS_TEMPLATE = {"type": "object", "required": ["spec"], "properties": {"spec": {
    "type": "object", "additionalProperties": False, "properties": {
        "metrics": {"type": "array", "items": METRIC}, "args": {"type": "array", "items": ARG},
        "dryRun": {"type": "array"}, "measurementRetention": {"type": "array"}, "templates": {"type": "array"}}}}}

# (group, plural) -> schema of the whole object
SCHEMAS = {("argoproj.io", "rollouts"): ROLLOUT, ("argoproj.io", "analysistemplates"): ANALYSIS_TEMPLATE,
           ("argoproj.io", "clusteranalysistemplates"): ANALYSIS_TEMPLATE}


def problems(group, plural, obj):
    """Field errors as a real API server words them, or [] (no schema: no validation)."""
    schema = SCHEMAS.get((group, plural))
    if schema is None:
        return []
    import jsonschema
    out = []
    for error in jsonschema.Draft7Validator(schema).iter_errors(obj):
        path = ".".join("[%d]" % p if isinstance(p, int) else p for p in error.absolute_path).replace(".[", "[")
        out.append("%s: Invalid value: %s" % (path or "<root>", error.message))
    return sorted(out)
