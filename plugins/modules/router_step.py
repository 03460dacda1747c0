#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: router_step
short_description: Abort, pause, resume, promote, retry or set the weight of an Ansible-controlled release
version_added: 0.1.0
author:
  - progressive.delivery contributors (@progressive-delivery)
description:
  - The operator's verbs for a release walked by M(progressive.delivery.router_release), in the vocabulary of
    C(kubectl argo rollouts), acting on the router and the state kept beside it.
  - C(abort) puts 100% of traffic back on stable, cohorts included, in one router update, and works without
    Prometheus. Every action is idempotent and reports C(changed) truthfully.
  - What the release left beside the router fills in what is not given - host nginx, the listen address, the
    pools and the flags from the release's routing file (C(pd-<release>.conf)); every router, the cohorts from
    the release's state (else from what the router holds) - so the on-call needs only O(release), O(router)
    and, for nginx, O(nginx.config_dir) when it is not C(/etc/nginx/conf.d). A hand-made step never drops the
    cohort routing a release set up.
options:
  action:
    description:
      - C(status) reads the state and the router's weights.
      - C(bootstrap) puts the release behind the router with 100% on stable (the canary and every cohort get
        nothing) - the first step, before the first release, so that stable serves through the router and
        Prometheus sees its traffic. It changes nothing once the release has a state or a canary share.
      - C(abort) sends all traffic to stable and marks the release aborted (Degraded).
      - C(pause) stops the release at its current step (Paused); C(resume) clears a pause, so the next
        M(progressive.delivery.router_release) run goes on (past a pause step, or after an Inconclusive analysis).
      - C(promote) with O(full) sends 100% to the canary and makes it stable, skipping the remaining steps;
        with O(full=false) it skips the current step only (a running pause or analysis ends now), as
        C(kubectl argo rollouts promote) without C(--full).
      - Every action re-reads the state and writes it back only if nobody wrote it meanwhile, and the walker
        (M(progressive.delivery.router_release)) looks at the state before every change and during every pause
        and analysis, so an abort, pause or promote made here while a release is walking is obeyed, never
        overwritten. The history records who acted (user@host, and the AWX job) and when.
      - C(retry) starts an aborted release again from step 0 (weight 0).
      - C(set_weight) sets the canary weight by hand (O(weight)), outside the plan.
      - C(restore_previous) (host nginx) puts the previous nginx configuration back at once.
    type: str
    required: true
    choices: [status, bootstrap, abort, pause, resume, promote, retry, set_weight, restore_previous]
  weight:
    description: With C(set_weight), the canary's share, 0 to 100.
    type: int
  full:
    description: With C(promote), skip all the remaining steps (C(true)) or only the current one (C(false)).
    type: bool
    default: true
  reason:
    description: With C(abort), why (kept in the state's history and the message).
    type: str
    default: aborted by an operator
  verify_stable:
    description:
      - With C(abort), after the router update (and in check mode, where nothing is changed), check that the
        stable backends the router now sends all traffic to are alive, as the Argo Rollouts path checks the
        stable ReplicaSet. Fails when they are not, naming the dead addresses; traffic stays on the stable pool
        as configured, so fix the addresses and run the abort again.
      - Host nginx - every address in O(nginx.stable) must answer C(GET) O(health_path) with a 2xx or 3xx within
        O(health_timeout) seconds (nginx sends traffic to each of them). A 5xx is asked again, up to 3 times.
      - Kubernetes routers - the stable Service (O(kubernetes_target.stable_service)) must have at least one ready
        endpoint (EndpointSlices with the C(kubernetes.io/service-name) label, or the Endpoints object).
    type: bool
    default: true
  health_path:
    description: With O(verify_stable), the path each stable nginx backend is asked for.
    type: str
    default: /
  health_timeout:
    description: With O(verify_stable), seconds each stable nginx backend has to answer.
    type: float
    default: 2
extends_documentation_fragment:
  - progressive.delivery.router
  - progressive.delivery.router.targets
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Reports the routing change as a diff; writes nothing.
  diff_mode:
    support: full
    description: The router's configuration or object before and after.
"""

EXAMPLES = r"""
- name: Before the first release - nginx in front, 100% on stable
  progressive.delivery.router_step:
    release: checkout
    router: nginx
    nginx:
      config_dir: /etc/nginx/conf.d
      listen: 0.0.0.0:8080
      stable: [10.0.0.11:8000, 10.0.0.12:8000]
      canary: [10.0.0.13:8000, 10.0.0.14:8000]
    action: bootstrap

- name: Emergency - everything back on stable now (addresses and cohorts from what the release left)
  progressive.delivery.router_step:
    release: checkout
    router: nginx
    action: abort
    reason: error budget burning, INC-4711
    health_path: /healthz

- name: Where is it?
  progressive.delivery.router_step:
    release: checkout
    router: nginx
    action: status

- name: Release freeze - hold the canary where it is
  progressive.delivery.router_step:
    release: orders
    router: istio
    kubernetes_target:
      namespace: shop
      name: orders
      stable_service: orders
      canary_service: orders-canary
    action: pause
"""

RETURN = r"""
configured:
  description: Whether the router has routing for the release at all (C(false) before anything was set up).
  returned: always
  type: bool
phase:
  description: Healthy, Progressing, Paused or Degraded (or null without a release state).
  returned: always
  type: str
weights:
  description: C(stable) and C(canary) as the router has them after the action.
  returned: always
  type: dict
state:
  description: The release state kept beside the router.
  returned: always
  type: dict
seconds:
  description: How long the action took (for C(abort), the router update included).
  returned: always
  type: float
stable_check:
  description: What O(verify_stable) found.
  returned: with C(abort) and O(verify_stable)
  type: dict
  contains:
    healthy:
      description: Whether the stable pool serves.
      type: bool
    message:
      description: C(N/M stable backends healthy), and which do not answer and why.
      type: str
    routed_as_configured:
      description:
        - Whether the router sends the traffic where the options say (host nginx - as its running workers report).
          When false the rollback did not reach the router, whatever the backends answer.
      type: bool
    ready:
      description: How many stable backends (addresses, or ready endpoints) are healthy.
      type: int
    total:
      description: How many were checked.
      type: int
    checked:
      description:
        - One entry a backend. Host nginx - C(address), C(url), C(healthy), C(status) (HTTP status or null) and
          C(reason). Kubernetes - C(address), C(ports), C(ready), C(pod) and C(source).
      type: list
      elements: dict
  sample:
    healthy: false
    message: "0/1 stable backends healthy; the stable pool does not answer: 127.0.0.1:9 connection refused"
    ready: 0
    total: 1
    checked:
      - {address: "127.0.0.1:9", url: "http://127.0.0.1:9/", healthy: false, status: null, reason: connection refused}
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.progressive.delivery.plugins.module_utils import backends, controller, release as rel
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import KubernetesError
from ansible_collections.progressive.delivery.plugins.module_utils.release_store import StateError
from ansible_collections.progressive.delivery.plugins.module_utils.routers import RouterError
from ansible_collections.progressive.delivery.plugins.module_utils.routers.factory import saved_cohorts


def act(release, params):
    """One operator verb, from the latest state, written back as one compare-and-swap (a walker in the
    middle of a step finishes that step first, then sees this change and obeys it)."""
    action = params["action"]
    by = rel.actor()
    if action == "status":
        return
    with release.operator() as st:
        if action == "bootstrap":
            current = release.router.current_routing()
            if not st and (current is None or current.weights[1] == 0):
                release.route(0, active=False)
        elif action == "set_weight":
            release.set_weight(params["weight"], by)
        elif action == "restore_previous":
            if release.router.kind != "nginx":
                raise RouterError("restore_previous is for the nginx router; use abort for %s" % release.router.kind)
            release.changed = release.router.restore_previous().changed
        elif not st:
            if action != "abort":
                raise rel.ReleaseError("release '%s' has no state beside the %s router; start it with router_release "
                                       "(or route it first with action=bootstrap)"
                                       % (params["release"], release.router.kind))
            release.route(0, active=False)  # never started here: still make sure stable has everything
        elif action == "abort":
            release.abort(params["reason"], by=by)
        elif action == "pause":
            release.pause(by)
        elif action == "resume":
            release.resume(by)
        elif action == "promote":
            if st.phase != rel.HEALTHY and st.aborted:
                raise rel.ReleaseError("release '%s' is aborted; retry it first" % params["release"])
            if params["full"]:
                if st.phase != rel.HEALTHY:
                    release.promote(by)
            else:
                release.skip(by)
        elif action == "retry":
            release.retry(by)


def main():
    module = AnsibleK8SModule(
        argument_spec=controller.router_argument_spec(
            action=dict(type="str", required=True, choices=["status", "bootstrap", "abort", "pause", "resume",
                                                            "promote", "retry", "set_weight", "restore_previous"]),
            weight=dict(type="int"),
            full=dict(type="bool", default=True),
            reason=dict(type="str", default="aborted by an operator"),
            verify_stable=dict(type="bool", default=True),
            health_path=dict(type="str", default="/"),
            health_timeout=dict(type="float", default=2),
        ),
        required_if=[("action", "set_weight", ("weight",))],
        supports_check_mode=True,
        check_k8s=False,
        module_class=AnsibleModule,
    )
    params = module.params
    start = time.time()
    try:
        cohorts = params.get("cohorts") or {}
        if not (cohorts.get("always_canary") or cohorts.get("never_canary")):
            params["cohorts"] = None  # none given: the release's own (its state, below the router's)
        release = controller.release_for(module)
        if not release.cohorts:
            release.cohorts = saved_cohorts(release.router)
        act(release, params)
        result = controller.report(release)
        if params["action"] == "abort" and params["verify_stable"]:
            result["stable_check"] = backends.verify_stable(release.router, health_path(params["health_path"]),
                                                            params["health_timeout"])
    except (rel.ReleaseError, RouterError, KubernetesError, StateError, ValueError) as e:
        module.fail_json(msg="router_step %s %s: %s" % (params["action"], params["release"], e))
    result["seconds"] = round(time.time() - start, 3)
    if module._diff:
        result["diff"] = release.diffs
    result["msg"] = "%s %s: %s, stable %d%% / canary %d%%" % (
        params["action"], params["release"], result["phase"] or "no release state",
        result["weights"]["stable"], result["weights"]["canary"])
    check = result.get("stable_check")
    if check is not None:
        if not check["healthy"]:
            if check["routed_as_configured"]:
                fix = "fix %s and run the abort again - traffic is on the stable pool as configured" % (
                    "nginx.stable" if params["router"] == "nginx"
                    else "the stable Service's pods (or kubernetes_target.stable_service)")
            else:
                fix = "run the abort again, which routes the release again, and check nginx's error log"
            result["msg"] = "%s %s: %s%s; %s (stable %d%% / canary %d%%)" % (
                params["action"], params["release"], "in check mode, " if module.check_mode else "",
                check["message"], fix, result["weights"]["stable"], result["weights"]["canary"])
            module.fail_json(**result)
        result["msg"] += "; %s" % check["message"]
    module.exit_json(**result)


def health_path(path):
    return path if path.startswith("/") else "/" + path


if __name__ == "__main__":
    main()
