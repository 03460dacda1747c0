# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RE2 syntax to a tree, refusing what RE2 refuses (backreferences, lookaround, ...) by name."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.re2lite.common import (  # noqa: F401
    MAX_NESTING, MAX_REPEAT, RegexError)
from ansible_collections.progressive.delivery.plugins.module_utils.re2lite.classes import (  # noqa: F401
    _BOL, _BOT, _Class, _EOL, _EOT, _NWB, _PERL, _POSIX, _WB, _unicode_class)

# --------------------------------------------------------------------------- parser


class _Parser(object):
    """Pattern text -> syntax tree, iteratively (no recursion per group), with RE2's rules."""

    def __init__(self, pattern):
        self.p = pattern
        self.i = 0

    def error(self, message):
        return RegexError(message)

    def parse(self):
        p, n = self.p, len(self.p)
        flags = {"i": False, "m": False, "s": False, "U": False}
        stack = []          # (alternatives, concat, flags) of the enclosing groups
        alts, cur = [], []
        last_repeat_end, last_lazy = -1, False
        while self.i < n:
            c = p[self.i]
            if c == "(":
                group_flags = self.group(flags)
                if group_flags is None:           # (?flags) applies to the rest of this group
                    continue
                if len(stack) >= MAX_NESTING:
                    raise self.error("regular expression nested too deeply (more than %d groups)" % MAX_NESTING)
                stack.append((alts, cur, flags))
                alts, cur, flags = [], [], group_flags
                continue
            if c == ")":
                if not stack:
                    raise self.error("unexpected ): `%s`" % p)
                node = _alt(alts + [cur])
                alts, cur, flags = stack.pop()
                cur.append(("group", node))
                self.i += 1
                continue
            if c == "|":
                alts.append(cur)
                cur = []
                self.i += 1
                continue
            rep = self.repetition(c)
            if rep is not None:
                start = self.i
                lo, hi, length, counted = rep
                if c == "?" and start == last_repeat_end and not last_lazy:   # lazy form: same language
                    self.i += 1
                    last_repeat_end, last_lazy = self.i, True
                    continue
                op = p[start:start + length]
                if not cur:
                    raise self.error("missing argument to repetition operator: `%s`" % op)
                if cur[-1][0] == "rep" and start == last_repeat_end:
                    raise self.error("invalid nested repetition operator: `%s`" % p[cur[-1][4]:start + length])
                node = ("rep", cur[-1], lo, hi, start, counted)
                if counted and (lo >= 2 or (hi is not None and hi >= 2)) and not _repeat_is_valid(node, MAX_REPEAT):
                    raise self.error("invalid repeat count: `%s`" % op)
                cur[-1] = node
                self.i = start + length
                if self.i < n and p[self.i] == "+":
                    raise self.error("possessive quantifiers are not supported (RE2 has none): `%s+`" % op)
                last_repeat_end, last_lazy = self.i, False
                continue
            cur.extend(self.atom(flags))
        if stack:
            raise self.error("missing closing ): `%s`" % p)
        return _alt(alts + [cur])

    def repetition(self, c):
        """(min, max or None, length) when a repetition operator starts here."""
        if c == "*":
            return 0, None, 1, False
        if c == "+":
            return 1, None, 1, False
        if c == "?":
            return 0, 1, 1, False
        if c != "{":
            return None
        p, j = self.p, self.i + 1
        k = j
        while k < len(p) and p[k].isascii() and p[k].isdigit():
            k += 1
        if k == j:
            return None                      # "a{" or "a{x" is a literal brace in RE2
        lo = int(p[j:k]) if k - j <= 6 else MAX_REPEAT + 1
        hi = lo
        if k < len(p) and p[k] == ",":
            k += 1
            m = k
            while k < len(p) and p[k].isascii() and p[k].isdigit():
                k += 1
            hi = None if k == m else (int(p[m:k]) if k - m <= 6 else MAX_REPEAT + 1)
        if k >= len(p) or p[k] != "}":
            return None
        op = p[self.i:k + 1]
        if lo > MAX_REPEAT or (hi is not None and (hi > MAX_REPEAT or hi < lo)):
            raise self.error("invalid repeat count: `%s`" % op)
        return lo, hi, k + 1 - self.i, True

    def group(self, flags):
        """At '(': the flags inside the new group, or None for a bare (?flags) that changes ``flags``."""
        p, i = self.p, self.i
        if not p.startswith("(?", i):
            self.i += 1
            return dict(flags)
        rest = p[i + 2:i + 5]
        unsupported = (("?=", "lookahead (?=...)"), ("?!", "negative lookahead (?!...)"),
                       ("?<=", "lookbehind (?<=...)"), ("?<!", "negative lookbehind (?<!...)"),
                       ("?>", "atomic groups (?>...)"), ("?#", "comments (?#...)"),
                       ("?P=", "backreferences (?P=name)"), ("?P>", "recursion (?P>name)"),
                       ("?R", "recursion (?R)"), ("?|", "branch reset (?|...)"))
        for prefix, what in unsupported:
            if p.startswith(prefix, i + 1):
                raise self.error("%s not supported: RE2 does not support %s" % (p[i:i + 1 + len(prefix)], what))
        if rest.startswith("P<") or (rest.startswith("<") and not rest.startswith("<=")):
            start = i + (4 if rest.startswith("P<") else 3)
            end = p.find(">", start)
            name = p[start:end] if end >= 0 else ""
            if end < 0 or not name or not all(ch == "_" or (ch.isascii() and ch.isalnum()) for ch in name):
                raise self.error("invalid named capture: `%s`" % p[i:(end + 1 if end >= 0 else len(p))])
            self.i = end + 1
            return dict(flags)
        j = i + 2
        new = dict(flags)
        negate = False
        seen = False
        while j < len(p):
            ch = p[j]
            if ch in "imsU":
                new[ch] = not negate
                seen = True
            elif ch == "-" and not negate:
                negate = True
                seen = False
            elif ch == ":":
                if negate and not seen:
                    break
                self.i = j + 1
                return new
            elif ch == ")":
                if (negate and not seen) or j == i + 2:
                    break
                flags.clear()
                flags.update(new)
                self.i = j + 1
                return None
            else:
                break
            j += 1
        raise self.error("invalid or unsupported Perl syntax: `%s`" % p[i:j + 1])

    def atom(self, flags):
        p, c = self.p, self.p[self.i]
        if c == "[":
            return [("char", self.char_class(flags))]
        self.i += 1
        if c == ".":
            if flags["s"]:
                return [("char", _Class([(0, 0x10FFFF)]))]
            return [("char", _Class([(10, 10)], negate=True))]
        if c == "^":
            return [("assert", _BOL if flags["m"] else _BOT)]
        if c == "$":
            return [("assert", _EOL if flags["m"] else _EOT)]
        if c != "\\":
            return [("char", self.literal(c, flags))]
        if self.i >= len(p):
            raise self.error("trailing backslash at end of expression")
        e = p[self.i]
        if e == "Q":
            end = p.find("\\E", self.i + 1)
            text = p[self.i + 1:] if end < 0 else p[self.i + 1:end]
            self.i = len(p) if end < 0 else end + 2
            return [("char", self.literal(ch, flags)) for ch in text]
        asserts = {"A": _BOT, "z": _EOT, "b": _WB, "B": _NWB}
        if e in asserts:
            self.i += 1
            return [("assert", asserts[e])]
        cls = self.escape_class(flags)
        if cls is not None:
            return [("char", cls)]
        return [("char", self.literal(self.escape_char(), flags))]

    @staticmethod
    def literal(ch, flags):
        o = ord(ch)
        return _Class([(o, o)], fold=flags["i"] and ch.lower() != ch.upper())

    def escape_class(self, flags):
        """\\d \\pL ... at self.i (just after the backslash), or None."""
        p, e = self.p, self.p[self.i]
        if e.lower() in _PERL:
            self.i += 1
            return _Class(_PERL[e.lower()], negate=e.isupper())
        if e in "pP":
            j = self.i + 1
            if j >= len(p):
                raise self.error("invalid character class range: `\\%s`" % e)
            if p[j] == "{":
                end = p.find("}", j)
                if end < 0:
                    raise self.error("invalid character class range: `%s`" % p[self.i - 1:])
                name, self.i = p[j + 1:end], end + 1
            else:
                name, self.i = p[j], j + 1
            negate = e == "P"
            if name.startswith("^"):
                name, negate = name[1:], not negate
            return _unicode_class(name, negate, flags["i"])
        return None

    def escape_char(self):
        """The character of an escape like \\n, \\x41, \\101 or \\. at self.i (just after the backslash)."""
        p, e = self.p, self.p[self.i]
        self.i += 1
        simple = {"a": "\a", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
        if e in simple:
            return simple[e]
        if "1" <= e <= "7" and not (self.i < len(p) and "0" <= p[self.i] <= "7"):
            raise self.error("backreferences are not supported (RE2 has none): `\\%s`" % e)
        if "0" <= e <= "7":
            digits = e
            while len(digits) < 3 and self.i < len(p) and "0" <= p[self.i] <= "7":
                digits += p[self.i]
                self.i += 1
            return chr(int(digits, 8))
        if e == "x":
            if p.startswith("{", self.i):
                end = p.find("}", self.i)
                text = p[self.i + 1:end] if end > self.i + 1 else ""
                if not text or len(text) > 8 or not all(ch in "0123456789abcdefABCDEF" for ch in text) \
                        or int(text, 16) > 0x10FFFF:
                    raise self.error("invalid escape sequence: `\\x%s`" % p[self.i:self.i + 10])
                self.i = end + 1
                return chr(int(text, 16))
            text = p[self.i:self.i + 2]
            if len(text) != 2 or not all(ch in "0123456789abcdefABCDEF" for ch in text):
                raise self.error("invalid escape sequence: `\\x%s`" % text)
            self.i += 2
            return chr(int(text, 16))
        if e in "89":
            raise self.error("backreferences are not supported (RE2 has none): `\\%s`" % e)
        if ord(e) < 0x80 and not e.isalnum():
            return e
        named = {"Z": "\\Z is not supported (RE2 writes the end of text \\z)",
                 "C": "\\C (any byte) is not supported",
                 "G": "\\G is not supported by RE2", "K": "\\K is not supported by RE2",
                 "R": "\\R is not supported by RE2", "X": "\\X is not supported by RE2",
                 "k": "backreferences (\\k<name>) are not supported (RE2 has none)",
                 "g": "backreferences (\\g) are not supported (RE2 has none)"}
        if e in named:
            raise self.error(named[e])
        raise self.error("invalid escape sequence: `\\%s`" % e)

    def char_class(self, flags):
        p, n = self.p, len(self.p)
        start = self.i
        self.i += 1
        negate = False
        if self.i < n and p[self.i] == "^":
            negate = True
            self.i += 1
        ranges, subs = [], []
        first = True
        while True:
            if self.i >= n:
                raise self.error("missing closing ]: `%s`" % p[start:])
            c = p[self.i]
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[" and p.startswith("[:", self.i):
                end = p.find(":]", self.i + 2)
                if end >= 0:
                    name = p[self.i + 2:end]
                    neg = name.startswith("^")
                    name = name[1:] if neg else name
                    if name not in _POSIX:
                        raise self.error("invalid character class range: `%s`" % p[self.i:end + 2])
                    subs.append(_Class(_POSIX[name], negate=neg))
                    self.i = end + 2
                    continue
            if c == "\\":
                self.i += 1
                if self.i >= n:
                    raise self.error("missing closing ]: `%s`" % p[start:])
                cls = self.escape_class(flags)
                if cls is not None:
                    subs.append(cls)
                    continue
                if p[self.i] in "bBAzQ":
                    raise self.error("invalid escape sequence in a character class: `\\%s`" % p[self.i])
                lo = self.escape_char()
            else:
                lo = c
                self.i += 1
            hi = lo
            if self.i + 1 < n and p[self.i] == "-" and p[self.i + 1] != "]":
                self.i += 1
                c = p[self.i]
                if c == "\\":
                    self.i += 1
                    if self.i >= n:
                        raise self.error("missing closing ]: `%s`" % p[start:])
                    if p[self.i] in "dDsSwWpP":
                        raise self.error("invalid character class range: `%s`" % p[start:self.i + 1])
                    hi = self.escape_char()
                else:
                    hi = c
                    self.i += 1
                if ord(hi) < ord(lo):
                    raise self.error("invalid character class range: `%s-%s`" % (lo, hi))
            ranges.append((ord(lo), ord(hi)))
        return _Class(ranges, subs, negate=negate, fold=flags["i"])


def _alt(branches):
    nodes = [_cat(b) for b in branches]
    return nodes[0] if len(nodes) == 1 else ("alt", nodes)


def _cat(items):
    if not items:
        return ("empty",)
    return items[0] if len(items) == 1 else ("cat", items)


def _repeat_is_valid(node, limit):
    """RE2's repeatIsValid: nested counted repetitions multiply, and the product is at most 1000."""
    stack = [(node, limit)]
    while stack:
        node, n = stack.pop()
        kind = node[0]
        if kind == "rep":
            lo, hi = node[2], node[3]
            if node[5]:
                m = lo if hi is None else hi
                if m > n:
                    return False
                if m > 0:
                    n //= m
            stack.append((node[1], n))
        elif kind == "group":
            stack.append((node[1], n))
        elif kind in ("cat", "alt"):
            stack.extend((child, n) for child in node[1])
    return True
