# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations as Argo Rollouts writes them (Go's time.ParseDuration: 30s, 5m, 1h30m, 500ms)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)")


def parse_go_duration(text):
    """Seconds in a Go duration string ("1h30m" -> 5400.0, "500ms" -> 0.5, "-2s" -> -2.0).

    A bare number is not a duration in Go; ``duration_seconds`` accepts numbers separately.
    """
    if not isinstance(text, str):
        raise ValueError("a duration must be a string like 30s, 5m or 1h30m, got %r" % (text,))
    s = text.strip()
    sign = 1.0
    if s[:1] in ("+", "-"):
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    parts = _PART.findall(s)
    if not s or "".join(num + unit for num, unit in parts) != s:
        raise ValueError('invalid duration "%s": use numbers with units ns, us, ms, s, m, h, '
                         'e.g. 30s, 5m, 1h30m' % text)
    return sign * sum(float(num) * _UNITS[unit] for num, unit in parts)


def duration_seconds(value):
    """Seconds in a duration given as a Go duration string or as a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration cannot be a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and re.match(r"^\s*\d+(\.\d+)?\s*$", value):
        return float(value)
    return parse_go_duration(value)
