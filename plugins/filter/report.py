# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""release_report_html / drill_report_html: the HTML release and drill reports, with plots."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.progressive.delivery.plugins.module_utils import report_html


def _html(render, what):
    def filter_(value):
        try:
            return render(dict(value))
        except (KeyError, TypeError, ValueError) as e:
            raise AnsibleFilterError("%s: %s" % (what, e))
    return filter_


class FilterModule(object):
    def filters(self):
        return {"release_report_html": _html(report_html.release_html, "release_report_html"),
                "drill_report_html": _html(report_html.drill_html, "drill_report_html")}
