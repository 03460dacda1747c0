# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The limits and the error of the RE2 matcher."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MAX_REPEAT = 1000        # RE2: a counted repetition (and nested ones multiplied) is at most 1000
MAX_PROGRAM = 100000     # instructions in a compiled pattern ("regular expression too large")
MAX_NESTING = 100        # nested groups
_CACHE_WEIGHT = 1000000  # states held by one pattern's transition cache before it is reset
_CHARGE_EVERY = 4096     # characters between two calls of the caller's cost callback


class RegexError(ValueError):
    """A pattern that RE2 rejects or that this matcher does not support."""
