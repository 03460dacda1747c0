"""The condition evaluator against the expr-lang behaviour Argo Rollouts relies on."""

import math

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils.expr import (
    Expression, ExprError, evaluate_condition)

NAN = float("nan")
INF = float("inf")


def ev(source, result=None):
    return Expression(source).evaluate({"result": result})


@pytest.mark.parametrize("source,result,expected", [
    # how Argo binds Prometheus results: a float for a scalar, a list for a vector
    ("result >= 0.95", 0.99, True),
    ("result[0] >= 0.95", [0.99], True),
    ("result[0] >= 0.95", [0.90], False),
    ("result[-1] == 3", [1, 2, 3], True),
    ("len(result) > 0 && result[0] >= 0.95", [], False),
    ("len(result) == 0 || result[0] >= 0.95", [], True),
    # NaN compares false both ways; isNaN/isInf
    ("result >= 0.9", NAN, False),
    ("result < 0.9", NAN, False),
    ("result >= 0.9 || isNaN(result)", NAN, True),
    ("isInf(result)", INF, True),
    ("isInf(result)", -INF, True),
    ("result >= 0.9", INF, True),
    # arithmetic, precedence and associativity
    ("1 + 2 * 3 == 7", None, True),
    ("(1 + 2) * 3 == 9", None, True),
    ("2 ** 3 ** 2 == 512", None, True),
    ("-2 ** 2 == -4", None, True),
    ("10 - 4 - 3 == 3", None, True),
    ("7 / 2 == 3.5", None, True),
    ("7 % 3 == 1", None, True),
    ("-7 % 3 == -1", None, True),
    ("1 == 1.0", None, True),
    ("abs(-0.5) == 0.5", None, True),
    # logic, words and symbols
    ("true && !false", None, True),
    ("true and not false", None, True),
    ("false || true", None, True),
    ("false or false", None, False),
    ("result[0] > 1 ? true : false", [2], True),
    ("result > 1 ? false : true", 0, True),
    ("nil == nil", None, True),
    ("result == nil", None, True),
    # membership, strings
    ("2 in [1, 2, 3]", None, True),
    ("5 not in [1, 2, 3]", None, True),
    ("'a' in {a: 1}", None, True),
    ('"checkout" startsWith "check"', None, True),
    ('"checkout" endsWith "out"', None, True),
    ('"checkout" contains "eck"', None, True),
    ('"v1.2.3" matches "^v[0-9]+"', None, True),
    ("'a' + \"b\" == 'ab'", None, True),
    # built-ins real templates use, with # predicates in both closure forms
    ("all(result, {# > 0.5})", [0.6, 0.9], True),
    ("all(result, # > 0.5)", [0.6, 0.4], False),
    ("any(result, {# > 0.5})", [0.1, 0.9], True),
    ("none(result, {# > 0.5})", [0.1, 0.2], True),
    ("one(result, {# > 0.5})", [0.6, 0.9], False),
    ("len(filter(result, {# > 0.5})) == 1", [0.6, 0.1], True),
    ("map(result, {# * 2})[1] == 4", [1, 2], True),
    ("count(result, # > 1) == 2", [1, 2, 3], True),
    ("sum(result) == 6", [1, 2, 3], True),
    ("max(result) == 3", [1, 3, 2], True),
    ("min(result) == 1", [1, 3, 2], True),
    ("max(1, 5, 2) == 5", None, True),
    ("mean(result) == 2", [1, 2, 3], True),
    ("asInt('12') == 12", None, True),
    ("asInt(1.9) == 1", None, True),
    ("asFloat('0.5') == 0.5", None, True),
    ("default(result, 0) == 0", None, True),
    ("isNil(result)", None, True),
    ("isNil(1)", [1], False),
    ("first(result) == 1 && last(result) == 3", [1, 2, 3], True),
    ("len('abc') == 3", None, True),
    ("result[1:] == [2, 3]", [1, 2, 3], True),
    ("1..3 == [1, 2, 3]", None, True),
    ("result.p99 < 0.5", {"p99": 0.2}, True),
    ("result['p99'] < 0.5", {"p99": 0.2}, True),
    ("all(result, .ok)", [{"ok": True}], True),
    ("result ?? 5 == 5", None, True),
    ("now() - duration('1h') < now()", None, True),
])
def test_evaluates_like_expr(source, result, expected):
    assert ev(source, result) is expected


@pytest.mark.parametrize("source,message,column", [
    ("result[0] >=", "unexpected end of expression", 13),
    ("result[0] > 0.5 &&& true", "unexpected token '&'", 19),
    ("invalidVariable > 1", "unknown name invalidVariable", 1),
    ("result > 1 && foo", "unknown name foo", 15),
    ("unknownFn(result)", "unknown func unknownFn", 1),
    ("'abc", "literal not terminated", 1),
    ("(result > 1", "expected ')' but found end of input", 12),
    ("# > 1", "# is only valid inside a predicate", 1),
    ("", "empty expression", 1),
])
def test_syntax_and_name_errors_carry_position(source, message, column):
    with pytest.raises(ExprError) as info:
        Expression(source)
    assert message in info.value.message
    assert info.value.pos + 1 == column
    assert "(1:%d)" % column in str(info.value)


@pytest.mark.parametrize("source,result,message", [
    ("result[0] > 1", [], "index out of range: 0 (array length is 0)"),
    ("result > 1", "text", "mismatched types string and int"),
    ("result && true", 1, "mismatched types int and bool"),
    ("asInt('1.1') == 1", None, 'parsing "1.1": invalid syntax'),
    ("asFloat('fast') > 1", None, "invalid syntax"),
    ("1 % 0 == 0", None, "integer divide by zero"),
    ("all(result)", [1], "takes an array and a predicate"),
    ("all(result, # + 1)", [1], "predicate should return boolean"),
    ("max(result) > 1", [], "empty array"),
])
def test_runtime_errors_are_errors_not_false(source, result, message):
    with pytest.raises(ExprError) as info:
        ev(source, result)
    assert message in str(info.value)


def test_condition_must_be_boolean():
    with pytest.raises(ExprError) as info:
        evaluate_condition("result[0] + 1", [1])
    assert "expected bool, but got int" in str(info.value)
    assert evaluate_condition("result[0] >= 1", [1]) is True


def test_division_follows_go_floats():
    assert ev("1 / 0") == INF
    assert math.isnan(ev("0 / 0"))


@pytest.mark.parametrize("hostile", [
    "__import__('os').system('true')",
    "result.__class__",
    "{{ lookup('pipe', 'id') }}",
    "open('/etc/passwd')",
])
def test_no_python_and_no_jinja(hostile):
    """User text is data: anything outside the language is refused, never executed."""
    with pytest.raises(ExprError):
        Expression(hostile).evaluate({"result": [1]})


def test_attribute_access_reads_map_keys_only():
    class Secretive(object):
        token = "s3cr3t"
    with pytest.raises(ExprError):
        ev("result.token == 's3cr3t'", Secretive())


def test_an_expression_is_reusable():
    expr = Expression("result[0] > 0.5")
    assert expr.evaluate({"result": [0.9]}) is True
    assert expr.evaluate({"result": [0.1]}) is False
