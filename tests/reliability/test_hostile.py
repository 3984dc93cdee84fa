"""Hostile input (issue 14): every item of the issue's list, across the dialects, gets the dialect's
own error and status, and nothing changes in the store: `unchanged(stack)` snapshots every table
of the stack's database (each row, not only the counts) and the stored objects before and after.
Where tests/integration already covers an item, RELIABILITY.md names that test and this file adds
only what is missing. A guard's test shows the guarded thing was never reached: `Recorder` is a
local listener (127.0.0.1 and ::1) that logs every request it gets.

Duration: FETCHGATE_RELIABILITY=short (default: a few cases of each kind that runs a fetch) or full
(every SSRF alias behind a redirect, for jobs and fetches).
"""
import base64
import contextlib
import hashlib
import http.server
import json
import os
import socket
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from conftest import (FORM_HEADERS, XML_HEADERS, DownloaderClient, FetchClient, FilesClient, assert_error,
                      assert_json_error, fetch_jobs, fetch_serve_options, nginx_signed_links, running_server, secure_link_md5,
                      stored_fetch_files)
from support.fetch import detail_of

FULL = os.environ.get("FETCHGATE_RELIABILITY", "short") == "full"

# nginx's client_header_timeout as the template sets it (nginx/fetchgate.conf.in).
HEADER_TIMEOUT = 10


# --------------------------------------------------------------------------- the stack and its store

@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One stack of every dialect, on its own (no other test writes to it): the fetch stack's options
    (`localhost` is a private host it may fetch from, the downloader's key-less account)."""
    with running_server(tmp_path_factory, "fetchgate-hostile", fetch_serve_options()) as srv:
        yield srv


def store_state(server):
    """Every table's rows (a digest of each row, sorted) and every stored object: what a refused
    request must leave as it found it."""
    tables = {}
    for table in server.backend.tables():
        rows = server.rows(f"SELECT * FROM {table}")
        tables[table] = sorted(hashlib.sha256(repr(sorted(r.items())).encode()).hexdigest() for r in rows)
    objects = sorted(str(o) for o in server.stored_objects())
    return tables, objects


@contextlib.contextmanager
def unchanged(server):
    """Asserts that the block changed no row of any table and no stored object."""
    before = store_state(server)
    yield
    # A request the app took may still be finishing its transaction after nginx answered.
    time.sleep(0.05)
    after = store_state(server)
    changed = sorted(t for t in set(before[0]) | set(after[0]) if before[0].get(t) != after[0].get(t))
    assert not changed, f"tables changed: {changed}"
    assert before[1] == after[1], "stored objects changed"


@pytest.fixture(scope="module")
def tenant(stack):
    """One account, seen through every dialect (`store`, `files`, `fetch`, `jobs`, `downloader`), with an
    item, an upload, a Files API file and a finished fetch, so there is something to change."""
    store = stack.create_account()
    t = type("Tenant", (), {})()
    t.store, t.key, t.token = store, store.key, store.token
    t.files = FilesClient(stack, store.token)
    t.fetch = FetchClient(stack, store.token)
    t.jobs = FilesClient(stack, store.token)
    t.downloader = DownloaderClient(stack)
    up = store.upload("victim.txt", b"victim data", "text/plain")
    store.create_item("V-1", name="First", price="1.5", extra=f"<upload_id>{up.findtext('id')}</upload_id>")
    t.file = t.files.upload("clip.bin", b"\0" * 1024, "application/octet-stream")
    # The upload's probe job runs in the worker: wait for it, so the store is at rest.
    assert t.files.wait(t.file["id"])["status"] == "ready"
    return t


# --------------------------------------------------------------------------- a listener that records hits

class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    def _record(self):
        self.server.recorder.hit(self.command, self.path)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _record

    def log_message(self, *args):
        pass


class _V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


class Recorder:
    """What no outbound request may reach: one listener on 127.0.0.1 and one on ::1, both logging."""

    def __init__(self):
        self.lock = threading.Lock()
        self.log = []
        self.servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler),
                        _V6Server(("::1", 0), _RecordingHandler)]
        for s in self.servers:
            s.recorder = self
            s.daemon_threads = True
            threading.Thread(target=s.serve_forever, daemon=True).start()
        self.port, self.port6 = (s.server_address[1] for s in self.servers)

    def hit(self, method, path):
        with self.lock:
            self.log.append((method, path))

    @property
    def hits(self):
        with self.lock:
            return list(self.log)

    def close(self):
        for s in self.servers:
            s.shutdown()
            s.server_close()

    def aliases(self, path="/v.mp4"):
        """The issue's SSRF alias list: every spelling of loopback that reaches this listener, and the
        private, shared, link-local and metadata addresses (which no test machine routes anywhere)."""
        p, p6 = self.port, self.port6
        return {
            "loopback": f"http://127.0.0.1:{p}{path}",
            "127.1": f"http://127.1:{p}{path}",
            "decimal-2130706433": f"http://2130706433:{p}{path}",
            "hex-0x7f.1": f"http://0x7f.1:{p}{path}",
            "octal-0177.0.0.1": f"http://0177.0.0.1:{p}{path}",
            "ipv6-[::1]": f"http://[::1]:{p6}{path}",
            "mapped-[::ffff:127.0.0.1]": f"http://[::ffff:127.0.0.1]:{p}{path}",
            "unspecified-0.0.0.0": f"http://0.0.0.0:{p}{path}",
            "private-10": f"http://10.0.0.1{path}",
            "private-172.16": f"http://172.16.0.1{path}",
            "private-192.168": f"http://192.168.1.1{path}",
            "shared-100.64": f"http://100.64.0.1{path}",
            "link-local-169.254.1.1": f"http://169.254.1.1{path}",
            "metadata-169.254.169.254": f"http://169.254.169.254/latest/meta-data/",
            "ula-[fd00::1]": f"http://[fd00::1]{path}",
            "link-local-[fe80::1]": f"http://[fe80::1]{path}",
        }


ALIASES = list(Recorder.aliases(type("P", (), {"port": 1, "port6": 1})()))


@pytest.fixture(scope="module")
def recorder():
    r = Recorder()
    yield r
    r.close()


class _RedirectHandler(http.server.BaseHTTPRequestHandler):
    """An allowed origin (reached as `localhost`): /go/<alias name> answers 302 to that alias."""

    def do_GET(self):
        self.server.log.append(self.path)
        name = urllib.parse.unquote(self.path.rsplit("/", 1)[-1].removesuffix(".mp4"))
        target = self.server.targets.get(name)
        self.send_response(302 if target else 404)
        if target:
            self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_POST = do_PUT = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def redirector(recorder):
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RedirectHandler)
    s.daemon_threads = True
    s.targets = recorder.aliases()
    s.log = []
    threading.Thread(target=s.serve_forever, daemon=True).start()
    s.url = lambda name: f"http://localhost:{s.server_address[1]}/go/{urllib.parse.quote(name)}.mp4"
    yield s
    s.shutdown()
    s.server_close()


# --------------------------------------------------------------------------- malformed and truncated multipart

BOUNDARY = "hostileboundary"
GOOD_PART = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n"
             f"Content-Type: application/octet-stream\r\n\r\n").encode() + b"bytes" * 100
MULTIPART = {
    "truncated-in-bytes": GOOD_PART,
    "truncated-in-headers": f"--{BOUNDARY}\r\nContent-Disposition: form-data; na".encode(),
    "truncated-after-delimiter": GOOD_PART + f"\r\n--{BOUNDARY}".encode(),
    "no-final-delimiter": GOOD_PART + f"\r\n--{BOUNDARY}\r\n".encode(),
    "wrong-boundary": GOOD_PART.replace(BOUNDARY.encode(), b"otherboundary") + b"\r\n--otherboundary--\r\n",
    "no-parts": f"--{BOUNDARY}--\r\n".encode(),
    "garbage": b"\x00\xff" * 64,
    "header-block-over-16k": (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n"
                              f"X-Pad: {'a' * 17000}\r\n\r\nx\r\n--{BOUNDARY}--\r\n").encode(),
    "101-parts": b"".join(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n".encode()
                          for i in range(101)) + f"--{BOUNDARY}--\r\n".encode(),
    "missing-disposition": f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
}
MULTIPART_HEADERS = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.mark.parametrize("case", sorted(MULTIPART))
def test_malformed_multipart_upload_to_the_store(stack, tenant, case):
    with unchanged(stack):
        assert_error(tenant.store.post("/api/uploads", data=MULTIPART[case], headers=MULTIPART_HEADERS), 400)


@pytest.mark.parametrize("case", sorted(MULTIPART))
def test_malformed_multipart_upload_to_the_files_api(stack, tenant, case):
    with unchanged(stack):
        assert_json_error(tenant.files.post("/files", data=MULTIPART[case], headers=MULTIPART_HEADERS), 400)


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=",
                                          "multipart/form-data; boundary=" + "b" * 71])
def test_multipart_without_a_usable_boundary(stack, tenant, content_type):
    with unchanged(stack):
        assert_error(tenant.store.post("/api/uploads", data=MULTIPART["no-parts"], headers={"Content-Type": content_type}),
                     400)
        assert_json_error(tenant.files.post("/files", data=MULTIPART["no-parts"], headers={"Content-Type": content_type}),
                          400)


def test_multipart_cut_off_by_the_client_leaves_nothing(stack, tenant):
    """A client that announces 1 MiB and hangs up after 64 KiB: nginx drops it, no row, no stored file."""
    auth = base64.b64encode(f"{tenant.key}:{tenant.token}".encode()).decode()
    head = (f"POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {1 << 20}\r\n\r\n").encode()
    with unchanged(stack):
        with socket.create_connection(("127.0.0.1", stack.store_port), timeout=5) as s:
            s.sendall(head + GOOD_PART + b"x" * 65536)
        time.sleep(0.5)


# --------------------------------------------------------------------------- slowloris

def _trickle(port, request, interval):
    """Sends `request` one byte every `interval` seconds until the server closes; (seconds, reply bytes)."""
    started = time.monotonic()
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=HEADER_TIMEOUT * 3) as s:
        s.settimeout(interval)
        for byte in request:
            try:
                s.send(bytes([byte]))
                chunk = s.recv(4096)
                got += chunk
                if not chunk:
                    break
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if time.monotonic() - started > HEADER_TIMEOUT * 3:
                break
    return time.monotonic() - started, got


def test_slowloris_is_cut_at_the_header_timeout_and_the_app_never_sees_it(stack, tenant):
    """Two clients (the store and the media server) send a creating request's head one byte every
    0.4 s. nginx cuts each at client_header_timeout (10 s, from the first byte, however steadily
    bytes arrive) without a reply, and no app took the request: nothing changed in the store. The
    same request sent at once does create (so the slow one would have, had it reached the app)."""
    auth = base64.b64encode(f"{tenant.key}:{tenant.token}".encode()).decode()
    item = b"<item><sku>SLOW-1</sku><name>Slow</name></item>"
    store_request = (f"POST /api/items/create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
                     f"Content-Type: application/xml\r\nContent-Length: {len(item)}\r\n"
                     + "X-Pad: " + "a" * 100 + "\r\n\r\n").encode() + item
    media_request = (f"POST /files HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: {tenant.token}\r\n"
                     + "X-Pad: " + "a" * 100 + "\r\n\r\n").encode()
    results = {}
    with unchanged(stack):
        threads = [threading.Thread(target=lambda k=k, p=p, r=r: results.__setitem__(k, _trickle(p, r, 0.4)))
                   for k, p, r in [("store", stack.store_port, store_request), ("media", stack.media_port, media_request)]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for name, (seconds, reply) in results.items():
        assert reply == b"", f"{name}: nginx answered a cut client: {reply[:200]!r}"
        assert HEADER_TIMEOUT - 0.5 <= seconds <= HEADER_TIMEOUT + 2, f"{name}: cut after {seconds:.1f}s"
    fast = tenant.store.post("/api/items/create", data=item, headers=XML_HEADERS)
    assert fast.status_code == 201, fast.text
    tenant.store.delete("/api/items/SLOW-1")


# --------------------------------------------------------------------------- 10 MB headers

def _send_huge_head(port, head):
    """Sends a head of many MB; nginx answers (and closes) long before it is all sent."""
    reply = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        with contextlib.suppress(ConnectionResetError, socket.timeout):
            while chunk := s.recv(65536):
                reply += chunk
    return reply


TEN_MB = 10 * 1024 * 1024
HUGE_HEADS = {
    "one-10MB-header": lambda auth, path: (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n"
                                          f"X-Big: {'a' * TEN_MB}\r\n\r\n").encode(),
    "10MB-of-small-headers": lambda auth, path: (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n"
                                                f"{'X-Small: aaaaaaaaaa' * 1 + chr(13) + chr(10)}" * (TEN_MB // 21)
                                                + "\r\n").encode(),
    "10MB-cookie": lambda auth, path: (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n"
                                      f"Cookie: a={'b' * TEN_MB}\r\n\r\n").encode(),
}


@pytest.mark.parametrize("case", sorted(HUGE_HEADS))
def test_10mb_headers_get_nginx_400_in_each_dialects_format(stack, tenant, case):
    auth = "Authorization: Basic " + base64.b64encode(f"{tenant.key}:{tenant.token}".encode()).decode()
    with unchanged(stack):
        store = _send_huge_head(stack.store_port, HUGE_HEADS[case](auth, "/api/items"))
        media = _send_huge_head(stack.media_port, HUGE_HEADS[case](f"X-API-KEY: {tenant.token}", "/files"))
    for name, reply, kind in [("store", store, "application/xml"), ("media", media, "application/json")]:
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 "), f"{name}: {reply[:300]!r}"
        assert f"content-type: {kind}".encode() in head.lower(), f"{name}: {head!r}"
        if kind == "application/json":
            assert json.loads(body)["error"]["code"], body
        else:
            assert body.lstrip().startswith(b"<?xml") and b"<message>" in body, body


# --------------------------------------------------------------------------- invalid UTF-8

def test_invalid_utf8_in_bodies(stack, tenant):
    with unchanged(stack):
        # XML: the document is refused whole, never stored with U+FFFD in it.
        assert_error(tenant.store.post("/api/items/create", data=b"<item><sku>U-1</sku><name>\xff\xfe</name></item>",
                                       headers=XML_HEADERS), 400)
        assert_error(tenant.store.put("/api/items/V-1", data=b"<item><name>a\xc3</name></item>",
                                      headers=XML_HEADERS), 400)
        # Form bodies: raw and percent-encoded bytes that are not UTF-8.
        assert_error(tenant.store.post("/api/items/create", data=b"item[sku]=U-2&item[name]=\xff",
                                       headers=FORM_HEADERS), 400)
        assert_error(tenant.store.post("/api/items/create", data=b"item[sku]=U-3&item[name]=%FF%FE",
                                       headers=FORM_HEADERS), 400)
        # JSON bodies of every JSON dialect.
        for client, path in [(tenant.fetch, "/fetch"), (tenant.jobs, "/jobs"), (tenant.files, "/files")]:
            assert_json_error(client.post(path, data=b'{"url": "http://localhost/\xff"}',
                                          headers={"Content-Type": "application/json"}), 400)
        detail_of(tenant.downloader.post("/api/download", data=b'{"url": "\xff", "quality": "best"}',
                                         headers={"Content-Type": "application/json"}), 400)


def test_invalid_utf8_in_query_and_path(stack, tenant):
    with unchanged(stack):
        assert_error(tenant.store.get("/api/items", params=b"page=%FF"), 400)
        assert_error(tenant.store.get("/api/items/%FF%FE"), 404)
        assert_json_error(tenant.files.get("/files?page=%FF%FE"), 400)
        assert_json_error(tenant.files.get("/files/%FF%FE"), 404)
        assert_json_error(tenant.fetch.get("/fetch/%C3%28"), 404)
        assert_json_error(tenant.jobs.get("/jobs/%FF"), 404)
        assert_json_error(tenant.fetch.get("/fetch/metadata?url=http%3A%2F%2Flocalhost%2F%FF"), 400)
        detail_of(tenant.downloader.get("/api/download/%FF%FE/file"), 404)


# --------------------------------------------------------------------------- XML bombs and XXE beyond items

BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10) for i in range(1, 10))
                  .replace(b"&lol0;", b"&lol;") + b"]>")


@pytest.mark.parametrize("path,root", [("/api/orders/create", b"<order><id>BOMB</id><title>&lol9;</title></order>"),
                                       ("/api/orders/BOMB", b"<order><title>&lol9;</title></order>"),
                                       ("/api/items/V-1", b"<item><name>&lol9;</name></item>")])
def test_billion_laughs_on_every_xml_write(stack, tenant, path, root):
    method = "POST" if path.endswith("create") else "PUT"
    started = time.monotonic()
    with unchanged(stack):
        assert_error(tenant.store.request(method, path, data=BILLION_LAUGHS + root, headers=XML_HEADERS), 400)
        xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + root.replace(b"&lol9;", b"&e;")
        r = tenant.store.request(method, path, data=xxe, headers=XML_HEADERS)
        assert_error(r, 400)
        assert b"root:" not in r.content
    assert time.monotonic() - started < 2, "an entity was expanded (or nearly)"


# --------------------------------------------------------------------------- JSON depth bombs

def _depth_bombs():
    deep = 100_000
    return {
        "arrays": b'{"url": ' + b"[" * deep + b"]" * deep + b"}",
        "objects": b'{"url": ' + b'{"a":' * deep + b"1" + b"}" * deep + b"}",
        "unclosed": b'{"url": ' + b"[" * deep,
        "just-past-the-limit": b'{"url": ' + b"[" * 40 + b"]" * 40 + b"}",
    }


@pytest.mark.parametrize("case", ["arrays", "objects", "unclosed", "just-past-the-limit"])
def test_json_depth_bombs_on_every_json_dialect(stack, tenant, case):
    body = _depth_bombs()[case]
    headers = {"Content-Type": "application/json"}
    with unchanged(stack):
        for client, path in [(tenant.fetch, "/fetch"), (tenant.jobs, "/jobs"), (tenant.jobs, "/jobs/bulk"),
                             (tenant.files, "/files"), (tenant.jobs, "/user/s3"), (tenant.fetch, "/fetch/metadata")]:
            assert_json_error(client.post(path, data=body, headers=headers), 400)
        detail_of(tenant.downloader.post("/api/download", data=body, headers=headers), 400)


# --------------------------------------------------------------------------- path traversal

# Each id, and what every place that takes one answers: (status, format). nginx resolves dot segments
# (%2e and %2F decoded first): past the root is its 400; otherwise the resolved path is served by
# whatever owns it, which for `/files/..`, `/fetch/..` and `/jobs/..` is the site's own page (`/`).
# A NUL is nginx's 400. Backslashes and double encoding are plain characters of an unknown id.
# Formats: xml (a <message>), json ({"error"}), detail ({"detail"}), link (the customer link page),
# root (the media server's page at `/`, byte for byte).
ID_PLACES = ["/api/items/{}", "/api/uploads/{}", "/get/{}", "/files/{}", "/files/{}/clip.bin", "/fetch/{}",
             "/jobs/{}", "/api/download/{}/file"]
_ABOVE_ROOT = [(404, "xml"), (404, "xml"), (400, "xml"), (400, "json"), (400, "json"), (400, "json"), (400, "json"),
               (404, "json")]
_DOT_DOT = [(404, "xml"), (404, "xml"), (404, "xml"), (200, "root"), (404, "json"), (200, "root"), (200, "root"),
            (404, "json")]
_PLAIN = [(404, "xml"), (404, "xml"), (404, "link"), (404, "json"), (404, "json"), (404, "json"), (404, "json"),
          (404, "detail")]
TRAVERSALS = {
    "..%2F..%2Ffetchgate.sqlite": _ABOVE_ROOT,
    "%2e%2e%2f%2e%2e%2fsecure-link.secret": _ABOVE_ROOT,
    "%2e%2e": _DOT_DOT,
    "..": _DOT_DOT,
    "a%00b": [(400, "xml")] * 3 + [(400, "json")] * 5,
    "..%5C..%5Cfetchgate.sqlite": _PLAIN,
    "%252e%252e%252ffetchgate.sqlite": _PLAIN,
}


@pytest.mark.parametrize("tail", sorted(TRAVERSALS))
def test_traversal_in_ids_of_every_dialect(stack, tenant, tail):
    """Ids carrying `../`, `%2e%2e`, backslashes, double encoding or NUL, in every place that takes an id:
    the exact status and format of each, and nothing of the run directory is ever sent."""
    secret = stack.signing_secret.encode()
    root_page = requests.get(stack.media_url + "/", timeout=10).content
    auth = {"auth": (tenant.key, tenant.token), "headers": {"X-API-KEY": tenant.token}}
    with unchanged(stack):
        replies = [requests.get((stack.store_url if place.startswith(("/api/items", "/api/uploads", "/get"))
                                 else stack.media_url) + place.format(tail), timeout=10, allow_redirects=False, **auth)
                   for place in ID_PLACES]
    for place, r, (status, kind) in zip(ID_PLACES, replies, TRAVERSALS[tail]):
        where = f"{place.format(tail)}: {r.status_code} {r.headers.get('Content-Type')} {r.content[:120]!r}"
        assert r.status_code == status, where
        assert secret not in r.content and b"SQLite format" not in r.content, where
        if kind == "xml":
            assert_error(r, status)
        elif kind == "json":
            assert_json_error(r, status)
        elif kind == "detail":
            detail_of(r, status)
        elif kind == "link":
            assert r.headers["Content-Type"].startswith("text/html") and b"Link not found" in r.content, where
        else:
            assert r.content == root_page, where


@pytest.mark.parametrize("filename,kept", [("../../../etc/cron.d/x", "x"), ("..\\..\\evil.txt", "evil.txt"),
                                           ("%2e%2e%2fevil.txt", "%2e%2e%2fevil.txt"), ("a\x00b.txt", "ab.txt")])
def test_traversal_in_upload_filenames_of_the_files_api(stack, tenant, filename, kept):
    """The Files API keeps only a name's last component (as the store does, test_uploads.py); a NUL is
    dropped (never a cut: `a\\0b.txt` is `ab.txt`, not `a`). Whatever the name, the bytes land under the
    store's own key, nowhere else in the run directory."""
    before = _run_dir_files(stack)
    f = tenant.files.upload(filename, b"traversal", "text/plain")
    assert f["name"] == kept, f
    # New files in the run directory: the stored bytes (on local disk; none with a bucket store), nothing else.
    local = {p for p in stack.stored_files(f["id"]) if isinstance(p, Path)}
    assert _run_dir_files(stack) - before == local, _run_dir_files(stack) - before
    assert tenant.files.delete(f"/files/{f['id']}").status_code == 200


def _run_dir_files(stack):
    """The run directory's files but its logs and the database's own files."""
    return {p for p in stack.run_dir.rglob("*")
            if p.is_file() and "logs" not in p.parts and not p.name.startswith("fetchgate.sqlite")}


# --------------------------------------------------------------------------- SSRF: every alias, every outbound path

def _refused_up_front(tenant, outbound, url):
    """Submits `url` on one outbound path; asserts the dialect's refusal."""
    if outbound == "fetch":
        assert_json_error(tenant.fetch.post("/fetch", json={"url": url}), 400, "url_not_allowed")
    elif outbound == "fetch-metadata":
        assert_json_error(tenant.fetch.get("/fetch/metadata", params={"url": url}), 400, "url_not_allowed")
    elif outbound == "jobs":
        assert_json_error(tenant.jobs.post("/jobs", json={"url": url}), 400, "url_not_allowed")
    elif outbound == "jobs-metadata":
        assert_json_error(tenant.jobs.post("/metadata", json={"url": url}), 400, "url_not_allowed")
    elif outbound == "downloader":
        assert detail_of(tenant.downloader.post("/api/download", json={"url": url, "quality": "best"}), 400).strip()
    elif outbound == "fetch-webhook":
        assert_json_error(tenant.fetch.post("/fetch", json={"url": "http://localhost:9/v.mp4", "webhook_url": url}),
                          400, "webhook_url_not_allowed")
    elif outbound == "jobs-webhook":
        assert_json_error(tenant.jobs.post("/jobs", json={"url": "http://localhost:9/v.mp4", "webhook_url": url}),
                          400, "webhook_url_not_allowed")
    elif outbound == "bucket-endpoint":
        assert_json_error(tenant.jobs.post("/user/s3", json={
            "bucket": "hostile", "region": "us-east-1", "endpoint": url.rsplit("/", 1)[0] if "meta-data" not in url
            else "http://169.254.169.254", "path_style": True, "access_key_id": "AKIAHOSTILE",
            "secret_access_key": "hostile-secret", "prefix": "media/"}), 400)
    else:
        raise AssertionError(outbound)


OUTBOUND = ["fetch", "fetch-metadata", "jobs", "jobs-metadata", "downloader", "fetch-webhook", "jobs-webhook",
            "bucket-endpoint"]


@pytest.mark.parametrize("outbound", OUTBOUND)
def test_every_ssrf_alias_is_refused_up_front_on_every_outbound_path(stack, tenant, recorder, outbound):
    """(Files API URL imports: test_files_ssrf.py::test_non_public_url_is_refused_at_request_time, the same list.)"""
    with unchanged(stack):
        for name, url in recorder.aliases().items():
            try:
                _refused_up_front(tenant, outbound, url)
            except AssertionError as e:
                raise AssertionError(f"{outbound} {name} {url}: {e}") from None
        time.sleep(0.3)
    assert recorder.hits == [], recorder.hits


REDIRECTED = ALIASES if FULL else ["127.1", "ipv6-[::1]", "metadata-169.254.169.254"]


@pytest.mark.parametrize("name", REDIRECTED)
def test_a_redirect_to_an_alias_fails_blocked_without_reaching_it(stack, tenant, recorder, redirector, name):
    """An allowed origin answers 302 to the alias: the fetch (worker, yt-dlp behind the egress guard)
    ends in `blocked_address` with nothing stored, and the listener behind the alias got nothing."""
    f = tenant.fetch.wait(tenant.fetch.create(redirector.url(name))["id"])
    assert f["status"] == "failed" and f["error"]["code"] == "blocked_address", f
    assert stored_fetch_files(stack, f["id"]) == []
    assert [j["state"] for j in fetch_jobs(stack, f["id"])] == ["failed"]
    assert recorder.hits == [], recorder.hits


# --------------------------------------------------------------------------- tampered and expired signed URLs

def _tamper(text, at):
    """`text` with the character at `at` replaced by another of the same class."""
    c = text[at]
    other = "b" if c == "a" else ("1" if c == "2" else ("A" if c != "A" else "B"))
    if c.isdigit():
        other = "7" if c != "7" else "8"
    return text[:at] + other + text[at + 1:]


@nginx_signed_links
def test_every_one_character_tamper_of_a_signed_link_is_403_json(stack, tenant):
    """Every character of the path, the signature, the expiry and the name changed in turn: 403 JSON
    (nginx's secure_link), no byte of the file sent, nothing changed (a Files API download counts nothing,
    and none of it reaches an app). The untouched link serves; the same link past its expiry is 410."""
    r = tenant.files.get(f"/files/{tenant.file['id']}/clip.bin")
    assert r.status_code == 302, r.text
    link = urllib.parse.urlsplit(r.headers["Location"])
    ok = requests.get(stack.media_url + link.path + "?" + link.query, timeout=10)
    assert ok.status_code == 200 and ok.content == b"\0" * 1024
    query = link.query
    md5_start = query.index("md5=") + 4
    expires_start = query.index("expires=") + 8
    name_start = query.index("name=") + 5
    positions = ([("path", i) for i in range(len("/dl/"), len(link.path))]
                 + [("md5", md5_start + i) for i in range(22)]
                 + [("expires", expires_start + i) for i in range(10)]
                 + [("name", name_start + i) for i in range(len(query) - name_start)])
    with unchanged(stack):
        for part, at in positions:
            path, q = (_tamper(link.path, at), query) if part == "path" else (link.path, _tamper(query, at))
            r = requests.get(stack.media_url + path + "?" + q, timeout=10)
            if part == "md5" and _digest(q) == _digest(query):
                # The last of 22 base64url characters carries 2 bits of the digest; nginx ignores the other
                # 4, so a few spellings of the last character are the same signature: the same link.
                assert r.status_code == 200, (at, q)
                continue
            assert r.status_code == 403, (part, at, path, q, r.status_code)
            assert r.headers["Content-Type"].startswith("application/json") and b"\0" * 16 not in r.content
        # Signed correctly but past its expiry: 410 JSON.
        name = urllib.parse.parse_qs(query)["name"][0]
        raw_name = query[name_start:]
        past = int(time.time()) - 60
        expired = f"md5={secure_link_md5(stack.signing_secret, link.path, past, raw_name)}&expires={past}&name={raw_name}"
        r = requests.get(stack.media_url + link.path + "?" + expired, timeout=10)
        assert r.status_code == 410 and r.headers["Content-Type"].startswith("application/json"), (r.status_code, name)


def _digest(query):
    """The 16 bytes nginx decodes from a query's md5 argument (unused low bits ignored)."""
    value = urllib.parse.parse_qs(query)["md5"][0]
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
