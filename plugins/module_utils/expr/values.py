# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values as expr-lang sees them: type names, equality, Go's int64 arithmetic, conversions and formatting."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import decimal
import math
import re

from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.expr.common import INT_MAX, INT_MIN, MAX_DURATION, ExprError, brief


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
    if INT_MIN <= value <= INT_MAX:
        return value
    return ((value - INT_MIN) % (1 << 64)) + INT_MIN


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
    """An error while evaluating; the walker adds the position."""


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
            number = int(text) if len(text) <= 21 else INT_MAX + 1
            if not INT_MIN <= number <= INT_MAX:
                raise _Runtime('%s: strconv.ParseInt: parsing "%s": value out of range' % (name, brief(value)))
            return number
        raise _Runtime('%s: strconv.ParseInt: parsing "%s": invalid syntax' % (name, brief(value)))
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
                raise _Runtime('%s: strconv.ParseFloat: parsing "%s": value out of range' % (name, brief(value)))
            return number
        raise _Runtime('%s: strconv.ParseFloat: parsing "%s": invalid syntax' % (name, brief(value)))
    raise _Runtime("%s: cannot convert %s to float" % (name, type_name(value)))


def _check_duration(value):
    if isinstance(value, datetime.timedelta) and abs(value.total_seconds()) > MAX_DURATION:
        raise _Runtime("time.Duration out of range")
    return value


def _duration(text):
    if not isinstance(text, str):
        raise _Runtime("duration() expects a string, got %s" % type_name(text))
    if len(text) > 100:
        raise _Runtime('time: invalid duration "%s"' % brief(text))
    try:
        seconds = parse_go_duration(text)
    except (ValueError, OverflowError) as e:
        raise _Runtime(brief(str(e), 200))
    if math.isnan(seconds) or abs(seconds) > MAX_DURATION:
        raise _Runtime('time: invalid duration "%s": out of range' % brief(text))
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
    return brief(_format(value))
