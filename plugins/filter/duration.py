# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.progressive.delivery.plugins.module_utils.durations import duration_seconds


def _duration_seconds(value):
    try:
        return duration_seconds(value)
    except ValueError as e:
        raise AnsibleFilterError("duration_seconds: %s" % e)


class FilterModule(object):
    def filters(self):
        return {"duration_seconds": _duration_seconds}
