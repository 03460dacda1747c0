"""rollout_lint: one test a rule, each finding's rule, object, path and fix; a clean canary is clean."""

import copy

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils import lint

GOOD_QUERY = ('sum(rate(http_requests_total{pod=~".*-{{args.canary-hash}}-.*",code!~"5.."}[2m])) / '
              'sum(rate(http_requests_total{pod=~".*-{{args.canary-hash}}-.*"}[2m]))')


def template(name="success-rate", **metric):
    m = {"name": name, "interval": "30s", "count": 5, "failureLimit": 2,
         "successCondition": "len(result) > 0 && !isNaN(result[0]) && result[0] >= 0.99",
         "provider": {"prometheus": {"query": GOOD_QUERY}}}
    m.update(metric)
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": name},
            "spec": {"args": [{"name": "canary-hash"}], "metrics": [m]}}


def rollout(steps=None, **canary):
    analysis = {"templates": [{"templateName": "success-rate"}],
                "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]}
    strategy = {"steps": steps if steps is not None else [
        {"setWeight": 10}, {"pause": {"duration": "30s"}}, {"analysis": copy.deepcopy(analysis)},
        {"setWeight": 50}, {"pause": {"duration": "1m"}}, {"analysis": copy.deepcopy(analysis)}, {"setWeight": 100}],
        "abortScaleDownDelaySeconds": 30}
    strategy.update(canary)
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "checkout"},
            "spec": {"replicas": 4, "strategy": {"canary": strategy},
                     "template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}


def rules(findings):
    return sorted(f["rule"] for f in findings)


def test_a_production_grade_canary_is_clean():
    assert lint.lint([rollout(), template()], p99_seconds=1.0) == []


def test_no_analysis():
    findings = lint.lint([rollout(steps=[{"setWeight": 20}, {"pause": {}}, {"setWeight": 100}])])
    assert rules(findings) == ["no-analysis"]
    f = findings[0]
    assert f["object"] == "Rollout/checkout" and f["path"] == "spec.strategy.canary.steps"
    assert f["severity"] == "error" and "analysis step" in f["fix"]
    # background analysis counts
    background = rollout(steps=[{"setWeight": 20}, {"setWeight": 100}],
                         analysis={"templates": [{"templateName": "success-rate"}]})
    assert lint.lint([background, template()]) == []


@pytest.mark.parametrize("condition", [
    "all(result, {# >= 0.99})",          # true for an empty vector
    "!(result[0] < 0.99)",                # true for NaN: NaN < x is false
    "none(result, {# < 0.99})",
])
def test_empty_result_passes(condition):
    findings = lint.lint([rollout(), template(successCondition=condition)])
    assert rules(findings) == ["empty-result-passes"]
    assert findings[0]["path"] == "spec.metrics[0].successCondition"
    assert "len(result) > 0" in findings[0]["fix"]


def test_empty_result_errors_is_a_warning():
    findings = lint.lint([rollout(), template(successCondition="result[0] >= 0.99")])
    assert rules(findings) == ["empty-result-errors"] and findings[0]["severity"] == "warning"


def test_a_failure_condition_alone_that_stays_false_on_no_data_passes_it():
    findings = lint.lint([rollout(), template(successCondition=None, failureCondition="any(result, {# > 0.01})")])
    assert rules(findings) == ["empty-result-passes"]


def test_unscoped_query_averages_canary_with_stable():
    findings = lint.lint([rollout(), template(provider={"prometheus": {
        "query": 'sum(rate(http_requests_total{service="checkout",code!~"5.."}[2m])) / '
                 'sum(rate(http_requests_total{service="checkout"}[2m]))'}})])
    assert rules(findings) == ["unscoped-query"]
    assert findings[0]["path"] == "spec.metrics[0].provider.prometheus.query"
    # an argument the Rollout fills with the pod-template hash scopes it, whatever its name
    tpl = template(provider={"prometheus": {"query": 'up{rs="{{args.latest}}"}'}})
    ro = rollout()
    ro["spec"]["strategy"]["canary"]["steps"][2]["analysis"]["args"] = [
        {"name": "latest", "valueFrom": {"podTemplateHashValue": "Latest"}}]
    assert "unscoped-query" not in rules(lint.lint([ro, tpl]))


def test_low_failure_limit():
    findings = lint.lint([rollout(), template(failureLimit=1)])
    assert rules(findings) == ["low-failure-limit"] and findings[0]["path"] == "spec.metrics[0].failureLimit"
    no_limit = template()
    del no_limit["spec"]["metrics"][0]["failureLimit"]
    assert rules(lint.lint([rollout(), no_limit])) == ["low-failure-limit"]  # Argo's default is 0


def test_missing_template():
    findings = lint.lint([rollout()])
    assert rules(findings) == ["missing-template", "missing-template"]
    assert findings[0]["path"] == "spec.strategy.canary.steps[2].analysis.templates[0].templateName"
    assert lint.lint([rollout()], known_templates=["success-rate"]) == []
    cluster = rollout()
    cluster["spec"]["strategy"]["canary"]["steps"][2]["analysis"]["templates"] = [{"clusterTemplateName": "slo"}]
    found = lint.lint([cluster, template()])
    assert [f["path"] for f in found] == ["spec.strategy.canary.steps[2].analysis.templates[0].clusterTemplateName"]
    assert "ClusterAnalysisTemplate 'slo'" in found[0]["message"]
    assert lint.lint([cluster, template()], known_templates=["ClusterAnalysisTemplate/slo"]) == []


def test_short_abort_scale_down_against_the_stated_p99():
    assert rules(lint.lint([rollout(abortScaleDownDelaySeconds=3), template()], p99_seconds=2.0)) == [
        "short-abort-scale-down"]
    assert lint.lint([rollout(abortScaleDownDelaySeconds=4), template()], p99_seconds=2.0) == []
    annotated = rollout(abortScaleDownDelaySeconds=10)
    annotated["metadata"]["annotations"] = {lint.P99_ANNOTATION: "6"}
    finding = lint.lint([annotated, template()])[0]
    assert finding["rule"] == "short-abort-scale-down" and finding["fix"] == "set it to at least 12"
    assert lint.lint([rollout(abortScaleDownDelaySeconds=3), template()]) == []  # no p99 stated: not judged


def bluegreen(**strategy):
    ro = rollout()
    ro["spec"]["strategy"] = {"blueGreen": dict({"activeService": "a", "previewService": "p"}, **strategy)}
    ro["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}]
    return ro


def test_stateful_blue_green_needs_a_person():
    assert rules(lint.lint([bluegreen()])) == ["stateful-auto-promotion"]
    assert rules(lint.lint([bluegreen(autoPromotionEnabled=True)])) == ["stateful-auto-promotion"]
    assert lint.lint([bluegreen(autoPromotionEnabled=False)]) == []
    stateless = bluegreen()
    del stateless["spec"]["template"]["spec"]["volumes"]
    assert lint.lint([stateless]) == []
    stateless["metadata"]["annotations"] = {lint.STATEFUL_ANNOTATION: "true"}
    assert rules(lint.lint([stateless])) == ["stateful-auto-promotion"]


def test_weights_must_increase():
    steps = copy.deepcopy(rollout()["spec"]["strategy"]["canary"]["steps"])
    steps[3] = {"setWeight": 10}
    findings = lint.lint([rollout(steps=steps), template()])
    assert rules(findings) == ["weights-not-increasing"]
    assert findings[0]["path"] == "spec.strategy.canary.steps[3].setWeight"


def test_every_rule_is_tested_here():
    import sys
    source = open(sys.modules[__name__].__file__).read()
    assert all(rule in source for rule in lint.RULES)


# ---------------------------------------------------------------- a plan's detection bound (issue 13)

GUIDE_TEMPLATE = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "slo"},
                  "spec": {"metrics": [
                      {"name": "success-rate", "interval": "60s", "count": 5, "failureLimit": 2,
                       "successCondition": "len(result) > 0 && result[0] >= 0.999",
                       "provider": {"prometheus": {"query": "x{rollouts_pod_template_hash=\"{{args.h}}\"}"}}},
                      {"name": "latency-p99", "interval": "60s", "count": 5, "failureLimit": 2, "initialDelay": "30s",
                       "successCondition": "len(result) > 0 && result[0] < 0.5",
                       "provider": {"prometheus": {"query": "y{rollouts_pod_template_hash=\"{{args.h}}\"}"}}}]}}
GUIDE_STEPS = [{"setWeight": 10}, {"pause": {"duration": "5m"}}, {"analysis": {"templates": [{"templateName": "slo"}]}},
               {"setWeight": 25}, {"pause": {"duration": "5m"}}, {"analysis": {"templates": [{"templateName": "slo"}]}}]


def guide_rollout(background=False):
    canary = {"steps": GUIDE_STEPS}
    if background:
        canary["analysis"] = {"templates": [{"templateName": "guard"}]}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "checkout"},
            "spec": {"strategy": {"canary": canary}}}


def test_the_guides_plan_is_flagged_and_its_bound_is_the_pause_and_three_failed_minutes():
    bounds = {}
    found = lint.lint([guide_rollout(), GUIDE_TEMPLATE], bounds=bounds)
    slow = [f for f in found if f["rule"] == "slow-detection"]
    assert len(slow) == 1 and slow[0]["severity"] == "warning" and "510s" in slow[0]["message"]
    # 5 min of pause, then the slowest metric: 30 s initialDelay + 60 s x (2 + 1)
    assert bounds == {"Rollout/checkout": 510.0}


def test_a_background_analysis_or_the_guard_brings_the_bound_under_the_target():
    guard = {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": "guard"},
             "spec": {"metrics": [{"name": "errors", "interval": "10s", "failureLimit": 1,
                                   "successCondition": "len(result) > 0 && result[0] < 0.01",
                                   "provider": {"prometheus": {"query": "z{rollouts_pod_template_hash=\"{{args.h}}\"}"}}}]}}
    bounds = {}
    found = lint.lint([guide_rollout(background=True), GUIDE_TEMPLATE, guard], bounds=bounds)
    assert not [f for f in found if f["rule"] == "slow-detection"] and bounds["Rollout/checkout"] == 20.0
    plans = [{"name": "guarded", "steps": GUIDE_STEPS, "guard": {"interval": "15s", "failures": 2}},
             {"name": "unguarded", "steps": GUIDE_STEPS, "guard": {"enabled": False}},
             {"name": "held", "steps": [{"setWeight": 10}, {"pause": {}}, {"analysis": {}}], "guard": {"enabled": False}}]
    bounds = {}
    found = lint.lint([GUIDE_TEMPLATE], release_plans=plans, bounds=bounds)
    assert bounds["ReleasePlan/guarded"] == 30.0 and bounds["ReleasePlan/unguarded"] == 510.0
    assert bounds["ReleasePlan/held"] == float("inf")
    flagged = sorted(f["object"] for f in found if f["rule"] == "slow-detection")
    assert flagged == ["ReleasePlan/held", "ReleasePlan/unguarded"]


# ---------------------------------------------------------------- setMirrorRoute (issue 17)

ISTIO_ROUTING = {"managedRoutes": [{"name": "dark"}],
                 "istio": {"virtualService": {"name": "checkout", "routes": ["primary"]}}}


def mirroring(steps=None, routing=None):
    analysis = {"templates": [{"templateName": "success-rate"}],
                "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]}
    if steps is None:
        steps = [{"setMirrorRoute": {"name": "dark", "percentage": 50,
                                     "match": [{"method": {"exact": "GET"}}, {"method": {"exact": "HEAD"}}]}},
                 {"pause": {"duration": "1m"}}, {"analysis": copy.deepcopy(analysis)},
                 {"setMirrorRoute": {"name": "dark"}}]
        steps += rollout()["spec"]["strategy"]["canary"]["steps"]
    return rollout(steps=steps, trafficRouting=copy.deepcopy(ISTIO_ROUTING if routing is None else routing),
                   analysis=None)


def mirror_findings(docs, **options):
    """The setMirrorRoute findings only (these short plans have others: slow-detection)."""
    return [f for f in lint.lint(docs, **options) if f["rule"].startswith("mirror")]


def test_a_mirror_of_get_and_head_removed_before_the_first_weight_is_clean():
    assert lint.lint([mirroring(), template()], p99_seconds=1.0) == []


def test_a_mirror_name_not_in_managed_routes_is_an_error():
    findings = lint.lint([mirroring(routing={"istio": ISTIO_ROUTING["istio"]}), template()])
    assert rules(findings) == ["mirror-not-managed", "mirror-not-managed"]  # the step that sets it, the removal
    f = findings[0]
    assert f["severity"] == "error" and f["path"] == "spec.strategy.canary.steps[0].setMirrorRoute.name"
    assert "{name: dark}" in f["fix"] and "managedRoutes" in f["fix"]


@pytest.mark.parametrize("routing,rule,severity", [
    ({"managedRoutes": [{"name": "dark"}], "nginx": {"stableIngress": "checkout"}}, "mirror-unsupported-router",
     "error"),
    ({"managedRoutes": [{"name": "dark"}], "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "checkout"}}},
     "mirror-plugin", "info"),
])
def test_a_mirror_needs_a_traffic_router_that_copies(routing, rule, severity):
    findings = lint.lint([mirroring(routing=routing), template()])
    assert rules(findings) == [rule] and findings[0]["severity"] == severity
    assert findings[0]["path"] == "spec.strategy.canary.steps[0].setMirrorRoute"
    if rule == "mirror-unsupported-router":
        assert "trafficRouting.nginx" in findings[0]["message"] and "istio" in findings[0]["fix"]
    no_routing = mirroring()
    del no_routing["spec"]["strategy"]["canary"]["trafficRouting"]
    assert "mirror-unsupported-router" in rules(lint.lint([no_routing, template()]))


@pytest.mark.parametrize("match,copied", [
    ([], "POST/PUT/PATCH/DELETE/CONNECT"),                        # an empty match copies every method
    ([{"method": {"exact": "GET"}}, {"method": {"exact": "POST"}}], "POST"),
    ([{"path": {"prefix": "/api"}}], "POST/PUT/PATCH/DELETE/CONNECT"),  # an entry without a method: all of them
    ([{"method": {"prefix": "P"}}], "POST/PUT/PATCH"),
    ([{"method": {"regex": "GET|DELETE"}}], "DELETE"),
])
def test_a_mirror_that_copies_writes_is_a_warning_naming_the_step(match, copied):
    steps = [{"setMirrorRoute": {"name": "dark", "match": match}},
             {"analysis": {"templates": [{"templateName": "success-rate"}]}}, {"setMirrorRoute": {"name": "dark"}},
             {"setWeight": 100}]
    findings = mirror_findings([mirroring(steps), template()])
    assert rules(findings) == ["mirror-writes"]
    f = findings[0]
    assert f["severity"] == "warning" and f["path"] == "spec.strategy.canary.steps[0].setMirrorRoute.match"
    assert ("copies %s requests" % copied) in f["message"] and "a second time" in f["message"]
    assert "{method: {exact: GET}}" in f["fix"]
    safe = [{"method": {"regex": "GET|HEAD"}}]
    steps[0]["setMirrorRoute"]["match"] = safe
    assert mirror_findings([mirroring(steps), template()]) == []


def test_a_percentage_without_match_removes_the_mirror_in_argo_a_warning():
    steps = [{"setMirrorRoute": {"name": "dark", "percentage": 20}},
             {"analysis": {"templates": [{"templateName": "success-rate"}]}}, {"setWeight": 100}]
    findings = mirror_findings([mirroring(steps), template()])
    assert rules(findings) == ["mirror-without-match"] and findings[0]["severity"] == "warning"
    assert "removes the mirror route" in findings[0]["message"] and "percentage" in findings[0]["message"]


def test_a_mirror_never_removed_is_said_as_info():
    steps = [{"setMirrorRoute": {"name": "dark", "match": [{"method": {"exact": "GET"}}]}},
             {"analysis": {"templates": [{"templateName": "success-rate"}]}}, {"setWeight": 100}]
    findings = mirror_findings([mirroring(steps), template()])
    assert rules(findings) == ["mirror-not-removed"] and findings[0]["severity"] == "info"
    assert "Argo Rollouts removes" in findings[0]["message"]


def test_a_release_plan_that_mirrors_writes_is_a_warning():
    plan = {"name": "dark", "steps": [
        {"setMirrorRoute": {"name": "dark", "match": [{"method": {"exact": "GET"}}, {"method": {"exact": "PUT"}}]}},
        {"setMirrorRoute": {"name": "dark"}}, {"setWeight": 100}]}
    findings = mirror_findings([], release_plans=[plan])
    assert rules(findings) == ["mirror-writes"] and findings[0]["object"] == "ReleasePlan/dark"
    assert findings[0]["path"] == "steps[0].setMirrorRoute.match" and "PUT" in findings[0]["message"]
    plan["steps"][0]["setMirrorRoute"].pop("match")  # on the Ansible-controlled path: GET and HEAD
    assert mirror_findings([], release_plans=[plan]) == []
