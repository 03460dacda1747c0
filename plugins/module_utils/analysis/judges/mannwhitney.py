# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The two-sided Mann-Whitney U test, as ``scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
method="asymptotic", use_continuity=True)`` computes it, in plain Python.

For samples x (n1) and y (n2), ranked together with ties given their average rank, R1 the sum of x's ranks:

    U1 = R1 - n1 (n1 + 1) / 2,  U2 = n1 n2 - U1,  U = max(U1, U2)
    sigma = sqrt(n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1))))   t: the size of each group of ties
    z = (U - n1 n2 / 2 - 1/2) / sigma,  p = 2 * Phi(-z) = erfc(z / sqrt 2)   (at most 1)

``u`` is U1, the statistic of x (scipy's ``statistic``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math


class MannWhitney(object):
    """The result: ``u`` (U1, x's statistic), ``p_value`` (two-sided; NaN when every value is tied), ``z``."""

    def __init__(self, u, p_value, z, n1, n2):
        self.u = u
        self.p_value = p_value
        self.z = z
        self.n1 = n1
        self.n2 = n2

    def to_dict(self):
        return {"u": self.u, "p_value": self.p_value, "z": self.z, "n1": self.n1, "n2": self.n2}


def rank_sum(x, y):
    """(R1, [t for each group of ties]): the sum of x's average ranks among x + y, and the tie groups."""
    pooled = sorted([(v, 0) for v in x] + [(v, 1) for v in y], key=lambda item: item[0])
    r1 = 0.0
    ties = []
    i = 0
    n = len(pooled)
    while i < n:
        j = i
        while j + 1 < n and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        rank = (i + j + 2) / 2.0  # the average of ranks i+1 .. j+1
        size = j - i + 1
        if size > 1:
            ties.append(size)
        r1 += rank * sum(1 for k in range(i, j + 1) if pooled[k][1] == 0)
        i = j + 1
    return r1, ties


def mann_whitney(x, y, continuity=True):
    """The two-sided test of x against y; x and y are non-empty sequences of finite numbers."""
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    n1, n2 = len(x), len(y)
    if not n1 or not n2:
        raise ValueError("the Mann-Whitney test needs at least one value in each sample (got %d and %d)" % (n1, n2))
    if any(math.isnan(v) for v in x + y):
        raise ValueError("the Mann-Whitney test takes no NaN")
    r1, ties = rank_sum(x, y)
    u1 = r1 - n1 * (n1 + 1) / 2.0
    u2 = n1 * n2 - u1
    u = max(u1, u2)
    n = n1 + n2
    tie_term = float(sum(t ** 3 - t for t in ties))
    variance = n1 * n2 / 12.0 * ((n + 1) - (tie_term / (n * (n - 1)) if n > 1 else 0.0))
    numerator = u - n1 * n2 / 2.0
    if continuity:
        numerator -= 0.5
    if variance <= 0:
        # every value tied: no evidence either way (scipy gives NaN too)
        return MannWhitney(u1, float("nan"), float("nan"), n1, n2)
    z = numerator / math.sqrt(variance)
    p = min(1.0, max(0.0, math.erfc(z / math.sqrt(2.0))))
    return MannWhitney(u1, p, z, n1, n2)
