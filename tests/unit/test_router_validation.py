"""Every value that reaches a router's configuration has a grammar, and anything else is refused with an
error that names the option, the value and the grammar (issue 16, point 5). The rendering is checked
too: what is rendered is built from validated values only (the real nginx runs in
tests/integration/test_router_nginx_safety.py)."""

import json

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils.routers import (
    RouterError, Routing, shown, validate_cohort, validate_header, validate_release)
from ansible_collections.progressive.delivery.plugins.module_utils.routers.factory import make_router
from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import (
    MARK, local_addresses, upstream_name, validate_address, validate_listen, validate_path)

INJECTED_COHORT = 'x" pd_R_canary;\n}\nserver { listen 127.0.0.1:1; location / { return 200 "pwned"; } }\nmap $a $b {'


def nginx_params(**changes):
    params = {"release": "checkout", "router": "nginx", "cohorts": {},
              "nginx": {"config_dir": "/tmp/pd-conf.d", "listen": "127.0.0.1:8080", "stable": ["127.0.0.1:9001"],
                        "canary": ["127.0.0.1:9002"], "main_config": "/etc/nginx/nginx.conf", "prefix": None,
                        "binary": "nginx", "expose_routing": False}}
    for key, value in changes.items():
        if key in params["nginx"]:
            params["nginx"][key] = value
        else:
            params[key] = value
    return params


def refused(fn, *args):
    with pytest.raises(RouterError) as e:
        fn(*args)
    return str(e.value)


@pytest.mark.parametrize("name", ["checkout", "a", "co-l", "web-2", "0", "a" * 63])
def test_release_names_that_are_dns_labels_pass(name):
    assert validate_release(name) == name


@pytest.mark.parametrize("name", ["x/../../../tmp/escaped", "co.l", "co_l", "Checkout", "-a", "a-", "", "a" * 64,
                                  "a b", "a\nb", "checkout\n", None, 12])
def test_other_release_names_are_refused_naming_the_grammar(name):
    msg = refused(validate_release, name)
    assert msg.startswith("release %s is refused" % shown(name)) and "DNS label" in msg
    assert "nothing was changed" in msg


def test_the_release_name_is_checked_by_every_router():
    # the Router base refuses it: the Kubernetes routers' ConfigMap pd-release-<release> gets the same rule
    msg = refused(make_router, dict(nginx_params(), release="x/../../tmp/escaped"), None)
    assert "release 'x/../../tmp/escaped' is refused" in msg

    def connect():
        raise AssertionError("the cluster is not asked before the name is checked")
    msg = refused(make_router, {"release": "co.l", "router": "istio", "kubernetes_target": {
        "namespace": "shop", "name": "vs", "stable_service": "s", "canary_service": "c"}}, connect)
    assert "release 'co.l' is refused" in msg


def test_upstream_names_cannot_collide():
    names = ["co-l", "col", "c-ol", "co--l", "c-o-l"]
    assert len({upstream_name(n) for n in names}) == len(names)
    assert upstream_name("co-l") == "pd_co_l"


@pytest.mark.parametrize("value,normal", [
    ("127.0.0.1:8080", "127.0.0.1:8080"), ("[::1]:80", "[::1]:80"), ("[0:0::1]:80", "[::1]:80"),
    ("app-1.internal.example:443", "app-1.internal.example:443"), ("Localhost:1", "localhost:1"),
    ("10.0.0.1:65535", "10.0.0.1:65535")])
def test_addresses_host_port(value, normal):
    assert validate_address(value, "nginx.stable") == normal


@pytest.mark.parametrize("value", [
    "127.0.0.1:80; server 10.0.0.1:80", "127.0.0.1:80 backup", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
    "127.0.0.1:notaport", "::1:80", "[::1:80", "[nothex]:80", "300.1.1.1:80", "1.2.3:80", "-a.example:80",
    "a..b:80", "[fe80::1%eth0]:80", "127.0.0.1:80\n", "unix:/tmp/x.sock", "host name:80", "127.0.0.1:80\n", "", 80])
def test_other_addresses_are_refused(value):
    msg = refused(validate_address, value, "nginx.canary")
    assert msg.startswith("nginx.canary %r is refused" % (value,)) and "host:port" in msg


@pytest.mark.parametrize("value,normal", [("8080", "127.0.0.1:8080"), (8080, "127.0.0.1:8080"),
                                          ("0.0.0.0:80", "0.0.0.0:80"), ("[::]:8443", "[::]:8443")])
def test_listen(value, normal):
    assert validate_listen(value) == normal


@pytest.mark.parametrize("value", ["127.0.0.1:80; location /etc { alias /etc/; } #", "80 default_server",
                                   "0", "99999", "8080\n", "", True, "unix:/tmp/s", "127.0.0.1:8080\nserver"])
def test_other_listen_values_are_refused(value):
    msg = refused(validate_listen, value)
    assert msg.startswith("nginx.listen %r is refused" % (value,)) and "[host:]port" in msg


@pytest.mark.parametrize("value", ["x-canary-cohort", "X-Canary-Cohort", "x_team", "a.b", "!#$%&'*+-.^_`|~09aZ"])
def test_header_names_are_rfc9110_tokens_lowercased(value):
    assert validate_header(value) == value.lower()


@pytest.mark.parametrize("value", ["x cohort", "x:cohort", "x\ncohort", "x\"", "(x)", "", "x" * 129, "x;y", "x-a\n"])
def test_other_header_names_are_refused(value):
    msg = refused(validate_header, value)
    assert msg.startswith("cohorts.header %s is refused" % shown(value)) and "RFC 9110 token" in msg


def test_the_nginx_router_takes_only_header_names_nginx_sees():
    # a token nginx would not pass to $http_... (ignore_invalid_headers) or would cut short in the variable
    for header in ("x_team", "x.team", "x$team"):
        msg = refused(make_router, nginx_params(cohorts={"header": header}), None)
        assert msg.startswith("cohorts.header %r is refused" % header) and "nginx router" in msg
    router = make_router(nginx_params(cohorts={"header": "X-Team"}), None)
    assert "map $http_x_team " in router.render(Routing(10, header="X-Team"))


@pytest.mark.parametrize("value", ["internal", "enterprise", "beta.2", "a_b", "x~y", "v1+2", "-"])
def test_cohort_values_in_the_safe_set(value):
    assert validate_cohort(value, "cohorts.always_canary") == value


@pytest.mark.parametrize("value", [INJECTED_COHORT, "$http_authorization", "a b", "a'b", 'a"b', "a\\b", "a;b",
                                   "a{b", "internal\n", "", "x" * 65, "a\nb", "café", None, 7])
def test_other_cohort_values_are_refused(value):
    msg = refused(Routing, 10, True, None, ["ok", value])
    assert msg.startswith("cohorts.always_canary %s is refused" % shown(value)), msg
    assert "^[A-Za-z0-9._~+-]{1,64}$" in msg
    msg = refused(Routing, 10, True, None, [], [value])
    assert msg.startswith("cohorts.never_canary ")


def test_a_long_bad_value_is_cut_in_the_message():
    msg = refused(validate_cohort, "x" * 500 + "$", "cohorts.always_canary")
    assert len(msg) < 400 and "..." in msg


def test_a_cohort_list_must_be_a_list():
    assert "a list of cohort values" in refused(Routing, 10, True, None, "internal")


@pytest.mark.parametrize("option", ["config_dir", "main_config", "prefix", "binary"])
@pytest.mark.parametrize("value", ["/etc/nginx;\nserver {", "/tmp/a b", "/tmp/$x", "/tmp/a#b", "/tmp/{x}", "/tmp/a'b"])
def test_paths_without_newlines_semicolons_or_quotes(option, value):
    msg = refused(make_router, nginx_params(**{option: value}), None)
    assert msg.startswith("nginx.%s %r is refused" % (option, value))


def test_paths_that_are_fine():
    assert validate_path("/etc/nginx/conf.d", "nginx.config_dir") == "/etc/nginx/conf.d"
    assert validate_path(None, "nginx.prefix", required=False) is None


@pytest.mark.parametrize("listen,connect,allowed", [
    ("0.0.0.0:8080", "127.0.0.1", ["127.0.0.1", "::1"]),
    ("[::]:8080", "::1", ["127.0.0.1", "::1"]),
    ("127.0.0.1:8080", "127.0.0.1", ["127.0.0.1", "::1"]),
    ("10.0.0.5:8080", "10.0.0.5", ["127.0.0.1", "::1", "10.0.0.5"]),
    ("[2001:db8::5]:8080", "2001:db8::5", ["127.0.0.1", "::1", "2001:db8::5"]),
])
def test_the_routing_endpoint_answers_this_host_only(listen, connect, allowed):
    host, port, allow = local_addresses(listen)
    assert (host, port, allow) == (connect, 8080, allowed)
    router = make_router(nginx_params(listen=listen), None)
    text = router.render(Routing(10))
    here = text[text.index("geo $pd_checkout_here {"):].split("}")[0]
    assert ["default 0;"] + ["%s 1;" % a for a in allowed] == [line.strip() for line in here.splitlines()[1:]]
    endpoint = text[text.index("location = /__pd/routing"):]
    assert endpoint.index("if ($pd_checkout_here = 0)") < endpoint.index("return 403;") < endpoint.index("return 200")
    assert "unix:" not in text


def test_the_rendered_config_holds_only_validated_values():
    router = make_router(nginx_params(release="co-l", stable=["127.0.0.1:9001", "[::1]:9001"]), None)
    routing = Routing(25, True, "x-canary-cohort", ["default", "~.", "internal"], ["include"])
    text = router.render(routing)
    # a map key that nginx would take as a parameter (default, include, hostnames) or a regex (~) is literal
    assert '    "\\default" pd_co_l_canary;' in text and '    "\\~." pd_co_l_canary;' in text
    assert '    "\\include" pd_co_l_stable;' in text
    assert "upstream pd_co_l_stable {" in text and "server [::1]:9001;" in text
    meta = json.loads(text.splitlines()[0][len(MARK):])
    assert meta["canary_weight"] == 25 and meta["stable"] == ["127.0.0.1:9001", "[::1]:9001"]
    reply = [line for line in text.splitlines() if "return 200" in line]
    assert len(reply) == 1 and "$" not in reply[0]  # nothing for nginx to expand in the reply
    # the routing endpoint answers this host only; every other path is proxied
    endpoint = text[text.index("location = /__pd/routing {"):].split("}")[0]
    assert "if ($pd_co_l_here = 0)" in endpoint


def test_expose_routing_puts_the_endpoint_on_the_public_listener_too():
    router = make_router(nginx_params(expose_routing=True), None)
    text = router.render(Routing(10))
    endpoint = text[text.index("location = /__pd/routing {"):].split("}")[0]
    assert "_here" not in endpoint and "return 403" not in endpoint
