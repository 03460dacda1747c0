# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Named points where a test may kill the walker, to prove that a kill anywhere leaves a valid router
configuration and a state that a re-run resumes from.

``PROGRESSIVE_DELIVERY_FAILPOINT=name[:n]`` sends SIGKILL to this process the n-th time (default the
first) it passes ``failpoint(name)``. Unset, a failpoint costs one dictionary lookup."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal

ENV = "PROGRESSIVE_DELIVERY_FAILPOINT"
_passed = {}


def failpoint(name):
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    target, _sep, count = wanted.partition(":")
    if target != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
