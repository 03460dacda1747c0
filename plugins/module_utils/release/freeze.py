# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release freeze windows (Argo Rollouts #495): a release that would start inside one is refused.

Two forms, both with a ``reason``:

- one window: ``{start: 2026-12-24T00:00:00+01:00, end: 2026-12-27T00:00:00+01:00, reason: ...}``
  (ISO-8601 with a zone: ``Z`` or ``+hh:mm``; a time without a zone is refused, never guessed);
- weekly: ``{weekly: {days: [fri], start: "18:00", end: "08:00", utc_offset: "+01:00"}, reason: ...}``
  - from ``start`` on each listed day to ``end`` (the next day when ``end`` is not after ``start``).

Only the start of a release is refused: a release already in progress walks on when a freeze begins
(aborting a half-released canary because a calendar says so would be the riskier change)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_OFFSET = re.compile(r"^([+-])([01]\d|2[0-3]):([0-5]\d)$")


class FreezeError(ValueError):
    """A freeze window that cannot be understood; nothing was changed."""


def _instant(value, where):
    if isinstance(value, datetime.datetime):
        t = value
    else:
        if not isinstance(value, str) or not value.strip():
            raise FreezeError("%s must be an ISO-8601 time with a zone such as 2026-12-24T18:00:00+01:00, got %r"
                              % (where, value))
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            t = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise FreezeError("%s %r is not an ISO-8601 time; write it as 2026-12-24T18:00:00+01:00 (or with Z "
                              "for UTC)" % (where, value))
    if t.tzinfo is None or t.utcoffset() is None:
        raise FreezeError("%s %r has no time zone; add one (Z for UTC, or +01:00) - a freeze is never guessed "
                          "in the controller's local time" % (where, value))
    return t


def _quote_hint(value):
    """YAML 1.1 reads an unquoted 18:00 as the number 1080 (base 60): say so rather than only show 1080."""
    if isinstance(value, int) and not isinstance(value, bool):
        return " - an unquoted HH:MM in YAML is read as a number (18:00 is 1080): quote it, '18:00'"
    return ""


def _offset(value, where):
    if value in (None, "", "Z", "UTC"):
        return datetime.timezone.utc
    match = _OFFSET.match(str(value))
    if not match:
        raise FreezeError("%s must be an offset such as +01:00 or -05:00 (or Z), got %r%s" % (where, value, _quote_hint(value)))
    sign, hours, minutes = match.groups()
    delta = datetime.timedelta(hours=int(hours), minutes=int(minutes))
    return datetime.timezone(-delta if sign == "-" else delta)


def _clock(value, where):
    match = _CLOCK.match(str(value)) if value is not None else None
    if not match:
        raise FreezeError("%s must be a time of day HH:MM (24 h), got %r%s" % (where, value, _quote_hint(value)))
    return int(match.group(1)) * 60 + int(match.group(2))


class Window(object):
    """One freeze: ``covers(t)`` (seconds since the epoch) gives the (start, end) it covers t with, or None."""

    def __init__(self, reason, start=None, end=None, weekly=None):
        self.reason = reason
        self.start, self.end, self.weekly = start, end, weekly

    def covers(self, t):
        now = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
        if self.weekly is None:
            return (self.start, self.end) if self.start <= now < self.end else None
        days, start, end, zone = self.weekly
        local = now.astimezone(zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        span = (end - start) % (24 * 60) or 24 * 60
        for back in (0, 1):  # a window that began yesterday may still run past midnight
            day = midnight - datetime.timedelta(days=back)
            if DAYS[day.weekday()] not in days:
                continue
            begins = day + datetime.timedelta(minutes=start)
            ends = begins + datetime.timedelta(minutes=span)
            if begins <= local < ends:
                return begins, ends
        return None

    def describe(self, t):
        """'<reason>' (from ... to ...), the occurrence that covers t."""
        start, end = self.covers(t) or (self.start, self.end)
        return "'%s' (from %s to %s)" % (self.reason, _show(start), _show(end))

    def to_dict(self, t):
        start, end = self.covers(t) or (self.start, self.end)
        return {"reason": self.reason, "start": _show(start), "end": _show(end)}


def _show(t):
    return t.isoformat() if t is not None else None


def parse_windows(windows):
    """The ``freeze_windows`` option as Windows; a FreezeError names the window and the field at fault."""
    if windows is None:
        return []
    if not isinstance(windows, list):
        raise FreezeError("freeze_windows must be a list of {start, end, reason}, got %r" % (windows,))
    out = []
    for i, w in enumerate(windows):
        where = "freeze_windows[%d]" % i
        if not isinstance(w, dict):
            raise FreezeError("%s must be a mapping {start, end, reason} or {weekly, reason}, got %r" % (where, w))
        unknown = sorted(set(w) - {"start", "end", "reason", "weekly"})
        if unknown:
            raise FreezeError("%s: unknown key(s) %s; a window has start, end and reason (or weekly and reason)"
                              % (where, ", ".join(unknown)))
        reason = w.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise FreezeError("%s needs a reason, said to whoever is refused (e.g. 'year-end freeze')" % where)
        if w.get("weekly") is not None:
            if w.get("start") is not None or w.get("end") is not None:
                raise FreezeError("%s: give either weekly or start and end, not both" % where)
            out.append(Window(reason.strip(), weekly=_weekly(w["weekly"], where + ".weekly")))
            continue
        start = _instant(w.get("start"), where + ".start")
        end = _instant(w.get("end"), where + ".end")
        if end <= start:
            raise FreezeError("%s: end %s is not after start %s" % (where, w.get("end"), w.get("start")))
        out.append(Window(reason.strip(), start=start, end=end))
    return out


def _weekly(spec, where):
    if not isinstance(spec, dict):
        raise FreezeError("%s must be a mapping {days, start, end, utc_offset}, got %r" % (where, spec))
    unknown = sorted(set(spec) - {"days", "start", "end", "utc_offset"})
    if unknown:
        raise FreezeError("%s: unknown key(s) %s (days, start, end, utc_offset)" % (where, ", ".join(unknown)))
    days = spec.get("days")
    if not isinstance(days, list) or not days:
        raise FreezeError("%s.days must be a list of days such as [fri, sat], got %r" % (where, days))
    names = []
    for d in days:
        name = str(d).strip().lower()[:3]
        if name not in DAYS:
            raise FreezeError("%s.days: %r is not a day (mon, tue, wed, thu, fri, sat, sun)" % (where, d))
        names.append(name)
    start = _clock(spec.get("start"), where + ".start")
    end = _clock(spec.get("end"), where + ".end")
    return frozenset(names), start, end, _offset(spec.get("utc_offset"), where + ".utc_offset")


def active_freeze(windows, t):
    """The first window covering t (seconds since the epoch), or None."""
    for w in windows:
        if w.covers(t):
            return w
    return None
