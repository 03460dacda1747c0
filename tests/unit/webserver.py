"""A real HTTP server on 127.0.0.1 for the web metric provider's tests: each path answers as scripted and every
request is recorded (method, path, headers, body)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebServer(object):
    """``routes[path] = (status, body)``; body is JSON-encoded unless it is bytes. Paths in ``holds`` wait until
    ``release`` is set (a server that does not answer in time)."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.holds = {"/hold"}
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append({"method": self.command, "path": self.path,
                                        "headers": dict(self.headers.items()), "body": body})
                if self.path in server.holds:
                    server.release.wait(30)
                status, payload = server.routes.get(self.path, (404, {"error": "no such path"}))
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
