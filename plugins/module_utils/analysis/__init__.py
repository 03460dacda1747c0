# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AnalysisTemplate semantics as Argo Rollouts implements them, in the parts Argo has:

- ``templates``: templates merged, ``{{args.NAME}}`` tags substituted, secret argument values kept aside;
- ``metrics``: each metric validated (schedule, limits, conditions, provider);
- ``providers``: one per kind (``prometheus``, ``web``) behind one interface - measure one metric, return a
  typed Value or raise a ProviderError - chosen by the key under the metric's ``provider``;
- ``measure``: one measurement judged by the conditions (Argo's EvaluateResult);
- ``run``: scheduling, metric and run phases (assessMetricStatus, assessRunStatus), ``validate`` mode.

``shared/reference`` in the repository and docs/analysis.md set the rules out. Deliberate differences, all
towards failing closed:

- ``on_empty``: by default a measurement with no data never passes;
- nothing raises out of a measurement: a provider error, a malformed answer or an exception while
  evaluating a condition is a measurement of phase Error with the (redacted) reason;
- ``max_duration`` is a wall-clock limit from the start of the run: a query gets no more time than
  is left, and a metric whose last measurement is an Error when the time is up (a query cut by the
  limit, or an error not yet retried) ends Error with "analysis exceeded max_duration ... (wall
  clock)", where Argo's termination would call it Successful;
- secret values (``valueFrom.secretKeyRef`` args, tokens, passwords, URL credentials) are shown as
  ``***`` in every message, query and result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.analysis.common import (  # noqa: F401
    COMPLETED, DEFAULT_CONSECUTIVE_ERROR_LIMIT, DEFAULT_MEASUREMENT_HISTORY, ERROR, ERROR_RETRY_SECONDS, FAILED,
    INCONCLUSIVE, MODES, NO_DATA, ON_EMPTY, PENDING, RUNNING, START_MARGIN_SECONDS, SUCCESSFUL, AnalysisSpecError)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.measure import (  # noqa: F401
    Measurement, evaluate_conditions, is_empty, measure)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.metrics import (  # noqa: F401
    Metric, build_metrics)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.providers import (  # noqa: F401
    KINDS, PrometheusProvider, Provider, ProviderError, Providers, Value, WebProvider)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.run import (  # noqa: F401
    AnalysisRun, MetricResult, assess_metric, assess_run, validate)
from ansible_collections.progressive.delivery.plugins.module_utils.analysis.templates import (  # noqa: F401
    merge_templates, prepare, resolve_args, substitute, template_label, template_spec)
