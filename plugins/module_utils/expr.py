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

import datetime
import decimal
import json
import math
import re

from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.re2lite import RegexError, compile_regex

__all__ = ["ExprError", "Expression", "compile_expr", "evaluate_condition", "type_name",
           "MAX_SOURCE", "MAX_DEPTH", "MAX_ITEMS", "MAX_STRING", "MAX_STEPS"]

MAX_SOURCE = 100000     # characters in one expression
MAX_DEPTH = 100         # nesting levels in the parser (and 3x that in the syntax tree)
MAX_ITEMS = 100000      # items in an array or map the expression builds
MAX_STRING = 1000000    # characters in a string the expression builds
MAX_STEPS = 1000000     # evaluation budget: node visits + per-item work in built-ins
_MAX_TREE_DEPTH = 3 * MAX_DEPTH
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 63) - 1
_MAX_DURATION = 9223372036.854775807  # seconds in Go's time.Duration (int64 nanoseconds)


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


def _brief(text, limit=40):
    """User text quoted in a message, cut short."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------- tokens

_NUMBER = re.compile(r"(0[xX][0-9a-fA-F_]+|(?:[0-9][0-9_]*)?\.?[0-9][0-9_]*(?:[eE][+-]?[0-9]+)?)")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NOT_IN = re.compile(r"not\s+in\b")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_DIGITS = "0123456789"    # str.isdigit() also accepts "²" and "٣": expr-lang reads ASCII digits only
_OPERATORS = ("not in", "**", "==", "!=", "<=", ">=", "&&", "||", "??", "..", "?.",
              "<", ">", "+", "-", "*", "/", "%", "^", "!", "?", ":", "(", ")", "[", "]",
              "{", "}", ",", ".", "#")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0",
            "b": "\b", "f": "\f", "v": "\v", "a": "\a"}


def _number(src, i, text):
    """The value of a number literal, with expr-lang's rules: int64 integers, finite floats."""
    clean = text.replace("_", "")
    try:
        if clean.lower().startswith("0x"):
            value = int(clean, 16) if len(clean) <= 20 else _INT_MAX + 1
        elif any(ch in clean for ch in ".eE"):
            value = float(clean)
            if math.isinf(value):
                raise ExprError("invalid float literal %s: value out of range" % _brief(text), src, i)
            return value
        else:
            value = int(clean) if len(clean) <= 20 else _INT_MAX + 1
    except ValueError:
        raise ExprError("invalid number %s" % _brief(text), src, i)
    if value > _INT_MAX:
        raise ExprError("invalid integer literal %s: value out of range" % _brief(text), src, i)
    return value


def _tokenize(src):
    tokens = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
            continue
        if c in _DIGITS or (c == "." and i + 1 < n and src[i + 1] in _DIGITS
                            and not (tokens and tokens[-1][0] == "op" and tokens[-1][1] == ".")):
            m = _NUMBER.match(src, i)
            if m is None:
                raise ExprError("invalid number", src, i)
            text = m.group(0)
            # "1..3" is a range, not the float "1." followed by ".3"
            if "." in text and src.startswith("..", i + text.index(".")):
                text = text[:text.index(".")]
            tokens.append(("num", _number(src, i, text), i))
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
                    if esc == "u" and _HEX4.match(src, i + 2):
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
                rest = _NOT_IN.match(src, i)
                if rest:
                    tokens.append(("op", "not in", i))
                    i = rest.end()
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
_TOO_DEEP = "expression nested too deeply (more than %d levels)" % MAX_DEPTH


class _Parser(object):
    """Tokens -> syntax tree. Binary operators of one precedence form one flat ``chain`` node and
    prefix operators one ``unary`` node, so long chains never recurse per operand."""

    def __init__(self, source):
        self.source = source
        self.tokens = _tokenize(source)
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
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise self.error(_TOO_DEEP)
            cond = self.binary(0)
            if self.is_op("?"):
                pos = self.next()[2]
                yes = self.ternary()
                self.expect(":")
                no = self.ternary()
                return ("cond", cond, yes, no, pos)
            return cond
        finally:
            self.depth -= 1

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
            items = []
            while op is not None and _BINARY[op] == prec:
                pos = self.next()[2]
                right = self.binary(prec)
                items.append(({"||": "or", "&&": "and"}.get(op, op), right, pos))
                op = self.binary_op()
            left = ("chain", left, items, prec == _BINARY["**"])

    def unary(self):
        ops = []
        while True:
            tok = self.peek()
            if (tok[0] == "op" and tok[1] in ("!", "-", "+")) or (tok[0] == "ident" and tok[1] == "not"):
                self.next()
                ops.append(("!" if tok[1] in ("!", "not") else tok[1], tok[2]))
                continue
            break
        if ops:
            return ("unary", ops, self.binary(_UNARY_PREC))
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
                return ("array", items, pos)
            if value == "{":
                return self.map_literal(pos)
        if kind == "eof":
            raise ExprError("unexpected end of expression", self.source, pos)
        raise ExprError("unexpected token %r" % (value,), self.source, pos)

    def map_literal(self, pos):
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
            pairs.append((key, self.ternary(), tok[2]))
            if not self.is_op("}"):
                self.expect(",")
        self.expect("}")
        return ("map", pairs, pos)

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
        chained = 0
        while True:
            tok = self.peek()
            if tok[0] == "op" and tok[1] in (".", "?.", "["):
                chained += 1
                if self.depth + chained > MAX_DEPTH:
                    raise self.error(_TOO_DEEP, tok)
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


def _children(node):
    kind = node[0]
    if kind in ("array", "call"):
        return node[2] if kind == "call" else node[1]
    if kind == "map":
        return [part for key, value, _pos in node[1] for part in (key, value)]
    if kind == "chain":
        return [node[1]] + [item[1] for item in node[2]]
    if kind == "unary":
        return [node[2]]
    if kind == "cond":
        return [node[1], node[2], node[3]]
    if kind == "member":
        return [node[1], node[2]]
    if kind == "slice":
        return [child for child in node[1:4] if child is not None]
    if kind == "closure":
        return [node[1]]
    return []


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


def _is_key(value):
    """A value that can be a map key (or a groupBy/uniq key)."""
    return value is None or isinstance(value, (str, int, float, bool))


def _int64(value):
    """Go's int arithmetic wraps around at 64 bits."""
    if _INT_MIN <= value <= _INT_MAX:
        return value
    return ((value - _INT_MIN) % (1 << 64)) + _INT_MIN


def _float(value):
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def _equal(a, b):
    if _is_number(a) and _is_number(b):
        return a == b
    if type_name(a) != type_name(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(k in b and _equal(a[k], b[k]) for k in a)
    try:
        return a == b
    except (TypeError, ValueError):
        return False


def _canon(value):
    """A hashable key that is equal for two values exactly when ``_equal`` says they are."""
    if isinstance(value, float) and math.isnan(value):
        return object()                   # NaN equals nothing, not even itself
    if isinstance(value, bool):
        return ("bool", value)
    if _is_number(value):
        return ("number", value)
    if isinstance(value, (list, tuple)):
        return ("array", tuple(_canon(v) for v in value))
    if isinstance(value, dict):
        return ("map", frozenset((_canon(k), _canon(v)) for k, v in value.items()))
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return (type_name(value), value)


class _Runtime(ExprError):
    pass


# --------------------------------------------------------------------------- builtins


def _need_list(name, value):
    if not isinstance(value, (list, tuple)):
        raise _Runtime("%s() expects an array, got %s" % (name, type_name(value)))
    return value


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


_INT_TEXT = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
                         r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])\Z")


def _as_int(value, name="asInt"):
    if isinstance(value, bool):
        raise _Runtime("%s: cannot convert bool to int" % name)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value) or not -9.223372036854776e18 <= value < 9.223372036854776e18:
            raise _Runtime("%s: cannot convert %s to int: out of range" % (name, _format_number(value)))
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if _INT_TEXT.match(text):
            number = int(text) if len(text) <= 21 else _INT_MAX + 1
            if not _INT_MIN <= number <= _INT_MAX:
                raise _Runtime('%s: strconv.ParseInt: parsing "%s": value out of range' % (name, _brief(value)))
            return number
        raise _Runtime('%s: strconv.ParseInt: parsing "%s": invalid syntax' % (name, _brief(value)))
    raise _Runtime("%s: cannot convert %s to int" % (name, type_name(value)))


def _as_float(value, name="asFloat"):
    if isinstance(value, bool):
        raise _Runtime("%s: cannot convert bool to float" % name)
    if _is_number(value):
        return _float(value)
    if isinstance(value, str):
        text = value.strip()
        if _FLOAT_TEXT.match(text):
            number = float(text)
            if math.isinf(number) and "n" not in text.lower():
                raise _Runtime('%s: strconv.ParseFloat: parsing "%s": value out of range' % (name, _brief(value)))
            return number
        raise _Runtime('%s: strconv.ParseFloat: parsing "%s": invalid syntax' % (name, _brief(value)))
    raise _Runtime("%s: cannot convert %s to float" % (name, type_name(value)))


def _check_duration(value):
    if isinstance(value, datetime.timedelta) and abs(value.total_seconds()) > _MAX_DURATION:
        raise _Runtime("time.Duration out of range")
    return value


def _duration(text):
    if not isinstance(text, str):
        raise _Runtime("duration() expects a string, got %s" % type_name(text))
    if len(text) > 100:
        raise _Runtime('time: invalid duration "%s"' % _brief(text))
    try:
        seconds = parse_go_duration(text)
    except (ValueError, OverflowError) as e:
        raise _Runtime(_brief(str(e), 200))
    if math.isnan(seconds) or abs(seconds) > _MAX_DURATION:
        raise _Runtime('time: invalid duration "%s": out of range' % _brief(text))
    return datetime.timedelta(seconds=seconds)


def _format_number(value):
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return repr(value) if value != int(value) or abs(value) >= 1e21 else str(int(value))
    try:
        return str(value)
    except ValueError:      # an integer of more than 4300 digits, from outside the expression
        return format(decimal.Decimal(value), ".16e")


def _format(value):
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return _format_number(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_format(v) for v in value) + "]"
    return str(value)


def _describe(value):
    """A value named in an error message: short, and never a walk through a big structure."""
    if isinstance(value, (list, tuple, dict)):
        return type_name(value)
    return _brief(_format(value))


class _Builtins(object):
    """Built-in functions. Argo's isNil/default read the whole bound ``result``."""

    def __init__(self, walker):
        self.w = walker
        self.env = walker.env

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

    def items(self, name, value):
        """An array argument, its items paid for in the budget."""
        value = _need_list(name, value)
        self.w.charge(len(value))
        return value

    # Argo Rollouts environment
    def fn_isNil(self, *args):
        return self.env.get("result") is None

    def fn_default(self, *args):
        self.arity("default", args, 2)
        result = self.env.get("result")
        return args[1] if result is None else result

    def fn_asInt(self, *args):
        self.arity("asInt", args, 1)
        return _as_int(args[0])

    def fn_asFloat(self, *args):
        self.arity("asFloat", args, 1)
        return _as_float(args[0])

    def fn_isNaN(self, *args):
        self.arity("isNaN", args, 1)
        if not _is_number(args[0]):
            raise _Runtime("isNaN() expects a number, got %s" % type_name(args[0]))
        return isinstance(args[0], float) and math.isnan(args[0])

    def fn_isInf(self, *args):
        self.arity("isInf", args, 1, 2)
        if not _is_number(args[0]):
            raise _Runtime("isInf() expects a number, got %s" % type_name(args[0]))
        return isinstance(args[0], float) and math.isinf(args[0])

    # expr builtins
    def fn_len(self, *args):
        self.arity("len", args, 1)
        if isinstance(args[0], (list, tuple, dict, str)):
            return len(args[0])
        raise _Runtime("invalid argument for len (type %s)" % type_name(args[0]))

    def fn_abs(self, *args):
        self.arity("abs", args, 1)
        _numbers("abs", [args[0]])
        return _int64(abs(args[0])) if isinstance(args[0], int) else abs(args[0])

    def fn_ceil(self, *args):
        self.arity("ceil", args, 1)
        v = _float(_numbers("ceil", [args[0]])[0])
        return v if math.isnan(v) or math.isinf(v) else float(math.ceil(v))

    def fn_floor(self, *args):
        self.arity("floor", args, 1)
        v = _float(_numbers("floor", [args[0]])[0])
        return v if math.isnan(v) or math.isinf(v) else float(math.floor(v))

    def fn_round(self, *args):
        self.arity("round", args, 1)
        v = _float(_numbers("round", [args[0]])[0])
        if math.isnan(v) or math.isinf(v):
            return v
        return float(math.floor(abs(v) + 0.5) * (1 if v >= 0 else -1))  # Go rounds half away from zero

    def fn_max(self, *args):
        values = _spread("max", args)
        self.w.charge(len(values))
        if any(isinstance(v, float) and math.isnan(v) for v in values):
            return float("nan")
        return max(values)

    def fn_min(self, *args):
        values = _spread("min", args)
        self.w.charge(len(values))
        if any(isinstance(v, float) and math.isnan(v) for v in values):
            return float("nan")
        return min(values)

    def fn_mean(self, *args):
        values = _spread("mean", args)
        self.w.charge(len(values))
        return self.w.sum("mean", values, as_float=True) / len(values)

    def fn_median(self, *args):
        values = _spread("median", args)
        self.w.charge(len(values))
        values = sorted(_float(v) for v in values)
        mid = len(values) // 2
        if len(values) % 2:
            return values[mid]
        return (values[mid - 1] + values[mid]) / 2.0

    def fn_sum(self, *args):
        self.arity("sum", args, 1)
        return self.w.sum("sum", list(self.items("sum", args[0])))

    # conversions that take one value
    def fn_int(self, *args):
        self.arity("int", args, 1)
        return _as_int(args[0], "int")

    def fn_float(self, *args):
        self.arity("float", args, 1)
        return _as_float(args[0], "float")

    def fn_string(self, *args):
        self.arity("string", args, 1)
        self.w.measure(args[0], limit=True)
        return self.w.out_str(_format(args[0]))

    def fn_type(self, *args):
        self.arity("type", args, 1)
        return type_name(args[0])

    def fn_first(self, *args):
        self.arity("first", args, 1)
        items = _need_list("first", args[0])
        return items[0] if items else None

    def fn_last(self, *args):
        self.arity("last", args, 1)
        items = _need_list("last", args[0])
        return items[-1] if items else None

    def fn_take(self, *args):
        self.arity("take", args, 2)
        n = _as_int(args[1], "take")
        return self.w.out_list(list(_need_list("take", args[0])[:max(0, n)]))

    def fn_reverse(self, *args):
        self.arity("reverse", args, 1)
        return self.w.out_list(list(reversed(self.items("reverse", args[0]))))

    def fn_uniq(self, *args):
        """Linear: one hashable key a value (1 and 1.0 are one value, true and 1 are two, NaN never repeats)."""
        self.arity("uniq", args, 1)
        items = _need_list("uniq", args[0])
        self.w.measure(items)
        out, seen = [], set()
        for item in items:
            key = _canon(item)
            if key not in seen:
                seen.add(key)
                out.append(item)
        return self.w.out_list(out)

    def fn_concat(self, *args):
        lists = [_need_list("concat", a) for a in args]
        self.w.out_size(sum(len(items) for items in lists))
        out = []
        for items in lists:
            out.extend(items)
        return self.w.out_list(out)

    def fn_flatten(self, *args):
        self.arity("flatten", args, 1)
        out = []
        stack = [iter(_need_list("flatten", args[0]))]
        visited = 0
        while stack:
            item = next(stack[-1], _Nil)
            if item is _Nil:
                stack.pop()
                continue
            visited += 1
            if visited % 1024 == 0:
                self.w.charge(1024)
            if isinstance(item, (list, tuple)):
                if len(stack) > _MAX_TREE_DEPTH:
                    raise _Runtime("flatten: array nested too deeply")
                stack.append(iter(item))
            else:
                out.append(item)
                if len(out) > MAX_ITEMS:
                    self.w.out_size(len(out))
        return self.w.out_list(out)

    def fn_sort(self, *args):
        self.arity("sort", args, 1, 2)
        items = list(self.items("sort", args[0]))
        if len(args) == 2 and args[1] not in ("asc", "desc"):
            raise _Runtime('sort() order must be "asc" or "desc", got %s' % _describe(args[1]))
        return self.w.out_list(_sorted("sort", items, items, len(args) == 2 and args[1] == "desc"))

    def fn_keys(self, *args):
        self.arity("keys", args, 1)
        if not isinstance(args[0], dict):
            raise _Runtime("keys() expects a map, got %s" % type_name(args[0]))
        return self.w.out_list(list(args[0].keys()))

    def fn_values(self, *args):
        self.arity("values", args, 1)
        if not isinstance(args[0], dict):
            raise _Runtime("values() expects a map, got %s" % type_name(args[0]))
        return self.w.out_list(list(args[0].values()))

    def fn_get(self, *args):
        self.arity("get", args, 2)
        container, key = args
        if isinstance(container, dict):
            return container.get(key) if _is_key(key) else None
        if isinstance(container, (list, tuple, str)) and _is_number(key):
            if isinstance(key, float) and not (math.isfinite(key) and key == int(key)):
                return None
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
        return self.w.out_str(self._str("upper", args[0]).upper())

    def fn_lower(self, *args):
        self.arity("lower", args, 1)
        return self.w.out_str(self._str("lower", args[0]).lower())

    def fn_trim(self, *args):
        self.arity("trim", args, 1, 2)
        cutset = [self._str("trim", a) for a in args[1:]]
        return self._str("trim", args[0]).strip(*cutset)

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
        s, sep = self._str("split", args[0]), self._str("split", args[1])
        self.w.charge(len(s) // 16)
        if not sep:                      # Go's strings.Split(s, "") splits after each character
            self.w.out_size(len(s))
            return self.w.out_list(list(s))
        self.w.out_size(s.count(sep) + 1)
        return self.w.out_list(s.split(sep))

    def fn_join(self, *args):
        self.arity("join", args, 1, 2)
        sep = self._str("join", args[1]) if len(args) == 2 else ""
        items = [self._str("join", v) for v in self.items("join", args[0])]
        self.w.out_length(sum(len(v) for v in items) + len(sep) * max(0, len(items) - 1))
        return self.w.out_str(sep.join(items))

    def fn_replace(self, *args):
        self.arity("replace", args, 3)
        s, old, new = (self._str("replace", a) for a in args)
        count = (len(s) + 1) if not old else s.count(old)
        self.w.out_length(len(s) + count * (len(new) - len(old)))
        return self.w.out_str(s.replace(old, new))

    def fn_repeat(self, *args):
        self.arity("repeat", args, 2)
        s, n = self._str("repeat", args[0]), _as_int(args[1], "repeat")
        if n < 0:
            raise _Runtime("strings: negative Repeat count")
        self.w.out_length(len(s) * n if s else 0)
        return self.w.out_str(s * n)

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

    def fn_toJSON(self, *args):
        self.arity("toJSON", args, 1)
        self.w.measure(args[0], limit=True)
        try:
            text = json.dumps(args[0], indent=2, sort_keys=True, default=str, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise _Runtime("toJSON: %s" % _brief(str(e), 200))
        return self.w.out_str(text)

    def fn_fromJSON(self, *args):
        self.arity("fromJSON", args, 1)
        text = self._str("fromJSON", args[0])
        self.w.charge(len(text) // 16)

        def bad_constant(name):
            raise ValueError("invalid character '%s' looking for beginning of value" % name[:1])
        try:
            # Go decodes every JSON number into float64
            value = json.loads(text, parse_int=float, parse_constant=bad_constant)
        except RecursionError:
            raise _Runtime("fromJSON: value nested too deeply")
        except (TypeError, ValueError) as e:
            raise _Runtime("fromJSON: %s" % _brief(str(e), 200))
        self.w.measure(value, limit=True)
        return value

    def fn_now(self, *args):
        self.arity("now", args, 0)
        return datetime.datetime.now(datetime.timezone.utc)

    def fn_duration(self, *args):
        self.arity("duration", args, 1)
        return _duration(args[0])


_BUILTIN_NAMES = frozenset(n[3:] for n in dir(_Builtins) if n.startswith("fn_")) | frozenset(_CLOSURE_ARG)


def _sorted(name, items, keys, reverse=False):
    """Items ordered by keys that are all numbers or all strings (expr-lang sorts nothing else)."""
    if keys and not (all(_is_number(k) for k in keys) or all(isinstance(k, str) for k in keys)):
        raise _Runtime("%s() expects an array of numbers or of strings" % name)
    order = sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)
    return [items[i] for i in order]


# --------------------------------------------------------------------------- evaluation


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
            self.ast = _Parser(source).parse()
        except RecursionError:
            raise ExprError(_TOO_DEEP, source, 0)
        self._check_names(self.ast)

    def _check_names(self, root):
        """Unknown names and functions are errors before evaluation; the tree is walked without recursion."""
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > _MAX_TREE_DEPTH:
                raise ExprError(_TOO_DEEP, self.source, 0)
            kind = node[0]
            if kind == "name" and node[1] not in self.names:
                raise ExprError("unknown name %s" % node[1], self.source, node[2])
            if kind == "call" and node[1] not in _BUILTIN_NAMES:
                raise ExprError("unknown func %s" % node[1], self.source, node[3])
            stack.extend((child, depth + 1) for child in reversed(_children(node)))

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


_NODE_KINDS = ("lit", "name", "pointer", "array", "map", "cond", "unary", "member", "slice", "call", "chain")


class _Walker(object):
    def __init__(self, source, env):
        self.source = source
        self.env = env
        self.builtins = _Builtins(self)
        self.pointers = []
        self.steps = 0
        self.nodes = dict((kind, getattr(self, "node_" + kind)) for kind in _NODE_KINDS)

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
                if depth > _MAX_TREE_DEPTH:
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
        return self.nodes[node[0]](node)

    def node_lit(self, node):
        return node[1]

    def node_name(self, node):
        return self.env[node[1]]

    def node_pointer(self, node):
        return self.pointers[-1]

    def node_array(self, node):
        self.out_size(len(node[1]))
        return [self.eval(item) for item in node[1]]

    def node_map(self, node):
        out = {}
        for key_node, value_node, pos in node[1]:
            key = self.eval(key_node)
            if not _is_key(key):
                raise self.fail("invalid map key type %s" % type_name(key), pos)
            out[key] = self.eval(value_node)
        return out

    def node_cond(self, node):
        cond = self.eval(node[1])
        if not isinstance(cond, bool):
            raise self.fail("non-bool expression (type %s) used as condition" % type_name(cond), node[4])
        return self.eval(node[2] if cond else node[3])

    def node_unary(self, node):
        value = self.eval(node[2])
        for op, pos in reversed(node[1]):
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
        obj, optional, pos = self.eval(node[1]), node[3], node[4]
        if obj is None and optional:
            return None
        key = self.eval(node[2])
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
                raise self.fail("index out of range: %s (array length is %d)" % (_brief(k), len(obj)), pos)
            return obj[k]
        raise self.fail("cannot fetch %s from %s" % (_describe(key), type_name(obj)), pos)

    def node_slice(self, node):
        obj, pos = self.eval(node[1]), node[4]
        if not isinstance(obj, (list, tuple, str)):
            raise self.fail("cannot slice %s" % type_name(obj), pos)
        lo = 0 if node[2] is None else _as_int(self.eval(node[2]), "slice")
        hi = len(obj) if node[3] is None else _as_int(self.eval(node[3]), "slice")
        out = obj[lo:hi]
        self.charge(len(out) // 16 if isinstance(out, str) else len(out))
        return out

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
        items = node[2]
        if node[3]:
            values = [self.eval(node[1])] + [self.eval(item[1]) for item in items]
            acc = values[-1]
            for k in range(len(items) - 1, -1, -1):
                acc = self.apply(items[k][0], values[k], acc, items[k][2])
            return acc
        left = self.eval(node[1])
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
                raise _Runtime("invalid regular expression %s: %s" % (_brief(repr(b), 60), e))
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
