#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: router_release
short_description: Walk a canary or blue-green plan over a traffic router, with Ansible as the controller
version_added: 0.1.0
author:
  - progressive.delivery contributors (@progressive-delivery)
description:
  - For teams without the Argo Rollouts controller (VM fleets behind nginx, clusters where CRDs are restricted).
    The same step plan as Argo Rollouts (C(setWeight), C(pause), C(analysis), C(setMirrorRoute)) and the same
    AnalysisTemplate gate as M(progressive.delivery.analysis_check), applied to a traffic router.
  - By default 10, 25, 50, 75 then 100 percent, with a pause and an analysis after each weight. A failing analysis
    aborts the release at once - all traffic back on stable in one router update - and the result says how long
    detection and the restore took. An Inconclusive analysis or a pause without duration leaves the release
    Paused for a person (M(progressive.delivery.router_step) C(action=resume)).
  - Blue-green never splits traffic - 0% then 100% - with an analysis of the preview before and of the new
    version after the switch, and needs O(approved).
  - The state is saved after every step beside the router, so running the task again resumes where an
    interrupted job stopped, and a finished release reports C(changed=false).
  - A person stays in charge. The walker re-reads the state before every change and during every pause and
    analysis; an abort, pause or promote made meanwhile with M(progressive.delivery.router_step) (or by the
    emergency runbook) ends or redirects the walk and is never overwritten. One walker at a time - a second
    run of the same release while one walks is refused with the name of the first (user, host, pid, AWX job,
    since when); the lease of a walker that was killed is taken over, and the history says so.
  - "Every analysis step runs through the same gate as M(progressive.delivery.analysis_check), with the same
    options (O(namespace), O(max_duration), O(on_empty)). Arguments C(canary-version), C(stable-version) and
    C(release) are filled from the release when a template declares them without a value."
  - When ansible-playbook goes away mid-walk (killed, or the connection hung up), the walker stops where it is,
    with a consistent state, and a re-run resumes it.
options:
  strategy:
    description: C(canary) steps through weights; C(blueGreen) flips 0 to 100 behind analyses.
    type: str
    choices: [canary, blueGreen]
    default: canary
  stable_version:
    description: Version now serving (for the state, reports and the C(stable-version) template argument).
    type: str
    required: true
  canary_version:
    description: Version being released. A new version starts a new release; the same one resumes it.
    type: str
    required: true
  steps:
    description:
      - "The plan, as Argo Rollouts canary steps - C({setWeight: 10}), C({pause: {duration: 30s}}),
        C({pause: {}}) (wait for a person), C({analysis: {templates: [{templateName: x}], args: [...]}}),
        C({setMirrorRoute: {name: dark, percentage: 20}}) and its removal C({setMirrorRoute: {name: dark}})."
      - A dark canary. C(setMirrorRoute) copies C(percentage) (1 to 100, default 100) of
        the matching requests to the canary while users are served as the weights say; the canary's answers to the
        copies are thrown away. An analysis in that phase judges the canary before any user is served by it, and
        an abort then has served none. A step with only the name removes the copies; an abort and the promotion
        remove them in the same router update as the weights.
      - "Mirroring is for idempotent requests - a copy of a POST, PUT, PATCH or DELETE changes the data a second
        time. Without C(match) only GET and HEAD are copied; C(match: [{method: {exact: GET}}, {method: {exact:
        PUT}}]) names the methods (one entry a method, each with the same C(headers: {x-tenant: {exact: a}})
        when given). Path matches are refused here (the Argo Rollouts path takes them).
        M(progressive.delivery.rollout_lint) warns about a plan that copies writes (C(mirror-writes))."
      - "Routers: C(nginx) (the C(mirror) directive; each copy carries the header C(x-pd-mirrored: 1)),
        C(istio) (a VirtualService route per mirror with C(mirror) to the canary subset and C(mirrorPercentage)),
        C(gateway_api) (an HTTPRoute rule with the C(RequestMirror) filter to the canary Service and C(percent)).
        On Istio and Envoy-based Gateway API implementations a copy's Host gets the suffix C(-shadow), which is how
        the app tells copies apart. C(ingress_nginx) and C(openshift_route) cannot mirror; a plan with a
        C(setMirrorRoute) step is refused there before anything is written. A blue-green plan has no mirror step."
      - Without it, the plan is built from O(weights), O(pause) and O(analysis).
    type: list
    elements: dict
  weights:
    description: Canary weights of the default plan, before the final 100.
    type: list
    elements: int
    default: [10, 25, 50, 75]
  pause:
    description: Pause after each weight of the default plan (a Go duration).
    type: str
    default: 30s
  on_error:
    description:
      - What an error in the middle of a walk does (a router that refuses a change, an analysis that cannot
        run). C(abort) sends all traffic back to stable and says why; C(pause) holds the release Paused at its
        weight for a person. Either way the release never walks on by itself after an error.
    type: str
    choices: [abort, pause]
    default: abort
  on_failure:
    description:
      - What a Failed analysis does (a measured failure; an analysis in Error follows the error rules).
        C(abort), the default, sends all traffic back to stable at once.
      - C(pause) (Argo Rollouts issue 2866) holds the canary at its weight, phase C(Paused), with a message naming the
        failed metric, its value and threshold, for a person to decide -
        M(progressive.delivery.router_step) C(action=abort) rolls back, C(action=resume) goes on past the
        analysis. While held with a O(guard), the walker stays and the guard keeps measuring - it still aborts on
        conclusive evidence - until a person decides (the task waits with it; stopping the job leaves the canary
        held, and the state says so). Without a guard the task returns C(verdict=paused) at once. With
        O(until_step) (a walk by steps, as the roles do) the call that held returns at once, so the failure shows,
        and the next call on the held release is the hold.
    type: str
    choices: [abort, pause]
    default: abort
  traffic_query:
    description:
      - A PromQL query giving the requests per version, one series per version (the increase of a request
        counter summed by its version label, over about the pause; see EXAMPLES), asked at the end of each timed
        pause. The timeline then says the split measured beside the weight set (C(25% set, 24.1% measured of 812
        requests)) - the canary's share is that of the series with a label whose value is O(canary_version).
      - For display only; it never decides anything, and an error asking it is shown, not raised.
      - Asked through the O(prometheus_url) options (needs one).
    type: str
  freeze_windows:
    description:
      - Release freezes (Argo Rollouts issue 495). A release that would B(start) inside one is refused - the task
        fails with C(changed=false), nothing is touched, and the message gives the reason and the window. A
        release already in progress is not stopped when a freeze begins (resuming or finishing it is allowed);
        abort it by hand if the freeze demands it.
      - "One window: C({start: 2026-12-24T00:00:00+01:00, end: 2026-12-27T00:00:00+01:00, reason: year-end}),
        ISO-8601 times with a zone (C(Z) or C(+hh:mm)); a time without a zone is refused, never guessed."
      - "Weekly: C({weekly: {days: [fri], start: '18:00', end: '08:00', utc_offset: '+01:00'}, reason: weekend}),
        from O(freeze_windows[].weekly.start) on each listed day to O(freeze_windows[].weekly.end), the next day
        when it is not after the start."
    type: list
    elements: dict
    default: []
    suboptions:
      start:
        description: When the freeze begins (ISO-8601 with a zone).
        type: str
      end:
        description: When it ends (not included).
        type: str
      reason:
        description: Why; said to whoever is refused.
        type: str
        required: true
      weekly:
        description: A weekly freeze instead of O(freeze_windows[].start) and O(freeze_windows[].end).
        type: dict
        suboptions:
          days:
            description: Days it begins on (C(mon) ... C(sun)).
            type: list
            elements: str
          start:
            description: Time of day it begins, C(HH:MM).
            type: str
          end:
            description: Time of day it ends, C(HH:MM).
            type: str
          utc_offset:
            description: The offset the times are in, C(+01:00); UTC without it.
            type: str
  guard:
    description:
      - Fail fast, pass slow. Wherever the plan has an analysis, the gate's metrics are also measured on a
        short interval of their own through every pause and analysis step while the canary takes traffic
        (after the switch, for blue-green). The guard can only abort - when one metric fails O(guard.failures)
        measurements in a row - never promote or shorten a step; a measurement in Error neither counts nor
        clears a streak (the step analysis fails closed on missing data). The abort names the metric and keeps
        the measurements that decided in the history (C(guard_tripped)).
      - A template reserves metrics to the guard or to the steps with the annotations
        C(progressive.delivery/guard-only) and C(progressive.delivery/step-only) (comma-separated metric names).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Whether the guard runs.
        type: bool
        default: true
      interval:
        description: How often the guard measures (a Go duration); about the scrape interval.
        type: str
        default: 15s
      failures:
        description: Failed measurements of one metric in a row that abort the release.
        type: int
        default: 2
  approved:
    description: A person approves a blue-green release (required for O(strategy=blueGreen)).
    type: bool
    default: false
  until_step:
    description:
      - Stop once the release has reached this step index (the steps before it applied); running it again
        changes nothing. Without it, the whole plan.
    type: int
extends_documentation_fragment:
  - progressive.delivery.router
  - progressive.delivery.router.targets
  - progressive.delivery.analysis_gate.analysis
  - progressive.delivery.analysis_gate
  - progressive.delivery.prometheus
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Reports the next routing change as a diff; applies, waits and analyses nothing.
  diff_mode:
    support: full
    description: The router's configuration or object before and after each change.
"""

EXAMPLES = r"""
- name: Canary of checkout 1.4.2 on the VM fleet's nginx
  progressive.delivery.router_release:
    release: checkout
    router: nginx
    nginx:
      config_dir: /etc/nginx/conf.d
      listen: 0.0.0.0:8080
      stable: [10.0.0.11:8000, 10.0.0.12:8000]
      canary: [10.0.0.13:8000]
    cohorts:
      always_canary: [internal]
      never_canary: [enterprise]
    stable_version: 1.4.1
    canary_version: 1.4.2
    pause: 2m
    analysis:
      template_file: files/slo-templates.yaml
    prometheus_url: http://prometheus.internal:9090
    prometheus_token: "{{ prometheus_token }}"
    # the split measured after each pause, beside the weight set
    traffic_query: sum by (version) (increase(http_requests_total{app="checkout"}[2m]))
    on_failure: pause                # a failed analysis holds the canary for a person
    freeze_windows:
      - start: "2026-12-24T00:00:00+01:00"
        end: "2026-12-27T00:00:00+01:00"
        reason: year-end freeze
      - weekly: {days: [fri], start: "16:00", end: "08:00", utc_offset: "+01:00"}
        reason: no releases into the weekend
  register: release

- name: A dark canary on Istio - judged on copies of GET and HEAD requests before any user is served by it
  progressive.delivery.router_release:
    release: checkout
    router: istio
    kubernetes_target:
      namespace: shop
      name: checkout
      stable_service: checkout
      canary_service: checkout-canary
    stable_version: "1.4.1"
    canary_version: "1.4.2"
    steps:
      - setMirrorRoute: {name: dark, percentage: 50}   # GET and HEAD unless match names the methods
      - pause: {duration: 2m}
      - analysis: {templates: [{templateName: success-rate}]}
      - setMirrorRoute: {name: dark}                   # the copies stop
      - setWeight: 10
      - pause: {duration: 2m}
      - analysis: {templates: [{templateName: success-rate}]}
    analysis:
      template_name: [success-rate]
    namespace: shop

- name: Blue-green on Istio, approved by the release manager
  progressive.delivery.router_release:
    release: orders
    router: istio
    strategy: blueGreen
    approved: true
    kubernetes_target:
      namespace: shop
      name: orders
      stable_service: orders
      canary_service: orders-preview
    stable_version: "7"
    canary_version: "8"
    analysis:
      template_name: [success-rate]
    namespace: shop                  # of the AnalysisTemplates (formerly analysis_namespace)
"""

RETURN = r"""
configured:
  description: Whether the router has routing for the release.
  returned: always
  type: bool
verdict:
  description:
    - C(promoted), C(rolled_back), C(paused), C(in_progress) (stopped at O(until_step)); C(refused) when a
      freeze window refused the start.
    - C(already_stable) when O(canary_version) is already what serves, after a later release of another
      version was rolled back or promoted over it; nothing is changed (running an earlier playbook again
      never puts an old version back).
  returned: always
  type: str
phase:
  description: Healthy, Progressing, Paused or Degraded, as Argo Rollouts names them.
  returned: always
  type: str
message:
  description: Why (C(RolloutAborted - analysis Failed at step 3/9 ...), C(CanaryPauseStep), ...).
  returned: always
  type: str
weights:
  description: C(stable) and C(canary) as the router has them now.
  returned: always
  type: dict
time_to_detect_s:
  description: From the canary's first traffic to the failed analysis verdict.
  returned: always
  type: float
time_to_restore_s:
  description: From the verdict to all traffic back on stable (router updated and verified).
  returned: always
  type: float
canary_version:
  description: The version this release puts out (of the release in progress or last finished).
  returned: always
  type: str
previous_stable_version:
  description: The version that served before this release (after a promotion the state's stable is the new one).
  returned: always
  type: str
started_t:
  description: When the release started (seconds since the epoch), from its history.
  returned: always
  type: float
finished_t:
  description: When it was promoted or rolled back (seconds since the epoch); null while it goes on.
  returned: always
  type: float
decided_by:
  description: Who ended it - C(analysis), C(guard), C(plan) (promoted by the plan) or a person; null while it goes on.
  returned: always
  type: str
progress:
  description:
    - Where the walk stands, for a timeline - C(step_index) (steps done), C(steps) (how many), C(plan) (each step
      described), C(next) (the step to come, or C(promotion)), C(weight), C(elapsed) since the start, and
      C(lines) - what this run did, one line per event as an operator reads it (weights, analysis values
      rounded with their thresholds, the verdict, the time since the start).
  returned: always
  type: dict
  sample:
    step_index: 4
    steps: 13
    next: pause 30s
    plan: [setWeight 10, pause 30s, analysis]
    weight: 25
    elapsed: 1m04s
    lines: ["25% set; 1m04s"]
freeze:
  description: The freeze window that refused the release (C(reason), C(start), C(end)); only then.
  returned: when refused by a freeze
  type: dict
state:
  description: The release state kept beside the router - versions, step index, step results, timestamped history.
  returned: always
  type: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.progressive.delivery.plugins.module_utils import controller, release as rel
from ansible_collections.progressive.delivery.plugins.module_utils.analysis import AnalysisSpecError
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import KubernetesError
from ansible_collections.progressive.delivery.plugins.module_utils.release_store import StateError
from ansible_collections.progressive.delivery.plugins.module_utils.routers import RouterError
from ansible_collections.progressive.delivery.plugins.module_utils.templates import TemplateError

ERRORS = (rel.ReleaseError, RouterError, KubernetesError, AnalysisSpecError, TemplateError, StateError, ValueError)


def main():
    module = AnsibleK8SModule(
        argument_spec=controller.argument_spec(
            stable_version=dict(type="str", required=True),
            canary_version=dict(type="str", required=True),
            approved=dict(type="bool", default=False),
            until_step=dict(type="int"),
        ),
        required_if=[("router", "nginx", ("nginx",))],
        supports_check_mode=True,
        check_k8s=False,
        module_class=AnsibleModule,
    )
    params = module.params
    since = time.time()
    try:
        release = controller.release_for(module)
        if module.check_mode:
            # predict the next routing change only: pauses and analyses are not run in check mode
            nxt = release.preview_next(params["stable_version"], params["canary_version"], params["approved"])
            result = controller.report(release, since)
            result.update(changed=release.changed or result["changed"], next_step=nxt)
        else:
            with release.walking():
                if release.begin(params["stable_version"], params["canary_version"], params["approved"]):
                    release.run(until=params["until_step"])
            result = controller.report(release, since)
    except rel.Frozen as e:
        module.fail_json(msg="router_release %s: %s" % (params["release"], e), changed=False, verdict="refused",
                         freeze=e.window)
    except ERRORS as e:
        module.fail_json(msg="router_release %s: %s" % (params["release"], e))
    if module._diff:
        result["diff"] = release.diffs
    if result["verdict"] == "rolled_back":
        module.fail_json(msg="release %s of %s rolled back: %s (detected in %ss, restored in %ss); fix it and "
                         "release another version, or retry it (router_step action=retry)" % (
                             params["release"], params["canary_version"], result["message"],
                             result["time_to_detect_s"], result["time_to_restore_s"]), **result)
    result["msg"] = "release %s of %s: %s" % (params["release"], params["canary_version"], result["verdict"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
