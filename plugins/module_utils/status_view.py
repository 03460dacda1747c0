# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A release's status as a person follows it, on both paths, in one vocabulary (what
``kubectl argo rollouts get rollout --watch`` shows): versions, phase, step n/m and what it is, the weight
set and the weight the router (or the Rollout) has, the last analysis with each metric's value, condition and
verdict, how long it has been paused and why, the last events, and the time since the start.

``from_release_state`` reads the Ansible path's ReleaseState (kept beside the router), ``from_rollout`` an
Argo Rollout and its AnalysisRuns; both give the same ``status`` dict, and ``render`` turns it into short
aligned lines with rounded numbers. Pure functions: the module does the reading."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import time

from ansible_collections.progressive.delivery.plugins.module_utils import evidence
from ansible_collections.progressive.delivery.plugins.module_utils.durations import parse_go_duration
from ansible_collections.progressive.delivery.plugins.module_utils.release.state import (
    DEGRADED, FAILED_HELD, HEALTHY, PAUSED, ReleaseState)
from ansible_collections.progressive.delivery.plugins.module_utils.rollouts import REVISION_ANNOTATION, summarize

ANSIBLE, ARGO = "ansible", "argo_rollouts"
LABEL = 10  # width of the names on the left


# --------------------------------------------------------------------------- small readable values
# the words (a number, a duration, a threshold, a step, an event) are the release's own: evidence

def parse_time(text):
    """Epoch seconds of a Kubernetes timestamp (2026-01-01T00:00:00Z, fractions allowed), or None."""
    if not text:
        return None
    try:
        return calendar.timegm(time.strptime(str(text).split(".", 1)[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None


def _step(index, steps, done):
    """Step n/m (1-based, the step in progress) and what it is; past the last step, ``done``."""
    count = len(steps)
    if index is None:
        return {"index": None, "number": None, "count": count, "text": ""}
    if index >= count or done:
        return {"index": index, "number": count, "count": count, "text": "done"}
    return {"index": index, "number": index + 1, "count": count, "text": evidence.step_text(steps[index])}


def _metric(name, value, conditions, verdict):
    """One metric of an analysis: its value, its threshold (evidence.threshold_text: '< 0.05', 'not > 1') and
    its verdict."""
    return {"name": name, "value": evidence.number_text(value), "condition": evidence.threshold_text(conditions),
            "verdict": verdict or ""}


def _status(**fields):
    base = dict(path=None, release=None, namespace=None, router=None, found=True, stable_version=None,
                canary_version=None, phase=None, message="", aborted=False, terminal=False, verdict=None,
                decided_by=None, step={"index": None, "number": None, "count": 0, "text": ""},
                weight={"set": None, "actual": None}, pause=None, analysis=None, history=[], started_at=None,
                elapsed_s=None, observed_at=None, freeze=None)
    base.update(fields)
    return base


# --------------------------------------------------------------------------- Ansible as the controller

def from_release_state(state, release, router, actual_weights, now=None, history=5):
    """The status of an Ansible-controlled release from its state (a dict as the store keeps it, or None)
    and the weights the router serves (stable, canary)."""
    now = time.time() if now is None else now
    st = ReleaseState.from_dict(state)
    if st is None:
        return _status(path=ANSIBLE, release=release, router=router, found=False, terminal=True,
                       message="no release state beside the %s router: not started here" % router,
                       weight={"set": None, "actual": actual_weights[1] if actual_weights else None},
                       observed_at=evidence.iso(now))
    started = (st.events("started") or st.history[:1] or [{}])[0].get("t")
    ended = st.phase == HEALTHY or st.aborted
    phase = DEGRADED if st.aborted else st.phase
    pause = None
    last = st.history[-1] if st.history else {}
    held_at = None
    if st.phase == PAUSED and not st.aborted:
        paused = (st.events("paused") or [{}])[-1]
        if paused.get("reason") == FAILED_HELD:
            # the walker has moved past the failed analysis; the person looks at that step, not the next one
            held_at = paused.get("step")
        pause = {"reason": paused.get("error") or paused.get("reason") or st.message, "by": paused.get("by"),
                 "since": evidence.iso(paused.get("t")), "seconds": round(now - paused["t"], 1) if paused.get("t") else None,
                 "duration_s": None}
    elif last.get("event") == "pause" and not ended:
        # a timed pause of the plan: Progressing, and it ends by itself
        pause = {"reason": "pause step", "by": None, "since": evidence.iso(last["t"]), "seconds": round(now - last["t"], 1),
                 "duration_s": last.get("seconds")}
    analysis = None
    found = st.events("analysis", "guard_tripped")
    if found:
        ev = found[-1]
        conditions = ev.get("conditions") or {}
        phases = ev.get("phases") or ev.get("metric_phases") or {}
        if ev["event"] == "guard_tripped":
            shown = (ev.get("measurements") or [{}])[-1]
            metrics = [_metric(ev.get("metric"), shown.get("value"), conditions.get(ev.get("metric")) or {},
                               shown.get("phase") or "Failed")]
            run_phase, message, name = "Failed", "guard tripped", "guard"
        else:
            values = ev.get("values") or {}
            metrics = [_metric(m, values.get(m), conditions.get(m) or {}, phases.get(m))
                       for m in sorted(set(values) | set(conditions))]
            run_phase, message = ev.get("phase"), ev.get("message", "")
            name = "step %d/%d" % (ev["step"] + 1, len(st.steps)) if ev.get("step") is not None else "analysis"
        analysis = {"name": name, "phase": run_phase, "message": message, "at": ev.get("at"),
                    "ago_s": round(now - ev["t"], 1) if ev.get("t") else None, "metrics": metrics}
    # the release's own timeline lines (evidence.event_text)
    events = [{"at": ev.get("at"), "t": ev.get("t"), "text": evidence.event_text(ev)} for ev in st.history]
    events = events[-history:] if history else []
    weight = {"set": 0 if st.aborted else st.canary_weight, "actual": actual_weights[1] if actual_weights else None}
    measured = (st.events("traffic") or [{}])[-1]
    if measured.get("canary_share") is not None and measured.get("weight") == weight["set"] and not ended:
        # the split measured over the last pause at this weight (a release with a traffic query)
        weight.update(measured=round(100 * measured["canary_share"], 1), requests=measured.get("requests"))
    return _status(
        path=ANSIBLE, release=st.release or release, router=st.router or router,
        stable_version=st.previous_stable, canary_version=st.canary_version, phase=phase, message=st.message,
        aborted=bool(st.aborted), terminal=ended, verdict=st.verdict, decided_by=st.decided_by(),
        step=_step(held_at if held_at is not None else st.step_index, st.steps, st.phase == HEALTHY),
        weight=weight, pause=pause,
        analysis=analysis, history=events, started_at=evidence.iso(started),
        elapsed_s=round(((last.get("t") if ended else None) or now) - started, 1) if started else None,
        observed_at=evidence.iso(now))


# --------------------------------------------------------------------------- Argo Rollouts

def _created(obj):
    return parse_time((obj.get("metadata") or {}).get("creationTimestamp")) or 0


def _analysis_of(run, now):
    spec_metrics = dict((m.get("name"), m) for m in (run.get("spec") or {}).get("metrics") or [])
    status = run.get("status") or {}
    metrics = []
    for result in status.get("metricResults") or []:
        m = spec_metrics.get(result.get("name")) or {}
        last = (result.get("measurements") or [{}])[-1]
        conditions = {"success": m.get("successCondition"), "failure": m.get("failureCondition")}
        metrics.append(_metric(result.get("name"), last.get("value"), conditions, result.get("phase")))
    for name in sorted(set(spec_metrics) - set(r.get("name") for r in status.get("metricResults") or [])):
        m = spec_metrics[name]
        metrics.append(_metric(name, None, {"success": m.get("successCondition"),
                                            "failure": m.get("failureCondition")}, "Pending"))
    at = parse_time(status.get("completedAt")) or parse_time(status.get("startedAt")) or _created(run)
    return {"name": (run.get("metadata") or {}).get("name"), "phase": status.get("phase") or "Pending",
            "message": status.get("message", ""), "at": evidence.iso(at) if at else None,
            "ago_s": round(now - at, 1) if at else None, "metrics": metrics}


def _rollout_history(ro, runs, now, history):
    status = ro.get("status") or {}
    found = []
    for cond in status.get("conditions") or []:
        t = parse_time(cond.get("lastTransitionTime") or cond.get("lastUpdateTime"))
        text = "%s %s" % (cond.get("type"), cond.get("reason") or cond.get("status"))
        if cond.get("message"):
            text += ": %s" % cond["message"]
        found.append((t, text))
    for cond in status.get("pauseConditions") or []:
        found.append((parse_time(cond.get("startTime")), "paused: %s" % cond.get("reason")))
    for run in runs:
        name = (run.get("metadata") or {}).get("name")
        found.append((parse_time((run.get("status") or {}).get("startedAt")) or _created(run) or None,
                      "analysis %s started" % name))
        done = parse_time((run.get("status") or {}).get("completedAt"))
        if done:
            found.append((done, "analysis %s %s" % (name, (run.get("status") or {}).get("phase"))))
    if status.get("abortedAt"):
        found.append((parse_time(status["abortedAt"]), "aborted"))
    found = sorted((f for f in found if f[0]), key=lambda f: f[0])
    return [{"at": evidence.iso(t), "t": t, "text": text} for t, text in found[-history:]] if history else []


def _version(images):
    if not images:
        return None
    return ", ".join(image for _name, image in sorted(images.items())) if len(images) > 1 \
        else next(iter(images.values()))


def from_rollout(ro, replicasets=(), analysisruns=(), now=None, history=5):
    """The status of an Argo Rollout (the rollouts.summarize of kubectl argo rollouts get, read further:
    the step's AnalysisRun with each metric's value and condition, the pause and the events)."""
    now = time.time() if now is None else now
    s = summarize(ro, replicasets, analysisruns)
    status = ro.get("status") or {}
    meta = ro.get("metadata") or {}
    revision = (meta.get("annotations") or {}).get(REVISION_ANNOTATION)
    runs = [r for r in analysisruns
            if not revision or ((r.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
            in (None, revision)]
    runs.sort(key=_created)
    canary = status.get("canary") or {}
    wanted = [(canary.get(k) or {}).get("name") for k in ("currentStepAnalysisRunStatus",
                                                          "currentBackgroundAnalysisRunStatus")]
    chosen = [r for name in wanted if name for r in runs if (r.get("metadata") or {}).get("name") == name]
    analysis = _analysis_of((chosen or runs[-1:] or [None])[0], now) if (chosen or runs) else None
    steps = (((ro.get("spec") or {}).get("strategy") or {}).get("canary") or {}).get("steps") or []
    phase, message = s["status"], s["message"]
    terminal = phase == "Healthy" and s["fully_promoted"] or phase == "Degraded"
    pause = None
    if phase == "Paused":
        if s["paused"]:
            pause = {"reason": "manually paused (spec.paused)", "by": None, "since": None, "seconds": None,
                     "duration_s": None}
        conditions = s["pause_conditions"]
        if conditions:
            since = parse_time(conditions[0].get("startTime"))
            step = steps[s["current_step_index"]] if s["current_step_index"] is not None and \
                s["current_step_index"] < len(steps) else {}
            length = ((step.get("pause") or {}).get("duration")) if "pause" in step else None
            try:
                length = parse_go_duration(str(length)) if isinstance(length, str) else length
            except ValueError:
                length = None
            pause = {"reason": conditions[0].get("reason"), "by": "controller", "since": evidence.iso(since),
                     "seconds": round(now - since, 1) if since else None, "duration_s": length}
    canary_rs = [rs for rs in replicasets
                 if ((rs.get("metadata") or {}).get("labels") or {}).get("rollouts-pod-template-hash")
                 == s["canary_hash"]]
    started = _created(canary_rs[0]) if canary_rs else (_created(runs[0]) if runs else None)
    verdict = "promoted" if phase == "Healthy" and s["fully_promoted"] else "rolled_back" if s["aborted"] \
        else "paused" if phase == "Paused" else "in_progress"
    decided_by = None
    if s["aborted"]:
        decided_by = "analysis" if "analysis" in message.lower() else "a person or the controller"
    elif verdict == "promoted":
        decided_by = "plan"
    weight = {"set": s["set_weight"], "actual": s["actual_weight"]}
    if verdict == "promoted":  # the canary's ReplicaSet is stable and has all the traffic (Argo sets the canary 0)
        weight = {"set": 100, "actual": 100}
    events = _rollout_history(ro, runs, now, history)
    # ended: as long as up to its last event (the promotion or the abort), when there is one after the start
    ended_at = max([ev["t"] for ev in events if started and ev["t"] > started] or [now]) if terminal else now
    return _status(
        path=ARGO, release=meta.get("name"), namespace=meta.get("namespace"),
        stable_version=_version(s["stable_images"]) or (s["stable_hash"] and "stable %s" % s["stable_hash"]),
        canary_version=_version(s["canary_images"]), phase=phase, message=message, aborted=s["aborted"],
        terminal=bool(terminal), verdict=verdict, decided_by=decided_by,
        step=_step(s["current_step_index"], steps, bool(terminal and phase == "Healthy")),
        weight=weight, pause=pause, analysis=analysis, history=events,
        started_at=evidence.iso(started) if started else None,
        elapsed_s=round(ended_at - started, 1) if started else None, observed_at=evidence.iso(now))


# --------------------------------------------------------------------------- the view

def headline(status):
    """One line: release, versions, phase, step, weight."""
    parts = [status["release"] or "?"]
    if status["canary_version"] and status["canary_version"] == status["stable_version"]:
        parts.append(status["canary_version"])
    elif status["canary_version"]:
        parts.append("%s -> %s" % (status["stable_version"] or "?", status["canary_version"]))
    parts.append(status["phase"] or "not started")
    step = status["step"]
    if step["count"]:
        parts.append("step %s/%d" % (step["number"] if step["number"] is not None else "-", step["count"]))
    if status["weight"]["set"] is not None:
        parts.append("weight %s%%" % status["weight"]["set"])
    return "  ".join(parts)


def _row(name, text):
    return ("%-*s %s" % (LABEL, name, text)).rstrip()


def render(status):
    """The view, short aligned lines."""
    where = status["namespace"] and "%s/%s" % (status["namespace"], status["release"]) or status["release"]
    how = "Argo Rollouts" if status["path"] == ARGO else "%s router" % (status["router"] or "?")
    lines = [_row("release", "%s (%s)" % (where, how))]
    if not status["found"]:
        return lines + [_row("phase", status["message"])]
    if status["canary_version"] and status["stable_version"] == status["canary_version"]:
        lines.append(_row("versions", "%s (stable)" % status["canary_version"]))
    elif status["canary_version"]:
        lines.append(_row("versions", "%s -> %s" % (status["stable_version"] or "?", status["canary_version"])))
    phase = status["phase"] or "?"
    if status["message"] and status["message"] not in phase:
        phase += " - %s" % status["message"]
    lines.append(_row("phase", phase))
    step = status["step"]
    if step["count"]:
        lines.append(_row("step", "%s/%d  %s" % (step["number"] if step["number"] is not None else "-",
                                                 step["count"], step["text"])))
    w = status["weight"]
    if w["set"] is not None or w["actual"] is not None:
        text = "set %s  actual %s" % ("-" if w["set"] is None else "%s%%" % w["set"],
                                      "-" if w["actual"] is None else "%s%%" % w["actual"])
        if w.get("measured") is not None:
            text += "  measured %s%% of %s requests" % (w["measured"], w.get("requests"))
        lines.append(_row("weight", text))
    p = status["pause"]
    if p:
        text = "paused for %s" % evidence.duration_text(p["seconds"]) if p["seconds"] is not None else "paused"
        if p["duration_s"]:
            text += " of %s" % evidence.duration_text(p["duration_s"])
        text += "  %s" % (p["reason"] or "")
        if p["by"]:
            text += " (by %s)" % p["by"]
        lines.append(_row("pause", text.rstrip()))
    a = status["analysis"]
    if a:
        text = "%s  %s" % (a["phase"], a["name"] or "")
        if a["ago_s"] is not None:
            text += "  %s ago" % evidence.duration_text(a["ago_s"])
        lines.append(_row("analysis", text))
        width = max([len(m["name"] or "") for m in a["metrics"]] + [4])
        vwidth = max([len(m["value"]) for m in a["metrics"]] + [1])
        cwidth = max([len(m["condition"]) for m in a["metrics"]] + [1])
        for m in a["metrics"]:  # name, value, threshold, verdict
            lines.append(("  %-*s  %-*s  %-*s  %s" % (width, m["name"], vwidth, m["value"], cwidth, m["condition"],
                                                      m["verdict"])).rstrip())
        if a["message"] and a["phase"] not in ("Successful", "Running"):
            lines.append("  " + a["message"])
    if status["history"]:
        lines.append("history")
        for ev in status["history"]:
            lines.append("  %s  %s" % (evidence.clock(ev.get("t") if ev.get("t") is not None else parse_time(ev.get("at"))),
                                       ev["text"]))
    if status.get("freeze"):
        f = status["freeze"]
        lines.append(_row("freeze", "'%s' until %s" % (f["reason"], f["end"])))
    if status["elapsed_s"] is not None:
        lines.append(_row("started", "%s ago" % evidence.duration_text(status["elapsed_s"]) if not status["terminal"]
                          else "%s, took %s" % (status["started_at"], evidence.duration_text(status["elapsed_s"]))))
    if status["terminal"]:
        lines.append(_row("verdict", "%s%s" % (status["verdict"], " (decided by %s)" % status["decided_by"]
                                               if status["decided_by"] else "")))
    return lines
