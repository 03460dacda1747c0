# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One way to keep secrets out of what the collection shows: messages, results, exceptions.

Two kinds of secret are hidden:

- credentials inside URLs (``https://user:pass@host`` shows as ``https://user:***@host``, and a
  user-only ``https://token@host`` as ``https://***@host``), wherever a URL appears in a text;
- known secret values (bearer tokens, passwords, header values, the values of AnalysisTemplate
  args that come from ``valueFrom.secretKeyRef``), replaced by ``***``.

A ``Redactor`` holds the secret values of one run; ``redact_url`` and ``Redactor.text`` are pure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re

from ansible.module_utils.six.moves.urllib.parse import unquote, urlparse

MASK = "***"

# scheme://userinfo@ inside any text; the userinfo runs to the last @ before the first / ? # or whitespace
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s'\"]*)@")


def _mask_userinfo(match):
    userinfo = match.group("userinfo")
    if not userinfo:
        return match.group(0)
    if ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        return "%s%s:%s@" % (match.group("scheme"), user, MASK)
    return "%s%s@" % (match.group("scheme"), MASK)


def redact_url(url):
    """``url`` with the password (or a user-only token) of its userinfo replaced by ``***``."""
    if not isinstance(url, str):
        return url
    return _USERINFO.sub(_mask_userinfo, url)


def url_secrets(url):
    """The secret parts of a URL's userinfo, raw and percent-decoded, for a Redactor."""
    if not isinstance(url, str) or "@" not in url:
        return []
    try:
        parsed = urlparse(url)
    except ValueError:
        return []
    netloc = parsed.netloc or ""
    if "@" not in netloc:
        return []
    userinfo = netloc.rsplit("@", 1)[0]
    secret = userinfo.split(":", 1)[1] if ":" in userinfo else userinfo
    return [s for s in (secret, unquote(secret)) if s]


def auth_secrets(token=None, username=None, password=None):
    """Values derived from the credentials that could be echoed: the token, the password and the
    base64 of ``user:password`` sent in a Basic header."""
    out = []
    for value in (token, password):
        if isinstance(value, str) and value:
            out.extend([value, value.strip()])
    if username is not None and password:
        creds = "%s:%s" % (username, password)
        out.append(base64.b64encode(creds.encode("utf-8")).decode("ascii"))
    return [s for s in out if s]


class Redactor(object):
    """Replaces known secret values and URL credentials by ``***`` in texts and nested results."""

    def __init__(self, secrets=None):
        self.secrets = []
        self.add(secrets or [])

    def add(self, secrets):
        """Add secret values (strings; others are ignored). Longest first, so a secret that contains
        another is hidden whole."""
        for value in secrets:
            if not isinstance(value, str):
                continue
            for candidate in (value, value.strip()):
                if candidate and candidate not in self.secrets:
                    self.secrets.append(candidate)
        self.secrets.sort(key=len, reverse=True)
        return self

    def text(self, value):
        """A string with every secret and every URL password hidden; other types are returned as they are."""
        if not isinstance(value, str):
            return value
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return redact_url(value)

    def deep(self, obj):
        """A copy of ``obj`` (dicts, lists, strings) with every string passed through ``text``."""
        if isinstance(obj, dict):
            return dict((self.deep(k), self.deep(v)) for k, v in obj.items())
        if isinstance(obj, (list, tuple)):
            return [self.deep(v) for v in obj]
        return self.text(obj)

    def exception_text(self, exc):
        """``Type: message`` of an exception, redacted; for errors the code did not expect."""
        message = getattr(exc, "message", None) or str(exc)
        return self.text("%s: %s" % (type(exc).__name__, message))


def protect_module(module, urls=(), secrets=()):
    """Tell Ansible to censor URL passwords and secret values in everything the module returns,
    ``invocation.module_args`` included (Ansible's own ``no_log`` net, behind our redaction)."""
    target = getattr(module, "_module", module)  # kubernetes.core's AnsibleK8SModule wraps an AnsibleModule
    values = []
    for url in urls:
        values.extend(url_secrets(url))
    values.extend(s for s in secrets if isinstance(s, str))
    for value in values:
        for candidate in (value, value.strip()):
            if candidate:
                target.no_log_values.add(candidate)
