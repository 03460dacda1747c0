# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tree to a Thompson NFA program, simulated one set of states per character (Pike), with a bounded
transition cache: linear in the text."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.re2lite.common import (  # noqa: F401
    MAX_PROGRAM, RegexError, _CACHE_WEIGHT, _CHARGE_EVERY)
from ansible_collections.progressive.delivery.plugins.module_utils.re2lite.classes import (  # noqa: F401
    _BOL, _BOT, _EOL, _EOT, _NWB, _WB, _is_word)
from ansible_collections.progressive.delivery.plugins.module_utils.re2lite.parser import (  # noqa: F401
    _Parser)

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
