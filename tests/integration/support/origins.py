"""Local origins for URL imports: a tiny HTTP server on 127.0.0.1 that logs what it is asked."""
import http.server as _http_server
import threading
import time
import urllib.parse as _urlparse


class _OriginHandler(_http_server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        origin = self.server.origin
        parsed = _urlparse.urlsplit(self.path)
        record = {"path": parsed.path, "query": parsed.query, "sent": 0, "complete": False,
                  "host": self.headers.get("Host")}
        with origin.lock:
            origin.log.append(record)
            route = origin.routes.get(parsed.path)
        if route is None:
            route = ("status", 404, b'{"not":"found"}', "application/json", None)
        kind = route[0]
        try:
            if kind == "redirect":
                self.send_response(route[1])
                self.send_header("Location", route[2])
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                record["complete"] = True
                return
            _, status, body, ctype, rate = route
            with origin.lock:
                failing = origin.failures.get(parsed.path)
                if failing and failing[0] > 0:
                    failing[0] -= 1
                    status, body, ctype, rate = failing[1], b"try again later", "text/plain", None
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if rate is None:
                self.wfile.write(body)
                record["sent"] = len(body)
            else:
                chunk = max(1, rate // 20)
                for start in range(0, len(body), chunk):
                    self.wfile.write(body[start:start + chunk])
                    self.wfile.flush()
                    record["sent"] = min(len(body), start + chunk)
                    time.sleep(chunk / rate)
            record["complete"] = True
        except (BrokenPipeError, ConnectionResetError, OSError):
            record["aborted"] = True
        finally:
            self.close_connection = True


class Origin:
    """A tiny HTTP origin on 127.0.0.1 (a free port) in a thread; logs every request it gets."""

    def __init__(self):
        self.lock = threading.Lock()
        self.routes = {}
        self.failures = {}  # path -> [how many more times to fail, status]
        self.log = []
        self.httpd = _http_server.ThreadingHTTPServer(("127.0.0.1", 0), _OriginHandler)
        self.httpd.daemon_threads = True
        self.httpd.origin = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="origin", daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path, host="localhost"):
        return f"http://{host}:{self.port}{path}"

    def serve(self, path, body, content_type="application/octet-stream", status=200, rate=None):
        """`rate`: bytes per second (throttled), or None for full speed."""
        with self.lock:
            self.routes[path] = ("status", status, body, content_type, rate)
        return path

    def fail_first(self, path, times, status=503):
        """The next `times` requests for `path` get `status` instead of its route."""
        with self.lock:
            self.failures[path] = [times, status]
        return path

    def redirect(self, path, location, status=302):
        with self.lock:
            self.routes[path] = ("redirect", status, location)
        return path

    def requests_for(self, path=None, query_contains=None):
        with self.lock:
            return [dict(r) for r in self.log
                    if (path is None or r["path"] == path) and (query_contains is None or query_contains in r["query"])]

    def mark(self):
        """Position in the request log (see `since`)."""
        with self.lock:
            return len(self.log)

    def since(self, mark):
        with self.lock:
            return [dict(r) for r in self.log[mark:]]
