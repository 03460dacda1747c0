"""A small HTTP app that exports real Prometheus metrics, with an error rate and latency you set.

It serves ``/`` (the "business" endpoint), ``/metrics`` (prometheus_client exposition),
``/control`` (GET with ?error_rate=0.2&latency=0.05 changes behaviour at run time) and
``/healthz``. Every request counted is labelled ``mirrored="true"`` when it is a router's copy (a traffic
mirror: it carries ``X-PD-Mirrored``, or its Host ends with ``-shadow`` as Envoy sends copies) and
``mirrored="false"`` when a user sent it, so an analysis can judge a dark canary on its answers to the copies
and a report can tell failed answers to users from failed answers nobody received. With ``--load-rps`` it also
sends itself requests, bounded by ``--load-seconds`` and a request cap, then stops by itself: traffic never
leaves 127.0.0.1.

Errors are spread evenly (every 5th request at 0.2) rather than drawn at random, so a test
that asks for 20% errors sees 20% in any window.
"""

import argparse
import math
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, CONTENT_TYPE_LATEST

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0)


class Behaviour(object):
    """Error rate and latency, changeable while serving."""

    def __init__(self, error_rate, latency):
        self.lock = threading.Lock()
        self.error_rate = error_rate
        self.latency = latency
        self.served = 0

    def next_request(self):
        """(fail?, latency) for the next request; failures evenly spaced at error_rate."""
        with self.lock:
            n = self.served
            self.served += 1
            fail = math.floor((n + 1) * self.error_rate) > math.floor(n * self.error_rate)
            return fail, self.latency

    def update(self, error_rate=None, latency=None):
        with self.lock:
            if error_rate is not None:
                self.error_rate = min(1.0, max(0.0, error_rate))
            if latency is not None:
                self.latency = max(0.0, latency)


MIRROR_HEADER = "X-PD-Mirrored"  # routers.MIRROR_HEADER: the nginx mirror adds it to every copy
SHADOW_SUFFIX = "-shadow"  # Envoy (Istio, most Gateway API implementations) appends it to a copy's Host


def is_mirrored(headers):
    """"true" for a router's copy of a request, "false" for a user's request (the ``mirrored`` label)."""
    host = re.sub(r":\d+$", "", headers.get("Host") or "")  # the name, without a port
    return "true" if headers.get(MIRROR_HEADER) or host.endswith(SHADOW_SUFFIX) else "false"


def make_handler(version, behaviour, registry):
    requests_total = Counter("http_requests_total", "HTTP requests served", ["code", "method", "version", "mirrored"],
                             registry=registry)
    duration = Histogram("http_request_duration_seconds", "HTTP request latency", ["version", "mirrored"],
                         buckets=BUCKETS, registry=registry)
    # every series exists from the start at 0: a 500 series born with the first error would have no
    # earlier sample, and rate() over it would miss those errors until the next scrape (and a canary that
    # served users nothing reports 0 failed user requests, not no data)
    for code in ("200", "500"):
        for mirrored in ("true", "false"):
            requests_total.labels(code, "GET", version, mirrored)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in separate writes: without this, Nagle and delayed ACKs add
        # 40 ms to every request on a kept-alive connection (nginx's upstream keepalive)
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet: tests read metrics, not access logs
            pass

        def reply(self, code, body, content_type="text/plain; charset=utf-8"):
            data = body if isinstance(body, bytes) else body.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-App-Version", version)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            if url.path == "/metrics":
                return self.reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            if url.path == "/healthz":
                return self.reply(200, "ok\n")
            if url.path == "/control":
                q = urllib.parse.parse_qs(url.query)
                try:
                    behaviour.update(float(q["error_rate"][0]) if "error_rate" in q else None,
                                     float(q["latency"][0]) if "latency" in q else None)
                except ValueError:
                    return self.reply(400, "error_rate and latency must be numbers\n")
                return self.reply(200, "error_rate=%s latency=%s\n" % (behaviour.error_rate, behaviour.latency))
            self.business()

        def do_POST(self):  # a write: the mirror tests check that it is copied only when the plan names POST
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.business()

        def business(self):
            start = time.time()
            mirrored = is_mirrored(self.headers)
            fail, latency = behaviour.next_request()
            if latency:
                time.sleep(latency)
            code = 500 if fail else 200
            # counted before the answer is written: whoever sent a copy throws the answer away and may have closed
            # the connection, so the write can fail, but the app did answer
            requests_total.labels(str(code), self.command, version, mirrored).inc()
            duration.labels(version, mirrored).observe(time.time() - start)
            self.reply(code, "%s %s\n" % (version, "error" if fail else "ok"))

    return Handler


def self_load(port, rps, seconds, stop):
    """Bounded load: at most rps*seconds requests, for at most `seconds`, then it stops."""
    url = "http://127.0.0.1:%d/" % port
    deadline = time.time() + seconds
    budget = int(rps * seconds)
    interval = 1.0 / rps
    next_at = time.time()
    while budget > 0 and time.time() < deadline and not stop.is_set():
        try:
            urllib.request.urlopen(url, timeout=5).read()
        except urllib.error.HTTPError:
            pass  # a 500 is the point when the error rate is up
        except (urllib.error.URLError, OSError):
            pass
        budget -= 1
        next_at += interval
        stop.wait(max(0.0, next_at - time.time()))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--version", default="v1")
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--load-rps", type=float, default=0.0)
    p.add_argument("--load-seconds", type=float, default=600.0)
    args = p.parse_args(argv)

    behaviour = Behaviour(args.error_rate, args.latency)
    server = ThreadingHTTPServer(("127.0.0.1", args.port),
                                 make_handler(args.version, behaviour, CollectorRegistry()))
    server.daemon_threads = True
    stop = threading.Event()
    if args.load_rps > 0:
        threading.Thread(target=self_load, args=(args.port, args.load_rps, args.load_seconds, stop),
                         daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()


if __name__ == "__main__":
    main()
