"""A local Kubernetes API test server on 127.0.0.1 that speaks the real REST protocol.

Enough of the API for the collection's tests to run unchanged against it or a real cluster:
discovery (/version, /api, /apis, API groups and resource lists), create/get/list/replace/delete,
label selectors, merge patch and JSON patch, the status subresource, resourceVersion with 409
Conflict, dryRun=All, and RBAC for impersonated users (Roles, ClusterRoles and their bindings; the
kubeconfig's own user is an administrator allowed to impersonate, as on a kind cluster).

Custom resources are served from CustomResourceDefinition documents, as a kube-apiserver serves
them (see crd_schema.py): the CRDs in the folder named by ``PD_TEST_CRDS``, else ``../shared/crds``
beside the repository (the upstream CRDs, test data kept outside the project), else the project's
minimal CRDs (crd_schemas.py); ``KubeAPI().crd_source`` says which. Each CRD's served versions,
scope and declared subresources only (no status subresource: ``/status`` is 404 and ``status`` is
written with the main resource; with one, the main resource ignores ``status`` and ``/status``
ignores everything else); every write is pruned, defaulted and validated by the structural schema
(422 naming the field path); a strategic-merge patch is 415; an update needs a resourceVersion.
Deleting a namespace is asynchronous: it is Terminating (new content refused with 403) until the
objects in it are gone. There is no controller: tests write ``status`` themselves where Argo
Rollouts would.
"""

import copy
import glob
import json
import os
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import crd_schema
import crd_schemas

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_CRDS = os.path.join(ROOT, "..", "shared", "crds")

# Built-in kinds: (group, version) -> [(plural, kind, namespaced, has_status)]
RESOURCES = {
    ("", "v1"): [("namespaces", "Namespace", False, True), ("secrets", "Secret", True, False),
                 ("configmaps", "ConfigMap", True, False), ("services", "Service", True, True),
                 ("pods", "Pod", True, True), ("serviceaccounts", "ServiceAccount", True, False)],
    ("policy", "v1"): [("poddisruptionbudgets", "PodDisruptionBudget", True, True)],
    ("discovery.k8s.io", "v1"): [("endpointslices", "EndpointSlice", True, False)],
    ("apiextensions.k8s.io", "v1"): [("customresourcedefinitions", "CustomResourceDefinition", False, True)],
    ("apps", "v1"): [("replicasets", "ReplicaSet", True, True), ("deployments", "Deployment", True, True)],
    ("rbac.authorization.k8s.io", "v1"): [("roles", "Role", True, False), ("rolebindings", "RoleBinding", True, False),
                                          ("clusterroles", "ClusterRole", False, False),
                                          ("clusterrolebindings", "ClusterRoleBinding", False, False)],
    ("networking.k8s.io", "v1"): [("ingresses", "Ingress", True, True)],
}


class Kind(object):
    """One resource of one group version: built in, or served from a CRD (``schema`` per version)."""

    def __init__(self, group, version, plural, kind, namespaced, subresources, schema=None, custom=False,
                 singular=None, short_names=(), categories=(), scale=None):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.namespaced, self.subresources, self.schema, self.custom = namespaced, set(subresources), schema, custom
        self.singular = singular or kind.lower()
        self.short_names, self.categories, self.scale = list(short_names), list(categories), scale

    @property
    def has_status(self):
        return "status" in self.subresources


_CRD_CACHE = {}


def crd_folder():
    """The folder of CRD documents to serve, or None: PD_TEST_CRDS, else ../shared/crds when it exists."""
    folder = os.environ.get("PD_TEST_CRDS")
    if folder:
        if not os.path.isdir(folder):
            raise RuntimeError("PD_TEST_CRDS=%s is not a folder of CustomResourceDefinition documents" % folder)
        return os.path.abspath(folder)
    if os.path.isdir(SHARED_CRDS):
        return os.path.abspath(SHARED_CRDS)
    return None


def crd_documents(folder=None):
    """(CRD documents, a sentence naming their source); parsed once per process and folder content.

    ``folder``: None for crd_folder(), False for the project's minimal CRDs."""
    folder = crd_folder() if folder is None else folder
    if not folder:
        return crd_schemas.minimal_crds(), "the project's minimal CRDs (tests/support/crd_schemas.py)"
    files = sorted(glob.glob(os.path.join(folder, "*.yaml")) + glob.glob(os.path.join(folder, "*.yml"))
                   + glob.glob(os.path.join(folder, "*.json")))
    key = (folder, tuple((f, os.path.getmtime(f), os.path.getsize(f)) for f in files))
    if key not in _CRD_CACHE:
        import yaml
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        docs = []
        for path in files:
            with open(path) as f:
                for doc in yaml.load_all(f, Loader=loader):
                    if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                        docs.append(doc)
        _CRD_CACHE.clear()
        _CRD_CACHE[key] = docs
    docs = _CRD_CACHE[key]
    return docs, "%d CRDs from %s" % (len(docs), os.path.normpath(folder))


def version_priority(version):
    """kube-aware version order: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything else."""
    m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", version)
    if not m:
        return (0, 0, 0, version)
    stage = {"alpha": 1, "beta": 2, None: 3}[m.group(2)]
    return (stage, int(m.group(1)), int(m.group(3) or 0), "")


def _now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dig(obj, dotted):
    for part in [p for p in (dotted or "").split(".") if p]:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _put(obj, dotted, value):
    parts = [p for p in dotted.split(".") if p]
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    obj[parts[-1]] = value


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
    """Start with ``KubeAPI().start()``; ``kubeconfig(path)`` writes a kubeconfig for it.

    ``crds``: a folder of CRD documents (default: see crd_folder()); ``namespace_seconds``: how long a
    deleted namespace stays Terminating at least (the namespace controller's work)."""

    def __init__(self, crds=None, namespace_seconds=0.5):
        self.store = Store()
        self.namespace_seconds = namespace_seconds
        self.kinds = {}  # (group, version) -> {plural: Kind}
        for (group, version), table in RESOURCES.items():
            self.kinds[(group, version)] = dict(
                (plural, Kind(group, version, plural, kind, namespaced, ["status"] if has_status else []))
                for plural, kind, namespaced, has_status in table)
        started = time.time()
        docs, self.crd_source = crd_documents(crds)
        for doc in docs:
            self.register_crd(doc)
        self.crd_load_seconds = time.time() - started
        self.crd_documents = docs
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = None
        self._stopped = threading.Event()

    def register_crd(self, crd):
        """Serve the kinds of one CustomResourceDefinition (its served versions, scope, subresources)."""
        spec = crd["spec"]
        group, names = spec["group"], spec["names"]
        for kinds in self.kinds.values():  # a CRD replaces what served its plural before
            for plural in [p for p, k in kinds.items() if k.group == group and p == names["plural"]]:
                del kinds[plural]
        for v in spec.get("versions") or []:
            if not v.get("served", True):
                continue
            subresources = v.get("subresources") or spec.get("subresources") or {}
            schema = (v.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema")
            self.kinds.setdefault((group, v["name"]), {})[names["plural"]] = Kind(
                group, v["name"], names["plural"], names["kind"], spec.get("scope", "Namespaced") == "Namespaced",
                [s for s in ("status", "scale") if s in subresources], schema, custom=True,
                singular=names.get("singular"), short_names=names.get("shortNames") or (),
                categories=names.get("categories") or (), scale=subresources.get("scale"))

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        for ns in ("default", "kube-system"):
            self.add_namespace(ns)
        for doc in self.crd_documents:  # the CRDs are there to read, as on a cluster that has them installed
            name = doc["metadata"]["name"]
            obj = dict(doc, metadata=dict(doc["metadata"], uid=str(uuid.uuid4()), generation=1,
                                          resourceVersion=self.store.next_version(), creationTimestamp=_now()))
            self.store.objects[("apiextensions.k8s.io", "customresourcedefinitions", None, name)] = obj
        return self

    def add_namespace(self, name):
        self.store.objects[("", "namespaces", None, name)] = {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "resourceVersion": self.store.next_version(), "uid": str(uuid.uuid4()),
                         "creationTimestamp": _now(), "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

    def stop(self):
        self._stopped.set()
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
                    body = self.body() if method in ("POST", "PUT", "PATCH") else None
                except ValueError as e:
                    self.send(*_status(400, "BadRequest", "the body of the request could not be decoded: %s" % e))
                    return
                try:
                    code, body = api.route(method, path, params, body, self.headers.get("Content-Type", ""),
                                           self.headers.get("Impersonate-User"))
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

    # ------------------------------------------------------------------ discovery

    def groups(self):
        """{group: [versions, best first]} of what is served (the core group is "")."""
        out = {}
        for (group, version), kinds in self.kinds.items():
            if kinds:
                out.setdefault(group, []).append(version)
        return dict((g, sorted(vs, key=version_priority, reverse=True)) for g, vs in out.items())

    def api_group(self, group, versions):
        gvs = [{"groupVersion": "%s/%s" % (group, v), "version": v} for v in versions]
        return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}

    def resource_list(self, group, version):
        resources = []
        for kind in sorted(self.kinds[(group, version)].values(), key=lambda k: k.plural):
            verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
            entry = {"name": kind.plural, "singularName": kind.singular, "namespaced": kind.namespaced,
                     "kind": kind.kind, "verbs": verbs}
            if kind.short_names:
                entry["shortNames"] = kind.short_names
            if kind.categories:
                entry["categories"] = kind.categories
            resources.append(entry)
            if kind.has_status:
                resources.append({"name": kind.plural + "/status", "singularName": "", "namespaced": kind.namespaced,
                                  "kind": kind.kind, "verbs": ["get", "patch", "update"]})
            if "scale" in kind.subresources:
                resources.append({"name": kind.plural + "/scale", "singularName": "", "namespaced": kind.namespaced,
                                  "group": "autoscaling", "version": "v1", "kind": "Scale",
                                  "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": "%s/%s" % (group, version) if group else version, "resources": resources}

    # ------------------------------------------------------------------ routing

    def route(self, method, path, params, body, content_type, user=None):
        parts = [p for p in path.split("/") if p]
        not_found = _status(404, "NotFound", "the server could not find the requested resource")
        if path == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-progressive-test", "platform": "linux/amd64"}
        if parts == ["api"]:
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        groups = self.groups()
        if parts == ["apis"]:
            return 200, {"kind": "APIGroupList", "apiVersion": "v1",
                         "groups": [self.api_group(g, vs) for g, vs in sorted(groups.items()) if g]}
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        elif parts[:1] == ["apis"] and len(parts) == 2:
            if parts[1] not in groups:
                return not_found
            return 200, dict(self.api_group(parts[1], groups[parts[1]]), kind="APIGroup", apiVersion="v1")
        else:
            return not_found
        kinds = self.kinds.get((group, version))
        if not kinds:
            return not_found
        if not rest:
            return 200, self.resource_list(group, version)
        namespace = None
        namespace_subresource = not group and len(rest) == 3 and rest[2] in ("status", "finalize")
        if rest[0] == "namespaces" and len(rest) >= 3 and not namespace_subresource:
            namespace, rest = rest[1], rest[2:]
        plural = rest[0]
        spec = kinds.get(plural)
        if spec is None or len(rest) > 3:
            return not_found
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub and sub not in spec.subresources:
            return not_found
        if namespace is not None and not spec.namespaced:
            return not_found
        api_version = "%s/%s" % (group, version) if group else version
        with self.store.lock:
            if user is not None:
                verb = {"GET": "get" if name else "list", "POST": "create", "PUT": "update", "PATCH": "patch",
                        "DELETE": "delete"}.get(method, method.lower())
                resource = plural + ("/" + sub if sub else "")
                if not self.allowed(user, verb, group, resource, namespace if spec.namespaced else None):
                    what = "%s%s" % (plural, "." + group if group else "")
                    return _status(403, "Forbidden", '%s%s is forbidden: User "%s" cannot %s resource "%s" in API '
                                   'group "%s"%s' % (what, ' "%s"' % name if name else "", user, verb, resource, group,
                                                     ' in the namespace "%s"' % namespace if namespace else
                                                     " at the cluster scope"),
                                   {"name": name, "group": group, "kind": plural})
            if method == "PATCH" and spec.custom and "strategic-merge-patch" in content_type:
                return _status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
            if method == "DELETE" and plural == "namespaces" and not group and name and not sub:
                return self.delete_namespace(name, params.get("dryRun") == "All")
            if method == "POST" and spec.namespaced and namespace is not None:
                ns = self.store.objects.get(("", "namespaces", None, namespace))
                if ns is not None and ns["metadata"].get("deletionTimestamp"):
                    meta_name = (body or {}).get("metadata", {}).get("name") if isinstance(body, dict) else None
                    what = "%s%s" % (plural, "." + group if group else "")
                    return _status(403, "Forbidden", '%s "%s" is forbidden: unable to create new content in namespace '
                                   '%s because it is being terminated' % (what, meta_name, namespace),
                                   {"name": meta_name, "group": group, "kind": plural, "causes": [
                                       {"reason": "NamespaceTerminating", "field": "metadata.namespace",
                                        "message": "namespace %s is being terminated" % namespace}]})
            if spec.custom:
                return self.handle_custom(method, api_version, spec, namespace, name, sub, params, body, content_type)
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

    # ------------------------------------------------------------------ namespaces

    def delete_namespace(self, name, dry_run):
        """Namespace deletion as the namespace controller does it: Terminating, emptied, then gone."""
        key = ("", "namespaces", None, name)
        current = self.store.objects.get(key)
        if current is None:
            return _status(404, "NotFound", 'namespaces "%s" not found' % name, {"name": name, "kind": "namespaces"})
        if current["metadata"].get("deletionTimestamp"):
            return _status(409, "Conflict", 'Operation cannot be fulfilled on namespaces "%s": The system is ensuring '
                           'all content is removed from this namespace.  Upon completion, this namespace will '
                           'automatically be purged by the system.' % name, {"name": name, "kind": "namespaces"})
        terminating = copy.deepcopy(current)
        terminating["metadata"]["deletionTimestamp"] = _now()
        terminating["metadata"]["deletionGracePeriodSeconds"] = 0
        terminating.setdefault("status", {})["phase"] = "Terminating"
        if dry_run:
            return 200, terminating
        terminating["metadata"]["resourceVersion"] = self.store.next_version()
        self.store.objects[key] = terminating
        threading.Thread(target=self._finalize_namespace, args=(name,), daemon=True).start()
        return 200, copy.deepcopy(terminating)

    def _finalize_namespace(self, name):
        if self._stopped.wait(self.namespace_seconds):
            return
        with self.store.lock:
            for key in [k for k in self.store.objects if k[2] == name and k[1] != "namespaces"]:
                del self.store.objects[key]
        if self._stopped.wait(self.namespace_seconds / 2.0):
            return
        with self.store.lock:
            self.store.objects.pop(("", "namespaces", None, name), None)
            self.store.next_version()

    # ------------------------------------------------------------------ custom resources

    def handle_custom(self, method, api_version, spec, namespace, name, sub, params, body, content_type):
        """A custom resource, as the apiextensions-apiserver serves it from its CRD."""
        store = self.store.objects
        group, plural, kind = spec.group, spec.plural, spec.kind
        dry_run = params.get("dryRun") == "All"
        key = (group, plural, namespace if spec.namespaced else None, name)
        what = '%s.%s "%s"' % (plural, group, name)

        def served(obj):  # the object in the version asked for (conversion None: as stored)
            obj = copy.deepcopy(obj)
            obj["apiVersion"], obj["kind"] = api_version, kind
            return obj

        if method == "GET" and name is None:
            if spec.namespaced is False and namespace is not None:
                return _status(404, "NotFound", "the server could not find the requested resource")
            items = [served(o) for (g, p, ns, _n), o in sorted(store.items(), key=lambda kv: str(kv[0]))
                     if g == group and p == plural and (namespace is None or ns == namespace)
                     and match_labels(o["metadata"].get("labels"), params.get("labelSelector"))]
            return 200, {"kind": kind + "List", "apiVersion": api_version,
                         "metadata": {"resourceVersion": str(self.store.version)}, "items": items}
        if method == "POST":
            if name is not None:
                return _status(405, "MethodNotAllowed", "the server does not allow this method")
            if not isinstance(body, dict):
                return _status(400, "BadRequest", "the body of the request was not an object")
            obj = copy.deepcopy(body)
            meta = obj.setdefault("metadata", {}) if isinstance(obj.get("metadata"), dict) else {}
            obj["metadata"] = meta
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            if not meta.get("name"):
                return 422, crd_schema.invalid_status(kind, group, "", [crd_schema.FieldError(
                    crd_schema.REQUIRED, "metadata.name", detail="name or generateName is required")])
            if spec.namespaced:
                if namespace is None:
                    return _status(400, "BadRequest", "namespace is required for %s" % kind)
                if ("", "namespaces", None, namespace) not in store:
                    return _status(404, "NotFound", 'namespaces "%s" not found' % namespace,
                                   {"name": namespace, "kind": "namespaces"})
                meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
            if spec.has_status:
                obj.pop("status", None)  # PrepareForCreate: status is the status subresource's
            obj["apiVersion"], obj["kind"] = api_version, kind
            for field in ("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "selfLink"):
                meta.pop(field, None)
            obj, errors = crd_schema.admit(obj, spec.schema)
            if errors:
                return 422, crd_schema.invalid_status(kind, group, meta["name"], errors)
            key = (group, plural, namespace if spec.namespaced else None, obj["metadata"]["name"])
            if key in store:
                return _status(409, "AlreadyExists", '%s.%s "%s" already exists' % (plural, group, obj["metadata"]["name"]),
                               {"name": obj["metadata"]["name"], "group": group, "kind": plural})
            obj["metadata"].update(uid=str(uuid.uuid4()), generation=1, creationTimestamp=_now())
            if dry_run:
                return 201, obj  # nothing stored: no resourceVersion
            obj["metadata"]["resourceVersion"] = self.store.next_version()
            store[key] = obj
            return 201, served(obj)
        current = store.get(key)
        if current is None:
            return _status(404, "NotFound", "%s not found" % what, {"name": name, "group": group, "kind": plural})
        if method in ("PUT", "PATCH"):
            current = self.other_writer(store, key, current)
        if sub == "scale":
            return self.scale(method, spec, key, current, body, content_type, dry_run)
        if method == "GET":
            return 200, served(current)
        if method == "DELETE":
            return self.delete_object(key, current, dry_run, group, plural, what)
        conflict = _status(409, "Conflict", "Operation cannot be fulfilled on %s: the object has been modified; please "
                                            "apply your changes to the latest version and try again" % what,
                           {"name": name, "group": group, "kind": plural})
        if method == "PUT":
            if not isinstance(body, dict):
                return _status(400, "BadRequest", "the body of the request was not an object")
            sent = (body.get("metadata") or {}).get("resourceVersion")
            if not sent:  # custom resources allow no unconditional update
                return 422, crd_schema.invalid_status(kind, group, name, [crd_schema.FieldError(
                    crd_schema.INVALID, "metadata.resourceVersion", 0, "must be specified for an update")])
            if sent != current["metadata"]["resourceVersion"]:
                return conflict
            if (body.get("metadata") or {}).get("name") not in (None, name):
                return _status(400, "BadRequest", "the name of the object (%s) does not match the name on the URL (%s)"
                               % (body["metadata"]["name"], name))
            updated = copy.deepcopy(body)
        elif method == "PATCH":
            if "json-patch" in content_type:
                updated = json_patch(current, body)
            elif "merge-patch" in content_type:
                updated = merge_patch(current, body)
            else:
                return _status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                               "accepted media types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
            sent = (updated.get("metadata") or {}).get("resourceVersion") if isinstance(updated, dict) else None
            if sent and sent != current["metadata"]["resourceVersion"]:
                return conflict
        else:
            return _status(405, "MethodNotAllowed", "the server does not allow this method")
        if not isinstance(updated, dict):
            return _status(400, "BadRequest", "the body of the request was not an object")
        if sub == "status":
            # the status subresource changes status only: everything else is the stored object's
            result = copy.deepcopy(current)
            if "status" in updated:
                result["status"] = updated["status"]
            else:
                result.pop("status", None)
        else:
            result = updated
            if not isinstance(result.get("metadata"), dict):
                result["metadata"] = {}
            if spec.has_status:  # the main resource never changes status
                if "status" in current:
                    result["status"] = copy.deepcopy(current["status"])
                else:
                    result.pop("status", None)
        meta = result["metadata"]
        for field in ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp",
                      "deletionGracePeriodSeconds", "generation"):
            if field in current["metadata"]:
                meta[field] = current["metadata"][field]
            else:
                meta.pop(field, None)
        meta["resourceVersion"] = current["metadata"]["resourceVersion"]
        result["apiVersion"], result["kind"] = api_version, kind
        result, errors = crd_schema.admit(result, spec.schema)
        if errors:
            return 422, crd_schema.invalid_status(kind, group, name, errors)
        ignored = ("metadata", "status") if spec.has_status else ("metadata",)
        if (dict((k, v) for k, v in result.items() if k not in ignored + ("apiVersion", "kind"))
                != dict((k, v) for k, v in current.items() if k not in ignored + ("apiVersion", "kind"))):
            result["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        stored = dict(result, apiVersion=current["apiVersion"], kind=kind)
        if stored == current:
            return 200, served(current)  # nothing changed: no write, same resourceVersion
        if dry_run:
            return 200, served(result)
        result["metadata"]["resourceVersion"] = self.store.next_version()
        if result["metadata"].get("deletionTimestamp") and not result["metadata"].get("finalizers"):
            del store[key]  # the last finalizer is gone
            return 200, served(result)
        store[key] = result
        return 200, served(result)

    def delete_object(self, key, current, dry_run, group, plural, what):
        """DELETE of a custom resource: gone at once (a Status answers), or marked while finalizers remain."""
        if current["metadata"].get("finalizers"):
            marked = copy.deepcopy(current)
            if not marked["metadata"].get("deletionTimestamp"):
                marked["metadata"]["deletionTimestamp"] = _now()
                marked["metadata"]["deletionGracePeriodSeconds"] = 0
                marked["metadata"]["generation"] = marked["metadata"].get("generation", 1) + 1
                if not dry_run:
                    marked["metadata"]["resourceVersion"] = self.store.next_version()
                    self.store.objects[key] = marked
            return 200, copy.deepcopy(marked)
        if not dry_run:
            del self.store.objects[key]
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "details": {"name": key[3], "group": group, "kind": plural, "uid": current["metadata"].get("uid")}}

    def other_writer(self, store, key, current):
        """The concurrent-writer hook: another client writes the object first (an annotation and a new
        resourceVersion), so the write in hand carries a stale resourceVersion and meets a real 409."""
        if not self.store.concurrent_writes.get(key):
            return current
        self.store.concurrent_writes[key] -= 1
        current = copy.deepcopy(current)
        annotations = current["metadata"].setdefault("annotations", {})
        annotations["test.progressive.delivery/other-writer"] = str(int(annotations.get(
            "test.progressive.delivery/other-writer", "0")) + 1)
        current["metadata"]["resourceVersion"] = self.store.next_version()
        store[key] = current
        return current

    def scale(self, method, spec, key, current, body, content_type, dry_run):
        """The scale subresource (autoscaling/v1 Scale) at the CRD's specReplicasPath / statusReplicasPath."""
        paths = spec.scale or {}

        def as_scale(obj):
            meta = obj["metadata"]
            out = {"kind": "Scale", "apiVersion": "autoscaling/v1",
                   "metadata": dict((k, meta[k]) for k in ("name", "namespace", "uid", "resourceVersion",
                                                           "creationTimestamp") if k in meta),
                   "spec": {"replicas": _dig(obj, paths.get("specReplicasPath")) or 0},
                   "status": {"replicas": _dig(obj, paths.get("statusReplicasPath")) or 0}}
            selector = _dig(obj, paths.get("labelSelectorPath"))
            if selector:
                out["status"]["selector"] = selector
            return out

        scale = as_scale(current)
        if method == "GET":
            return 200, scale
        if method == "PUT":
            wanted = body
            sent = (body.get("metadata") or {}).get("resourceVersion")
            if sent and sent != current["metadata"]["resourceVersion"]:
                return _status(409, "Conflict", "Operation cannot be fulfilled on %s.%s \"%s\": the object has been "
                               "modified; please apply your changes to the latest version and try again"
                               % (spec.plural, spec.group, key[3]))
        elif method == "PATCH" and "json-patch" in content_type:
            wanted = json_patch(scale, body)
        elif method == "PATCH" and "merge-patch" in content_type:
            wanted = merge_patch(scale, body)
        else:
            return _status(405, "MethodNotAllowed", "the server does not allow this method")
        result = copy.deepcopy(current)
        replicas = (wanted.get("spec") or {}).get("replicas", 0)
        _put(result, paths.get("specReplicasPath", ".spec.replicas"), replicas)
        if result != current:
            result["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
            if not dry_run:
                result["metadata"]["resourceVersion"] = self.store.next_version()
                self.store.objects[key] = result
        return 200, as_scale(result)

    # ------------------------------------------------------------------ built-in kinds

    def handle(self, method, group, api_version, spec, namespace, name, sub, params, body, content_type):
        plural, kind, namespaced, _has_status = spec.plural, spec.kind, spec.namespaced, spec.has_status
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
            if plural == "namespaces" and not group:
                meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name")
                obj["spec"] = {"finalizers": ["kubernetes"]}
                obj["status"] = {"phase": "Active"}
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
        if method in ("PUT", "PATCH"):
            current = self.other_writer(store, key, current)
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
    import signal
    parser = argparse.ArgumentParser(description="local Kubernetes API test server on 127.0.0.1")
    parser.add_argument("--kubeconfig", required=True, help="where to write a kubeconfig for the server")
    parser.add_argument("--namespace", action="append", default=[], help="namespaces to create")
    parser.add_argument("--crds", help="folder of CustomResourceDefinition documents to serve (default: "
                        "PD_TEST_CRDS, else ../shared/crds beside the repository, else the project's minimal CRDs)")
    args = parser.parse_args(argv)
    server = KubeAPI(crds=args.crds).start()
    print("Kubernetes API test server on %s serving %s" % (server.url, server.crd_source), flush=True)
    for ns in args.namespace:
        server.add_namespace(ns)
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
