# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo Rollouts: the status the kubectl plugin shows, and the patches each of its verbs sends.

One function per action returns the patches; ``argo.act_on`` sends them. A patch that would change
nothing is dropped, which is what makes every action idempotent. Talking to the server (reading,
sending, waiting) is in ``argo.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

REVISION_ANNOTATION = "rollout.argoproj.io/revision"
HASH_LABEL = "rollouts-pod-template-hash"


class RolloutError(Exception):
    """An action that cannot be applied to this rollout, with the reason."""


class Patch(object):
    """One request: ``target`` is ``spec`` (the object) or ``status`` (the subresource);
    ``kind`` is ``merge`` or ``json`` (a PATCH of that type) or ``update`` (GET, change, PUT with
    the resourceVersion read, as `set image` does)."""

    def __init__(self, target, kind, body):
        self.target = target
        self.kind = kind
        self.body = body

    def to_dict(self):
        return {"subresource": "status" if self.target == "status" else None,
                "patch_type": {"merge": "application/merge-patch+json", "json": "application/json-patch+json",
                               "update": "PUT"}[self.kind],
                "body": self.body}


def merge_patch(target, patch):
    """RFC 7386, to preview a merge patch locally."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def apply(obj, patches):
    """The object as it will be after the patches (what diff and idempotency compare)."""
    out = copy.deepcopy(obj)
    for p in patches:
        if p.kind in ("merge", "update"):
            out = merge_patch(out, p.body)
        else:
            for op in p.body:  # only "replace /spec/template" is sent as a JSON patch
                out.setdefault("spec", {})["template"] = copy.deepcopy(op["value"])
    return out


def effective(obj, patches):
    """The patches that change something."""
    kept = []
    current = obj
    for p in patches:
        after = apply(current, [p])
        if after != current:
            kept.append(p)
            current = after
    return kept


# --------------------------------------------------------------------------- reading


def _steps(ro):
    return ((ro.get("spec") or {}).get("strategy") or {}).get("canary", {}).get("steps") or []


def strategy(ro):
    strat = (ro.get("spec") or {}).get("strategy") or {}
    return "BlueGreen" if "blueGreen" in strat else "Canary"


def rollout_phase(ro):
    """(phase, message) as GetRolloutPhase / CalculateRolloutPhase compute them."""
    spec = ro.get("spec") or {}
    status = ro.get("status") or {}
    meta = ro.get("metadata") or {}
    if str(status.get("observedGeneration", "")) not in ("", str(meta.get("generation", ""))):
        return "Progressing", "waiting for rollout spec update to be observed"
    if status.get("controllerPause") and not status.get("pauseConditions"):
        return "Progressing", "waiting for rollout to unpause"
    if status.get("phase"):
        return status["phase"], status.get("message", "")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "InvalidSpec":
            return "Degraded", "InvalidSpec: %s" % cond.get("message", "")
        if cond.get("reason") in ("RolloutAborted", "ProgressDeadlineExceeded"):
            return "Degraded", "%s: %s" % (cond["reason"], cond.get("message", ""))
    if status.get("abort"):
        return "Degraded", "RolloutAborted: Rollout aborted update"
    if spec.get("paused"):
        return "Paused", "manually paused"
    if status.get("pauseConditions"):
        return "Paused", status["pauseConditions"][0].get("reason", "")
    if spec.get("restartAt") and spec.get("restartAt") != status.get("restartedAt"):
        return "Progressing", "rollout is restarting"
    replicas = spec.get("replicas", 1)
    if status.get("updatedReplicas", 0) < replicas:
        return "Progressing", "more replicas need to be updated"
    if status.get("availableReplicas", 0) < status.get("updatedReplicas", 0):
        return "Progressing", "updated replicas are still becoming available"
    current, stable = status.get("currentPodHash"), status.get("stableRS")
    if strategy(ro) == "BlueGreen":
        active = (status.get("blueGreen") or {}).get("activeSelector")
        if not active or active != current:
            return "Progressing", "active service cutover pending"
        if stable != current:
            return "Progressing", "waiting for post-promotion verification to complete"
    else:
        if not ((spec.get("strategy") or {}).get("canary") or {}).get("trafficRouting") \
                and status.get("replicas", 0) > status.get("updatedReplicas", 0):
            return "Progressing", "old replicas are pending termination"
        if stable != current:
            return "Progressing", "waiting for all steps to complete"
    return "Healthy", ""


def _images(template):
    return dict((c.get("name"), c.get("image")) for c in ((template or {}).get("spec") or {}).get("containers") or [])


def summarize(ro, replicasets=(), analysisruns=()):
    """What `kubectl argo rollouts get rollout` shows, as data."""
    spec = ro.get("spec") or {}
    status = ro.get("status") or {}
    meta = ro.get("metadata") or {}
    phase, message = rollout_phase(ro)
    steps = _steps(ro)
    index = status.get("currentStepIndex")
    set_weight = None
    if strategy(ro) == "Canary":
        if steps and index is not None:
            set_weight = 0
            for step in steps[:min(index + 1, len(steps))]:
                if "setWeight" in step:
                    set_weight = step["setWeight"]
            if index >= len(steps):
                set_weight = 100
        elif not steps:
            set_weight = 100
    weights = (status.get("canary") or {}).get("weights") or {}
    actual = (weights.get("canary") or {}).get("weight", set_weight) if weights else set_weight
    by_hash = {}
    for rs in replicasets:
        pod_hash = ((rs.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL)
        if pod_hash:
            by_hash[pod_hash] = rs
    stable_hash, canary_hash = status.get("stableRS"), status.get("currentPodHash")

    def images_of(h):
        rs = by_hash.get(h)
        return _images((rs.get("spec") or {}).get("template")) if rs else None

    def readiness(h):
        rs = by_hash.get(h)
        if not rs:
            return None
        return {"replicaset": rs["metadata"].get("name"), "desired": (rs.get("spec") or {}).get("replicas", 0),
                "available": (rs.get("status") or {}).get("availableReplicas", 0)}

    revision = (meta.get("annotations") or {}).get(REVISION_ANNOTATION)
    runs = []
    for ar in analysisruns:
        ar_meta = ar.get("metadata") or {}
        ar_rev = (ar_meta.get("annotations") or {}).get(REVISION_ANNOTATION)
        if revision and ar_rev and ar_rev != revision:
            continue
        ar_status = ar.get("status") or {}
        runs.append({"name": ar_meta.get("name"), "phase": ar_status.get("phase"),
                     "message": ar_status.get("message", ""),
                     "failing_metrics": [m.get("name") for m in ar_status.get("metricResults") or []
                                         if m.get("phase") in ("Failed", "Error", "Inconclusive")]})
    bg = status.get("blueGreen") or {}
    return {
        "name": meta.get("name"), "namespace": meta.get("namespace"),
        "status": phase, "message": message,
        "aborted": bool(status.get("abort")) or message.startswith("RolloutAborted"),
        "aborted_at": status.get("abortedAt"),
        "strategy": strategy(ro),
        "current_step_index": index, "steps": len(steps),
        "current_step": steps[index] if steps and index is not None and index < len(steps) else None,
        "set_weight": set_weight, "actual_weight": actual,
        "stable_hash": stable_hash, "canary_hash": canary_hash,
        "stable_images": images_of(stable_hash), "stable_replicaset": readiness(stable_hash),
        "canary_images": images_of(canary_hash) or _images(spec.get("template")),
        "fully_promoted": bool(stable_hash) and stable_hash == canary_hash,
        "replicas": {"desired": spec.get("replicas", 1), "current": status.get("replicas", 0),
                     "updated": status.get("updatedReplicas", 0), "ready": status.get("readyReplicas", 0),
                     "available": status.get("availableReplicas", 0)},
        "paused": bool(spec.get("paused")),
        "pause_conditions": status.get("pauseConditions") or [],
        "active_selector": bg.get("activeSelector"), "preview_selector": bg.get("previewSelector"),
        "analysis_runs": runs,
        "revision": revision,
    }


# --------------------------------------------------------------------------- describing


def describe_position(s):
    """`Paused - CanaryPauseStep, step 1/5, set weight 10` for messages."""
    text = s["status"] + (" - %s" % s["message"] if s["message"] else "")
    if s["steps"]:
        text += ", step %s/%d" % (s["current_step_index"] if s["current_step_index"] is not None else "-", s["steps"])
    if s["set_weight"] is not None and s["strategy"] == "Canary":
        text += ", set weight %s" % s["set_weight"]
    return text


# --------------------------------------------------------------------------- actions


def promote(ro, full=False, skip_current_step=False):
    """`kubectl argo rollouts promote [--full] [--skip-current-step]`."""
    spec = ro.get("spec") or {}
    status = ro.get("status") or {}
    patches = []
    if full and skip_current_step:
        raise RolloutError("full and skip_current_step cannot be used together")
    if spec.get("paused"):
        patches.append(Patch("spec", "merge", {"spec": {"paused": False}}))
    steps = _steps(ro)
    index = status.get("currentStepIndex") or 0
    if full:
        if status.get("currentPodHash") != status.get("stableRS"):
            patches.append(Patch("status", "merge", {"status": {"promoteFull": True}}))
        return patches
    if skip_current_step:
        if strategy(ro) == "BlueGreen":
            raise RolloutError("Cannot skip steps of a bluegreen rollout. Run without a flags")
        if not steps:
            raise RolloutError("Cannot skip steps of a rollout without steps")
        patches.append(Patch("status", "merge", {"status": {"currentStepIndex": min(index + 1, len(steps))}}))
        return patches
    if status.get("controllerPause") and not status.get("pauseConditions") and not spec.get("paused"):
        # a promote the controller has not acted on yet: the plugin would skip the next step too;
        # a task run twice must not skip a step and its analysis (deliberate difference)
        return patches
    inconclusive = ((status.get("canary") or {}).get("currentStepAnalysisRunStatus") or {}).get("status") == "Inconclusive"
    if strategy(ro) == "Canary" and inconclusive and status.get("pauseConditions") and status.get("controllerPause"):
        patches.append(Patch("status", "merge", {"status": {"pauseConditions": None, "controllerPause": False,
                                                            "currentStepIndex": min(index + 1, len(steps))}}))
    elif status.get("pauseConditions"):
        patches.append(Patch("status", "merge", {"status": {"pauseConditions": None}}))
    elif strategy(ro) == "Canary" and steps and not spec.get("paused"):
        patches.append(Patch("status", "merge", {"status": {"pauseConditions": None,
                                                            "currentStepIndex": min(index + 1, len(steps))}}))
    return patches


def pause(ro):
    return [Patch("spec", "merge", {"spec": {"paused": True}})]


def resume(ro):
    """Clear a manual pause without skipping a step (the plugin has no resume verb)."""
    return [Patch("spec", "merge", {"spec": {"paused": False}})] if (ro.get("spec") or {}).get("paused") else []


def abort(ro):
    return [Patch("status", "merge", {"status": {"abort": True}})]


def retry(ro):
    return [Patch("status", "merge", {"status": {"abort": False}})] if (ro.get("status") or {}).get("abort") else []


def restart(ro, now=None):
    """A restart the controller has not done yet (restartAt not reflected in restartedAt) is not asked twice."""
    asked = (ro.get("spec") or {}).get("restartAt")
    if asked and asked != (ro.get("status") or {}).get("restartedAt"):
        return []
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return [Patch("spec", "merge", {"spec": {"restartAt": now.strftime("%Y-%m-%dT%H:%M:%SZ")}})]


def set_image(ro, images):
    """Container name (or ``*``) -> image, across init, regular and ephemeral containers."""
    template = copy.deepcopy((ro.get("spec") or {}).get("template") or {})
    pod = template.setdefault("spec", {})
    found = set()
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for c in pod.get(field) or []:
            for name, image in images.items():
                if name in ("*", c.get("name")):
                    c["image"] = image
                    found.add(name)
    missing = [n for n in images if n not in found]
    if missing:
        raise RolloutError('unable to find container named "%s"' % missing[0])
    return [Patch("spec", "update", {"spec": {"template": template}})]


def undo(ro, replicasets, revision=None):
    """Roll spec.template back to a previous ReplicaSet's template (JSON patch, as the plugin does).
    ``replicasets``: the rollout's own (argo.replicasets_of)."""
    owned = []
    for rs in replicasets:
        rev = ((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
        if rev is not None:
            owned.append((int(rev), rs))
    if not owned:
        raise RolloutError('no revision found for rollout "%s"' % ro["metadata"]["name"])
    owned.sort(key=lambda item: item[0])
    status = ro.get("status") or {}
    stable = [rs for _rev, rs in owned
              if ((rs.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL) == status.get("stableRS")]
    if revision:
        chosen = [rs for rev, rs in owned if rev == revision]
        if not chosen:
            raise RolloutError("unable to find specified revision %s in history" % revision)
        target = chosen[0]
    elif stable and status.get("stableRS") != status.get("currentPodHash"):
        # an unfinished update goes back to what serves now: stable, not merely the revision before
        # (which may be an earlier aborted release); once back, a second run changes nothing
        target = stable[0]
    else:
        older = owned[:-1]
        if not older:
            raise RolloutError('no previous revision found for rollout "%s"' % ro["metadata"]["name"])
        target = older[-1][1]
    template = copy.deepcopy((target.get("spec") or {}).get("template") or {})
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return [Patch("spec", "json", [{"op": "replace", "path": "/spec/template", "value": template}])]


ACTIONS = ("promote", "pause", "resume", "abort", "retry", "undo", "set_image", "restart")
