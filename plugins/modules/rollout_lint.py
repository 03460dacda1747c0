#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollout_lint
short_description: Refuse the known canary footguns in Rollout and AnalysisTemplate manifests before they are applied
version_added: 0.1.0
author:
  - progressive.delivery contributors (@progressive-delivery)
description:
  - Checks Rollouts and (Cluster)AnalysisTemplates against the production-canary checklist. Each finding has a rule
    id, a severity, the object, the field path, the message and the fix.
  - C(no-analysis) (error) - a canary with steps and no analysis step or background analysis.
  - C(empty-result-passes) (error) - a successCondition that passes when the query returns no series or only NaN,
    judged by evaluating the condition with the collection's own evaluator under Argo's rules.
  - C(empty-result-errors) (warning) - a condition that errors on no data (the run ends Error, not Failed).
  - C(unscoped-query) (error) - a Prometheus query that does not select the canary's pods by pod-template hash.
  - C(low-failure-limit) (warning) - failureLimit below 2.
  - C(missing-template) (error) - a templateName or clusterTemplateName no template defines.
  - C(short-abort-scale-down) (error) - abortScaleDownDelaySeconds below twice the stated p99 request time.
  - C(stateful-auto-promotion) (error) - blue-green for a stateful workload (a PVC volume, or the annotation
    C(progressive.delivery/stateful=true)) with autoPromotionEnabled true.
  - C(weights-not-increasing) (error) - setWeight steps that do not increase.
  - C(slow-detection) (warning) - the plan's detection bound, the longest a canary that fails from its first
    request serves users before it is aborted, is above O(detection_target) - the pauses before the first
    analysis, then C(initialDelay + interval x (failureLimit + 1)) of its slowest metric, or the background
    analysis (Argo) or the guard (Ansible as the controller) when sooner. Checked for Rollouts and for
    O(release_plans). Every plan's bound is returned in RV(detection_bounds).
  - C(mirror-not-managed) (error) - a C(setMirrorRoute) name that C(spec.strategy.canary.trafficRouting.managedRoutes)
    does not list (Argo Rollouts refuses the Rollout).
  - C(mirror-unsupported-router) (error) - a C(setMirrorRoute) step without C(trafficRouting.istio) or a traffic
    router plugin; nginx ingress canary annotations, ALB, SMI, Traefik and the others do not copy requests.
  - C(mirror-writes) (warning) - a mirror that copies requests that write (POST, PUT, PATCH, DELETE, CONNECT),
    so the canary's copy changes the data a second time. In Argo Rollouts a match entry without a method copies every
    method; for O(release_plans) a step without match copies GET and HEAD.
  - C(mirror-without-match) (warning) - a C(setMirrorRoute) step with a percentage but no match, for which Argo
    Rollouts removes the mirror route instead of copying.
  - C(mirror-plugin) (info) - a C(setMirrorRoute) step on a traffic router plugin, which must implement it (Argo
    Rollouts accepts it there only from the release with argoproj/argo-rollouts#4643).
  - C(mirror-not-removed) (info) - a mirror no later step removes; Argo Rollouts removes it when the rollout ends.
  - C(info) findings never fail the task.
options:
  manifests:
    description: Manifests (dicts, or a list of them) to check.
    type: list
    elements: raw
    default: []
  files:
    description: YAML files of manifests (several documents each), read by the module.
    type: list
    elements: path
    default: []
  known_templates:
    description:
      - Templates that exist in the cluster already, as C(name) (AnalysisTemplate) or
        C(ClusterAnalysisTemplate/name).
    type: list
    elements: str
    default: []
  p99_request_seconds:
    description:
      - The p99 request time of the service, for C(short-abort-scale-down). A Rollout's annotation
        C(progressive.delivery/p99-request-seconds) overrides it.
    type: float
  detection_target:
    description: Seconds, for C(slow-detection) (the guide promises a rollback within 2 minutes).
    type: float
    default: 120
  release_plans:
    description:
      - Plans of M(progressive.delivery.router_release) (Ansible as the controller) to check for C(slow-detection),
        their metrics taken from the templates among the manifests, and for C(mirror-writes).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: A name for the findings (C(ReleasePlan/name)).
        type: str
        required: true
      steps:
        description: The plan's steps, as router_release takes them.
        type: list
        elements: dict
        required: true
      templates:
        description: Names of the templates its analysis steps use (all templates among the manifests when empty).
        type: list
        elements: str
        default: []
      guard:
        description: The plan's guard, as router_release takes it (on by default, 15s, 2 failures).
        type: dict
        default: {}
  fail_on:
    description: Fail the task on findings of this severity or worse (C(never) to only report).
    type: str
    choices: [error, warning, never]
    default: error
attributes:
  check_mode:
    support: full
    description: Read-only.
"""

EXAMPLES = r"""
- name: Check the manifests before applying them
  progressive.delivery.rollout_lint:
    files:
      - manifests/checkout-rollout.yaml
      - manifests/analysis-templates.yaml
    p99_request_seconds: 1.5

- name: Lint rendered manifests in a template, with the filter
  ansible.builtin.assert:
    that: (manifests | progressive.delivery.rollout_lint | selectattr('severity', 'eq', 'error') | list) == []
"""

RETURN = r"""
findings:
  description: One entry a finding.
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description: Rule id.
      type: str
    severity:
      description: C(error), C(warning) or C(info) (never fails the task).
      type: str
    object:
      description: C(Kind/name).
      type: str
    path:
      description: Field path, for example C(spec.metrics[0].successCondition).
      type: str
    message:
      description: What is wrong.
      type: str
    fix:
      description: What to do.
      type: str
counts:
  description: Findings by severity.
  returned: always
  type: dict
detection_bounds:
  description:
    - For each Rollout with canary steps and each release plan (C(Kind/name), a release plan as C(ReleasePlan/name)),
      the longest a failing canary serves before it is aborted, in seconds (null when nothing bounds it).
  returned: always
  type: dict
  sample: {"Rollout/checkout": 480.0, "ReleasePlan/checkout-guarded": 30.0}
checked:
  description: Objects checked, as C(Kind/name).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.progressive.delivery.plugins.module_utils import lint
from ansible_collections.progressive.delivery.plugins.module_utils.templates import TemplateError, load_yaml_documents


def main():
    module = AnsibleModule(argument_spec=dict(
        manifests=dict(type="list", elements="raw", default=[]),
        files=dict(type="list", elements="path", default=[]),
        known_templates=dict(type="list", elements="str", default=[]),
        p99_request_seconds=dict(type="float"),
        fail_on=dict(type="str", choices=["error", "warning", "never"], default="error"),
        detection_target=dict(type="float", default=lint.DEFAULT_DETECTION_TARGET),
        release_plans=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            steps=dict(type="list", elements="dict", required=True),
            templates=dict(type="list", elements="str", default=[]),
            guard=dict(type="dict", default={}),
        )),
    ), required_one_of=[("manifests", "files")], supports_check_mode=True)
    params = module.params
    documents = []
    for item in params["manifests"]:
        documents += item if isinstance(item, list) else [item]
    try:
        for path in params["files"]:
            documents += load_yaml_documents(path)
    except TemplateError as e:
        module.fail_json(msg=str(e))
    bounds = {}
    findings = lint.lint(documents, params["known_templates"], params["p99_request_seconds"],
                         params["detection_target"], params["release_plans"], bounds)
    counts = dict((s, sum(1 for f in findings if f["severity"] == s)) for s in lint.SEVERITIES)
    checked = [lint.label(d) for d in documents if isinstance(d, dict) and d.get("kind") in lint.KINDS]
    result = dict(changed=False, findings=findings, counts=counts, checked=checked,
                  detection_bounds=dict((k, None if v == float("inf") else round(v, 3)) for k, v in bounds.items()))
    failing = {"error": ("error",), "warning": ("error", "warning"), "never": ()}[params["fail_on"]]
    summary = "; ".join("%s %s %s: %s" % (f["severity"], f["rule"], f["object"], f["path"]) for f in findings)
    if any(f["severity"] in failing for f in findings):
        module.fail_json(msg="rollout_lint: %d error(s), %d warning(s): %s" % (
            counts["error"], counts["warning"], summary), **result)
    result["msg"] = "rollout_lint: %d object(s) checked, %s" % (
        len(checked), "clean" if not findings else "%s: %s" % (", ".join(
            "%d %s(s)" % (counts[level], level) for level in lint.SEVERITIES if counts[level]), summary))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
