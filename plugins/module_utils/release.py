# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible-controlled release: Argo's step plan (setWeight / pause / analysis) walked over a
traffic router, the state kept where the router lives so an interrupted job resumes where it stopped.

Phases follow Argo Rollouts: Progressing, Paused (a pause without duration, or an Inconclusive
analysis, waits for a person), Healthy (promoted), Degraded (aborted: all traffic on stable)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import time

from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.routers import Routing, validate_weight

DEFAULT_WEIGHTS = (10, 25, 50, 75)
STRATEGIES = ("canary", "blueGreen")
PROGRESSING, PAUSED, HEALTHY, DEGRADED = "Progressing", "Paused", "Healthy", "Degraded"
FAILING = ("Failed", "Error")


class ReleaseError(Exception):
    """A plan or request that cannot be carried out; nothing was changed."""


def default_plan(weights=DEFAULT_WEIGHTS, pause="30s", analysis=True):
    """10 -> 25 -> 50 -> 75 -> 100, a pause and an analysis at each step."""
    steps = []
    for weight in weights:
        steps.append({"setWeight": weight})
        if pause:
            steps.append({"pause": {"duration": pause}})
        if analysis:
            steps.append({"analysis": {}})
    steps.append({"setWeight": 100})
    return steps


def bluegreen_plan(pre_analysis=True, post_analysis=True):
    """Never split: preview checked at 0%, one flip to 100%, checked again."""
    steps = [{"analysis": {"when": "prePromotion"}}] if pre_analysis else []
    steps.append({"setWeight": 100})
    if post_analysis:
        steps.append({"analysis": {"when": "postPromotion"}})
    return steps


def validate_plan(steps, strategy):
    if strategy not in STRATEGIES:
        raise ReleaseError("strategy must be canary or blueGreen, got %r" % strategy)
    if not steps:
        raise ReleaseError("the plan has no steps")
    for i, step in enumerate(steps):
        kinds = [k for k in ("setWeight", "pause", "analysis") if k in (step or {})]
        if len(kinds) != 1 or len(step) != 1:
            raise ReleaseError("step %d must have exactly one of setWeight, pause or analysis, got %s" % (i, step))
        if kinds[0] == "setWeight":
            try:
                weight = validate_weight(step["setWeight"])
            except Exception as e:
                raise ReleaseError("step %d: %s" % (i, e))
            if strategy == "blueGreen" and weight not in (0, 100):
                raise ReleaseError("step %d: a blue-green release never splits traffic; setWeight must be 0 "
                                   "or 100, got %d" % (i, weight))
        if kinds[0] == "pause":
            duration = (step["pause"] or {}).get("duration")
            if duration is not None:
                try:
                    parse_go_duration(duration) if isinstance(duration, str) else float(duration)
                except ValueError as e:
                    raise ReleaseError("step %d: pause duration %r: %s" % (i, duration, e))
    return steps


def weight_at(steps, index):
    """The canary weight the plan has set once steps[:index] are done."""
    weight = 0
    for step in steps[:index]:
        if "setWeight" in step:
            weight = step["setWeight"]
    return weight


def _iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


class Release(object):
    """One release over one router. ``analyze(step, state)`` returns ``{phase, message, metrics}``."""

    def __init__(self, router, steps=None, strategy=None, analyze=None, cohorts=None, clock=None, sleep=None):
        """Without ``steps``/``strategy``, those of the release in progress (an operator's action on it)."""
        self.router = router
        self.state = router.load_state()
        saved = self.state or {}
        self.strategy = strategy or saved.get("strategy") or "canary"
        self.steps = validate_plan(steps or saved.get("steps") or [{"setWeight": 100}], self.strategy)
        self.analyze = analyze
        self.cohorts = cohorts or {}
        self.clock = clock or time.time
        self.sleep = sleep or time.sleep
        self.changed = False
        self.already_stable = False
        self.diffs = []

    # ------------------------------------------------------------------ state

    def event(self, name, **details):
        now = self.clock()
        entry = dict(at=_iso(now), t=round(now, 3), event=name)
        entry.update(details)
        self.state["history"].append(entry)
        return entry

    def save(self):
        self.router.save_state(self.state)

    def routing(self, weight, active=True):
        return Routing(weight, active, self.cohorts.get("header"), self.cohorts.get("always_canary"),
                       self.cohorts.get("never_canary"))

    def route(self, weight, active=True):
        change = self.router.reconcile(self.routing(weight, active))
        if change.changed:
            self.changed = True
            self.diffs.append(change.diff(self.router.describe()))
        return change

    def begin(self, stable_version, canary_version, approved=True):
        """Start a release of canary_version, or pick up the one in progress. Returns False when the
        release is already finished (promoted) and nothing is to be done."""
        st = self.state
        if st and st.get("stable_version") == canary_version and st.get("canary_version") != canary_version \
                and (st["phase"] == HEALTHY or st.get("aborted")):
            # already what serves (a later release of another version was rolled back): re-running
            # an earlier playbook must not start a release that would put the old stable back
            self.already_stable = True
            return False
        if st and st.get("canary_version") == canary_version:
            # finished (promoted, or aborted until someone retries it): nothing to do, the verdict stands
            return st["phase"] != HEALTHY and not st.get("aborted")
        if st and st["phase"] in (PROGRESSING, PAUSED) and not st.get("aborted"):
            raise ReleaseError("release '%s' is still rolling out %s (step %d, %s); abort or promote it before "
                               "releasing %s" % (self.router.release, st["canary_version"], st["step_index"],
                                                 st["phase"], canary_version))
        if self.strategy == "blueGreen" and not approved:
            raise ReleaseError("a blue-green release switches all traffic at once: a person must approve it "
                               "(approved: true)")
        self.state = {"release": self.router.release, "strategy": self.strategy, "router": self.router.kind,
                      "stable_version": stable_version, "canary_version": canary_version,
                      "phase": PROGRESSING, "message": "", "aborted": False, "step_index": 0,
                      "canary_weight": 0, "steps": self.steps, "step_results": [], "history": [],
                      "canary_traffic_since": None, "time_to_detect_s": None, "time_to_restore_s": None}
        self.changed = True
        self.event("started", stable_version=stable_version, canary_version=canary_version)
        self.route(0)
        self.save()
        return True

    # ------------------------------------------------------------------ walking the plan

    def run(self, until=None):
        """Apply steps from the current one; stop at ``until`` (a step index), at a pause without
        duration, at an Inconclusive analysis (Paused), at a failure (aborted), or at the end."""
        st = self.state
        if st["phase"] == PAUSED:
            return st
        end = len(self.steps) if until is None else min(until, len(self.steps))
        while st["step_index"] < end and st["phase"] == PROGRESSING:
            self.apply(st["step_index"])
            self.save()
        if st["step_index"] >= len(self.steps) and st["phase"] == PROGRESSING:
            self.promote()
        return st

    def apply(self, index):
        st = self.state
        step = self.steps[index]
        self.changed = True
        if "setWeight" in step:
            weight = step["setWeight"]
            change = self.route(weight)
            st["canary_weight"] = weight
            if weight > 0 and st["canary_traffic_since"] is None:
                st["canary_traffic_since"] = self.clock()
            self.event("set_weight", step=index, weight=weight, router_changed=change.changed)
            st["step_results"].append({"step": index, "weight": weight, "analysis_phase": None})
        elif "pause" in step:
            duration = (step["pause"] or {}).get("duration")
            if duration is None:
                st.update(phase=PAUSED, message="CanaryPauseStep")
                self.event("paused", step=index, reason="CanaryPauseStep")
                return
            seconds = parse_go_duration(duration) if isinstance(duration, str) else float(duration)
            self.event("pause", step=index, seconds=seconds)
            self.sleep(seconds)
        else:
            verdict = self.analyze(step, st) if self.analyze else {"phase": "Successful", "message": "no analysis"}
            found = self.event("analysis", step=index, phase=verdict["phase"], message=verdict.get("message", ""),
                               values=summarize_values(verdict.get("metrics")))
            if st["step_results"]:
                st["step_results"][-1].update(analysis_phase=verdict["phase"], analysis_values=found["values"])
            else:
                st["step_results"].append({"step": index, "weight": st["canary_weight"],
                                           "analysis_phase": verdict["phase"], "analysis_values": found["values"]})
            if verdict["phase"] in FAILING:
                st["step_index"] = index
                self.abort("analysis %s at step %d: %s" % (verdict["phase"], index, verdict.get("message", "")),
                           detected_at=found["t"])
                return
            if verdict["phase"] == "Inconclusive":
                st.update(phase=PAUSED, message="InconclusiveAnalysisRun")
                self.event("paused", step=index, reason="InconclusiveAnalysisRun")
                st["step_index"] = index + 1
                return
        st["step_index"] = index + 1

    def abort(self, reason, detected_at=None):
        """All traffic back on stable, cohorts included, in one router update."""
        st = self.state
        if st.get("aborted") and st["canary_weight"] == 0:
            return st
        detected_at = detected_at or self.clock()
        self.route(0, active=False)
        restored_at = self.clock()
        self.changed = True
        since = st.get("canary_traffic_since")
        st.update(phase=DEGRADED, aborted=True, message="RolloutAborted: %s" % reason, canary_weight=0,
                  time_to_detect_s=round(detected_at - since, 3) if since else None,
                  time_to_restore_s=round(restored_at - detected_at, 3))
        self.event("aborted", reason=reason, time_to_restore_s=st["time_to_restore_s"])
        self.save()
        return st

    def promote(self):
        """100% on the canary, which becomes the stable version."""
        st = self.state
        self.route(100)
        self.changed = True
        st.update(phase=HEALTHY, message="", canary_weight=100, step_index=len(self.steps),
                  stable_version=st["canary_version"])
        self.event("promoted", version=st["canary_version"])
        self.save()
        return st

    def resume(self):
        """Clear a pause (the operator's promote on a paused step); the next run goes on."""
        st = self.state
        if st["phase"] != PAUSED:
            return st
        if st["message"] == "CanaryPauseStep":
            st["step_index"] += 1
        st.update(phase=PROGRESSING, message="")
        self.changed = True
        self.event("resumed")
        self.save()
        return st

    def retry(self):
        """An aborted release starts again from step 0 (as Argo's retry)."""
        st = self.state
        if not st.get("aborted"):
            return st
        st.update(phase=PROGRESSING, aborted=False, message="", step_index=0, canary_weight=0,
                  canary_traffic_since=None, time_to_detect_s=None, time_to_restore_s=None, step_results=[])
        self.changed = True
        self.route(0)
        self.event("retried")
        self.save()
        return st


def summarize_values(metrics):
    """metric name -> its last measured value, for the timeline."""
    out = {}
    for m in metrics or []:
        measurements = m.get("measurements") or []
        out[m["name"]] = measurements[-1]["value"] if measurements else None
    return out
