# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Gated promotion of an Argo Rollouts blue-green rollout.

Refuse unless the preview is fully available, the pre-promotion analysis passed and (for
``autoPromotionEnabled: false``) a person approved; then promote, wait for the active Service to
switch, judge the post-promotion analysis, and on failure switch back to the previous stable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.progressive.delivery.plugins.module_utils import rollouts

SUCCESSFUL = "Successful"


class Refused(Exception):
    """Promotion refused before anything was written; the message says what to do."""


def _blue_green(ro):
    return ((ro.get("spec") or {}).get("strategy") or {}).get("blueGreen") or {}


def preview_availability(ro, replicasets):
    """(replicaset name, available, desired) of the preview (desired pod hash) ReplicaSet."""
    status = ro.get("status") or {}
    desired = _blue_green(ro).get("previewReplicaCount") or (ro.get("spec") or {}).get("replicas", 1)
    for rs in replicasets:
        labels = (rs.get("metadata") or {}).get("labels") or {}
        if labels.get(rollouts.HASH_LABEL) == status.get("currentPodHash"):
            return rs["metadata"]["name"], (rs.get("status") or {}).get("availableReplicas", 0), desired
    return None, 0, desired


def own_analysis(ro, when):
    """``(configured, {name, status, message})`` of the rollout's own pre- or post-promotion AnalysisRun."""
    configured = bool(_blue_green(ro).get("%sPromotionAnalysis" % when))
    run = ((ro.get("status") or {}).get("blueGreen") or {}).get("%sPromotionAnalysisRunStatus" % when)
    return configured, run


def check_gates(ro, replicasets, approved, inline_pre, require_pre):
    """Raise Refused with every unmet condition; return what the pre-promotion gate relies on."""
    name = ro["metadata"]["name"]
    if rollouts.strategy(ro) != "BlueGreen":
        raise Refused("rollout '%s' uses the canary strategy; use rollout_step to promote it" % name)
    problems = []
    rs_name, available, desired = preview_availability(ro, replicasets)
    if rs_name is None:
        problems.append("no preview ReplicaSet for pod hash %s yet; wait for the controller to create it"
                        % (ro.get("status") or {}).get("currentPodHash"))
    elif available < desired:
        problems.append("preview ReplicaSet %s has %d of %d replicas available; wait for it or check its pods"
                        % (rs_name, available, desired))
    if _blue_green(ro).get("autoPromotionEnabled") is False and not approved:
        problems.append("autoPromotionEnabled is false: a person must approve this promotion (approved: true)")
    configured, run = own_analysis(ro, "pre")
    gate = "inline" if inline_pre else None
    if configured:
        phase = (run or {}).get("status")
        if phase != SUCCESSFUL:
            problems.append("pre-promotion AnalysisRun %s is %s, not Successful%s" % (
                (run or {}).get("name", "(not started)"), phase or "not started",
                ": %s" % run["message"] if (run or {}).get("message") else ""))
        gate = "rollout" if not inline_pre else "rollout+inline"
    elif not inline_pre and require_pre:
        problems.append("no pre-promotion analysis: set spec.strategy.blueGreen.prePromotionAnalysis or give "
                        "pre_promotion_analysis (require_pre_promotion_analysis: false skips this gate)")
    if problems:
        raise Refused("refusing to promote rollout '%s': %s" % (name, "; ".join(problems)))
    return gate


def is_promoted(summary):
    return bool(summary["canary_hash"]) and summary["active_selector"] == summary["canary_hash"]


def is_fully_promoted(summary):
    return is_promoted(summary) and summary["stable_hash"] == summary["canary_hash"]


class Timeline(object):
    """What was done, each with the seconds since the start, for the report."""

    def __init__(self, clock=None):
        self.clock = clock or time.monotonic
        self.start = self.clock()
        self.events = []

    def now(self):
        return round(self.clock() - self.start, 3)

    def add(self, event, **details):
        entry = dict(at_s=self.now(), event=event)
        entry.update(details)
        self.events.append(entry)
        return entry
