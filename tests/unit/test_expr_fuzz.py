# -*- coding: utf-8 -*-
"""The condition evaluator never crashes, hangs or explodes (issue 16, point 7).

A fixed-seed fuzzer (grammar + mutation) checks that every input gives a value or an ExprError,
and the inputs that used to crash, hang or eat gigabytes are kept as explicit regressions. There
are no timed asserts: a regression for a hang simply has to finish, bounded by construction.
``bench/expr_fuzz.py`` runs the same generator over 50,000+ inputs with a watchdog and a memory cap.
"""

import random

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import expr
from ansible_collections.progressive.delivery.plugins.module_utils.expr import (
    Expression, ExprError, evaluate_condition)

SEED = 20260716
COUNT = 3000

# --------------------------------------------------------------------------- generator (shared with bench/expr_fuzz.py)

ENVS = [None, 0.97, float("nan"), float("inf"), [0.99, 0.5], [], [1, 2, 3], ["a", "b"], {"p99": 0.2, "ok": True},
        [{"ok": True, "v": 1}, {"ok": False, "v": 2.5}], "text", -3, 10 ** 30, [[1, [2, [3]]], "x"]]

_NUMBERS = ["0", "1", "2", "3", "-1", "0.5", "1e3", "1e308", "9223372036854775807", "9223372036854775808",
            "0x7fffffffffffffff", "1_000", ".5", "1e999", "²", "٣", "1.", "0/0", "1/0", "100000", "1e9", "1e18"]
_STRINGS = ["'a'", '"abc"', "''", "'v1.2.3'", "'1'", "'1.5'", "'nan'", "'1e999'", "'٣'", "'30s'", "'1h30m'",
            "'99999999999h'", "'[1,2]'", "'{\"a\":1}'", "`raw\\`", "'\\u00e9'", "'__class__'", "'[[[['"]
_REGEXES = ["^v[0-9]+", "(a|a)*$", "^(a+)+$", "(x+x+)+y", "a{2,5}", "[[:alpha:]]+", "\\\\d+\\\\.\\\\d", "(?i)abc",
            "(?=a)", "\\\\1", "a**", "(", "[z-a]", "a{1001}", "(a{100}){100}", "\\\\bfoo\\\\b", ".*", "(?s).", "x|y|",
            "\\\\pL", "\\\\p{Greek}", "[^\\\\]]", "(?P<n>a)b", "\\\\Q.*\\\\E", "^$", "a{,2}", "\\\\x{41}", "\\\\C"]
# values that cost: big ranges and strings, the catastrophic regex, nested predicates, shared parts
_HEAVY = ["(1..100000)", "repeat('ab', 400000)", "(repeat('a', 28) + '!')", "'^(a|a)*$'", "(0..99999)",
          "map(1..50000, {[#, #]})", "map(1..1000, {1..1000})", "repeat('9', 5000)", "(1..100000000)",
          "repeat('a', 1e9)", "map([map([map([1..100], {[#, #]})], {[#, #]})], {[#, #]})",
          "fromJSON(repeat('[', 5000))",
          "toJSON(1..100000)", "string(1..100000)", "uniq(map(1..100000, {# % 10}))", "sort(map(1..100000, {-#}))"]
_FUNCS1 = ["len", "abs", "ceil", "floor", "round", "max", "min", "mean", "median", "sum", "int", "float", "string",
           "type", "first", "last", "reverse", "uniq", "flatten", "sort", "keys", "values", "upper", "lower", "trim",
           "toJSON", "fromJSON", "duration", "asInt", "asFloat", "isNaN", "isInf", "isNil", "concat"]
_FUNCS2 = ["take", "get", "split", "join", "repeat", "indexOf", "lastIndexOf", "hasPrefix", "hasSuffix",
           "trimPrefix", "trimSuffix", "default", "max", "min", "concat", "sort", "trim"]
_PREDICATES = ["all", "any", "none", "one", "filter", "map", "count", "find", "findIndex", "findLast",
               "findLastIndex", "sum", "sortBy", "groupBy"]
_BINOPS = ["+", "-", "*", "/", "%", "**", "^", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "and", "or", "??",
           "..", "in", "not in", "contains", "startsWith", "endsWith", "matches"]
_UNOPS = ["-", "+", "!", "not "]


class Generator(object):
    """Random expressions: grammar-built, then sometimes mutated at the character level."""

    def __init__(self, seed, heavy=0.005):
        self.rnd = random.Random(seed)
        self.heavy = heavy

    def atom(self, in_closure):
        r = self.rnd
        if r.random() < self.heavy:
            return r.choice(_HEAVY)
        choice = r.random()
        if choice < 0.25:
            return r.choice(_NUMBERS)
        if choice < 0.4:
            return r.choice(_STRINGS)
        if choice < 0.6:
            return r.choice(["result", "result[0]", "result[-1]", "result.p99", "result?.ok", "result[1:]",
                             "nil", "true", "false", "result.__class__", "result.__init__", "now()"])
        if in_closure and choice < 0.8:
            return r.choice(["#", "#.v", ".ok", "# * 2", "#.ok"])
        return "'%s'" % r.choice(_REGEXES)

    def expr(self, depth=0, in_closure=False):
        r = self.rnd
        if depth > 4 or r.random() < 0.25:
            return self.atom(in_closure)
        kind = r.random()

        def sub():
            return self.expr(depth + 1, in_closure)
        if kind < 0.3:
            return "%s %s %s" % (sub(), r.choice(_BINOPS), sub())
        if kind < 0.38:
            return "%s%s" % (r.choice(_UNOPS) * r.randint(1, 3), sub())
        if kind < 0.5:
            return "%s(%s)" % (r.choice(_FUNCS1), sub())
        if kind < 0.6:
            return "%s(%s, %s)" % (r.choice(_FUNCS2), sub(), sub())
        if kind < 0.7:
            body = self.expr(depth + 1, True)
            form = "{%s}" if r.random() < 0.5 else "%s"
            return "%s(%s, %s)" % (r.choice(_PREDICATES), sub(), form % body)
        if kind < 0.76:
            return "[%s]" % ", ".join(sub() for _item in range(r.randint(0, 3)))
        if kind < 0.8:
            return "{%s}" % ", ".join("%s: %s" % (r.choice(["a", "'b'", "1", "(%s)" % sub()]), sub())
                                      for _item in range(r.randint(0, 2)))
        if kind < 0.85:
            return "(%s ? %s : %s)" % (sub(), sub(), sub())
        if kind < 0.9:
            return "(%s)[%s]" % (sub(), sub())
        if kind < 0.93:
            return "(%s)[%s:%s]" % (sub(), sub(), sub())
        if kind < 0.96:
            return "(%s).%s" % (sub(), r.choice(["a", "p99", "__class__", "ok", "v"]))
        return "(%s)" % sub()

    def mutate(self, text):
        r = self.rnd
        chars = list(text)
        for _edit in range(r.randint(1, 4)):
            op = r.random()
            pos = r.randint(0, len(chars))
            if op < 0.3 and chars:
                del chars[min(pos, len(chars) - 1)]
            elif op < 0.7:
                chars.insert(pos, r.choice("()[]{}.,:?#!-+*/%^<>=&|'\"`\\ 0123456789ae_x²٣é\u0000"))
            elif op < 0.85 and chars:
                a = r.randint(0, len(chars) - 1)
                b = min(len(chars), a + r.randint(1, 8))
                chars[pos:pos] = chars[a:b] * r.randint(1, 3)
            else:
                chars.insert(pos, r.choice(["..", "**", "??", "?.", "not in", " matches ", "#", "repeat(", "1..1000"]))
        return "".join(chars)

    def case(self):
        """(expression, result) for one input."""
        text = self.expr()
        if self.rnd.random() < 0.3:
            text = self.mutate(text)
        return text, self.rnd.choice(ENVS)


def run_one(text, result):
    """'value' or 'error'; anything else than ExprError propagates."""
    try:
        Expression(text).evaluate({"result": result})
        return "value"
    except ExprError:
        return "error"


# --------------------------------------------------------------------------- the fuzz run


def test_fuzzed_inputs_give_a_value_or_an_expr_error():
    gen = Generator(SEED)
    failures = []
    outcomes = {"value": 0, "error": 0}
    for _index in range(COUNT):
        text, result = gen.case()
        try:
            outcomes[run_one(text, result)] += 1
        except Exception as e:  # pylint: disable=broad-except
            failures.append("%r with result=%r: %s: %s" % (text, result, type(e).__name__, e))
    assert not failures, "%d crashes, first: %s" % (len(failures), "\n".join(failures[:5]))
    # the generator reaches both sides
    assert outcomes["value"] > COUNT // 10 and outcomes["error"] > COUNT // 10


# --------------------------------------------------------------------------- regressions from the issue


def ev(source, result=None):
    return Expression(source).evaluate({"result": result})


def fails(source, message, result=None):
    with pytest.raises(ExprError) as info:
        ev(source, result)
    assert message in info.value.message, info.value.message
    return info.value


@pytest.mark.parametrize("source", ["1²", "²", "1 + ٣", "result[٣]", "1²3"])
def test_unicode_digits_are_not_numbers(source):
    err = fails(source, "unexpected token", [1])
    assert err.pos is not None


def test_ascii_numbers_still_parse():
    assert ev("1_000 + 0x10 + .5 + 1e3") == 2016.5


def test_300_nested_parentheses_are_an_error_not_a_recursion():
    fails("(" * 300 + "1" + ")" * 300, "nested too deeply")
    assert ev("(" * 90 + "1" + ")" * 90) == 1


@pytest.mark.parametrize("source,expected", [
    ("-" * 600 + "1", 1),
    ("-" * 601 + "1", -1),
    ("!" * 1001 + "true", False),
    ("+".join(["1"] * 1000), 1000),
    ("-".join(["1"] * 1000), -998),
    (" && ".join(["true"] * 1000), True),
    (" ?? ".join(["nil"] * 999 + ["7"]), 7),
    ("2 ** " * 500 + "1", float("inf")),
    ("1 ^ " * 500 + "2", 1.0),
])
def test_long_operator_chains_are_flat(source, expected):
    assert ev(source) == expected


@pytest.mark.parametrize("source,expected", [
    ("ceil(1e308 * 10)", float("inf")),
    ("floor(-1e308 * 10)", float("-inf")),
    ("ceil(result)", float("inf")),
    ("mean([1e308, 1e308])", float("inf")),
    ("mean(result)", 1e30),
    ("asFloat(result)", 1e30),
    ("9223372036854775807 + 1", -9223372036854775808),
    ("9223372036854775807 * 9223372036854775807", 1),
    ("abs(-9223372036854775807 - 1)", -9223372036854775808),
    ("string(9223372036854775807 * 2)", "-2"),
])
def test_numbers_overflow_like_go(source, expected):
    result = [10 ** 30] if "mean" in source else 10 ** 30 if "asFloat" in source else float("inf")
    assert ev(source, result) == expected


@pytest.mark.parametrize("source,message", [
    ("9223372036854775808", "invalid integer literal"),
    ("1e999", "invalid float literal"),
    ("int(1e300)", "out of range"),
    ("int(1/0)", "out of range"),
    ("int(0/0)", "out of range"),
    ("asInt(repeat('9', 5000))", "value out of range"),
    ("asFloat('1e999')", "value out of range"),
    ("result[1e300]", "index out of range"),
    ("result[0/0]", "selected using an integer"),
    ("result[1/0]", "selected using an integer"),
    ("result[9223372036854775807]", "index out of range"),
    ("duration('99999999999999h')", "out of range"),
    ("duration(repeat('9', 400) + 's')", "invalid duration"),
    ("duration('1h') * 1e300", "out of range"),
    ("duration('1h') * (0/0)", "out of range"),
    ("duration(1)", "expects a string"),
])
def test_overflows_are_expr_errors(source, message):
    fails(source, message, [1])


def test_string_of_huge_numbers():
    assert ev("string(result)", 10 ** 5000).startswith("1.0000000000000000")
    assert ev("string(1e308 * 10)") == "+Inf"


@pytest.mark.parametrize("source,message", [
    ("{(1..2): 1}", "invalid map key type array"),
    ("{({a: 1}): 1}", "invalid map key type map"),
    ("{a: 1}[[1]]", "invalid key type"),
    ("trim('a', 1)", "trim() expects a string"),
    ("sortBy([{a: 1}, {a: 'x'}], .a)", "numbers or of strings"),
    ("sortBy([[1], [2]], #)", "numbers or of strings"),
    ("sort([1, 'a'])", "numbers or of strings"),
    ("groupBy([1, 2], [#])", "invalid map key type array"),
    ("split(1, 2)", "split() expects a string"),
    ("split('a', nil)", "split() expects a string"),
    ("toJSON({1: 1, 'a': 2})", "toJSON"),
    ("toJSON(0/0)", "toJSON"),
    ("fromJSON(repeat('[', 100000))", "nested too deeply"),
    ("fromJSON('NaN')", "fromJSON"),
    ("repeat('a', -1)", "negative Repeat count"),
])
def test_type_errors_in_builtins_are_expr_errors(source, message):
    fails(source, message)


def test_get_and_split_edge_cases_have_values():
    assert ev("get({a: 1}, [1])") is None
    assert ev("get([1], 1/0)") is None
    assert ev("split('abc', '')") == ["a", "b", "c"]


def test_catastrophic_regex_finishes():
    assert ev('repeat("a", 28) + "!" matches "^(a|a)*$"') is False
    assert ev('repeat("a", 5000) + "!" matches "^(a+)+$"') is False
    assert ev('repeat("x", 3000) matches "(x+x+)+y"') is False
    assert ev('repeat("a", 100000) matches "(a|a)*b"') is False


def test_regex_errors_name_the_construct():
    fails("'a' matches '(?=a)'", "lookahead")
    fails("'a' matches '(?<=a)'", "lookbehind")
    fails("'aa' matches '(a)\\\\1'", "backreferences")
    fails("'a' matches 'a{1001}'", "invalid repeat count")


@pytest.mark.parametrize("source,message", [
    ("1..100000000", "array too large"),
    ("repeat('a', 1e9)", "string too long"),
    ("repeat(repeat('a', 1000), 1001)", "string too long"),
    ("replace(repeat('a', 1000), '', repeat('b', 1000))", "string too long"),
    ("len(map(1..100000, {repeat('a', 1000000)}))", "too expensive"),
    ("concat(1..60000, 1..60000)", "array too large"),
    ("(1..60000) + (1..60000)", "array too large"),
    ("all(1..100000, {all(1..100000, {# > 0})})", "too expensive"),
    ("len(toJSON(map(1..100000, {[#, #, #]})))", "too large"),
])
def test_sizes_and_work_are_bounded(source, message):
    fails(source, message)


def test_values_that_share_parts_cannot_explode():
    doubling = "[1]"
    for _level in range(40):
        doubling = "map([%s], {[#, #]})" % doubling
    fails("string(%s)" % doubling, "")
    fails("len(flatten(%s))" % doubling, "")
    fails("%s == %s" % (doubling, doubling), "too expensive")


def test_uniq_is_linear_and_keeps_expr_equality():
    assert ev("len(uniq(1..100000))") == 100000
    assert ev("len(uniq(map(1..100000, {# % 7})))") == 7
    assert ev("uniq([1, 1.0, true, 'a', 'a', [1], [1], nil, nil])") == [1, True, "a", [1], None]
    assert len(ev("uniq([0/0, 0/0])")) == 2


def test_the_budget_names_the_problem():
    err = fails("count(1..100000, {count(1..100, {# > 0}) > 0})", "expression too expensive")
    assert str(expr.MAX_STEPS) in err.message


@pytest.mark.parametrize("source", ["result.__class__", "result.__init__", "result['__class__']",
                                    "result?.__class__?.__mro__"])
def test_dunder_fields_read_nothing(source):
    assert ev(source, {"a": 1}) is None


@pytest.mark.parametrize("source", ["__import__('os')", "result.__class__", "result.__init__.__globals__",
                                    "__class__", "len.__class__"])
def test_dunder_access_on_objects_is_an_error(source):
    class Secret(object):
        token = "s3cr3t"
    with pytest.raises(ExprError):
        ev(source, Secret())


def test_source_length_is_bounded():
    with pytest.raises(ExprError) as info:
        Expression("1 + " * expr.MAX_SOURCE + "1")
    assert "too long" in info.value.message


def test_conditions_used_by_analysis_still_evaluate():
    assert evaluate_condition("all(result, {# matches '^ok'})", ["ok1", "ok2"]) is True
    assert evaluate_condition("result[0] matches '(?i)^V[0-9]+$'", ["v12"]) is True
