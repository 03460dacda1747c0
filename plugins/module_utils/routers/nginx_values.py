# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The values that reach host nginx's configuration and command line, checked against the grammar each
must have (a RouterError names the option, the value and the grammar); nothing is ever escaped."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import socket

from ansible_collections.progressive.delivery.plugins.module_utils.routers import refuse

HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                         r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
PORT_RE = re.compile(r"^[0-9]{1,5}$")
ADDRESS_GRAMMAR = ("host:port, the host an IPv4 address, an [IPv6] address in brackets or a host name of DNS "
                   "labels, the port from 1 to 65535")
LISTEN_GRAMMAR = "[host:]port, the host an IPv4 address, an [IPv6] address in brackets or a host name of DNS labels, " \
                 "the port from 1 to 65535"
# nginx's header variables only see names of letters, digits and '-' (ignore_invalid_headers)
NGINX_HEADER_RE = re.compile(r"^[a-z0-9-]{1,128}$")
# a path that goes into nginx's configuration or its command line
PATH_RE = re.compile(r"^[A-Za-z0-9_./@+=,:~-]+$")
PATH_GRAMMAR = "a path of letters, digits and '_./@+=,:~-' (no spaces, quotes, ';', '{', '}', '#', '$' or newlines)"


def _port(text):
    if not PORT_RE.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise ValueError("port")
    return int(text)


def _host(text):
    """The host part of an address, as nginx must be given it; ValueError when it is none of the grammars."""
    if text.startswith("["):
        if not re.fullmatch(r"\[[0-9A-Fa-f:.]+\]", text):  # no zone (%eth0): nginx takes none
            raise ValueError("host")
        return "[%s]" % ipaddress.IPv6Address(text[1:-1]).compressed
    if re.fullmatch(r"[0-9.]+", text):
        return str(ipaddress.IPv4Address(text))
    if HOSTNAME_RE.fullmatch(text):
        return text.lower()
    raise ValueError("host")


def validate_address(value, option):
    """``host:port`` (IPv4, [IPv6] or a host name; port 1-65535), normalised."""
    if not isinstance(value, str) or ":" not in value:
        raise refuse(option, value, ADDRESS_GRAMMAR)
    host, _sep, port = value.rpartition(":")
    try:
        return "%s:%d" % (_host(host), _port(port))
    except ValueError:
        raise refuse(option, value, ADDRESS_GRAMMAR)


def validate_listen(value, option="nginx.listen"):
    """``[host:]port``, normalised to ``host:port`` (the host 127.0.0.1 when only a port is given)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise refuse(option, value, LISTEN_GRAMMAR)
    text = str(value)
    if ":" not in text:
        try:
            return "127.0.0.1:%d" % _port(text)
        except ValueError:
            raise refuse(option, value, LISTEN_GRAMMAR)
    host, _sep, port = text.rpartition(":")
    try:
        return "%s:%d" % (_host(host), _port(port))
    except ValueError:
        raise refuse(option, value, LISTEN_GRAMMAR)


def validate_path(value, option, required=True):
    """A path (or command) that goes into nginx's configuration or its command line."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not PATH_RE.fullmatch(value):
        raise refuse(option, value, PATH_GRAMMAR)
    return value


def validate_nginx_header(header, option="cohorts.header"):
    if not NGINX_HEADER_RE.fullmatch(header or ""):
        raise refuse(option, header, "a header name of letters, digits and '-' for the nginx router (nginx ignores "
                                     "other header names unless told otherwise)")
    return header


def local_addresses(listen):
    """(host to connect to, addresses allowed to read the routing endpoint) for a listen address: loopback,
    and the listen host itself (a connection from this host to its own address comes from that address)."""
    host, _sep, port = listen.rpartition(":")
    host = host.strip("[]")
    allowed = ["127.0.0.1", "::1"]
    if host in ("", "0.0.0.0"):
        return "127.0.0.1", int(port), allowed
    if host == "::":
        return "::1", int(port), allowed
    try:
        found = [ipaddress.ip_address(host)]
    except ValueError:  # a host name: the addresses nginx binds for it
        try:
            found = [ipaddress.ip_address(a[4][0]) for a in socket.getaddrinfo(host, int(port), 0, socket.SOCK_STREAM)]
        except (OSError, ValueError):
            found = []
    allowed += sorted(set(str(a) for a in found if not a.is_loopback))
    return host, int(port), allowed
