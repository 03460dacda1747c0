# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The traffic router of an Ansible-controlled release: module_utils/args_common.ROUTER_ARG_SPEC

    DOCUMENTATION = r"""
options:
  release:
    description:
      - Name of the release (the service). The release's state - current step, weights, versions, a
        timestamped history - is kept beside the router under this name, a C(pd-<release>.state.json) file
        beside host nginx or a C(pd-release-<release>) ConfigMap on Kubernetes, so an interrupted job resumes.
      - A DNS label - 1 to 63 lowercase letters, digits and C(-), starting and ending with a letter or digit;
        any other name (with C(/), C(.), C(_), upper case) is refused before anything is written.
    type: str
    required: true
  router:
    description:
      - C(nginx) - host nginx, weighted upstreams and a header map, one file per release in O(nginx.config_dir);
        each change is checked with C(nginx -t), applied with a graceful reload and verified by reading back
        what nginx serves; the previous file is kept as C(.prev). A change that fails the check, the reload or
        the read-back is put back (and nginx reloaded to it). A run compares with what nginx serves, not only
        with the file, so it reloads nginx when a job was stopped between writing the file and the reload.
      - C(ingress_nginx) - a C(<name>-canary) Ingress with the canary annotations beside the primary Ingress.
      - C(istio) - the VirtualService's routes to the C(stable) and C(canary) subsets.
      - C(openshift_route) - the Route's C(to) and C(alternateBackends) weights.
      - C(gateway_api) - the HTTPRoute's weighted C(backendRefs) and header matches.
    type: str
    required: true
    choices: [nginx, gateway_api, ingress_nginx, istio, openshift_route]
  cohorts:
    description:
      - Routing by request header besides the weight. Cohorts in O(cohorts.always_canary) reach the canary
        whenever it is active; cohorts in O(cohorts.never_canary) stay on stable until the canary has 100%.
        An aborted canary gets no traffic at all.
      - When left out, the cohorts the release saved (its state, else what the router holds) are kept, so a
        hand-made step never drops them.
    type: dict
    suboptions:
      header:
        description:
          - The header naming the cohort, an HTTP header name (RFC 9110 token), compared in lower case.
          - For the C(nginx) router, letters, digits and C(-) only (nginx ignores other header names).
        type: str
        default: x-canary-cohort
      always_canary:
        description:
          - Cohorts that always reach the canary (for example C(internal)).
          - Each value is 1 to 64 letters, digits and C(._~+-). Values are never quoted or escaped for a
            router; any other value (quotes, spaces, C($), newlines) is refused before anything is written.
        type: list
        elements: str
        default: []
      never_canary:
        description:
          - Cohorts kept on stable until 100% (for example C(enterprise)).
          - The same characters as O(cohorts.always_canary).
        type: list
        elements: str
        default: []
"""

    # the router's own object (nginx or kubernetes_target), also read by release_status: progressive.delivery.router.targets
    TARGETS = r"""
options:
  nginx:
    description:
      - The host nginx router.
      - O(nginx.listen), O(nginx.stable), O(nginx.canary), O(nginx.mode), O(nginx.expose_routing) and
        O(nginx.weight_header), when left out, are those the release's last routing change kept (the first line of
        C(pd-<release>.conf) in O(nginx.config_dir)), so an operator's step or an emergency rollback needs only
        the release (and the config_dir when it is not the default). Without that file they are required, and
        the error names the file.
    type: dict
    suboptions:
      config_dir:
        description:
          - Directory included by nginx's C(http) block (C(include DIR/*.conf)).
          - A path of letters, digits and C(_./@+=,:~-).
        type: path
        default: /etc/nginx/conf.d
      listen:
        description:
          - Address (C(127.0.0.1:8080)) or port (C(8080), on 127.0.0.1) the release is served on; with
            O(nginx.mode=include), the address of the router's own small server that answers only the routing
            endpoint (keep it on loopback, for example C(127.0.0.1:9180)).
          - C([host:]port), the host an IPv4 address, an IPv6 address in brackets (C([::1]:8080)) or a host name
            of DNS labels, the port from 1 to 65535; anything else is refused before anything is written.
        type: str
      stable:
        description:
          - Addresses of the stable version, each C(host:port) as in O(nginx.listen) (a host is required).
        type: list
        elements: str
      canary:
        description: Addresses of the canary version, each C(host:port) as in O(nginx.stable).
        type: list
        elements: str
      main_config:
        description: nginx's main configuration, for C(nginx -t) and the reload.
        type: path
        default: /etc/nginx/nginx.conf
      prefix:
        description: nginx's prefix (C(-p)), when it runs with one.
        type: path
      binary:
        description: The nginx command.
        type: str
        default: nginx
      mode:
        description:
          - C(server) (the default) - a whole C(server) on O(nginx.listen) proxies the release.
          - C(include) - only the upstreams and the cohort map, for a C(server) block of your own (its
            C(server_name), TLS, logs); put C(include <config_dir>/pd-<release>.location;) in one of its
            locations. The router's routing endpoint then has a small server of its own on O(nginx.listen).
            See C(docs/first-release-nginx.md).
        type: str
        choices: [server, include]
      expose_routing:
        description:
          - Answer the routing endpoint C(/__pd/routing) (what the workers route, as JSON) to every client of
            O(nginx.listen). By default (false) it answers only this host (loopback and the listen address itself,
            which the router uses to check every change) and refuses everyone else with 403.
        type: bool
      weight_header:
        description:
          - Add an C(X-Canary-Weight) header (the canary's share) to every proxied answer. Off by default (false) -
            clients need not know a release is in progress.
        type: bool
  kubernetes_target:
    description: The routing object of a Kubernetes router, and the Services it splits between.
    type: dict
    suboptions:
      namespace:
        description: Namespace of the routing object, the Services and the state ConfigMap.
        type: str
        required: true
      name:
        description: Name of the Ingress (primary), VirtualService, Route or HTTPRoute.
        type: str
        required: true
      stable_service:
        description: The stable Service (for Istio, the host whose subsets are C(stable) and C(canary)).
        type: str
        required: true
      canary_service:
        description: The canary Service.
        type: str
        required: true
      port:
        description: Service port.
        type: int
        default: 80
      host:
        description: Host name, when the object is created.
        type: str
"""
