# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Which rollouts a module acts on: module_utils/args_common.ROLLOUT_SELECTION_ARG_SPEC

    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of one rollout.
      - An empty name is refused.
    type: str
  names:
    description:
      - Names of several rollouts in O(namespace).
      - An empty list, or an empty name in it (an unset variable), is refused rather than read as "all".
    type: list
    elements: str
  label_selectors:
    description:
      - Label selectors (ANDed), for example C(team=payments), choosing the rollouts in O(namespace),
        or in all namespaces when O(namespace) is omitted.
      - An empty selector (C("") in the list) is refused, since the API would read it as "every rollout".
        Modules that change rollouts also refuse an empty list.
    type: list
    elements: str
  namespace:
    description:
      - Namespace of the rollouts. With O(label_selectors) and no namespace, all namespaces are searched.
    type: str
"""

    # Modules that change rollouts: module_utils/args_common.ROLLOUT_MATCH_ARG_SPEC
    MATCH = r"""
options:
  allow_no_match:
    description:
      - What to do when O(label_selectors) match no rollout.
      - V(false) fails, saying the selector and namespace, so an emergency abort that matched nothing
        (a typo in the selector, the wrong namespace or cluster) is never mistaken for success.
      - V(true) returns C(changed=false) and an empty C(rollouts) list, for tasks where no match is a normal
        outcome (a clean-up that may have nothing to do).
    type: bool
    default: false
"""

    # Waiting for the controller: module_utils/args_common.ROLLOUT_WAIT_ARG_SPEC
    WAIT = r"""
options:
  wait:
    description:
      - Wait until each rollout reaches O(wait_for), as C(kubectl argo rollouts status) does.
      - Ends with a failure when the rollout becomes Degraded (unless waiting for C(Degraded) or C(Aborted))
        or when O(wait_timeout) passes, saying where the rollout stands.
      - Not done in check mode, since nothing was written.
    type: bool
    default: false
  wait_for:
    description:
      - A step index (wait until C(currentStepIndex) reaches it and the rollout is Paused or Healthy there),
        or a status - C(Healthy), C(Paused), C(Progressing), C(Degraded), or C(Aborted) (the controller
        has acted on the abort and sent all traffic back to stable).
      - Healthy also ends a wait for C(Paused) or a step index, since no later pause can come.
      - Defaults to C(Aborted) for C(abort), C(Paused) for C(pause) and C(Healthy) otherwise.
    type: raw
  wait_timeout:
    description: Seconds to wait before failing.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two reads of the rollout.
    type: float
    default: 2
"""
