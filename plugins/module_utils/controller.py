# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible as the controller: from router_release / router_step options to a Release over a router,
with every analysis step going through the same gate as analysis_check."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import math
import os
import signal
import time

from ansible_collections.progressive.delivery.plugins.module_utils import evidence
from ansible_collections.progressive.delivery.plugins.module_utils import release as rel
from ansible_collections.progressive.delivery.plugins.module_utils.args_common import (
    ROUTER_ARG_SPEC, prometheus_options)
from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.gate import Gate as GateSettings
from ansible_collections.progressive.delivery.plugins.module_utils.gate import gate_argument_spec, source_option
from ansible_collections.progressive.delivery.plugins.module_utils.guard import Guard
from ansible_collections.progressive.delivery.plugins.module_utils.k8s import AUTH_ARG_SPEC, client_for
from ansible_collections.progressive.delivery.plugins.module_utils.procs import proc_stat
from ansible_collections.progressive.delivery.plugins.module_utils.prometheus import PrometheusClient
from ansible_collections.progressive.delivery.plugins.module_utils.redact import protect_module
from ansible_collections.progressive.delivery.plugins.module_utils.routers.factory import make_router


def router_argument_spec(**extra):
    """Options of a module that acts on a release's router (router_step)."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(copy.deepcopy(ROUTER_ARG_SPEC))
    spec.update(extra)
    return spec


def argument_spec(**extra):
    """Options of a module that walks a release's plan (router_release)."""
    spec = router_argument_spec(**extra)
    spec.update(gate_argument_spec())  # namespace, max_duration, on_empty (the former analysis_* names as aliases)
    spec.update(
        strategy=dict(type="str", choices=list(rel.STRATEGIES), default="canary"),
        steps=dict(type="list", elements="dict"),
        weights=dict(type="list", elements="int", default=list(rel.DEFAULT_WEIGHTS)),
        pause=dict(type="str", default="30s"),
        analysis=source_option(required=False),
        on_error=dict(type="str", choices=["abort", "pause"], default="abort"),
        on_failure=dict(type="str", choices=["abort", "pause"], default="abort"),
        freeze_windows=dict(type="list", elements="dict", default=[]),
        traffic_query=dict(type="str"),
        guard=dict(type="dict", default={}, options=dict(
            enabled=dict(type="bool", default=True),
            interval=dict(type="str", default="15s"),
            failures=dict(type="int", default=2),
        )),
    )
    return spec


def plan(params):
    if params.get("steps"):
        return params["steps"]
    has_analysis = bool(params.get("analysis"))
    if params["strategy"] == "blueGreen":
        return rel.bluegreen_plan(has_analysis, has_analysis)
    return rel.default_plan(params["weights"], params["pause"], has_analysis)


class Gate(object):
    """The analysis of a step: the step's own ``templates`` (names) and ``args`` over the module's
    ``analysis`` source; the release's versions are offered as ``canary-version`` / ``stable-version``."""

    def __init__(self, module):
        self.source = module.params.get("analysis") or {}
        self.gate = GateSettings.from_params(module.params, lambda: client_for(module), warn=module.warn)

    def __call__(self, step, state, sleep=None):
        spec = step.get("analysis") or {}
        source = dict(self.source)
        names = [t.get("templateName") or t.get("clusterTemplateName") for t in spec.get("templates") or []]
        if names:
            source["template_name"] = names
        args = dict(source.get("args") or {})
        args.update(dict((a["name"], a.get("value")) for a in spec.get("args") or []))
        source["args"] = args
        if not (source.get("template") or source.get("template_file") or source.get("template_name")):
            raise rel.ReleaseError("step %d is an analysis step but no analysis is given (analysis.template_file, "
                                   "template or template_name)" % state.step_index)
        known = {"canary-version": state.canary_version, "stable-version": state.stable_version,
                 "release": state.release}
        run = self.gate.run(source, known_args=known, sleep=sleep, where="analysis", role="step")
        out = run.to_dict()
        return {"phase": out["phase"], "message": out["message"], "metrics": out["metrics"]}

    def guard_measure(self, state):
        """One measurement of each guard metric (the template's metrics but the step-only ones)."""
        known = {"canary-version": state.canary_version, "stable-version": state.stable_version,
                 "release": state.release}
        return self.gate.run(self.source, known_args=known, mode="once", where="guard", role="guard").to_dict()[
            "metrics"]


def release_for(module):
    """The release the module's options describe; without plan options (router_step), the one in progress."""
    params = module.params
    protect_module(module, urls=[params.get("prometheus_url")])
    router = make_router(params, lambda: client_for(module), module.check_mode)
    cohorts = params.get("cohorts") or {}
    if "strategy" not in params:
        return rel.Release(router, cohorts=cohorts)
    freeze = rel.parse_windows(params.get("freeze_windows") or [])
    gate = Gate(module) if params.get("analysis") else None
    release = rel.Release(router, plan(params), params["strategy"], analyze=gate, cohorts=cohorts,
                          on_error=params["on_error"], alive=controller_alive(), guard=guard_for(params, gate),
                          on_failure=params["on_failure"], freeze=freeze, traffic=traffic_for(params))
    release.check_mirrors()  # refused before the walker's lease is written: nothing changes
    return release


def traffic_for(params):
    """The measured split after each timed pause, from ``traffic_query`` (requests per version): the canary's
    share is that of the series with a label whose value is the canary version."""
    query = params.get("traffic_query")
    if not query:
        return None
    options = dict((k, v) for k, v in prometheus_options(params).items() if v is not None)
    if not options.get("url"):
        raise rel.ReleaseError("traffic_query needs prometheus_url (or PROMETHEUS_URL) to ask")
    client = PrometheusClient(**options)

    def measure(state):
        canary = total = 0.0
        for labels, value in client.query(query).series:
            if value is None or math.isnan(value):
                continue
            total += value
            if state.canary_version in labels.values():
                canary += value
        return {"requests": int(round(total)), "canary_share": round(canary / total, 4) if total > 0 else None}
    return measure


def guard_for(params, gate):
    """The guard the options ask for: on by default wherever there is an analysis."""
    options = params.get("guard") or {}
    if gate is None or not options.get("enabled", True):
        return None
    try:
        interval = parse_go_duration(options.get("interval") or "15s")
    except ValueError as e:
        raise rel.ReleaseError("guard.interval: %s" % e)
    if interval <= 0 or options.get("failures", 2) < 1:
        raise rel.ReleaseError("guard.interval must be above 0 and guard.failures 1 or more")
    return Guard(gate.guard_measure, interval, options.get("failures", 2), clock=time.time)


def _ancestors(pid):
    """(pid, start time) of each process above ``pid`` up to init, from /proc."""
    chain = []
    while pid > 1:
        try:
            parent, started = proc_stat(pid)
        except OSError:
            break
        if pid != os.getpid():
            chain.append((pid, started))
        pid = parent
    return chain


def controller_alive():
    """A check that the processes which started this module (ansible-playbook and its worker) still run.

    When ansible-playbook is killed, its worker and this module live on unseen; the walker asks this
    between looks at the state and stops. A hang-up (the ssh connection of a remote run closing) ends it too."""
    chain = _ancestors(os.getpid())
    hung_up = []
    try:
        signal.signal(signal.SIGHUP, lambda *_args: hung_up.append(True))
    except ValueError:  # not the main thread
        pass

    def alive():
        if hung_up:
            return False
        for pid, started in chain:
            try:
                if proc_stat(pid)[1] != started:
                    return False
            except OSError:
                return False
        return True
    return alive


def progress(release, since_t=None):
    """Where the walk stands, for the role's timeline: the step reached, the plan, and what happened since
    ``since_t`` as the operator's lines (values rounded, thresholds, time since the start)."""
    st = release.state
    if not st:
        return {}
    steps = st.steps or release.steps
    index = min(st.step_index, len(steps))
    return {"step_index": st.step_index, "steps": len(steps), "plan": [evidence.step_text(s) for s in steps],
            "next": evidence.step_text(steps[index]) if index < len(steps) else "promotion",
            "lines": st.timeline(since_t), "elapsed": evidence.duration_text(st.elapsed(release.clock())),
            "weight": st.canary_weight, "holding": release.holding()}


def report(release, since_t=None):
    """The module result for a release: its state, the verdict and the router's weights."""
    st = release.state
    verdict = "already_stable" if release.already_stable else st.verdict if st else "not_started"
    stable, canary = release.router.get_weights()
    return dict(changed=release.changed, verdict=verdict, phase=st.phase if st else None,
                message=st.message if st else "", revision=st.revision if st else None,
                configured=release.router.current_routing() is not None,
                state=st.to_dict() if st else {}, weights={"stable": stable, "canary": canary},
                time_to_detect_s=st.time_to_detect_s if st else None,
                time_to_restore_s=st.time_to_restore_s if st else None,
                canary_version=st.canary_version if st else None,
                previous_stable_version=st.previous_stable if st else None,
                started_t=(st.events("started") or [{}])[0].get("t") if st else None,
                finished_t=(st.decision() or {}).get("t") if st else None,
                decided_by=st.decided_by() if st else None,
                progress=progress(release, since_t))
