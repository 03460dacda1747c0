# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def grafana_panels(specs, columns=2, height=8):
    """[(type, title, PromQL, unit)] -> Grafana panels laid out in a grid, querying the Prometheus datasource."""
    panels = []
    width = 24 // columns
    for i, spec in enumerate(specs):
        try:
            kind, title, expr, unit = spec
        except (TypeError, ValueError):
            raise AnsibleFilterError("grafana_panels: each panel is (type, title, query, unit), got %r" % (spec,))
        panels.append({
            "id": i + 1, "type": kind, "title": title,
            "gridPos": {"x": (i % columns) * width, "y": (i // columns) * height, "w": width, "h": height},
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": "A", "expr": expr, "legendFormat": "__auto"}],
        })
    return panels


class FilterModule(object):
    def filters(self):
        return {"grafana_panels": grafana_panels}
