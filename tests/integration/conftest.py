"""Harness for the Fetchgate integration suite.

One `fetchgate serve` (nginx + store-api) runs for the whole session in a temporary run
directory on free ports of 127.0.0.1. Tests talk to it over HTTP only, and use the admin
CLI (same --run-dir) to create their own tenants so state-changing tests do not interfere.

Every reply received through `StoreClient` is checked against the rules that hold for
all store-dialect replies (XML content type, no empty typed element, underscored names,
no Content-Length from the app).
"""
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("FETCHGATE_BIN", REPO / ".build" / "release"))
FETCHGATE = BIN_DIR / "fetchgate"

START_TIMEOUT = 30
STOP_TIMEOUT = 20
HTTP_TIMEOUT = 30


# --------------------------------------------------------------------------- XML checks

def walk_typed(root):
    """Asserts the invariants every store reply must satisfy; returns the root."""
    for el in root.iter():
        assert "-" not in el.tag, f"element names are underscored, got <{el.tag}>"
        typ = el.get("type")
        if typ is None:
            continue
        if typ == "array":
            assert not (el.text or "").strip(), f"<{el.tag} type=array> carries text {el.text!r}"
        else:
            assert (el.text or "").strip(), f"empty typed element <{el.tag} type={typ!r}/>"
    return root


def parse_xml(resp):
    """Parses an XML reply after checking the content type; returns the root element."""
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/xml"), \
        f"{resp.request.method} {resp.url}: Content-Type {ctype!r}, body {resp.text[:200]!r}"
    assert resp.content.strip(), f"{resp.request.method} {resp.url}: empty body"
    try:
        root = ET.fromstring(resp.content)
    except ET.ParseError as e:  # pragma: no cover - reported as failure
        raise AssertionError(f"{resp.request.method} {resp.url}: reply is not XML ({e}): {resp.text[:300]!r}")
    return walk_typed(root)


def message_of(resp):
    """The text of a `<message>` reply (asserting that it is one)."""
    root = parse_xml(resp)
    assert root.tag == "message", f"expected <message>, got <{root.tag}>: {resp.text[:200]!r}"
    assert len(root) == 0, "a <message> has no children"
    return root.text or ""


def assert_error(resp, status, contains=None):
    """A non-2xx reply with the given status and a non-empty XML `<message>`."""
    assert resp.status_code == status, \
        f"{resp.request.method} {resp.url}: expected {status}, got {resp.status_code}: {resp.text[:300]!r}"
    text = message_of(resp)
    assert text.strip(), "error messages are not empty"
    if contains is not None:
        assert contains.lower() in text.lower(), f"message {text!r} should mention {contains!r}"
    return text


def child_text(el, name):
    found = el.find(name)
    assert found is not None, f"<{el.tag}> lacks <{name}>: {ET.tostring(el)[:300]!r}"
    return found.text or ""


def item_xml(sku=None, name=None, price=None, extra=""):
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<item>"]
    if sku is not None:
        parts.append(f"<sku>{sku}</sku>")
    if name is not None:
        parts.append(f"<name>{name}</name>")
    if price is not None:
        parts.append(f"<price>{price}</price>")
    parts.append(extra)
    parts.append("</item>")
    return "\n".join(parts)


XML_HEADERS = {"Content-Type": "application/xml"}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


# --------------------------------------------------------------------------- client

class StoreClient:
    """HTTP client for one set of credentials on the store port; checks every reply."""

    def __init__(self, base, key=None, token=None):
        self.base = base
        self.key = key
        self.token = token

    @property
    def auth(self):
        return (self.key, self.token) if self.key is not None else None

    def url(self, path):
        return self.base + path

    def request(self, method, path, check=True, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        if "auth" not in kw and self.auth is not None:
            kw["auth"] = self.auth
        resp = requests.request(method, self.url(path), **kw)
        if check:
            self.check_reply(resp)
        return resp

    @staticmethod
    def check_reply(resp):
        parse_xml(resp)
        # The app leaves Content-Length out (nginx chunks): only nginx's own 413 page has one.
        if resp.status_code != 413:
            assert "Content-Length" not in resp.headers, \
                f"{resp.request.method} {resp.url}: store reply framed by Content-Length {resp.headers}"

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # convenience ---------------------------------------------------------------

    def create_item(self, sku, name="Item", price=None, extra=""):
        r = self.post("/api/items/create", data=item_xml(sku, name, price, extra), headers=XML_HEADERS)
        assert r.status_code == 201, f"create {sku}: {r.status_code} {r.text[:300]}"
        return parse_xml(r)

    def item(self, sku):
        r = self.get(f"/api/items/{sku}")
        assert r.status_code == 200, f"show {sku}: {r.status_code} {r.text[:300]}"
        return parse_xml(r)

    def items(self, **params):
        r = self.get("/api/items", params=params or None)
        assert r.status_code == 200, r.text
        root = parse_xml(r)
        assert root.tag == "items" and root.get("type") == "array"
        return root

    def skus(self, per_page=100):
        return [child_text(i, "sku") for i in self.items(per_page=per_page).findall("item")]

    def snapshot(self):
        """Everything a failed write must leave untouched: items and uploads, full XML."""
        items = self.get("/api/items", params={"per_page": 100})
        uploads = self.get("/api/uploads", params={"per_page": 100})
        assert items.status_code == 200 and uploads.status_code == 200
        return items.content, uploads.content

    def upload(self, filename, content, content_type="application/octet-stream"):
        r = self.post("/api/uploads", files={"file": (filename, content, content_type)})
        assert r.status_code == 201, f"upload {filename}: {r.status_code} {r.text[:300]}"
        return parse_xml(r)


# --------------------------------------------------------------------------- server

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, run_dir, extra_args=()):
        self.run_dir = Path(run_dir)
        self.extra_args = list(extra_args)  # more `fetchgate serve` options (e.g. --smtp-url)
        self.store_port = free_port()
        self.media_port = free_port()
        while self.media_port == self.store_port:
            self.media_port = free_port()
        self.proc = None
        self.out_path = self.run_dir.parent / (self.run_dir.name + "-serve.log")
        self._names = itertools.count(1)
        self._cli_lock = threading.Lock()

    @property
    def store_url(self):
        return f"http://127.0.0.1:{self.store_port}"

    @property
    def media_url(self):
        return f"http://127.0.0.1:{self.media_port}"

    @property
    def data_dir(self):
        return self.run_dir / "data"

    @property
    def body_temp(self):
        return self.data_dir / "tmp" / "body"

    def start(self):
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(
            [str(FETCHGATE), "serve", "--run-dir", str(self.run_dir),
             "--store-port", str(self.store_port), "--media-port", str(self.media_port), *self.extra_args],
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail_start(f"fetchgate serve exited with {self.proc.returncode}")
            try:
                r = requests.get(self.store_url + "/api/account", timeout=2)
                last = r.status_code
                if r.status_code == 401:
                    break
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.1)
        else:
            self.stop(check=False)
            self.fail_start(f"store port never answered 401 within {START_TIMEOUT}s (last: {last})")
        creds = (self.run_dir / "demo-credentials").read_text().strip()
        key, _, token = creds.partition(":")
        self.demo_key, self.demo_token = key, token

    def logs(self):
        chunks = []
        paths = [self.out_path] + sorted((self.run_dir / "logs").glob("*")) if (self.run_dir / "logs").exists() \
            else [self.out_path]
        for p in paths:
            try:
                text = Path(p).read_text(errors="replace")
            except OSError:
                continue
            chunks.append(f"----- {p} -----\n{text[-6000:]}")
        return "\n".join(chunks)

    def fail_start(self, why):
        logs = self.logs()
        print(logs, file=sys.stderr)
        pytest.fail(f"{why}\n{logs}", pytrace=False)

    def stop(self, check=True):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            if check:
                raise AssertionError(f"fetchgate serve did not exit within {STOP_TIMEOUT}s of SIGTERM\n{self.logs()}")
        finally:
            self.out.close()

    # ------------------------------------------------------------------ CLI

    def cli(self, *args, check=True):
        r = subprocess.run([str(FETCHGATE), *args, "--run-dir", str(self.run_dir)],
                           capture_output=True, text=True, timeout=30)
        if check:
            assert r.returncode == 0, f"fetchgate {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}"
        return r

    @staticmethod
    def parse_key_token(output):
        key = token = None
        for line in output.splitlines():
            if line.startswith("key:"):
                key = line.split(":", 1)[1].strip()
            elif line.startswith("token:"):
                token = line.split(":", 1)[1].strip()
        assert key and token, f"CLI output lacks key/token lines: {output!r}"
        return key, token

    def create_account(self, name=None):
        name = name or f"Tenant {next(self._names)} {uuid.uuid4().hex[:6]}"
        r = self.cli("account", "create", "--name", name)
        key, token = self.parse_key_token(r.stdout)
        client = StoreClient(self.store_url, key, token)
        client.name = name
        return client

    def add_key(self, existing_key, new_key=None):
        args = ["key", "create", "--key", existing_key]
        if new_key:
            args += ["--new-key", new_key]
        return self.parse_key_token(self.cli(*args).stdout)

    def store_api_pids(self):
        r = subprocess.run(["pgrep", "-f", f"store-api --socket {self.run_dir}/"], capture_output=True, text=True)
        return [int(p) for p in r.stdout.split()]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    assert FETCHGATE.exists(), f"{FETCHGATE} not built: run `swift build -c release` (or set FETCHGATE_BIN)"
    srv = Server(tmp_path_factory.mktemp("fetchgate") / "run")
    srv.start()
    yield srv
    nginx_pid_file = srv.run_dir / "nginx.pid"
    nginx_pid = int(nginx_pid_file.read_text().strip()) if nginx_pid_file.exists() else None
    srv.stop()
    assert srv.proc.returncode == 0, f"fetchgate serve exited with {srv.proc.returncode} on SIGTERM\n{srv.logs()}"
    # Nothing it started outlives it.
    deadline = time.monotonic() + 5
    while srv.store_api_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not srv.store_api_pids(), "store-api still running after fetchgate serve stopped"
    if nginx_pid:
        alive = True
        while time.monotonic() < deadline:
            try:
                os.kill(nginx_pid, 0)
            except ProcessLookupError:
                alive = False
                break
            time.sleep(0.1)
        assert not alive, "nginx still running after fetchgate serve stopped"


@pytest.fixture(scope="session")
def base_url(server):
    return server.store_url


@pytest.fixture(scope="session")
def demo_auth(server):
    return (server.demo_key, server.demo_token)


@pytest.fixture(scope="session")
def demo(server):
    """The demo tenant: read-only use (other tests may run before or after)."""
    return StoreClient(server.store_url, server.demo_key, server.demo_token)


@pytest.fixture(scope="session")
def anon(server):
    return StoreClient(server.store_url)


@pytest.fixture
def new_account(server):
    """Factory: a fresh tenant created through the admin CLI, as a StoreClient."""
    return server.create_account


@pytest.fixture
def tenant(server):
    """One fresh tenant for a test that mutates state."""
    return server.create_account()


@pytest.fixture
def cli(server):
    return server.cli


# --------------------------------------------------------------------------- orders, delivery, mail
# Helpers for test_orders / test_delivery / test_email / test_compat_clients (additions only).

import email as _email
import email.policy as _email_policy
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape as _xml_escape

ORDER_CHILDREN = ["id", "title", "first_name", "last_name", "email", "item_count", "download_count",
                  "expiration_date", "download_limit", "created_at", "order_items"]
ORDER_ITEM_CHILDREN = ["sku", "item_name", "order_id", "guid", "download_count", "link", "downloads_remaining",
                       "created_at", "downloads"]


def order_xml(items=None, **fields):
    """An `<order>` body. `items`: SKUs, (sku, downloads_remaining) pairs or dicts of order_item fields.
    Field values are sent as given (str() of them), in the order given."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<order>"]
    for name, value in fields.items():
        parts.append(f"<{name}>{_xml_escape(str(value))}</{name}>")
    if items is not None:
        parts.append('<order_items type="array">')
        for entry in items:
            if isinstance(entry, str):
                entry = {"sku": entry}
            elif isinstance(entry, tuple):
                entry = {"sku": entry[0], "downloads_remaining": entry[1]}
            parts.append("<order_item>" + "".join(
                f"<{k}>{_xml_escape(str(v))}</{k}>" for k, v in entry.items()) + "</order_item>")
        parts.append("</order_items>")
    parts.append("</order>")
    return "\n".join(parts)


def parse_datetime(text):
    """A reply datetime (`2008-12-28T18:47:56+00:00`) as an aware datetime."""
    return datetime.fromisoformat(text)


def utcnow():
    return datetime.now(timezone.utc)


def assert_close(when, expected, seconds=5):
    assert abs((when - expected).total_seconds()) <= seconds, f"{when.isoformat()} is not within {seconds}s of {expected.isoformat()}"


def _store_create_order(self, items=("A",), expect=201, path="/api/orders", **fields):
    r = self.post(path, data=order_xml(list(items), **fields), headers=XML_HEADERS)
    assert r.status_code == expect, f"create order: {r.status_code} {r.text[:400]}"
    return parse_xml(r)


def _store_order(self, order_id):
    r = self.get(f"/api/orders/{order_id}")
    assert r.status_code == 200, f"show order {order_id}: {r.status_code} {r.text[:300]}"
    root = parse_xml(r)
    assert root.tag == "order"
    return root


def _store_order_ids(self, **params):
    r = self.get("/api/orders", params=params or None)
    assert r.status_code == 200, r.text[:300]
    root = parse_xml(r)
    assert root.tag == "orders" and root.get("type") == "array", r.text[:300]
    return [child_text(o, "id") for o in root.findall("order")]


def _store_downloads(self, path="/api/downloads", **params):
    params.setdefault("per_page", 100)
    r = self.get(path, params=params)
    assert r.status_code == 200, r.text[:300]
    root = parse_xml(r)
    assert root.tag == "downloads" and root.get("type") == "array", r.text[:300]
    return root.findall("download")


StoreClient.create_order = _store_create_order
StoreClient.order = _store_order
StoreClient.order_ids = _store_order_ids
StoreClient.downloads = _store_downloads


def order_item_of(order, sku):
    for oi in order.find("order_items").findall("order_item"):
        if child_text(oi, "sku") == sku:
            return oi
    raise AssertionError(f"order {child_text(order, 'id')} has no item {sku}: {ET.tostring(order)[:500]!r}")


def guid_of(order, sku):
    return child_text(order_item_of(order, sku), "guid")


SHOP_FILES = {
    "A": ("alpha.txt", b"alpha file: 0123456789 abcdefghij\n", "text/plain"),
    "B": ("beta.bin", bytes(range(256)) * 8, "application/octet-stream"),
}


def stock_shop(client):
    """Items A and B, each with an uploaded file (SHOP_FILES); returns the client."""
    for sku, (filename, content, ctype) in SHOP_FILES.items():
        client.upload(filename, content, ctype)
        client.create_item(sku, name=f"Item {sku}", extra=f"<filename>{filename}</filename>")
    return client


@pytest.fixture
def shop(server):
    """A fresh tenant stocked with items A and B that carry files (see SHOP_FILES)."""
    return stock_shop(server.create_account())


def fetch(url, **kw):
    """A customer request: no credentials."""
    kw.setdefault("timeout", HTTP_TIMEOUT)
    return requests.get(url, **kw)


def outbox_messages(run_dir):
    """All `.eml` files in RUN_DIR/outbox as parsed messages (path → EmailMessage)."""
    out = {}
    box = Path(run_dir) / "outbox"
    if not box.is_dir():
        return out
    for p in sorted(box.glob("*.eml")):
        try:
            out[p] = _email.message_from_bytes(p.read_bytes(), policy=_email_policy.default)
        except OSError:
            continue
    return out


def mails_to(run_dir, address):
    """Outbox messages whose raw header block names `address` (robust to headers the parser rejects)."""
    out = []
    for path, msg in outbox_messages(run_dir).items():
        try:
            head = path.read_bytes().split(b"\r\n\r\n", 1)[0]
        except OSError:
            continue
        if address.encode() in head:
            out.append(msg)
    return out


def recipients(msg, name="To"):
    """The addr-specs of an address header, or a description of why it does not parse."""
    try:
        return [a.addr_spec for a in msg[name].addresses]
    except Exception as e:  # the stdlib parser gives up on some malformed headers
        return [f"<unparseable {name} header: {type(e).__name__}: {e}>"]


def wait_for(predicate, timeout=10, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def unique_email(tag="buyer"):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def mail_body(msg):
    part = msg.get_body(preferencelist=("plain",)) if msg.is_multipart() else msg
    return part.get_content()


# --------------------------------------------------------------------------- Files API (seed 001)
# Helpers for test_files / test_files_ssrf / test_worker_crash (additions only).

import base64 as _base64
import contextlib as _contextlib
import hashlib as _hashlib
import http.server as _http_server
import json as _json
import urllib.parse as _urlparse

FILES_STATUSES = {"pending", "processing", "ready", "failed"}
FILE_KEYS = {"id", "name", "source", "source_url", "status", "size_bytes", "content_type", "created_at",
             "download_url", "error", "error_code", "ffprobe", "ffprobe_error", "ffprobe_error_code"}
READY_TIMEOUT = 20


def parse_json(resp):
    """A media-port reply: application/json and a JSON body; error statuses carry {"error": {code, message}}."""
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), \
        f"{resp.request.method} {resp.url}: Content-Type {ctype!r}, status {resp.status_code}, body {resp.text[:200]!r}"
    try:
        body = resp.json()
    except ValueError as e:
        raise AssertionError(f"{resp.request.method} {resp.url}: reply is not JSON ({e}): {resp.text[:300]!r}")
    if resp.status_code >= 400:
        assert isinstance(body, dict) and set(body) == {"error"}, f"error reply not in the error shape: {body!r}"
        err = body["error"]
        assert isinstance(err, dict) and isinstance(err.get("code"), str) and err["code"], f"error without code: {body!r}"
        assert isinstance(err.get("message"), str) and err["message"].strip(), f"error without message: {body!r}"
    return body


def assert_json_error(resp, status, code=None):
    """A JSON error reply with the given status (and code); returns the error object."""
    assert resp.status_code == status, \
        f"{resp.request.method} {resp.url}: expected {status}, got {resp.status_code}: {resp.text[:300]!r}"
    err = parse_json(resp)["error"]
    if code is not None:
        assert err["code"] == code, f"expected error code {code!r}, got {err!r}"
    return err


def check_file_object(f):
    """Structural rules every File object follows."""
    assert isinstance(f, dict) and set(f) == FILE_KEYS, f"File object keys {sorted(f) if isinstance(f, dict) else f!r}"
    assert isinstance(f["id"], str) and f["id"], f
    assert f["status"] in FILES_STATUSES, f
    assert f["source"] in ("upload", "url"), f
    assert (f["error"] is None) == (f["error_code"] is None), f
    assert (f["ffprobe_error"] is None) == (f["ffprobe_error_code"] is None), f
    created = datetime.fromisoformat(f["created_at"])
    assert f["created_at"].endswith("+00:00") and created.utcoffset() == timedelta(0), f["created_at"]
    if f["status"] == "ready":
        assert isinstance(f["size_bytes"], int) and not isinstance(f["size_bytes"], bool), f
        assert isinstance(f["download_url"], str), f
    else:
        assert f["download_url"] is None, f
    return f


class FilesClient:
    """JSON client of the Files API (media port) for one token (sent as X-API-KEY)."""

    def __init__(self, server, token):
        self.server = server
        self.base = server.media_url
        self.token = token

    def url(self, path):
        return self.base + path

    def request(self, method, path, auth=True, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        headers = dict(kw.pop("headers", None) or {})
        if auth and self.token is not None:
            headers.setdefault("X-API-KEY", self.token)
        return requests.request(method, self.url(path), headers=headers, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # convenience ---------------------------------------------------------------

    def upload(self, filename, content, content_type="application/octet-stream", name=None, expect=201, **kw):
        data = {"name": name} if name is not None else None
        r = self.post("/files", files={"file": (filename, content, content_type)}, data=data, **kw)
        assert r.status_code == expect, f"upload {filename}: {r.status_code} {r.text[:300]}"
        return check_file_object(parse_json(r))

    def import_url(self, url, name=None, expect=201):
        fields = {"file_url": (None, url)}
        if name is not None:
            fields["name"] = (None, name)
        r = self.post("/files", files=fields)
        assert r.status_code == expect, f"import {url}: {r.status_code} {r.text[:300]}"
        return check_file_object(parse_json(r)) if expect == 201 else r

    def file(self, file_id):
        r = self.get(f"/files/{file_id}")
        assert r.status_code == 200, f"show {file_id}: {r.status_code} {r.text[:300]}"
        return check_file_object(parse_json(r))

    def listing(self, **params):
        r = self.get("/files", params=params or None)
        assert r.status_code == 200, f"list: {r.status_code} {r.text[:300]}"
        body = parse_json(r)
        assert set(body) == {"files", "page", "per_page", "total", "has_more", "next_cursor"}, body
        assert (body["next_cursor"] is None) == (not body["has_more"]), body
        for f in body["files"]:
            check_file_object(f)
        return body

    def total(self):
        return self.listing()["total"]

    def wait(self, file_id, timeout=READY_TIMEOUT, until=("ready", "failed")):
        """Polls the file until its status is one of `until`; returns it."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            f = self.file(file_id)
            if not seen or seen[-1] != f["status"]:
                seen.append(f["status"])
            if f["status"] in until:
                return f
            if time.monotonic() >= deadline:
                raise AssertionError(f"file {file_id} not {until} within {timeout}s (statuses seen: {seen}): {f}\n"
                                     f"{self.server.logs()}")
            time.sleep(0.1)

    def signed_location(self, f):
        """GET /files/{id}/{name} → the 302's Location (checked); returns it."""
        path = _urlparse.urlsplit(f["download_url"]).path
        r = self.get(path)
        assert r.status_code == 302, f"download {path}: {r.status_code} {r.text[:300]}"
        assert r.headers.get("Location"), r.headers
        return r.headers["Location"]


def sha256_hex(data):
    return _hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = _hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def secure_link_md5(secret, path, expires, name_param):
    """nginx secure_link_md5 "$secure_link_expires$uri$arg_name <secret>", base64url without padding."""
    digest = _hashlib.md5(f"{expires}{path}{name_param} {secret}".encode()).digest()
    return _base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _server_signing_secret(self):
    return (self.run_dir / "secure-link.secret").read_text().strip()


def _server_files_client(self, token=None):
    return FilesClient(self, self.demo_token if token is None else token)


def _server_create_files_tenant(self, name=None):
    """A fresh tenant (admin CLI) as a FilesClient; `.store` is its StoreClient."""
    store = self.create_account(name)
    client = FilesClient(self, store.token)
    client.store = store
    return client


def _server_worker_pids(self):
    r = subprocess.run(["pgrep", "-f", f"worker --database {self.run_dir}/"], capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


def _server_stored_files(self, file_id):
    """Stored bytes of one Files API file: DIR/data/files/m/<id>[.ext]."""
    m = self.data_dir / "files" / "m"
    return sorted(p for p in m.glob(f"{file_id}*") if p.is_file() and p.name.split(".", 1)[0] == file_id) \
        if m.is_dir() else []


Server.signing_secret = property(_server_signing_secret)
Server.files_client = _server_files_client
Server.create_files_tenant = _server_create_files_tenant
Server.worker_pids = _server_worker_pids
Server.stored_files = _server_stored_files


@_contextlib.contextmanager
def running_server(tmp_path_factory, label, extra_args=()):
    """One more `fetchgate serve` instance with its own run directory, stopped (cleanly) afterwards."""
    assert FETCHGATE.exists(), f"{FETCHGATE} not built: run `swift build -c release` (or set FETCHGATE_BIN)"
    srv = Server(tmp_path_factory.mktemp(label) / "run", extra_args=extra_args)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
    assert srv.proc.returncode == 0, f"fetchgate serve ({label}) exited with {srv.proc.returncode}\n{srv.logs()}"


@pytest.fixture(scope="session")
def private_server(tmp_path_factory):
    """A server that may fetch from `localhost` by name (`--allow-private-hosts localhost`)."""
    with running_server(tmp_path_factory, "fetchgate-private", ["--allow-private-hosts", "localhost"]) as srv:
        yield srv


# ---- media made with ffmpeg

class MediaSamples:
    """Media generated once per session; the parameters below are what ffmpeg was asked for."""
    WIDTH, HEIGHT, FPS, SECONDS = 320, 240, 25, 2
    VIDEO_SAMPLE_RATE, VIDEO_CHANNELS = 48000, 2
    AUDIO_SAMPLE_RATE, AUDIO_CHANNELS = 44100, 1

    def __init__(self, directory):
        self.dir = Path(directory)
        self.mp4 = self.dir / "clip.mp4"
        self.m4a = self.dir / "tone.m4a"
        ffmpeg = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
        subprocess.run(ffmpeg + [
            "-f", "lavfi", "-i", f"testsrc=size={self.WIDTH}x{self.HEIGHT}:rate={self.FPS}:duration={self.SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={self.VIDEO_SAMPLE_RATE}:duration={self.SECONDS}",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", str(self.VIDEO_CHANNELS), "-shortest",
            str(self.mp4)], check=True, timeout=120)
        subprocess.run(ffmpeg + [
            "-f", "lavfi", "-i", f"sine=frequency=660:sample_rate={self.AUDIO_SAMPLE_RATE}:duration={self.SECONDS}",
            "-ac", str(self.AUDIO_CHANNELS), "-c:a", "aac", str(self.m4a)], check=True, timeout=120)
        self.mp4_bytes = self.mp4.read_bytes()
        self.m4a_bytes = self.m4a.read_bytes()


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    return MediaSamples(tmp_path_factory.mktemp("media"))


# ---- a local origin for URL imports

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


@pytest.fixture(scope="session")
def origin():
    o = Origin()
    yield o
    o.close()


def stray_temp_files(server):
    """Files left in the data volume's temp areas (the upload body buffer and the app's tmp/)."""
    tmp = server.data_dir / "tmp"
    return sorted(str(p) for p in tmp.rglob("*") if p.is_file())


def wait_no_temp_files(server, seconds=5):
    """Temp files still there after waiting up to `seconds` (nginx removes its buffer after the reply)."""
    deadline = time.monotonic() + seconds
    left = stray_temp_files(server)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = stray_temp_files(server)
    return left


# --------------------------------------------------------------------------- ops (test_ops_*)
# Raw HTTP for requests `requests` cannot send (HTTP/2.0 request lines, unknown transfer codings,
# a Content-Length with no body).

class RawReply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body

    @property
    def content_type(self):
        return self.headers.get("content-type", "")


def _raw_complete(out):
    """True once `out` holds a whole reply framed by Content-Length."""
    head, sep, body = out.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def raw_http(port, data, timeout=10):
    """Sends `data` to 127.0.0.1:port and reads the reply: up to its Content-Length, else until the
    server closes (send `Connection: close`). Returns a RawReply (status None when the server
    closed without a status line)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while not _raw_complete(out):
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except ConnectionResetError:
            pass
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/"):
        return RawReply(None, {}, out)
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode()] = value.strip().decode()
    if headers.get("transfer-encoding") == "chunked":
        decoded, rest = b"", body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            decoded, rest = decoded + rest[:size], rest[size + 2:]
        body = decoded
    return RawReply(status, headers, body)
