# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Templates and their arguments, as Argo Rollouts reads them: several templates merged into one, ``spec.templates``
references followed, ``{{args.NAME}}`` tags substituted in every string (the ``fasttemplate`` pass), secret
argument values kept aside so that every message can hide them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import MODES, AnalysisSpecError
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.metrics import build_metrics
from ansible_collections.progressive.delivery.plugins.module_utils.redact import Redactor


def template_spec(template):
    """The spec of an AnalysisTemplate object, or the object itself if it is a bare spec."""
    if not isinstance(template, dict):
        raise AnalysisSpecError("an AnalysisTemplate must be a mapping, got %s" % type(template).__name__)
    spec = template.get("spec", template) if "kind" in template or "spec" in template else template
    if not isinstance(spec, dict) or not ("metrics" in spec or "templates" in spec):
        raise AnalysisSpecError("AnalysisTemplate %s has no spec.metrics" % template_label(template))
    return spec


def template_label(template):
    meta = template.get("metadata") or {} if isinstance(template, dict) else {}
    kind = template.get("kind", "AnalysisTemplate") if isinstance(template, dict) else "AnalysisTemplate"
    return "%s '%s'" % (kind, meta.get("name", "<inline>"))


def merge_templates(templates, lookup=None):
    """Merge several templates as Argo does when a step names more than one.

    ``lookup(name, cluster_scope)`` returns a referenced template for ``spec.templates``.
    """
    merged = {"args": [], "metrics": [], "dryRun": [], "measurementRetention": []}
    seen_args = {}
    seen_metrics = set()

    def add(template, chain):
        spec = template_spec(template)
        for ref in spec.get("templates") or []:
            name = ref.get("templateName") or ref.get("clusterTemplateName")
            cluster = bool(ref.get("clusterScope") or ref.get("clusterTemplateName"))
            if name in chain:
                raise AnalysisSpecError("templates reference each other in a loop: %s"
                                        % " -> ".join(chain + [name]))
            if lookup is None:
                raise AnalysisSpecError("%s references template '%s'; give it in template_file or "
                                        "read it from the cluster" % (template_label(template), name))
            add(lookup(name, cluster), chain + [name])
        for arg in spec.get("args") or []:
            name = arg.get("name")
            if name in seen_args:
                prev = seen_args[name]
                if prev.get("value") != arg.get("value") and arg.get("value") is not None \
                        and prev.get("value") is not None:
                    raise AnalysisSpecError("Argument `%s` specified multiple times with different values: "
                                            "'%s', '%s'" % (name, prev.get("value"), arg.get("value")))
                if prev.get("value") is None:
                    prev.update(arg)
                continue
            seen_args[name] = dict(arg)
            merged["args"].append(seen_args[name])
        for metric in spec.get("metrics") or []:
            if metric.get("name") in seen_metrics:
                raise AnalysisSpecError("two metrics have the same name '%s'" % metric.get("name"))
            seen_metrics.add(metric.get("name"))
            merged["metrics"].append(copy.deepcopy(metric))
        merged["dryRun"].extend(copy.deepcopy(spec.get("dryRun") or []))
        merged["measurementRetention"].extend(copy.deepcopy(spec.get("measurementRetention") or []))

    for template in templates:
        meta = template.get("metadata") or {} if isinstance(template, dict) else {}
        add(template, [meta.get("name", "<inline>")])
    if not merged["metrics"]:
        raise AnalysisSpecError("the AnalysisTemplate defines no metrics")
    return merged


def resolve_args(declared, given, secret_lookup=None):
    """Values for the template's declared args: given values override template defaults.

    Returns ``(values, secrets, ignored)``: ``secrets`` are values to redact from messages and
    ``ignored`` the given names the template does not declare (Argo drops those).
    """
    given = dict(given or {})
    values, secrets = {}, []
    for arg in declared:
        name = arg.get("name")
        value = given.pop(name, None) if name in given else arg.get("value")
        if value is None and (arg.get("valueFrom") or {}).get("secretKeyRef"):
            ref = arg["valueFrom"]["secretKeyRef"]
            if secret_lookup is None:
                raise AnalysisSpecError(
                    "args.%s comes from secret '%s' key '%s'; read the template from the cluster "
                    "(template_name) or give its value in args" % (name, ref.get("name"), ref.get("key")))
            value = secret_lookup(ref.get("name"), ref.get("key"))
            secrets.append(value)
        if value is None:
            raise AnalysisSpecError("args.%s was not resolved: the template declares it without a "
                                    "value; give it in args (args: {%s: ...})" % (name, name))
        if isinstance(value, bool):
            value = "true" if value else "false"
        values[name] = value if isinstance(value, str) else str(value)
    return values, secrets, sorted(given)


_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)


def substitute(obj, values):
    """Replace every ``{{args.NAME}}`` tag in every string of ``obj`` (Argo's fasttemplate pass)."""
    if isinstance(obj, dict):
        return dict((k, substitute(v, values)) for k, v in obj.items())
    if isinstance(obj, list):
        return [substitute(v, values) for v in obj]
    if not isinstance(obj, str) or "{{" not in obj:
        return obj

    def replace(match):
        tag = match.group(1).strip()
        if tag.startswith("args.") and tag[5:] in values:
            return values[tag[5:]]
        raise AnalysisSpecError("failed to resolve {{%s}}: declare it in the template's spec.args "
                                "and give its value in args" % tag)

    if "{{" in _TAG.sub("", obj):
        raise AnalysisSpecError('Cannot find end tag="}}" in the template="%s"' % obj)
    return _TAG.sub(replace, obj)


def prepare(templates, args=None, lookup=None, secret_lookup=None, mode="run", known_args=None):
    """Merge, resolve args, substitute and validate: the metrics ready to measure.

    ``known_args`` fill arguments the templates declare without a value or valueFrom and ``args``
    leaves out (as Argo fills ``valueFrom.podTemplateHashValue``). Returns ``(metrics, secrets, ignored_args)``.
    """
    if mode not in MODES:
        raise AnalysisSpecError("mode must be one of %s" % ", ".join(MODES))
    try:
        return _prepare(templates, args, lookup, secret_lookup, mode, known_args)
    except _MALFORMED as e:
        raise AnalysisSpecError(_malformed_text(e))


# what reading a template of the wrong shape (a string where a mapping belongs, ...) raises
_MALFORMED = (AttributeError, TypeError, KeyError, IndexError)


def _malformed_text(e):
    return "the AnalysisTemplate is malformed (%s: %s); check it against the AnalysisTemplate schema" % (
        type(e).__name__, e)


def _prepare(templates, args, lookup, secret_lookup, mode, known_args):
    spec = merge_templates(templates, lookup)
    args = dict(args or {})
    for arg in spec["args"]:
        name = arg.get("name")
        if name in (known_args or {}) and name not in args and arg.get("value") is None \
                and not arg.get("valueFrom"):
            args[name] = known_args[name]
    values, secrets, ignored = resolve_args(spec["args"], args, secret_lookup)
    redactor = Redactor(secrets)
    try:
        resolved = substitute({"metrics": spec["metrics"], "dryRun": spec["dryRun"],
                               "measurementRetention": spec["measurementRetention"]}, values)
        return build_metrics(resolved, mode), secrets, ignored
    except AnalysisSpecError as e:
        raise AnalysisSpecError(redactor.text(str(e)))
    except _MALFORMED as e:
        raise AnalysisSpecError(redactor.text(_malformed_text(e)))


GUARD_ONLY = "progressive.delivery/guard-only"
STEP_ONLY = "progressive.delivery/step-only"


def metric_roles(templates):
    """metric name -> "guard" or "step" for the metrics a template reserves to one of them, from its annotations
    (``progressive.delivery/guard-only: "errors-sprt"``, ``progressive.delivery/step-only: "latency-p99, cpu"``);
    annotations survive a real cluster, where an unknown field in a metric would be pruned."""
    roles = {}
    for template in templates or []:
        notes = ((template or {}).get("metadata") or {}).get("annotations") or {}
        for key, role in ((GUARD_ONLY, "guard"), (STEP_ONLY, "step")):
            for name in str(notes.get(key) or "").split(","):
                if name.strip():
                    roles[name.strip()] = role
    return roles
