# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Ansible-controlled release: Argo's step plan (setWeight / pause / analysis) walked over a
traffic router, the state kept where the router lives so an interrupted job resumes where it stopped.

- ``plan``: the steps, their defaults and checks;
- ``state``: ReleaseState, the typed record of a release and what is read from it (verdict, series);
- ``walker``: Release, which walks the plan and carries the operators' verbs;
- ``freeze``: the freeze windows in which no release starts.

Phases follow Argo Rollouts: Progressing, Paused (a pause without duration, or an Inconclusive
analysis, waits for a person), Healthy (promoted), Degraded (aborted: all traffic on stable)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.release.plan import (  # noqa: F401
    DEFAULT_WEIGHTS, STRATEGIES, ReleaseError, bluegreen_plan, default_plan, pause_seconds,
    validate_plan)
from ansible_collections.progressive.delivery.plugins.module_utils.release.state import (  # noqa: F401
    DEGRADED, FAILED_HELD, FAILING, HEALTHY, PAUSED, PROGRESSING, ReleaseState, summarize)
from ansible_collections.progressive.delivery.plugins.module_utils.release.walker import (  # noqa: F401
    Frozen, Interrupted, Release)
from ansible_collections.progressive.delivery.plugins.module_utils.release.freeze import (  # noqa: F401
    FreezeError, active_freeze, parse_windows)
from ansible_collections.progressive.delivery.plugins.module_utils.release_store import actor  # noqa: F401
