# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes access through kubernetes.core: the same connection options and client.

Generic only (the Argo Rollouts side is in ``argo.py``), one way to do each thing:

- a failed call is a KubernetesError whose class comes from the server's status code: ``NotFound``
  (404), ``Forbidden`` (403), ``Conflict`` (409); its message names the object and the fix;
- ``read_object(..., missing_ok=True)`` answers None for an object that does not exist;
- ``update_with_retry``: read the latest, build, write with the resourceVersion read, on a 409 read again;
- ``owned_by(obj, owner)``: the ownerReferences filter;
- ``kept(obj)``: an object without what the server changes on every write, to compare with.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import collections
import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client

try:
    from kubernetes.dynamic.exceptions import DynamicApiError as ApiError
except ImportError:  # reported by AnsibleK8SModule.requires("kubernetes") when a client is needed
    class ApiError(Exception):
        status = None

__all__ = ["AUTH_ARG_SPEC", "ApiError", "Conflict", "Forbidden", "KubernetesError", "NotFound", "Updated",
           "api_error", "api_message", "client_for", "describe", "find_objects", "kept", "owned_by", "read_object",
           "read_secret_value", "update_with_retry", "write_object"]


class KubernetesError(Exception):
    """An API call that failed, with a message naming the object and the fix."""


class NotFound(KubernetesError):
    """The server answered 404: the object (or its namespace) does not exist."""


class Forbidden(KubernetesError):
    """The server answered 403: this identity may not do that."""


class Conflict(KubernetesError):
    """The server answered 409: the object changed since it was read (or was created meanwhile)."""


STATUS_ERRORS = {403: Forbidden, 404: NotFound, 409: Conflict}


def api_error(e, failed, forbidden=None):
    """The KubernetesError for the API error ``e``: its class from the status code, its message ``failed``
    (``forbidden`` for a 403 when given)."""
    status = getattr(e, "status", None)
    cls = STATUS_ERRORS.get(status, KubernetesError)
    return cls(forbidden if cls is Forbidden and forbidden else failed)


def client_for(module):
    """A kubernetes.core K8SClient for an AnsibleK8SModule's connection options."""
    module.requires("kubernetes")
    try:
        return get_api_client(module=module)
    except Exception as e:  # kubernetes.core raises CoreException; config errors vary by version
        raise KubernetesError("cannot connect to the Kubernetes API: %s; check kubeconfig/context "
                              "or the K8S_AUTH_* variables" % e)


def api_message(e):
    """The API server's own words for a failed call."""
    return e.summary() if hasattr(e, "summary") else str(e)


def describe(kind, name, namespace=None):
    return "%s '%s'%s" % (kind, name, " in namespace '%s'" % namespace if namespace else "")


def read_object(client, kind, name, namespace, api_version, missing_ok=False):
    """The object as a dict; errors name the object and what to check. A missing object is NotFound,
    or None with ``missing_ok``."""
    what = describe(kind, name, namespace)
    if not name or not str(name).strip():
        # a GET without a name is a LIST: never let an empty name stand for every object
        raise KubernetesError("reading a %s needs its name, and the name given is empty" % kind)
    try:
        resource = client.resource(kind, api_version)
        return client.get(resource, name=name, namespace=namespace).to_dict()
    except ApiError as e:
        if getattr(e, "status", None) == 404:
            if missing_ok:
                return None
            raise NotFound("%s not found; check the name and namespace (kubectl get %s -n %s)"
                           % (what, kind.lower(), namespace or "<all>"))
        raise api_error(e, "reading %s failed: %s" % (what, api_message(e)),
                        forbidden="reading %s is forbidden (%s); grant get on %s to this identity"
                        % (what, api_message(e), kind.lower()))
    except Exception as e:  # discovery failures: the CRD is missing or the server is unreachable
        raise KubernetesError("reading %s failed: %s; is the %s API (%s) installed and the API server "
                              "reachable?" % (what, e, kind, api_version))


def read_secret_value(client, name, key, namespace):
    secret = read_object(client, "Secret", name, namespace, "v1")
    data = secret.get("data") or {}
    if key not in data:
        raise KubernetesError("key '%s' does not exist in secret '%s'" % (key, name))
    return base64.b64decode(data[key]).decode("utf-8")


def find_objects(client, kind, namespace, api_version, names=None, label_selector=None):
    """Objects by names, or by label selector in a namespace (all namespaces when None).

    ``names`` given (even empty) reads exactly those; only ``names=None`` lists."""
    if names is not None:
        return [read_object(client, kind, n, namespace, api_version) for n in names]
    try:
        resource = client.resource(kind, api_version)
        found = client.get(resource, namespace=namespace, label_selector=label_selector)
    except ApiError as e:
        raise api_error(e, "listing %s failed: %s" % (kind, api_message(e)),
                        forbidden="listing %s in %s is forbidden (%s); grant list on %s to this identity" % (
                            kind, "namespace '%s'" % namespace if namespace else "all namespaces", api_message(e),
                            kind.lower()))
    return found.to_dict().get("items", [])


def write_object(client, body, namespace, create=False, dry_run=False):
    """Create ``body``, or replace it with the resourceVersion it carries; the object written. A 409 is
    Conflict, for the caller to read again and rebuild (update_with_retry). ``dry_run`` asks the server
    (dryRun=All): nothing is stored, and the answer is the object as the server would keep it, defaulted
    and pruned, or its refusal (422) as a KubernetesError."""
    meta = body["metadata"]
    what = describe(body["kind"], meta["name"], namespace)
    doing = "creating" if create else "changing"
    extra = {"dry_run": "All"} if dry_run else {}
    try:
        resource = client.resource(body["kind"], body["apiVersion"])
        if create:
            return client.client.create(resource, body=body, namespace=namespace, **extra).to_dict()
        return client.client.replace(resource, body=body, name=meta["name"], namespace=namespace, **extra).to_dict()
    except ApiError as e:
        raise api_error(e, "%s %s failed: %s" % (doing, what, api_message(e)),
                        forbidden="%s %s is forbidden (%s); grant %s on %s to this identity" % (
                            doing, what, api_message(e), "create" if create else "update", body["kind"].lower()))


Updated = collections.namedtuple("Updated", "before planned after conflicts")


def update_with_retry(read, plan, write, what, attempts=5):
    """Read the latest, change it, write it with the resourceVersion read; on a 409 read again.

    ``read()`` gives the object (or None when it does not exist); ``plan(before)`` builds what to write
    (a body, patches, ... and may ask the server a dry run); ``write(before, planned)`` writes it (or
    decides there is nothing to write) and gives the result. A Conflict raised by ``plan`` or ``write``
    starts again from ``read``; after ``attempts`` of them in a row, Conflict naming ``what``.
    Returns Updated(before, planned, after, conflicts)."""
    for conflicts in range(attempts):
        before = read()
        try:
            planned = plan(before)
            return Updated(before, planned, write(before, planned), conflicts)
        except Conflict:
            continue
    raise Conflict("%s kept changing under us (%d conflicts in a row); try again" % (what, attempts))


def owned_by(obj, owner):
    """Whether ``owner`` (an object read from the server, with its uid) is among ``obj``'s ownerReferences."""
    uid = (owner.get("metadata") or {}).get("uid")
    return bool(uid) and any(ref.get("uid") == uid for ref in (obj.get("metadata") or {}).get("ownerReferences") or [])


def kept(obj):
    """An object without what the server changes on every write (resourceVersion, generation, managedFields)."""
    out = copy.deepcopy(obj)
    meta = out.get("metadata") or {}
    for key in ("resourceVersion", "generation", "managedFields"):
        meta.pop(key, None)
    for key in ("labels", "annotations"):
        if not meta.get(key):
            meta.pop(key, None)
    return out
