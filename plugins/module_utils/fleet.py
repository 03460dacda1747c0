# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fleet release as data (issue 15): the wave plan, and the fleet's verdict from each target's release.

Pure logic, no I/O: the role fleet_release and the module fleet_plan call it; tests/unit/test_fleet.py proves it.
A target is an inventory host whose own canary_release_* variables describe its release.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# canary_release's verdicts (roles/canary_release/meta/argument_specs.yml, pd_verdict), sorted by what they mean
GREEN = ("promoted", "already_stable")
RED = ("rolled_back", "error", "refused", "unhealthy")  # unhealthy: promoted, then red during the soak
STILL_RELEASING = ("in_progress", "paused")

SAME_WAVE_ACTIONS = ("hold", "abort")
PROMOTED_ACTIONS = ("keep", "rollback")


class FleetPlanError(ValueError):
    """A wave plan that cannot run; the message names the wave or target and the fix."""


def build_plan(waves=None, wave_groups=None, groups=None):
    """The wave plan: a list of waves, each a list of target names, validated.

    ``waves`` is the plan itself (a list of lists); ``wave_groups`` names inventory groups in wave order and
    ``groups`` is the inventory's group -> hosts mapping (Ansible's ``groups``). Exactly one of them is used.
    When ``groups`` has ``all``, every target must be in it.
    """
    if waves and wave_groups:
        raise FleetPlanError("give the wave plan once: fleet_release_waves (a list of target lists) or "
                             "fleet_release_wave_groups (inventory groups in order), not both")
    if wave_groups:
        if not isinstance(wave_groups, list):
            raise FleetPlanError("fleet_release_wave_groups must be a list of inventory group names, got %r"
                                 % (wave_groups,))
        groups = groups or {}
        plan = []
        for index, name in enumerate(wave_groups, 1):
            if not isinstance(name, str) or name not in groups:
                known = ", ".join(sorted(g for g in groups if g not in ("all", "ungrouped"))) or "none"
                raise FleetPlanError("wave %d: unknown inventory group %r; known groups: %s" % (index, name, known))
            plan.append(list(groups[name]))
        waves = plan
    if not waves:
        raise FleetPlanError("no wave plan: set fleet_release_waves (for example [[eu-canary], [eu-1, us-1]]) "
                             "or fleet_release_wave_groups (for example [wave1, wave2])")
    validate_plan(waves)
    inventory = set((groups or {}).get("all") or ())
    if inventory:  # a target missing from the inventory would be added bare and fail for want of its variables
        for index, wave in enumerate(waves, 1):
            missing = [t for t in wave if t not in inventory]
            if missing:
                raise FleetPlanError("wave %d: %s not in the inventory; add the target with its canary_release_* "
                                     "host vars, or fix the name" % (index, ", ".join(repr(t) for t in missing)))
    return [list(wave) for wave in waves]


def validate_plan(waves):
    """Refuse a plan that is not a list of non-empty lists of distinct target names."""
    if not isinstance(waves, list):
        raise FleetPlanError("the wave plan must be a list of waves, each a list of targets, got %r" % (waves,))
    seen = {}
    for index, wave in enumerate(waves, 1):
        if not isinstance(wave, list):
            raise FleetPlanError("wave %d must be a list of targets, got %r" % (index, wave))
        if not wave:
            raise FleetPlanError("wave %d is empty: remove it or give it a target" % index)
        for target in wave:
            if not isinstance(target, str) or not target.strip():
                raise FleetPlanError("wave %d: a target must be an inventory host name, got %r" % (index, target))
            if target in seen:
                raise FleetPlanError("target %r is in wave %d and in wave %d: a target is released once, in one "
                                     "wave; remove it from one of them" % (target, seen[target], index))
            seen[target] = index


def wave_sizes(waves):
    """The sizes of the waves in order (for a play's ``serial``)."""
    return [len(wave) for wave in waves]


def ordered_targets(waves):
    """Every target, wave by wave."""
    return [target for wave in waves for target in wave]


def _check_choice(name, value, choices):
    if value not in choices:
        raise FleetPlanError("%s must be one of %s, got %r" % (name, ", ".join(choices), value))


def fleet_verdict(waves, results, version, on_same_wave="hold", on_promoted="keep"):
    """The fleet's verdict and, for each target, the version it runs, what it does next and why.

    ``results`` maps a target to its release's verdict (canary_release's pd_verdict); a target missing from it
    has not started. The first wave with a red target stops the fleet: later waves do not start; its targets
    still releasing are held or aborted (``on_same_wave``); targets promoted in this fleet release are kept
    (the default - page a person) or rolled back (``on_promoted``). ``already_stable`` is a target done by an
    earlier run: it reports no change (resume).
    """
    validate_plan(waves)
    _check_choice("fleet_release_on_same_wave", on_same_wave, SAME_WAVE_ACTIONS)
    _check_choice("fleet_release_on_promoted", on_promoted, PROMOTED_ACTIONS)
    results = results or {}
    red_wave = None
    red_targets = []
    for index, wave in enumerate(waves, 1):
        red_targets = [t for t in wave if results.get(t) in RED]
        if red_targets:
            red_wave = index
            break
    reason = ("%s failed in wave %d" % (", ".join(red_targets), red_wave)) if red_wave else ""
    targets = {}
    for index, wave in enumerate(waves, 1):
        for target in wave:
            verdict = results.get(target)
            entry = {"wave": index, "verdict": verdict or "not_started"}
            if verdict == "unhealthy":
                entry.update(runs=version, action="page", why="promoted, then its analysis failed during the soak")
            elif verdict in RED:
                entry.update(runs="stable", action="rolled back by its own release",
                             why="its analysis or release failed: %s" % verdict)
            elif verdict in GREEN:
                if red_wave and on_promoted == "rollback":
                    entry.update(runs="stable", action="roll back", why="%s; the fleet rolls promoted targets "
                                 "back (fleet_release_on_promoted=rollback)" % reason)
                elif red_wave:
                    entry.update(runs=version, action="keep", why="%s; promoted targets are kept and a person is "
                                 "paged (fleet_release_on_promoted=keep)" % reason)
                elif verdict == "already_stable":
                    entry.update(runs=version, action="no change", why="already promoted by an earlier run")
                else:
                    entry.update(runs=version, action="promoted", why="its analysis passed at every step")
            elif verdict in STILL_RELEASING:
                if red_wave:
                    abort = on_same_wave == "abort"
                    entry.update(runs="stable" if abort else "canary split",
                                 action="abort" if abort else "hold",
                                 why="%s; same-wave targets still releasing are %s (fleet_release_on_same_wave=%s)"
                                 % (reason, "aborted" if abort else "held", on_same_wave))
                else:
                    entry.update(runs="canary split", action="wait", why="its release is %s" % verdict)
            elif verdict is None:
                if red_wave and index > red_wave:
                    entry.update(runs="stable", action="not started", why="%s; later waves do not start" % reason)
                else:
                    entry.update(runs="stable", action="not started", why="its wave has not started yet")
            else:
                raise FleetPlanError("target %r: unknown release verdict %r (expected one of %s)"
                                     % (target, verdict, ", ".join(GREEN + RED + STILL_RELEASING)))
            targets[target] = entry
    if red_wave:
        fleet = "stopped"
    elif all(results.get(t) in GREEN for t in ordered_targets(waves)):
        fleet = "already_stable" if all(results.get(t) == "already_stable" for t in targets) else "promoted"
    else:
        fleet = "in_progress"
    return {"verdict": fleet, "version": version, "stopped_at_wave": red_wave, "reason": reason,
            "changed": any(results.get(t) not in (None, "already_stable") for t in targets),
            "targets": targets, "waves": [list(w) for w in waves]}


def next_wave(waves, results):
    """The 1-based index of the first wave not yet all green (where a resumed fleet release continues), or None
    when every wave is green; a red wave is returned as is (the fleet stops there)."""
    results = results or {}
    for index, wave in enumerate(waves, 1):
        if not all(results.get(t) in GREEN for t in wave):
            return index
    return None


def summary_lines(verdict):
    """One line per target for the report: target, wave, version it runs, action, why."""
    lines = ["fleet release of %s: %s%s" % (verdict["version"], verdict["verdict"],
                                            (" - " + verdict["reason"]) if verdict["reason"] else "")]
    for wave in verdict["waves"]:
        for target in wave:
            entry = verdict["targets"][target]
            lines.append("wave %d %s: runs %s, %s - %s"
                         % (entry["wave"], target, entry["runs"], entry["action"], entry["why"]))
    return lines


def fleet_report(verdict, details=None, started=None):
    """One report for the fleet release: the fleet's verdict and, per target in wave order, its wave, the
    version it runs, its verdict, the step its own release reached and its times (``details``: target ->
    {step, started, finished}, from each target's canary_release_result)."""
    details = details or {}
    targets = []
    for target in ordered_targets(verdict["waves"]):
        entry = dict(verdict["targets"][target], target=target)
        own = details.get(target) or {}
        entry.update(step=own.get("step"), started=own.get("started"), finished=own.get("finished"))
        targets.append(entry)
    return {"version": verdict["version"], "verdict": verdict["verdict"], "reason": verdict["reason"],
            "stopped_at_wave": verdict["stopped_at_wave"], "started": started, "targets": targets}


def fleet_html(report):
    """The fleet report as one HTML page: a summary line, then one row a target."""
    from ansible_collections.progressive.delivery.plugins.module_utils import report_html
    summary = "fleet release of %s: %s%s" % (report["version"], report["verdict"],
                                             (" - " + report["reason"]) if report.get("reason") else "")
    rows = [(t["wave"], t["target"], t["runs"], t["verdict"], t.get("step") or "", t.get("started") or "",
             t.get("finished") or "", "%s - %s" % (t["action"], t["why"])) for t in report["targets"]]
    body = report_html._table(("wave", "target", "runs", "verdict", "step", "started", "finished", "why"), rows)
    return report_html.page("Fleet release of %s (started %s)" % (report["version"], report.get("started") or "-"),
                            body, summary=summary, bad=report["verdict"] not in GREEN)
