# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The step plan: Argo's ``setWeight`` / ``pause`` / ``analysis`` / ``setMirrorRoute`` steps, the defaults, and
the checks a plan passes before anything runs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.routers import (
    SAFE_METHODS, Mirror, RouterError, validate_weight)

DEFAULT_WEIGHTS = (10, 25, 50, 75)
STRATEGIES = ("canary", "blueGreen")
STEP_KINDS = ("setWeight", "pause", "analysis", "setMirrorRoute")


class ReleaseError(Exception):
    """A plan or request that cannot be carried out; nothing was changed."""


def default_plan(weights=DEFAULT_WEIGHTS, pause="30s", analysis=True):
    """10 -> 25 -> 50 -> 75 -> 100, a pause and an analysis at each step."""
    steps = []
    for weight in weights:
        steps.append({"setWeight": weight})
        if pause:
            steps.append({"pause": {"duration": pause}})
        if analysis:
            steps.append({"analysis": {}})
    steps.append({"setWeight": 100})
    return steps


def bluegreen_plan(pre_analysis=True, post_analysis=True):
    """Never split: preview checked at 0%, one flip to 100%, checked again."""
    steps = [{"analysis": {"when": "prePromotion"}}] if pre_analysis else []
    steps.append({"setWeight": 100})
    if post_analysis:
        steps.append({"analysis": {"when": "postPromotion"}})
    return steps


def validate_plan(steps, strategy):
    if strategy not in STRATEGIES:
        raise ReleaseError("strategy must be canary or blueGreen, got %r" % strategy)
    if not steps:
        raise ReleaseError("the plan has no steps")
    mirroring = None  # (step, name) of the mirror set at this point of the plan
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ReleaseError("step %d must be a mapping such as {setWeight: 10}, got %r" % (i, step))
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1 or len(step) != 1:
            raise ReleaseError("step %d must have exactly one of setWeight, pause, analysis or setMirrorRoute, got %s"
                               % (i, step))
        if kinds[0] == "setMirrorRoute":
            if strategy == "blueGreen":
                raise ReleaseError("step %d: a blue-green release has no setMirrorRoute step (as in Argo Rollouts, "
                                   "mirroring is a canary step); release it as a canary" % i)
            mirroring = _mirror_after(step, i, mirroring)
            continue
        if kinds[0] == "setWeight":
            if isinstance(step["setWeight"], bool) or not isinstance(step["setWeight"], int):
                given = step["setWeight"]
                raise ReleaseError("step %d: setWeight must be an integer from 0 to 100, got %r (%s); write "
                                   "setWeight: 10, without quotes" % (i, given, type(given).__name__))
            try:
                weight = validate_weight(step["setWeight"])
            except Exception as e:
                raise ReleaseError("step %d: %s" % (i, e))
            if strategy == "blueGreen" and weight not in (0, 100):
                raise ReleaseError("step %d: a blue-green release never splits traffic; setWeight must be 0 "
                                   "or 100, got %d" % (i, weight))
        if kinds[0] in ("pause", "analysis") and not isinstance(step[kinds[0]] or {}, dict):
            raise ReleaseError("step %d: %s must be a mapping, got %r" % (i, kinds[0], step[kinds[0]]))
        if kinds[0] == "pause":
            duration = (step["pause"] or {}).get("duration")
            if duration is not None:
                try:
                    pause_seconds(duration)
                except ValueError as e:
                    raise ReleaseError("step %d: pause duration %r: %s" % (i, duration, e))
    return steps


def _mirror_after(step, index, mirroring):
    """The (step, name) of the mirror set after setMirrorRoute step ``index``, given the one set before it. One mirror
    at a time on the Ansible-controlled path: a router keeps one mirror, so a second mirror would silently replace
    the first (Argo keeps both) and a removal of another name would clear it - both are refused, naming the fix."""
    mirror = mirror_of(step, index)
    name = step["setMirrorRoute"]["name"]
    if mirror is None:
        if mirroring is None or mirroring[1] != name:
            raise ReleaseError("step %d: setMirrorRoute removes the mirror %r, but %s at that point; name the mirror "
                               "set before it" % (index, name, "mirror %r (step %d) is the one set" % (
                                   mirroring[1], mirroring[0]) if mirroring else "no mirror is set"))
        return None
    if mirroring is not None and mirroring[1] != name:
        first, at = mirroring[1], mirroring[0]
        raise ReleaseError("step %d: setMirrorRoute %r while mirror %r (step %d) is set: this controller copies to "
                           "one mirror at a time; remove %r first ({setMirrorRoute: {name: %s}}) or change that "
                           "mirror under its own name" % (index, name, first, at, first, first))
    return (index, name)


def pause_seconds(duration):
    """A pause's duration ("30s", "5m", or a number of seconds) in seconds."""
    if isinstance(duration, bool) or not isinstance(duration, (str, int, float)):
        raise ValueError("a duration is a string such as 30s or a number of seconds")
    seconds = parse_go_duration(duration) if isinstance(duration, str) else float(duration)
    if not 0 <= seconds < 366 * 86400:
        raise ValueError("must be from 0 to a year")
    return seconds


MATCH_KEYS = ("method", "headers", "path")


def mirror_of(step, index=0):
    """The Mirror a setMirrorRoute step asks for, or None when it removes the mirror (Argo: a step with only the
    name). Argo's ``match`` entries are ORed; this controller renders methods and exact headers: every entry names
    one method exactly, or none (GET and HEAD: only idempotent requests are copied unless the plan says so), and
    every entry has the same headers. ReleaseError names the step and the fix."""
    spec = step.get("setMirrorRoute")
    where = "step %d: setMirrorRoute" % index
    if not isinstance(spec, dict):
        raise ReleaseError("%s must be a mapping such as {name: mirror, percentage: 20, match: [{method: {exact: GET}}]}"
                           ", got %r" % (where, spec))
    unknown = sorted(set(spec) - {"name", "percentage", "match"})
    if unknown:
        raise ReleaseError("%s: unknown field %s (fields: name, percentage, match)" % (where, ", ".join(unknown)))
    if set(spec) == {"name"}:
        if not isinstance(spec["name"], str) or not spec["name"]:
            raise ReleaseError("%s: name must be the mirror route's name, got %r" % (where, spec["name"]))
        return None
    match = spec.get("match") or []
    if not isinstance(match, list) or not all(isinstance(m, dict) for m in match):
        raise ReleaseError("%s: match must be a list of {method: {exact: GET}, headers: {name: {exact: value}}}, "
                           "got %r" % (where, match))
    methods, headers = [], None
    for entry in match:
        extra = sorted(set(entry) - set(MATCH_KEYS))
        if extra or entry.get("path"):
            raise ReleaseError("%s: match %r: the Ansible-controlled routers mirror by method and exact headers; "
                               "%s is not supported - drop it, or mirror through Argo Rollouts"
                               % (where, entry, ", ".join(extra) or "path"))
        method = entry.get("method")
        if method is not None:
            if not isinstance(method, dict) or set(method) != {"exact"} or not isinstance(method["exact"], str):
                raise ReleaseError("%s: match method %r: name one method exactly, {exact: GET}" % (where, method))
            methods.append(method["exact"].upper())
        wanted = {}
        for name, value in (entry.get("headers") or {}).items():
            if not isinstance(value, dict) or set(value) != {"exact"}:
                raise ReleaseError("%s: header %s: only exact matches are rendered, {exact: value}" % (where, name))
            wanted[name] = value["exact"]
        if headers is not None and wanted != headers:
            raise ReleaseError("%s: every match entry must have the same headers (each entry names a method)" % where)
        headers = wanted
    if match and len(methods) not in (0, len(match)):
        raise ReleaseError("%s: name a method in every match entry, or in none (then GET and HEAD are mirrored)"
                           % where)
    try:
        return Mirror(spec.get("name"), spec.get("percentage", 100), methods or SAFE_METHODS, headers)
    except RouterError as e:
        raise ReleaseError("%s: %s" % (where, e))


def mirror_steps(steps):
    """The Mirror of every setMirrorRoute step that sets one, in order."""
    return [m for m in (mirror_of(s, i) for i, s in enumerate(steps) if "setMirrorRoute" in s) if m]


def dark_until(steps):
    """The index of the first step that routes users to the canary (a positive setWeight) when a setMirrorRoute step
    comes before it - the release is dark until then: no user, cohorts included, is served by the canary - else
    None."""
    for index, step in enumerate(steps):
        if "setMirrorRoute" in step:
            return next((i for i in range(index + 1, len(steps)) if steps[i].get("setWeight")), len(steps))
        if step.get("setWeight"):
            return None
    return None
