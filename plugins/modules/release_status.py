#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: release_status
short_description: Where a release stands, on either path, as C(kubectl argo rollouts get rollout) shows it
version_added: 0.1.0
author:
  - progressive.delivery contributors (@progressive-delivery)
description:
  - Reads a release that someone else started and says where it stands, in the operator's vocabulary - the
    versions (stable -> canary), the phase (Progressing, Paused, Healthy, Degraded), step n/m and what the step
    is, the canary weight set and the weight the router (or the Rollout) has, the last analysis with each metric's
    value, condition and verdict, how long it has been paused, why and by whom, the last events, and the time
    since the start.
  - Ansible as the controller (O(router) given) - the release state kept beside the router (C(pd-<release>.state.json)
    beside host nginx, the C(pd-release-<release>) ConfigMap on Kubernetes) and the weights the router serves.
  - Argo Rollouts (no O(router)) - the Rollout named O(release) in O(namespace), its ReplicaSets and the
    AnalysisRuns of its current revision.
  - Read-only, C(changed) is always false. The playbook C(progressive.delivery.status) runs it again every few
    seconds with C(watch=true), each refresh a task result of its own.
options:
  release:
    description:
      - The release's name; on the Argo Rollouts path the Rollout's name.
    type: str
    required: true
  router:
    description:
      - The router of an Ansible-controlled release (as given to M(progressive.delivery.router_release)); without
        it the release is an Argo Rollout.
    type: str
    choices: [nginx, gateway_api, ingress_nginx, istio, openshift_route]
  namespace:
    description: The Rollout's namespace (Argo Rollouts path).
    type: str
  delay:
    description:
      - Seconds to wait before reading (the watch's interval between two refreshes). 0 to 600.
    type: float
    default: 0
  history:
    description: How many of the last events to show.
    type: int
    default: 5
  freeze_windows:
    description:
      - 'Release freeze windows, as M(progressive.delivery.router_release) takes them - C({start, end, reason})
        (ISO-8601 times with a zone) or C({weekly: {days, start, end, utc_offset}, reason}). The one in force now
        is returned as RV(status.freeze) and shown; a release playbook refuses to start a release then.'
    type: list
    elements: dict
    default: []
  peers:
    description:
      - Argo Rollouts path - other Rollouts released beside this one (the same wave of a fleet release, each maybe
        on its own cluster). Each look reads them too and returns those that are red (Degraded - aborted, or past
        their progress deadline) as RV(peers_red), so a watch can stop this release while it is still going.
    type: list
    elements: dict
    default: []
    suboptions:
      target:
        description: What to call the peer in the result (a fleet's inventory host); default C(namespace/name).
        type: str
      name:
        description: The peer's Rollout.
        type: str
        required: true
      namespace:
        description: The peer Rollout's namespace.
        type: str
        required: true
      kubeconfig:
        description: The kubeconfig of the peer's cluster (default this module's O(kubeconfig)).
        type: str
      context:
        description: The kubeconfig context of the peer's cluster (default this module's O(context)).
        type: str
extends_documentation_fragment:
  - progressive.delivery.router.targets
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Read-only; the same in check mode.
notes:
  - The step shown is the step in progress, counted from 1 (C(step 2/5 pause 2m)); C(kubectl argo rollouts get)
    shows the same position as C(Step 1/5), the number of steps done.
"""

EXAMPLES = r"""
- name: Where is the checkout release on the host nginx?
  progressive.delivery.release_status:
    release: checkout
    router: nginx
    nginx:
      config_dir: /etc/nginx/conf.d
  register: checkout

- name: Show it
  ansible.builtin.debug:
    msg: "{{ checkout.lines }}"

- name: Where is the checkout Rollout?
  progressive.delivery.release_status:
    release: checkout
    namespace: shop
  register: rollout

- name: Where is the checkout Rollout, and is a Rollout of its wave on another cluster red?
  progressive.delivery.release_status:
    release: checkout
    namespace: shop
    context: eu-1
    peers:
      - {target: eu-2, name: checkout, namespace: shop, context: eu-2}
  register: rollout

# Watch it from a shell (one refresh every 5 s, until promoted or aborted, at most 30 minutes):
#   ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ansible-playbook progressive.delivery.status \
#     -e release=checkout -e release_namespace=shop -e watch=true
"""

RETURN = r"""
status:
  description: Where the release stands.
  returned: always
  type: dict
  contains:
    path:
      description: C(ansible) (Ansible as the controller) or C(argo_rollouts).
      type: str
    found:
      description: Whether there is a release to show (false - no state beside the router).
      type: bool
    stable_version:
      description: The version that served before the release (Argo - the stable ReplicaSet's image).
      type: str
    canary_version:
      description: The version being released.
      type: str
    phase:
      description: Progressing, Paused, Healthy or Degraded.
      type: str
    message:
      description: Why (C(CanaryPauseStep), the abort's reason, the Rollout's message).
      type: str
    terminal:
      description: Whether the release has ended (promoted, or aborted); a watch stops there.
      type: bool
    verdict:
      description: promoted, rolled_back, paused or in_progress.
      type: str
    decided_by:
      description: Who ended it (analysis, guard, plan, user@host), or null while it goes on.
      type: str
    step:
      description: C(number) (1-based, the step in progress), C(count), C(text) (what it is) and C(index) (0-based).
      type: dict
    weight:
      description:
        - C(set) (the plan's weight) and C(actual) (what the router serves, the Rollout's canary weight).
        - C(measured) (the canary's share of the requests, in percent) and C(requests), when the release measures its
          split (router_release's traffic query) at this weight.
      type: dict
    pause:
      description: C(reason), C(by), C(since), C(seconds) paused, C(duration_s) (a timed pause), or null.
      type: dict
    analysis:
      description: The last analysis - C(name), C(phase), C(message), C(at), C(ago_s) and C(metrics), each with
        C(name), C(value) (rounded), C(condition) (the thresholds it must meet, C(< 0.05), C(not > 1)) and
        C(verdict).
      type: dict
    history:
      description: The last events, each C(at), C(t) (epoch) and C(text).
      type: list
      elements: dict
    started_at:
      description: When the release started (UTC).
      type: str
    elapsed_s:
      description: Seconds since the start (the whole release, once it ended on the Ansible path).
      type: float
    freeze:
      description: The freeze window of O(freeze_windows) in force now (C(reason), C(start), C(end)), or null.
      type: dict
lines:
  description: The status as short aligned lines, for a person.
  returned: always
  type: list
  elements: str
  sample:
    - "release    checkout (nginx router)"
    - "versions   v1 -> v2"
    - "phase      Progressing"
    - "step       2/5  pause 2m"
    - "weight     set 30%  actual 30%"
    - "pause      paused for 42s of 2m00s  pause step"
    - "started    48s ago"
peers_red:
  description:
    - The O(peers) whose Rollout is red (Degraded - aborted, or past its progress deadline), each C(target),
      C(name), C(namespace), C(phase) and C(message); empty when none is (or no O(peers) given).
  returned: always
  type: list
  elements: dict
  sample:
    - {target: c1, name: shop, namespace: shop, phase: Degraded, message: "RolloutAborted: Metric failed"}
headline:
  description: The status in one line (release, versions, phase, step, weight).
  returned: always
  type: str
"""

import copy
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.progressive.delivery.plugins.module_utils import argo, status_view
from ansible_collections.progressive.delivery.plugins.module_utils.args_common import ROUTER_ARG_SPEC
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import (
    AUTH_ARG_SPEC, KubernetesError, client_for, owned_by)
from ansible_collections.progressive.delivery.plugins.module_utils.release.freeze import active_freeze, parse_windows
from ansible_collections.progressive.delivery.plugins.module_utils.release_store import StateError
from ansible_collections.progressive.delivery.plugins.module_utils.routers import RouterError
from ansible_collections.progressive.delivery.plugins.module_utils.routers.factory import make_router


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        release=dict(type="str", required=True),
        router=dict(type="str", choices=list(ROUTER_ARG_SPEC["router"]["choices"])),
        nginx=copy.deepcopy(ROUTER_ARG_SPEC["nginx"]),
        kubernetes_target=copy.deepcopy(ROUTER_ARG_SPEC["kubernetes_target"]),
        namespace=dict(type="str"),
        delay=dict(type="float", default=0),
        history=dict(type="int", default=5),
        freeze_windows=dict(type="list", elements="dict", default=[]),
        peers=dict(type="list", elements="dict", default=[], options=dict(
            target=dict(type="str"), name=dict(type="str", required=True),
            namespace=dict(type="str", required=True), kubeconfig=dict(type="str"),
            context=dict(type="str"))),
    )
    return spec


def ansible_path(module, now):
    params = dict(module.params)
    router = make_router(params, lambda: client_for(module), check_mode=True)  # read-only: never writes
    state = router.state_store().read()
    return status_view.from_release_state(state, params["release"], params["router"], router.get_weights(),
                                          now=now, history=params["history"])


def argo_path(module, now):
    params = module.params
    if not params.get("namespace"):
        raise RouterError("give the Rollout's namespace (or router, for a release Ansible walks)")
    client = client_for(module)
    ro = argo.read_argo(client, "Rollout", params["release"], params["namespace"])
    runs = [r for r in argo.find_argo(client, "AnalysisRun", params["namespace"]) if owned_by(r, ro)]
    return status_view.from_rollout(ro, argo.replicasets_of(client, ro), runs, now=now, history=params["history"])


class _PeerConnection(object):
    """The module as client_for sees it, with a peer's kubeconfig and context (its cluster)."""

    def __init__(self, module, peer):
        self._module = module
        self.params = dict(module.params)
        for key in ("kubeconfig", "context"):
            if peer.get(key):
                self.params[key] = peer[key]

    def __getattr__(self, name):
        return getattr(self._module, name)


def peers_red(module):
    red = []
    for peer in module.params["peers"]:
        try:
            red += argo.red_peers([peer], lambda p: client_for(_PeerConnection(module, p)))
        except KubernetesError as e:  # fail closed: a peer nobody can read may be red
            raise KubernetesError("peer %s: %s" % (peer.get("target") or peer["name"], e))
    return red


def main():
    module = AnsibleK8SModule(argument_spec=argument_spec(), supports_check_mode=True, check_k8s=False,
                              module_class=AnsibleModule)
    params = module.params
    if not 0 <= params["delay"] <= 600:
        module.fail_json(msg="release_status %s: delay must be 0 to 600 seconds, not %s"
                         % (params["release"], params["delay"]))
    if params["history"] < 0:
        module.fail_json(msg="release_status %s: history must be 0 or more" % params["release"])
    try:
        windows = parse_windows(params["freeze_windows"])  # a bad window fails before any wait
        time.sleep(params["delay"])
        now = time.time()
        if params["router"] and params["peers"]:
            raise RouterError("peers are Argo Rollouts: give them without router (the Argo Rollouts path)")
        status = ansible_path(module, now) if params["router"] else argo_path(module, now)
        red = peers_red(module) if params["peers"] else []
        frozen = active_freeze(windows, now)
        status["freeze"] = frozen.to_dict(now) if frozen else None
    except (RouterError, KubernetesError, StateError, ValueError) as e:
        module.fail_json(msg="release_status %s: %s" % (params["release"], e))
    lines = status_view.render(status)
    for peer in red:  # why a watch beside it stops
        why = "%s - %s" % (peer["phase"], peer["message"]) if peer["message"] else peer["phase"]
        lines.append("peer red   %s (Rollout %s in %s): %s" % (peer["target"], peer["name"], peer["namespace"], why))
    module.exit_json(changed=False, status=status, lines=lines, peers_red=red, headline=status_view.headline(status),
                     msg=status_view.headline(status))


if __name__ == "__main__":
    main()
