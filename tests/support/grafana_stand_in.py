"""Grafana is not installable here: a small HTTP server on 127.0.0.1 stands in for its annotation API
(POST /api/annotations) and records what it was sent."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class GrafanaStandIn(object):
    def __init__(self):
        self.annotations = []
        received = self.annotations

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                 "body": json.loads(body or b"{}")})
                data = b'{"id": 1, "message": "Annotation added"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
