# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The walker and the operators' verbs: a Release applies its plan's steps to a router, one at a time,
and a person's abort, pause, promote, skip, retry or set_weight changes the same state.

The person wins: a walker holds the release's lease (one walker at a time) and re-reads the state
before every change it makes and throughout every pause and analysis; an abort, pause, promote or skip
written by someone else (router_step, the emergency runbook) ends or redirects the walk and is never
overwritten. Every write is a compare-and-swap on the state's revision (release_store)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import time

from ansible_collections.progressive.delivery.plugins.module_utils import evidence
from ansible_collections.progressive.delivery.plugins.module_utils.failpoints import failpoint
from ansible_collections.progressive.delivery.plugins.module_utils.guard import GuardTripped
from ansible_collections.progressive.delivery.plugins.module_utils.release.decisions import Decisions
from ansible_collections.progressive.delivery.plugins.module_utils.release.freeze import active_freeze
from ansible_collections.progressive.delivery.plugins.module_utils.release.plan import (
    ReleaseError, dark_until, mirror_of, mirror_steps, pause_seconds, validate_plan)
from ansible_collections.progressive.delivery.plugins.module_utils.release.state import (
    FAILED_HELD, FAILING, HEALTHY, PAUSED, PROGRESSING, ReleaseState)
from ansible_collections.progressive.delivery.plugins.module_utils.release_store import (
    LEASE_SECONDS, StateConflict, WalkerBusy, actor, describe_holder, holder, revision_of)
from ansible_collections.progressive.delivery.plugins.module_utils.routers import Routing, RouterError


class Interrupted(BaseException):
    """Someone else changed the release, or the controller went away, while the walker waited.

    A BaseException, as KeyboardInterrupt is: it must pass through the analysis engine, which turns
    every error of a measurement into an Error measurement."""


class Frozen(ReleaseError):
    """A release refused because it would start inside a freeze window; nothing was changed."""

    def __init__(self, window, t, version):
        self.window = window.to_dict(t)
        super(Frozen, self).__init__("release of %s refused: freeze %s is in effect; nothing was changed. Release "
                                     "after it ends (a release already in progress is not stopped by a freeze)"
                                     % (version, window.describe(t)))


class Release(Decisions):
    """One release over one router. ``analyze(step, state, sleep)`` returns ``{phase, message, metrics}``.

    ``alive()`` says whether the controller that started the walk (ansible-playbook) is still there;
    ``poll`` is how often a waiting walker looks at the state again."""

    def __init__(self, router, steps=None, strategy=None, analyze=None, cohorts=None, clock=None, sleep=None,
                 on_error="abort", alive=None, poll=1.0, guard=None, on_failure="abort", freeze=None, traffic=None):
        """Without ``steps``/``strategy``, those of the release in progress (an operator's action on it)."""
        self.router = router
        self.store = router.state_store()
        self.state = ReleaseState.from_dict(self.store.read())
        self.revision = self.state.revision if self.state else 0
        saved = self.state or ReleaseState()
        self.strategy = strategy or saved.strategy or "canary"
        self.steps = validate_plan(steps or saved.steps or [{"setWeight": 100}], self.strategy)
        self.analyze = analyze
        self.cohorts = cohorts or saved.cohorts or {}
        self.clock = clock or time.time
        self.sleep = sleep or time.sleep
        self.on_error = on_error
        self.on_failure = on_failure  # a Failed analysis: abort, or hold the canary at its weight for a person
        self.freeze = freeze or []  # freeze.Window: no release starts inside one
        self.traffic = traffic  # traffic(state) -> {requests, canary_share}: the split measured, for display
        self.held_here = False  # this walk held the canary after a Failed analysis
        self.alive = alive or (lambda: True)
        self.poll = poll
        self.guard = guard  # a guard.Guard: looks during every wait, may only abort
        self.walker = None
        self.changed = False
        self.already_stable = False
        self.diffs = []

    # ------------------------------------------------------------------ state

    def event(self, name, **details):
        return self.state.event(name, self.clock(), **details)

    def save(self):
        """Write the state over the revision read; StateConflict when someone else wrote since."""
        failpoint("state_save")
        self.revision = self.state.revision = self.store.write(self.state.to_dict(), self.revision)
        failpoint("state_saved")

    def refresh(self):
        """Read the state again; True when someone else changed it since we last read or wrote it."""
        stored = self.store.read()
        if revision_of(stored) == self.revision and stored is not None:
            return False
        if stored is None and self.state is None:
            return False
        if stored is None:
            raise ReleaseError("the state of release '%s' beside the %s router was removed while a release was "
                               "walking; nothing more is changed" % (self.router.release, self.router.kind))
        self.state, self.revision = ReleaseState.from_dict(stored), revision_of(stored)
        return True

    def check_mirrors(self):
        """A router that cannot mirror (or not this mirror) refuses a plan with setMirrorRoute steps before anything
        is written: ReleaseError names the router and the fix."""
        for mirror in mirror_steps(self.steps):
            try:
                self.router.check_mirror(mirror)
            except RouterError as e:
                raise ReleaseError(str(e))

    def routing(self, weight, active=True):
        mirror = self.state.mirror if self.state else None  # Routing drops it when inactive or at 100%
        # a plan that mirrors first serves no user from the canary until its first weight, cohorts included
        until = dark_until(self.steps)
        dark = until is not None and (self.state is None or self.state.step_index <= until)
        return Routing(weight, active, self.cohorts.get("header"), self.cohorts.get("always_canary"),
                       self.cohorts.get("never_canary"), mirror, dark)

    def route(self, weight, active=True):
        change = self.router.reconcile(self.routing(weight, active))
        if change.changed:
            self.changed = True
            self.diffs.append(change.diff(self.router.describe()))
        return change

    def enforce(self):
        """Make the router say what the stored state says (after someone else's change)."""
        st = self.state
        if st.aborted:
            return self.route(0, active=False)
        return self.route(st.canary_weight or 0)

    @contextlib.contextmanager
    def operator(self):
        """An operator's change: under the store's mutex, from the latest state, written back."""
        with self.store.mutex():
            self.refresh()
            yield self.state

    # ------------------------------------------------------------------ one walker at a time

    @contextlib.contextmanager
    def walking(self):
        """Hold the release's walker lease for the ``with`` block; refused while another walker holds it."""
        me = holder(self.clock())
        try:
            stale = self.store.acquire_walker(me)
        except WalkerBusy as e:
            raise ReleaseError(str(e))
        self.walker = me
        try:
            if stale:
                with self.store.mutex():
                    self.refresh()
                    if self.state:
                        self.event("walker_taken_over", previous=describe_holder(stale), by=me["who"])
                        self.save()
            yield me
        finally:
            self.walker = None
            self.store.release_walker(me)

    def _renew(self):
        if self.walker and self.clock() - self.walker.get("renewed_t", 0) >= LEASE_SECONDS / 3.0:
            self.walker["renewed_t"] = round(self.clock(), 3)
            self.store.renew_walker(self.walker)

    def wait(self, seconds):
        """Sleep, looking at the state every ``poll`` seconds; Interrupted when someone else changed it
        or the controller has gone."""
        deadline = self.clock() + seconds
        while True:
            if not self.alive():
                raise Interrupted("controller_gone")
            if revision_of(self.store.read()) != self.revision:
                raise Interrupted("changed")
            if self.guard:
                self.guard.look(self.state)
            self._renew()
            left = deadline - self.clock()
            if left <= 0:
                return
            self.sleep(min(self.poll, left))

    # ------------------------------------------------------------------ starting

    def begin(self, stable_version, canary_version, approved=True):
        """Start a release of canary_version, or pick up the one in progress. Returns False when the
        release is already finished (promoted) and nothing is to be done."""
        with self.store.mutex():
            self.refresh()
            st = self.state
            if st and st.stable_version == canary_version and st.canary_version != canary_version \
                    and (st.phase == HEALTHY or st.aborted):
                # already what serves (a later release of another version was rolled back): re-running
                # an earlier playbook must not start a release that would put the old stable back
                self.already_stable = True
                return False
            if st and st.canary_version == canary_version:
                # finished (promoted, or aborted until someone retries it): nothing to do, the verdict stands
                return st.phase != HEALTHY and not st.aborted
            if st and st.phase in (PROGRESSING, PAUSED) and not st.aborted:
                raise ReleaseError("release '%s' is still rolling out %s (step %d, %s); abort or promote it before "
                                   "releasing %s" % (self.router.release, st.canary_version, st.step_index,
                                                     st.phase, canary_version))
            if st and st.phase == HEALTHY and not st.aborted:
                self.router.check_next_release(st.canary_version, canary_version)
            self.check_mirrors()
            frozen = active_freeze(self.freeze, self.clock())
            if frozen:
                raise Frozen(frozen, self.clock(), canary_version)
            if self.strategy == "blueGreen" and not approved:
                raise ReleaseError("a blue-green release switches all traffic at once: a person must approve it "
                                   "(approved: true)")
            self.state = ReleaseState(release=self.router.release, strategy=self.strategy, router=self.router.kind,
                                      stable_version=stable_version, canary_version=canary_version,
                                      steps=self.steps, cohorts=self.cohorts, revision=self.revision)
            self.changed = True
            self.event("started", stable_version=stable_version, canary_version=canary_version, by=actor())
            self.route(0)
            self.save()
            return True

    def preview_next(self, stable_version, canary_version, approved=True):
        """Check mode: what the walk would do next - the release started (or picked up) and the next routing
        change predicted; pauses and analyses are not run. Returns the next step."""
        self.begin(stable_version, canary_version, approved)
        nxt = self.state.next_step()
        if self.state.phase == PROGRESSING and not self.state.aborted and "setWeight" in nxt:
            self.route(nxt["setWeight"])
        return nxt

    # ------------------------------------------------------------------ walking the plan

    def run(self, until=None):
        """Apply steps from the current one; stop at ``until`` (a step index), at a pause without
        duration, at an Inconclusive analysis (Paused), at a failure (aborted), at someone else's abort,
        pause or promote, or at the end. An error on the way aborts to stable (``on_error: abort``) or
        holds the release Paused (``pause``), and says why."""
        end = len(self.steps) if until is None else min(until, len(self.steps))
        while True:
            try:
                with self.store.mutex():
                    self.refresh()
                    st = self.state
                    # a walk by steps (``until``) returns the moment it holds, so the hold is a step of its own
                    holding = self.holding() and not (until is not None and self.held_here)
                    if (st.phase != PROGRESSING or st.aborted) and not holding:
                        break
                    if holding:
                        long_step = None
                    elif st.step_index >= len(self.steps):
                        self.promote()
                        break
                    elif st.step_index >= end:
                        break
                    else:
                        index = st.step_index
                        long_step = self.start(index)
                if holding:
                    self.hold()  # until a person's decision (Interrupted) or the guard's abort (GuardTripped)
                    continue
                if long_step is not None:
                    outcome = long_step()
                    with self.store.mutex():
                        if self.refresh():
                            continue  # someone else decided meanwhile: their state stands
                        self.finish(index, outcome)
            except Interrupted as e:
                if str(e) == "controller_gone":
                    self.stop_walking("the controller (ansible-playbook) went away")
                    raise ReleaseError("the controller went away; release '%s' stays at step %d, weight %d%%, "
                                       "and a re-run resumes it" % (self.router.release, self.state.step_index,
                                                                    self.state.canary_weight))
                continue  # look at the new state at the top of the loop
            except GuardTripped as tripped:
                with self.store.mutex():
                    self.refresh()
                    if self.state.active:  # a person's decision meanwhile stands
                        self.trip(tripped.trip)
                continue
            except StateConflict:
                with self.store.mutex():
                    self.refresh()
                    self.enforce()  # what we routed before the conflict may contradict their change
                continue
            except (ReleaseError, WalkerBusy):
                raise
            except Exception as e:  # pylint: disable=broad-except
                self.fail_safe(e)
                break
        return self.state

    def start(self, index):
        """Do a step's quick part under the mutex; returns the long part (a pause, an analysis) to run
        outside it, or None when the step is done."""
        st = self.state
        step = self.steps[index]
        self.changed = True
        if "setWeight" in step:
            weight = step["setWeight"]
            change = self.route(weight)
            st.canary_weight = weight
            if weight > 0 and st.canary_traffic_since is None:
                st.canary_traffic_since = self.clock()
            self.event("set_weight", step=index, weight=weight, router_changed=change.changed)
            st.step_results.append({"step": index, "weight": weight, "analysis_phase": None})
            st.step_index = index + 1
            self.save()
            return None
        if "setMirrorRoute" in step:
            mirror = mirror_of(step, index)
            st.mirror = mirror.to_dict() if mirror else None
            change = self.route(st.canary_weight or 0)
            if mirror:
                self.event("mirror_set", step=index, router_changed=change.changed, route=mirror.name,
                           percentage=mirror.percentage, methods=mirror.methods, headers=mirror.headers)
                if st.canary_traffic_since is None:  # the canary answers copies from now: detection counts from here
                    st.canary_traffic_since = self.clock()
            else:
                self.event("mirror_removed", step=index, route=step["setMirrorRoute"].get("name"),
                           router_changed=change.changed)
            st.step_results.append({"step": index, "weight": st.canary_weight, "mirror": st.mirror,
                                    "analysis_phase": None})
            st.step_index = index + 1
            self.save()
            return None
        if "pause" in step:
            duration = (step["pause"] or {}).get("duration")
            if duration is None:
                st.update(phase=PAUSED, message="CanaryPauseStep")
                self.event("paused", step=index, reason="CanaryPauseStep")
                self.save()
                return None
            seconds = pause_seconds(duration)
            self.event("pause", step=index, seconds=seconds, weight=st.canary_weight)
            self.save()
            return lambda: self.hold_for(seconds)
        self.save()
        return lambda: self.measure(step)

    def measure(self, step):
        if not self.analyze:
            return {"phase": "Successful", "message": "no analysis"}
        verdict = self.analyze(step, self.state, sleep=self.wait)
        # a measurement may outlast a poll: look once more before the verdict is acted on
        self.wait(0)
        return verdict

    def hold_for(self, seconds):
        """A timed pause; then, when the release has a traffic query, the split measured over it."""
        self.wait(seconds)
        if not self.traffic:
            return None
        try:
            return {"traffic": self.traffic(self.state)}
        except Exception as e:  # pylint: disable=broad-except
            return {"traffic": {"error": "%s: %s" % (type(e).__name__, str(e)[:300])}}  # display only: never decides

    def finish(self, index, verdict):
        """The end of a pause (``verdict`` None, or the traffic measured) or an analysis, from the state as it is
        now."""
        st = self.state
        if verdict is None or "traffic" in verdict:
            if verdict:
                self.event("traffic", step=index, weight=st.canary_weight, **verdict["traffic"])
            st.step_index = index + 1
            self.save()
            return
        found = st.record_analysis(index, verdict, self.clock())
        if verdict["phase"] == "Failed" and self.on_failure == "pause":
            # Argo Rollouts #2866: a person looks before anything rolls back; the guard still aborts on evidence
            checks = evidence.failed_metrics_text(found)
            st.update(phase=PAUSED, message="%s: analysis Failed at step %d/%d (%s); held at %d%%. Look, then "
                      "router_step action=abort to roll back, or action=resume to go on" % (
                          FAILED_HELD, index + 1, len(self.steps), checks or verdict.get("message", ""),
                          st.canary_weight))
            self.event("paused", step=index, reason=FAILED_HELD, failed=checks, weight=st.canary_weight)
            self.held_here = True
            st.step_index = index + 1
            self.save()
            return
        if verdict["phase"] in FAILING:
            self.abort("analysis %s at step %d/%d: %s" % (verdict["phase"], index + 1, len(self.steps),
                                                          verdict.get("message", "")),
                       detected_at=found["t"])
            return
        if verdict["phase"] == "Inconclusive":
            st.update(phase=PAUSED, message="InconclusiveAnalysisRun")
            self.event("paused", step=index, reason="InconclusiveAnalysisRun")
        st.step_index = index + 1
        self.save()

    def holding(self):
        """Held after a Failed analysis (on_failure: pause) with a guard to watch: the walker stays, the guard
        measuring, until a person resumes, promotes or aborts, or the guard aborts."""
        st = self.state
        return bool(self.guard) and st.phase == PAUSED and not st.aborted and st.message.startswith(FAILED_HELD)

    def hold(self):
        self.wait(LEASE_SECONDS)  # Interrupted by a person's decision, GuardTripped by the guard

    def trip(self, evidence):
        """The guard's abort, with the measurements that decided it."""
        conditions = evidence["measurements"][-1].get("conditions") or {}
        self.event("guard_tripped", metric=evidence["metric"], measurements=evidence["measurements"],
                   checks=evidence["checks"], conditions={evidence["metric"]: conditions})
        self.abort(evidence["reason"], detected_at=evidence["at"], by="guard")

    def fail_safe(self, error):
        """An error in the middle of a walk: never leave the canary serving unattended."""
        st = self.state
        where = "step %d/%d (%s)" % (st.step_index + 1, len(self.steps), evidence.step_text(self.steps[st.step_index])) \
            if st.step_index < len(self.steps) else "the promotion"
        reason = "error at %s: %s: %s" % (where, type(error).__name__, error)
        with self.store.mutex():
            self.refresh()
            if self.state.phase == HEALTHY or self.state.aborted:
                return  # someone else already decided
            if self.on_error == "pause":
                self.state.update(phase=PAUSED, message="error: %s" % reason)
                self.event("paused", reason="error", error=reason)
                self.save()
                return
            try:
                self.abort(reason, by="walker (on_error: abort)")
            except Exception as e:  # pylint: disable=broad-except
                # the router refused the abort too: say so in the state, hold it for a person
                self.state.update(phase=PAUSED, message="error: %s; the abort to stable failed too: %s" % (reason, e))
                self.event("paused", reason="error", error=reason, abort_error=str(e))
                self.save()
                raise ReleaseError("%s; the abort to stable failed too: %s - route traffic to stable by hand "
                                   "(router_step action=abort once the router answers)" % (reason, e))

    def stop_walking(self, why):
        with self.store.mutex():
            self.refresh()
            self.event("walker_stopped", reason=why, step=self.state.step_index)
            self.save()
