# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe evaluator for Argo Rollouts successCondition / failureCondition strings.

Argo Rollouts evaluates conditions with the expr-lang/expr language. This module parses the
subset that analysis templates use into a small AST and walks it: no ``eval``, no Jinja, no
attribute access on Python objects. Unknown names and syntax errors are errors that carry the
position, never a silent ``false``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import functools
import json
import math
import re

from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration

__all__ = ["ExprError", "Expression", "compile_expr", "evaluate_condition", "type_name"]


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


# --------------------------------------------------------------------------- tokens

_NUMBER = re.compile(r"(0[xX][0-9a-fA-F_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_OPERATORS = ("not in", "**", "==", "!=", "<=", ">=", "&&", "||", "??", "..", "?.",
              "<", ">", "+", "-", "*", "/", "%", "^", "!", "?", ":", "(", ")", "[", "]",
              "{", "}", ",", ".", "#")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0",
            "b": "\b", "f": "\f", "v": "\v", "a": "\a"}


def _tokenize(src):
    tokens = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()
                           and not (tokens and tokens[-1][0] == "op" and tokens[-1][1] == ".")):
            m = _NUMBER.match(src, i)
            text = m.group(0)
            # "1..3" is a range, not the float "1." followed by ".3"
            if "." in text and src.startswith("..", i + text.index(".")):
                text = text[:text.index(".")]
            clean = text.replace("_", "")
            try:
                if clean.lower().startswith("0x"):
                    value = int(clean, 16)
                elif any(ch in clean for ch in ".eE"):
                    value = float(clean)
                else:
                    value = int(clean)
            except ValueError:
                raise ExprError("invalid number %r" % text, src, i)
            tokens.append(("num", value, i))
            i += len(text)
            continue
        if c in "\"'`":
            start, i = i, i + 1
            out = []
            while True:
                if i >= n:
                    raise ExprError("literal not terminated", src, start)
                ch = src[i]
                if ch == c:
                    i += 1
                    break
                if ch == "\\" and c != "`":
                    if i + 1 >= n:
                        raise ExprError("literal not terminated", src, start)
                    esc = src[i + 1]
                    if esc in _ESCAPES:
                        out.append(_ESCAPES[esc])
                        i += 2
                        continue
                    if esc == "u" and re.match(r"[0-9a-fA-F]{4}", src[i + 2:i + 6]):
                        out.append(chr(int(src[i + 2:i + 6], 16)))
                        i += 6
                        continue
                    raise ExprError("invalid escape sequence \\%s" % esc, src, i)
                out.append(ch)
                i += 1
            tokens.append(("str", "".join(out), start))
            continue
        m = _IDENT.match(src, i)
        if m:
            word = m.group(0)
            if word == "not":
                rest = re.match(r"not\s+in\b", src[i:])
                if rest:
                    tokens.append(("op", "not in", i))
                    i += len(rest.group(0))
                    continue
            tokens.append(("ident", word, i))
            i += len(word)
            continue
        for op in _OPERATORS:
            if op != "not in" and src.startswith(op, i):
                tokens.append(("op", op, i))
                i += len(op)
                break
        else:
            raise ExprError("unexpected token %r" % c, src, i)
    tokens.append(("eof", None, n))
    return tokens


# --------------------------------------------------------------------------- parser

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
_CLOSURE_ARG = {"all": 1, "any": 1, "none": 1, "one": 1, "filter": 1, "map": 1, "count": 1,
                "find": 1, "findIndex": 1, "findLast": 1, "findLastIndex": 1, "sum": 1,
                "sortBy": 1, "groupBy": 1}


class _Parser(object):
    def __init__(self, source):
        self.source = source
        self.tokens = _tokenize(source)
        self.i = 0
        self.closure_depth = 0

    def peek(self, offset=0):
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self):
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, message, tok=None):
        tok = tok or self.peek()
        return ExprError(message, self.source, tok[2])

    def is_op(self, value, tok=None):
        tok = tok or self.peek()
        return tok[0] == "op" and tok[1] == value

    def expect(self, value):
        tok = self.peek()
        if not self.is_op(value, tok):
            found = "end of input" if tok[0] == "eof" else repr(tok[1])
            raise self.error("expected %r but found %s" % (value, found), tok)
        return self.next()

    def parse(self):
        if self.peek()[0] == "eof":
            raise self.error("empty expression")
        node = self.ternary()
        tok = self.peek()
        if tok[0] != "eof":
            raise self.error("unexpected token %r" % (tok[1],), tok)
        return node

    def ternary(self):
        cond = self.binary(0)
        if self.is_op("?"):
            pos = self.next()[2]
            yes = self.ternary()
            self.expect(":")
            no = self.ternary()
            return ("cond", cond, yes, no, pos)
        return cond

    def binary_op(self):
        tok = self.peek()
        if tok[0] == "op" and tok[1] in _BINARY:
            return tok[1]
        if tok[0] == "ident" and tok[1] in _WORD_OPS:
            return tok[1]
        return None

    def binary(self, min_prec):
        left = self.unary()
        while True:
            op = self.binary_op()
            if op is None or _BINARY[op] <= min_prec:
                return left
            prec = _BINARY[op]
            pos = self.next()[2]
            right = self.binary(prec - 1 if op in _RIGHT_ASSOC else prec)
            left = ("bin", {"||": "or", "&&": "and"}.get(op, op), left, right, pos)

    def unary(self):
        tok = self.peek()
        if (tok[0] == "op" and tok[1] in ("!", "-", "+")) or (tok[0] == "ident" and tok[1] == "not"):
            self.next()
            operand = self.binary(_UNARY_PREC)
            op = "!" if tok[1] in ("!", "not") else tok[1]
            return ("unary", op, operand, tok[2])
        return self.postfix(self.primary())

    def primary(self):
        tok = self.next()
        kind, value, pos = tok
        if kind in ("num", "str"):
            return ("lit", value)
        if kind == "ident":
            if value in _CONSTANTS:
                return ("lit", _CONSTANTS[value])
            if self.is_op("("):
                return self.call(value, pos)
            return ("name", value, pos)
        if kind == "op":
            if value == "(":
                node = self.ternary()
                self.expect(")")
                return node
            if value == "#":
                if not self.closure_depth:
                    raise ExprError("# is only valid inside a predicate", self.source, pos)
                return ("pointer", pos)
            if value == "." and self.closure_depth and self.peek()[0] == "ident":
                # `.field` inside a predicate is shorthand for `#.field`
                name = self.next()
                return ("member", ("pointer", pos), ("lit", name[1]), False, name[2])
            if value == "[":
                items = []
                while not self.is_op("]"):
                    items.append(self.ternary())
                    if not self.is_op("]"):
                        self.expect(",")
                self.expect("]")
                return ("array", items)
            if value == "{":
                return self.map_literal()
        if kind == "eof":
            raise ExprError("unexpected end of expression", self.source, pos)
        raise ExprError("unexpected token %r" % (value,), self.source, pos)

    def map_literal(self):
        pairs = []
        while not self.is_op("}"):
            tok = self.next()
            if tok[0] in ("ident", "str", "num"):
                key = ("lit", tok[1])
            elif self.is_op("(", tok):
                key = self.ternary()
                self.expect(")")
            else:
                raise self.error("a map key must be a name, a string or a number", tok)
            self.expect(":")
            pairs.append((key, self.ternary()))
            if not self.is_op("}"):
                self.expect(",")
        self.expect("}")
        return ("map", pairs)

    def call(self, name, pos):
        self.expect("(")
        args = []
        while not self.is_op(")"):
            if _CLOSURE_ARG.get(name) == len(args):
                args.append(self.closure())
            else:
                args.append(self.ternary())
            if not self.is_op(")"):
                self.expect(",")
        self.expect(")")
        return ("call", name, args, pos)

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
        return ("closure", body)

    def postfix(self, node):
        while True:
            tok = self.peek()
            if self.is_op(".", tok) or self.is_op("?.", tok):
                self.next()
                name = self.next()
                if name[0] != "ident":
                    raise self.error("expected a field name after '.'", name)
                node = ("member", node, ("lit", name[1]), tok[1] == "?.", name[2])
            elif self.is_op("[", tok):
                self.next()
                if self.is_op(":"):
                    self.next()
                    hi = None if self.is_op("]") else self.ternary()
                    self.expect("]")
                    node = ("slice", node, None, hi, tok[2])
                    continue
                index = self.ternary()
                if self.is_op(":"):
                    self.next()
                    hi = None if self.is_op("]") else self.ternary()
                    self.expect("]")
                    node = ("slice", node, index, hi, tok[2])
                    continue
                self.expect("]")
                node = ("member", node, index, False, tok[2])
            else:
                return node


# --------------------------------------------------------------------------- values


class _Nil(object):
    """Marker for a missing map key reached through optional chaining."""


def type_name(value):
    """The expr-lang name of a value's type, for error messages."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, datetime.datetime):
        return "time.Time"
    if isinstance(value, datetime.timedelta):
        return "time.Duration"
    return type(value).__name__


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(a, b):
    if _is_number(a) and _is_number(b):
        return a == b
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return set(a) == set(b) and all(_equal(a[k], b[k]) for k in a)
    return a == b


def _to_float(value):
    return float(value)


class _Runtime(ExprError):
    pass


# --------------------------------------------------------------------------- builtins


def _need_list(name, value):
    if not isinstance(value, (list, tuple)):
        raise _Runtime("%s() expects an array, got %s" % (name, type_name(value)))
    return list(value)


def _numbers(name, values):
    for v in values:
        if not _is_number(v):
            raise _Runtime("%s() expects numbers, got %s" % (name, type_name(v)))
    return values


def _spread(name, args):
    """max(1, 2) and max([1, 2]) are both valid."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        values = list(args[0])
    else:
        values = list(args)
    if not values:
        raise _Runtime("%s() called on an empty array" % name)
    return _numbers(name, values)


def _as_int(value):
    if isinstance(value, bool):
        raise _Runtime("asInt: cannot convert bool to int")
    if _is_number(value):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            raise _Runtime("asInt: cannot convert %s to int" % value)
        return int(value)
    if isinstance(value, str):
        if re.match(r"^[+-]?\d+$", value.strip()):
            return int(value)
        raise _Runtime('asInt: strconv.ParseInt: parsing "%s": invalid syntax' % value)
    raise _Runtime("asInt: cannot convert %s to int" % type_name(value))


def _as_float(value):
    if isinstance(value, bool):
        raise _Runtime("asFloat: cannot convert bool to float")
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise _Runtime('asFloat: strconv.ParseFloat: parsing "%s": invalid syntax' % value)
    raise _Runtime("asFloat: cannot convert %s to float" % type_name(value))


def _duration(text):
    try:
        return datetime.timedelta(seconds=parse_go_duration(text))
    except ValueError as e:
        raise _Runtime(str(e))


def _format(value):
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return repr(value) if value != int(value) or abs(value) >= 1e21 else str(int(value))
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_format(v) for v in value) + "]"
    return str(value)


def _one_arg(name, fn, *args):
    if len(args) != 1:
        raise _Runtime("%s() takes exactly one argument" % name)
    return fn(args[0])


class _Builtins(object):
    """Built-in functions. Argo's isNil/default read the whole bound ``result``."""

    def __init__(self, env):
        self.env = env

    def call(self, name, args):
        fn = getattr(self, "fn_" + name, None)
        if fn is None:
            raise _Runtime("unknown func %s" % name)
        return fn(*args)

    @staticmethod
    def arity(name, args, low, high=None):
        high = low if high is None else high
        if not low <= len(args) <= high:
            raise _Runtime("not enough arguments to call %s" % name if len(args) < low
                           else "too many arguments to call %s" % name)

    # Argo Rollouts environment
    def fn_isNil(self, *args):
        return self.env.get("result") is None

    def fn_default(self, *args):
        self.arity("default", args, 2)
        result = self.env.get("result")
        return args[1] if result is None else result

    @staticmethod
    def fn_asInt(*args):
        _Builtins.arity("asInt", args, 1)
        return _as_int(args[0])

    @staticmethod
    def fn_asFloat(*args):
        _Builtins.arity("asFloat", args, 1)
        return _as_float(args[0])

    @staticmethod
    def fn_isNaN(*args):
        _Builtins.arity("isNaN", args, 1)
        if not _is_number(args[0]):
            raise _Runtime("isNaN() expects a number, got %s" % type_name(args[0]))
        return isinstance(args[0], float) and math.isnan(args[0])

    @staticmethod
    def fn_isInf(*args):
        _Builtins.arity("isInf", args, 1, 2)
        if not _is_number(args[0]):
            raise _Runtime("isInf() expects a number, got %s" % type_name(args[0]))
        return isinstance(args[0], float) and math.isinf(args[0])

    # expr builtins
    @staticmethod
    def fn_len(*args):
        _Builtins.arity("len", args, 1)
        if isinstance(args[0], (list, tuple, dict, str)):
            return len(args[0])
        raise _Runtime("invalid argument for len (type %s)" % type_name(args[0]))

    @staticmethod
    def fn_abs(*args):
        _Builtins.arity("abs", args, 1)
        _numbers("abs", [args[0]])
        return abs(args[0])

    @staticmethod
    def fn_ceil(*args):
        _Builtins.arity("ceil", args, 1)
        return float(math.ceil(_numbers("ceil", [args[0]])[0]))

    @staticmethod
    def fn_floor(*args):
        _Builtins.arity("floor", args, 1)
        return float(math.floor(_numbers("floor", [args[0]])[0]))

    @staticmethod
    def fn_round(*args):
        _Builtins.arity("round", args, 1)
        v = _numbers("round", [args[0]])[0]
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return v
        return float(math.floor(abs(v) + 0.5) * (1 if v >= 0 else -1))  # Go rounds half away from zero

    @staticmethod
    def fn_max(*args):
        values = _spread("max", args)
        if any(isinstance(v, float) and math.isnan(v) for v in values):
            return float("nan")
        return max(values)

    @staticmethod
    def fn_min(*args):
        values = _spread("min", args)
        if any(isinstance(v, float) and math.isnan(v) for v in values):
            return float("nan")
        return min(values)

    @staticmethod
    def fn_mean(*args):
        values = _spread("mean", args)
        return float(sum(values)) / len(values)

    @staticmethod
    def fn_median(*args):
        values = sorted(_spread("median", args))
        mid = len(values) // 2
        if len(values) % 2:
            return float(values[mid])
        return (values[mid - 1] + values[mid]) / 2.0

    @staticmethod
    def fn_sum(*args):
        _Builtins.arity("sum", args, 1)
        return sum(_numbers("sum", _need_list("sum", args[0])))

    # conversions that take one value
    fn_int = staticmethod(functools.partial(_one_arg, "int", _as_int))
    fn_float = staticmethod(functools.partial(_one_arg, "float", _as_float))
    fn_string = staticmethod(functools.partial(_one_arg, "string", _format))
    fn_type = staticmethod(functools.partial(_one_arg, "type", type_name))

    @staticmethod
    def fn_first(*args):
        _Builtins.arity("first", args, 1)
        items = _need_list("first", args[0])
        return items[0] if items else None

    @staticmethod
    def fn_last(*args):
        _Builtins.arity("last", args, 1)
        items = _need_list("last", args[0])
        return items[-1] if items else None

    @staticmethod
    def fn_take(*args):
        _Builtins.arity("take", args, 2)
        return _need_list("take", args[0])[:max(0, _as_int(args[1]))]

    @staticmethod
    def fn_reverse(*args):
        _Builtins.arity("reverse", args, 1)
        return list(reversed(_need_list("reverse", args[0])))

    @staticmethod
    def fn_uniq(*args):
        _Builtins.arity("uniq", args, 1)
        out = []
        for item in _need_list("uniq", args[0]):
            if not any(_equal(item, seen) for seen in out):
                out.append(item)
        return out

    @staticmethod
    def fn_concat(*args):
        out = []
        for a in args:
            out.extend(_need_list("concat", a))
        return out

    @staticmethod
    def fn_flatten(*args):
        _Builtins.arity("flatten", args, 1)
        out = []
        for item in _need_list("flatten", args[0]):
            if isinstance(item, (list, tuple)):
                out.extend(_Builtins.fn_flatten(item))
            else:
                out.append(item)
        return out

    @staticmethod
    def fn_sort(*args):
        _Builtins.arity("sort", args, 1, 2)
        items = _need_list("sort", args[0])
        reverse = len(args) == 2 and args[1] == "desc"
        try:
            return sorted(items, reverse=reverse)
        except TypeError:
            raise _Runtime("sort() expects an array of numbers or of strings")

    @staticmethod
    def fn_keys(*args):
        _Builtins.arity("keys", args, 1)
        if not isinstance(args[0], dict):
            raise _Runtime("keys() expects a map, got %s" % type_name(args[0]))
        return list(args[0].keys())

    @staticmethod
    def fn_values(*args):
        _Builtins.arity("values", args, 1)
        if not isinstance(args[0], dict):
            raise _Runtime("values() expects a map, got %s" % type_name(args[0]))
        return list(args[0].values())

    @staticmethod
    def fn_get(*args):
        _Builtins.arity("get", args, 2)
        container, key = args
        if isinstance(container, dict):
            return container.get(key)
        if isinstance(container, (list, tuple)) and _is_number(key):
            k = int(key)
            return container[k] if -len(container) <= k < len(container) else None
        return None

    @staticmethod
    def _str(name, value):
        if not isinstance(value, str):
            raise _Runtime("%s() expects a string, got %s" % (name, type_name(value)))
        return value

    def fn_upper(self, *args):
        self.arity("upper", args, 1)
        return self._str("upper", args[0]).upper()

    def fn_lower(self, *args):
        self.arity("lower", args, 1)
        return self._str("lower", args[0]).lower()

    def fn_trim(self, *args):
        self.arity("trim", args, 1, 2)
        return self._str("trim", args[0]).strip(*args[1:])

    def fn_trimPrefix(self, *args):
        self.arity("trimPrefix", args, 2)
        s, p = self._str("trimPrefix", args[0]), self._str("trimPrefix", args[1])
        return s[len(p):] if p and s.startswith(p) else s

    def fn_trimSuffix(self, *args):
        self.arity("trimSuffix", args, 2)
        s, p = self._str("trimSuffix", args[0]), self._str("trimSuffix", args[1])
        return s[:-len(p)] if p and s.endswith(p) else s

    def fn_split(self, *args):
        self.arity("split", args, 2)
        return self._str("split", args[0]).split(self._str("split", args[1]))

    def fn_join(self, *args):
        self.arity("join", args, 1, 2)
        sep = self._str("join", args[1]) if len(args) == 2 else ""
        return sep.join(self._str("join", v) for v in _need_list("join", args[0]))

    def fn_replace(self, *args):
        self.arity("replace", args, 3)
        return self._str("replace", args[0]).replace(self._str("replace", args[1]),
                                                     self._str("replace", args[2]))

    def fn_repeat(self, *args):
        self.arity("repeat", args, 2)
        return self._str("repeat", args[0]) * _as_int(args[1])

    def fn_indexOf(self, *args):
        self.arity("indexOf", args, 2)
        return self._str("indexOf", args[0]).find(self._str("indexOf", args[1]))

    def fn_lastIndexOf(self, *args):
        self.arity("lastIndexOf", args, 2)
        return self._str("lastIndexOf", args[0]).rfind(self._str("lastIndexOf", args[1]))

    def fn_hasPrefix(self, *args):
        self.arity("hasPrefix", args, 2)
        return self._str("hasPrefix", args[0]).startswith(self._str("hasPrefix", args[1]))

    def fn_hasSuffix(self, *args):
        self.arity("hasSuffix", args, 2)
        return self._str("hasSuffix", args[0]).endswith(self._str("hasSuffix", args[1]))

    @staticmethod
    def fn_toJSON(*args):
        _Builtins.arity("toJSON", args, 1)
        return json.dumps(args[0], indent=2, sort_keys=True, default=str)

    @staticmethod
    def fn_fromJSON(*args):
        _Builtins.arity("fromJSON", args, 1)
        try:
            return json.loads(args[0])
        except (TypeError, ValueError) as e:
            raise _Runtime("fromJSON: %s" % e)

    @staticmethod
    def fn_now(*args):
        _Builtins.arity("now", args, 0)
        return datetime.datetime.now(datetime.timezone.utc)

    @staticmethod
    def fn_duration(*args):
        _Builtins.arity("duration", args, 1)
        return _duration(args[0])


_BUILTIN_NAMES = frozenset(n[3:] for n in dir(_Builtins) if n.startswith("fn_")) | frozenset(_CLOSURE_ARG)


# --------------------------------------------------------------------------- evaluation


class Expression(object):
    """A parsed expression. Parse once, evaluate against many environments."""

    def __init__(self, source, names=("result",)):
        if not isinstance(source, str):
            raise ExprError("an expression must be a string, got %s" % type_name(source))
        self.source = source
        self.names = frozenset(names)
        self.ast = _Parser(source).parse()
        self._check_names(self.ast)

    def _check_names(self, node):
        kind = node[0]
        if kind == "name" and node[1] not in self.names:
            raise ExprError("unknown name %s" % node[1], self.source, node[2])
        if kind == "call" and node[1] not in _BUILTIN_NAMES:
            raise ExprError("unknown func %s" % node[1], self.source, node[3])
        for child in node[1:]:
            if isinstance(child, tuple) and child and isinstance(child[0], str):
                self._check_names(child)
            elif isinstance(child, list):
                for item in child:
                    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], tuple):
                        self._check_names(item[0])
                        self._check_names(item[1])
                    elif isinstance(item, tuple):
                        self._check_names(item)

    def evaluate(self, env):
        missing = [n for n in self.names if n not in env]
        if missing:
            raise ExprError("unknown name %s" % sorted(missing)[0])
        walker = _Walker(self.source, env)
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


class _Walker(object):
    def __init__(self, source, env):
        self.source = source
        self.env = env
        self.builtins = _Builtins(env)
        self.pointers = []

    def fail(self, message, pos):
        err = _Runtime(message)
        err.pos = pos
        return err

    def eval(self, node):
        return getattr(self, "node_" + node[0])(node)

    def node_lit(self, node):
        return node[1]

    def node_name(self, node):
        return self.env[node[1]]

    def node_pointer(self, node):
        return self.pointers[-1]

    def node_array(self, node):
        return [self.eval(item) for item in node[1]]

    def node_map(self, node):
        return dict((self.eval(k), self.eval(v)) for k, v in node[1])

    def node_cond(self, node):
        cond = self.eval(node[1])
        if not isinstance(cond, bool):
            raise self.fail("non-bool expression (type %s) used as condition" % type_name(cond), node[4])
        return self.eval(node[2] if cond else node[3])

    def node_unary(self, node):
        op, value, pos = node[1], self.eval(node[2]), node[3]
        if op == "!":
            if not isinstance(value, bool):
                raise self.fail("invalid operation: ! (mismatched type %s)" % type_name(value), pos)
            return not value
        if not _is_number(value):
            raise self.fail("invalid operation: %s (mismatched type %s)" % (op, type_name(value)), pos)
        return -value if op == "-" else value

    def node_member(self, node):
        obj, optional, pos = self.eval(node[1]), node[3], node[4]
        if obj is None and optional:
            return None
        key = self.eval(node[2])
        if isinstance(obj, dict):
            return obj.get(key)
        if isinstance(obj, (list, tuple, str)):
            if not _is_number(key) or (isinstance(key, float) and key != int(key)):
                raise self.fail("array elements can only be selected using an integer (got %s)"
                                % type_name(key), pos)
            k = int(key)
            if not -len(obj) <= k < len(obj):
                raise self.fail("index out of range: %d (array length is %d)" % (k, len(obj)), pos)
            return obj[k]
        raise self.fail("cannot fetch %s from %s" % (_format(key), type_name(obj)), pos)

    def node_slice(self, node):
        obj, pos = self.eval(node[1]), node[4]
        if not isinstance(obj, (list, tuple, str)):
            raise self.fail("cannot slice %s" % type_name(obj), pos)
        lo = 0 if node[2] is None else _as_int(self.eval(node[2]))
        hi = len(obj) if node[3] is None else _as_int(self.eval(node[3]))
        return obj[lo:hi]

    def node_call(self, node):
        name, args, pos = node[1], node[2], node[3]
        try:
            if name in _CLOSURE_ARG and (name != "sum" or len(args) > 1):
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
        body = args[1][1]

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
            return [i for i in items if test(i)]
        if name == "map":
            return [apply(i) for i in items]
        if name == "count":
            return sum(1 for i in items if test(i))
        if name == "sum":
            return sum(_numbers("sum", [apply(i) for i in items]))
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
            return sorted(items, key=apply)
        if name == "groupBy":
            groups = {}
            for item in items:
                groups.setdefault(apply(item), []).append(item)
            return groups
        raise _Runtime("unknown func %s" % name)

    def node_bin(self, node):
        op, pos = node[1], node[4]
        if op in ("and", "or"):
            left = self.eval(node[2])
            if not isinstance(left, bool):
                raise self.fail("invalid operation: %s (mismatched types %s and bool)" % (op, type_name(left)), pos)
            if (op == "and" and not left) or (op == "or" and left):
                return left
            right = self.eval(node[3])
            if not isinstance(right, bool):
                raise self.fail("invalid operation: %s (mismatched types bool and %s)" % (op, type_name(right)), pos)
            return right
        if op == "??":
            left = self.eval(node[2])
            return self.eval(node[3]) if left is None else left
        a, b = self.eval(node[2]), self.eval(node[3])
        try:
            return self.binary(op, a, b)
        except _Runtime as e:
            e.pos = pos
            raise
        except (TypeError, OverflowError):
            raise self.fail("invalid operation: %s (mismatched types %s and %s)"
                            % (op, type_name(a), type_name(b)), pos)

    @staticmethod
    def binary(op, a, b):
        mismatch = _Runtime("invalid operation: %s (mismatched types %s and %s)" % (op, type_name(a), type_name(b)))
        num = _is_number(a) and _is_number(b)
        if op == "==":
            return _equal(a, b)
        if op == "!=":
            return not _equal(a, b)
        if op in ("<", ">", "<=", ">="):
            comparable = num or (type_name(a) == type_name(b) and isinstance(
                a, (str, datetime.datetime, datetime.timedelta)))
            if not comparable:
                raise mismatch
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        if op in ("in", "not in"):
            if isinstance(b, dict):
                found = a in b
            elif isinstance(b, (list, tuple)):
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
            try:
                return re.search(b, a) is not None
            except re.error as e:
                raise _Runtime("invalid regular expression %r: %s" % (b, e))
        if op == "..":
            if not (isinstance(a, int) and isinstance(b, int)) or isinstance(a, bool) or isinstance(b, bool):
                raise mismatch
            return list(range(a, b + 1))
        if op == "+":
            if num:
                return a + b
            if isinstance(a, str) and isinstance(b, str):
                return a + b
            if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
                return list(a) + list(b)
            if isinstance(a, (datetime.datetime, datetime.timedelta)) and isinstance(b, datetime.timedelta):
                return a + b
            raise mismatch
        if op == "-":
            if num:
                return a - b
            if isinstance(a, datetime.datetime) and isinstance(b, (datetime.datetime, datetime.timedelta)):
                return a - b
            if isinstance(a, datetime.timedelta) and isinstance(b, datetime.timedelta):
                return a - b
            raise mismatch
        if op == "*":
            if num:
                return a * b
            if isinstance(a, datetime.timedelta) and _is_number(b):
                return a * b
            raise mismatch
        if not num:
            raise mismatch
        if op == "/":
            a, b = float(a), float(b)
            if b == 0:  # Go float division: no panic
                return float("nan") if a == 0 or math.isnan(a) else math.copysign(float("inf"), a)
            return a / b
        if op == "%":
            if not (isinstance(a, int) and isinstance(b, int)):
                raise mismatch
            if b == 0:
                raise _Runtime("integer divide by zero")
            return int(math.fmod(a, b))  # Go's remainder takes the dividend's sign
        if op in ("**", "^"):
            try:
                return math.pow(float(a), float(b))
            except (OverflowError, ValueError):
                return float("inf") if a > 0 else float("nan")
        raise mismatch
