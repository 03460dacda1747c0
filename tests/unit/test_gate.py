"""The analysis gate: one argument spec (validated by Ansible's own ArgumentSpecValidator), one object built
from a module's parameters, the same warning for undeclared arguments, and a release gated on a web metric."""

import types

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.progressive.delivery.plugins.module_utils import controller, gate, release as rel
from ansible_collections.progressive.delivery.plugins.module_utils.analysis import AnalysisSpecError
from test_release import MemoryRouter
from webserver import WebServer


def validated(spec, params):
    result = ArgumentSpecValidator(spec).validate(params)
    assert not result.error_messages, result.error_messages
    return result


def test_the_gate_spec_has_the_same_names_and_choices_everywhere():
    spec = gate.gate_argument_spec()
    assert spec["on_empty"]["choices"] == ["fail", "argo"] and spec["on_empty"]["default"] == "fail"
    assert spec["namespace"]["default"] == "default"
    assert "prometheus_url" in spec and spec["prometheus_token"]["no_log"] is True
    # router_release's options are the gate's options
    release_spec = controller.argument_spec()
    for name in ("namespace", "max_duration", "on_empty", "prometheus_url"):
        assert release_spec[name] == spec[name]
    assert release_spec["analysis"]["options"] == gate.ANALYSIS_SOURCE_SPEC


def test_the_former_names_still_work_with_a_deprecation():
    result = validated(gate.gate_argument_spec(), {"analysis_namespace": "shop", "analysis_max_duration": "5m"})
    params = result.validated_parameters
    assert params["namespace"] == "shop" and params["max_duration"] == "5m"
    deprecated = sorted(d["msg"] for d in result._deprecations)
    assert len(deprecated) == 2 and all("2.0.0" == d["version"] for d in result._deprecations)
    assert "analysis_max_duration" in deprecated[0] and "analysis_namespace" in deprecated[1]


def test_an_on_empty_outside_the_choices_is_refused():
    result = ArgumentSpecValidator(gate.gate_argument_spec()).validate({"on_empty": "pass"})
    assert "on_empty" in result.error_messages[0]


def test_from_params_builds_one_gate():
    params = validated(gate.gate_argument_spec(), {"namespace": "shop", "max_duration": "90s", "on_empty": "argo",
                                                   "prometheus_url": "http://u:pw@prom:9090"}).validated_parameters
    g = gate.Gate.from_params(params, connect=lambda: None)
    assert g.cluster.namespace == "shop" and g.max_duration == 90.0 and g.on_empty == "argo"
    assert g.providers.get("prometheus").url == "http://u:pw@prom:9090"
    assert "pw" in g.secrets()
    with pytest.raises(AnalysisSpecError) as info:
        gate.Gate.from_params(dict(params, max_duration="soon"), connect=lambda: None)
    assert str(info.value).startswith("max_duration: ")


def template(url):
    return {"args": [{"name": "canary-version"}],
            "metrics": [{"name": "health", "successCondition": "result == true",
                         "provider": {"web": {"url": url + "/health/{{args.canary-version}}", "jsonPath": "$.ok"}}}]}


def test_undeclared_arguments_give_the_same_warning_once():
    warnings = []
    with WebServer() as server:
        server.routes["/health/v2"] = (200, {"ok": True})
        g = gate.Gate.from_params(validated(gate.gate_argument_spec(), {}).validated_parameters, lambda: None,
                                  warn=warnings.append)
        source = {"template": template(server.url), "args": {"canary-version": "v2", "colour": "blue"}}
        assert g.run(source, where="analysis_check").phase == "Successful"
        assert g.run(source, where="analysis_check").phase == "Successful"
    assert warnings == [gate.undeclared_warning("analysis_check", "colour")]
    assert warnings[0] == ("analysis_check: argument 'colour' is not declared by the template and is ignored, "
                           "as in Argo Rollouts")


def test_a_release_gated_on_a_web_metric_gives_argo_verdicts():
    warnings = []
    with WebServer() as server:
        server.routes["/health/v2"] = (200, {"ok": True})
        server.routes["/health/v3"] = (200, {"ok": False})
        params = validated(controller.argument_spec(), {
            "release": "checkout", "router": "nginx", "analysis": {"template": template(server.url)},
            "analysis_max_duration": "30s"}).validated_parameters
        module = types.SimpleNamespace(params=params, warn=warnings.append)
        plan = [{"setWeight": 20}, {"analysis": {}}, {"setWeight": 60}]
        good = rel.Release(MemoryRouter(), plan, "canary", analyze=controller.Gate(module))
        good.begin("v1", "v2")
        assert good.run().phase == rel.HEALTHY
        bad = rel.Release(MemoryRouter(), plan, "canary", analyze=controller.Gate(module))
        bad.begin("v1", "v3")
        state = bad.run()
        assert state.phase == rel.DEGRADED
        assert 'Metric "health" assessed Failed due to failed (1) > failureLimit (0)' in state.message
    assert [r["path"] for r in server.requests] == ["/health/v2", "/health/v3"]


def test_the_template_source_options_are_documented_alike_in_every_place():
    """The fragment writes them out for each module (ansible-test wants literals): the copies say the same."""
    import yaml
    from ansible_collections.progressive.delivery.plugins.doc_fragments.analysis_gate import ModuleDocFragment
    top = yaml.safe_load(ModuleDocFragment.SOURCE)["options"]
    nested = [yaml.safe_load(ModuleDocFragment.ANALYSIS)["options"]["analysis"]["suboptions"]]
    promotion = yaml.safe_load(ModuleDocFragment.PROMOTION)["options"]
    nested += [promotion[k]["suboptions"] for k in ("pre_promotion_analysis", "post_promotion_analysis")]

    def bare(value, prefix):
        if isinstance(value, dict):
            return dict((k, bare(v, prefix)) for k, v in value.items())
        if isinstance(value, list):
            return [bare(v, prefix) for v in value]
        return value.replace(prefix, "") if isinstance(value, str) else value
    for options, prefix in zip(nested, ("analysis.", "pre_promotion_analysis.", "post_promotion_analysis.")):
        assert bare(options, prefix) == top
