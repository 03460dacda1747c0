# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tokens -> a syntax tree of named nodes, with expr-lang's precedence; nesting bounded by MAX_DEPTH."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.progressive.delivery.plugins.module_utils.expr.common import MAX_DEPTH, ExprError
from ansible_collections.progressive.delivery.plugins.module_utils.expr.lexer import tokenize

# The syntax tree. ``pos`` is the 0-based column an error points at.
Lit = namedtuple("Lit", "value")                          # a number, string, true, false or nil
Name = namedtuple("Name", "name pos")                     # a variable of the environment (result)
Pointer = namedtuple("Pointer", "pos")                    # `#`, the current element in a predicate
Array = namedtuple("Array", "items pos")                  # [a, b]
Map = namedtuple("Map", "pairs pos")                      # {key: value}, of Pair
Pair = namedtuple("Pair", "key value pos")
Cond = namedtuple("Cond", "test yes no pos")              # test ? yes : no
Unary = namedtuple("Unary", "ops operand")                # prefix operators [(op, pos)], innermost last
Member = namedtuple("Member", "obj key optional pos")     # obj.key, obj?.key, obj[key]
Slice = namedtuple("Slice", "obj lo hi pos")              # obj[lo:hi]
Call = namedtuple("Call", "name args pos")                # f(args); a predicate argument is a Closure
Closure = namedtuple("Closure", "body")                   # {# > 1}, or # > 1
Chain = namedtuple("Chain", "first items right_assoc")    # binary operators of one precedence, of ChainItem
ChainItem = namedtuple("ChainItem", "op right pos")

_BINARY = {
    "or": 10, "||": 10,
    "and": 15, "&&": 15,
    "==": 20, "!=": 20, "<": 20, ">": 20, "<=": 20, ">=": 20, "in": 20, "not in": 20,
    "matches": 20, "contains": 20, "startsWith": 20, "endsWith": 20,
    "..": 25,
    "+": 30, "-": 30,
    "*": 60, "/": 60, "%": 60,
    "**": 100, "^": 100,
    "??": 500,
}
_RIGHT_ASSOC = ("**", "^")
_UNARY_PREC = 90
_WORD_OPS = ("or", "and", "in", "matches", "contains", "startsWith", "endsWith")
_CONSTANTS = {"true": True, "false": False, "nil": None}
# builtins whose argument at this index is a predicate evaluated per element with `#`
CLOSURE_ARG = {"all": 1, "any": 1, "none": 1, "one": 1, "filter": 1, "map": 1, "count": 1,
               "find": 1, "findIndex": 1, "findLast": 1, "findLastIndex": 1, "sum": 1,
               "sortBy": 1, "groupBy": 1}
TOO_DEEP = "expression nested too deeply (more than %d levels)" % MAX_DEPTH


class Parser(object):
    """Tokens -> syntax tree. Binary operators of one precedence form one flat ``chain`` node and
    prefix operators one ``unary`` node, so long chains never recurse per operand."""

    def __init__(self, source):
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.closure_depth = 0
        self.depth = 0

    def peek(self, offset=0):
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self):
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message, tok=None):
        tok = tok or self.peek()
        return ExprError(message, self.source, tok.pos)

    def is_op(self, value, tok=None):
        tok = tok or self.peek()
        return tok.kind == "op" and tok.value == value

    def expect(self, value):
        tok = self.peek()
        if not self.is_op(value, tok):
            found = "end of input" if tok.kind == "eof" else repr(tok.value)
            raise self.error("expected %r but found %s" % (value, found), tok)
        return self.next()

    def parse(self):
        if self.peek().kind == "eof":
            raise self.error("empty expression")
        node = self.ternary()
        tok = self.peek()
        if tok.kind != "eof":
            raise self.error("unexpected token %r" % (tok.value,), tok)
        return node

    def ternary(self):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.error(TOO_DEEP)
            cond = self.binary(0)
            if self.is_op("?"):
                pos = self.next().pos
                yes = self.ternary()
                self.expect(":")
                no = self.ternary()
                return Cond(cond, yes, no, pos)
            return cond
        finally:
            self.depth -= 1

    def binary_op(self):
        tok = self.peek()
        if tok.kind == "op" and tok.value in _BINARY:
            return tok.value
        if tok.kind == "ident" and tok.value in _WORD_OPS:
            return tok.value
        return None

    def binary(self, min_prec):
        left = self.unary()
        while True:
            op = self.binary_op()
            if op is None or _BINARY[op] <= min_prec:
                return left
            prec = _BINARY[op]
            items = []
            while op is not None and _BINARY[op] == prec:
                pos = self.next().pos
                right = self.binary(prec)
                items.append(ChainItem({"||": "or", "&&": "and"}.get(op, op), right, pos))
                op = self.binary_op()
            left = Chain(left, items, prec == _BINARY["**"])

    def unary(self):
        ops = []
        while True:
            tok = self.peek()
            if (tok.kind == "op" and tok.value in ("!", "-", "+")) or (tok.kind == "ident" and tok.value == "not"):
                self.next()
                ops.append(("!" if tok.value in ("!", "not") else tok.value, tok.pos))
                continue
            break
        if ops:
            return Unary(ops, self.binary(_UNARY_PREC))
        return self.postfix(self.primary())

    def primary(self):
        kind, value, pos = self.next()
        if kind in ("num", "str"):
            return Lit(value)
        if kind == "ident":
            if value in _CONSTANTS:
                return Lit(_CONSTANTS[value])
            if self.is_op("("):
                return self.call(value, pos)
            return Name(value, pos)
        if kind == "op":
            if value == "(":
                node = self.ternary()
                self.expect(")")
                return node
            if value == "#":
                if not self.closure_depth:
                    raise ExprError("# is only valid inside a predicate", self.source, pos)
                return Pointer(pos)
            if value == "." and self.closure_depth and self.peek().kind == "ident":
                # `.field` inside a predicate is shorthand for `#.field`
                name = self.next()
                return Member(Pointer(pos), Lit(name.value), False, name.pos)
            if value == "[":
                items = []
                while not self.is_op("]"):
                    items.append(self.ternary())
                    if not self.is_op("]"):
                        self.expect(",")
                self.expect("]")
                return Array(items, pos)
            if value == "{":
                return self.map_literal(pos)
        if kind == "eof":
            raise ExprError("unexpected end of expression", self.source, pos)
        raise ExprError("unexpected token %r" % (value,), self.source, pos)

    def map_literal(self, pos):
        pairs = []
        while not self.is_op("}"):
            tok = self.next()
            if tok.kind in ("ident", "str", "num"):
                key = Lit(tok.value)
            elif self.is_op("(", tok):
                key = self.ternary()
                self.expect(")")
            else:
                raise self.error("a map key must be a name, a string or a number", tok)
            self.expect(":")
            pairs.append(Pair(key, self.ternary(), tok.pos))
            if not self.is_op("}"):
                self.expect(",")
        self.expect("}")
        return Map(pairs, pos)

    def call(self, name, pos):
        self.expect("(")
        args = []
        while not self.is_op(")"):
            if CLOSURE_ARG.get(name) == len(args):
                args.append(self.closure())
            else:
                args.append(self.ternary())
            if not self.is_op(")"):
                self.expect(",")
        self.expect(")")
        return Call(name, args, pos)

    def closure(self):
        self.closure_depth += 1
        try:
            if self.is_op("{"):
                self.next()
                body = self.ternary()
                self.expect("}")
            else:
                body = self.ternary()
        finally:
            self.closure_depth -= 1
        return Closure(body)

    def postfix(self, node):
        chained = 0
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.value in (".", "?.", "["):
                chained += 1
                if self.depth + chained > MAX_DEPTH:
                    raise self.error(TOO_DEEP, tok)
            if self.is_op(".", tok) or self.is_op("?.", tok):
                self.next()
                name = self.next()
                if name.kind != "ident":
                    raise self.error("expected a field name after '.'", name)
                node = Member(node, Lit(name.value), tok.value == "?.", name.pos)
            elif self.is_op("[", tok):
                self.next()
                if self.is_op(":"):
                    self.next()
                    hi = None if self.is_op("]") else self.ternary()
                    self.expect("]")
                    node = Slice(node, None, hi, tok.pos)
                    continue
                index = self.ternary()
                if self.is_op(":"):
                    self.next()
                    hi = None if self.is_op("]") else self.ternary()
                    self.expect("]")
                    node = Slice(node, index, hi, tok.pos)
                    continue
                self.expect("]")
                node = Member(node, index, False, tok.pos)
            else:
                return node


def children(node):
    """The nodes directly under ``node``, in source order."""
    if isinstance(node, (Array, Call)):
        return list(node.args if isinstance(node, Call) else node.items)
    if isinstance(node, Map):
        return [part for pair in node.pairs for part in (pair.key, pair.value)]
    if isinstance(node, Chain):
        return [node.first] + [item.right for item in node.items]
    if isinstance(node, Unary):
        return [node.operand]
    if isinstance(node, Cond):
        return [node.test, node.yes, node.no]
    if isinstance(node, Member):
        return [node.obj, node.key]
    if isinstance(node, Slice):
        return [child for child in (node.obj, node.lo, node.hi) if child is not None]
    if isinstance(node, Closure):
        return [node.body]
    return []
