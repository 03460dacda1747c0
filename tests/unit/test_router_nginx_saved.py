"""The nginx router reads what a release left beside it (its routing file's first line) for the options an
on-call leaves out, and renders only the upstreams and the cohort map in include mode (the real nginx, TLS
and the measured split: tests/integration/test_router_nginx_oncall.py)."""

import os

import pytest

from ansible_collections.progressive.delivery.plugins.module_utils.routers import RouterError, Routing
from ansible_collections.progressive.delivery.plugins.module_utils.routers.factory import make_router, saved_cohorts
from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import NginxRouter, saved_options

FULL = dict(listen="127.0.0.1:8080", stable=["127.0.0.1:9001"], canary=["127.0.0.1:9002"])


def written(tmp_path, routing, **options):
    router = NginxRouter("checkout", str(tmp_path), **dict(FULL, **options))
    with open(router.path, "w") as f:
        f.write(router.render(routing))
    return router


def params(tmp_path, **nginx):
    return {"release": "checkout", "router": "nginx", "cohorts": None, "nginx": dict(config_dir=str(tmp_path), **nginx)}


def test_left_out_options_come_from_the_routing_file(tmp_path):
    written(tmp_path, Routing(25, True, "x-team", ["internal"], ["enterprise"]), mode="include", weight_header=True,
            expose_routing=True)
    router = make_router(params(tmp_path), None)
    assert (router.listen, router.stable, router.canary) == ("127.0.0.1:8080", ["127.0.0.1:9001"], ["127.0.0.1:9002"])
    assert (router.mode, router.weight_header, router.expose_routing) == ("include", True, True)
    assert saved_cohorts(router) == {"header": "x-team", "always_canary": ["internal"], "never_canary": ["enterprise"]}


def test_given_options_win_over_the_file(tmp_path):
    written(tmp_path, Routing(25), weight_header=True)
    router = make_router(params(tmp_path, stable=["127.0.0.1:9003"], weight_header=False), None)
    assert router.stable == ["127.0.0.1:9003"] and router.canary == ["127.0.0.1:9002"]
    assert router.weight_header is False


def test_nothing_saved_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(RouterError) as e:
        make_router(params(tmp_path), None)
    message = str(e.value)
    assert os.path.join(str(tmp_path), "pd-checkout.conf") in message
    assert "nginx.listen, nginx.stable, nginx.canary" in message and "nginx.config_dir" in message
    assert saved_options(str(tmp_path), "checkout") is None


def test_a_tampered_file_is_validated_like_given_options(tmp_path):
    router = written(tmp_path, Routing(0))
    with open(router.path) as f:
        text = f.read()
    with open(router.path, "w") as f:
        f.write(text.replace('"127.0.0.1:9001"', '"127.0.0.1:9001; include /etc/passwd"', 1))
    with pytest.raises(RouterError) as e:
        make_router(params(tmp_path), None)
    assert "nginx.stable" in str(e.value)


def test_include_mode_renders_no_public_proxy_and_the_location_lines(tmp_path):
    router = NginxRouter("checkout", str(tmp_path), mode="include", **FULL)
    text = router.render(Routing(25, True, None, ["internal"]))
    assert "proxy_pass" not in text and "X-Canary-Weight" not in text
    assert "map $http_x_canary_cohort $pd_checkout_backend {" in text
    assert "location / {\n        return 404;" in text
    lines = router.location_lines()
    assert "proxy_pass http://$pd_checkout_backend;" in lines and "add_header" not in lines
    assert "add_header X-Canary-Weight" in NginxRouter("checkout", str(tmp_path), mode="include", weight_header=True,
                                                       **FULL).location_lines()


def test_the_weight_header_is_empty_unless_asked(tmp_path):
    quiet = NginxRouter("checkout", str(tmp_path), **FULL).render(Routing(25))
    assert 'map $host $pd_checkout_weight_header {\n    default "";' in quiet
    loud = NginxRouter("checkout", str(tmp_path), weight_header=True, **FULL).render(Routing(25))
    assert 'default "25";' in loud


def test_an_unknown_mode_is_refused():
    with pytest.raises(RouterError) as e:
        NginxRouter("checkout", "/tmp", mode="proxy", **FULL)
    assert "nginx.mode 'proxy' is refused" in str(e.value)


def test_a_release_over_a_promoted_one_must_start_from_the_pool_that_serves(tmp_path):
    written(tmp_path, Routing(100))  # v2 promoted: the canary pool 9002 serves everything
    again = NginxRouter("checkout", str(tmp_path), **FULL)  # the same pools again: 9001 ran v1
    with pytest.raises(RouterError) as e:
        again.check_next_release("v2", "v3")
    message = str(e.value)
    assert "v2 was promoted and serves from the canary pool 127.0.0.1:9002" in message
    assert "Give nginx.stable: 127.0.0.1:9002" in message
    swapped = NginxRouter("checkout", str(tmp_path), listen=FULL["listen"], stable=["127.0.0.1:9002"],
                          canary=["127.0.0.1:9001"])
    swapped.check_next_release("v2", "v3")  # the pool that serves v2 is stable now: accepted
    fresh = NginxRouter("other", str(tmp_path), **FULL)
    fresh.check_next_release("v2", "v3")  # nothing saved for this release: nothing to compare with
