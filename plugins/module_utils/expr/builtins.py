# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built-in functions: Argo Rollouts' (asInt, asFloat, isNaN, isInf, isNil, default) and expr-lang's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import math

from ansible_collections.progressive.delivery.plugins.module_utils.expr.common import MAX_ITEMS, MAX_TREE_DEPTH, brief
from ansible_collections.progressive.delivery.plugins.module_utils.expr.parser import CLOSURE_ARG
from ansible_collections.progressive.delivery.plugins.module_utils.expr.values import (
    _Nil, _Runtime, _as_float, _as_int, _canon, _describe, _duration, _float, _format, _int64, _is_key, _is_number,
    _need_list, _numbers, _spread, type_name)


class Builtins(object):
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
                if len(stack) > MAX_TREE_DEPTH:
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
            raise _Runtime("toJSON: %s" % brief(str(e), 200))
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
            raise _Runtime("fromJSON: %s" % brief(str(e), 200))
        self.w.measure(value, limit=True)
        return value

    def fn_now(self, *args):
        self.arity("now", args, 0)
        return datetime.datetime.now(datetime.timezone.utc)

    def fn_duration(self, *args):
        self.arity("duration", args, 1)
        return _duration(args[0])


BUILTIN_NAMES = frozenset(n[3:] for n in dir(Builtins) if n.startswith("fn_")) | frozenset(CLOSURE_ARG)


def _sorted(name, items, keys, reverse=False):
    """Items ordered by keys that are all numbers or all strings (expr-lang sorts nothing else)."""
    if keys and not (all(_is_number(k) for k in keys) or all(isinstance(k, str) for k in keys)):
        raise _Runtime("%s() expects an array of numbers or of strings" % name)
    order = sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)
    return [items[i] for i in order]
