#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: analysis_check
short_description: Run an Argo Rollouts AnalysisTemplate against Prometheus and return its verdict
version_added: 0.1.0
author:
  - progressive.delivery contributors (@progressive-delivery)
description:
  - Measures the metrics of one or more AnalysisTemplates with the semantics of Argo Rollouts
    (C({{args.NAME}}) substitution, C(interval), C(count), C(initialDelay), C(failureLimit),
    C(inconclusiveLimit), C(consecutiveErrorLimit), C(consecutiveSuccessLimit), C(dryRun), metric and run phases)
    and returns the verdict, one of C(Successful), C(Failed), C(Inconclusive) or C(Error).
  - Conditions are evaluated by the collection's own expression parser, never by Jinja or Python C(eval).
  - Metrics of one analysis are measured concurrently.
  - "A measurement with no data (no series, or only NaN) never passes: see O(on_empty)."
  - "The gate fails closed: an answer from Prometheus that is not the documented JSON shape (C(result: null), a
    missing C(value), C(true) or C(null) as a sample value, ...), a query that does not answer within its timeout,
    or an error while evaluating a condition is a measurement of phase C(Error) that says what was wrong; the
    module never ends in a traceback."
  - "Secrets never show: the values of C(valueFrom.secretKeyRef) arguments, O(prometheus_token),
    O(prometheus_password), header values and the password in a URL (C(https://user:***@host)) are replaced by
    C(***) in RV(message), RV(msg), RV(metrics) (C(query) included) and in C(validate) mode."
  - "Ansible renders task arguments with Jinja, so a template's C({{args.x}}) or C({# > 0.5}) must not reach
    Jinja: use O(template_file), O(template_name), or an inline O(template) marked C(!unsafe)."
options:
  template:
    description:
      - An AnalysisTemplate (or ClusterAnalysisTemplate) object, or its C(spec), or a list of them merged as
        Argo Rollouts merges several templates named by one step.
      - Mark the YAML C(!unsafe) so Ansible leaves C({{args.x}}) for this module to substitute.
    type: raw
  template_file:
    description:
      - A YAML file holding AnalysisTemplate and ClusterAnalysisTemplate documents.
      - All documents are used unless O(template_name) picks some; C(spec.templates) references are
        resolved from the same file.
    type: path
  template_name:
    description:
      - Names of the templates to use. With O(template_file) they are picked from the file, otherwise they are
        read from the cluster (AnalysisTemplate in O(namespace), or ClusterAnalysisTemplate with O(cluster_scope)).
    type: list
    elements: str
  namespace:
    description:
      - Namespace of the AnalysisTemplates read from the cluster, and of secrets named by
        C(valueFrom.secretKeyRef) arguments.
    type: str
    default: default
  cluster_scope:
    description:
      - Read ClusterAnalysisTemplates instead of AnalysisTemplates.
    type: bool
    default: false
  args:
    description:
      - Values for the template's C(spec.args), name to value. They override the template's defaults.
      - Names the template does not declare are ignored, as in Argo Rollouts, and reported in a warning.
    type: dict
    default: {}
  mode:
    description:
      - C(run) runs the full measurement loop with interval, count, initialDelay and error retries, as an
        AnalysisRun does.
      - C(once) takes one measurement of each metric and makes its phase the metric's phase (limits and
        counts do not apply), a quick gate inside a playbook.
      - C(validate) checks that each query runs and returns data and that each condition parses; no verdict.
        Secret argument values are shown as C(***) in its output too.
    type: str
    choices: [run, once, validate]
    default: run
  fail_on_failure:
    description:
      - Fail the task when the analysis ends C(Failed) or C(Error) (C(validate) mode, when a metric is invalid).
      - C(Inconclusive) never fails the task; in Argo Rollouts it pauses the rollout for a human.
    type: bool
    default: true
  on_empty:
    description:
      - What a measurement with no data (an empty vector, or only NaN) that the conditions would pass becomes.
      - C(fail) makes it C(Failed) with a message that says so. C(argo) keeps the verdict of Argo Rollouts,
        where for example C(len(result) == 0 || result[0] > 0.9) passes on no data.
    type: str
    choices: [fail, argo]
    default: fail
  max_duration:
    description:
      - End the run after this long (C(30s), C(10m), C(1h)), like a rollout step ending a background analysis.
      - It is a wall-clock limit from the start of the run. Each query gets no more than the time left
        (and never more than its O(prometheus_timeout)); a measurement due in the last quarter second is not started.
      - Required when a metric has an C(interval) but no C(count), which otherwise runs forever.
      - On expiry, metrics still running become C(Successful) and the run message says C(Run Terminated),
        unless a metric had already failed.
      - A metric whose last measurement is an C(Error) when the time is up (a query cut short by the limit, or an
        error whose 10 s retry did not fit) ends C(Error) with the message C(analysis exceeded max_duration 5s (wall
        clock)), and so does the run; Argo Rollouts would call it C(Successful).
    type: str
extends_documentation_fragment:
  - progressive.delivery.prometheus
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Queries are read-only; check mode runs them and says so in RV(msg).
notes:
  - Only the C(prometheus) metric provider is measured.
  - Kubernetes connection options are used only with O(template_name) without O(template_file), or for
    C(secretKeyRef) arguments.
seealso:
  - name: Argo Rollouts analysis
    description: The semantics this module follows.
    link: https://argo-rollouts.readthedocs.io/en/stable/features/analysis/
"""

EXAMPLES = r"""
- name: Gate a canary step on a template file (its {{args.x}} never meets Jinja)
  progressive.delivery.analysis_check:
    template_file: files/success-rate.yaml
    args:
      service-name: checkout
      canary-hash: "{{ canary_hash }}"
    prometheus_url: http://prometheus.monitoring:9090
    mode: once

- name: Run the AnalysisTemplate stored in the cluster, full measurement loop
  progressive.delivery.analysis_check:
    template_name: success-rate
    namespace: shop
    args:
      service-name: checkout
  register: analysis

- name: An inline template must be marked !unsafe
  progressive.delivery.analysis_check:
    template: !unsafe
      metrics:
        - name: error-rate
          interval: 30s
          count: 4
          failureLimit: 1
          successCondition: len(result) > 0 && result[0] < 0.01
          provider:
            prometheus:
              query: |
                sum(rate(http_requests_total{service="{{args.service}}",code=~"5.."}[2m]))
                / sum(rate(http_requests_total{service="{{args.service}}"}[2m]))
      args:
        - name: service
    args:
      service: checkout
    prometheus_url: https://prometheus.example.com
    prometheus_token: "{{ prometheus_token }}"
    prometheus_ca_file: /etc/ssl/certs/internal-ca.pem

- name: Check that every query of a template returns data before the first release
  progressive.delivery.analysis_check:
    template_file: files/slo-templates.yaml
    args:
      service-name: checkout
    mode: validate
"""

RETURN = r"""
phase:
  description: The analysis verdict, or C(null) in C(validate) mode.
  returned: always
  type: str
  sample: Successful
message:
  description: Why the run ended as it did, naming the metric and the limit or error.
  returned: always
  type: str
  sample: 'Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)'
msg:
  description: A one-line summary for the task output.
  returned: always
  type: str
valid:
  description: In C(validate) mode, whether every query ran and returned data.
  returned: when mode is validate
  type: bool
metrics:
  description: One entry a metric, in template order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Metric name.
      type: str
    phase:
      description: Metric phase (Successful, Failed, Inconclusive, Error).
      type: str
    message:
      description: The limit that decided the phase, or the validation problem.
      type: str
    dry_run:
      description: Whether the metric is in C(dryRun) and so does not count towards the verdict.
      type: bool
    query:
      description:
        - The PromQL query after argument substitution.
        - The values of C(valueFrom.secretKeyRef) arguments and other secrets are shown as C(***).
      type: str
    count:
      description: Measurements that counted (errors do not).
      type: int
    measurements:
      description: The last measurements (10 unless C(measurementRetention) says otherwise).
      type: list
      elements: dict
      contains:
        value:
          description: The value as Argo Rollouts shows it, C([0.99]) for a vector.
          type: str
        phase:
          description: Measurement phase.
          type: str
        message:
          description:
            - The provider or evaluation error, or why no data failed.
            - "For example C(Prometheus returned a malformed answer: vector data.result[0].value[1] (the sample value)
              is true, not a number in a string) or C(Prometheus at http://prometheus:9090 did not answer within 3s)."
          type: str
        started_at:
          description: RFC 3339 start time.
          type: str
        finished_at:
          description: RFC 3339 end time.
          type: str
run_summary:
  description: Counts of non-dry-run metrics by final phase.
  returned: when mode is run or once
  type: dict
dry_run_summary:
  description: Counts of dry-run metrics by final phase.
  returned: when mode is run or once
  type: dict
duration_seconds:
  description: How long the analysis took.
  returned: when mode is run or once
  type: float
"""

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.progressive.delivery.plugins.module_utils.analysis import (
    AnalysisRun, AnalysisSpecError, PrometheusProvider, prepare, validate, FAILED, ERROR,
    MODES, ON_EMPTY)
from ansible_collections.progressive.delivery.plugins.module_utils.args_common import (
    PROMETHEUS_ARG_SPEC, prometheus_options)
from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.gate import ClusterTemplates, load_templates
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import AUTH_ARG_SPEC, KubernetesError, client_for
from ansible_collections.progressive.delivery.plugins.module_utils.redact import Redactor, protect_module
from ansible_collections.progressive.delivery.plugins.module_utils.templates import TemplateError


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(PROMETHEUS_ARG_SPEC))
    spec.update(
        template=dict(type="raw"),
        template_file=dict(type="path"),
        template_name=dict(type="list", elements="str"),
        namespace=dict(type="str", default="default"),
        cluster_scope=dict(type="bool", default=False),
        args=dict(type="dict", default={}),
        mode=dict(type="str", choices=list(MODES), default="run"),
        fail_on_failure=dict(type="bool", default=True),
        on_empty=dict(type="str", choices=list(ON_EMPTY), default="fail"),
        max_duration=dict(type="str"),
    )
    return spec


def main():
    module = AnsibleK8SModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("template", "template_file"), ("template", "template_name")],
        required_one_of=[("template", "template_file", "template_name")],
        supports_check_mode=True,
        check_k8s=False,
        module_class=AnsibleModule,
    )
    params = module.params
    # Ansible's own no_log net for the password in prometheus_url (invocation.module_args included)
    protect_module(module, urls=[params.get("prometheus_url")])
    redactor = Redactor()
    try:
        check(module, params, redactor)
    except Exception as e:  # pylint: disable=broad-except
        # never a traceback (it could quote a secret): an unexpected failure is a failed task that says what broke
        module.fail_json(msg="analysis_check: unexpected error: %s" % redactor.exception_text(e), phase="Error",
                         metrics=[])


def check(module, params, redactor):
    cluster = ClusterTemplates(lambda: client_for(module), params["namespace"])
    try:
        max_duration = parse_go_duration(params["max_duration"]) if params["max_duration"] else None
        templates, lookup = load_templates(params, cluster)
        metrics, secrets, ignored = prepare(templates, params["args"], lookup, cluster.secret, params["mode"])
        provider = PrometheusProvider(**prometheus_options(params))
    except (AnalysisSpecError, TemplateError, KubernetesError, ValueError) as e:
        module.fail_json(msg=redactor.text("analysis_check: %s" % e), phase=None, metrics=[])
    redactor.add(secrets)
    redactor.add(provider.secrets())
    protect_module(module, urls=[m.prometheus.get("address") for m in metrics], secrets=secrets)
    for name in ignored:
        module.warn("argument '%s' is not declared by the template and is ignored" % name)

    note = " (check mode: queries are read-only and ran)" if module.check_mode else ""
    if params["mode"] == "validate":
        entries = validate(metrics, provider, redact=secrets)
        invalid = [e for e in entries if not e["valid"]]
        msg = ("%d of %d metric(s) invalid: %s" % (len(invalid), len(entries), "; ".join(
            "%s: %s" % (e["name"], e["message"]) for e in invalid))) if invalid \
            else "all %d metric queries returned data" % len(entries)
        result = dict(changed=False, phase=None, valid=not invalid, message=msg, msg=msg + note, metrics=entries)
        if invalid and params["fail_on_failure"]:
            module.fail_json(**result)
        module.exit_json(**result)

    try:
        run = AnalysisRun(metrics, provider, on_empty=params["on_empty"], max_duration=max_duration,
                          redact=secrets).run()
    except AnalysisSpecError as e:
        module.fail_json(msg=redactor.text("analysis_check: %s" % e), phase=None, metrics=[])
    result = run.to_dict()
    result["changed"] = False
    result["msg"] = "analysis %s%s%s" % (run.phase, ": " + run.message if run.message else "", note)
    if params["fail_on_failure"] and run.phase in (FAILED, ERROR):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
