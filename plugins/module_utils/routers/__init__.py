# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Traffic routers for the Ansible-controlled release, one small interface (as Flagger's):

- ``reconcile(routing)``: make the router's objects say what ``routing`` asks, creating them if needed;
  returns a Change (changed, before, after) and writes nothing in check mode;
- ``set_weights(canary_weight)`` / ``set_header_route(header, always_canary, never_canary)``: shorthands
  that change one part of the current routing and reconcile;
- ``get_weights()``: ``(stable, canary)`` as the router has them now;
- ``load_state()`` / ``save_state(state)``: the release's state where the router lives (a file beside
  host nginx, a ConfigMap on Kubernetes), so an interrupted job resumes where it stopped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import abc

DEFAULT_HEADER = "x-canary-cohort"


class RouterError(Exception):
    """A routing change that was refused or failed; the router is left as it was."""


def validate_weight(weight):
    if isinstance(weight, bool):
        raise RouterError("canary weight must be an integer from 0 to 100, got %r" % (weight,))
    try:
        value = int(weight)
    except (TypeError, ValueError):
        raise RouterError("canary weight must be an integer from 0 to 100, got %r" % (weight,))
    if value != weight and str(value) != str(weight).strip():
        raise RouterError("canary weight must be a whole number from 0 to 100, got %r" % (weight,))
    if not 0 <= value <= 100:
        raise RouterError("canary weight must be from 0 to 100, got %d" % value)
    return value


class Routing(object):
    """What the router should do: the canary's share, and header cohorts.

    ``always_canary`` cohorts reach the canary whenever it is active; ``never_canary`` cohorts stay on
    stable until the canary has 100%; everyone else is split by weight. An inactive canary (not
    started, or aborted) gets nothing, cohorts included."""

    def __init__(self, canary_weight=0, active=True, header=DEFAULT_HEADER, always_canary=(), never_canary=()):
        self.canary_weight = validate_weight(canary_weight)
        self.active = bool(active)
        self.header = (header or DEFAULT_HEADER).lower()
        self.always_canary = sorted(always_canary or [])
        self.never_canary = sorted(never_canary or [])
        both = set(self.always_canary) & set(self.never_canary)
        if both:
            raise RouterError("cohort %s cannot be both always_canary and never_canary" % sorted(both)[0])

    @property
    def weights(self):
        """(stable, canary) for the traffic without a cohort."""
        canary = self.canary_weight if self.active else 0
        return 100 - canary, canary

    def cohort_targets(self):
        """cohort value -> 'canary' | 'stable' (values not listed are split by weight)."""
        _stable, canary = self.weights
        targets = {}
        for cohort in self.always_canary:
            targets[cohort] = "canary" if self.active else "stable"
        for cohort in self.never_canary:
            targets[cohort] = "canary" if canary == 100 else "stable"
        return targets

    def to_dict(self):
        return {"canary_weight": self.canary_weight, "active": self.active, "header": self.header,
                "always_canary": list(self.always_canary), "never_canary": list(self.never_canary)}

    @classmethod
    def from_dict(cls, data):
        data = data or {}
        return cls(data.get("canary_weight", 0), data.get("active", True), data.get("header"),
                   data.get("always_canary"), data.get("never_canary"))

    def replace(self, **changes):
        data = self.to_dict()
        data.update(changes)
        return Routing.from_dict(data)


class Change(object):
    def __init__(self, changed, before=None, after=None):
        self.changed = changed
        self.before = before
        self.after = after

    def diff(self, header):
        return {"before_header": header, "after_header": header, "before": self.before, "after": self.after}


class Router(abc.ABC):
    """Base: subclasses implement ``reconcile``, ``current_routing`` and the state store."""

    kind = "router"

    def __init__(self, release, check_mode=False):
        self.release = release
        self.check_mode = check_mode

    def describe(self):
        return "%s router of release '%s'" % (self.kind, self.release)

    @abc.abstractmethod
    def current_routing(self):
        """The Routing the router holds now, or None when it has none yet."""

    @abc.abstractmethod
    def reconcile(self, routing):
        """Make the router say what ``routing`` asks; a Change. Nothing is written in check mode."""

    @abc.abstractmethod
    def load_state(self):
        """The release state kept beside the router, or None."""

    @abc.abstractmethod
    def save_state(self, state):
        """Keep the release state beside the router (not in check mode)."""

    def get_weights(self):
        routing = self.current_routing()
        return routing.weights if routing else (100, 0)

    def set_weights(self, canary_weight, active=True):
        routing = self.current_routing() or Routing()
        return self.reconcile(routing.replace(canary_weight=validate_weight(canary_weight), active=active))

    def set_header_route(self, header, always_canary=(), never_canary=()):
        routing = self.current_routing() or Routing()
        return self.reconcile(routing.replace(header=header, always_canary=list(always_canary),
                                              never_canary=list(never_canary)))
