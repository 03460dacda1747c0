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


def build_services_plan(services, groups=None):
    """A release of several services in a stated order (issue 15 point 4): each service's waves, the services'
    waves one after another. ``services`` is a list of {name, version, waves | wave_groups}. Returns (waves,
    the service of each wave, target -> version); a red wave stops every wave after it, other services' too."""
    if not isinstance(services, list) or not services:
        raise FleetPlanError("fleet_release_services must be a list of services in release order, for example "
                             "[{name: orders, version: v2, waves: [[orders-eu1]]}, {name: payments-worker, ...}]")
    waves, wave_services, versions, names = [], [], {}, []
    for index, service in enumerate(services, 1):
        if not isinstance(service, dict):
            raise FleetPlanError("fleet_release_services item %d must be a dict {name, version, waves or "
                                 "wave_groups}, got %r" % (index, service))
        name, version = service.get("name"), service.get("version")
        label = "fleet_release_services item %d%s" % (index, " (%s)" % name if isinstance(name, str) else "")
        unknown = sorted(set(service) - {"name", "version", "waves", "wave_groups"})
        if unknown:
            raise FleetPlanError("%s: unknown key %s; a service has name, version, and waves or wave_groups"
                                 % (label, ", ".join(unknown)))
        for key, value in (("name", name), ("version", version)):
            if not isinstance(value, str) or not value.strip():
                raise FleetPlanError("%s: %s must be a non-empty string, got %r" % (label, key, value))
        if name in names:
            raise FleetPlanError("%s: service %r is listed twice; give each service once, in release order"
                                 % (label, name))
        names.append(name)
        try:
            own = build_plan(service.get("waves"), service.get("wave_groups"), groups)
        except FleetPlanError as e:
            raise FleetPlanError("service %s: %s" % (name, e))
        waves.extend(own)
        wave_services.extend([name] * len(own))
        for target in ordered_targets(own):
            versions[target] = version
    validate_plan(waves)  # a target in two services' waves is refused naming both waves
    return waves, wave_services, versions


def _wave_name(number, service):
    return "wave %d%s" % (number, " (%s)" % service if service else "")


def fleet_verdict(waves, results, version, on_same_wave="hold", on_promoted="keep", numbers=None, services=None,
                  versions=None, details=None, rolled_back=None, kept=None):
    """The fleet's verdict and, for each target, the version it runs, what it does next and why.

    ``results`` maps a target to its release's verdict (canary_release's pd_verdict, or ``aborted`` when the
    fleet aborted it before its next step); a target missing from it has not started. The first wave with a red
    target stops the fleet: later waves do not start; its targets still releasing were held or aborted
    (``on_same_wave``); targets promoted in this fleet release are kept (the default - page a person) or rolled
    back (``on_promoted``; ``rolled_back`` lists those the fleet did roll back, ``kept`` those its rollback
    keeps on purpose - an Argo Rollouts target promoted by an earlier run, whose earlier images are not known).
    ``already_stable`` is a target done by an earlier run: it reports no change (resume). A fleet neither
    stopped nor done is held where a wave is not promoted yet (``held_at_wave``, ``held`` says why).
    ``numbers`` numbers the waves (default 1, 2, ...; a run of one wave of the plan keeps its number),
    ``services`` names each wave's service (several services in order), ``versions`` is target -> version
    (default ``version``), ``details`` target -> {weight} (where a held target stands).
    """
    validate_plan(waves)
    _check_choice("fleet_release_on_same_wave", on_same_wave, SAME_WAVE_ACTIONS)
    _check_choice("fleet_release_on_promoted", on_promoted, PROMOTED_ACTIONS)
    results = results or {}
    numbers = list(numbers or range(1, len(waves) + 1))
    services = list(services or [None] * len(waves))
    versions = versions or {}
    details = details or {}
    rolled_back = set(rolled_back or ())
    kept = set(kept or ())
    if len(numbers) != len(waves) or len(services) != len(waves):
        raise FleetPlanError("the wave numbers and services must give one per wave (%d waves)" % len(waves))
    red_wave = red_index = None
    red_targets = []
    for index, wave in enumerate(waves):
        red_targets = [t for t in wave if results.get(t) in RED]
        if red_targets:
            red_wave, red_index = numbers[index], index
            break
    reason = ("%s failed in %s" % (", ".join(red_targets), _wave_name(red_wave, services[red_index]))
              if red_wave else "")
    targets = {}
    for index, wave in enumerate(waves):
        for target in wave:
            verdict = results.get(target)
            runs = versions.get(target) or version
            entry = {"wave": numbers[index], "verdict": verdict or "not_started", "version": runs}
            if services[index]:
                entry["service"] = services[index]
            if verdict == "already_stable" and red_wave and on_promoted == "rollback" and target in kept:
                entry.update(runs=runs, action="keep",
                             why="%s; promoted by an earlier run, so kept: the rollback puts back only what this "
                             "run promoted (fleet_release_on_promoted=rollback)" % reason)
            elif verdict in GREEN + ("unhealthy",) and red_wave and on_promoted == "rollback":
                done = target in rolled_back
                entry.update(runs="stable" if done else runs,
                             action="rolled back by the fleet" if done else "roll back failed",
                             why="%s; the fleet rolls back every target promoted in this fleet release "
                             "(fleet_release_on_promoted=rollback)%s" % (reason, "" if done else
                                                                         " - roll it back by hand"))
            elif verdict == "unhealthy":
                entry.update(runs=runs, action="page", why="promoted, then its analysis failed during the soak")
            elif verdict in RED:
                entry.update(runs="stable", action="rolled back by its own analysis",
                             why="its analysis or release failed: %s" % verdict)
            elif verdict in GREEN:
                if red_wave:
                    entry.update(runs=runs, action="keep", why="%s; promoted targets are kept and a person is "
                                 "paged (fleet_release_on_promoted=keep)" % reason)
                elif verdict == "already_stable":
                    entry.update(runs=runs, action="no change", why="already promoted by an earlier run")
                else:
                    entry.update(runs=runs, action="promoted", why="its analysis passed at every step")
            elif verdict == "aborted":
                entry.update(runs="stable", action="aborted by the fleet",
                             why="%s; aborted before its next step (fleet_release_on_same_wave=abort)" % reason)
            elif verdict in STILL_RELEASING:
                weight = (details.get(target) or {}).get("weight")
                if red_wave:
                    held = "held at %s%%" % weight if weight is not None else "held"
                    hint = (details.get(target) or {}).get("continue_with") or "router_step action=resume or abort"
                    entry.update(runs="canary split", action=held,
                                 why="%s; %s before its next step (fleet_release_on_same_wave=hold) - %s"
                                 % (reason, held, hint))
                else:
                    entry.update(runs="canary split", action="wait", why="its release is %s" % verdict)
            elif verdict is None:
                if red_wave and index > red_index:
                    entry.update(runs="stable", action="not started", why="%s; later waves do not start" % reason)
                else:
                    entry.update(runs="stable", action="not started", why="its wave has not started yet")
            else:
                raise FleetPlanError("target %r: unknown release verdict %r (expected one of %s)"
                                     % (target, verdict, ", ".join(GREEN + RED + STILL_RELEASING + ("aborted",))))
            targets[target] = entry
    held_wave, held = None, ""
    if red_wave:
        fleet = "stopped"
    elif all(results.get(t) in GREEN for t in ordered_targets(waves)):
        fleet = "already_stable" if all(results.get(t) == "already_stable" for t in targets) else "promoted"
    else:
        fleet = "in_progress"
        index = next(i for i, wave in enumerate(waves) if not all(results.get(t) in GREEN for t in wave))
        held_wave = numbers[index]
        waiting = ["%s %s" % (t, targets[t]["verdict"]) for t in waves[index] if results.get(t) not in GREEN]
        held = ("held: %s is not promoted yet - %s; no later wave starts until it is: resume or promote it "
                "(or abort it), then run the fleet release again"
                % (_wave_name(held_wave, services[index]), ", ".join(waiting)))
    by_service = {}
    for index, wave in enumerate(waves):
        if services[index]:
            by_service.setdefault(services[index], []).extend(wave)
    service_verdicts = {}
    for name, own in by_service.items():
        got = [results.get(t) for t in own]
        stopped = any(v in RED or v == "aborted" or (red_wave and v in STILL_RELEASING) for v in got)
        service_verdicts[name] = {
            "version": versions.get(own[0]) or version,
            "verdict": ("stopped" if stopped
                        else "not_started" if all(v is None for v in got)
                        else "already_stable" if all(v == "already_stable" for v in got)
                        else "promoted" if all(v in GREEN for v in got) else "in_progress")}
    return {"verdict": fleet, "version": version, "stopped_at_wave": red_wave, "reason": reason,
            "held_at_wave": held_wave, "held": held,
            "changed": any(results.get(t) not in (None, "already_stable") for t in targets) or bool(rolled_back),
            "targets": targets, "waves": [list(w) for w in waves], "services": service_verdicts}


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
    for name, service in (verdict.get("services") or {}).items():
        lines.append("service %s %s: %s" % (name, service["version"], service["verdict"]))
    for wave in verdict["waves"]:
        for target in wave:
            entry = verdict["targets"][target]
            lines.append("%s %s: runs %s, %s - %s" % (_wave_name(entry["wave"], entry.get("service")), target,
                                                      entry["runs"], entry["action"], entry["why"]))
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
            "stopped_at_wave": verdict["stopped_at_wave"], "started": started,
            "services": verdict.get("services") or {}, "targets": targets}


def fleet_html(report):
    """The fleet report as one HTML page: a summary line, then one row a target."""
    from ansible_collections.progressive.delivery.plugins.module_utils import report_html
    summary = "fleet release of %s: %s%s" % (report["version"], report["verdict"],
                                             (" - " + report["reason"]) if report.get("reason") else "")
    rows = [(_wave_name(t["wave"], t.get("service")), t["target"], t["runs"], t["verdict"], t.get("step") or "",
             t.get("started") or "", t.get("finished") or "", "%s - %s" % (t["action"], t["why"]))
            for t in report["targets"]]
    body = report_html._table(("wave", "target", "runs", "verdict", "step", "started", "finished", "why"), rows)
    if report.get("services"):
        body = report_html._table(("service", "version", "verdict"), [
            (name, s["version"], s["verdict"]) for name, s in report["services"].items()]) + body
    return report_html.page("Fleet release of %s (started %s)" % (report["version"], report.get("started") or "-"),
                            body, summary=summary, bad=report["verdict"] not in GREEN)
