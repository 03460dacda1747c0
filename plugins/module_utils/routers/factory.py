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
from ansible_collections.progressive.delivery.plugins.module_utils.routers.nginx import NginxRouter
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
        opts = params.get("nginx")
        if not opts:
            raise RouterError("router nginx needs the nginx options (config_dir, listen, stable, canary)")
        router = NginxRouter(release, opts["config_dir"], opts["listen"], opts["stable"], opts["canary"],
                             main_config=opts.get("main_config") or "/etc/nginx/nginx.conf",
                             prefix=opts.get("prefix"), binary=opts.get("binary") or "nginx",
                             expose_routing=bool(opts.get("expose_routing")), check_mode=check_mode)
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
