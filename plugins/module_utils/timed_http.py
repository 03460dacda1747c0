# -*- coding: utf-8 -*-
# Copyright: (c) 2026, progressive.delivery contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One HTTP exchange that never outlives its deadline: connecting, a server trickling its headers or its
body, DNS. Shared by the Prometheus client and the web metric provider; the callers turn what it raises
into their own messages."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import threading
import time

from ansible.module_utils.six.moves import http_client
from ansible.module_utils.six.moves.urllib.error import HTTPError

MAX_BODY_BYTES = 256 * 1024 * 1024  # an answer larger than this is refused rather than read into memory
_CHUNK = 64 * 1024


class DeadlineExceeded(Exception):
    """The exchange did not finish before its deadline."""


class BodyTooLarge(Exception):
    """The answer was larger than the limit and was not read to its end."""


def header_problem(value):
    """Why ``value`` cannot be sent in an HTTP header, or None; never quotes the value."""
    if any((ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in value):
        return "a line break or another control character inside it"
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return "a character that HTTP headers cannot carry (outside Latin-1)"
    return None


def _socket_of(resp):
    """The socket under a urllib/http.client response (so each read can be given the time left), or None."""
    fp = resp
    for _level in range(5):
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
        if sock is not None and hasattr(sock, "settimeout"):
            return sock
        fp = getattr(fp, "fp", None) or getattr(fp, "fileobj", None)
        if fp is None:
            return None
    return None


def read_body(resp, deadline, max_bytes=MAX_BODY_BYTES):
    """The whole body, read in chunks; raises socket.timeout once ``deadline`` (monotonic) has passed."""
    read = getattr(resp, "read1", None) or resp.read
    sock = _socket_of(resp)
    chunks, size = [], 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline reached while reading the answer")
        if sock is not None:
            sock.settimeout(remaining)
        chunk = read(_CHUNK)
        if not chunk:
            missing = getattr(resp, "length", None)
            if isinstance(missing, int) and not isinstance(missing, bool) and missing > 0:
                raise http_client.IncompleteRead(b"".join(chunks), missing)
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(max_bytes)
        chunks.append(chunk)


def _shut(resp):
    """Stop a response another thread is still reading (best effort)."""
    sock = _socket_of(resp) if resp is not None else None
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass


def exchange(request, method, url, data, deadline, name="http-exchange", max_bytes=MAX_BODY_BYTES):
    """Send with ``request`` (ansible.module_utils.urls.Request) and read the whole answer before ``deadline``
    (monotonic); returns (HTTP code, reason, body). An HTTP error status is an answer, not an exception.

    The request runs in a helper thread so that nothing holds the caller past the deadline: then
    DeadlineExceeded. Any other failure of the exchange is raised as it came."""
    box = {}
    done = threading.Event()

    def work():
        try:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("no time left")
            try:
                resp = request.open(method, url, data=data, timeout=remaining)
            except HTTPError as e:
                box["resp"] = e
                box["answer"] = (e.code, e.reason, read_body(e, deadline, max_bytes) if e.fp is not None else b"")
                return
            box["resp"] = resp
            box["answer"] = (getattr(resp, "status", None) or 200, getattr(resp, "reason", None) or "OK",
                             read_body(resp, deadline, max_bytes))
        except BaseException as e:  # pylint: disable=broad-except
            box["error"] = e
        finally:
            done.set()

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    # a little grace so that the worker's own, more precise error wins over the generic timeout
    if not done.wait(max(0.0, deadline - time.monotonic()) + 0.25):
        _shut(box.get("resp"))
        raise DeadlineExceeded()
    resp = box.get("resp")
    if resp is not None and hasattr(resp, "close"):
        try:
            resp.close()
        except Exception:  # pylint: disable=broad-except
            pass
    if "error" in box:
        raise box["error"]
    return box["answer"]
