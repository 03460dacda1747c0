# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions on a release, made by the walker (an analysis, the guard, an error) or by a person
(router_step, the emergency runbook), each on the latest state and written back as one compare-and-swap:
abort, promote, pause, skip, resume, retry, set_weight. Mixed into walker.Release, which gives them
``state``, ``route``, ``event``, ``save`` and ``clock``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.release.state import (
    DEGRADED, HEALTHY, PAUSED, PROGRESSING, iso)


class Decisions(object):
    def abort(self, reason, detected_at=None, by=None):
        """All traffic back on stable, cohorts included, in one router update. An abort of a release
        already aborted routes again (a re-run with corrected addresses repairs a wrong rollback)."""
        st = self.state
        if st.aborted:
            self.route(0, active=False)
            return st
        detected_at = detected_at or self.clock()
        st.mirror = None  # the copies stop in the same router update as the split
        self.route(0, active=False)
        restored_at = self.clock()
        self.changed = True
        since = st.canary_traffic_since
        message = "RolloutAborted: %s" % reason
        if by:
            message += " (by %s at %s)" % (by, iso(restored_at))
        st.update(phase=DEGRADED, aborted=True, message=message, canary_weight=0,
                  time_to_detect_s=round(detected_at - since, 3) if since else None,
                  time_to_restore_s=round(restored_at - detected_at, 3))
        self.event("aborted", reason=reason, by=by or "analysis", time_to_restore_s=st.time_to_restore_s)
        self.save()
        return st

    def promote(self, by=None):
        """100% on the canary, which becomes the stable version."""
        st = self.state
        st.mirror = None
        self.route(100)
        self.changed = True
        st.update(phase=HEALTHY, message="", canary_weight=100, step_index=len(self.steps),
                  stable_version=st.canary_version)
        self.event("promoted", version=st.canary_version, **({"by": by} if by else {}))
        self.save()
        return st

    def pause(self, by):
        """Hold the release at its current weight until a resume; a walker stops at its next look."""
        st = self.state
        if st.phase != PROGRESSING or st.aborted:
            return st
        st.update(phase=PAUSED, message="manually paused by %s at %s" % (by, iso(self.clock())))
        self.changed = True
        self.event("paused", reason="manual", by=by, step=st.step_index, weight=st.canary_weight)
        self.save()
        return st

    def skip(self, by):
        """Past the current step (Argo's promote without --full): a pause or an analysis ends now."""
        st = self.state
        if st.aborted or st.phase == HEALTHY or st.step_index >= len(self.steps):
            return st
        if st.phase == PAUSED:
            return self.resume(by)
        self.changed = True
        self.event("step_skipped", step=st.step_index, by=by)
        st.step_index += 1
        self.save()
        return st

    def resume(self, by=None):
        """Clear a pause (the operator's promote on a paused step); the next run goes on."""
        st = self.state
        if st.phase != PAUSED:
            return st
        if st.message == "CanaryPauseStep":
            st.step_index += 1
        st.update(phase=PROGRESSING, message="")
        self.changed = True
        self.event("resumed", **({"by": by} if by else {}))
        self.save()
        return st

    def retry(self, by=None):
        """An aborted release starts again from step 0 (as Argo's retry)."""
        st = self.state
        if not st.aborted:
            return st
        st.update(phase=PROGRESSING, aborted=False, message="", step_index=0, canary_weight=0, mirror=None,
                  canary_traffic_since=None, time_to_detect_s=None, time_to_restore_s=None, step_results=[])
        self.changed = True
        self.route(0)
        self.event("retried", **({"by": by} if by else {}))
        self.save()
        return st

    def set_weight(self, weight, by):
        """The canary's share by hand, outside the plan."""
        self.route(weight, active=True)
        st = self.state
        if st:
            if st.canary_weight != weight:
                st.canary_weight = weight
                self.event("set_weight", weight=weight, manual=True, by=by)
                self.save()
