"""A webhook receiver for the fetch tests (issue 10): an HTTP server on 127.0.0.1 (reached as
`http://localhost:PORT/hook/NAME`) that checks each delivery's Standard Webhooks signature with
the `standardwebhooks` package from PyPI, records it, and answers as it is told:

    receiver.secret("a", "whsec_…")   deliveries to /hook/a are verified with that secret
    receiver.set_answer(500 / 410 / 204) what every delivery gets from now on
    receiver.set_answer(302, location=URL) a redirect (which a sender must not follow)
    receiver.down() / receiver.up()   close the port (connection refused), then listen on it again
"""
import http.server as _http_server
import json
import threading
import time

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class _HookHandler(_http_server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        receiver = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        name = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = {"path": self.path, "name": name, "headers": headers, "body": body, "at": time.time(),
                  "verified": False, "verify_error": None, "payload": None}
        with receiver.lock:
            secret = receiver.secrets.get(name)
            status, location = receiver.answer, receiver.location
        if secret is None:
            record["verify_error"] = f"no secret registered for {name!r}"
        else:
            try:
                record["payload"] = Webhook(secret).verify(body, headers)
                record["verified"] = True
            except WebhookVerificationError as e:
                record["verify_error"] = str(e)
        record["answered"] = status
        with receiver.lock:
            receiver.deliveries.append(record)
        reply = json.dumps({"received": record["verified"]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        if location:
            self.send_header("Location", location)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply)
        self.close_connection = True


class WebhookReceiver:
    def __init__(self):
        self.lock = threading.Lock()
        self.secrets = {}
        self.deliveries = []
        self.answer = 204
        self.location = None
        self.httpd = None
        self.port = None
        self.up()

    def up(self):
        """Listens (again) on the receiver's port."""
        assert self.httpd is None, "receiver already up"
        httpd = _http_server.ThreadingHTTPServer(("127.0.0.1", self.port or 0), _HookHandler)
        httpd.daemon_threads = True
        httpd.receiver = self
        self.port = httpd.server_address[1]
        threading.Thread(target=httpd.serve_forever, name="webhook-receiver", daemon=True).start()
        self.httpd = httpd

    def down(self):
        """Closes the port: deliveries get `connection refused` until `up()`."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    close = down

    def url(self, name):
        return f"http://localhost:{self.port}/hook/{name}"

    def secret(self, name, whsec):
        with self.lock:
            self.secrets[name] = whsec

    def set_answer(self, status, location=None):
        with self.lock:
            self.answer, self.location = status, location

    def received(self, name=None):
        with self.lock:
            return [dict(d) for d in self.deliveries if name is None or d["name"] == name]
