# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo Rollouts on the API server: reading rollouts and what they own, sending the patches that
``rollouts.py`` builds (judged on what the server would keep), and waiting for a rollout.

Waiting is kubernetes.core's shape: small predicates on a rollout's summary (``rollout_healthy``,
``rollout_at_step``, ...) fed to one Waiter loop with a clock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.progressive.delivery.plugins.module_utils.k8s import (
    ApiError, api_error, api_message, describe, find_objects, kept, owned_by, read_object, update_with_retry)
from ansible_collections.progressive.delivery.plugins.module_utils.rollouts import (
    Patch, RolloutError, describe_position, effective, merge_patch, summarize)
from ansible_collections.progressive.delivery.plugins.module_utils.waiter import Waiter

ARGO_API_VERSION = "argoproj.io/v1alpha1"


# --------------------------------------------------------------------------- reading


def read_argo(client, kind, name, namespace, missing_ok=False):
    """An Argo Rollouts object (Rollout, AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun)."""
    return read_object(client, kind, name, namespace, ARGO_API_VERSION, missing_ok)


def find_argo(client, kind, namespace, names=None, label_selector=None):
    return find_objects(client, kind, namespace, ARGO_API_VERSION, names=names, label_selector=label_selector)


def replicasets_of(client, ro):
    """The ReplicaSets the rollout owns."""
    found = find_objects(client, "ReplicaSet", (ro.get("metadata") or {}).get("namespace"), "apps/v1")
    return [rs for rs in found if owned_by(rs, ro)]


def red_peers(peers, client_of):
    """The peers whose Rollout is red - Degraded (aborted, or past its progress deadline) - each as
    {target, name, namespace, phase, message}: a release beside them in a fleet's wave holds or aborts.
    ``peers`` are {target, name, namespace, ...}; ``client_of(peer)`` is the client of the peer's cluster.
    Degraded only once the controller has seen the peer's spec: an abort left from its previous release is not
    red while its new image waits to be observed."""
    red = []
    for peer in peers:
        ro = read_argo(client_of(peer), "Rollout", peer["name"], peer["namespace"])
        s = summarize(ro)
        if s["status"] == "Degraded":
            red.append({"target": peer.get("target") or "%s/%s" % (peer["namespace"], peer["name"]),
                        "name": peer["name"], "namespace": peer["namespace"], "phase": s["status"],
                        "message": s["message"]})
    return red


# --------------------------------------------------------------------------- acting


def send_patch(client, obj, patch, dry_run=False):
    """Send one rollouts.Patch for ``obj``; status patches fall back to the main resource when the
    CRD has no status subresource, as the kubectl plugin does. ``dry_run``: nothing is stored, the
    answer is what the server would keep (or its refusal)."""
    meta = obj["metadata"]
    what = describe(obj["kind"], meta["name"], meta.get("namespace"))
    try:
        return _send(client, obj, patch, dry_run)
    except ApiError as e:
        raise api_error(e, ("%s would refuse the change: %s" if dry_run else "changing %s failed: %s")
                        % (what, api_message(e)),
                        forbidden="changing %s is forbidden (%s); grant patch and update on %s and %s/status to "
                                  "this identity" % (what, api_message(e), obj["kind"].lower(), obj["kind"].lower()))


def _send(client, obj, patch, dry_run):
    meta = obj["metadata"]
    resource = client.resource(obj["kind"], ARGO_API_VERSION)
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
        except KeyError:
            pass
        except ApiError as e:
            if getattr(e, "status", None) != 404:  # 404: this CRD serves no status subresource
                raise
    return client.client.patch(resource, body=patch.body, content_type=content_type, **kwargs).to_dict()


def _compose(first, second):
    """One merge patch doing what ``first`` then ``second`` do (RFC 7386; a null in ``second`` stays a delete)."""
    if not isinstance(first, dict) or not isinstance(second, dict):
        return copy.deepcopy(second)
    out = copy.deepcopy(first)
    for key, value in second.items():
        out[key] = _compose(out.get(key), value) if isinstance(value, dict) else copy.deepcopy(value)
    return out


def predict(client, obj, patches):
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
            answer = send_patch(client, answer, p, dry_run=True)
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


def act_on(client, name, namespace, build, check_mode=False, attempts=5):
    """Read the Rollout, build the patches, send those that change something; on a 409 read and rebuild.

    What changes is judged on what the server would keep (a dry run of the patches: a template field the
    CRD prunes is no change), and in check mode ``after`` is the server's own answer, or its refusal.
    Returns ``(before, after, patches, conflicts)``."""
    def plan(before):
        patches = effective(before, build(before))
        predicted = predict(client, before, patches) if patches else before
        return ([] if kept(predicted) == kept(before) else patches), predicted

    def send(before, planned):
        patches, predicted = planned
        if not patches or check_mode:
            return predicted
        after = before
        for patch in patches:
            # each request starts from the previous answer, so an update carries the latest resourceVersion
            after = send_patch(client, after, patch)
        return after

    done = update_with_retry(lambda: read_argo(client, "Rollout", name, namespace), plan, send,
                             describe("Rollout", name, namespace), attempts)
    return done.before, done.after, done.planned[0], done.conflicts


# --------------------------------------------------------------------------- waiting

PHASES = ("Healthy", "Progressing", "Paused", "Degraded")
WAIT_TARGETS = PHASES + ("Aborted",)

# what `wait: true` waits for when wait_for is not given
DEFAULT_WAIT_FOR = {"pause": "Paused", "abort": "Aborted"}


def rollout_healthy(s):
    return s["status"] == "Healthy"


def rollout_paused(s):
    return s["status"] == "Paused"


def rollout_aborted(s):
    """The controller has acted on the abort: traffic is back on stable (abortedAt is its mark)."""
    return s["aborted"] and bool(s.get("aborted_at")) and s["status"] == "Degraded"


def rollout_at_step(index):
    def at_step(s):
        return not s["aborted"] and (s["current_step_index"] or 0) >= index and s["status"] in ("Paused", "Healthy")
    return at_step


def rollout_in_phase(phase):
    return lambda s: s["status"] == phase


def parse_wait_for(value):
    """A step index (int) or one of WAIT_TARGETS, case-insensitive."""
    if isinstance(value, bool):
        raise RolloutError("wait_for must be a step index or one of %s" % ", ".join(WAIT_TARGETS))
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return int(value)
    for target in WAIT_TARGETS:
        if str(value).strip().lower() == target.lower():
            return target
    raise RolloutError("wait_for '%s' is not a step index or one of %s" % (value, ", ".join(WAIT_TARGETS)))


def wait_condition(target):
    """(done, fatal) predicates on a summary for a parsed wait_for target.

    Healthy ends any wait for a pause or a step: nothing is left to wait for. Degraded ends every
    wait except for Degraded or Aborted, as `kubectl argo rollouts status` does."""
    if isinstance(target, int):
        reached = rollout_at_step(target)
    elif target == "Aborted":
        reached = rollout_aborted
    elif target == "Paused":
        reached = rollout_paused
    else:
        reached = rollout_in_phase(target)

    healthy_ends_it = isinstance(target, int) or target == "Paused"

    def done(s):
        return reached(s) or (healthy_ends_it and rollout_healthy(s))

    def fatal(s):
        if target in ("Degraded", "Aborted") or s["status"] != "Degraded":
            return None
        return "it is Degraded: %s" % s["message"]
    return done, fatal


def watch(client, name, namespace, done, timeout, interval, fatal=None, clock=None, sleep=None):
    """Read the Rollout until ``done(ro)`` (or ``fatal(ro)`` says why not, or the time is up); a WaitResult."""
    waiter = Waiter(lambda: read_argo(client, "Rollout", name, namespace), clock=clock, sleep=sleep, interval=interval)
    return waiter.wait(done, timeout, fatal)


def wait_rollout(client, name, namespace, target, timeout, interval, clock=None, sleep=None):
    """Wait for a rollout to reach a parsed wait_for target; ``.last`` is its summary and ``.message``
    says, on failure, where it stands and what to do."""
    done, fatal = wait_condition(target)
    waiter = Waiter(lambda: summarize(read_argo(client, "Rollout", name, namespace)),
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
