# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Traffic routers for the Ansible-controlled release, one small interface (as Flagger's):

- ``reconcile(routing)``: make the router's objects say what ``routing`` asks, creating them if needed;
  returns a Change (changed, before, after) and writes nothing in check mode;
- ``get_weights()``: ``(stable, canary)`` as the router has them now;
- ``state_store()``: where the release's state lives beside the router (a file beside host nginx, a
  ConfigMap on Kubernetes), so an interrupted job resumes where it stopped, with compare-and-swap writes
  and one walker at a time (``release_store``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import abc
import re

DEFAULT_HEADER = "x-canary-cohort"

# Grammars every value must have before it reaches a router's configuration
RELEASE_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
RELEASE_GRAMMAR = ("a DNS label: 1 to 63 lowercase letters, digits and '-', starting and ending with a letter or "
                   "digit (^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$)")
# RFC 9110 token: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
HEADER_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
HEADER_GRAMMAR = "an HTTP header name (an RFC 9110 token of at most 128 characters)"
COHORT_RE = re.compile(r"^[A-Za-z0-9._~+-]{1,64}$")
COHORT_GRAMMAR = "1 to 64 letters, digits and '.', '_', '~', '+', '-' (^[A-Za-z0-9._~+-]{1,64}$)"


class RouterError(Exception):
    """A routing change that was refused or failed; the router is left as it was."""


def shown(value, limit=60):
    """A value as it goes into an error message: its repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 5] + "...%s" % text[-2:]


def refuse(option, value, grammar, fix=""):
    """The error for a value that does not have its option's grammar; nothing has been written."""
    return RouterError("%s %s is refused: it must be %s%s; nothing was changed"
                       % (option, shown(value), grammar, "; " + fix if fix else ""))


def validate_release(release):
    """A release name is a DNS label: it names files beside host nginx and a ConfigMap on Kubernetes."""
    if not isinstance(release, str) or not RELEASE_RE.fullmatch(release):
        raise refuse("release", release, RELEASE_GRAMMAR)
    return release


def validate_header(header, option="cohorts.header"):
    """An HTTP header name (RFC 9110 token), lowercased."""
    if not isinstance(header, str) or not HEADER_RE.fullmatch(header):
        raise refuse(option, header, HEADER_GRAMMAR)
    return header.lower()


def validate_cohort(value, option):
    """A cohort value: a safe set of characters that no router's configuration language gives a meaning to."""
    if not isinstance(value, str) or not COHORT_RE.fullmatch(value):
        raise refuse(option, value, COHORT_GRAMMAR, "cohort values are never quoted or escaped for a router, "
                                                    "other characters are refused")
    return value


def validate_cohorts(values, option):
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise refuse(option, values, "a list of cohort values")
    return sorted(validate_cohort(v, option) for v in values)


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


# Mirroring copies requests; only idempotent ones are copied unless the plan names the methods (issue 17)
SAFE_METHODS = ("GET", "HEAD")
METHOD_RE = re.compile(r"^[A-Z]{1,20}$")
WRITING_METHODS = ("POST", "PUT", "PATCH", "DELETE", "CONNECT")
MIRROR_HEADER = "x-pd-mirrored"  # added to every copy, so the app's metrics can tell copies from user requests


class Mirror(object):
    """A copy of part of the traffic to the canary, its answers discarded (Argo's setMirrorRoute): ``percentage``
    of the requests whose method is in ``methods`` (and whose headers equal ``headers``, when given)."""

    def __init__(self, name, percentage=100, methods=SAFE_METHODS, headers=None):
        if not isinstance(name, str) or not RELEASE_RE.fullmatch(name):
            raise refuse("setMirrorRoute.name", name, RELEASE_GRAMMAR)
        if isinstance(percentage, bool) or not isinstance(percentage, int) or not 0 < percentage <= 100:
            raise refuse("setMirrorRoute.percentage", percentage, "a whole number from 1 to 100")
        if isinstance(methods, str) or not methods or not all(isinstance(m, str) and METHOD_RE.fullmatch(m)
                                                              for m in methods):
            raise refuse("setMirrorRoute methods", methods, "a list of HTTP methods in capitals, such as [GET, HEAD]")
        headers = headers or {}
        if not isinstance(headers, dict):
            raise refuse("setMirrorRoute headers", headers, "a mapping of header name to value")
        self.name = name
        self.percentage = percentage
        self.methods = sorted(set(methods))
        self.headers = dict((validate_header(k, "setMirrorRoute header"),
                             validate_cohort(v, "setMirrorRoute header value")) for k, v in sorted(headers.items()))

    @property
    def writes(self):
        """The methods mirrored that change something (a copy would change it twice)."""
        return [m for m in self.methods if m in WRITING_METHODS]

    def to_dict(self):
        return {"name": self.name, "percentage": self.percentage, "methods": list(self.methods),
                "headers": dict(self.headers)}

    @classmethod
    def from_dict(cls, data):
        return cls(data["name"], data.get("percentage", 100), data.get("methods") or SAFE_METHODS,
                   data.get("headers"))

    def __eq__(self, other):
        return isinstance(other, Mirror) and self.to_dict() == other.to_dict()

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "Mirror(%r)" % self.to_dict()


class Routing(object):
    """What the router should do: the canary's share, and header cohorts.

    ``always_canary`` cohorts reach the canary whenever it is active, except in a dark mirror phase (copies only,
    no user served by the canary); ``never_canary`` cohorts stay on
    stable until the canary has 100%; everyone else is split by weight. An inactive canary (not
    started, or aborted) gets nothing, cohorts and mirrored copies included. ``mirror`` (a Mirror) copies part
    of the traffic to the canary while users are served as the weights say."""

    def __init__(self, canary_weight=0, active=True, header=DEFAULT_HEADER, always_canary=(), never_canary=(),
                 mirror=None, dark=False):
        self.canary_weight = validate_weight(canary_weight)
        self.active = bool(active)
        self.header = validate_header(header or DEFAULT_HEADER)
        self.always_canary = validate_cohorts(always_canary, "cohorts.always_canary")
        self.never_canary = validate_cohorts(never_canary, "cohorts.never_canary")
        both = set(self.always_canary) & set(self.never_canary)
        if both:
            raise RouterError("cohort %s cannot be both always_canary and never_canary" % sorted(both)[0])
        if isinstance(mirror, dict):
            mirror = Mirror.from_dict(mirror)
        # an aborted canary gets no copies either; at 100% there is nothing left to copy to
        self.mirror = mirror if self.active and self.canary_weight < 100 else None
        self._dark = bool(dark)

    @property
    def weights(self):
        """(stable, canary) for the traffic without a cohort."""
        canary = self.canary_weight if self.active else 0
        return 100 - canary, canary

    @property
    def dark(self):
        """No user is served by the canary, cohorts included: a mirror phase at 0%, or (``dark``) a release whose
        plan copies traffic to the canary before it routes any user to it (from its start to its first weight)."""
        return (self.mirror is not None or self._dark) and self.canary_weight == 0

    def cohort_targets(self):
        """cohort value -> 'canary' | 'stable' (values not listed are split by weight)."""
        _stable, canary = self.weights
        targets = {}
        for cohort in self.always_canary:
            targets[cohort] = "canary" if self.active and not self.dark else "stable"
        for cohort in self.never_canary:
            targets[cohort] = "canary" if canary == 100 else "stable"
        return targets

    def to_dict(self):
        out = {"canary_weight": self.canary_weight, "active": self.active, "header": self.header,
               "always_canary": list(self.always_canary), "never_canary": list(self.never_canary)}
        if self.mirror:  # only when set: what routers saved before mirroring existed reads the same
            out["mirror"] = self.mirror.to_dict()
        if self.dark and not self.mirror:
            out["dark"] = True
        return out

    @classmethod
    def from_dict(cls, data):
        data = data or {}
        return cls(data.get("canary_weight", 0), data.get("active", True), data.get("header"),
                   data.get("always_canary"), data.get("never_canary"), data.get("mirror"), data.get("dark"))

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
        self.release = validate_release(release)
        self.check_mode = check_mode

    def describe(self):
        return "%s router of release '%s'" % (self.kind, self.release)

    # a router that can copy traffic to the canary says so and renders Routing.mirror (issue 17)
    supports_mirror = False

    def check_routing(self, routing):
        """Refuse (RouterError) a Routing this router cannot express safely; called before anything is written.
        The base accepts every Routing (its values are validated when it is built) but a mirror on a router that
        cannot mirror."""
        if routing.mirror:
            self.check_mirror(routing.mirror)
        return routing

    def check_mirror(self, mirror):
        """Refuse (RouterError) a mirror this router cannot render; called for every setMirrorRoute step of a
        plan before the release starts."""
        if not self.supports_mirror:
            raise RouterError("%s cannot mirror traffic (setMirrorRoute %s): remove the setMirrorRoute steps from "
                              "the plan, or release through a router that mirrors (nginx, istio, gateway_api); "
                              "nothing was changed" % (self.describe(), mirror.name))

    def check_next_release(self, promoted_version, canary_version):
        """Called before a release starts over a promoted one; refuse (RouterError) when starting it would put
        traffic back on what the promoted version replaced. The base has nothing to check: its Services follow
        their pods, not a list of addresses."""

    @abc.abstractmethod
    def current_routing(self):
        """The Routing the router holds now, or None when it has none yet."""

    @abc.abstractmethod
    def reconcile(self, routing):
        """Make the router say what ``routing`` asks; a Change. Nothing is written in check mode."""

    @abc.abstractmethod
    def state_store(self):
        """Where the release state lives beside the router (release_store.FileStore / ConfigMapStore)."""

    def get_weights(self):
        routing = self.current_routing()
        return routing.weights if routing else (100, 0)
