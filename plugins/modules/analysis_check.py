#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: analysis_check
short_description: Run an Argo Rollouts AnalysisTemplate (Prometheus and web metrics) and return its verdict
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
extends_documentation_fragment:
  - progressive.delivery.analysis_gate.source
  - progressive.delivery.analysis_gate
  - progressive.delivery.prometheus
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    description: Queries are read-only; check mode runs them and says so in RV(msg).
notes:
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

- name: A web metric - an HTTP check whose JSON answer is the result (Argo's web provider)
  progressive.delivery.analysis_check:
    template: !unsafe
      metrics:
        - name: health-check
          successCondition: result == true
          provider:
            web:
              url: "http://checks.internal/api/v1/{{args.service}}/healthy"
              headers:
                - key: Authorization
                  value: "Bearer {{args.token}}"
              timeoutSeconds: 5
              jsonPath: "{$.data.ok}"
      args:
        - name: service
        - name: token
    args:
      service: checkout
      token: "{{ checks_token }}"
    mode: once

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
    provider:
      description: The metric's provider, C(prometheus) or C(web).
      type: str
    query:
      description:
        - The PromQL query after argument substitution; for a C(web) metric, its URL.
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
          description: The value as Argo Rollouts shows it, C([0.99]) for a vector, the JSON of a web metric's value.
          type: str
        number:
          description:
            - The same value as numbers, so that reports never parse RV(metrics[].measurements[].value) - a float,
              a list of floats (C([0.99]) for a vector), or C(null) when the value is not numeric (a string, a map,
              an Error). NaN and infinities are C(null) in the list.
          type: raw
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
    AnalysisSpecError, FAILED, ERROR, MODES)
from ansible_collections.progressive.delivery.plugins.module_utils.gate import (
    ANALYSIS_SOURCE_SPEC, SOURCE_EXCLUSIVE, SOURCE_REQUIRED, Gate, gate_argument_spec)
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import AUTH_ARG_SPEC, KubernetesError, client_for
from ansible_collections.progressive.delivery.plugins.module_utils.redact import Redactor, protect_module
from ansible_collections.progressive.delivery.plugins.module_utils.templates import TemplateError


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(gate_argument_spec())
    spec.update(copy.deepcopy(ANALYSIS_SOURCE_SPEC))
    spec.update(
        mode=dict(type="str", choices=list(MODES), default="run"),
        fail_on_failure=dict(type="bool", default=True),
    )
    return spec


def main():
    module = AnsibleK8SModule(
        argument_spec=argument_spec(),
        mutually_exclusive=SOURCE_EXCLUSIVE,
        required_one_of=SOURCE_REQUIRED,
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
    try:
        gate = Gate.from_params(params, lambda: client_for(module), warn=module.warn)
        metrics, secrets = gate.prepare(params, params["mode"], where="analysis_check")
    except (AnalysisSpecError, TemplateError, KubernetesError, ValueError) as e:
        module.fail_json(msg=redactor.text("analysis_check: %s" % e), phase=None, metrics=[])
    redactor.add(gate.secrets())
    protect_module(module, urls=[m.provider_spec.get("address") or m.provider_spec.get("url") for m in metrics],
                   secrets=gate.secrets())

    note = " (check mode: queries are read-only and ran)" if module.check_mode else ""
    if params["mode"] == "validate":
        entries = gate.validate_metrics(metrics, secrets)
        invalid = [e for e in entries if not e["valid"]]
        msg = ("%d of %d metric(s) invalid: %s" % (len(invalid), len(entries), "; ".join(
            "%s: %s" % (e["name"], e["message"]) for e in invalid))) if invalid \
            else "all %d metric queries returned data" % len(entries)
        result = dict(changed=False, phase=None, valid=not invalid, message=msg, msg=msg + note, metrics=entries)
        if invalid and params["fail_on_failure"]:
            module.fail_json(**result)
        module.exit_json(**result)

    try:
        run = gate.run_metrics(metrics, secrets)
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
