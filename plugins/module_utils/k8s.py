# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes access through kubernetes.core: the same connection options and client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.progressive.delivery.plugins.module_utils.rollouts import (
    Patch, describe_position, effective, merge_patch, summarize, wait_condition)
from ansible_collections.progressive.delivery.plugins.module_utils.waiter import Waiter

try:
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ForbiddenError
except ImportError:  # reported by AnsibleK8SModule.requires("kubernetes") when a client is needed
    class DynamicApiError(Exception):
        pass

    class NotFoundError(DynamicApiError):
        pass

    class ForbiddenError(DynamicApiError):
        pass

ARGO_API_VERSION = "argoproj.io/v1alpha1"

__all__ = ["AUTH_ARG_SPEC", "ARGO_API_VERSION", "KubernetesError", "client_for", "read_object", "read_secret_value"]


class KubernetesError(Exception):
    """An API call that failed, with a message naming the object and the fix."""


def client_for(module):
    """A kubernetes.core K8SClient for an AnsibleK8SModule's connection options."""
    module.requires("kubernetes")
    try:
        return get_api_client(module=module)
    except Exception as e:  # kubernetes.core raises CoreException; config errors vary by version
        raise KubernetesError("cannot connect to the Kubernetes API: %s; check kubeconfig/context "
                              "or the K8S_AUTH_* variables" % e)


def _api_message(e):
    """The API server's own words for a failed call."""
    return e.summary() if hasattr(e, "summary") else str(e)


def describe(kind, name, namespace=None):
    return "%s '%s'%s" % (kind, name, " in namespace '%s'" % namespace if namespace else "")


def read_object(client, kind, name, namespace=None, api_version=ARGO_API_VERSION):
    """The object as a dict; errors name the object and what to check."""
    what = describe(kind, name, namespace)
    if not name or not str(name).strip():
        # a GET without a name is a LIST: never let an empty name stand for every object
        raise KubernetesError("reading a %s needs its name, and the name given is empty" % kind)
    try:
        resource = client.resource(kind, api_version)
        return client.get(resource, name=name, namespace=namespace).to_dict()
    except NotFoundError:
        raise KubernetesError("%s not found; check the name and namespace (kubectl get %s -n %s)"
                              % (what, kind.lower(), namespace or "<all>"))
    except ForbiddenError as e:
        raise KubernetesError("reading %s is forbidden (%s); grant get on %s to this identity"
                              % (what, _api_message(e), kind.lower()))
    except DynamicApiError as e:
        raise KubernetesError("reading %s failed: %s" % (what, _api_message(e)))
    except Exception as e:  # discovery failures: the CRD is missing or the server is unreachable
        raise KubernetesError("reading %s failed: %s; is the %s API (%s) installed and the API server "
                              "reachable?" % (what, e, kind, api_version))


def read_secret_value(client, name, key, namespace):
    secret = read_object(client, "Secret", name, namespace, api_version="v1")
    data = secret.get("data") or {}
    if key not in data:
        raise KubernetesError("key '%s' does not exist in secret '%s'" % (key, name))
    return base64.b64decode(data[key]).decode("utf-8")


def _conflict(e):
    return getattr(e, "status", None) == 409


def find_objects(client, kind, namespace=None, names=None, label_selector=None, api_version=ARGO_API_VERSION):
    """Objects by names, or by label selector in a namespace (all namespaces when None).

    ``names`` given (even empty) reads exactly those; only ``names=None`` lists."""
    if names is not None:
        return [read_object(client, kind, n, namespace, api_version) for n in names]
    try:
        resource = client.resource(kind, api_version)
        found = client.get(resource, namespace=namespace, label_selector=label_selector)
    except ForbiddenError as e:
        raise KubernetesError("listing %s in %s is forbidden (%s); grant list on %s to this identity" % (
            kind, "namespace '%s'" % namespace if namespace else "all namespaces", _api_message(e), kind.lower()))
    except DynamicApiError as e:
        raise KubernetesError("listing %s failed: %s" % (kind, _api_message(e)))
    return found.to_dict().get("items", [])


def write_object(client, body, namespace, create=False, dry_run=False):
    """Create ``body``, or replace it with the resourceVersion it carries. Returns the object written,
    or None on a conflict (409), for the caller to read again and rebuild. ``dry_run`` asks the server
    (dryRun=All): nothing is stored, and the answer is the object as the server would keep it, defaulted
    and pruned, or its refusal (422) as a KubernetesError."""
    meta = body["metadata"]
    what = describe(body["kind"], meta["name"], namespace)
    extra = {"dry_run": "All"} if dry_run else {}
    try:
        resource = client.resource(body["kind"], body["apiVersion"])
        if create:
            return client.client.create(resource, body=body, namespace=namespace, **extra).to_dict()
        return client.client.replace(resource, body=body, name=meta["name"], namespace=namespace, **extra).to_dict()
    except ForbiddenError as e:
        raise KubernetesError("%s %s is forbidden (%s); grant %s on %s to this identity" % (
            "creating" if create else "changing", what, _api_message(e), "create" if create else "update",
            body["kind"].lower()))
    except DynamicApiError as e:
        if _conflict(e):
            return None
        raise KubernetesError("%s %s failed: %s" % ("creating" if create else "changing", what, _api_message(e)))


def send_patch(client, obj, patch, api_version=ARGO_API_VERSION, dry_run=False):
    """Send one rollouts.Patch for ``obj``; status patches fall back to the main resource when the
    CRD has no status subresource, as the kubectl plugin does. ``dry_run``: nothing is stored, the
    answer is what the server would keep."""
    meta = obj["metadata"]
    resource = client.resource(obj["kind"], api_version)
    kwargs = dict(name=meta["name"], namespace=meta.get("namespace"))
    if dry_run:
        kwargs["dry_run"] = "All"
    if patch.kind == "update":
        body = merge_patch(obj, patch.body)
        return client.client.replace(resource, body=body, **kwargs).to_dict()
    content_type = "application/merge-patch+json" if patch.kind == "merge" else "application/json-patch+json"
    if patch.target == "status":
        try:
            return client.client.patch(resource.subresources["status"], body=patch.body,
                                       content_type=content_type, **kwargs).to_dict()
        except (KeyError, NotFoundError):
            pass
    return client.client.patch(resource, body=patch.body, content_type=content_type, **kwargs).to_dict()


def _compose(first, second):
    """One merge patch doing what ``first`` then ``second`` do (RFC 7386; a null in ``second`` stays a delete)."""
    if not isinstance(first, dict) or not isinstance(second, dict):
        return copy.deepcopy(second)
    out = copy.deepcopy(first)
    for key, value in second.items():
        out[key] = _compose(out.get(key), value) if isinstance(value, dict) else copy.deepcopy(value)
    return out


def predict(client, obj, patches, api_version=ARGO_API_VERSION):
    """The object as the server would keep it after ``patches`` (its defaults and pruning, its validation: a
    refusal raises), asked with dryRun=All: one request per part (spec, status), whose answer gives that part."""
    predicted = copy.deepcopy(obj)
    for target in ("spec", "status"):
        mine = [p for p in patches if p.target == target]
        if not mine:
            continue
        if len(mine) > 1 and all(p.kind == "merge" for p in mine):
            body = {}
            for p in mine:
                body = _compose(body, p.body)
            mine = [Patch(target, "merge", body)]
        answer = obj
        for p in mine:
            answer = send_patch(client, answer, p, api_version, dry_run=True)
        if target == "status":
            predicted["status"] = answer.get("status")
        else:
            predicted["spec"] = answer.get("spec")
            for key in ("labels", "annotations"):
                value = (answer.get("metadata") or {}).get(key)
                if value is None:
                    predicted["metadata"].pop(key, None)
                else:
                    predicted["metadata"][key] = value
    return predicted


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


def act_on(client, kind, name, namespace, build, check_mode=False, attempts=5, api_version=ARGO_API_VERSION):
    """Read, build the patches, send those that change something; re-read and rebuild on 409.

    What changes is judged on what the server would keep (a dry run of the patches: a template field the
    CRD prunes is no change), and in check mode ``after`` is the server's own answer, or its refusal.
    Returns ``(before, after, patches, conflicts)``."""
    what = describe(kind, name, namespace)
    for conflicts in range(attempts):
        before = read_object(client, kind, name, namespace, api_version)
        patches = effective(before, build(before))
        try:
            predicted = predict(client, before, patches, api_version) if patches else before
        except ForbiddenError as e:
            raise KubernetesError("changing %s is forbidden (%s); grant patch and update on %s and %s/status "
                                  "to this identity" % (what, _api_message(e), kind.lower(), kind.lower()))
        except DynamicApiError as e:
            if _conflict(e):
                continue
            raise KubernetesError("%s would refuse the change: %s" % (what, _api_message(e)))
        if kept(predicted) == kept(before):
            patches = []
        if not patches or check_mode:
            return before, predicted, patches, conflicts
        try:
            after = before
            for patch in patches:
                # each request starts from the previous answer, so an update carries the latest resourceVersion
                after = send_patch(client, after, patch, api_version)
            return before, after, patches, conflicts
        except ForbiddenError as e:
            raise KubernetesError("changing %s is forbidden (%s); grant patch and update on %s and %s/status "
                                  "to this identity" % (what, _api_message(e), kind.lower(), kind.lower()))
        except DynamicApiError as e:
            if _conflict(e):
                continue
            raise KubernetesError("changing %s failed: %s" % (what, _api_message(e)))
    raise KubernetesError("%s kept changing under us (%d conflicts in a row); try again" % (what, attempts))


def wait_rollout(client, name, namespace, target, timeout, interval, clock=None, sleep=None):
    """Wait for a rollout to reach a parsed wait_for target; ``.last`` is its summary and ``.message``
    says, on failure, where it stands and what to do."""
    done, fatal = wait_condition(target)
    waiter = Waiter(lambda: summarize(read_object(client, "Rollout", name, namespace)),
                    clock=clock, sleep=sleep, interval=interval)
    result = waiter.wait(done, timeout, fatal)
    what = describe("Rollout", name, namespace)
    if result.reached:
        result.message = "%s reached %s in %.1fs" % (what, target, result.elapsed)
    elif result.reason == "timeout":
        if target == "Aborted":
            hint = "the controller has not acted on the abort; is the Argo Rollouts controller running?"
        elif result.last["status"] == "Paused":
            hint = "promote it or raise wait_timeout"
        else:
            hint = "raise wait_timeout"
        result.message = "%s did not reach %s within %ss: it is %s; %s" % (
            what, target, timeout, describe_position(result.last), hint)
    else:
        result.message = "%s will not reach %s: %s (kubectl argo rollouts get rollout %s -n %s)" % (
            what, target, result.reason, name, namespace)
    return result
