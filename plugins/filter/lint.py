# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils import lint


def rollout_lint(manifests, known_templates=None, p99_request_seconds=None):
    """Findings (rule, severity, object, path, message, fix) of the rollout_lint module's checks."""
    documents = manifests if isinstance(manifests, list) else [manifests]
    return [dict(f) for f in lint.lint(documents, known_templates or (), p99_request_seconds)]


class FilterModule(object):
    def filters(self):
        return {"rollout_lint": rollout_lint}
