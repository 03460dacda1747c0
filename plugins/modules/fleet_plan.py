#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: fleet_plan
short_description: The wave plan of a fleet release, validated, and the fleet's verdict from each target's release
version_added: 0.1.0
author:
  - progressive.delivery contributors (@progressive-delivery)
description:
  - Builds the wave plan of a fleet release (one version to many targets, in waves) from a list of target lists
    (O(waves)) or from inventory groups in order (O(wave_groups)), and refuses a plan with a target in two waves,
    an empty wave or an unknown group, naming the wave and the fix.
  - Several services in a stated order (O(services)) - each its own version and waves - make one plan, the
    services' waves one after another, each wave labelled by its service; a red wave stops every later wave,
    the later services' included.
  - Given each target's release verdict (O(results)), says the fleet's verdict - the first red target stops later
    waves - and for each target the version it runs, what happens to it and why.
  - Reads nothing and changes nothing; the role P(progressive.delivery.fleet_release#role) uses it.
options:
  waves:
    description: The plan - a list of waves, each a list of inventory host names (targets).
    type: list
    elements: raw
    default: []
  wave_groups:
    description: Inventory groups, one a wave, in order (instead of O(waves)); needs O(groups).
    type: list
    elements: str
    default: []
  groups:
    description:
      - The inventory's groups (pass C({{ groups }})), for O(wave_groups); when it has C(all), every target must be
        in it (a target missing from the inventory is refused, naming the wave).
    type: dict
    default: {}
  services:
    description:
      - Several services released in this order, instead of O(waves) / O(wave_groups) - a list of
        C({name, version, waves}) or C({name, version, wave_groups}) (each service a plan of its own; a target is
        an inventory host, one service on one cluster or load balancer).
    type: list
    elements: dict
    default: []
  version:
    description: The version the fleet release rolls out (for the verdict and the report).
    type: str
    default: ""
  soak:
    description: How long each wave stays healthy before the next starts (a Go duration - 30s, 5m); see RV(soak_seconds).
    type: str
    default: 0s
  results:
    description:
      - Target -> its release's verdict (P(progressive.delivery.canary_release#role)'s C(pd_verdict) - promoted,
        already_stable, rolled_back, error, refused, paused, in_progress); a target not in it has not started.
      - When empty, only the plan is returned.
    type: dict
    default: {}
  on_same_wave:
    description: What the fleet says of targets of the red wave still releasing - C(hold) or C(abort).
    type: str
    choices: [hold, abort]
    default: hold
  on_promoted:
    description: What the fleet says of targets already promoted when it stops - C(keep) (page) or C(rollback).
    type: str
    choices: [keep, rollback]
    default: keep
  wave_numbers:
    description: The number of each wave of O(waves) in the whole plan, for the verdict (default 1, 2, ...).
    type: list
    elements: int
    default: []
  wave_services:
    description: The service of each wave of O(waves), for the verdict (RV(wave_services) of the plan).
    type: list
    elements: str
    default: []
  versions:
    description: Target -> the version it is released (RV(versions) of the plan); default O(version).
    type: dict
    default: {}
  details:
    description: Target -> C({weight}), the canary weight where a held target stands (for the verdict's words).
    type: dict
    default: {}
  rolled_back:
    description: The targets the fleet rolled back after it stopped (O(on_promoted=rollback)).
    type: list
    elements: str
    default: []
  kept:
    description:
      - The targets the fleet's rollback kept on purpose (O(on_promoted=rollback)) - an Argo Rollouts target
        promoted by an earlier run, whose earlier images are not known. Reported C(keep), not C(roll back failed).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reads and changes nothing.
"""

EXAMPLES = r"""
- name: Plan the waves from inventory groups
  progressive.delivery.fleet_plan:
    wave_groups: [canary_wave, europe, america]
    groups: "{{ groups }}"
  register: fleet

- name: The fleet's verdict
  progressive.delivery.fleet_plan:
    waves: [[eu-canary], [eu-1, eu-2]]
    version: v2
    results: {eu-canary: promoted, eu-1: rolled_back, eu-2: promoted}

- name: Orders before payments-worker, each in its own waves
  progressive.delivery.fleet_plan:
    services:
      - {name: orders, version: v2, waves: [[orders-eu1], [orders-us1, orders-us2]]}
      - {name: payments-worker, version: v7, wave_groups: [pay-canary, pay-rest]}
    groups: "{{ groups }}"
"""

RETURN = r"""
waves:
  description: The plan, wave by wave.
  returned: always
  type: list
  elements: list
  sample: [["eu-canary"], ["eu-1", "eu-2"]]
wave_sizes:
  description: The number of targets of each wave (a play's C(serial)).
  returned: always
  type: list
  elements: int
targets:
  description: Every target, wave by wave.
  returned: always
  type: list
  elements: str
wave_numbers:
  description: The number of each wave (1, 2, ...).
  returned: always
  type: list
  elements: int
wave_services:
  description: The service of each wave (O(services)); empty strings for a single service.
  returned: always
  type: list
  elements: str
versions:
  description: Target -> the version it is released (O(services)); empty for a single service (O(version)).
  returned: always
  type: dict
target_waves:
  description: Target -> the number of its wave.
  returned: always
  type: dict
target_services:
  description: Target -> the service it is a target of (O(services)); empty for a single service.
  returned: always
  type: dict
title:
  description: What the fleet release rolls out, for its report and notification - O(version), or each service and its version.
  returned: always
  type: str
  sample: orders v2, payments-worker v7
soak_seconds:
  description: O(soak) in seconds.
  returned: always
  type: float
verdict:
  description:
    - The fleet's verdict (when O(results) is given) - C(verdict) (promoted, already_stable, stopped, in_progress),
      C(stopped_at_wave), C(reason), C(held_at_wave) and C(held) (in_progress - the wave not promoted yet, and
      why; else null and empty), C(services) (each service's C(version) and C(verdict)), and C(targets) - for
      each target its C(wave), C(service), C(verdict), the version it C(runs), the C(action) and C(why).
  returned: when O(results) is given
  type: dict
lines:
  description: The verdict as one line a target (for the report).
  returned: when O(results) is given
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.progressive.delivery.plugins.module_utils import fleet
from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration


def main():
    module = AnsibleModule(argument_spec=dict(
        waves=dict(type="list", elements="raw", default=[]),
        wave_groups=dict(type="list", elements="str", default=[]),
        services=dict(type="list", elements="dict", default=[]),
        groups=dict(type="dict", default={}),
        version=dict(type="str", default=""),
        soak=dict(type="str", default="0s"),
        results=dict(type="dict", default={}),
        on_same_wave=dict(type="str", choices=list(fleet.SAME_WAVE_ACTIONS), default="hold"),
        on_promoted=dict(type="str", choices=list(fleet.PROMOTED_ACTIONS), default="keep"),
        wave_numbers=dict(type="list", elements="int", default=[]),
        wave_services=dict(type="list", elements="str", default=[]),
        versions=dict(type="dict", default={}),
        details=dict(type="dict", default={}),
        rolled_back=dict(type="list", elements="str", default=[]),
        kept=dict(type="list", elements="str", default=[]),
    ), supports_check_mode=True)
    params = module.params
    try:
        if params["services"]:
            if params["waves"] or params["wave_groups"] or params["version"]:
                raise fleet.FleetPlanError("give fleet_release_services (each service its version and waves) or "
                                           "fleet_release_version with fleet_release_waves / fleet_release_wave_groups, "
                                           "not both")
            waves, wave_services, versions = fleet.build_services_plan(params["services"], params["groups"])
            title = ", ".join("%s %s" % (s["name"], s["version"]) for s in params["services"])
        else:
            waves = fleet.build_plan(params["waves"], params["wave_groups"], params["groups"])
            wave_services = [s or None for s in params["wave_services"]] or [None] * len(waves)
            versions, title = params["versions"], params["version"]
        numbers = params["wave_numbers"] or list(range(1, len(waves) + 1))
        result = dict(changed=False, waves=waves, wave_sizes=fleet.wave_sizes(waves),
                      targets=fleet.ordered_targets(waves), wave_numbers=numbers,
                      wave_services=[s or "" for s in wave_services], versions=versions, title=title,
                      target_waves=dict((t, n) for n, wave in zip(numbers, waves) for t in wave),
                      target_services=dict((t, s) for s, wave in zip(wave_services, waves) for t in wave if s))
        try:
            result["soak_seconds"] = parse_go_duration(params["soak"])
        except ValueError as e:
            raise fleet.FleetPlanError("fleet_release_soak: %s" % e)
        if result["soak_seconds"] < 0:
            raise fleet.FleetPlanError("fleet_release_soak must not be negative, got %r" % params["soak"])
        if params["results"]:
            verdict = fleet.fleet_verdict(waves, params["results"], title, params["on_same_wave"],
                                          params["on_promoted"], numbers=numbers, services=wave_services,
                                          versions=versions, details=params["details"],
                                          rolled_back=params["rolled_back"], kept=params["kept"])
            result.update(verdict=verdict, lines=fleet.summary_lines(verdict))
    except fleet.FleetPlanError as e:
        module.fail_json(msg="fleet_plan: %s" % e)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
