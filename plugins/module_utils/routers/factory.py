# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The router a module's options name (args_common.ROUTER_ARG_SPEC)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.progressive.delivery.plugins.module_utils.routers import RouterError, Routing, validate_release
from ansible_collections.progressive.delivery.plugins.module_utils.routers.gateway_api import GatewayAPIRouter
from ansible_collections.progressive.delivery.plugins.module_utils.routers.ingress_nginx import IngressNginxRouter
from ansible_collections.progressive.delivery.plugins.module_utils.routers.istio import IstioRouter
from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import (
    DEFAULT_CONFIG_DIR, NginxRouter, config_path, saved_options)
from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx_values import validate_path
from ansible_collections.progressive.delivery.plugins.module_utils.routers.openshift_route import OpenShiftRouteRouter

KUBERNETES_ROUTERS = {"ingress_nginx": IngressNginxRouter, "istio": IstioRouter,
                      "openshift_route": OpenShiftRouteRouter, "gateway_api": GatewayAPIRouter}
ROUTERS = ("nginx",) + tuple(sorted(KUBERNETES_ROUTERS))


def make_router(params, connect, check_mode=False):
    """``connect()`` gives a Kubernetes client, called only for the Kubernetes routers.

    Every value that reaches the router's configuration is validated here, before anything is read or
    written: the release name and the router's options by the router, the cohorts by a Routing built
    from them (RouterError names the option, the value and the grammar)."""
    kind, release = params["router"], validate_release(params["release"])
    cohorts = params.get("cohorts") or {}
    routing = Routing(0, True, cohorts.get("header"), cohorts.get("always_canary"), cohorts.get("never_canary"))
    if kind == "nginx":
        router = nginx_router(release, params.get("nginx") or {}, check_mode)
        router.check_routing(routing)
        return router
    target = params.get("kubernetes_target")
    if not target:
        raise RouterError("router %s needs kubernetes_target (namespace, name, stable_service, canary_service)"
                          % kind)
    router = KUBERNETES_ROUTERS[kind](release, connect(), target["namespace"], target["name"],
                                      target["stable_service"], target["canary_service"],
                                      port=target.get("port") or 80, host=target.get("host"), check_mode=check_mode)
    router.check_routing(routing)
    return router


# what the release's routing file keeps, used when an option is left out (an on-call gives only the release)
SAVED_NGINX_OPTIONS = ("listen", "stable", "canary", "mode", "expose_routing", "weight_header")


def nginx_router(release, opts, check_mode=False):
    """The nginx router of ``release``: the options given, and for each one left out, the one the release's
    last routing change kept in its file (the first line of pd-<release>.conf)."""
    config_dir = validate_path(opts.get("config_dir") or DEFAULT_CONFIG_DIR, "nginx.config_dir")
    missing = [k for k in SAVED_NGINX_OPTIONS if opts.get(k) is None]
    saved = (saved_options(config_dir, release) or {}) if missing else {}
    values = dict((k, opts.get(k) if opts.get(k) is not None else saved.get(k)) for k in SAVED_NGINX_OPTIONS)
    needed = [k for k in ("listen", "stable", "canary") if not values[k]]
    if needed:
        raise RouterError(
            "nginx router of release '%s' needs %s: they were not given and no routing of the release was found "
            "at %s to read them from. Give nginx.listen, nginx.stable and nginx.canary (the address nginx serves "
            "the release on and the two pools) as the release's first step did, or point nginx.config_dir at the "
            "directory the release was routed in" % (release, ", ".join("nginx." + k for k in needed),
                                                     config_path(config_dir, release)))
    return NginxRouter(release, config_dir, values["listen"], values["stable"], values["canary"],
                       main_config=opts.get("main_config") or "/etc/nginx/nginx.conf",
                       prefix=opts.get("prefix"), binary=opts.get("binary") or "nginx",
                       expose_routing=bool(values["expose_routing"]), mode=values["mode"] or "server",
                       weight_header=bool(values["weight_header"]), check_mode=check_mode)


def saved_cohorts(router):
    """The cohorts the router holds for the release now ({} when none): what a step that was given no
    cohorts, on a release with no state that names them, keeps."""
    routing = router.current_routing()
    if routing is None or not (routing.always_canary or routing.never_canary):
        return {}
    return {"header": routing.header, "always_canary": list(routing.always_canary),
            "never_canary": list(routing.never_canary)}
