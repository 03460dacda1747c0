# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The step plan: Argo's ``setWeight`` / ``pause`` / ``analysis`` steps, the defaults, and the checks a plan
passes before anything runs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.routers import validate_weight

DEFAULT_WEIGHTS = (10, 25, 50, 75)
STRATEGIES = ("canary", "blueGreen")


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
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ReleaseError("step %d must be a mapping such as {setWeight: 10}, got %r" % (i, step))
        kinds = [k for k in ("setWeight", "pause", "analysis") if k in step]
        if len(kinds) != 1 or len(step) != 1:
            raise ReleaseError("step %d must have exactly one of setWeight, pause or analysis, got %s" % (i, step))
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


def pause_seconds(duration):
    """A pause's duration ("30s", "5m", or a number of seconds) in seconds."""
    if isinstance(duration, bool) or not isinstance(duration, (str, int, float)):
        raise ValueError("a duration is a string such as 30s or a number of seconds")
    seconds = parse_go_duration(duration) if isinstance(duration, str) else float(duration)
    if not 0 <= seconds < 366 * 86400:
        raise ValueError("must be from 0 to a year")
    return seconds
