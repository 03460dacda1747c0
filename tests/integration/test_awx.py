"""AWX can run the project (issue 14 items 3 and 6), proved without an AWX:

- the project resolves its roles from a clean collections path, installed the way an AWX project sync does it
  (collections/requirements.yml, run in the project's directory), and every playbook passes --syntax-check;
- the execution environment's build context (ansible-builder create) carries the collection from the checkout;
- the credential types feed the modules through the environment: their own injector templates, rendered as AWX
  renders them at launch (AWX's sandbox, the files written, tower.filename), are the only settings a play gets -
  a real Prometheus behind a real nginx that demands the bearer token over TLS signed by the credential's CA, the
  Grafana stand-in that records the token, and the Kubernetes tier through the kubeconfig file.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

import harness
from ansible_collections.progressive.delivery.plugins.module_utils import args_common
from conftest import HASHES

ROOT = harness.ROOT
BIN = os.path.dirname(sys.executable)
TEMPLATES = os.path.join(ROOT, "tests", "integration", "files", "slo-templates.yaml")
TOKEN = "prom-t0ken-5e1f"


def project_copy(tmp_path):
    """The project as an AWX project sync sees it: the repository's files (tracked, and new ones not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    project = tmp_path / "project"
    for relative in filter(None, listed):
        source = os.path.join(ROOT, relative)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(str(project / relative)), exist_ok=True)
            shutil.copy2(source, str(project / relative))
    return project


def clean_env(tmp_path, collections):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PROMETHEUS_", "K8S_AUTH_"))}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_HOME=str(tmp_path / "ansible-home"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    return env


def run(argv, cwd, env, timeout=600):
    """The command's CompletedProcess; the tests look at its return code and output themselves."""
    return subprocess.run(argv, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_project_resolves_its_roles_from_a_clean_collections_path_as_awx_installs_it(tmp_path):
    project = project_copy(tmp_path)
    collections = tmp_path / "requirements_collections"
    env = clean_env(tmp_path, collections)
    playbooks = sorted(os.path.relpath(os.path.join(d, f), str(project))
                       for base in ("playbooks", "awx") for d, _s, files in os.walk(str(project / base))
                       for f in files if f.endswith(".yml") and f not in ("defaults.yml", "surveys.yml"))
    check = [os.path.join(BIN, "ansible-playbook"), "--syntax-check", "-i", "localhost,"]

    # what a new user met: without the project's collections/requirements.yml nothing resolves
    before = run(check + ["playbooks/canary_release.yml"], project, env)
    assert before.returncode != 0
    assert "progressive.delivery.canary_release" in before.stdout + before.stderr

    # the project sync's command (awx/playbooks/project_update.yml): run in the project's directory, into the
    # job's collections path; --no-deps: the dependencies are the execution environment's (here the venv's)
    installed = run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-r", "collections/requirements.yml",
                     "-p", str(collections), "--no-deps"], project, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "progressive.delivery:" in installed.stdout
    root = collections / "ansible_collections" / "progressive" / "delivery"
    manifest = json.loads((root / "MANIFEST.json").read_text())
    with open(os.path.join(ROOT, "galaxy.yml")) as f:
        assert manifest["collection_info"]["version"] == yaml.safe_load(f)["version"]
    assert not os.path.islink(str(root)) and (root / "roles" / "canary_release" / "tasks" / "main.yml").is_file()

    listed = run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "progressive.delivery"], project, env)
    assert str(collections) in listed.stdout and ".build" not in listed.stdout  # not the checkout's symlink

    after = run(check + playbooks, project, env)
    assert after.returncode == 0, (after.stdout + after.stderr)[-3000:]
    assert "playbooks/canary_release.yml" in playbooks and "awx/site.yml" in playbooks
    assert len(playbooks) >= 25


def test_the_execution_environment_builds_the_collection_in_from_the_checkout(tmp_path):
    builder = os.path.join(BIN, "ansible-builder")
    assert os.path.exists(builder), "ansible-builder is not installed: it is pinned in requirements-test.txt (make venv)"
    project = project_copy(tmp_path)
    context = tmp_path / "context"
    created = run([builder, "create", "-f", "execution-environment.yml", "-c", str(context)], project,
                  clean_env(tmp_path, tmp_path / "none"))
    assert created.returncode == 0, created.stdout + created.stderr
    build_file = (context / "Containerfile") if (context / "Containerfile").exists() else (context / "Dockerfile")
    text = build_file.read_text()
    assert 'EE_BASE_IMAGE="quay.io/ansible/awx-ee:24.6.1"' in text and ":latest" not in text
    assert "nginx" not in (context / "_build").joinpath("requirements.txt").read_text()
    assert not (context / "_build" / "bindep.txt").exists()  # no system packages: nginx is gone
    assert "COPY _build /build" in text and "WORKDIR /build" in text

    # the galaxy stage's install, for the collection's own entry (the others come from Galaxy)
    with open(str(context / "_build" / "requirements.yml")) as f:
        requirements = yaml.safe_load(f)
    own = [r for r in requirements["collections"] if r.get("type") == "dir"]
    assert [r["name"] for r in own] == ["progressive.delivery"]
    (context / "_build" / "own.yml").write_text(yaml.safe_dump({"collections": own}))
    collections = tmp_path / "ee-collections"
    installed = run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-r", "own.yml", "-p", str(collections),
                     "--no-deps"], context / "_build", clean_env(tmp_path, collections))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    root = collections / "ansible_collections" / "progressive" / "delivery"
    for part in ("roles/canary_release/tasks/main.yml", "plugins/modules/router_release.py",
                 "playbooks/emergency_rollback.yml", "plugins/module_utils/args_common.py"):
        assert (root / part).is_file(), part


# --- credential types, rendered as AWX renders them ----------------------------------------------------------

def credential_type(label):
    """The inputs and injectors of the credential type whose task name starts with ``label``, as AWX receives them."""
    from ansible.parsing.dataloader import DataLoader
    (play,) = DataLoader().load_from_file(os.path.join(ROOT, "awx", "credential_types.yml"))
    (task,) = [t for t in play["tasks"] if t["name"].startswith(label)]
    return json.loads(json.dumps(task["awx.awx.credential_type"]))


def inject(ctype, inputs, private_dir):
    """What AWX does at launch (awx/main/models/credential inject_credential): the inputs given (empty ones left
    out, booleans false when left out), the file injectors rendered into files, then the env injectors rendered
    with tower.filename pointing at them, in AWX's sandbox."""
    from types import SimpleNamespace

    from jinja2.sandbox import ImmutableSandboxedEnvironment
    sandbox = ImmutableSandboxedEnvironment()
    namespace = {k: v for k, v in inputs.items() if v not in ("", None)}
    for field in ctype["inputs"]["fields"]:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    single, files = None, {}
    for label, template in ctype["injectors"].get("file", {}).items():
        path = os.path.join(private_dir, "cred-%s" % label.replace(".", "-"))
        with open(path, "w") as f:
            f.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, 0o600)
        if "." in label:
            files[label.split(".")[1]] = path
        else:
            single = path
    namespace["tower"] = SimpleNamespace(filename=single or SimpleNamespace(**files))
    return {name: sandbox.from_string(template).render(**namespace)
            for name, template in ctype["injectors"].get("env", {}).items()}


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=str(cwd), check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def guarded(prometheus_url, tmp_path):
    """A real Prometheus behind a real nginx that serves TLS (a certificate of a CA made here) and answers 401
    to any request without ``Authorization: Bearer TOKEN``. Yields (url, CA PEM)."""
    certs = tmp_path / "certs"
    certs.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=pd-test-ca", cwd=certs)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1", cwd=certs)
    (certs / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=certs)
    nginx = harness.Nginx(str(tmp_path))
    port = harness.free_port()
    with open(os.path.join(nginx.conf_dir, "prometheus.conf"), "w") as f:
        f.write("""server {
    listen 127.0.0.1:%d ssl;
    ssl_certificate %s/server.pem;
    ssl_certificate_key %s/server.key;
    location / {
        if ($http_authorization != "Bearer %s") { return 401; }
        proxy_pass %s;
    }
}
""" % (port, certs, certs, TOKEN, prometheus_url))
    subprocess.run([nginx.binary, "-c", nginx.main_config, "-p", nginx.prefix, "-s", "reload"], check=True, timeout=30)
    url = "https://127.0.0.1:%d" % port

    def answers():
        import ssl
        import urllib.request
        context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        request = urllib.request.Request(url + "/api/v1/query?query=up", headers={"Authorization": "Bearer " + TOKEN})
        with urllib.request.urlopen(request, context=context, timeout=5) as resp:
            return resp.status == 200
    try:
        harness.wait_for(answers, 30, "nginx in front of Prometheus with TLS and the token")
        yield url, (certs / "ca.pem").read_text()
    finally:
        nginx.stop()


@pytest.fixture
def guarded_prometheus(prometheus, tmp_path):
    with guarded(prometheus.url, tmp_path) as url_and_ca:
        yield url_and_ca


ANALYSIS = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: analysis with nothing but what the credential injected
      progressive.delivery.analysis_check:
        template_file: %s
        template_name: [success-rate]
        mode: once
        args:
          canary-hash: "%s"
"""


def test_a_prometheus_credential_feeds_analysis_check_through_the_environment(playbook, guarded_prometheus, tmp_path):
    url, ca = guarded_prometheus
    ctype = credential_type("Prometheus")
    private = tmp_path / "env"
    private.mkdir()
    env = inject(ctype, {"url": url, "token": TOKEN, "ca_cert": ca, "username": "", "password": "", "headers": ""},
                 str(private))
    assert env["PROMETHEUS_URL"] == url and env["PROMETHEUS_TOKEN"] == TOKEN
    with open(env["PROMETHEUS_CA_FILE"]) as f:
        assert f.read() == ca  # the CA written to a file by the file injector
    assert env["PROMETHEUS_USERNAME"] == "" and env["PROMETHEUS_VALIDATE_CERTS"] == ""  # left out: unset

    text = ANALYSIS % (TEMPLATES, HASHES["healthy"])
    rc, tasks, out = playbook(text, env=env)
    assert rc == 0, out[-3000:]
    assert tasks[0]["phase"] == "Successful", tasks[0]
    assert TOKEN not in out  # no_log, also when it comes from the environment

    # the same credential with a wrong token: nginx refuses it, so the token above is what got through
    wrong = inject(ctype, {"url": url, "token": "not-the-token", "ca_cert": ca}, str(private))
    rc, tasks, out = playbook(text, env=wrong)
    assert rc != 0 and tasks[0]["phase"] == "Error"
    assert "401" in tasks[0]["message"] or "401" in json.dumps(tasks[0]["metrics"]), tasks[0]

    # and without its CA, the server's certificate is not trusted: verification stays on
    untrusted = inject(ctype, {"url": url, "token": TOKEN}, str(private))
    assert untrusted["PROMETHEUS_CA_FILE"] == ""
    rc, tasks, out = playbook(text, env=untrusted)
    assert rc != 0 and "certificate" in json.dumps(tasks[0]).lower(), tasks[0]


def test_a_grafana_credential_feeds_the_notify_role_through_the_environment(playbook, grafana, tmp_path):
    env = inject(credential_type("Grafana"), {"url": grafana.url, "token": "gr4fana-s3cret"}, str(tmp_path))
    rc, tasks, out = playbook("""
- hosts: localhost
  gather_facts: false
  roles:
    - role: progressive.delivery.notify
      vars:
        notify_event: INC-7 checkout rolled back
""", env=env)
    assert rc == 0, out[-3000:]
    (sent,) = grafana.annotations
    assert sent["auth"] == "Bearer gr4fana-s3cret" and "INC-7" in sent["body"]["text"]
    assert [t for t in tasks if t["_task"].endswith("Record what was told to whom")][0]["ansible_facts"][
        "notify_sent"]["grafana"] == "annotated"
    assert "gr4fana-s3cret" not in out

    # PagerDuty and Slack credentials left out: nothing is sent there, and nothing fails
    sent_to = [t for t in tasks if t["_task"].endswith("Record what was told to whom")][0]["ansible_facts"]["notify_sent"]
    assert sent_to["pagerduty"] == "skipped" and sent_to["slack"] == "skipped"


def test_a_kubeconfig_credential_feeds_the_kubernetes_modules_through_the_environment(playbook, kube, tmp_path):
    kubeconfig, client, namespace = kube
    with open(kubeconfig) as f:
        env = inject(credential_type("Kubernetes"), {"kubeconfig": f.read()}, str(tmp_path))
    assert env["K8S_AUTH_KUBECONFIG"] != kubeconfig and os.path.isfile(env["K8S_AUTH_KUBECONFIG"])
    rc, tasks, out = playbook(harness.task("rollout_info", {"namespace": namespace}), env=env)
    assert rc == 0, out[-3000:]
    # the namespace is the session's: other tests of this worker may have left Rollouts in it - the module sees
    # exactly what the API server has
    there = client.resources.get(api_version="argoproj.io/v1alpha1", kind="Rollout").get(namespace=namespace)
    assert sorted(r["name"] for r in tasks[0]["rollouts"]) == sorted(r.metadata.name for r in there.items)


# --- the workflows' nodes, run as AWX runs them: survey answers and earlier artifacts as extra vars -------------

def node(playbook, path, variables, env=None, check=False):
    """One workflow node: the playbook with the workflow's extra vars; returns (rc, tasks, out, artifacts)."""
    text = "- name: node\n  ansible.builtin.import_playbook: %s\n" % os.path.join(ROOT, path)
    rc, tasks, out = playbook(text, extra_vars=variables, env=env, check=check)
    artifacts = {}
    for t in tasks:
        artifacts.update((t.get("ansible_stats") or {}).get("data") or {})
    return rc, tasks, out, artifacts


def survey_answers(survey, **answers):
    """What AWX passes for a survey: the answers given, and each unanswered question's default, as strings."""
    with open(os.path.join(ROOT, "awx", "surveys.yml")) as f:
        spec = yaml.safe_load(f)[survey]["spec"]
    given = {q["variable"]: q["default"] for q in spec if "default" in q}
    given.update(answers)
    assert set(given) <= {q["variable"] for q in spec}
    return given


def test_the_emergency_rollback_workflow_aborts_from_its_survey_verifies_and_pages(playbook, kube, grafana, tmp_path):
    stack = harness.Stack(str(tmp_path), {"v1": {}, "v2": {}}, label="wf")
    try:
        nginx = dict(stack.nginx.router_options(), listen="127.0.0.1:%d" % harness.free_port(),
                     stable=["127.0.0.1:%d" % stack.apps["v1"].port], canary=["127.0.0.1:%d" % stack.apps["v2"].port])
        rc, _t, out = playbook(harness.task("router_step", {"release": "cart", "router": "nginx", "nginx": nginx,
                                                            "action": "set_weight", "weight": 50}))
        assert rc == 0, out[-2000:]
        credentials = inject(credential_type("Grafana"), {"url": grafana.url, "token": "gr4fana-wf"}, str(tmp_path))
        # the on-call's answers (strings, as a survey gives them); the host nginx's layout is the inventory's
        answers = survey_answers("awx_survey_emergency_rollback", emergency_rollback_reason="INC-9 checkout errors",
                                 emergency_rollback_controller="ansible", emergency_rollback_releases="cart",
                                 emergency_rollback_nginx_config_dir=nginx["config_dir"])
        inventory = {"emergency_rollback_nginx": {k: nginx[k] for k in ("main_config", "prefix", "binary")}}
        workflow = dict(answers, **inventory)

        # node "abort": the job template's extra vars keep the page for the page node
        rc, tasks, out, artifacts = node(playbook, "playbooks/emergency_rollback.yml",
                                         dict(workflow, emergency_rollback_notify_via=["grafana"]), credentials)
        assert rc == 0, out[-3000:]
        assert artifacts["pd_verdict"] == "rolled_back"
        assert artifacts["pd_rollback"]["targets"] == ["cart"] and artifacts["pd_rollback"]["changed"] == ["cart aborted"]
        assert artifacts["pd_rollback"]["reason"] == "INC-9 checkout errors"
        assert artifacts["pd_rollback"]["told"] == {"grafana": "annotated", "pagerduty": "skipped", "slack": "skipped"}
        assert {harness.http_get("http://%s/" % nginx["listen"])[1].split()[0] for _i in range(40)} == {"v1"}

        # node "verify": reads the router back, with the abort's artifacts
        rc, tasks, out, artifacts = node(playbook, "awx/playbooks/verify_rollback.yml", dict(workflow, **artifacts))
        assert rc == 0, out[-3000:]
        assert artifacts == {"pd_verdict": "verified"}
        assert "verified: cart send 100% to stable" in out

        # node "page_verified"
        rc, tasks, out, _a = node(playbook, "awx/playbooks/page.yml", dict(
            workflow, page_outcome="verified", pd_rollback={"reason": "INC-9 checkout errors", "targets": ["cart"]}),
            credentials)
        assert rc == 0, out[-3000:]
        texts = [a["body"]["text"] for a in grafana.annotations]
        assert texts[0].startswith("INC-9 checkout errors: cart rolled back to stable")  # the abort's annotation
        assert texts[1].startswith("INC-9 checkout errors: cart rolled back to stable, verified")
        assert all(a["auth"] == "Bearer gr4fana-wf" for a in grafana.annotations) and "gr4fana-wf" not in out
    finally:
        stack.stop()


def test_the_canary_workflows_check_node_branches_on_the_release_artifact(playbook):
    jt_vars = {"pd_expect_verdict": ["paused"]}
    rc, _t, out, _a = node(playbook, "awx/playbooks/check_verdict.yml", dict(jt_vars, pd_verdict="paused",
                                                                             pd_phase="Paused"))
    assert rc == 0 and "verdict paused at phase Paused" in out
    rc, _t, out, _a = node(playbook, "awx/playbooks/check_verdict.yml", dict(jt_vars, pd_verdict="promoted"))
    assert rc != 0 and "verdict promoted, not paused" in out
    rc, _t, out, _a = node(playbook, "awx/playbooks/check_verdict.yml", jt_vars)
    assert rc != 0 and "recorded no pd_verdict" in out


def test_the_bluegreen_workflow_checks_then_promotes_after_approval_then_analyses(playbook, kube, prometheus, tmp_path):
    import controller
    from test_bluegreen_promote import switch_active_on_promote, waiting_for_promotion
    kubeconfig, client, namespace = kube
    new = "5e5f5a5b"
    name = waiting_for_promotion(kube, new, own_pre=True, pre_run={"name": "orders-pre-1", "status": "Successful"})
    with open(kubeconfig) as f:
        env = inject(credential_type("Kubernetes"), {"kubeconfig": f.read()}, str(tmp_path))
    env.update(inject(credential_type("Prometheus"), {"url": prometheus.url}, str(tmp_path)))
    workflow = survey_answers("awx_survey_bluegreen_promote", bluegreen_promote_namespace=namespace,
                              bluegreen_promote_name=name)
    before = controller.get(client, namespace, name)

    # node "pre_analysis": the job template's job type is check - every gate but the approval, nothing written
    rc, _t, out, artifacts = node(playbook, "awx/playbooks/bluegreen_promote.yml", workflow, env, check=True)
    assert rc == 0, out[-3000:]
    assert artifacts["pd_verdict"] == "would_promote"
    assert controller.get(client, namespace, name) == before

    # the promote job template launched without the approval node before it refuses
    rc, _t, out, artifacts = node(playbook, "awx/playbooks/bluegreen_promote.yml", workflow, env)
    assert rc != 0 and "a person must approve this promotion" in out

    # node "promote", after the approval node: its job template's extra vars carry the approval
    react = switch_active_on_promote(kube, name, new)
    rc, _t, out, artifacts = node(playbook, "awx/playbooks/bluegreen_promote.yml",
                                  dict(workflow, bluegreen_promote_approved=True), env)
    assert react.join()
    assert rc == 0, out[-3000:]
    assert artifacts["pd_verdict"] == "promoted" and artifacts["pd_release_name"] == "%s/%s" % (namespace, name)

    # node "post_analysis": the release's SLO queries (the inventory's template), Prometheus from the credential
    inventory = {"post_release_watch_analysis": {"template_file": TEMPLATES, "template_name": ["success-rate"],
                                                 "args": {"canary-hash": HASHES["healthy"]}}}
    rc, _t, out, artifacts = node(playbook, "awx/playbooks/bluegreen_post_analysis.yml", dict(workflow, **inventory), env)
    assert rc == 0, out[-3000:]
    assert artifacts["pd_verdict"] == "healthy"
    assert artifacts["pd_watch"]["release"] == "%s/%s" % (namespace, name) and artifacts["pd_watch"]["rolled_back"] is False


def test_the_canary_workflow_pauses_for_a_person_then_walks_on_or_aborts(playbook, tmp_path):
    stack = harness.Stack(str(tmp_path), {"v1": {}, "v2": {}}, label="cwf")
    try:
        def inventory(listen):
            # the plan and the router live in the inventory: a pause without a duration waits for a person
            return {"canary_release_nginx": dict(stack.nginx.router_options(), listen=listen,
                                                 stable=["127.0.0.1:%d" % stack.apps["v1"].port],
                                                 canary=["127.0.0.1:%d" % stack.apps["v2"].port]),
                    "canary_release_steps": [{"setWeight": 30}, {"pause": {}}, {"setWeight": 100}]}

        def served(listen):
            return {harness.http_get("http://%s/" % listen)[1].split()[0] for _i in range(40)}

        def release_until_approval(release, listen):
            workflow = dict(survey_answers("awx_survey_canary_release", canary_release_name=release,
                                           canary_release_stable_version="v1", canary_release_canary_version="v2"),
                            **inventory(listen))
            rc, _t, out, artifacts = node(playbook, "playbooks/canary_release.yml", workflow)  # node "release"
            assert rc == 0, out[-3000:]
            assert artifacts["pd_verdict"] == "paused" and artifacts["pd_release_name"] == release
            rc, _t, out, _a = node(playbook, "awx/playbooks/check_verdict.yml",  # node "paused"
                                   dict(workflow, pd_expect_verdict=["paused"], **artifacts))
            assert rc == 0, out[-3000:]
            return workflow, artifacts

        # approved: node "resume", then node "release_on" walks on to 100%
        listen = "127.0.0.1:%d" % harness.free_port()
        workflow, artifacts = release_until_approval("shop", listen)
        assert served(listen) == {"v1", "v2"}
        rc, _t, out, resumed = node(playbook, "awx/playbooks/router_step.yml",
                                    dict(workflow, router_step_action="resume", **artifacts))
        assert rc == 0, out[-3000:]
        assert resumed["pd_verdict"] == "resumed"
        rc, _t, out, artifacts = node(playbook, "playbooks/canary_release.yml", dict(workflow, **resumed))
        assert rc == 0, out[-3000:]
        assert artifacts["pd_verdict"] == "promoted"
        assert served(listen) == {"v2"}
        # a promoted release's "paused" check fails, and its failure path's check succeeds
        rc, _t, out, _a = node(playbook, "awx/playbooks/check_verdict.yml",
                               dict(workflow, pd_expect_verdict=["promoted", "already_stable"], **artifacts))
        assert rc == 0, out[-3000:]

        # denied, or no answer in time: node "abort" puts everything back on stable, verified
        listen = "127.0.0.1:%d" % harness.free_port()
        workflow, artifacts = release_until_approval("cart", listen)
        rc, _t, out, aborted = node(playbook, "awx/playbooks/router_step.yml",
                                    dict(workflow, router_step_action="abort", awx_workflow_job_id=42, **artifacts))
        assert rc == 0, out[-3000:]
        assert aborted == {"pd_verdict": "rolled_back", "pd_phase": "Degraded"}
        assert served(listen) == {"v1"}
        assert "AWX workflow job 42" in out  # the reason the state's history keeps
    finally:
        stack.stop()


def test_a_drill_records_its_verdict_times_and_report_paths_for_awx(playbook, tmp_path):
    import load
    from test_runbooks import routed
    stack = harness.Stack(str(tmp_path), {"v1": {}, "v3": dict(error_rate=0.3, latency=0.3)}, label="awxdrill")
    port, nginx = routed(playbook, stack, "shop", "v1", "v3", 0)
    gen = load.LoadGenerator("127.0.0.1", port, rps=80, max_seconds=180, max_requests=14400).start()
    reports = tmp_path / "reports"
    variables = {"rollback_drill_release": "shop", "rollback_drill_nginx": nginx, "rollback_drill_stable_version": "v1",
                 "rollback_drill_bad_version": "v3", "rollback_drill_pause": "3s",
                 "rollback_drill_analysis": {"template_file": os.path.join(ROOT, "sandbox", "files", "slo-templates.yaml")},
                 "rollback_drill_selector": {"app": "awxdrill"}, "rollback_drill_slo": 0.95,
                 "rollback_drill_report_dir": str(reports)}
    try:
        harness.wait_for(lambda: stack.prometheus.query('sum(rate(http_requests_total{app="awxdrill"}[10s])) > 0'),
                         60, "traffic in Prometheus")
        env = inject(credential_type("Prometheus"), {"url": stack.prometheus.url}, str(tmp_path))
        rc, _t, out, artifacts = node(playbook, "playbooks/rollback_drill.yml",
                                      dict(variables, rollback_drill_prometheus_url=stack.prometheus.url), env)
    finally:
        gen.stop()
        stack.stop()
    assert rc == 0, out[-3000:]
    assert artifacts["pd_verdict"] == "passed"
    drill = artifacts["pd_drill"]
    assert drill["rolled_back_without_a_human"] is True and drill["time_to_detect_s"] > 0 and drill["host"] == "localhost"
    paths = artifacts["pd_report_paths"]
    assert sorted(paths) == ["html", "json", "junit"] and drill["reports"] == paths
    assert "release_state" not in drill  # the artifacts stay small: the state is in the JSON report
    assert all(os.path.isfile(p) and p.startswith(str(reports)) for p in paths.values())


def test_a_drill_on_a_host_without_the_credential_gets_prometheus_from_the_controller(playbook, tmp_path):
    """AWX injects PROMETHEUS_* into ansible-playbook on the controller only; on a remote target_hosts the modules
    run without them, and write the reports on that host. Here the modules run under an interpreter that drops
    them and has its own report directory, against a Prometheus that wants TLS with the credential's CA and its
    token: the drill's analysis and its availability check still get them, as arguments from the role's
    defaults, and the drill's verdict does not depend on reading its report on the controller."""
    import load
    from test_runbooks import routed
    stack = harness.Stack(str(tmp_path), {"v1": {}, "v3": dict(error_rate=0.3, latency=0.3)}, label="lbdrill")
    port, nginx = routed(playbook, stack, "shop", "v1", "v3", 0)
    gen = load.LoadGenerator("127.0.0.1", port, rps=80, max_seconds=180, max_requests=14400).start()
    # the "remote host": its modules run without PROMETHEUS_* and with a report directory of their own (a private
    # mount, as another machine's disk: what they write there, the controller cannot read)
    reports = tmp_path / "reports"
    reports.mkdir()
    interpreter = tmp_path / "python-on-the-lb"
    interpreter.write_text("#!/bin/sh\nexec unshare -rm sh -c 'mount -t tmpfs lb %s && exec env %s %s \"$@\"' sh \"$@\"\n" % (
        reports, " ".join("-u " + name for name in sorted(args_common.PROMETHEUS_ENV.values())), sys.executable))
    interpreter.chmod(0o755)
    variables = {"rollback_drill_release": "shop", "rollback_drill_nginx": nginx, "rollback_drill_stable_version": "v1",
                 "rollback_drill_bad_version": "v3", "rollback_drill_pause": "3s",
                 "rollback_drill_analysis": {"template_file": os.path.join(ROOT, "sandbox", "files", "slo-templates.yaml")},
                 "rollback_drill_selector": {"app": "lbdrill"}, "rollback_drill_slo": 0.5,
                 "rollback_drill_report_dir": str(reports), "ansible_python_interpreter": str(interpreter)}
    try:
        harness.wait_for(lambda: stack.prometheus.query('sum(rate(http_requests_total{app="lbdrill"}[10s])) > 0'),
                         60, "traffic in Prometheus")
        (tmp_path / "guard").mkdir()  # its own nginx, beside the release's
        with guarded(stack.prometheus.url, tmp_path / "guard") as (url, ca):
            env = inject(credential_type("Prometheus"), {"url": url, "token": TOKEN, "ca_cert": ca}, str(tmp_path))
            rc, tasks, out, artifacts = node(playbook, "playbooks/rollback_drill.yml", variables, env)
    finally:
        gen.stop()
        stack.stop()
    assert rc == 0, out[-3000:]
    (release,) = [t for t in tasks if (t.get("invocation") or {}).get("module_args", {}).get("canary_version") == "v3"]
    given = release["invocation"]["module_args"]
    assert given["prometheus_url"] == url and given["prometheus_ca_file"] == env["PROMETHEUS_CA_FILE"]
    assert given["prometheus_token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"  # given, and not shown
    analyses = [ev["phase"] for ev in release["state"]["history"] if ev["event"] == "analysis"]
    assert release["verdict"] == "rolled_back" and analyses[-1] == "Failed", analyses  # measured, not an Error
    drill = artifacts["pd_drill"]
    # the availability check went through the same TLS and token (no 401, no untrusted certificate)
    assert isinstance(drill["availability"], float) and isinstance(drill["failed_requests"], int), drill
    assert drill["verdict"] == "passed" and TOKEN not in out
    # the reports went to the host's disk, never the controller's: the drill's result did not read them back
    assert sorted(artifacts["pd_report_paths"]) == ["html", "json", "junit"] and os.listdir(str(reports)) == []
