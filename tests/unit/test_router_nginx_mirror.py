"""The nginx router's mirror (issue 17): what it renders for a Routing with a mirror, in both modes, and what it
refuses before anything is written. The copies on the real nginx - their share, stable's latency, one reload for
an abort - are measured in tests/integration/test_router_nginx_mirror.py."""

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils.routers import Mirror, RouterError, Routing
from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import (
    MIRROR_TIMEOUTS, REDACTED_TOKEN, NginxRouter, _meta_in)

FULL = dict(listen="127.0.0.1:8080", stable=["127.0.0.1:9001"], canary=["127.0.0.1:9002"])


def router(tmp_path, **options):
    return NginxRouter("checkout", str(tmp_path), **dict(FULL, **options))


def test_a_mirror_copies_its_share_of_get_and_head_to_the_canary_pool_with_the_header(tmp_path):
    text = router(tmp_path).render(Routing(0, mirror=Mirror("dark", 20)))
    assert 'split_clients "${request_id}" $pd_checkout_mirror_pick {\n    20% 1;\n    * 0;\n}' in text
    assert ('map $request_method $pd_checkout_mirror {\n    default 0;\n    "\\GET" $pd_checkout_mirror_pick;\n'
            '    "\\HEAD" $pd_checkout_mirror_pick;\n}') in text
    assert "        mirror /__pd/mirror/checkout;\n        mirror_request_body off;\n" in text
    location = text[text.index("location = /__pd/mirror/checkout {"):]
    assert "internal;" in location and "if ($pd_checkout_mirror = 0) {\n                return 204;" in location
    # the copy goes to the relay on the router's own server, which the mirror waits for only so long
    assert "proxy_pass http://127.0.0.1:8080/__pd/relay/checkout;" in location
    assert "proxy_set_header x-pd-relay-uri $request_uri;" in location and "proxy_next_upstream off;" in location
    for directive, value in MIRROR_TIMEOUTS:
        assert "%s %s;" % (directive, value) in location
    assert "proxy_pass_request_body off;" in location
    relay = text[text.index("    location = /__pd/relay/checkout {"):text.index("    location / {")]
    assert "if ($pd_checkout_here = 0) {\n            return 403;" in relay  # this host only
    assert "proxy_pass http://pd_checkout_relay$http_x_pd_relay_uri;" in relay
    assert "proxy_set_header x-pd-mirrored 1;" in relay and "proxy_ignore_client_abort on;" in relay
    # the cap counts over every worker: the upstream keeps its counters in a shared zone
    assert "upstream pd_checkout_relay {\n    zone pd_checkout_relay 64k;\n    server 127.0.0.1:9002 max_conns=64;" in text
    # users' requests never pass for copies, and go to stable as the weight says
    assert 'proxy_set_header x-pd-mirrored "";' in text
    assert "upstream pd_checkout_weighted {\n    server 127.0.0.1:9001 weight=1;" in text


def test_the_routing_file_and_endpoint_carry_the_mirror_and_read_it_back(tmp_path):
    r = router(tmp_path)
    routing = Routing(10, mirror=Mirror("dark", 20, ["GET"], {"x-tenant": "beta"}))
    text = r.render(routing)
    meta = _meta_in(text)
    assert meta["mirror"] == {"name": "dark", "percentage": 20, "methods": ["GET"], "headers": {"x-tenant": "beta"}}
    assert "return 200 '%s'" % text.splitlines()[0][len("# progressive.delivery routing "):] in text
    with open(r.path, "w") as f:
        f.write(text)
    assert r.file_routing().mirror == routing.mirror and r.file_routing().to_dict() == routing.to_dict()


def test_headers_and_methods_are_anded_through_chained_maps(tmp_path):
    text = router(tmp_path).render(Routing(0, mirror=Mirror("dark", 100, ["GET"], {"x-tenant": "beta", "x-b": "1"})))
    assert "split_clients" not in text  # 100%: every request that matches
    assert 'map $http_x_tenant $pd_checkout_mirror_h1 {\n    default 0;\n    "\\beta" 1;\n}' in text
    assert 'map $http_x_b $pd_checkout_mirror_h0 {\n    default 0;\n    "\\1" $pd_checkout_mirror_h1;\n}' in text
    assert '"\\GET" $pd_checkout_mirror_h0;' in text and "HEAD" not in text


def test_the_request_body_is_mirrored_only_when_a_writing_method_is(tmp_path):
    text = router(tmp_path).render(Routing(0, mirror=Mirror("dark", 50, ["GET", "POST"])))
    assert "mirror_request_body" not in text and "proxy_pass_request_body" not in text
    assert '"\\POST" $pd_checkout_mirror_pick;' in text


def test_without_a_mirror_nothing_is_copied_and_the_variable_is_still_defined(tmp_path):
    for routing in (Routing(25), Routing(25, active=False, mirror=Mirror("dark", 20)),
                    Routing(100, mirror=Mirror("dark", 20))):
        text = router(tmp_path).render(routing)
        assert "    mirror " not in text and "/__pd/mirror" not in text and "split_clients" not in text
        assert "/__pd/relay" not in text and "_relay {" not in text
        assert "map $host $pd_checkout_mirror {\n    default 0;\n}" in text
        assert '"mirror"' not in text.splitlines()[0]


def test_include_mode_puts_the_mirror_in_the_include_while_it_lasts(tmp_path):
    r = router(tmp_path, mode="include")
    plain = r.location_lines(Routing(10))
    assert plain == r.location_lines() and "mirror" not in plain.replace("x-pd-mirrored", "")
    mirrored = r.location_lines(Routing(10, mirror=Mirror("dark", 20)))
    assert mirrored.startswith(plain) and "mirror /__pd/mirror/checkout;" in mirrored
    assert "location = /__pd/mirror/checkout {" in mirrored
    conf = r.render(Routing(10, mirror=Mirror("dark", 20)))
    assert "location = /__pd/mirror" not in conf and "$pd_checkout_mirror_pick" in conf  # maps at the http level
    assert "location = /__pd/relay/checkout {" in conf  # the relay: on the router's own server


def test_the_relay_is_reached_where_the_router_listens(tmp_path):
    for listen, relay in (("0.0.0.0:8080", "127.0.0.1:8080"), ("[::1]:8080", "[::1]:8080"),
                          ("10.0.0.5:80", "10.0.0.5:80")):
        text = router(tmp_path, listen=listen).render(Routing(0, mirror=Mirror("dark", 20)))
        assert "proxy_pass http://%s/__pd/relay/checkout;" % relay in text


def test_a_header_nginx_cannot_see_is_refused_before_anything_is_written(tmp_path):
    r = router(tmp_path)
    assert r.supports_mirror is True
    with pytest.raises(RouterError) as e:
        r.check_mirror(Mirror("dark", 20, headers={"x_tenant": "beta"}))
    assert "setMirrorRoute header 'x_tenant' is refused" in str(e.value)
    with pytest.raises(RouterError):
        r.reconcile(Routing(0, mirror=Mirror("dark", 20, headers={"x_tenant": "beta"})))
    assert not (tmp_path / "pd-checkout.conf").exists()


def test_check_mode_shows_the_mirror_and_writes_nothing(tmp_path):
    r = router(tmp_path, mode="include", check_mode=True)
    change = r.reconcile(Routing(0, mirror=Mirror("dark", 20)))
    assert change.changed and "mirror" in change.after
    assert list(tmp_path.iterdir()) == []


def test_the_relay_takes_only_the_mirrors_copies_by_its_token_and_methods(tmp_path):
    r = router(tmp_path)
    text = r.render(Routing(0, mirror=Mirror("dark", 20, ["GET", "POST"])))
    token = r.relay_token()
    assert len(token) == 32 and 'map $host $pd_checkout_relay_token {\n    default "%s";' % token in text
    location = text[text.index("location = /__pd/mirror/checkout {"):]
    assert "proxy_set_header x-pd-relay-token $pd_checkout_relay_token;" in location  # the mirror sends it
    relay = text[text.index("    location = /__pd/relay/checkout {"):text.index("    location = /__pd/copy/")]
    assert "if ($http_x_pd_relay_token != $pd_checkout_relay_token) {\n            return 403;" in relay
    assert 'if ($request_method !~ "^(GET|POST)$") {\n            return 405;' in relay
    copy = text[text.index("    location = /__pd/copy/checkout {"):]
    assert 'proxy_set_header x-pd-relay-token "";' in copy  # the canary never sees it
    reply = [line for line in text.splitlines() if "return 200 '" in line]
    assert token not in text.splitlines()[0] and reply and token not in reply[0]  # the routing endpoint's answer


def test_the_relay_token_is_kept_by_the_routing_file_and_never_shown(tmp_path):
    r = router(tmp_path)
    change = r._change(True, None, r.render(Routing(0, mirror=Mirror("dark", 20))))  # a diff, a result
    assert r.relay_token() not in change.after and REDACTED_TOKEN in change.after
    with open(r.path, "w") as f:
        f.write(r.render(Routing(0, mirror=Mirror("dark", 20))))
    again = router(tmp_path)  # the next run: the token read back, the same file
    assert again.relay_token() == r.relay_token()
    assert again.render(Routing(0, mirror=Mirror("dark", 20))) == r.render(Routing(0, mirror=Mirror("dark", 20)))
    other = tmp_path / "other"
    other.mkdir()
    assert router(other).relay_token() != r.relay_token()  # no file yet: a new token
    # without a mirror the file keeps it, so the next mirror step changes no more than the mirror
    assert 'default "%s";' % r.relay_token() in again.render(Routing(10))


def test_a_cohorts_requests_are_routed_never_copied(tmp_path):
    text = router(tmp_path).render(Routing(0, header="x-cohort", always_canary=["internal"],
                                           never_canary=["enterprise"], mirror=Mirror("dark", 20)))
    assert ('map $http_x_cohort $pd_checkout_mirror_cohort {\n    default $pd_checkout_mirror_pick;\n'
            '    "\\enterprise" 0;\n    "\\internal" 0;\n}') in text
    assert '"\\GET" $pd_checkout_mirror_cohort;' in text
