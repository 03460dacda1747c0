# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Limits and the error of the expression language, shared by the lexer, the parser and the evaluator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MAX_SOURCE = 100000     # characters in one expression
MAX_DEPTH = 100         # nesting levels in the parser (and 3x that in the syntax tree)
MAX_ITEMS = 100000      # items in an array or map the expression builds
MAX_STRING = 1000000    # characters in a string the expression builds
MAX_STEPS = 1000000     # evaluation budget: node visits + per-item work in built-ins
MAX_TREE_DEPTH = 3 * MAX_DEPTH
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1
MAX_DURATION = 9223372036.854775807  # seconds in Go's time.Duration (int64 nanoseconds)


class ExprError(Exception):
    """A syntax, name or runtime error, with the 1-based column where known."""

    def __init__(self, message, source=None, pos=None):
        self.message = message
        self.source = source
        self.pos = pos
        super(ExprError, self).__init__(self.render())

    def render(self):
        if self.source is None or self.pos is None:
            return self.message
        return "%s (1:%d)\n | %s\n | %s^" % (self.message, self.pos + 1, self.source, " " * self.pos)


def brief(text, limit=40):
    """User text quoted in a message, cut short."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."
