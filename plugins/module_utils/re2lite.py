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
import unicodedata

__all__ = ["RegexError", "Regex", "compile_regex", "search", "MAX_REPEAT", "MAX_PROGRAM", "MAX_NESTING"]

MAX_REPEAT = 1000        # RE2: a counted repetition (and nested ones multiplied) is at most 1000
MAX_PROGRAM = 100000     # instructions in a compiled pattern ("regular expression too large")
MAX_NESTING = 100        # nested groups
_CACHE_WEIGHT = 1000000  # states held by one pattern's transition cache before it is reset
_CHARGE_EVERY = 4096     # characters between two calls of the caller's cost callback


class RegexError(ValueError):
    """A pattern that RE2 rejects or that this matcher does not support."""


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


# --------------------------------------------------------------------------- compiler


class _Compiler(object):
    def __init__(self):
        self.prog = []

    def add(self, inst):
        if len(self.prog) >= MAX_PROGRAM:
            raise RegexError("regular expression too large (more than %d instructions)" % MAX_PROGRAM)
        self.prog.append(inst)
        return len(self.prog) - 1

    def emit(self, node):
        kind = node[0]
        if kind == "char":
            self.add(["char", node[1]])
        elif kind == "assert":
            self.add(["assert", node[1]])
        elif kind == "group":
            self.emit(node[1])
        elif kind == "cat":
            for child in node[1]:
                self.emit(child)
        elif kind == "alt":
            jumps = []
            for child in node[1][:-1]:
                split = self.add(["split", len(self.prog) + 1, None])
                self.emit(child)
                jumps.append(self.add(["jmp", None]))
                self.prog[split][2] = len(self.prog)
            self.emit(node[1][-1])
            for j in jumps:
                self.prog[j][1] = len(self.prog)
        elif kind == "rep":
            body, lo, hi = node[1], node[2], node[3]
            if hi is None and lo >= 1:
                for _copy in range(lo - 1):
                    self.emit(body)
                start = len(self.prog)
                self.emit(body)
                self.add(["split", start, len(self.prog) + 1])
                return
            for _copy in range(lo):
                self.emit(body)
            if hi is None:
                split = self.add(["split", len(self.prog) + 1, None])
                self.emit(body)
                self.add(["jmp", split])
                self.prog[split][2] = len(self.prog)
                return
            splits = []
            for _copy in range(hi - lo):
                splits.append(self.add(["split", len(self.prog) + 1, None]))
                self.emit(body)
            for s in splits:
                self.prog[s][2] = len(self.prog)


# --------------------------------------------------------------------------- matcher


class Regex(object):
    """A compiled pattern. ``search(text)`` is Go's ``regexp.MatchString``: is there a match anywhere."""

    def __init__(self, pattern):
        if not isinstance(pattern, str):
            raise RegexError("a pattern must be a string")
        self.pattern = pattern
        self.literal = None
        if not any(ch in ".[]()*+?{}|^$\\" for ch in pattern):
            self.literal = pattern        # no metacharacter: a substring test
            return
        try:
            tree = _Parser(pattern).parse()
            compiler = _Compiler()
            compiler.emit(tree)
        except RecursionError:
            raise RegexError("regular expression nested too deeply")
        compiler.add(["match"])
        prog = compiler.prog
        self.match_pc = len(prog) - 1
        self.kinds = [inst[0] for inst in prog]
        self.classes = [inst[1] if inst[0] == "char" else None for inst in prog]
        self.prog = [tuple(inst) for inst in prog]
        self.asserts = 0
        for inst in prog:
            if inst[0] == "assert":
                self.asserts |= inst[1]
        self._closures = {}
        self._steps = {}
        self._weight = 0

    def _context(self, text, i, n):
        if not self.asserts:
            return 0
        prev = text[i - 1] if i > 0 else None
        nxt = text[i] if i < n else None
        ctx = 0
        if i == 0:
            ctx |= _BOT | _BOL
        elif prev == "\n":
            ctx |= _BOL
        if i == n:
            ctx |= _EOT | _EOL
        elif nxt == "\n":
            ctx |= _EOL
        ctx |= _WB if _is_word(prev) != _is_word(nxt) else _NWB
        return ctx

    def _closure(self, seeds, ctx):
        """The character-consuming states (and the match state) reachable from ``seeds`` without input."""
        key = (seeds, ctx)
        found = self._closures.get(key)
        if found is not None:
            return found
        prog, kinds = self.prog, self.kinds
        seen = set()
        out = []
        stack = list(seeds)
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            kind = kinds[pc]
            if kind == "char" or kind == "match":
                out.append(pc)
            elif kind == "split":
                stack.append(prog[pc][2])
                stack.append(prog[pc][1])
            elif kind == "jmp":
                stack.append(prog[pc][1])
            elif ctx & prog[pc][1]:            # assert
                stack.append(pc + 1)
        found = frozenset(out)
        self._remember(self._closures, key, found, len(seen))
        return found

    def _remember(self, cache, key, value, weight):
        self._weight += weight + 1
        if self._weight > _CACHE_WEIGHT:
            self._closures.clear()
            self._steps.clear()
            self._weight = weight + 1
        cache[key] = value

    def search(self, text, charge=None):
        """True when the pattern matches somewhere in ``text``.

        ``charge(units)`` is called as the work proceeds (about one unit per 8 characters and one per
        state on a new transition), so that a caller with a budget can stop a long match by raising.
        """
        if not isinstance(text, str):
            raise RegexError("can only match a string")
        if self.literal is not None:
            if charge is not None:
                charge(len(text) // 64 + 1)
            return self.literal in text
        n = len(text)
        match_pc = self.match_pc
        start = frozenset([0])
        states = self._closure(start, self._context(text, 0, n))
        if match_pc in states:
            return True
        steps, classes = self._steps, self.classes
        anchored = self.kinds[0] == "assert" and self.prog[0][1] == _BOT
        cost = 0
        charged = 0
        for i in range(n):
            c = text[i]
            ctx = self._context(text, i + 1, n)
            key = (states, c, ctx)
            nxt = steps.get(key)
            if nxt is None:
                seeds = set(pc + 1 for pc in states if pc != match_pc and classes[pc].matches(c))
                if not anchored:
                    seeds.add(0)
                nxt = self._closure(frozenset(seeds), ctx)
                self._remember(steps, key, nxt, len(states))
                cost += len(states) + len(nxt)
            if match_pc in nxt:
                return True
            if not nxt and anchored:
                return False
            states = nxt
            if charge is not None and i - charged >= _CHARGE_EVERY:
                charge(cost + (i - charged) // 8)
                cost, charged = 0, i
        if charge is not None:
            charge(cost + (n - charged) // 8 + 1)
        return False


@functools.lru_cache(maxsize=128)
def compile_regex(pattern):
    """A compiled, cached pattern; RegexError when RE2 would reject it or it is not supported."""
    return Regex(pattern)


def search(pattern, text, charge=None):
    """Go's regexp.MatchString(pattern, text): is there a match anywhere in text."""
    return compile_regex(pattern).search(text, charge)
