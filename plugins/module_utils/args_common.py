# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by modules, documented once in doc_fragments of the same names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.basic import AnsibleFallbackNotFound


def env_fallback_set(*names):
    """env_fallback, where an empty variable counts as unset: an AWX credential injects its optional fields
    that were left blank as empty variables, which must not override anything (or, for a CA file, point at
    an empty file)."""
    for name in names:
        if os.environ.get(name, "").strip():
            return os.environ[name]
    raise AnsibleFallbackNotFound


# Prefixed so they never clash with kubernetes.core's validate_certs/ca_cert in the same module.
# Each option falls back to an environment variable (as kubernetes.core's K8S_AUTH_*), so an AWX credential
# type can inject the connection and no secret sits in a survey or extra vars (awx/credential_types.yml).
PROMETHEUS_ENV = dict(
    prometheus_url="PROMETHEUS_URL",
    prometheus_token="PROMETHEUS_TOKEN",
    prometheus_username="PROMETHEUS_USERNAME",
    prometheus_password="PROMETHEUS_PASSWORD",
    prometheus_headers="PROMETHEUS_HEADERS",
    prometheus_ca_file="PROMETHEUS_CA_FILE",
    prometheus_client_cert="PROMETHEUS_CLIENT_CERT",
    prometheus_client_key="PROMETHEUS_CLIENT_KEY",
    prometheus_validate_certs="PROMETHEUS_VALIDATE_CERTS",
)

PROMETHEUS_ARG_SPEC = dict(
    prometheus_url=dict(type="str"),
    prometheus_token=dict(type="str", no_log=True),
    prometheus_username=dict(type="str"),
    prometheus_password=dict(type="str", no_log=True),
    prometheus_headers=dict(type="dict", no_log=True),  # from the environment: a JSON object
    prometheus_ca_file=dict(type="path"),
    prometheus_client_cert=dict(type="path"),
    prometheus_client_key=dict(type="path", no_log=False),
    prometheus_validate_certs=dict(type="bool", default=True),
    prometheus_timeout=dict(type="int"),
)
for _option, _variable in PROMETHEUS_ENV.items():
    PROMETHEUS_ARG_SPEC[_option]["fallback"] = (env_fallback_set, [_variable])


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

# Documented in doc_fragments/rollout_selection.py (MATCH), for modules that change rollouts
ROLLOUT_MATCH_ARG_SPEC = dict(
    allow_no_match=dict(type="bool", default=False),
)

# Documented in doc_fragments/rollout_selection.py (WAIT)
ROLLOUT_WAIT_ARG_SPEC = dict(
    wait=dict(type="bool", default=False),
    wait_for=dict(type="raw"),
    wait_timeout=dict(type="int", default=300),
    wait_sleep=dict(type="float", default=2),
)


class SelectionError(ValueError):
    """A rollout selection that would act on the wrong rollouts (or all of them), with the fix."""


def _blank(value):
    return value is None or not str(value).strip()


def check_selection(params, selector_required=True):
    """Refuse a selection that could widen the blast radius: an empty name, an empty entry in names,
    an empty list, and (``selector_required``, for modules that change rollouts) label_selectors that
    are empty, which the API would read as "every rollout". Raises SelectionError."""
    if params.get("name") is not None and _blank(params["name"]):
        raise SelectionError("name is empty (an unset variable?); give the rollout's name, or use label_selectors")
    names = params.get("names")
    if names is not None:
        if not names:
            raise SelectionError("names is an empty list: no rollout is named; give at least one name")
        empty = [i for i, n in enumerate(names) if _blank(n)]
        if empty:
            raise SelectionError("names has an empty name at position %s (an unset variable?); give every "
                                 "rollout's name" % ", ".join(str(i) for i in empty))
    selectors = params.get("label_selectors")
    if selectors is None:
        return
    where = "in namespace '%s'" % params["namespace"] if params.get("namespace") else "in every namespace of the cluster"
    if any(_blank(s) for s in selectors) or (selector_required and not selectors):
        raise SelectionError("label_selectors %s is empty: it would select every rollout %s; give a selector "
                             "such as team=payments, or name the rollouts with name/names" % (selectors, where))


def selected_names(params):
    """The names asked for by name/names, or None when a label selector chooses."""
    if params.get("names") is not None:
        return params["names"]
    return [params["name"]] if params.get("name") is not None else None


def selector_text(params):
    """label_selectors as one API selector (ANDed), or None when there are none."""
    return ",".join(s.strip() for s in params.get("label_selectors") or []) or None


# Documented in doc_fragments/router.py
ROUTER_ARG_SPEC = dict(
    release=dict(type="str", required=True),
    router=dict(type="str", required=True, choices=["nginx", "gateway_api", "ingress_nginx", "istio",
                                                    "openshift_route"]),
    # listen, the pools, mode and the flags: when left out, those the release's routing file keeps
    # (routers/factory.py), so an on-call needs only the release and the config_dir
    nginx=dict(type="dict", options=dict(
        config_dir=dict(type="path", default="/etc/nginx/conf.d"),
        listen=dict(type="str"),
        stable=dict(type="list", elements="str"),
        canary=dict(type="list", elements="str"),
        main_config=dict(type="path", default="/etc/nginx/nginx.conf"),
        prefix=dict(type="path"),
        binary=dict(type="str", default="nginx"),
        mode=dict(type="str", choices=["server", "include"]),
        expose_routing=dict(type="bool"),
        weight_header=dict(type="bool"),
    )),
    kubernetes_target=dict(type="dict", options=dict(
        namespace=dict(type="str", required=True),
        name=dict(type="str", required=True),
        stable_service=dict(type="str", required=True),
        canary_service=dict(type="str", required=True),
        port=dict(type="int", default=80),
        host=dict(type="str"),
    )),
    # no default: left out, the cohorts the release saved are kept (a hand-made step must not drop them)
    cohorts=dict(type="dict", options=dict(
        header=dict(type="str", default="x-canary-cohort"),
        always_canary=dict(type="list", elements="str", default=[]),
        never_canary=dict(type="list", elements="str", default=[]),
    )),
)
