"""A local Kubernetes API test server on 127.0.0.1 that speaks the real REST protocol.

Enough of the API for the collection's tests to run unchanged against it or a real cluster:
discovery (/version, /api, /apis, resource lists for core and the Argo Rollouts CRD group),
create/get/list/replace/delete, label selectors, merge patch and JSON patch, the status
subresource, resourceVersion with 409 Conflict, the Argo Rollouts CRD schemas (422 Invalid, see
crd_schemas.py), and RBAC for impersonated users (Roles,
ClusterRoles and their bindings; the kubeconfig's own user is an administrator allowed to
impersonate, as on a kind cluster). There is no controller: tests write ``status`` themselves
where Argo Rollouts would.
"""

import copy
import json
import re
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import crd_schemas

# (group, version) -> [(plural, kind, namespaced, has_status)]
RESOURCES = {
    ("", "v1"): [("namespaces", "Namespace", False, True), ("secrets", "Secret", True, False),
                 ("configmaps", "ConfigMap", True, False), ("services", "Service", True, True),
                 ("pods", "Pod", True, True), ("serviceaccounts", "ServiceAccount", True, False)],
    ("policy", "v1"): [("poddisruptionbudgets", "PodDisruptionBudget", True, True)],
    ("discovery.k8s.io", "v1"): [("endpointslices", "EndpointSlice", True, False)],
    ("monitoring.coreos.com", "v1"): [("servicemonitors", "ServiceMonitor", True, False),
                                      ("podmonitors", "PodMonitor", True, False),
                                      ("prometheusrules", "PrometheusRule", True, False)],
    ("apiextensions.k8s.io", "v1"): [("customresourcedefinitions", "CustomResourceDefinition", False, True)],
    ("apps", "v1"): [("replicasets", "ReplicaSet", True, True), ("deployments", "Deployment", True, True)],
    ("rbac.authorization.k8s.io", "v1"): [("roles", "Role", True, False), ("rolebindings", "RoleBinding", True, False),
                                          ("clusterroles", "ClusterRole", False, False),
                                          ("clusterrolebindings", "ClusterRoleBinding", False, False)],
    ("networking.k8s.io", "v1"): [("ingresses", "Ingress", True, True)],
    ("networking.istio.io", "v1beta1"): [("virtualservices", "VirtualService", True, True),
                                         ("destinationrules", "DestinationRule", True, True)],
    ("route.openshift.io", "v1"): [("routes", "Route", True, True)],
    ("gateway.networking.k8s.io", "v1"): [("httproutes", "HTTPRoute", True, True)],
    ("argoproj.io", "v1alpha1"): [("rollouts", "Rollout", True, True),
                                  ("analysistemplates", "AnalysisTemplate", True, False),
                                  ("clusteranalysistemplates", "ClusterAnalysisTemplate", False, False),
                                  ("analysisruns", "AnalysisRun", True, True),
                                  ("experiments", "Experiment", True, True)],
}


def _status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return code, body


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch.

    Written apart from module_utils/rollouts.merge_patch on purpose: the server stands for the
    real API, so it must not share the code under test (a bug there would be hidden here)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _pointer(path):
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")] if path else []


def json_patch(doc, ops):
    """RFC 6902 JSON patch (add, remove, replace, test, copy, move)."""
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = _pointer(op["path"])
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1] if parts else None
        kind = op["op"]
        if kind == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent[last]
            if current != op["value"]:
                raise ValueError("test operation failed at %s" % op["path"])
        elif kind == "remove":
            if isinstance(parent, list):
                del parent[int(last)]
            else:
                del parent[last]
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif kind == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)] = op["value"]
            else:
                if kind == "replace" and last not in parent:
                    raise KeyError(op["path"])
                parent[last] = op["value"]
        else:
            raise ValueError("unsupported JSON patch op %s" % kind)
    return doc


def match_labels(labels, selector):
    """Equality and set-based label selectors: a=b, a!=b, a in (x,y), a notin (x), a, !a."""
    if not selector:
        return True
    labels = labels or {}
    for term in re.split(r",(?![^(]*\))", selector):
        term = term.strip()
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$", term)
        if m:
            values = [v.strip() for v in m.group(3).split(",")]
            present = labels.get(m.group(1)) in values
            if present != (m.group(2) == "in"):
                return False
        elif "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class Store(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.objects = {}  # (group, plural, namespace, name) -> object
        self.version = 0
        self.requests = []  # (method, path, content-type) for tests that check what was sent
        self.concurrent_writes = {}  # (group, plural, namespace, name) -> writes another client makes first

    def next_version(self):
        self.version += 1
        return str(self.version)


class KubeAPI(object):
    """Start with ``KubeAPI().start()``; ``kubeconfig(path)`` writes a kubeconfig for it."""

    def __init__(self):
        self.store = Store()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        for ns in ("default", "kube-system"):
            self.store.objects[("", "namespaces", None, ns)] = {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "resourceVersion": self.store.next_version(), "uid": str(uuid.uuid4())}}
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def write_concurrently(self, group, plural, namespace, name, times=1):
        """Before each of the next ``times`` writes to the object, another client updates it (an
        annotation), so a write carrying the resourceVersion read earlier meets a real 409."""
        with self.store.lock:
            self.store.concurrent_writes[(group, plural, namespace, name)] = times

    def kubeconfig(self, path):
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "test",
                  "clusters": [{"name": "test", "cluster": {"server": self.url}}],
                  "users": [{"name": "test", "user": {"token": "test-token"}}],
                  "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}]}
        with open(path, "w") as f:
            json.dump(config, f)
        return path

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length).decode() or "null") if length else None

            def handle_any(self, method):
                path, _sep, query = self.path.partition("?")
                params = dict(p.split("=", 1) if "=" in p else (p, "") for p in query.split("&") if p)
                params = dict((k, _unquote(v)) for k, v in params.items())
                api.store.requests.append((method, path, self.headers.get("Content-Type")))
                try:
                    code, body = api.route(method, path, params, self.body() if method in ("POST", "PUT", "PATCH") else None,
                                           self.headers.get("Content-Type", ""), self.headers.get("Impersonate-User"))
                except (ValueError, KeyError, IndexError, TypeError) as e:
                    code, body = _status(422, "Invalid", "invalid request: %s" % e)
                self.send(code, body)

            def do_GET(self):
                self.handle_any("GET")

            def do_POST(self):
                self.handle_any("POST")

            def do_PUT(self):
                self.handle_any("PUT")

            def do_PATCH(self):
                self.handle_any("PATCH")

            def do_DELETE(self):
                self.handle_any("DELETE")

        return Handler

    # ------------------------------------------------------------------ routing

    def route(self, method, path, params, body, content_type, user=None):
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-progressive-test", "platform": "linux/amd64"}
        if parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if parts == ["apis"]:
            groups = []
            for (group, version) in RESOURCES:
                if group:
                    gv = {"groupVersion": "%s/%s" % (group, version), "version": version}
                    groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        elif parts[:1] == ["apis"] and len(parts) == 2:
            return _status(404, "NotFound", "the server could not find the requested resource")
        else:
            return _status(404, "NotFound", "the server could not find the requested resource")
        kinds = RESOURCES.get((group, version))
        if kinds is None:
            return _status(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            return 200, self.resource_list(group, version, kinds)
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural = rest[0]
        spec = dict((k[0], k) for k in kinds).get(plural)
        if spec is None:
            return _status(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub and (sub != "status" or not spec[3]):
            return _status(404, "NotFound", "the server could not find the requested resource")
        api_version = "%s/%s" % (group, version) if group else version
        with self.store.lock:
            if user is not None:
                verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update", "PATCH": "patch",
                        "DELETE": "delete"}.get(method, method.lower())
                resource = plural + ("/" + sub if sub else "")
                if not self.allowed(user, verb, group, resource, namespace if spec[2] else None):
                    what = "%s%s" % (plural, "." + group if group else "")
                    return _status(403, "Forbidden", '%s%s is forbidden: User "%s" cannot %s resource "%s" in API '
                                   'group "%s"%s' % (what, ' "%s"' % name if name else "", user, verb, resource, group,
                                                     ' in the namespace "%s"' % namespace if namespace else
                                                     " at the cluster scope"),
                                   {"name": name, "group": group, "kind": plural})
            return self.handle(method, group, api_version, spec, namespace, name, sub, params, body, content_type)

    def allowed(self, user, verb, group, resource, namespace):
        """RBAC as the API server evaluates it: any rule of any role bound to the user that matches."""
        objects = self.store.objects
        rbac = "rbac.authorization.k8s.io"
        bindings = [(b, None) for (g, p, _ns, _n), b in objects.items() if g == rbac and p == "clusterrolebindings"]
        if namespace:
            bindings += [(b, namespace) for (g, p, ns, _n), b in objects.items()
                         if g == rbac and p == "rolebindings" and ns == namespace]
        for binding, ns in bindings:
            if not any(sub.get("kind") == "User" and sub.get("name") == user for sub in binding.get("subjects") or []):
                continue
            ref = binding.get("roleRef") or {}
            if ref.get("kind") == "ClusterRole":
                role = objects.get((rbac, "clusterroles", None, ref.get("name")))
            else:
                role = objects.get((rbac, "roles", ns, ref.get("name")))
            for rule in (role or {}).get("rules") or []:
                if (set(rule.get("apiGroups") or []) & {group, "*"} and set(rule.get("resources") or []) & {resource, "*"}
                        and set(rule.get("verbs") or []) & {verb, "*"}):
                    return True
        return False

    @staticmethod
    def resource_list(group, version, kinds):
        resources = []
        for plural, kind, namespaced, has_status in kinds:
            resources.append({"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
                              "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]})
            if has_status:
                resources.append({"name": plural + "/status", "singularName": "", "namespaced": namespaced,
                                  "kind": kind, "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": "%s/%s" % (group, version) if group else version, "resources": resources}

    def handle(self, method, group, api_version, spec, namespace, name, sub, params, body, content_type):
        plural, kind, namespaced, _has_status = spec
        store = self.store.objects
        dry_run = params.get("dryRun") == "All"  # answered as if done, nothing stored
        key = (group, plural, namespace if namespaced else None, name)
        what = '%s "%s"' % (plural if not group else "%s.%s" % (plural, group), name)
        if method == "GET" and name is None:
            items = [copy.deepcopy(o) for (g, p, ns, _n), o in sorted(store.items(), key=lambda kv: str(kv[0]))
                     if g == group and p == plural and (namespace is None or ns == namespace)
                     and match_labels(o["metadata"].get("labels"), params.get("labelSelector"))]
            return 200, {"kind": kind + "List", "apiVersion": api_version,
                         "metadata": {"resourceVersion": str(self.store.version)}, "items": items}
        if method == "POST":
            if name is not None:
                return _status(405, "MethodNotAllowed", "the server does not allow this method")
            obj = copy.deepcopy(body)
            meta = obj.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            if namespaced:
                if namespace is None:
                    return _status(400, "BadRequest", "namespace is required for %s" % kind)
                if ("", "namespaces", None, namespace) not in store:
                    return _status(404, "NotFound", 'namespaces "%s" not found' % namespace)
                meta["namespace"] = namespace
            key = (group, plural, namespace if namespaced else None, meta.get("name"))
            invalid = crd_schemas.problems(group, plural, obj)
            if invalid:
                return _status(422, "Invalid", '%s.%s "%s" is invalid: %s' % (kind, group, meta.get("name"),
                                                                              "; ".join(invalid)))
            if key in store:
                return _status(409, "AlreadyExists", '%s "%s" already exists' % (plural, meta.get("name")),
                               {"name": meta.get("name"), "kind": plural})
            obj["apiVersion"], obj["kind"] = api_version, kind
            meta.update(uid=str(uuid.uuid4()), resourceVersion=self.store.next_version(), generation=1,
                        creationTimestamp=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
            if not dry_run:
                store[key] = obj
            return 201, copy.deepcopy(obj)
        current = store.get(key)
        if current is None:
            return _status(404, "NotFound", "%s not found" % what, {"name": name, "kind": plural})
        if method in ("PUT", "PATCH") and self.store.concurrent_writes.get(key):
            self.store.concurrent_writes[key] -= 1
            current = copy.deepcopy(current)
            annotations = current["metadata"].setdefault("annotations", {})
            annotations["test.progressive.delivery/other-writer"] = str(int(annotations.get(
                "test.progressive.delivery/other-writer", "0")) + 1)
            current["metadata"]["resourceVersion"] = self.store.next_version()
            store[key] = current
        if method == "GET":
            return 200, copy.deepcopy(current)
        if method == "DELETE":
            if not dry_run:
                del store[key]
            return 200, copy.deepcopy(current)
        if method == "PUT":
            sent = (body.get("metadata") or {}).get("resourceVersion")
            if sent and sent != current["metadata"]["resourceVersion"]:
                return _status(409, "Conflict", 'Operation cannot be fulfilled on %s: the object has been '
                                                'modified; please apply your changes to the latest version and '
                                                'try again' % what)
            updated = copy.deepcopy(body)
        elif method == "PATCH":
            if "json-patch" in content_type:
                updated = json_patch(current, body)
            elif "merge-patch" in content_type or "strategic-merge-patch" in content_type:
                updated = merge_patch(current, body)
            else:
                return _status(415, "UnsupportedMediaType", "unsupported patch type %s" % content_type)
            sent = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
            if sent and sent != current["metadata"]["resourceVersion"]:
                return _status(409, "Conflict", "Operation cannot be fulfilled on %s: the object has been "
                                                "modified" % what)
        else:
            return _status(405, "MethodNotAllowed", "the server does not allow this method")
        # the status subresource changes only status; the main resource never changes status
        if sub != "status":
            invalid = crd_schemas.problems(group, plural, updated)
            if invalid:
                return _status(422, "Invalid", '%s.%s "%s" is invalid: %s' % (kind, group, name, "; ".join(invalid)))
        if sub == "status":
            result = copy.deepcopy(current)
            result["status"] = updated.get("status")
        else:
            result = copy.deepcopy(updated)
            if "status" in current or "status" in result:
                if _has_status:
                    result["status"] = copy.deepcopy(current.get("status"))
            meta = result.setdefault("metadata", {})
            for field in ("uid", "creationTimestamp", "namespace", "name"):
                if field in current["metadata"]:
                    meta[field] = current["metadata"][field]
            if result.get("spec") != current.get("spec"):
                meta["generation"] = current["metadata"].get("generation", 1) + 1
            else:
                meta["generation"] = current["metadata"].get("generation", 1)
        result["apiVersion"], result["kind"] = api_version, kind
        if result != current:
            result["metadata"]["resourceVersion"] = self.store.next_version()
        else:
            result["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if not dry_run:
            store[key] = result
        return 200, copy.deepcopy(result)


def _unquote(value):
    from urllib.parse import unquote_plus
    return unquote_plus(value)


def main(argv=None):
    """Serve until terminated, writing a kubeconfig for it (molecule scenarios use this)."""
    import argparse
    import os
    import signal
    import time
    parser = argparse.ArgumentParser(description="local Kubernetes API test server on 127.0.0.1")
    parser.add_argument("--kubeconfig", required=True, help="where to write a kubeconfig for the server")
    parser.add_argument("--namespace", action="append", default=[], help="namespaces to create")
    args = parser.parse_args(argv)
    server = KubeAPI().start()
    for ns in args.namespace:
        server.store.objects[("", "namespaces", None, ns)] = {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "resourceVersion": server.store.next_version(), "uid": str(uuid.uuid4())}}
    os.makedirs(os.path.dirname(os.path.abspath(args.kubeconfig)), exist_ok=True)
    server.kubeconfig(args.kubeconfig)

    def terminated(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, terminated)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
