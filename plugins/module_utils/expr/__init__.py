# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe evaluator for Argo Rollouts successCondition / failureCondition strings.

Argo Rollouts evaluates conditions with the expr-lang/expr language. This module parses the
subset that analysis templates use into a small AST and walks it: no ``eval``, no Jinja, no
attribute access on Python objects. Unknown names and syntax errors are errors that carry the
position, never a silent ``false``.

Every input gives a value or an ExprError, in bounded time and memory:

- ``MAX_SOURCE`` characters in an expression; ``MAX_DEPTH`` levels of nesting (parentheses,
  brackets, predicates, ternaries, chains of ``.field`` / ``[index]``); chains of binary and
  unary operators are flat, however long.
- Values the expression builds hold at most ``MAX_ITEMS`` items (arrays, maps, ranges, split,
  flatten...) and ``MAX_STRING`` characters (repeat, +, join, replace, string, toJSON...).
- Integers are Go's int64: literals out of range are errors, ``+ - * %`` wrap around as in Go.
  Conversions of NaN, infinities or huge numbers to int are errors, never Python exceptions.
- ``matches`` uses re2lite (RE2 syntax, linear time), as Argo uses Go's regexp.
- An evaluation budget of ``MAX_STEPS`` (node visits plus per-item work of built-ins and the
  regex matcher) ends any evaluation that would run long: "expression too expensive".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.expr.builtins import BUILTIN_NAMES
from ansible_collections.progressive.delivery.plugins.module_utils.expr.common import (  # noqa: F401
    MAX_DEPTH, MAX_ITEMS, MAX_SOURCE, MAX_STEPS, MAX_STRING, MAX_TREE_DEPTH, ExprError)
from ansible_collections.progressive.delivery.plugins.module_utils.expr.evaluator import Walker
from ansible_collections.progressive.delivery.plugins.module_utils.expr.parser import (
    TOO_DEEP, Call, Chain, Lit, Name, Parser, children)
from ansible_collections.progressive.delivery.plugins.module_utils.expr.values import _Runtime, type_name

__all__ = ["ExprError", "Expression", "compile_expr", "evaluate_condition", "type_name",
           "MAX_SOURCE", "MAX_DEPTH", "MAX_ITEMS", "MAX_STRING", "MAX_STEPS"]


class Expression(object):
    """A parsed expression. Parse once, evaluate against many environments."""

    def __init__(self, source, names=("result",)):
        if not isinstance(source, str):
            raise ExprError("an expression must be a string, got %s" % type_name(source))
        if len(source) > MAX_SOURCE:
            raise ExprError("expression too long (%d characters, at most %d)" % (len(source), MAX_SOURCE))
        self.source = source
        self.names = frozenset(names)
        try:
            self.ast = Parser(source).parse()
        except RecursionError:
            raise ExprError(TOO_DEEP, source, 0)
        self._check_names(self.ast)

    def _check_names(self, root):
        """Unknown names and functions are errors before evaluation; the tree is walked without recursion."""
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_TREE_DEPTH:
                raise ExprError(TOO_DEEP, self.source, 0)
            if isinstance(node, Name) and node.name not in self.names:
                raise ExprError("unknown name %s" % node.name, self.source, node.pos)
            if isinstance(node, Call) and node.name not in BUILTIN_NAMES:
                raise ExprError("unknown func %s" % node.name, self.source, node.pos)
            stack.extend((child, depth + 1) for child in reversed(children(node)))

    def evaluate(self, env):
        missing = [n for n in self.names if n not in env]
        if missing:
            raise ExprError("unknown name %s" % sorted(missing)[0])
        walker = Walker(self.source, env)
        try:
            return walker.eval(self.ast)
        except _Runtime as e:
            raise ExprError(e.message, self.source, e.pos)
        except RecursionError:
            raise ExprError("expression is nested too deeply", self.source, 0)


def compile_expr(source, names=("result",)):
    return Expression(source, names)


def evaluate_condition(source, result):
    """Evaluate an Argo condition with ``result`` bound; it must return a bool."""
    value = Expression(source).evaluate({"result": result})
    if not isinstance(value, bool):
        raise ExprError("expected bool, but got %s" % type_name(value))
    return value


COMPARISONS = ("<", "<=", ">", ">=")


FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def comparisons(source):
    """The comparisons of a condition against a number, as (operator, number) with the number on the right
    (``result[0] >= 0.95`` and ``0.95 <= result[0]`` both give [(">=", 0.95)]), for reports that say which
    threshold a value met or missed; [] when the condition does not parse or compares against no number."""
    try:
        root = Expression(source).ast
    except ExprError:
        return []
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Chain):
            operands = [node.first] + [item.right for item in node.items]
            for i, item in enumerate(node.items):
                left, right = operands[i], operands[i + 1]
                if item.op not in COMPARISONS or any(isinstance(n, Call) and n.name == "len" for n in (left, right)):
                    continue  # len(result) > 0 guards against no data; it is no threshold
                for side, op in ((right, item.op), (left, FLIPPED.get(item.op))):
                    if isinstance(side, Lit) and isinstance(side.value, (int, float)) and not isinstance(side.value, bool):
                        found.append((op, float(side.value)))
        stack.extend(children(node))
    return sorted(set(found), key=lambda c: (c[1], c[0]))


def thresholds(source):
    """The numbers a condition compares a value against (``result[0] >= 0.95`` gives [0.95]), for the charts
    of a report; [] when the condition does not parse or compares against no number."""
    return sorted(set(number for _op, number in comparisons(source)))
