# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rollout_lint: the production-canary checklist over Rollout and AnalysisTemplate manifests.

Each finding names the rule, the object, the field path, what is wrong and the fix. Conditions are
judged by running them through the collection's own evaluator with an empty result and a NaN, under
Argo's verdict rules, so "passes on no data" is decided, not guessed from the text."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.progressive.delivery.plugins.module_utils import detection
from ansible_collections.progressive.delivery.plugins.module_utils.analysis import (
    ERROR, SUCCESSFUL, evaluate_conditions)
from ansible_collections.progressive.delivery.plugins.module_utils.expr import ExprError, compile_expr
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.templates import metric_roles
from ansible_collections.progressive.delivery.plugins.module_utils.re2lite import RegexError, search
from ansible_collections.progressive.delivery.plugins.module_utils.release.plan import ReleaseError, mirror_of
from ansible_collections.progressive.delivery.plugins.module_utils.routers import WRITING_METHODS

STATEFUL_ANNOTATION = "progressive.delivery/stateful"
P99_ANNOTATION = "progressive.delivery/p99-request-seconds"
SEVERITIES = ("error", "warning", "info")  # info: worth knowing, never a reason to fail
KINDS = ("Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate")

# rule id -> (severity, what the checklist says)
RULES = {
    "no-analysis": ("error", "a canary with steps and no analysis step or background analysis"),
    "empty-result-passes": ("error", "a successCondition that passes when the query returns no data"),
    "empty-result-errors": ("warning", "a condition that errors instead of failing when the query returns no data"),
    "unscoped-query": ("error", "a query not scoped to the canary's pods"),
    "low-failure-limit": ("warning", "failureLimit below 2"),
    "missing-template": ("error", "a templateName no template defines"),
    "short-abort-scale-down": ("error", "abortScaleDownDelaySeconds below twice the stated p99 request time"),
    "stateful-auto-promotion": ("error", "blue-green for a stateful workload with autoPromotionEnabled true"),
    "weights-not-increasing": ("error", "setWeight steps that do not increase"),
    "slow-detection": ("warning", "a failing canary could serve users longer than the detection target (120 s by "
                                  "default) before it is aborted"),
    "mirror-not-managed": ("error", "a setMirrorRoute name that trafficRouting.managedRoutes does not list"),
    "mirror-unsupported-router": ("error", "a setMirrorRoute step without a traffic router that mirrors (Istio, or a "
                                           "traffic router plugin that implements it)"),
    "mirror-writes": ("warning", "a mirror that copies requests that write (POST, PUT, PATCH, DELETE): each copy "
                                 "changes the data a second time"),
    "mirror-without-match": ("warning", "a setMirrorRoute step with a percentage but no match: Argo Rollouts "
                                        "removes the mirror instead of copying"),
    "mirror-plugin": ("info", "a setMirrorRoute step on a traffic router plugin: the plugin must implement it"),
    "mirror-not-removed": ("info", "a mirror that no step removes: Argo Rollouts removes it when the rollout ends"),
}
DEFAULT_DETECTION_TARGET = 120.0
HASH_LABELS = ("rollouts-pod-template-hash", "rollouts_pod_template_hash")


class Finding(dict):
    def __init__(self, rule, obj, path, message, fix):
        severity = RULES[rule][0]
        super(Finding, self).__init__(rule=rule, severity=severity, object=label(obj), path=path,
                                      message=message, fix=fix)


def label(obj):
    return "%s/%s" % (obj.get("kind"), (obj.get("metadata") or {}).get("name", "<unnamed>"))


class _Metric(object):
    """What evaluate_conditions needs of a metric."""

    def __init__(self, success, failure):
        self.success, self.failure = success, failure


def _analysis_refs(ro):
    """(path, reference dict) of every template reference a Rollout makes."""
    strategy = (ro.get("spec") or {}).get("strategy") or {}
    refs = []
    canary = strategy.get("canary") or {}
    for i, step in enumerate(canary.get("steps") or []):
        for j, ref in enumerate((step.get("analysis") or {}).get("templates") or []):
            refs.append(("spec.strategy.canary.steps[%d].analysis.templates[%d]" % (i, j), ref))
    for j, ref in enumerate((canary.get("analysis") or {}).get("templates") or []):
        refs.append(("spec.strategy.canary.analysis.templates[%d]" % j, ref))
    bg = strategy.get("blueGreen") or {}
    for field in ("prePromotionAnalysis", "postPromotionAnalysis"):
        for j, ref in enumerate((bg.get(field) or {}).get("templates") or []):
            refs.append(("spec.strategy.blueGreen.%s.templates[%d]" % (field, j), ref))
    return refs


def _hash_args(rollouts):
    """Argument names any Rollout fills with a pod-template hash (valueFrom.podTemplateHashValue)."""
    names = set()
    for ro in rollouts:
        strategy = (ro.get("spec") or {}).get("strategy") or {}
        blocks = [s.get("analysis") or {} for s in (strategy.get("canary") or {}).get("steps") or []]
        blocks.append((strategy.get("canary") or {}).get("analysis") or {})
        bg = strategy.get("blueGreen") or {}
        blocks += [bg.get(f) or {} for f in ("prePromotionAnalysis", "postPromotionAnalysis")]
        for block in blocks:
            for arg in block.get("args") or []:
                if (arg.get("valueFrom") or {}).get("podTemplateHashValue"):
                    names.add(arg.get("name"))
    return names


def _is_stateful(ro):
    meta = ro.get("metadata") or {}
    if str((meta.get("annotations") or {}).get(STATEFUL_ANNOTATION, "")).lower() == "true":
        return True
    pod = ((ro.get("spec") or {}).get("template") or {}).get("spec") or {}
    return any("persistentVolumeClaim" in v for v in pod.get("volumes") or [])


def lint_rollout(ro, templates, p99_seconds=None):
    findings = []
    spec = ro.get("spec") or {}
    strategy = spec.get("strategy") or {}
    canary = strategy.get("canary")
    if canary is not None:
        steps = canary.get("steps") or []
        if steps and not canary.get("analysis") and not any("analysis" in s for s in steps):
            findings.append(Finding("no-analysis", ro, "spec.strategy.canary.steps",
                                    "the canary has %d steps and no analysis: nothing stops a bad release" % len(steps),
                                    "add an analysis step after each setWeight, or spec.strategy.canary.analysis "
                                    "for background analysis"))
        last = None
        for i, step in enumerate(steps):
            if "setWeight" in step:
                weight = step["setWeight"]
                if last is not None and weight <= last:
                    findings.append(Finding("weights-not-increasing", ro, "spec.strategy.canary.steps[%d].setWeight" % i,
                                            "setWeight %s does not increase on the previous %s" % (weight, last),
                                            "order the weights upwards (10, 25, 50, 75, 100)"))
                last = weight
        findings += _mirror_steps(ro, canary, steps)
        stated = p99_seconds
        annotated = ((ro.get("metadata") or {}).get("annotations") or {}).get(P99_ANNOTATION)
        if annotated is not None:
            stated = float(annotated)
        delay = canary.get("abortScaleDownDelaySeconds", 30 if canary.get("trafficRouting") else 0)
        if stated and delay and delay < 2 * stated:
            findings.append(Finding("short-abort-scale-down", ro, "spec.strategy.canary.abortScaleDownDelaySeconds",
                                    "abortScaleDownDelaySeconds %s is below twice the p99 request time (%ss): "
                                    "canary pods are killed with requests in flight" % (delay, stated),
                                    "set it to at least %d" % int(2 * stated + 0.999)))
    bg = strategy.get("blueGreen")
    if bg is not None and _is_stateful(ro) and bg.get("autoPromotionEnabled", True) is not False:
        findings.append(Finding("stateful-auto-promotion", ro, "spec.strategy.blueGreen.autoPromotionEnabled",
                                "a stateful workload is promoted without a person: writes could go to the new "
                                "version before anyone checked it",
                                "set autoPromotionEnabled: false and promote with bluegreen_promote approved: true"))
    for path, ref in _analysis_refs(ro):
        name = ref.get("templateName") or ref.get("clusterTemplateName")
        kind = "ClusterAnalysisTemplate" if ref.get("clusterTemplateName") or ref.get("clusterScope") \
            else "AnalysisTemplate"
        if (kind, name) not in templates:
            field = ".clusterTemplateName" if kind.startswith("Cluster") else ".templateName"
            findings.append(Finding("missing-template", ro, path + field,
                                    "%s '%s' is not defined in these manifests%s" % (
                                        kind, name, " or in known_templates" if templates else ""),
                                    "add the %s, fix the name, or list it in known_templates if it is in the "
                                    "cluster already" % kind))
    return findings


PLUGINS_MIRRORING = "argoproj-labs/gatewayAPI"  # named in the message: the plugin most users would try


def _string_matches(match, text):
    """Does an Argo StringMatch ({exact|prefix|regex}) match ``text``? A regex that does not compile: assume so."""
    if "exact" in match:
        return str(match["exact"]).upper() == text
    if "prefix" in match:
        return text.startswith(str(match["prefix"]).upper())
    if "regex" in match:
        try:  # Istio/Envoy match the whole method, with RE2: the collection's linear-time matcher
            return search("^(?:%s)$" % match["regex"], text)
        except RegexError:
            return True
    return True


def _mirror_writes(match):
    """The writing methods an Argo setMirrorRoute ``match`` list copies (an empty list, or an entry without a
    method: every method)."""
    if not match:
        return list(WRITING_METHODS)
    found = set()
    for entry in match:
        method = (entry or {}).get("method")
        found.update(m for m in WRITING_METHODS if not method or _string_matches(method, m))
    return [m for m in WRITING_METHODS if m in found]


def _mirror_steps(ro, canary, steps):
    """setMirrorRoute on the Argo path: the route named in managedRoutes, a traffic router that mirrors, only
    idempotent requests copied, and a word when no step removes the mirror."""
    findings = []
    routing = canary.get("trafficRouting") or {}
    managed = [r.get("name") for r in routing.get("managedRoutes") or []]
    active = {}  # mirror name -> the step that set it
    for i, step in enumerate(steps):
        if "setMirrorRoute" not in step:
            continue
        spec = step.get("setMirrorRoute") or {}
        path = "spec.strategy.canary.steps[%d].setMirrorRoute" % i
        name = spec.get("name")
        if name not in managed:
            listed = ", ".join(map(str, managed)) or "none"
            findings.append(Finding("mirror-not-managed", ro, path + ".name",
                                    "setMirrorRoute '%s' is not in spec.strategy.canary.trafficRouting.managedRoutes "
                                    "(%s): Argo Rollouts refuses the Rollout" % (name, listed),
                                    "add {name: %s} to spec.strategy.canary.trafficRouting.managedRoutes" % name))
        if spec.get("match") is None:  # Argo: a step without match removes the mirror route, for safety
            active.pop(name, None)
            if set(spec) - {"name"}:
                findings.append(Finding("mirror-without-match", ro, path,
                                        "setMirrorRoute '%s' has %s but no match: Argo Rollouts removes the mirror "
                                        "route for a step without match, so nothing is copied (router_release "
                                        "copies GET and HEAD for the same step)"
                                        % (name, ", ".join(sorted(set(spec) - {"name"}))),
                                        "add match: [{method: {exact: GET}}, {method: {exact: HEAD}}], or leave "
                                        "only the name to remove the mirror"))
            continue
        active[name] = i
        writes = _mirror_writes(spec["match"])
        if writes:
            every = not spec["match"] or any(not (entry or {}).get("method") for entry in spec["match"])
            findings.append(Finding("mirror-writes", ro, path + ".match",
                                    "setMirrorRoute '%s' copies %s requests to the canary%s: the canary's copy of each "
                                    "one changes the data a second time (a second order, a second payment)"
                                    % (name, "/".join(writes), " (a match entry without a method copies every method)"
                                       if every else ""),
                                    "match only idempotent methods: match: [{method: {exact: GET}}, "
                                    "{method: {exact: HEAD}}]"))
    if any("setMirrorRoute" in s for s in steps):
        first = next(i for i, s in enumerate(steps) if "setMirrorRoute" in s)
        path = "spec.strategy.canary.steps[%d].setMirrorRoute" % first
        if routing.get("plugins") and not routing.get("istio"):
            findings.append(Finding("mirror-plugin", ro, path,
                                    "setMirrorRoute is sent to the traffic router plugin (%s): Argo Rollouts accepts "
                                    "it there only from the release with argoproj/argo-rollouts#4643, and only a "
                                    "plugin that implements SetMirrorRoute copies anything (the Gateway API plugin: "
                                    "argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi#229)"
                                    % ", ".join(sorted(routing["plugins"])),
                                    "check that your Argo Rollouts and plugin versions mirror, or use "
                                    "trafficRouting.istio"))
        elif not routing.get("istio"):
            findings.append(Finding("mirror-unsupported-router", ro, path,
                                    "setMirrorRoute needs a traffic router that mirrors; this Rollout has %s: Argo "
                                    "Rollouts refuses the Rollout (nginx ingress canary annotations, ALB, SMI, "
                                    "Traefik and the others do not copy requests)"
                                    % ("no trafficRouting" if not routing else "trafficRouting." + ", ".join(
                                        sorted(k for k in routing if k not in ("managedRoutes", "maxTrafficWeight")))),
                                    "route with trafficRouting.istio (a VirtualService), or remove the "
                                    "setMirrorRoute steps"))
    for name, i in sorted(active.items(), key=lambda item: item[1]):
        findings.append(Finding("mirror-not-removed", ro, "spec.strategy.canary.steps[%d].setMirrorRoute" % i,
                                "setMirrorRoute '%s' is never removed by a later step: the canary gets copies until "
                                "the rollout ends, where Argo Rollouts removes its managed routes" % name,
                                "add {setMirrorRoute: {name: %s}} where the copies should stop (before the first "
                                "setWeight, to judge the canary on copies alone)" % name))
    return findings


def lint_release_plan(plan):
    """mirror-writes for a router_release plan (Ansible as the controller: no match means GET and HEAD)."""
    obj = {"kind": "ReleasePlan", "metadata": {"name": plan.get("name", "plan")}}
    findings = []
    for i, step in enumerate(plan.get("steps") or []):
        if "setMirrorRoute" not in step:
            continue
        try:
            mirror = mirror_of(step, i)
        except ReleaseError:
            continue  # router_release refuses the plan with its own message
        if mirror and mirror.writes:
            findings.append(Finding("mirror-writes", obj, "steps[%d].setMirrorRoute.match" % i,
                                    "setMirrorRoute '%s' copies %s requests to the canary: the canary's copy of each "
                                    "one changes the data a second time" % (mirror.name, "/".join(mirror.writes)),
                                    "leave match out (GET and HEAD are copied) or match only idempotent methods"))
    return findings


def lint_template(tpl, hash_args):
    findings = []
    spec = tpl.get("spec") or {}
    guard_only = [name for name, role in metric_roles([tpl]).items() if role == "guard"]
    for i, metric in enumerate(spec.get("metrics") or []):
        base = "spec.metrics[%d]" % i
        name = metric.get("name")
        query = ((metric.get("provider") or {}).get("prometheus") or {}).get("query")
        if query is not None:
            args = set(re.findall(r"\{\{\s*args\.([\w-]+)\s*\}\}", query))
            scoped = any(h in query for h in HASH_LABELS) or any(
                a in hash_args or "hash" in a for a in args)
            if not scoped:
                findings.append(Finding("unscoped-query", tpl, base + ".provider.prometheus.query",
                                        "metric '%s' does not select the canary's pods: it averages canary with "
                                        "stable, so a bad canary hides in good traffic" % name,
                                        'match the pods by hash, e.g. pod=~".*-{{args.canary-hash}}-.*", with the '
                                        "arg filled from valueFrom.podTemplateHashValue: Latest"))
        if metric.get("failureLimit", 0) < 2 and not str(metric.get("failureLimit", "")).startswith("{{"):
            findings.append(Finding("low-failure-limit", tpl, base + ".failureLimit",
                                    "metric '%s' has failureLimit %s: a single noisy measurement aborts the release"
                                    % (name, metric.get("failureLimit", 0)),
                                    "set failureLimit: 2 (or more) with a count of at least 3"))
        if name not in guard_only:  # a guard can only abort: no data passing it promotes nothing
            findings += _empty_result(tpl, base, metric)
    return findings


def _compile(metric, field):
    source = metric.get(field)
    if not source or "{{" in source:  # with unresolved args it cannot be judged here
        return None
    return compile_expr(source)


def _empty_result(tpl, base, metric):
    try:
        judged = _Metric(_compile(metric, "successCondition"), _compile(metric, "failureCondition"))
    except ExprError as e:
        return [Finding("empty-result-errors", tpl, base + ".successCondition",
                        "metric '%s': the condition does not parse: %s" % (metric.get("name"), e),
                        "fix the expression (see docs/analysis.md)")]
    if judged.success is None and judged.failure is None:
        return []
    phases = [(shown, result, evaluate_conditions(judged, result)[0])
              for shown, result in (("no series", []), ("only NaN", [float("nan")]))]
    passing = [(shown, result) for shown, result, phase in phases if phase == SUCCESSFUL]
    if passing:  # the worse finding; its fix covers the other
        shown, result = passing[0]
        return [Finding("empty-result-passes", tpl, base + ".successCondition",
                        "metric '%s' passes when the query returns %s (result = %s)" % (
                            metric.get("name"), shown, "[]" if not result else "[NaN]"),
                        "guard it: len(result) > 0 && !isNaN(result[0]) && ...")]
    if phases[0][2] == ERROR:
        return [Finding("empty-result-errors", tpl, base + ".successCondition",
                        "metric '%s' errors when the query returns no series (it ends Error after "
                        "consecutiveErrorLimit, not Failed)" % metric.get("name"),
                        "guard it: len(result) > 0 && ...")]
    return []


def _slow_detection(obj, path, steps, template_docs, background, target):
    """The plan's detection bound (detection.py) against the target; a finding, or None."""
    def step_seconds(step):
        refs = (step.get("analysis") or {}).get("templates") or []
        return detection.analysis_failure_seconds([template_docs.get(r.get("templateName") or r.get(
            "clusterTemplateName")) for r in refs] if refs else list(template_docs.values()))
    found = detection.bound(steps, step_seconds, background)
    if found <= target:
        return None, found
    return Finding("slow-detection", obj, path,
                   "a canary that fails from its first request serves users for up to %s before it is aborted "
                   "(target %gs): the pauses before the first analysis, then initialDelay + interval x "
                   "(failureLimit + 1) of its slowest metric" % (detection.describe(found), target),
                   "add a background analysis with a short interval (Argo: spec.strategy.canary.analysis; Ansible "
                   "as the controller: the guard), or shorten the first pause and the analysis interval"), found


def lint_detection(docs, target=DEFAULT_DETECTION_TARGET, release_plans=()):
    """slow-detection findings for Rollouts and for router_release plans; also each plan's bound in seconds."""
    template_docs = dict(((d.get("metadata") or {}).get("name"), d) for d in docs
                         if d.get("kind") in ("AnalysisTemplate", "ClusterAnalysisTemplate"))
    findings, bounds = [], {}
    for ro in [d for d in docs if d.get("kind") == "Rollout"]:
        canary = ((ro.get("spec") or {}).get("strategy") or {}).get("canary")
        if canary is None or not canary.get("steps"):
            continue
        if not canary.get("analysis") and not any("analysis" in step for step in canary["steps"]):
            continue  # no-analysis says it already
        refs = (canary.get("analysis") or {}).get("templates") or []
        background = detection.analysis_failure_seconds(
            [template_docs.get(r.get("templateName") or r.get("clusterTemplateName")) for r in refs]) if refs else None
        finding, bounds[label(ro)] = _slow_detection(ro, "spec.strategy.canary.steps", canary["steps"], template_docs,
                                                     background, target)
        findings += [finding] if finding else []
    for plan in release_plans or ():
        guard = plan.get("guard") or {}
        background = detection.guard_seconds(guard.get("interval") or "15s", guard.get("failures") or 2) \
            if guard.get("enabled", True) and plan.get("analysis", True) else None
        obj = {"kind": "ReleasePlan", "metadata": {"name": plan.get("name", "plan")}}
        chosen = dict((n, template_docs[n]) for n in plan.get("templates") or [] if n in template_docs) or template_docs
        finding, bounds[label(obj)] = _slow_detection(obj, "steps", plan.get("steps") or [], chosen, background, target)
        findings += [finding] if finding else []
    return findings, bounds


def lint(documents, known_templates=(), p99_seconds=None, detection_target=DEFAULT_DETECTION_TARGET,
         release_plans=(), bounds=None):
    """Findings for every Rollout and (Cluster)AnalysisTemplate among ``documents``, and for ``release_plans``
    (router_release plans: name, steps, guard, templates); ``bounds`` (a dict) receives each plan's detection
    bound."""
    docs = [d for d in documents if isinstance(d, dict)]
    templates = set((d.get("kind"), (d.get("metadata") or {}).get("name")) for d in docs
                    if d.get("kind") in ("AnalysisTemplate", "ClusterAnalysisTemplate"))
    for name in known_templates or ():
        kind, _sep, bare = name.rpartition("/")
        templates.add((kind or "AnalysisTemplate", bare))
    rollouts = [d for d in docs if d.get("kind") == "Rollout"]
    hash_args = _hash_args(rollouts)
    findings = []
    for doc in docs:
        if doc.get("kind") == "Rollout":
            findings += lint_rollout(doc, templates, p99_seconds)
        elif doc.get("kind") in ("AnalysisTemplate", "ClusterAnalysisTemplate"):
            findings += lint_template(doc, hash_args)
    for plan in release_plans or ():
        findings += lint_release_plan(plan)
    slow, found = lint_detection(docs, detection_target, release_plans)
    if bounds is not None:
        bounds.update(found)
    return findings + slow
