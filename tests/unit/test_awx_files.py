"""Everything in awx/ imports into AWX as is (issue 14 item 6).

Each awx.awx task of every file in awx/ is rendered as Ansible would render it and validated against the
awx.awx module's own argument_spec (taken from the module in the venv's ansible package, not re-typed), then
against what AWX itself checks on import: survey specs (awx/api/views JobTemplateSurveySpec._validate_spec_data),
credential type inputs and injectors (awx/main/fields.py CredentialTypeInputField / CredentialTypeInjectorField:
the JSON schema, reserved and blocked names, and the injector templates rendered in AWX's sandbox against the
declared inputs only), workflow nodes (the module's documented node options, unique identifiers, links to nodes
that exist, approval nodes with a timeout, no cycles), and schedule rrules (AWX's validate_rrule rules, parsed by
dateutil, with runs left).
"""

import datetime
import json
import os
import re
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AWX_DIR = os.path.join(ROOT, "awx")
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

import harness  # noqa: E402

harness.ensure_collection_path()

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible.parsing.dataloader import DataLoader  # noqa: E402
from ansible.template import Templar  # noqa: E402

# The values the import playbooks are rendered with, beyond awx/defaults.yml: a release names the watch schedule.
TEST_VARS = {"awx_watch_release": "checkout"}

# awx/main/constants.py ENV_BLOCKLIST: variables a credential may not inject (ANSIBLE_* are refused too)
ENV_BLOCKLIST = frozenset((
    "VIRTUAL_ENV", "PATH", "PYTHONPATH", "PROOT_TMP_DIR", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID",
    "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES", "CALLBACK_QUEUE",
    "CALLBACK_CONNECTION", "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS", "AWX_HOST", "PROJECT_REVISION",
    "SUPERVISOR_WEB_CONFIG_PATH"))

# awx/main/fields.py CredentialTypeInputField.schema and CredentialTypeInjectorField.schema
INPUTS_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "required": {"type": "array", "items": {"type": "string"}},
        "fields": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["id", "label"],
            "properties": {
                "type": {"enum": ["string", "boolean"]},
                "format": {"enum": ["ssh_private_key", "url"]},
                "choices": {"type": "array", "minItems": 1, "items": {"type": "string"}, "uniqueItems": True},
                "id": {"type": "string", "pattern": "^[a-zA-Z_]+[a-zA-Z0-9_]*$"},
                "label": {"type": "string"}, "help_text": {"type": "string"}, "multiline": {"type": "boolean"},
                "secret": {"type": "boolean"}, "ask_at_runtime": {"type": "boolean"}, "default": {}}}}}}
INJECTORS_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "file": {"type": "object", "additionalProperties": False,
                 "patternProperties": {r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$": {"type": "string"}}},
        "env": {"type": "object", "additionalProperties": False,
                "patternProperties": {"^[a-zA-Z_]+[a-zA-Z0-9_]*$": {"type": "string", "pattern": "^[\x00-\x7F]*$"}}},
        "extra_vars": {"type": "object", "additionalProperties": False,
                       "patternProperties": {"^[a-zA-Z_]+[a-zA-Z0-9_]*$": {"type": "string"}}}}}

# awx/api/views JobTemplateSurveySpec.ALLOWED_TYPES: question type -> the Python type of its default
SURVEY_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
                "integer": int, "float": float}

VARIABLE_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


# --- loading and rendering -----------------------------------------------------------------------------------

def awx_files():
    found = []
    for folder, _dirs, files in os.walk(AWX_DIR):
        found += [os.path.join(folder, f) for f in files]
    return sorted(found)


def import_playbooks():
    """The files of awx/ that talk to AWX (plays with awx.awx tasks), as (path, play)."""
    loader = DataLoader()
    plays = []
    for path in awx_files():
        data = loader.load_from_file(path, trusted_as_template=True)
        if not isinstance(data, list):
            continue
        for play in data:
            if any(next(iter(_module_of(t) or [None])) for t in play.get("tasks", [])):
                plays.append((path, play))
    return plays


def _module_of(task):
    modules = [k for k in task if k.startswith("awx.awx.")]
    return modules


def rendered_tasks():
    """Every awx.awx task of awx/, rendered as Ansible would (play vars and vars_files, loop items), as
    (where, module, args, task)."""
    loader = DataLoader()
    out = []
    for path, play in import_playbooks():
        variables = {}
        for name in play.get("vars_files", []):
            variables.update(loader.load_from_file(os.path.join(os.path.dirname(path), name), trusted_as_template=True))
        variables.update(play.get("vars") or {})
        variables.update(TEST_VARS)
        for task in play["tasks"]:
            (module,) = _module_of(task)
            items = task.get("loop", [None])
            for item in items:
                scope = dict(variables, **(task.get("vars") or {}))
                if item is not None:
                    scope["item"] = item
                templar = Templar(loader=loader, variables=scope)
                if "when" in task and not templar.evaluate_conditional(task["when"]):
                    continue
                args = json.loads(json.dumps(templar.template(task[module])))
                out.append(("%s: %s" % (os.path.relpath(path, ROOT), task["name"]), module.split(".")[-1], args, task))
    return out


RENDERED = rendered_tasks()


def of(module):
    return [(where, args) for where, name, args, _task in RENDERED if name == module]


class _Captured(Exception):
    pass


def module_spec(name):
    """The awx.awx module's own argument_spec (its main() builds it and hands it to ControllerAPIModule, which adds
    the controller connection options): main() is run with a stand-in that keeps what it is given."""
    import importlib

    from ansible_collections.awx.awx.plugins.module_utils.controller_api import ControllerModule
    module = importlib.import_module("ansible_collections.awx.awx.plugins.modules.%s" % name)

    def capture(argument_spec=None, **kwargs):
        full = dict(ControllerModule.AUTH_ARGSPEC)
        full.update(argument_spec)
        raise _Captured(full, kwargs)

    real = module.ControllerAPIModule
    module.ControllerAPIModule = capture
    try:
        module.main()
    except _Captured as e:
        return e.args
    finally:
        module.ControllerAPIModule = real
    raise AssertionError("awx.awx.%s did not build a ControllerAPIModule" % name)


def documented_suboptions_spec(module_name, option):
    """An argument spec made of the module's DOCUMENTATION for the suboptions of ``option`` (the node options of
    workflow_nodes, which the module's argument_spec only types as a list of dicts)."""
    import importlib
    module = importlib.import_module("ansible_collections.awx.awx.plugins.modules.%s" % module_name)
    doc = yaml.safe_load(module.DOCUMENTATION)

    def spec(options):
        out = {}
        for key, o in options.items():
            entry = {k: o[k] for k in ("type", "choices", "required", "elements", "aliases") if k in o}
            entry.setdefault("type", "str")
            if "suboptions" in o:
                entry["options"] = spec(o["suboptions"])
            out[key] = entry
        return out
    return spec(doc["options"][option]["suboptions"])


# --- the tests -----------------------------------------------------------------------------------------------

def test_every_file_in_awx_loads_and_every_import_playbook_has_awx_tasks():
    loader = DataLoader()
    for path in awx_files():
        assert path.endswith(".yml"), "%s: awx/ holds YAML only" % path
        assert loader.load_from_file(path) is not None, path
    names = {os.path.basename(p) for p, _play in import_playbooks()}
    assert names == {"credential_types.yml", "job_templates.yml", "workflows.yml"}
    modules = {name for _w, name, _a, _t in RENDERED}
    assert modules == {"credential_type", "job_template", "schedule", "workflow_job_template"}


@pytest.mark.parametrize("where,module,args", [(w, m, a) for w, m, a, _t in RENDERED], ids=lambda v: str(v)[:60])
def test_each_awx_task_passes_its_modules_argument_spec(where, module, args):
    spec, kwargs = module_spec(module)
    validator = ArgumentSpecValidator(spec, **{k: v for k, v in kwargs.items() if k in (
        "mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")})
    result = validator.validate(args)
    assert not result.error_messages, "%s: %s" % (where, result.error_messages)
    assert not result.unsupported_parameters, "%s: unsupported %s" % (where, result.unsupported_parameters)


# surveys

def survey_errors(survey):
    """AWX's checks of a survey spec (JobTemplateSurveySpec._validate_spec_data), as a list of messages."""
    errors = []
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(field), kind):
            errors.append("field %r missing or not a %s" % (field, kind.__name__))
    if errors:
        return errors
    if not survey["spec"]:
        errors.append("'spec' doesn't contain any items")
    seen = set()
    for idx, q in enumerate(survey["spec"]):
        for field in ("type", "question_name", "variable", "required"):
            if field not in q:
                errors.append("%r missing from survey question %d" % (field, idx))
            elif not isinstance(q[field], bool if field == "required" else str):
                errors.append("%r in survey question %d has the wrong type" % (field, idx))
        if errors:
            continue
        if q["variable"] in seen:
            errors.append("variable %r duplicated in survey question %d" % (q["variable"], idx))
        seen.add(q["variable"])
        if not VARIABLE_NAME.match(q["variable"]):
            errors.append("variable %r is not a variable name" % q["variable"])
        if q["type"] not in SURVEY_TYPES:
            errors.append("%r in survey question %d is not a question type" % (q["type"], idx))
            continue
        if q.get("default", "") != "" and not isinstance(q["default"], SURVEY_TYPES[q["type"]]):
            errors.append("default %r of survey question %d is not a %s" % (q["default"], idx, q["type"]))
        for key in ("min", "max"):
            if q.get(key) is not None and not isinstance(q[key], int):
                errors.append("%s of survey question %d is not an integer" % (key, idx))
        if q["type"] in ("multiplechoice", "multiselect"):
            if "choices" not in q:
                errors.append("survey question %d of type %s must specify choices" % (idx, q["type"]))
                continue
            choices = q["choices"].splitlines() if isinstance(q["choices"], str) else q["choices"]
            if "default" in q:
                defaults = q["default"].splitlines() if isinstance(q["default"], str) else q["default"]
                if q["type"] == "multiplechoice" and len(defaults) > 1:
                    errors.append("survey question %d: a multiple choice has one default" % idx)
                if any(d not in choices for d in defaults):
                    errors.append("survey question %d: default %r is not one of %r" % (idx, q["default"], choices))
        if isinstance(q.get("default"), str) and q["default"].startswith("$encrypted$"):
            errors.append("survey question %d: $encrypted$ is reserved" % idx)
    return errors


SURVEYS = [(w, a) for m in ("job_template", "workflow_job_template") for w, a in of(m) if a.get("survey_spec")]


@pytest.mark.parametrize("where,args", SURVEYS, ids=lambda v: str(v)[:60])
def test_each_survey_is_one_awx_accepts(where, args):
    assert args.get("survey_enabled") is True, where
    assert survey_errors(args["survey_spec"]) == [], where


def test_the_survey_checks_catch_what_awx_refuses():
    good = {"name": "n", "description": "d", "spec": [
        {"question_name": "q", "variable": "v", "type": "multiplechoice", "choices": ["a", "b"], "default": "a",
         "required": True}]}
    assert survey_errors(good) == []
    bad = json.loads(json.dumps(good))
    del bad["spec"][0]["required"]
    assert survey_errors(bad) == ["'required' missing from survey question 0"]
    bad = json.loads(json.dumps(good))
    bad["spec"][0]["default"] = "c"
    assert "not one of" in survey_errors(bad)[0]
    bad = json.loads(json.dumps(good))
    bad["spec"][0]["type"] = "boolean"
    assert "is not a question type" in survey_errors(bad)[0]


def role_options(playbook_path):
    """The variables a playbook documents: its roles' argument_specs options, and the words of the playbook."""
    with open(playbook_path) as f:
        text = f.read()
    known = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", text))
    for role in re.findall(r"progressive\.delivery\.([a-z_]+)", text):
        spec_path = os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")
        if os.path.exists(spec_path):
            with open(spec_path) as f:
                for entry in yaml.safe_load(f)["argument_specs"].values():
                    known |= set(entry.get("options", {}))
    return known


def job_templates():
    return {a["name"]: a for _w, a in of("job_template")}


def test_each_job_template_runs_a_playbook_of_the_project_that_reads_its_survey_and_extra_vars():
    for name, jt in job_templates().items():
        playbook = os.path.join(ROOT, jt["playbook"])
        assert os.path.isfile(playbook), "%s: no playbook %s in the project" % (name, jt["playbook"])
        known = role_options(playbook)
        asked = [q["variable"] for q in (jt.get("survey_spec") or {}).get("spec", [])] + list(jt.get("extra_vars") or {})
        assert not [v for v in asked if v not in known], "%s asks for variables %s that %s does not read" % (
            name, [v for v in asked if v not in known], jt["playbook"])


def test_the_emergency_rollback_survey_serves_nginx_without_a_namespace():
    survey = {q["variable"]: q for q in job_templates()["progressive-delivery EMERGENCY ROLLBACK"]["survey_spec"]["spec"]}
    assert survey["emergency_rollback_namespace"]["required"] is False
    for variable in ("emergency_rollback_releases", "emergency_rollback_router", "emergency_rollback_nginx_config_dir",
                     "emergency_rollback_controller"):
        assert variable in survey
    assert "ansible" in survey["emergency_rollback_controller"]["choices"]
    assert "nginx" in survey["emergency_rollback_router"]["choices"]


# credential types

def sandbox_render(template, namespace):
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    return ImmutableSandboxedEnvironment(undefined=StrictUndefined).from_string(template).render(namespace)


def injector_errors(inputs, injectors):
    """AWX's checks of a credential type (awx/main/fields.py), as a list of messages."""
    import jsonschema
    errors = ["inputs: %s" % e.message for e in jsonschema.Draft4Validator(INPUTS_SCHEMA).iter_errors(inputs)]
    errors += ["injectors: %s" % e.message for e in jsonschema.Draft4Validator(INJECTORS_SCHEMA).iter_errors(injectors)]
    if errors:
        return errors
    ids = [f["id"] for f in inputs.get("fields", [])]
    if "tower" in ids:
        errors.append('"tower" is a reserved field name')
    if len(ids) != len(set(ids)):
        errors.append("field ids must be unique")
    for field in inputs.get("fields", []):
        kind = field.get("type", "string")
        if "default" in field and not isinstance(field["default"], {"string": str, "boolean": bool}[kind]):
            errors.append("%s: default %r is not a %s" % (field["id"], field["default"], kind))
        for key in ("choices", "multiline", "format", "secret"):
            if key in field and kind != "string":
                errors.append("%s not allowed for %s type (%s)" % (key, kind, field["id"]))
    errors += ["required %r is not a field" % r for r in inputs.get("required", []) if r not in ids]
    for variable in injectors.get("env", {}):
        if variable.startswith("ANSIBLE_") or variable in ENV_BLOCKLIST:
            errors.append("environment variable %s is not allowed in credentials" % variable)

    class Filenames(object):
        pass
    namespace = {i: "EXAMPLE" for i in ids}
    names = [k for k in injectors.get("file", {}) if k.startswith("template")]
    tower = Filenames()
    if "template" in names:
        if len(names) > 1:
            errors.append("Must use multi-file syntax when injecting multiple files")
        tower.filename = "EXAMPLE_FILENAME"
    elif names:
        tower.filename = Filenames()
        for name in names:
            setattr(tower.filename, name.split(".")[1], "EXAMPLE_FILENAME")
    namespace["tower"] = tower
    for kind, templates in injectors.items():
        for key, template in templates.items():
            try:
                sandbox_render(template, namespace)
            except Exception as e:  # what AWX reports: an undefined field, a syntax error, unsafe code
                errors.append("%s.%s: %s" % (kind, key, e))
    return errors


CREDENTIAL_TYPES = {a["name"]: a for _w, a in of("credential_type")}


@pytest.mark.parametrize("name", sorted(CREDENTIAL_TYPES))
def test_each_credential_type_is_one_awx_accepts(name):
    ct = CREDENTIAL_TYPES[name]
    assert ct["kind"] == "cloud"  # the kinds AWX lets a custom type have: cloud and net
    assert injector_errors(ct["inputs"], ct["injectors"]) == []
    secrets = {f["id"] for f in ct["inputs"]["fields"] if f.get("secret")}
    assert secrets, "%s holds no secret field" % name


def test_the_injector_checks_catch_what_awx_refuses():
    inputs = {"fields": [{"id": "token", "label": "Token", "secret": True}]}
    assert injector_errors(inputs, {"env": {"X_TOKEN": "{{ token }}"}}) == []
    assert "undefined" in injector_errors(inputs, {"env": {"X_TOKEN": "{{ tokn }}"}})[0]
    assert "not allowed" in injector_errors(inputs, {"env": {"ANSIBLE_X": "{{ token }}"}})[0]
    assert injector_errors(inputs, {"env": {"F": "{{ tower.filename.ca }}"}})  # no such file injector
    assert injector_errors({"fields": [{"id": "ok", "label": "OK", "type": "boolean", "secret": True}]}, {})


def test_the_credential_types_inject_the_variables_the_collection_reads():
    from ansible_collections.progressive.delivery.plugins.module_utils.args_common import PROMETHEUS_ENV
    injected = {name: set(ct["injectors"]["env"]) for name, ct in CREDENTIAL_TYPES.items()}
    everything = set().union(*injected.values())
    assert set(PROMETHEUS_ENV.values()) - {"PROMETHEUS_CLIENT_CERT", "PROMETHEUS_CLIENT_KEY"} <= everything
    with open(os.path.join(ROOT, "roles", "notify", "defaults", "main.yml")) as f:
        read_by_notify = set(re.findall(r"lookup\('ansible.builtin.env', '([A-Z_]+)'\)", f.read()))
    assert read_by_notify == {"GRAFANA_URL", "GRAFANA_TOKEN", "PAGERDUTY_INTEGRATION_KEY", "SLACK_TOKEN", "SLACK_CHANNEL"}
    assert read_by_notify <= everything
    assert "K8S_AUTH_KUBECONFIG" in everything


# workflows

NODE_SPEC = documented_suboptions_spec("workflow_job_template", "workflow_nodes")
WORKFLOWS = of("workflow_job_template")


def workflow_errors(nodes, job_template_names):
    errors = []
    ids = [n.get("identifier") for n in nodes]
    if len(ids) != len(set(ids)):
        errors.append("identifiers are not unique: %s" % ids)
    links = {}
    for node in nodes:
        result = ArgumentSpecValidator(NODE_SPEC).validate(node)
        errors += ["%s: %s" % (node.get("identifier"), m) for m in result.error_messages]
        errors += ["%s: unsupported %s" % (node.get("identifier"), p) for p in result.unsupported_parameters]
        ujt = node.get("unified_job_template") or {}
        if not ujt.get("name") or not ujt.get("type"):  # the module reads both of every node
            errors.append("%s: unified_job_template needs a name and a type" % node.get("identifier"))
        if ujt.get("type") == "workflow_approval":
            if not isinstance(ujt.get("timeout"), int) or ujt["timeout"] <= 0:
                errors.append("%s: an approval node without a timeout waits forever" % node["identifier"])
            if not (node.get("related") or {}).get("failure_nodes"):
                pass  # a denial may end the workflow; the canary's must abort (asserted below)
        elif ujt.get("type") == "job_template" and ujt.get("name") not in job_template_names:
            errors.append("%s: no job template %r in awx/" % (node.get("identifier"), ujt.get("name")))
        related = node.get("related") or {}
        links[node.get("identifier")] = [t["identifier"] for kind in ("success_nodes", "failure_nodes", "always_nodes")
                                         for t in related.get(kind) or []]
        errors += ["%s links to %s, which is no node" % (node.get("identifier"), t)
                   for t in links[node.get("identifier")] if t not in ids]
    # no cycles (AWX refuses them), and every node reachable from a root
    roots = [i for i in ids if not any(i in targets for targets in links.values())]
    seen, stack = set(), [(r, ()) for r in roots]
    while stack:
        node, path = stack.pop()
        if node in path:
            errors.append("cycle through %s" % node)
            continue
        seen.add(node)
        stack += [(t, path + (node,)) for t in links.get(node, []) if t in ids]
    errors += ["%s is unreachable" % i for i in ids if i not in seen]
    if not roots:
        errors.append("no node to start from")
    return errors


@pytest.mark.parametrize("where,args", WORKFLOWS, ids=lambda v: str(v)[:60])
def test_each_workflow_is_a_graph_of_nodes_awx_can_build(where, args):
    assert workflow_errors(args["workflow_nodes"], set(job_templates())) == [], where


def test_the_workflow_checks_catch_broken_graphs():
    jt = {"type": "job_template", "name": "a"}
    good = [{"identifier": "x", "unified_job_template": jt, "related": {"success_nodes": [{"identifier": "y"}]}},
            {"identifier": "y", "unified_job_template": {"type": "workflow_approval", "name": "ok", "timeout": 60}}]
    assert workflow_errors(good, {"a"}) == []
    assert "which is no node" in workflow_errors([dict(good[0])], {"a"})[0]
    untimed = [good[0], {"identifier": "y", "unified_job_template": {"type": "workflow_approval", "name": "ok"}}]
    assert "waits forever" in workflow_errors(untimed, {"a"})[0]
    looped = [good[0], dict(good[1], related={"success_nodes": [{"identifier": "x"}]})]
    assert any("no node to start from" in e or "cycle" in e for e in workflow_errors(looped, {"a"}))


def nodes_of(workflow):
    (args,) = [a for _w, a in WORKFLOWS if a["name"] == "progressive-delivery %s" % workflow]
    return {n["identifier"]: n for n in args["workflow_nodes"]}


def targets(node, kind):
    return [t["identifier"] for t in (node.get("related") or {}).get(kind) or []]


def test_the_canary_workflow_asks_a_person_where_the_plan_pauses_and_aborts_without_an_answer():
    nodes = nodes_of("canary release workflow")
    assert targets(nodes["release"], "success_nodes") == ["paused"]
    paused = job_templates()[nodes["paused"]["unified_job_template"]["name"]]
    assert paused["extra_vars"] == {"pd_expect_verdict": ["paused"]}  # branches on the release's artifact
    # a promoted release takes the failure path to a check that succeeds, so its workflow succeeds
    assert targets(nodes["paused"], "failure_nodes") == ["promoted"]
    promoted = job_templates()[nodes["promoted"]["unified_job_template"]["name"]]
    assert promoted["extra_vars"] == {"pd_expect_verdict": ["promoted", "already_stable"]}
    assert nodes["approve"]["unified_job_template"]["type"] == "workflow_approval"
    assert targets(nodes["approve"], "success_nodes") == ["resume"]
    assert targets(nodes["approve"], "failure_nodes") == ["abort"]  # denied, or timed out
    assert job_templates()[nodes["abort"]["unified_job_template"]["name"]]["extra_vars"] == {"router_step_action": "abort"}
    assert job_templates()[nodes["resume"]["unified_job_template"]["name"]]["extra_vars"] == {
        "router_step_action": "resume"}
    assert nodes["release_on"]["unified_job_template"]["name"] == nodes["release"]["unified_job_template"]["name"]


def test_the_bluegreen_workflow_checks_then_asks_then_promotes_then_analyses():
    nodes = nodes_of("blue-green workflow")
    order, node = [], "pre_analysis"
    while node:
        order.append(node)
        node = (targets(nodes[node], "success_nodes") or [None])[0]
    assert order == ["pre_analysis", "approve", "promote", "post_analysis"]
    assert job_templates()[nodes["pre_analysis"]["unified_job_template"]["name"]]["job_type"] == "check"
    assert nodes["approve"]["unified_job_template"]["type"] == "workflow_approval"


def test_the_emergency_workflow_aborts_verifies_then_pages_once_whatever_happens():
    nodes = nodes_of("emergency rollback workflow")
    abort_jt = job_templates()[nodes["abort"]["unified_job_template"]["name"]]
    assert abort_jt["extra_vars"] == {"emergency_rollback_notify_via": ["grafana"]}  # the page node pages
    assert targets(nodes["abort"], "success_nodes") == ["verify"]
    outcomes = {nodes[t]["extra_data"]["page_outcome"] for t in targets(nodes["abort"], "failure_nodes")
                + targets(nodes["verify"], "success_nodes") + targets(nodes["verify"], "failure_nodes")}
    assert outcomes == {"verified", "not_verified", "abort_failed"}
    page_jt = job_templates()["progressive-delivery page"]
    assert page_jt["ask_variables_on_launch"] is True  # AWX takes a node's extra data only then


def test_extra_data_goes_only_to_job_templates_that_take_it():
    for _w, wf in WORKFLOWS:
        for node in wf["workflow_nodes"]:
            if node.get("extra_data"):
                jt = job_templates()[node["unified_job_template"]["name"]]
                assert jt.get("ask_variables_on_launch") or jt.get("survey_enabled"), node["identifier"]
    for _w, schedule in of("schedule"):
        if schedule.get("extra_data"):
            assert job_templates()[schedule["unified_job_template"]].get("ask_variables_on_launch"), schedule["name"]


# schedules

def rrule_errors(rrule):
    """AWX's checks of a schedule's rrule (SchedulePreviewSerializer.validate_rrule), as a list of messages."""
    errors = []
    dtstarts = re.findall(r".*?(DTSTART(;[^:]+)?\:[0-9]+T[0-9]+Z?)", rrule)
    if not dtstarts:
        errors.append("Valid DTSTART required in rrule")
    if re.findall(r".*?(DTSTART:[0-9]+T[0-9]+) ", rrule):
        errors.append("DTSTART cannot be a naive datetime")
    if len(dtstarts) > 1:
        errors.append("Multiple DTSTART is not supported")
    if "rrule:" not in rrule.lower():
        errors.append("One or more rule required in rrule")
    if "exdate:" in rrule.lower() or "rdate:" in rrule.lower():
        errors.append("EXDATE and RDATE not allowed in rrule")
    for rule in re.findall(r".*?(RULE\:[^\s]*)", rrule):
        if "interval" not in rule.lower():
            errors.append("INTERVAL required in rrule: %s" % rule)
        elif "secondly" in rule.lower():
            errors.append("SECONDLY is not supported")
        if re.match(r".*?BYDAY[\:\=][0-9]+[a-zA-Z]{2}", rule):
            errors.append("BYDAY with numeric prefix not supported")
        if "COUNT" in rule and "UNTIL" in rule:
            errors.append("RRULE may not contain both COUNT and UNTIL")
        count = re.match(r".*?(COUNT\=[0-9]+)", rule)
        if count and int(count.group(1).split("=")[1]) > 999:
            errors.append("COUNT > 999 is unsupported")
    return errors


def next_run(rrule):
    from dateutil import rrule as dr
    rules = dr.rrulestr(rrule.replace(" RRULE:", "\nRRULE:"), forceset=True)
    return rules.after(datetime.datetime.now(datetime.timezone.utc))


@pytest.mark.parametrize("where,args", of("schedule"), ids=lambda v: str(v)[:60])
def test_each_schedule_has_an_rrule_awx_accepts_and_runs_left(where, args):
    assert rrule_errors(args["rrule"]) == [], where
    assert next_run(args["rrule"]) is not None, "%s: %s has no runs left" % (where, args["rrule"])
    assert args["unified_job_template"] in job_templates(), where


def test_the_rrule_checks_catch_what_awx_refuses_and_schedules_that_ended():
    assert "INTERVAL required" in rrule_errors("DTSTART;TZID=UTC:20260105T100000 RRULE:FREQ=WEEKLY;BYDAY=TU")[0]
    assert rrule_errors("DTSTART:20260105T000000Z RRULE:FREQ=MINUTELY;INTERVAL=5;COUNT=288") == []
    assert next_run("DTSTART:20260105T000000Z RRULE:FREQ=MINUTELY;INTERVAL=5;COUNT=288") is None  # the old one
    assert "naive" in rrule_errors("DTSTART:20260105T000000 RRULE:FREQ=DAILY;INTERVAL=1")[0]


def test_the_post_release_watch_schedule_names_its_release_and_ends():
    (schedule,) = [a for _w, a in of("schedule") if "post-release watch" in a["name"]]
    assert schedule["extra_data"] == {"post_release_watch_controller": "ansible", "post_release_watch_release": "checkout"}
    assert "UNTIL=" in schedule["rrule"] and "COUNT" not in schedule["rrule"]
    from dateutil import rrule as dr
    runs = list(dr.rrulestr(schedule["rrule"].replace(" RRULE:", "\nRRULE:"), forceset=True))
    assert 24 * 60 / 5 - 1 <= len(runs) <= 24 * 60 / 5 + 1  # every 5 minutes for 24 hours
