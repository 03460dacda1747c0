# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A linear-time regular expression matcher for the RE2 syntax Argo Rollouts users write.

Argo Rollouts evaluates ``matches`` with Go's ``regexp`` package (RE2 syntax and semantics): a
match never backtracks, so no pattern can take exponential time. Python's ``re`` backtracks, and
``(a|a)*$`` against ``"a" * 28 + "!"`` runs for a minute. This module compiles a pattern to a
Thompson NFA and simulates it with one set of states per input character (Pike's method), caching
the transitions it has seen like RE2's lazy DFA: time is O(len(text) * len(program)) at worst.

Supported, as in RE2: literals and escapes (``\\n \\t \\x41 \\x{263a} \\101 \\.`` ...), ``.``, classes
``[a-z] [^0-9] [[:alpha:]] [\\d_]``, ``\\d \\w \\s \\D \\W \\S``, ``\\pL \\p{Lu} \\PN``, ``\\Q...\\E``,
anchors ``^ $ \\A \\z \\b \\B``, groups ``( ) (?: ) (?P<name> ) (?<name> )``, alternation ``|``,
``* + ?`` and their lazy forms, counted repetition ``{n} {n,} {n,m}`` (at most 1000, as RE2), and the
flags ``(?i) (?m) (?s) (?U)`` (also scoped: ``(?i:...)``). RE2 rejects backreferences, lookahead and
lookbehind, atomic groups and possessive quantifiers; so does this module, with an error that names
the construct. Only "is there a match" is answered (Go's ``regexp.MatchString``): no captures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible_collections.progressive.delivery.plugins.module_utils.re2lite.common import (  # noqa: F401
    MAX_NESTING, MAX_PROGRAM, MAX_REPEAT, RegexError)
from ansible_collections.progressive.delivery.plugins.module_utils.re2lite.matcher import (  # noqa: F401
    Regex)

__all__ = ["RegexError", "Regex", "compile_regex", "search", "MAX_REPEAT", "MAX_PROGRAM", "MAX_NESTING"]


@functools.lru_cache(maxsize=128)
def compile_regex(pattern):
    """A compiled, cached pattern; RegexError when RE2 would reject it or it is not supported."""
    return Regex(pattern)


def search(pattern, text, charge=None):
    """Go's regexp.MatchString(pattern, text): is there a match anywhere in text."""
    return compile_regex(pattern).search(text, charge)
