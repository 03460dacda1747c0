# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release and drill reports: HTML with plots (release_report_html, drill_report_html), JUnit XML for CI
(release_junit, drill_junit) and the file name a release's reports share (release_report_name).
Each is documented in plugins/filter/<name>.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError
from ansible_collections.progressive.delivery.plugins.module_utils import evidence, fleet, junit, report_html
from ansible_collections.progressive.delivery.plugins.module_utils.release.state import ReleaseState

UNSAFE_IN_NAMES = re.compile(r"[^A-Za-z0-9._-]+")


def _reported(render, what):
    def filter_(value, *args, **kwargs):
        if not isinstance(value, dict):
            raise AnsibleFilterError("%s: expected a dictionary (a release state or a drill report), got %s"
                                     % (what, type(value).__name__))
        try:
            return render(dict(value), *args, **kwargs)
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise AnsibleFilterError("%s: %s" % (what, e))
    return filter_


def release_report_name(state):
    """NAME-VERSION-STARTED (UTC, e.g. checkout-v2-20261130T041200Z): two releases of the same version never
    share a report (a retry of an aborted one is an attempt of its own, named after the retry); one release
    keeps its name however often its playbook runs."""
    state = ReleaseState.from_dict(state)
    if not state.history:
        raise ValueError("the release has no history: it never started")
    started = evidence.attempt(state.history)[0]["at"]  # 2026-11-30T04:12:00.12Z
    stamp = started[:19].replace("-", "").replace(":", "") + "Z"
    return "-".join(UNSAFE_IN_NAMES.sub("_", str(part or "")).strip("._-") or "unknown"
                    for part in (state.release, state.canary_version, stamp))


class FilterModule(object):
    def filters(self):
        return {"release_report_html": _reported(report_html.release_html, "release_report_html"),
                "drill_report_html": _reported(report_html.drill_html, "drill_report_html"),
                "release_junit": _reported(junit.release_junit, "release_junit"),
                "drill_junit": _reported(junit.drill_junit, "drill_junit"),
                "release_report_name": _reported(release_report_name, "release_report_name"),
                "fleet_report": _reported(fleet.fleet_report, "fleet_report"),
                "fleet_report_html": _reported(fleet.fleet_html, "fleet_report_html")}
