# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by modules, documented once in doc_fragments of the same names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Prefixed so they never clash with kubernetes.core's validate_certs/ca_cert in the same module.
PROMETHEUS_ARG_SPEC = dict(
    prometheus_url=dict(type="str"),
    prometheus_token=dict(type="str", no_log=True),
    prometheus_username=dict(type="str"),
    prometheus_password=dict(type="str", no_log=True),
    prometheus_headers=dict(type="dict", no_log=True),
    prometheus_ca_file=dict(type="path"),
    prometheus_client_cert=dict(type="path"),
    prometheus_client_key=dict(type="path", no_log=False),
    prometheus_validate_certs=dict(type="bool", default=True),
    prometheus_timeout=dict(type="int"),
)


def prometheus_options(params):
    """Keyword arguments for PrometheusProvider from module params."""
    return dict(
        url=params.get("prometheus_url"),
        token=params.get("prometheus_token"),
        username=params.get("prometheus_username"),
        password=params.get("prometheus_password"),
        headers=params.get("prometheus_headers"),
        ca_file=params.get("prometheus_ca_file"),
        client_cert=params.get("prometheus_client_cert"),
        client_key=params.get("prometheus_client_key"),
        validate_certs=params.get("prometheus_validate_certs", True),
        timeout=params.get("prometheus_timeout"),
    )


# Documented in doc_fragments/rollout_selection.py
ROLLOUT_SELECTION_ARG_SPEC = dict(
    name=dict(type="str"),
    names=dict(type="list", elements="str"),
    label_selectors=dict(type="list", elements="str"),
    namespace=dict(type="str"),
)

# Documented in doc_fragments/rollout_selection.py (WAIT)
ROLLOUT_WAIT_ARG_SPEC = dict(
    wait=dict(type="bool", default=False),
    wait_for=dict(type="raw"),
    wait_timeout=dict(type="int", default=300),
    wait_sleep=dict(type="float", default=2),
)


def selected_names(params):
    """The names asked for by name/names, or None when a label selector chooses."""
    return params.get("names") or ([params["name"]] if params.get("name") else None)


# Documented in doc_fragments/router.py
ROUTER_ARG_SPEC = dict(
    release=dict(type="str", required=True),
    router=dict(type="str", required=True, choices=["nginx", "gateway_api", "ingress_nginx", "istio",
                                                    "openshift_route"]),
    nginx=dict(type="dict", options=dict(
        config_dir=dict(type="path", required=True),
        listen=dict(type="str", required=True),
        stable=dict(type="list", elements="str", required=True),
        canary=dict(type="list", elements="str", required=True),
        main_config=dict(type="path", default="/etc/nginx/nginx.conf"),
        prefix=dict(type="path"),
        binary=dict(type="str", default="nginx"),
    )),
    kubernetes_target=dict(type="dict", options=dict(
        namespace=dict(type="str", required=True),
        name=dict(type="str", required=True),
        stable_service=dict(type="str", required=True),
        canary_service=dict(type="str", required=True),
        port=dict(type="int", default=80),
        host=dict(type="str"),
    )),
    cohorts=dict(type="dict", default={}, options=dict(
        header=dict(type="str", default="x-canary-cohort"),
        always_canary=dict(type="list", elements="str", default=[]),
        never_canary=dict(type="list", elements="str", default=[]),
    )),
)
