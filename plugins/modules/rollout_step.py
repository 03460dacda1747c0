#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout_step
short_description: Promote, pause, resume, abort, retry, undo, set image or restart Argo Rollouts
version_added: 0.1.0
author:
  - progressive.delivery contributors (@progressive-delivery)
description:
  - Sends exactly what the Argo Rollouts kubectl plugin sends for each verb (same fields, spec or status
    subresource, same patch type), so the controller reacts as it does to C(kubectl argo rollouts).
  - Idempotent, a patch that would change nothing is not sent and the task reports C(changed=false).
  - Several rollouts (O(names) or O(label_selectors)) are handled in parallel, for fleet-wide emergency aborts.
  - An operator error cannot widen the blast radius - an empty name, list or selector is refused (the API would
    read an empty selector as "every rollout"), and a selector that matches nothing fails unless
    O(allow_no_match) says that is fine.
  - A conflict (HTTP 409) is answered by reading the rollout again and rebuilding the change.
options:
  action:
    description:
      - C(promote) clears pauses or moves to the next step (the plugin's C(promote)); with O(full) it skips
        all remaining steps and analysis; with O(skip_current_step) it moves past the current step.
        While the controller has not yet acted on an earlier promote (C(controllerPause) without pause
        conditions) a plain C(promote) sends nothing, where the plugin would skip the next step as well,
        so a task run twice never skips a step and its analysis.
      - C(pause) sets C(spec.paused); C(resume) clears it without skipping a step.
      - C(abort) sets C(status.abort); the controller routes all traffic back to stable.
      - C(retry) clears C(status.abort); the update starts again from step 0.
      - C(undo) sets C(spec.template) back to a previous revision - O(revision), or by default the stable
        ReplicaSet while an update is unfinished (the plugin would take the revision before the latest,
        which can be an earlier aborted release) and the revision before the latest once fully promoted.
        Like the plugin's, an C(undo) without O(revision) after a full promotion is relative - run twice it
        rolls forward again - so give O(revision) where a task must be repeatable.
      - C(set_image) sets container images (O(images)); C(restart) sets C(spec.restartAt) to now, unless a
        restart asked earlier is still to be done by the controller.
    type: str
    required: true
    choices: [promote, pause, resume, abort, retry, undo, set_image, restart]
  full:
    description: With C(promote), skip all remaining steps, pauses and analysis (C(promote --full)).
    type: bool
    default: false
  skip_current_step:
    description:
      - With C(promote), move past the current step (C(promote --skip-current-step)).
      - Relative, as in the plugin - each run moves one step further - so use it by hand, not in a task
        that may be repeated.
    type: bool
    default: false
  revision:
    description: With C(undo), the revision to go back to.
    type: int
  images:
    description: With C(set_image), container name (or C(*) for all) to image.
    type: dict
extends_documentation_fragment:
  - progressive.delivery.rollout_selection
  - progressive.delivery.rollout_selection.match
  - progressive.delivery.rollout_selection.wait
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Reports the patches that would be sent and the predicted objects; nothing is written.
  diff_mode:
    support: full
    description: Shows each rollout before and after.
"""

EXAMPLES = r"""
- name: Promote the canary past its pause
  progressive.delivery.rollout_step:
    name: checkout
    namespace: shop
    action: promote

- name: Abort every rollout of the payments team at once (fails if the selector matches nothing)
  progressive.delivery.rollout_step:
    namespace: payments
    label_selectors:
      - team=payments
    action: abort

- name: Resume the rollouts a freeze paused, if any are left
  progressive.delivery.rollout_step:
    namespace: shop
    label_selectors:
      - freeze=2026-q1
    action: resume
    allow_no_match: true

- name: Release a new image
  progressive.delivery.rollout_step:
    name: checkout
    namespace: shop
    action: set_image
    images:
      checkout: registry.example.com/checkout:1.4.2

- name: Promote to the next pause and wait for the controller to get there
  progressive.delivery.rollout_step:
    name: checkout
    namespace: shop
    action: promote
    wait: true
    wait_for: Paused
    wait_timeout: 600

- name: Emergency abort, waiting until all traffic is back on stable
  progressive.delivery.rollout_step:
    name: checkout
    namespace: shop
    action: abort
    wait: true
    wait_timeout: 120

- name: Make a rollback permanent
  progressive.delivery.rollout_step:
    name: checkout
    namespace: shop
    action: undo
"""

RETURN = r"""
rollouts:
  description: One entry a rollout acted on.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Rollout name.
      type: str
    namespace:
      description: Rollout namespace.
      type: str
    changed:
      description: Whether a patch was sent (or would be, in check mode).
      type: bool
    patches:
      description: The requests sent, each with C(subresource), C(patch_type) and C(body).
      type: list
      elements: dict
    status:
      description: The rollout status after the action (after the wait with O(wait)), as C(rollout_info) reports it.
      type: dict
    conflicts_retried:
      description: How many times the rollout changed under the request (HTTP 409) and was read again.
      type: int
    waited_seconds:
      description: How long the wait took.
      type: float
      returned: when O(wait) is true and not in check mode
msg:
  description: What was done.
  returned: always
  type: str
"""

import copy
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.progressive.delivery.plugins.module_utils import argo, rollouts
from ansible_collections.progressive.delivery.plugins.module_utils.args_common import (
    ROLLOUT_MATCH_ARG_SPEC, ROLLOUT_SELECTION_ARG_SPEC, ROLLOUT_WAIT_ARG_SPEC, SelectionError, check_selection,
    selected_names, selector_text)
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import AUTH_ARG_SPEC, KubernetesError, client_for


PAST = {"promote": "promoted", "pause": "paused", "resume": "resumed", "abort": "aborted", "retry": "retried",
        "undo": "undone", "set_image": "given a new image", "restart": "restarted"}


def build_for(params, client):
    action = params["action"]
    if action == "promote":
        return lambda ro: rollouts.promote(ro, full=params["full"], skip_current_step=params["skip_current_step"])
    if action == "set_image":
        return lambda ro: rollouts.set_image(ro, params["images"])
    if action == "undo":
        def undo(ro):
            return rollouts.undo(ro, argo.replicasets_of(client, ro), params["revision"])
        return undo
    return getattr(rollouts, action)


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(ROLLOUT_SELECTION_ARG_SPEC))
    spec.update(copy.deepcopy(ROLLOUT_MATCH_ARG_SPEC))
    spec.update(copy.deepcopy(ROLLOUT_WAIT_ARG_SPEC))
    spec.update(
        action=dict(type="str", required=True, choices=list(rollouts.ACTIONS)),
        full=dict(type="bool", default=False),
        skip_current_step=dict(type="bool", default=False),
        revision=dict(type="int"),
        images=dict(type="dict"),
    )
    return spec


def main():
    module = AnsibleK8SModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("name", "names", "label_selectors"), ("full", "skip_current_step")],
        required_one_of=[("name", "names", "label_selectors")],
        required_if=[("action", "set_image", ("images",))],
        supports_check_mode=True,
        module_class=AnsibleModule,
    )
    params = module.params
    wait = params["wait"] and not module.check_mode
    try:
        check_selection(params)
        target = argo.parse_wait_for(params["wait_for"] if params["wait_for"] is not None
                                     else argo.DEFAULT_WAIT_FOR.get(params["action"], "Healthy"))
        client = client_for(module)
        names = selected_names(params)
        if names is not None:
            targets = [(n, params["namespace"]) for n in names]
        else:
            found = argo.find_argo(client, "Rollout", params["namespace"], label_selector=selector_text(params))
            targets = [(o["metadata"]["name"], o["metadata"].get("namespace")) for o in found]
    except (SelectionError, KubernetesError, rollouts.RolloutError) as e:
        module.fail_json(msg=str(e))
    if not targets:
        where = "in namespace '%s'" % params["namespace"] if params["namespace"] else "in any namespace"
        msg = "no rollout matches label_selectors %s %s" % (params["label_selectors"], where)
        if params["allow_no_match"]:
            module.exit_json(changed=False, rollouts=[], msg="%s; nothing to %s (allow_no_match)" % (
                msg, params["action"].replace("_", " ")))
        module.fail_json(changed=False, rollouts=[], msg=(
            "%s, so nothing was %s. Check the selector, namespace and cluster (kubectl get rollouts %s-l %s); "
            "set allow_no_match: true where no match is a normal outcome" % (
                msg, PAST.get(params["action"], params["action"].replace("_", " ") + " done"),
                "-n %s " % params["namespace"] if params["namespace"] else "-A ", selector_text(params))))
    build = build_for(params, client)

    def one(target_ref):
        name, namespace = target_ref
        try:
            before, after, patches, conflicts = argo.act_on(client, name, namespace, build, module.check_mode)
        except (KubernetesError, rollouts.RolloutError) as e:
            return {"name": name, "namespace": namespace, "changed": False, "failed": True, "msg": str(e)}
        result = {"name": name, "namespace": namespace, "changed": bool(patches),
                  "patches": [p.to_dict() for p in patches], "conflicts_retried": conflicts,
                  "status": rollouts.summarize(after),
                  "diff": {"before": before, "after": after}}
        if wait:
            try:
                waited = argo.wait_rollout(client, name, namespace, target, params["wait_timeout"], params["wait_sleep"])
            except KubernetesError as e:
                result.update(failed=True, msg=str(e))
                return result
            result.update(status=waited.last, waited_seconds=round(waited.elapsed, 2))
            if not waited.reached:
                result.update(failed=True, msg=waited.message)
        return result

    with ThreadPoolExecutor(max_workers=max(1, min(32, len(targets)))) as pool:
        results = list(pool.map(one, targets))
    failed = [r for r in results if r.get("failed")]
    changed = any(r["changed"] for r in results)
    diff = [r.pop("diff") for r in results if "diff" in r]
    out = dict(changed=changed, rollouts=results)
    if module._diff:
        out["diff"] = [{"before_header": "%s/%s" % (d["before"]["metadata"].get("namespace"), d["before"]["metadata"]["name"]),
                        "after_header": "%s/%s" % (d["after"]["metadata"].get("namespace"), d["after"]["metadata"]["name"]),
                        "before": d["before"], "after": d["after"]} for d in diff]
    verb = params["action"].replace("_", " ")
    if failed:
        module.fail_json(msg="; ".join("%s: %s" % (r["name"], r["msg"]) for r in failed), **out)
    done = [r["name"] for r in results if r["changed"]]
    out["msg"] = ("%s: %s%s" % (verb, ", ".join(done), " (check mode)" if module.check_mode else "")) if done \
        else "%s: nothing to change" % verb
    if wait:
        out["msg"] += "; reached %s" % target
    module.exit_json(**out)


if __name__ == "__main__":
    main()
