# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What /proc says of a process: its parent and when it started (which tells a process from a later one
that reuses its pid)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def proc_stat(pid):
    """(parent pid, start time in clock ticks since boot) of process ``pid``; OSError when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()  # the command name may hold spaces and ')'
        return int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        raise OSError("/proc/%d/stat cannot be read" % pid)
