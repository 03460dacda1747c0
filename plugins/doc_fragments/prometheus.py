# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Prometheus connection options, the counterpart of module_utils/args_common.PROMETHEUS_ARG_SPEC

    DOCUMENTATION = r"""
options:
  prometheus_url:
    description:
      - Base URL of the Prometheus HTTP API, for example C(http://prometheus.monitoring:9090).
      - Overrides every metric's C(provider.prometheus.address). Without it each metric uses its own
        address, then the E(ARGO_ROLLOUTS_PROMETHEUS_ADDRESS) environment variable, as Argo Rollouts does.
      - Credentials in the URL (C(https://user:password@host)) are used, and shown as C(https://user:***@host) in every
        message and result.
      - When not given, the E(PROMETHEUS_URL) environment variable (an AWX credential of the collection's
        C(Prometheus) type sets it); set there, it too overrides every metric's address.
    type: str
  prometheus_token:
    description:
      - Bearer token, sent in the C(Authorization) header. Mutually exclusive with O(prometheus_username).
      - Surrounding whitespace is removed, so a token read from a secret created with C(echo ... | kubectl create secret)
        works despite its trailing newline; a line break inside the token is refused with a message that does not show it.
      - Never shown (C(no_log)); shown as C(***) if Prometheus echoes it.
      - When not given, the E(PROMETHEUS_TOKEN) environment variable.
    type: str
  prometheus_username:
    description:
      - Username for HTTP basic authentication.
      - When not given, the E(PROMETHEUS_USERNAME) environment variable.
    type: str
  prometheus_password:
    description:
      - Password for HTTP basic authentication.
      - Never shown (C(no_log)); shown as C(***) if it appears in a message.
      - When not given, the E(PROMETHEUS_PASSWORD) environment variable.
    type: str
  prometheus_headers:
    description:
      - Extra HTTP headers sent with every query, for example a tenant header (C(X-Scope-OrgID)).
      - Added to the metric's own C(provider.prometheus.headers); these win on a clash.
      - Values are stripped of surrounding whitespace; a value with a line break inside is refused. Values are never
        shown (C(no_log)).
      - 'When not given, the E(PROMETHEUS_HEADERS) environment variable, a JSON object
        (C({"X-Scope-OrgID": "team-a"})).'
    type: dict
  prometheus_ca_file:
    description:
      - CA bundle used to verify the Prometheus server's certificate.
      - When not given, the E(PROMETHEUS_CA_FILE) environment variable (the AWX credential type writes the CA
        it holds to a file and sets this variable to its path).
    type: path
  prometheus_client_cert:
    description:
      - Client certificate (PEM) for mutual TLS.
      - When not given, the E(PROMETHEUS_CLIENT_CERT) environment variable.
    type: path
  prometheus_client_key:
    description:
      - Private key (PEM) of O(prometheus_client_cert).
      - When not given, the E(PROMETHEUS_CLIENT_KEY) environment variable.
    type: path
  prometheus_validate_certs:
    description:
      - Verify the Prometheus server's TLS certificate.
      - A metric with C(provider.prometheus.insecure=true) skips verification for its own queries, as in Argo Rollouts.
      - When not given, the E(PROMETHEUS_VALIDATE_CERTS) environment variable (C(true) or C(false)), else C(true).
    type: bool
    default: true
  prometheus_timeout:
    description:
      - Seconds one query may take in all (connecting, and reading the whole answer, however slowly the server sends
        it). Defaults to the metric's C(provider.prometheus.timeout), else 30.
      - A query that does not finish in time is a measurement of phase C(Error).
      - With a C(max_duration), a query gets no more than the time left of the analysis.
    type: int
"""
