# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JSONPath subset a web metric's ``jsonPath`` uses, in Kubernetes' template form (``{$.data.ok}``) or bare
(``$.data.ok``, ``.data.ok``): fields (``.a``, ``['a']``), indexes (``[0]``, ``[-1]``) and the wildcard (``[*]``,
``.*``), which makes the result a list. Filters, slices and recursive descent are refused when parsed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_FIELD = re.compile(r"[A-Za-z_$@-][A-Za-z0-9_$@-]*")
_INDEX = re.compile(r"-?[0-9]+")
_QUOTED = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""")


class JSONPathError(ValueError):
    """A path that does not parse, or that finds nothing in a document."""


class JSONPath(object):
    """A parsed path: ``steps`` of ("field", name), ("index", n) or ("all", None)."""

    def __init__(self, source):
        if not isinstance(source, str):
            raise JSONPathError("a jsonPath must be a string")
        self.source = source
        self.steps = _parse(source)
        self.many = any(kind == "all" for kind, _arg in self.steps)

    def find(self, document):
        """The value at the path: one value, or a list with a wildcard. Raises JSONPathError when nothing is there."""
        nodes = [document]
        where = "$"
        for kind, arg in self.steps:
            found = []
            for node in nodes:
                if kind == "all":
                    if isinstance(node, dict):
                        found.extend(node.values())
                    elif isinstance(node, list):
                        found.extend(node)
                    elif not self.many or len(nodes) == 1:
                        raise JSONPathError("%s is %s, not a list or an object, at %s[*]" % (where, _kind(node), where))
                elif kind == "field":
                    if isinstance(node, dict) and arg in node:
                        found.append(node[arg])
                    elif not self.many:
                        raise JSONPathError("%s is not found" % _join(where, kind, arg) if isinstance(node, dict)
                                            else "%s is %s, not an object, at %s" % (where, _kind(node), _join(where, kind, arg)))
                else:
                    if isinstance(node, list) and -len(node) <= arg < len(node):
                        found.append(node[arg])
                    elif not self.many:
                        raise JSONPathError("%s is out of range (%d items)" % (_join(where, kind, arg), len(node))
                                            if isinstance(node, list)
                                            else "%s is %s, not a list, at %s" % (where, _kind(node), _join(where, kind, arg)))
            nodes = found
            where = _join(where, kind, arg)
        if not self.many:
            return nodes[0]
        return nodes


def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, dict) else "a list"


def _join(where, kind, arg):
    if kind == "field":
        return "%s.%s" % (where, arg)
    return "%s[%s]" % (where, "*" if kind == "all" else arg)


def _parse(source):
    text = source.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if not text:
        raise JSONPathError("jsonPath %r is empty" % source)
    i = 1 if text.startswith("$") else 0
    steps = []
    while i < len(text):
        ch = text[i]
        if text.startswith("..", i):
            raise JSONPathError("jsonPath %r: recursive descent (..) is not supported" % source)
        if ch == ".":
            if text.startswith(".*", i):
                steps.append(("all", None))
                i += 2
                continue
            m = _FIELD.match(text, i + 1)
            if m is None:
                raise JSONPathError("jsonPath %r: a field name is expected at position %d" % (source, i + 2))
            steps.append(("field", m.group(0)))
            i = m.end()
        elif ch == "[":
            end = text.find("]", i)
            if end < 0:
                raise JSONPathError("jsonPath %r: '[' at position %d is not closed" % (source, i + 1))
            inner = text[i + 1:end].strip()
            quoted = _QUOTED.match(inner)
            if inner == "*":
                steps.append(("all", None))
            elif _INDEX.match(inner) and _INDEX.match(inner).end() == len(inner):
                steps.append(("index", int(inner)))
            elif quoted and quoted.end() == len(inner):
                name = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
                steps.append(("field", re.sub(r"\\(.)", r"\1", name)))
            else:
                raise JSONPathError("jsonPath %r: [%s] is not supported (use [n], [*] or ['field'])" % (source, inner))
            i = end + 1
        else:
            raise JSONPathError("jsonPath %r: unexpected %r at position %d; write it as {$.field[0].other}"
                                % (source, ch, i + 1))
    return steps
