# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phases, defaults and the spec error, shared by every part of the analysis package."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

PENDING = "Pending"
RUNNING = "Running"
SUCCESSFUL = "Successful"
FAILED = "Failed"
ERROR = "Error"
INCONCLUSIVE = "Inconclusive"
COMPLETED = (SUCCESSFUL, FAILED, ERROR, INCONCLUSIVE)
# Argo's IsWorse order, best to worst
SEVERITY = {SUCCESSFUL: 0, RUNNING: 1, PENDING: 2, INCONCLUSIVE: 3, ERROR: 4, FAILED: 5}

DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
DEFAULT_MEASUREMENT_HISTORY = 10
ERROR_RETRY_SECONDS = 10.0
# With max_duration, a measurement due this close to the end is not started (a metric's first always is):
# it could only be cut short by the limit, which would end the run Error for want of time, not of data.
START_MARGIN_SECONDS = 0.25
NO_DATA = "metric result is nil or empty: no data returned from the metric provider"

MODES = ("run", "once", "validate")
ON_EMPTY = ("fail", "argo")


class AnalysisSpecError(Exception):
    """The template cannot be run as given: bad args, invalid metric, unknown template or provider."""


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
