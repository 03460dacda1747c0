# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evaluator: walks the syntax tree with expr-lang's operator semantics (Go's int64, float division,
short-circuit and/or, ``??``), charging every step to the budget and every built value to the size limits."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import math

from ansible_collections.progressive.delivery.plugins.module_utils.expr.builtins import Builtins, _sorted
from ansible_collections.progressive.delivery.plugins.module_utils.expr.common import (
    MAX_ITEMS, MAX_STEPS, MAX_STRING, MAX_TREE_DEPTH, brief)
from ansible_collections.progressive.delivery.plugins.module_utils.expr.parser import (
    CLOSURE_ARG, Array, Call, Chain, Cond, Lit, Map, Member, Name, Pointer, Slice, Unary)
from ansible_collections.progressive.delivery.plugins.module_utils.expr.values import (
    _Runtime, _as_int, _check_duration, _describe, _equal, _float, _int64, _is_key, _is_number, _need_list,
    _numbers, type_name)
from ansible_collections.progressive.delivery.plugins.module_utils.re2lite import RegexError, compile_regex


class Walker(object):
    """Evaluates a syntax tree against an environment, within the step budget and the size limits."""

    def __init__(self, source, env):
        self.source = source
        self.env = env
        self.builtins = Builtins(self)
        self.pointers = []
        self.steps = 0
        self.nodes = {Lit: self.node_lit, Name: self.node_name, Pointer: self.node_pointer, Array: self.node_array,
                      Map: self.node_map, Cond: self.node_cond, Unary: self.node_unary, Member: self.node_member,
                      Slice: self.node_slice, Call: self.node_call, Chain: self.node_chain}

    def fail(self, message, pos):
        err = _Runtime(message)
        err.pos = pos
        return err

    # ---- the budget and the size limits

    def charge(self, units):
        self.steps += units
        if self.steps > MAX_STEPS:
            raise _Runtime("expression too expensive (more than %d evaluation steps)" % MAX_STEPS)

    @staticmethod
    def out_size(count):
        if count > MAX_ITEMS:
            raise _Runtime("array too large (%d items, at most %d)" % (count, MAX_ITEMS))

    @staticmethod
    def out_length(count):
        if count > MAX_STRING:
            raise _Runtime("string too long (%d characters, at most %d)" % (count, MAX_STRING))

    def out_list(self, value):
        self.out_size(len(value))
        self.charge(len(value))
        return value

    def out_str(self, value):
        self.out_length(len(value))
        self.charge(len(value) // 16)
        return value

    def measure(self, value, limit=False):
        """Walk a value before a deep operation on it (==, in, string, toJSON, ...), paying one step
        a node: values can share parts, so their size is never taken on trust. With ``limit``, the
        value must also fit in MAX_ITEMS nodes and MAX_STRING characters."""
        if not isinstance(value, (list, tuple, dict, str)):
            return
        stack = [(value, 1)]
        nodes = chars = paid = 0
        while stack:
            v, depth = stack.pop()
            nodes += 1
            if isinstance(v, str):
                chars += len(v)
            elif isinstance(v, (list, tuple, dict)):
                if depth > MAX_TREE_DEPTH:
                    raise _Runtime("value nested too deeply")
                if isinstance(v, dict):
                    stack.extend((k, depth + 1) for k in v)
                    stack.extend((x, depth + 1) for x in v.values())
                else:
                    stack.extend((x, depth + 1) for x in v)
            if nodes - paid >= 4096:
                self.charge(nodes - paid)
                paid = nodes
                if limit:
                    self.out_size(nodes)
                    self.out_length(chars)
        self.charge(nodes - paid + chars // 16)
        if limit:
            self.out_size(nodes)
            self.out_length(chars)

    @staticmethod
    def sum(name, values, as_float=False):
        _numbers(name, values)
        if all(isinstance(v, int) for v in values):
            return _float(sum(values)) if as_float else _int64(sum(values))
        return sum(_float(v) for v in values)

    # ---- nodes

    def eval(self, node):
        self.steps += 1
        if self.steps > MAX_STEPS:
            self.charge(0)
        return self.nodes[type(node)](node)

    def node_lit(self, node):
        return node.value

    def node_name(self, node):
        return self.env[node.name]

    def node_pointer(self, node):
        return self.pointers[-1]

    def node_array(self, node):
        self.out_size(len(node.items))
        return [self.eval(item) for item in node.items]

    def node_map(self, node):
        out = {}
        for key_node, value_node, pos in node.pairs:
            key = self.eval(key_node)
            if not _is_key(key):
                raise self.fail("invalid map key type %s" % type_name(key), pos)
            out[key] = self.eval(value_node)
        return out

    def node_cond(self, node):
        cond = self.eval(node.test)
        if not isinstance(cond, bool):
            raise self.fail("non-bool expression (type %s) used as condition" % type_name(cond), node.pos)
        return self.eval(node.yes if cond else node.no)

    def node_unary(self, node):
        value = self.eval(node.operand)
        for op, pos in reversed(node.ops):
            if op == "!":
                if not isinstance(value, bool):
                    raise self.fail("invalid operation: ! (mismatched type %s)" % type_name(value), pos)
                value = not value
                continue
            if not _is_number(value):
                raise self.fail("invalid operation: %s (mismatched type %s)" % (op, type_name(value)), pos)
            if op == "-":
                value = _int64(-value) if isinstance(value, int) else -value
        return value

    def node_member(self, node):
        obj, optional, pos = self.eval(node.obj), node.optional, node.pos
        if obj is None and optional:
            return None
        key = self.eval(node.key)
        if isinstance(obj, dict):
            if not _is_key(key):
                raise self.fail("cannot fetch %s from map (invalid key type)" % type_name(key), pos)
            return obj.get(key)
        if isinstance(obj, (list, tuple, str)):
            if not _is_number(key) or (isinstance(key, float) and not (math.isfinite(key) and key == int(key))):
                raise self.fail("array elements can only be selected using an integer (got %s)"
                                % type_name(key), pos)
            k = int(key)
            if not -len(obj) <= k < len(obj):
                raise self.fail("index out of range: %s (array length is %d)" % (brief(k), len(obj)), pos)
            return obj[k]
        raise self.fail("cannot fetch %s from %s" % (_describe(key), type_name(obj)), pos)

    def node_slice(self, node):
        obj, pos = self.eval(node.obj), node.pos
        if not isinstance(obj, (list, tuple, str)):
            raise self.fail("cannot slice %s" % type_name(obj), pos)
        lo = 0 if node.lo is None else _as_int(self.eval(node.lo), "slice")
        hi = len(obj) if node.hi is None else _as_int(self.eval(node.hi), "slice")
        out = obj[lo:hi]
        self.charge(len(out) // 16 if isinstance(out, str) else len(out))
        return out

    def node_call(self, node):
        name, args, pos = node.name, node.args, node.pos
        try:
            if name in CLOSURE_ARG and (name != "sum" or len(args) > 1):
                return self.call_predicate(name, args)
            return self.builtins.call(name, [self.eval(a) for a in args])
        except _Runtime as e:
            if getattr(e, "pos", None) is None:
                e.pos = pos
            raise

    def call_predicate(self, name, args):
        if len(args) != 2:
            raise _Runtime("%s() takes an array and a predicate" % name)
        items = _need_list(name, self.eval(args[0]))
        body = args[1].body

        def apply(item):
            self.pointers.append(item)
            try:
                return self.eval(body)
            finally:
                self.pointers.pop()

        def test(item):
            value = apply(item)
            if not isinstance(value, bool):
                raise _Runtime("predicate should return boolean (got %s)" % type_name(value))
            return value

        if name == "all":
            return all(test(i) for i in items)
        if name == "any":
            return any(test(i) for i in items)
        if name == "none":
            return not any(test(i) for i in items)
        if name == "one":
            return sum(1 for i in items if test(i)) == 1
        if name == "filter":
            return self.out_list([i for i in items if test(i)])
        if name == "map":
            return self.out_list([apply(i) for i in items])
        if name == "count":
            return sum(1 for i in items if test(i))
        if name == "sum":
            return self.sum("sum", [apply(i) for i in items])
        if name in ("find", "findIndex"):
            for idx, item in enumerate(items):
                if test(item):
                    return item if name == "find" else idx
            return None if name == "find" else -1
        if name in ("findLast", "findLastIndex"):
            for idx in range(len(items) - 1, -1, -1):
                if test(items[idx]):
                    return items[idx] if name == "findLast" else idx
            return None if name == "findLast" else -1
        if name == "sortBy":
            return self.out_list(_sorted("sortBy", list(items), [apply(i) for i in items]))
        if name == "groupBy":
            groups = {}
            for item in items:
                key = apply(item)
                if not _is_key(key):
                    raise _Runtime("groupBy: invalid map key type %s" % type_name(key))
                groups.setdefault(key, []).append(item)
            return groups
        raise _Runtime("unknown func %s" % name)

    def node_chain(self, node):
        """A run of binary operators of one precedence: folded left, or right for ** and ^."""
        items = node.items
        if node.right_assoc:
            values = [self.eval(node.first)] + [self.eval(item.right) for item in items]
            acc = values[-1]
            for k in range(len(items) - 1, -1, -1):
                acc = self.apply(items[k].op, values[k], acc, items[k].pos)
            return acc
        left = self.eval(node.first)
        for op, right_node, pos in items:
            if op in ("and", "or"):
                if not isinstance(left, bool):
                    raise self.fail("invalid operation: %s (mismatched types %s and bool)" % (op, type_name(left)), pos)
                if (op == "and" and not left) or (op == "or" and left):
                    continue
                right = self.eval(right_node)
                if not isinstance(right, bool):
                    raise self.fail("invalid operation: %s (mismatched types bool and %s)"
                                    % (op, type_name(right)), pos)
                left = right
            elif op == "??":
                if left is None:
                    left = self.eval(right_node)
            else:
                left = self.apply(op, left, self.eval(right_node), pos)
        return left

    def apply(self, op, a, b, pos):
        try:
            return self.binary(op, a, b)
        except _Runtime as e:
            if getattr(e, "pos", None) is None:
                e.pos = pos
            raise
        except TypeError:
            raise self.fail("invalid operation: %s (mismatched types %s and %s)"
                            % (op, type_name(a), type_name(b)), pos)
        except (OverflowError, ValueError):
            raise self.fail("invalid operation: %s (%s and %s: result out of range)"
                            % (op, type_name(a), type_name(b)), pos)

    def binary(self, op, a, b):
        mismatch = _Runtime("invalid operation: %s (mismatched types %s and %s)" % (op, type_name(a), type_name(b)))
        num = _is_number(a) and _is_number(b)
        if op in ("==", "!="):
            if isinstance(a, (list, tuple, dict)) and isinstance(b, (list, tuple, dict)):
                self.measure(a)
                self.measure(b)
            return _equal(a, b) == (op == "==")
        if op in ("<", ">", "<=", ">="):
            comparable = num or (type_name(a) == type_name(b) and isinstance(
                a, (str, datetime.datetime, datetime.timedelta)))
            if not comparable:
                raise mismatch
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        if op in ("in", "not in"):
            if isinstance(b, dict):
                found = _is_key(a) and a in b
            elif isinstance(b, (list, tuple)):
                self.measure(b)
                self.measure(a)
                found = any(_equal(a, item) for item in b)
            else:
                raise mismatch
            return found if op == "in" else not found
        if op in ("contains", "startsWith", "endsWith", "matches"):
            if not (isinstance(a, str) and isinstance(b, str)):
                raise mismatch
            if op == "contains":
                return b in a
            if op == "startsWith":
                return a.startswith(b)
            if op == "endsWith":
                return a.endswith(b)
            self.charge(len(b) // 16)
            try:
                return compile_regex(b).search(a, self.charge)
            except RegexError as e:
                raise _Runtime("invalid regular expression %s: %s" % (brief(repr(b), 60), e))
        if op == "..":
            if not (isinstance(a, int) and isinstance(b, int)) or isinstance(a, bool) or isinstance(b, bool):
                raise mismatch
            self.out_size(b - a + 1)
            return self.out_list(list(range(a, b + 1)))
        if op == "+":
            if num:
                return _int64(a + b) if isinstance(a, int) and isinstance(b, int) else _float(a) + _float(b)
            if isinstance(a, str) and isinstance(b, str):
                self.out_length(len(a) + len(b))
                return self.out_str(a + b)
            if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
                self.out_size(len(a) + len(b))
                return self.out_list(list(a) + list(b))
            if isinstance(a, (datetime.datetime, datetime.timedelta)) and isinstance(b, datetime.timedelta):
                return _check_duration(a + b)
            raise mismatch
        if op == "-":
            if num:
                return _int64(a - b) if isinstance(a, int) and isinstance(b, int) else _float(a) - _float(b)
            if isinstance(a, datetime.datetime) and isinstance(b, (datetime.datetime, datetime.timedelta)):
                return _check_duration(a - b)
            if isinstance(a, datetime.timedelta) and isinstance(b, datetime.timedelta):
                return _check_duration(a - b)
            raise mismatch
        if op == "*":
            if num:
                return _int64(a * b) if isinstance(a, int) and isinstance(b, int) else _float(a) * _float(b)
            if isinstance(a, datetime.timedelta) and _is_number(b):
                if isinstance(b, float) and not math.isfinite(b):
                    raise _Runtime("time.Duration out of range")
                return _check_duration(a * b)
            raise mismatch
        if not num:
            raise mismatch
        if op == "/":
            a, b = _float(a), _float(b)
            if b == 0:  # Go float division: no panic
                return float("nan") if a == 0 or math.isnan(a) else math.copysign(float("inf"), a)
            return a / b
        if op == "%":
            if not (isinstance(a, int) and isinstance(b, int)):
                raise mismatch
            if b == 0:
                raise _Runtime("integer divide by zero")
            r = abs(a) % abs(b)
            return _int64(-r if a < 0 else r)  # Go's remainder takes the dividend's sign
        if op in ("**", "^"):
            try:
                return math.pow(_float(a), _float(b))
            except (OverflowError, ValueError):
                return float("inf") if a > 0 else float("nan")
        raise mismatch
