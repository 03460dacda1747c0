# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Source text -> tokens (``Token(kind, value, pos)``): numbers, strings, names, operators, as expr-lang reads them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re
from collections import namedtuple

from ansible_collections.progressive.delivery.plugins.module_utils.expr.common import INT_MAX, ExprError, brief

Token = namedtuple("Token", "kind value pos")  # kind: num, str, ident, op or eof; pos: 0-based column


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
            value = int(clean, 16) if len(clean) <= 20 else INT_MAX + 1
        elif any(ch in clean for ch in ".eE"):
            value = float(clean)
            if math.isinf(value):
                raise ExprError("invalid float literal %s: value out of range" % brief(text), src, i)
            return value
        else:
            value = int(clean) if len(clean) <= 20 else INT_MAX + 1
    except ValueError:
        raise ExprError("invalid number %s" % brief(text), src, i)
    if value > INT_MAX:
        raise ExprError("invalid integer literal %s: value out of range" % brief(text), src, i)
    return value


def tokenize(src):
    """The tokens of ``src``, ending with an ``eof`` token; ExprError with the position on a bad one."""
    tokens = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
            continue
        if c in _DIGITS or (c == "." and i + 1 < n and src[i + 1] in _DIGITS
                            and not (tokens and tokens[-1].kind == "op" and tokens[-1].value == ".")):
            m = _NUMBER.match(src, i)
            if m is None:
                raise ExprError("invalid number", src, i)
            text = m.group(0)
            # "1..3" is a range, not the float "1." followed by ".3"
            if "." in text and src.startswith("..", i + text.index(".")):
                text = text[:text.index(".")]
            tokens.append(Token("num", _number(src, i, text), i))
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
            tokens.append(Token("str", "".join(out), start))
            continue
        m = _IDENT.match(src, i)
        if m:
            word = m.group(0)
            if word == "not":
                rest = _NOT_IN.match(src, i)
                if rest:
                    tokens.append(Token("op", "not in", i))
                    i = rest.end()
                    continue
            tokens.append(Token("ident", word, i))
            i += len(word)
            continue
        for op in _OPERATORS:
            if op != "not in" and src.startswith(op, i):
                tokens.append(Token("op", op, i))
                i += len(op)
                break
        else:
            raise ExprError("unexpected token %r" % c, src, i)
    tokens.append(Token("eof", None, n))
    return tokens
