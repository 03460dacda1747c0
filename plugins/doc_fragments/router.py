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
    type: str
    required: true
  router:
    description:
      - C(nginx) - host nginx, weighted upstreams and a header map, one file per release in O(nginx.config_dir);
        each change is checked with C(nginx -t), applied with a graceful reload and verified; the previous
        file is kept as C(.prev).
      - C(ingress_nginx) - a C(<name>-canary) Ingress with the canary annotations beside the primary Ingress.
      - C(istio) - the VirtualService's routes to the C(stable) and C(canary) subsets.
      - C(openshift_route) - the Route's C(to) and C(alternateBackends) weights.
      - C(gateway_api) - the HTTPRoute's weighted C(backendRefs) and header matches.
    type: str
    required: true
    choices: [nginx, gateway_api, ingress_nginx, istio, openshift_route]
  nginx:
    description: The host nginx router.
    type: dict
    suboptions:
      config_dir:
        description: Directory included by nginx's C(http) block (C(include DIR/*.conf)).
        type: path
        required: true
      listen:
        description: Address (C(127.0.0.1:8080)) or port the release is served on.
        type: str
        required: true
      stable:
        description: Addresses (C(host:port)) of the stable version.
        type: list
        elements: str
        required: true
      canary:
        description: Addresses of the canary version.
        type: list
        elements: str
        required: true
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
  cohorts:
    description:
      - Routing by request header besides the weight. Cohorts in O(cohorts.always_canary) reach the canary
        whenever it is active; cohorts in O(cohorts.never_canary) stay on stable until the canary has 100%.
        An aborted canary gets no traffic at all.
    type: dict
    default: {}
    suboptions:
      header:
        description: The header naming the cohort.
        type: str
        default: x-canary-cohort
      always_canary:
        description: Cohorts that always reach the canary (for example C(internal)).
        type: list
        elements: str
        default: []
      never_canary:
        description: Cohorts kept on stable until 100% (for example C(enterprise)).
        type: list
        elements: str
        default: []
"""
