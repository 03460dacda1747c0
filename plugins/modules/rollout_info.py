#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout_info
short_description: Status of Argo Rollouts as C(kubectl argo rollouts get rollout) shows it
version_added: 0.1.0
author:
  - progressive.delivery contributors (@progressive-delivery)
description:
  - Reads the rollouts named, or those O(label_selectors) choose; with neither, every rollout of O(namespace)
    (or of the cluster). Read-only, so no match is an empty list, not a failure.
  - Returns, for each rollout, its status as Argo Rollouts computes it (Healthy, Progressing, Paused,
    Degraded; an abort is Degraded with C(RolloutAborted) and C(aborted=true)), the current step and
    weights, stable and canary hashes with their images, replica counts, pause conditions, blue-green
    selectors, and the AnalysisRuns of the current revision with their failing metrics.
extends_documentation_fragment:
  - progressive.delivery.rollout_selection
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Read-only.
"""

EXAMPLES = r"""
- name: Where is the checkout release?
  progressive.delivery.rollout_info:
    name: checkout
    namespace: shop
  register: info

- name: Every degraded rollout in the cluster
  progressive.delivery.rollout_info:
  register: all_rollouts

- name: Report them
  ansible.builtin.debug:
    msg: "{{ all_rollouts.rollouts | selectattr('status', 'eq', 'Degraded') | map(attribute='name') }}"
"""

RETURN = r"""
rollouts:
  description: One entry a rollout.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Rollout name.
      type: str
    status:
      description: Healthy, Progressing, Paused or Degraded.
      type: str
    message:
      description: Why, as the controller says it (C(RolloutAborted), C(CanaryPauseStep), ...).
      type: str
    aborted:
      description: Whether the rollout is aborted.
      type: bool
    strategy:
      description: Canary or BlueGreen.
      type: str
    current_step_index:
      description: Index into the canary steps; equal to the number of steps when all are done.
      type: int
    set_weight:
      description: The canary weight the steps ask for.
      type: int
    actual_weight:
      description: The weight the traffic router reports, when there is one.
      type: int
    stable_hash:
      description: Pod-template hash of the stable ReplicaSet.
      type: str
    canary_hash:
      description: Pod-template hash of the desired ReplicaSet.
      type: str
    stable_images:
      description: Container name to image of the stable ReplicaSet.
      type: dict
    canary_images:
      description: Container name to image of the desired (canary, or blue-green preview) ReplicaSet.
      type: dict
    stable_replicaset:
      description: The stable ReplicaSet's C(replicaset) name, C(desired) and C(available) replicas (null when not found).
      type: dict
    fully_promoted:
      description: Whether the stable ReplicaSet is the desired one.
      type: bool
    current_step:
      description: The step at C(current_step_index), as written in the Rollout.
      type: dict
    aborted_at:
      description: When the controller acted on the abort.
      type: str
    replicas:
      description: desired, current, updated, ready, available.
      type: dict
    paused:
      description: Whether C(spec.paused) is set (a manual pause).
      type: bool
    pause_conditions:
      description: The controller's pause conditions, each with C(reason) and C(startTime).
      type: list
      elements: dict
    active_selector:
      description: Blue-green, the pod hash the active Service selects.
      type: str
    preview_selector:
      description: Blue-green, the pod hash the preview Service selects.
      type: str
    revision:
      description: The rollout's revision annotation.
      type: str
    analysis_runs:
      description: AnalysisRuns of the current revision with phase, message and failing metrics.
      type: list
      elements: dict
"""

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.progressive.delivery.plugins.module_utils import argo, rollouts
from ansible_collections.progressive.delivery.plugins.module_utils.args_common import (
    ROLLOUT_SELECTION_ARG_SPEC, SelectionError, check_selection, selected_names, selector_text)
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import (
    AUTH_ARG_SPEC, KubernetesError, client_for, find_objects, owned_by)


def main():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(ROLLOUT_SELECTION_ARG_SPEC))
    module = AnsibleK8SModule(argument_spec=spec, mutually_exclusive=[("name", "names")],
                              supports_check_mode=True, module_class=AnsibleModule)
    params = module.params
    try:
        check_selection(params, selector_required=False)  # read-only: no selector at all lists every rollout
        client = client_for(module)
        found = argo.find_argo(client, "Rollout", params["namespace"], names=selected_names(params),
                               label_selector=selector_text(params))
        listed = {}  # namespace -> (ReplicaSets, AnalysisRuns), listed once however many rollouts live there
        result = []
        for ro in found:
            namespace = ro["metadata"].get("namespace")
            if namespace not in listed:
                listed[namespace] = (find_objects(client, "ReplicaSet", namespace, "apps/v1"),
                                     argo.find_argo(client, "AnalysisRun", namespace))
            replicasets, runs = listed[namespace]
            result.append(rollouts.summarize(ro, [rs for rs in replicasets if owned_by(rs, ro)],
                                             [ar for ar in runs if owned_by(ar, ro)]))
    except (SelectionError, KubernetesError) as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, rollouts=result)


if __name__ == "__main__":
    main()
