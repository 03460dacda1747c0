# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Character classes: [a-z], \\d, [[:alpha:]], \\pL, case folding."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import unicodedata

from ansible_collections.progressive.delivery.plugins.module_utils.re2lite.common import (  # noqa: F401
    RegexError)

# --------------------------------------------------------------------------- character classes

_BOT, _EOT, _BOL, _EOL, _WB, _NWB = 1, 2, 4, 8, 16, 32


def _is_word(c):
    return c is not None and (c == "_" or ("0" <= c <= "9") or ("a" <= c <= "z") or ("A" <= c <= "Z"))


class _Class(object):
    """A set of characters: ranges of code points, sub-classes, a predicate; maybe negated or case-folded."""

    __slots__ = ("ranges", "subs", "pred", "negate", "fold")

    def __init__(self, ranges=(), subs=(), pred=None, negate=False, fold=False):
        self.ranges = list(ranges)
        self.subs = list(subs)
        self.pred = pred
        self.negate = negate
        self.fold = fold

    def _hit(self, c):
        o = ord(c)
        for lo, hi in self.ranges:
            if lo <= o <= hi:
                return True
        if self.pred is not None and self.pred(c):
            return True
        for sub in self.subs:
            if sub.matches(c):
                return True
        return False

    def matches(self, c):
        hit = self._hit(c)
        if not hit and self.fold:
            for variant in (c.lower(), c.upper()):
                if len(variant) == 1 and variant != c and self._hit(variant):
                    hit = True
                    break
        return hit != self.negate

    def literal(self):
        """The one character this class matches exactly, or None."""
        if (not self.negate and not self.fold and not self.subs and self.pred is None
                and len(self.ranges) == 1 and self.ranges[0][0] == self.ranges[0][1]):
            return chr(self.ranges[0][0])
        return None


def _ranges(spec):
    return [(ord(a), ord(b)) for a, b in spec]


_PERL = {
    "d": _ranges([("0", "9")]),
    "s": _ranges([("\t", "\n"), ("\f", "\r"), (" ", " ")]),
    "w": _ranges([("0", "9"), ("A", "Z"), ("a", "z"), ("_", "_")]),
}

_POSIX = {
    "alnum": _ranges([("0", "9"), ("A", "Z"), ("a", "z")]),
    "alpha": _ranges([("A", "Z"), ("a", "z")]),
    "ascii": [(0, 0x7F)],
    "blank": _ranges([("\t", "\t"), (" ", " ")]),
    "cntrl": [(0, 0x1F), (0x7F, 0x7F)],
    "digit": _ranges([("0", "9")]),
    "graph": [(0x21, 0x7E)],
    "lower": _ranges([("a", "z")]),
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": _ranges([("\t", "\r"), (" ", " ")]),
    "upper": _ranges([("A", "Z")]),
    "word": _ranges([("0", "9"), ("A", "Z"), ("a", "z"), ("_", "_")]),
    "xdigit": _ranges([("0", "9"), ("A", "F"), ("a", "f")]),
}

_CATEGORIES = frozenset(["C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me",
                         "Mn", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps",
                         "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs"])


def _unicode_class(name, negate, fold):
    if name == "Any":
        return _Class([(0, 0x10FFFF)], negate=negate)
    if name not in _CATEGORIES:
        raise RegexError("\\p{%s}: only Unicode general categories (L, Lu, Nd, ...) are supported, "
                         "not scripts or other properties" % name)
    if len(name) == 1:
        return _Class(pred=lambda c: unicodedata.category(c)[0] == name, negate=negate, fold=fold)
    return _Class(pred=lambda c: unicodedata.category(c) == name, negate=negate, fold=fold)
