# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wald's sequential probability ratio test of an error rate (each request a Bernoulli trial).

H0: the error rate is p0 = 1 - slo (the error budget: 0.001 for 99.9%); H1: it is p1 = worse * p0.
For k errors in n requests the log-likelihood ratio is

    LLR = k ln(p1 / p0) + (n - k) ln((1 - p1) / (1 - p0))

and with the error probabilities alpha (calling a good canary worse) and beta (missing a bad one):

    LLR >= A = ln((1 - beta) / alpha)   -> "worse"      (H1 accepted)
    LLR <= B = ln(beta / (1 - alpha))   -> "not_worse"  (H0 accepted)
    otherwise                           -> "continue"   (not enough evidence yet)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

WORSE = "worse"
NOT_WORSE = "not_worse"
CONTINUE = "continue"
DECISIONS = (WORSE, NOT_WORSE, CONTINUE)


def check_parameters(slo, worse, alpha, beta):
    """A ValueError saying which parameter is out of range, or nothing."""
    for name, value in (("slo", slo), ("worse", worse), ("alpha", alpha), ("beta", beta)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError("%s must be a number, got %r" % (name, value))
    if not 0 < slo < 1:
        raise ValueError("slo must be between 0 and 1 (0.999 for 99.9%%), got %s" % slo)
    if not worse > 1:
        raise ValueError("worse must be more than 1 (the multiple of the error budget to detect), got %s" % worse)
    if not (1 - slo) * worse < 1:
        raise ValueError("worse x (1 - slo) must be below 1, got %s x %s" % (worse, 1 - slo))
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not 0 < value < 0.5:
            raise ValueError("%s must be between 0 and 0.5, got %s" % (name, value))


def bounds(alpha, beta):
    """(lower B, upper A) of Wald's test."""
    return math.log(beta / (1 - alpha)), math.log((1 - beta) / alpha)


def llr(errors, requests, p0, p1):
    """The log-likelihood ratio of H1 (rate p1) against H0 (rate p0) for ``errors`` in ``requests``."""
    return errors * math.log(p1 / p0) + (requests - errors) * math.log((1 - p1) / (1 - p0))


class Decision(object):
    """One look: the decision, the LLR and the bounds, the counts."""

    def __init__(self, decision, llr_value, lower, upper, requests, errors, p0, p1):
        self.decision = decision
        self.llr = llr_value
        self.lower = lower
        self.upper = upper
        self.requests = requests
        self.errors = errors
        self.p0 = p0
        self.p1 = p1

    @property
    def error_rate(self):
        return self.errors / self.requests if self.requests else None

    def to_dict(self):
        return {"decision": self.decision, "llr": self.llr, "upper": self.upper, "lower": self.lower,
                "requests": self.requests, "errors": self.errors, "error_rate": self.error_rate,
                "p0": self.p0, "p1": self.p1}


def decide(errors, requests, slo=0.999, worse=3.0, alpha=0.05, beta=0.05):
    """Wald's decision for ``errors`` in ``requests`` (counts, >= 0; errors beyond requests are requests)."""
    check_parameters(slo, worse, alpha, beta)
    if requests < 0 or errors < 0:
        raise ValueError("counts cannot be negative (%s errors in %s requests)" % (errors, requests))
    errors = min(errors, requests)
    p0 = 1.0 - slo
    p1 = worse * p0
    lower, upper = bounds(alpha, beta)
    value = llr(errors, requests, p0, p1)
    if value >= upper:
        decision = WORSE
    elif value <= lower:
        decision = NOT_WORSE
    else:
        decision = CONTINUE
    return Decision(decision, value, lower, upper, requests, errors, p0, p1)


def requests_to_accept(slo=0.999, worse=3.0, alpha=0.05, beta=0.05):
    """The fewest error-free requests after which the test says ``not_worse``."""
    check_parameters(slo, worse, alpha, beta)
    p0 = 1.0 - slo
    lower = bounds(alpha, beta)[0]
    return int(math.ceil(lower / math.log((1 - worse * p0) / (1 - p0))))
