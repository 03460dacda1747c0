# -*- coding: utf-8 -*-
"""re2lite: RE2 syntax, Go's MatchString semantics, linear time.

Random patterns are compared with Python's ``re`` (fixed seed, short strings where ``re`` is fast),
written in RE2 syntax and translated for ``re`` where the two spell a thing differently. The
catastrophic patterns of backtracking matchers must simply finish: no timed asserts.
"""

import random
import re

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import re2lite
from ansible_collections.progressive.delivery.plugins.module_utils.re2lite import matcher as _matcher  # noqa: F401 (re2lite.matcher)
from ansible_collections.progressive.delivery.plugins.module_utils.re2lite import RegexError, compile_regex, search

SEED = 1607
ALPHABET = "abcAB1 _-.\n"


class _PatternGen(object):
    """A pattern in RE2 syntax and the same pattern for Python's re."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.multiline = False

    def atom(self, depth):
        r = self.rnd
        pick = r.random()
        if pick < 0.35:
            c = r.choice("abcAB1 _-")
            return c, c
        if pick < 0.45:
            c = r.choice(".-_ ")
            return "\\" + c, "\\" + c
        if pick < 0.52:
            return ".", "."
        if pick < 0.62:
            cls = r.choice(["[ab]", "[^a]", "[a-c]", "[A-Za-z]", "[^\\n]", "[-a]", "[a-]", "[\\d_]", "[^\\s]",
                            "[[:alpha:]]", "[[:^digit:]]", "[[:space:]b]"])
            py = cls.replace("[[:alpha:]]", "[a-zA-Z]").replace("[[:^digit:]]", "[^0-9]").replace(
                "[[:space:]b]", "[\\t\\n\\r\\f b]")
            return cls, py
        if pick < 0.7:
            e = r.choice(["\\d", "\\w", "\\s", "\\D", "\\W", "\\S"])
            return e, e
        if pick < 0.76:
            a = r.choice(["^", "$", "\\b", "\\B", "\\A", "\\z"])
            py = {"\\z": "\\Z", "$": "$" if self.multiline else "\\Z"}.get(a, a)
            return a, py
        if depth < 3 and pick < 0.9:
            body, py = self.alt(depth + 1)
            kind = r.choice(["(", "(?:", "(?P<g%d>" % r.randint(0, 10 ** 6)])
            return kind + body + ")", "(?:" + py + ")"
        c = r.choice("abc")
        return c, c

    def repeat(self, depth):
        a, p = self.atom(depth)
        if a in ("^", "$", "\\b", "\\B", "\\A", "\\z"):
            return a, p                       # Python refuses to repeat an assertion
        r = self.rnd
        if r.random() < 0.35:
            q = r.choice(["*", "+", "?", "*?", "+?", "??", "{2}", "{0,2}", "{1,}", "{2,3}", "{0}"])
            return a + q, p + q
        return a, p

    def concat(self, depth):
        parts = [self.repeat(depth) for _i in range(self.rnd.randint(1, 4))]
        return "".join(x[0] for x in parts), "".join(x[1] for x in parts)

    def alt(self, depth):
        parts = [self.concat(depth) for _i in range(self.rnd.choice([1, 1, 1, 2, 3]))]
        return "|".join(x[0] for x in parts), "|".join(x[1] for x in parts)

    def pattern(self):
        r = self.rnd
        flags = r.choice(["", "", "", "(?i)", "(?m)", "(?s)", "(?is)"])
        self.multiline = "m" in flags
        body, py = self.alt(0)
        return flags + body, flags + py


def test_random_patterns_agree_with_python_re():
    rnd = random.Random(SEED)
    gen = _PatternGen(rnd)
    compared = 0
    disagreements = []
    for _case in range(1500):
        pattern, py_pattern = gen.pattern()
        try:
            py = re.compile(py_pattern, re.ASCII)
        except re.error:
            continue
        ours = compile_regex(pattern)
        for _text in range(12):
            text = "".join(rnd.choice(ALPHABET) for _c in range(rnd.randint(0, 12)))
            if not text and "\\B" in pattern:
                continue                      # Python's \B never matches an empty string; RE2's does
            expected = py.search(text) is not None
            compared += 1
            if ours.search(text) != expected:
                disagreements.append((pattern, py_pattern, text, expected))
    assert compared > 10000
    assert not disagreements, disagreements[:5]


@pytest.mark.parametrize("pattern,text", [
    ("^(a|a)*$", "a" * 28 + "!"),
    ("(a|a)*b", "a" * 5000),
    ("^(a+)+$", "a" * 5000 + "!"),
    ("(x+x+)+y", "x" * 5000),
    ("^(a|aa)+$", "a" * 4999 + "!"),
    ("(.*a){20}", "a" * 19 + "b" * 5000),
    ("^(\\w+\\s?)*$", "word " * 1000 + "!"),
    ("(a*)*(b*)*c", "ab" * 3000),
])
def test_catastrophic_backtracking_cases_finish(pattern, text):
    assert search(pattern, text) is False


def test_long_inputs_are_linear():
    text = "x" * 200000 + "needle"
    assert search("ne+dle$", text) is True
    assert search("(?i)NEEDLE\\z", text) is True
    assert search("^x{1000}", text) is True
    assert search("^y", text) is False


@pytest.mark.parametrize("pattern,message", [
    ("(?=a)", "lookahead"),
    ("(?!a)", "negative lookahead"),
    ("(?<=a)b", "lookbehind"),
    ("(?<!a)b", "negative lookbehind"),
    ("(a)\\1", "backreferences"),
    ("(?P<x>a)(?P=x)", "backreferences"),
    ("(?>a)", "atomic groups"),
    ("a*+", "possessive"),
    ("a**", "invalid nested repetition operator"),
    ("a{2}{3}", "invalid nested repetition operator"),
    ("a{1001}", "invalid repeat count"),
    ("(a{100}){100}", "invalid repeat count"),
    ("a{3,2}", "invalid repeat count"),
    ("(", "missing closing )"),
    ("a)", "unexpected )"),
    ("[a", "missing closing ]"),
    ("[z-a]", "invalid character class range"),
    ("*", "missing argument to repetition operator"),
    ("\\Z", "\\z"),
    ("\\C", "any byte"),
    ("\\q", "invalid escape sequence"),
    ("\\p{Greek}", "scripts"),
    ("(?#c)", "comments"),
    ("a\\", "trailing backslash"),
    ("(" * 101 + ")" * 101, "nested too deeply"),
    ("(?:abcdefghij){1000}" * 11, "too large"),
])
def test_unsupported_or_invalid_patterns_name_the_construct(pattern, message):
    with pytest.raises(RegexError) as info:
        compile_regex(pattern)
    assert message in str(info.value)


@pytest.mark.parametrize("pattern,text,expected", [
    ("a$", "a\n", False),                 # RE2's $ is the end of text without (?m)
    ("(?m)a$", "a\nb", True),
    ("(?m)^b", "a\nb", True),
    ("^b", "a\nb", False),
    ("\\s", "\v", False),                 # RE2's \s is [\t\n\f\r ]
    ("\\d", "\u0663", False),             # ASCII digits only
    ("\\w", "\u00e9", False),
    ("\\pL", "\u00e9", True),
    ("\\p{Lu}", "\u00c9", True),
    ("\\PL", "\u00e9", False),
    ("(?i)\u00e9", "\u00c9", True),
    ("(?i)[a-z]+", "ABC", True),
    ("(?i:A)b", "aB", False),
    ("(?i)a(?-i)b", "Ab", True),
    ("(?i)a(?-i)b", "AB", False),
    (".", "\n", False),
    ("(?s).", "\n", True),
    ("\\Q.*\\E", "a.*b", True),
    ("\\Q.*\\E", "ab", False),
    ("\\x41\\x{42}\\101", "ABA", True),
    ("a{,2}", "a{,2}", True),             # not a repetition in RE2: literal
    ("a{", "a{", True),
    ("[]a]", "]", True),
    ("[^]a]", "b", True),
    ("(?P<name>v)(?<n2>[0-9]+)", "v12", True),
    ("\\bfoo\\b", "a foo.", True),
    ("\\bfoo\\b", "afoo", False),
    ("\\Bfoo", "afoo", True),
    ("^$", "", True),
    ("x*", "", True),
    ("(|a)+b", "b", True),
    ("(a*)+$", "b", True),
    ("[[:word:]]+-[[:xdigit:]]{2}", "ab-f0", True),
    ("^v[0-9]+", "v1.2.3", True),
    ("checkout", "my-checkout-svc", True),
])
def test_re2_semantics(pattern, text, expected):
    assert search(pattern, text) is expected


def test_the_cost_callback_can_stop_a_long_match():
    spent = []

    def charge(units):
        spent.append(units)
        if sum(spent) > 1000:
            raise OverflowError("budget")
    with pytest.raises(OverflowError):
        search("(a|b)*c", "ab" * 100000, charge)
    search("abc", "x" * 1000, charge=lambda units: None)


def test_the_transition_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(re2lite.matcher, "_CACHE_WEIGHT", 50)  # where the matcher reads it
    rx = re2lite.Regex("(a|b|c)*[abc]{20}d")
    assert rx.search("abc" * 2000) is False
    assert rx._weight <= 50 + len(rx.prog) + 1
    assert rx.search("abc" * 10 + "d") is True
