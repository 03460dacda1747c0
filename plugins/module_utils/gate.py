# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From a module's template options to an analysis verdict: the one path every gate takes
(analysis_check, bluegreen_promote, the Ansible-controlled release)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.analysis import AnalysisRun, prepare
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import read_object, read_secret_value
from ansible_collections.progressive.delivery.plugins.module_utils.templates import (
    load_template_file, pick_templates)

# Where the templates of one analysis come from (suboptions of bluegreen_promote's analyses).
ANALYSIS_SOURCE_SPEC = dict(
    template=dict(type="raw"),
    template_file=dict(type="path"),
    template_name=dict(type="list", elements="str"),
    cluster_scope=dict(type="bool", default=False),
    args=dict(type="dict", default={}),
)


class ClusterTemplates(object):
    """Reads templates and secrets in ``namespace`` lazily, so a file-only run needs no cluster."""

    def __init__(self, connect, namespace):
        self.connect = connect
        self.namespace = namespace
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = self.connect()
        return self._client

    def template(self, name, cluster_scope):
        kind = "ClusterAnalysisTemplate" if cluster_scope else "AnalysisTemplate"
        return read_object(self.client, kind, name, None if cluster_scope else self.namespace)

    def secret(self, name, key):
        return read_secret_value(self.client, name, key, self.namespace)


def load_templates(source, cluster):
    """The templates to merge, and a lookup for their spec.templates references."""
    names = source.get("template_name")
    scope = source.get("cluster_scope", False)
    if source.get("template") is not None:
        templates = source["template"]
        templates = templates if isinstance(templates, list) else [templates]
        return templates, cluster.template
    if source.get("template_file"):
        path = source["template_file"]
        documents = load_template_file(path)
        chosen = pick_templates(documents, names, scope, path)

        def lookup(name, ref_scope):
            found = pick_templates(documents, [name], ref_scope, path, quiet=True)
            return found[0] if found else cluster.template(name, ref_scope)
        return chosen, lookup
    return [cluster.template(n, scope) for n in names], cluster.template


def run_analysis(source, cluster, provider, on_empty="fail", max_duration=None, known_args=None, mode="run",
                 sleep=None):
    """Run the analysis ``source`` describes; returns ``(AnalysisRun, ignored arg names)``.

    Fails closed: provider errors, malformed Prometheus answers, timeouts and exceptions while evaluating a
    condition end the run in Error or Failed, never in an exception. Only a template that cannot be read or
    run raises (AnalysisSpecError, TemplateError, KubernetesError), before anything is measured. The run's
    ``to_dict()`` shows secret values (``secretKeyRef`` args, tokens, URL passwords) as ``***``.

    ``known_args`` (e.g. the preview pod hash) fill arguments the templates declare without a value
    and the caller left out, as Argo Rollouts fills ``valueFrom.podTemplateHashValue``. ``sleep`` waits
    between measurements (a walker's sleep may stop the run when a person intervenes)."""
    templates, lookup = load_templates(source, cluster)
    metrics, secrets, ignored = prepare(templates, source.get("args") or {}, lookup, cluster.secret, mode,
                                        known_args=known_args)
    timing = {"sleep": sleep} if sleep else {}
    run = AnalysisRun(metrics, provider, on_empty=on_empty, max_duration=max_duration, redact=secrets, **timing).run()
    return run, ignored
