#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: bluegreen_promote
short_description: Promote an Argo Rollouts blue-green rollout behind availability, analysis and approval gates
version_added: 0.1.0
author:
  - progressive.delivery contributors (@progressive-delivery)
description:
  - Refuses to promote, writing nothing, unless the preview ReplicaSet is fully available, the pre-promotion
    analysis is Successful (the rollout's own AnalysisRun, or O(pre_promotion_analysis) run here by the
    collection's analysis engine) and, when C(autoPromotionEnabled) is false, O(approved) is true - the
    human gate for stateful workloads, whose writes must never be split.
  - Then promotes as C(kubectl argo rollouts promote) does, waits for the active Service to select the new
    pods, and judges the post-promotion analysis (the rollout's own, or O(post_promotion_analysis)).
  - When the post-promotion analysis fails it aborts the rollout, waits until the active Service selects the
    previous pods again, and reports what it did and how long each part took.
  - A rollout already promoted reports C(changed=false). An aborted rollout is refused until it is retried.
  - O(namespace) is the rollout's namespace, where its AnalysisTemplates and secrets are read too.
  - "Templates given inline must be marked C(!unsafe): Ansible would otherwise render C({{args.x}})."
  - "Arguments C(preview-hash), C(canary-hash), C(active-hash) and C(stable-hash) that a template declares
    without a value and O(pre_promotion_analysis.args) leaves out are filled from the rollout: before promotion
    preview and canary are the new pods and active and stable the old ones; after it active is the new pods."
options:
  name:
    description: Name of the rollout.
    type: str
    required: true
  approved:
    description:
      - A person approves this promotion. Required when the rollout has C(autoPromotionEnabled=false).
    type: bool
    default: false
  require_pre_promotion_analysis:
    description:
      - Refuse when there is no pre-promotion analysis at all (neither the rollout's nor O(pre_promotion_analysis)).
    type: bool
    default: true
  rollback_on_failure:
    description: Abort and switch the active Service back when the post-promotion analysis fails.
    type: bool
    default: true
  promote_timeout:
    description: Seconds to wait for the active Service to switch (and to switch back on a rollback).
    type: int
    default: 300
  analysis_timeout:
    description: Seconds to wait for the rollout's own post-promotion AnalysisRun to finish.
    type: int
    default: 900
  wait_sleep:
    description: Seconds between two reads of the rollout while waiting.
    type: float
    default: 2
extends_documentation_fragment:
  - progressive.delivery.analysis_gate.promotion
  - progressive.delivery.analysis_gate
  - progressive.delivery.prometheus
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Checks every gate and runs the read-only pre-promotion queries; promotes nothing.
  diff_mode:
    support: none
    description: The result's C(timeline) lists the patches sent.
"""

EXAMPLES = r"""
- name: Promote the orders database front after the release manager's approval
  progressive.delivery.bluegreen_promote:
    name: orders
    namespace: shop
    approved: "{{ release_approved | bool }}"

- name: Gate on our own SLO templates before and after the switch
  progressive.delivery.bluegreen_promote:
    name: orders
    namespace: shop
    approved: true
    prometheus_url: http://prometheus.monitoring:9090
    pre_promotion_analysis:
      template_file: files/slo-templates.yaml
      template_name: [success-rate]        # declares preview-hash: filled from the rollout
    post_promotion_analysis:
      template_file: files/slo-templates.yaml
      template_name: [success-rate, latency-p95]
      args:
        threshold: "0.99"
  register: promotion

- name: Tell the release channel how it went
  ansible.builtin.debug:
    msg: "{{ promotion.outcome }} in {{ promotion.durations.total_seconds }}s"
"""

RETURN = r"""
outcome:
  description: C(promoted), C(already_promoted), C(would_promote) (check mode), C(refused), C(rolled_back) or
    C(post_promotion_failed) (failed, C(rollback_on_failure=false)).
  returned: always
  type: str
msg:
  description: What happened, or every reason for refusing.
  returned: always
  type: str
rollout:
  description: The rollout at the end, as C(rollout_info) reports it.
  returned: when the rollout was read
  type: dict
pre_promotion_analysis:
  description: C(source) (C(rollout), C(inline), C(rollout+inline) or C(none)), C(phase), C(message) and the
    inline run's C(metrics).
  returned: when the gates were checked
  type: dict
post_promotion_analysis:
  description: Same shape as RV(pre_promotion_analysis), for the analysis after the switch.
  returned: after a promotion
  type: dict
rollback:
  description: C(reason), C(to_hash), C(patches) and C(seconds) (from the failed verdict to the active Service
    selecting the previous pods).
  returned: when rolled back
  type: dict
timeline:
  description: Each event (C(pre_promotion_analysis), C(promoted), C(active_switched), C(post_promotion_analysis),
    C(aborted), C(active_restored)) with C(at_s), seconds since the task started.
  returned: always
  type: list
  elements: dict
durations:
  description: C(switch_seconds) (promote to active switched), C(total_seconds).
  returned: always
  type: dict
"""

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.progressive.delivery.plugins.module_utils import argo, bluegreen, rollouts
from ansible_collections.progressive.delivery.plugins.module_utils.analysis import AnalysisSpecError
from ansible_collections.progressive.delivery.plugins.module_utils.gate import Gate, gate_argument_spec, source_option
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import AUTH_ARG_SPEC, KubernetesError, client_for
from ansible_collections.progressive.delivery.plugins.module_utils.redact import protect_module
from ansible_collections.progressive.delivery.plugins.module_utils.templates import TemplateError

TERMINAL = ("Successful", "Failed", "Error", "Inconclusive")


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    # the gate's namespace (default "default") is the rollout's too
    spec.update(gate_argument_spec())
    spec.update(
        name=dict(type="str", required=True),
        approved=dict(type="bool", default=False),
        pre_promotion_analysis=source_option(),
        post_promotion_analysis=source_option(),
        require_pre_promotion_analysis=dict(type="bool", default=True),
        rollback_on_failure=dict(type="bool", default=True),
        promote_timeout=dict(type="int", default=300),
        analysis_timeout=dict(type="int", default=900),
        wait_sleep=dict(type="float", default=2),
    )
    return spec


class Promotion(object):
    """One run of the module: the rollout, its gates and what was done, in order."""

    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.name, self.namespace = self.params["name"], self.params["namespace"]
        self.timeline = bluegreen.Timeline()
        self.result = dict(changed=False, timeline=self.timeline.events, durations={})
        protect_module(module, urls=[self.params.get("prometheus_url")])  # the URL's password, never shown
        self.gate = Gate.from_params(self.params, lambda: client, warn=module.warn)

    def read(self):
        return argo.read_argo(self.client, "Rollout", self.name, self.namespace)

    def finish(self, outcome, msg, failed=False, ro=None):
        self.result.update(outcome=outcome, msg=msg)
        if ro is not None:
            self.result["rollout"] = rollouts.summarize(ro, self.replicasets(ro))
        self.result["durations"]["total_seconds"] = self.timeline.now()
        if failed:
            self.module.fail_json(**self.result)
        self.module.exit_json(**self.result)

    def replicasets(self, ro):
        return argo.replicasets_of(self.client, ro)

    def inline(self, when, summary, promoted):
        """Run the inline analysis for ``when`` (pre/post); returns the report entry."""
        source = self.params["%s_promotion_analysis" % when]
        new, old = summary["canary_hash"], summary["stable_hash"]
        known = {"preview-hash": new, "canary-hash": new, "stable-hash": old,
                 "active-hash": new if promoted else old}
        run = self.gate.run(source, known_args=known, where="%s_promotion_analysis" % when)
        out = run.to_dict()
        return {"source": "inline", "phase": out["phase"], "message": out["message"], "metrics": out["metrics"]}

    def wait(self, done, timeout, what):
        def fatal(ro):
            s = rollouts.summarize(ro)
            return "it is Degraded: %s" % s["message"] if s["status"] == "Degraded" and not s["aborted"] else None
        waited = argo.watch(self.client, self.name, self.namespace, done, timeout, self.params["wait_sleep"], fatal)
        if not waited.reached:
            why = waited.reason if waited.reason != "timeout" else "not within %ss (it is %s)" % (
                timeout, rollouts.describe_position(rollouts.summarize(waited.last)))
            raise KubernetesError("rollout '%s' in namespace '%s': %s %s" % (self.name, self.namespace, what, why))
        return waited

    def run(self):
        ro = self.read()
        summary = rollouts.summarize(ro)
        if bluegreen.is_fully_promoted(summary) and rollouts.strategy(ro) == "BlueGreen":
            return self.finish("already_promoted", "rollout '%s' already serves %s on its active Service"
                               % (self.name, summary["canary_hash"]), ro=ro)
        if summary["aborted"]:
            return self.finish("refused", "refusing to promote rollout '%s': it is aborted; fix the release and "
                               "retry it (rollout_step action=retry) first" % self.name, failed=True, ro=ro)
        previous = summary["stable_hash"] or summary["active_selector"]
        if not bluegreen.is_promoted(summary):
            self.pre_promotion(ro, summary)
            if self.module.check_mode:
                self.result["changed"] = True
                return self.finish("would_promote", "all gates pass; rollout '%s' would be promoted (check mode)"
                                   % self.name, ro=ro)
            _before, _after, patches, _conflicts = argo.act_on(self.client, self.name, self.namespace,
                                                               rollouts.promote)
            self.result["changed"] = True
            promoted_at = self.timeline.add("promoted", patches=[p.to_dict() for p in patches])["at_s"]
            ro = self.wait(lambda r: bluegreen.is_promoted(rollouts.summarize(r)), self.params["promote_timeout"],
                           "the active Service did not switch to the new pods").last
            switched = self.timeline.add("active_switched", active_hash=rollouts.summarize(ro)["active_selector"])
            self.result["durations"]["switch_seconds"] = round(switched["at_s"] - promoted_at, 3)
        post = self.post_promotion(ro)
        if post["phase"] in ("Successful", "skipped"):
            return self.finish("promoted", "rollout '%s' promoted: the active Service serves %s; post-promotion "
                               "analysis %s" % (self.name, rollouts.summarize(ro)["canary_hash"], post["phase"]),
                               ro=self.read())
        reason = "post-promotion analysis %s%s" % (post["phase"], ": %s" % post["message"] if post["message"] else "")
        if not self.params["rollback_on_failure"] or self.module.check_mode:
            return self.finish("post_promotion_failed", "rollout '%s': %s; not rolled back (%s)" % (
                self.name, reason, "check mode" if self.module.check_mode else "rollback_on_failure is false"),
                failed=True, ro=self.read())
        return self.rollback(reason, previous)

    def pre_promotion(self, ro, summary):
        inline = bool(self.params["pre_promotion_analysis"])
        source = bluegreen.check_gates(ro, self.replicasets(ro), self.params["approved"], inline,
                                       self.params["require_pre_promotion_analysis"])
        report = {"source": source or "none", "phase": "skipped", "message": ""}
        _configured, own = bluegreen.own_analysis(ro, "pre")
        if own:
            report.update(phase=own.get("status"), message=own.get("message", ""), analysis_run=own.get("name"))
        if inline:
            entry = self.inline("pre", summary, promoted=False)
            report.update(phase=entry["phase"], message=entry["message"], metrics=entry["metrics"])
        self.result["pre_promotion_analysis"] = report
        self.timeline.add("pre_promotion_analysis", source=report["source"], phase=report["phase"])
        if inline and report["phase"] != bluegreen.SUCCESSFUL:
            raise bluegreen.Refused("refusing to promote rollout '%s': pre-promotion analysis %s%s" % (
                self.name, report["phase"], ": %s" % report["message"] if report["message"] else ""))

    def post_promotion(self, ro):
        configured, _own = bluegreen.own_analysis(ro, "post")
        report = {"source": "none", "phase": "skipped", "message": ""}
        if configured:
            def finished(r):
                return (bluegreen.own_analysis(r, "post")[1] or {}).get("status") in TERMINAL
            ro = self.wait(finished, self.params["analysis_timeout"],
                           "the post-promotion AnalysisRun did not finish").last
            own = bluegreen.own_analysis(ro, "post")[1]
            report.update(source="rollout", phase=own["status"], message=own.get("message", ""),
                          analysis_run=own.get("name"))
        if self.params["post_promotion_analysis"] and report["phase"] in ("Successful", "skipped"):
            entry = self.inline("post", rollouts.summarize(ro), promoted=True)
            report.update(entry, source="rollout+inline" if configured else "inline")
        self.result["post_promotion_analysis"] = report
        self.timeline.add("post_promotion_analysis", source=report["source"], phase=report["phase"])
        return report

    def rollback(self, reason, previous):
        started = self.timeline.add("aborted", reason=reason)["at_s"]
        _before, _after, patches, _conflicts = argo.act_on(self.client, self.name, self.namespace,
                                                           rollouts.abort)
        ro = self.wait(lambda r: rollouts.summarize(r)["active_selector"] == previous, self.params["promote_timeout"],
                       "the active Service did not switch back to %s" % previous).last
        restored = self.timeline.add("active_restored", active_hash=previous)
        seconds = round(restored["at_s"] - started, 3)
        self.result["rollback"] = {"reason": reason, "to_hash": previous, "seconds": seconds,
                                   "patches": [p.to_dict() for p in patches]}
        return self.finish("rolled_back", "rollout '%s': %s; rolled back: the active Service serves %s again "
                           "after %.1fs" % (self.name, reason, previous, seconds), failed=True, ro=ro)


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True, module_class=AnsibleModule)
    try:
        promotion = Promotion(module, client_for(module))
    except (KubernetesError, AnalysisSpecError, ValueError) as e:
        module.fail_json(msg="bluegreen_promote: %s" % e, outcome="error", changed=False)
    try:
        promotion.run()
    except bluegreen.Refused as e:
        promotion.finish("refused", str(e), failed=True)
    except (KubernetesError, rollouts.RolloutError, AnalysisSpecError, TemplateError, ValueError) as e:
        # what was done so far (changed, timeline) stays in the result
        promotion.finish("error", "bluegreen_promote: %s" % e, failed=True)


if __name__ == "__main__":
    main()
