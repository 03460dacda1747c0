# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The analysis gate: from a module's analysis options to a verdict, the one path every gate takes
(analysis_check, bluegreen_promote, the Ansible-controlled release).

``ANALYSIS_GATE_SPEC`` is the one argument spec of the options that say how an analysis runs (documented once
in doc_fragments/analysis_gate.py), ``ANALYSIS_SOURCE_SPEC`` the options that say where its templates come from,
and ``Gate.from_params`` the one object built from them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.progressive.delivery.plugins.module_utils.analysis import (
    ON_EMPTY, AnalysisRun, AnalysisSpecError, PrometheusProvider, Providers, prepare, validate)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.templates import metric_roles
from ansible_collections.progressive.delivery.plugins.module_utils.argo import read_argo
from ansible_collections.progressive.delivery.plugins.module_utils.args_common import (
    PROMETHEUS_ARG_SPEC, prometheus_options)
from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import read_secret_value
from ansible_collections.progressive.delivery.plugins.module_utils.redact import Redactor
from ansible_collections.progressive.delivery.plugins.module_utils.templates import (
    load_template_file, pick_templates)

COLLECTION = "progressive.delivery"


def _deprecated(*names):
    return [dict(name=n, version="2.0.0", collection_name=COLLECTION) for n in names]


# Where the templates of one analysis come from (top level in analysis_check; the suboptions of
# router_release's analysis and of bluegreen_promote's pre/post_promotion_analysis).
ANALYSIS_SOURCE_SPEC = dict(
    template=dict(type="raw"),
    template_file=dict(type="path"),
    template_name=dict(type="list", elements="str"),
    cluster_scope=dict(type="bool", default=False),
    args=dict(type="dict", default={}),
)
SOURCE_EXCLUSIVE = [("template", "template_file"), ("template", "template_name")]
SOURCE_REQUIRED = [("template", "template_file", "template_name")]

# How an analysis runs: the same names in every gating module; the names router_release had are aliases.
ANALYSIS_GATE_SPEC = dict(
    namespace=dict(type="str", default="default", aliases=["analysis_namespace"],
                   deprecated_aliases=_deprecated("analysis_namespace")),
    max_duration=dict(type="str", aliases=["analysis_max_duration"],
                      deprecated_aliases=_deprecated("analysis_max_duration")),
    on_empty=dict(type="str", choices=list(ON_EMPTY), default="fail"),
)
ANALYSIS_GATE_SPEC.update(PROMETHEUS_ARG_SPEC)


def gate_argument_spec(**overrides):
    """A copy of ANALYSIS_GATE_SPEC with some options replaced (bluegreen_promote's required namespace)."""
    spec = copy.deepcopy(ANALYSIS_GATE_SPEC)
    spec.update(overrides)
    return spec


def source_option(required=True):
    """A dict option holding one analysis source (router_release's analysis, bluegreen_promote's analyses)."""
    option = dict(type="dict", options=copy.deepcopy(ANALYSIS_SOURCE_SPEC), mutually_exclusive=SOURCE_EXCLUSIVE)
    if required:
        option["required_one_of"] = SOURCE_REQUIRED
    return option


def undeclared_warning(where, name):
    """The warning every gate gives for an argument the templates do not declare (Argo drops it)."""
    return "%s: argument '%s' is not declared by the template and is ignored, as in Argo Rollouts" % (where, name)


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
        return read_argo(self.client, kind, name, None if cluster_scope else self.namespace)

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


class Gate(object):
    """One module's analysis settings: where templates and secrets are read, the providers, ``on_empty`` and
    ``max_duration``. ``warn(text)`` receives the warnings (undeclared arguments, once each)."""

    def __init__(self, cluster, providers, on_empty="fail", max_duration=None, warn=None):
        self.cluster = cluster
        self.providers = Providers.of(providers)
        self.on_empty = on_empty
        self.max_duration = max_duration
        self.warn = warn
        self.warned = set()
        self.ignored = []  # the undeclared argument names of the last analysis prepared
        self.redactor = Redactor(self.providers.secrets())

    @classmethod
    def from_params(cls, params, connect, warn=None):
        """The gate ANALYSIS_GATE_SPEC's options describe; ``connect()`` gives a Kubernetes client when one is
        needed. An unreadable max_duration is an AnalysisSpecError."""
        max_duration = None
        if params.get("max_duration"):
            try:
                max_duration = parse_go_duration(params["max_duration"])
            except ValueError as e:
                raise AnalysisSpecError("max_duration: %s" % e)
        providers = Providers(PrometheusProvider(**prometheus_options(params)))
        return cls(ClusterTemplates(connect, params.get("namespace") or "default"), providers,
                   on_empty=params.get("on_empty") or "fail", max_duration=max_duration, warn=warn)

    def prepare(self, source, mode="run", known_args=None, where="analysis", role=None):
        """The metrics of ``source`` ready to measure, and the secret values to hide; warns of undeclared args.

        ``role`` ("step" or "guard") leaves out the metrics the templates reserve for the other one."""
        templates, lookup = load_templates(source, self.cluster)
        metrics, secrets, ignored = prepare(templates, source.get("args") or {}, lookup, self.cluster.secret, mode,
                                            known_args=known_args)
        if role:
            reserved = metric_roles(templates)
            metrics = [m for m in metrics if reserved.get(m.name, role) == role]
        self.redactor.add(secrets)
        self.redactor.add(self.providers.secrets(metrics))
        self.ignored = ignored
        for name in ignored:
            if (where, name) not in self.warned and self.warn is not None:
                self.warned.add((where, name))
                self.warn(undeclared_warning(where, name))
        return metrics, secrets

    def run(self, source, known_args=None, mode="run", sleep=None, where="analysis", role=None):
        """Run the analysis ``source`` describes to a verdict (an AnalysisRun).

        Fails closed: provider errors, malformed answers, timeouts and exceptions while evaluating a condition
        end the run in Error or Failed, never in an exception. Only a template that cannot be read or run raises
        (AnalysisSpecError, TemplateError, KubernetesError), before anything is measured. ``known_args`` (e.g.
        the preview pod hash) fill arguments the templates declare without a value and the caller left out, as
        Argo Rollouts fills ``valueFrom.podTemplateHashValue``. ``sleep`` waits between measurements (a walker's
        sleep may stop the run when a person intervenes)."""
        metrics, secrets = self.prepare(source, mode, known_args, where, role)
        return self.run_metrics(metrics, secrets, sleep)

    def run_metrics(self, metrics, secrets, sleep=None):
        """Run metrics ``prepare`` gave (raises AnalysisSpecError only for a metric that would run forever)."""
        timing = {"sleep": sleep} if sleep else {}
        return AnalysisRun(metrics, self.providers, on_empty=self.on_empty, max_duration=self.max_duration,
                           redact=secrets, **timing).run()

    def validate_metrics(self, metrics, secrets):
        """`validate` mode: each metric measured once, its data and conditions checked; no verdict."""
        return validate(metrics, self.providers, redact=secrets)

    def secrets(self):
        """Every value no result may show (secret arguments, the providers' credentials)."""
        return list(self.redactor.secrets)


def run_analysis(source, cluster, provider, on_empty="fail", max_duration=None, known_args=None, mode="run",
                 sleep=None):
    """Run the analysis ``source`` describes; returns ``(AnalysisRun, ignored arg names)`` (see Gate.run)."""
    gate = Gate(cluster, provider, on_empty, max_duration)
    run = gate.run(source, known_args, mode, sleep)
    return run, gate.ignored
