"""Freeze windows (plugins/module_utils/release/freeze.py): the two forms, the checks on bad input, and a
release refused at its start but not stopped once in progress."""

import datetime

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import release as rel
from ansible_collections.progressive.delivery.plugins.module_utils.release.freeze import (
    FreezeError, active_freeze, parse_windows)


def at(text):
    return datetime.datetime.fromisoformat(text).timestamp()


YEAR_END = {"start": "2026-12-24T00:00:00+01:00", "end": "2026-12-27T00:00:00+01:00", "reason": "year-end freeze"}


def test_a_window_covers_from_its_start_to_its_end_in_its_own_zone():
    windows = parse_windows([YEAR_END])
    assert active_freeze(windows, at("2026-12-23T22:59:59+00:00")) is None
    assert active_freeze(windows, at("2026-12-23T23:00:00+00:00")).reason == "year-end freeze"
    assert active_freeze(windows, at("2026-12-26T22:59:59+00:00")) is not None
    assert active_freeze(windows, at("2026-12-26T23:00:00+00:00")) is None  # the end is not in it
    assert parse_windows([dict(YEAR_END, start="2026-12-23T23:00:00Z")])[0].start.utcoffset().total_seconds() == 0


def test_a_weekly_window_runs_past_midnight_in_its_offset():
    windows = parse_windows([{"weekly": {"days": ["Friday"], "start": "18:00", "end": "08:00", "utc_offset": "+01:00"},
                              "reason": "weekend"}])
    friday = "2026-12-04"  # a Friday
    assert active_freeze(windows, at(friday + "T16:59:00+00:00")) is None  # 17:59 at +01:00
    found = active_freeze(windows, at(friday + "T17:00:00+00:00"))
    assert found.describe(at(friday + "T17:00:00+00:00")) == \
        "'weekend' (from 2026-12-04T18:00:00+01:00 to 2026-12-05T08:00:00+01:00)"
    assert active_freeze(windows, at("2026-12-05T06:59:00+00:00")) is not None  # Saturday 07:59, still Friday's
    assert active_freeze(windows, at("2026-12-05T07:00:00+00:00")) is None
    assert active_freeze(windows, at("2026-12-05T17:30:00+00:00")) is None  # Saturday is not listed


@pytest.mark.parametrize("windows,message", [
    ([dict(YEAR_END, start="2026-12-24T00:00:00")], r"freeze_windows\[0\].start .* has no time zone"),
    ([dict(YEAR_END, end="Christmas")], r"freeze_windows\[0\].end 'Christmas' is not an ISO-8601 time"),
    ([dict(YEAR_END, end="2026-12-23T00:00:00Z")], r"freeze_windows\[0\]: end .* is not after start"),
    ([YEAR_END, {"start": YEAR_END["start"], "end": YEAR_END["end"]}], r"freeze_windows\[1\] needs a reason"),
    ([dict(YEAR_END, until="x")], r"unknown key\(s\) until"),
    ([{"weekly": {"days": ["someday"], "start": "18:00", "end": "08:00"}, "reason": "r"}], "is not a day"),
    ([{"weekly": {"days": ["fri"], "start": "6pm", "end": "08:00"}, "reason": "r"}], "HH:MM"),
    ([{"weekly": {"days": ["fri"], "start": "18:00", "end": "08:00", "utc_offset": "CET"}, "reason": "r"}],
     "offset such as"),
    ("2026-12-24", "must be a list"),
    # YAML 1.1 reads unquoted 18:00 as 1080 and +10:00 as 600: the message says to quote them
    ([{"weekly": {"days": ["fri"], "start": 1080, "end": "08:00"}, "reason": "r"}], r"got 1080 - an unquoted HH:MM"),
    ([{"weekly": {"days": ["fri"], "start": "18:00", "end": "08:00", "utc_offset": 600}, "reason": "r"}],
     r"quote it, '18:00'"),
])
def test_bad_windows_are_refused_naming_the_window_and_field(windows, message):
    with pytest.raises(FreezeError, match=message):
        parse_windows(windows)


def test_a_release_is_refused_at_its_start_in_a_freeze_and_nothing_is_touched():
    from test_release import MemoryRouter, clock
    router = MemoryRouter()
    now = clock()
    window = {"start": datetime.datetime.fromtimestamp(now - 60, datetime.timezone.utc).isoformat(),
              "end": datetime.datetime.fromtimestamp(now + 3600, datetime.timezone.utc).isoformat(),
              "reason": "incident 4711 in progress"}
    r = rel.Release(router, rel.default_plan(pause="10s", analysis=False), "canary", clock=clock, sleep=clock.sleep,
                    freeze=parse_windows([window]))
    with pytest.raises(rel.Frozen, match="freeze 'incident 4711 in progress' \\(from .* to .*\\) is in effect") as e:
        r.begin("v1", "v2")
    assert e.value.window["reason"] == "incident 4711 in progress"
    assert router.store.state is None and router.updates == [] and r.changed is False
    # a release started before the freeze walks on through it
    started = rel.Release(router, rel.default_plan(pause="10s", analysis=False), "canary", clock=clock,
                          sleep=clock.sleep)
    assert started.begin("v1", "v2") and started.run(until=2).step_index == 2
    frozen = rel.Release(router, rel.default_plan(pause="10s", analysis=False), "canary", clock=clock,
                         sleep=clock.sleep, freeze=parse_windows([window]))
    assert frozen.begin("v1", "v2") is True
    assert frozen.run().phase == rel.HEALTHY
