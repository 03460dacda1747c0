# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One wait loop with a clock, fed small predicates (as kubernetes.core's waiter is).

A predicate takes what ``read()`` returns and says whether the wait is over; ``fatal`` says why
waiting any longer is pointless (a Degraded rollout will not become Healthy by itself)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time


class WaitResult(object):
    def __init__(self, reached, last, elapsed, reason=None):
        self.reached = reached
        self.last = last
        self.elapsed = elapsed
        self.reason = reason  # None when reached, "timeout", or what ``fatal`` said
        self.message = None  # for callers to word for their object


class Waiter(object):
    def __init__(self, read, clock=None, sleep=None, interval=1.0):
        self.read = read
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep
        self.interval = interval

    def wait(self, done, timeout, fatal=None):
        start = self.clock()
        while True:
            last = self.read()
            elapsed = self.clock() - start
            if done(last):
                return WaitResult(True, last, elapsed)
            why = fatal(last) if fatal else None
            if why:
                return WaitResult(False, last, elapsed, why)
            if elapsed >= timeout:
                return WaitResult(False, last, elapsed, "timeout")
            self.sleep(min(self.interval, max(0.0, timeout - elapsed)))
