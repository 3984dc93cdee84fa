"""Statuses nginx answers by itself speak the dialect of their server (issue 8, "Errors outside
the app's own replies"): an XML `<message>` on the store server, a JSON error object on the
media server, never nginx's HTML page, and with the status nginx chose.

Covered: 400 (bad header, bad chunk, 494 header too large), 404 (the internal `/_files/` asked
directly, a missing file behind a valid signed link), 405 (TRACE anywhere, other methods on the
static `/dl/`), 412 and 416 (conditional and Range requests on static files, through `/dl/` and
through a customer link's `/_files/`), 413 (on `/dl/` too), 414, 501 (unknown transfer coding),
505 (HTTP/2.0 request line). 408 has no reply to check: on a client timeout nginx closes the
connection without one.
"""
import json
import time
import urllib.parse as urlparse
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import (HTTP_TIMEOUT, FilesClient, guid_of, nginx_signed_links, raw_http, secure_link_md5, stock_shop,
                      SHOP_FILES)

BIG = 9 * 1024 * 1024


def raw(port, method, target, headers=(), body=b"", version="HTTP/1.1"):
    head = f"{method} {target} {version}\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    head += "".join(f"{h}\r\n" for h in headers)
    return raw_http(port, head.encode() + b"\r\n" + body)


def reply_parts(reply):
    """(status, content type, body bytes) of a requests.Response or a RawReply."""
    if isinstance(reply, requests.Response):
        return reply.status_code, reply.headers.get("Content-Type", ""), reply.content
    return reply.status, reply.content_type, reply.body


def assert_xml_message(reply, status):
    got, ctype, body = reply_parts(reply)
    assert got == status, f"expected {status}, got {got}: {body[:200]!r}"
    assert ctype.startswith("application/xml"), f"{status}: Content-Type {ctype!r}, body {body[:200]!r}"
    root = ET.fromstring(body)
    assert root.tag == "message" and len(root) == 0, body[:200]
    assert (root.text or "").strip(), body[:200]
    return root.text


def assert_json_error_reply(reply, status, code):
    got, ctype, body = reply_parts(reply)
    assert got == status, f"expected {status}, got {got}: {body[:200]!r}"
    assert ctype.startswith("application/json"), f"{status}: Content-Type {ctype!r}, body {body[:200]!r}"
    doc = json.loads(body)
    assert set(doc) == {"error"} and set(doc["error"]) == {"code", "message"}, doc
    assert doc["error"]["code"] == code, doc
    assert doc["error"]["message"].strip(), doc
    return doc["error"]


# --------------------------------------------------------------------------- both servers

REFUSED_BEFORE_ANY_LOCATION = [
    # (name, method, target, headers, body, version, status, JSON code)
    ("unknown transfer coding", "GET", "/api/account", ["Transfer-Encoding: gzip"], b"", "HTTP/1.1", 501,
     "not_implemented"),
    ("HTTP/2.0 request line", "GET", "/api/account", [], b"", "HTTP/2.0", 505, "http_version_not_supported"),
    ("TRACE", "TRACE", "/api/account", [], b"", "HTTP/1.1", 405, "method_not_allowed"),
    ("header line without colon", "GET", "/api/account", ["Bad Header Line"], b"", "HTTP/1.1", 400, "bad_request"),
    ("header too large (494)", "GET", "/api/account", ["X-Pad: " + "p" * 20000], b"", "HTTP/1.1", 400,
     "bad_request"),
    ("invalid chunk", "POST", "/api/items", ["Transfer-Encoding: chunked"], b"zz\r\n", "HTTP/1.1", 400,
     "bad_request"),
    ("URI too long", "GET", "/api/items?pad=" + "a" * 20000, [], b"", "HTTP/1.1", 414, "uri_too_long"),
    ("body over 8 MiB announced", "POST", "/api/items", [f"Content-Length: {BIG}"], b"", "HTTP/1.1", 413,
     "payload_too_large"),
]


@pytest.mark.parametrize("case", REFUSED_BEFORE_ANY_LOCATION, ids=[c[0] for c in REFUSED_BEFORE_ANY_LOCATION])
def test_store_server_refusals_are_xml(server, case):
    _, method, target, headers, body, version, status, _ = case
    assert_xml_message(raw(server.store_port, method, target, headers, body, version), status)


@pytest.mark.parametrize("case", REFUSED_BEFORE_ANY_LOCATION, ids=[c[0] for c in REFUSED_BEFORE_ANY_LOCATION])
def test_media_server_refusals_are_json(server, case):
    _, method, target, headers, body, version, status, code = case
    target = target.replace("/api/account", "/files").replace("/api/items", "/files")
    if status == 413:
        target = "/"  # /files takes uploads up to --max-upload; elsewhere 8 MiB is the limit
    assert_json_error_reply(raw(server.media_port, method, target, headers, body, version), status, code)


# --------------------------------------------------------------------------- store server: /_files/

@pytest.mark.parametrize("path", ["/_files/", "/_files/m/x.bin", "/_files/../fetchgate.sqlite"])
def test_internal_files_location_asked_directly_is_404_xml(server, path):
    assert_xml_message(raw(server.store_port, "GET", path), 404)


@pytest.fixture
def customer_link(server):
    shop = stock_shop(server.create_account())
    order = shop.create_order(["A"], send_email="false", email="buyer@example.com",
                              download_limit=50)
    return f"{server.store_url}/get/{guid_of(order, 'A')}", SHOP_FILES["A"][1]


# Customer links answer people with small HTML pages (as for 403, 404 and 410); the app
# answers 416 and 412 itself there, so that no download is taken (see test_hardening.py).
def test_unsatisfiable_range_on_a_customer_link_is_416_page_with_content_range(customer_link):
    url, content = customer_link
    r = requests.get(url, headers={"Range": f"bytes={len(content) + 100}-"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 416
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers.get("Content-Range") == f"bytes */{len(content)}"


def test_failed_precondition_on_a_customer_link_is_412_page(customer_link):
    url, _ = customer_link
    r = requests.get(url, headers={"If-Match": '"not-this-file"'}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 412
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Precondition failed" in r.text


# --------------------------------------------------------------------------- media server: /dl/

@pytest.fixture(scope="module")
def signed(server):
    """(link, content): a ready Files API file's signed /dl/ link."""
    store = server.create_account()
    files = FilesClient(server, store.token)
    content = b"0123456789" * 10
    f = files.wait(files.upload("ten.txt", content, "text/plain")["id"])
    assert f["status"] == "ready", f
    return files.signed_location(f), content


def test_signed_download_still_works(signed):
    link, content = signed
    r = requests.get(link, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and r.content == content


@nginx_signed_links
def test_unsatisfiable_range_on_dl_is_416_json_with_content_range(signed):
    link, content = signed
    r = requests.get(link, headers={"Range": f"bytes={len(content)}-"}, timeout=HTTP_TIMEOUT)
    assert_json_error_reply(r, 416, "range_not_satisfiable")
    assert r.headers.get("Content-Range") == f"bytes */{len(content)}"


@nginx_signed_links
def test_body_over_limit_on_dl_is_413_json(server, signed):
    link, _ = signed
    target = link.split(str(server.media_port), 1)[1]
    assert_json_error_reply(raw(server.media_port, "POST", target, [f"Content-Length: {BIG}"]), 413,
                            "payload_too_large")


@nginx_signed_links
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_dl_are_405_json(signed, method):
    link, _ = signed
    r = requests.request(method, link, data=b"x", timeout=HTTP_TIMEOUT)
    assert_json_error_reply(r, 405, "method_not_allowed")


@nginx_signed_links
@pytest.mark.parametrize("headers", [{"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
                                     {"If-Match": '"not-this-file"'}], ids=["if-unmodified-since", "if-match"])
def test_failed_precondition_on_dl_is_412_json(signed, headers):
    link, _ = signed
    assert_json_error_reply(requests.get(link, headers=headers, timeout=HTTP_TIMEOUT), 412, "precondition_failed")


def test_validly_signed_link_to_a_missing_file_is_404_json(server):
    path = "/dl/m/file_doesnotexist.bin"
    expires = str(int(time.time()) + 600)
    name = "gone.bin"
    sig = secure_link_md5(server.signing_secret, path, expires, name)
    r = requests.get(f"{server.media_url}{path}?md5={sig}&expires={expires}&name={name}", timeout=HTTP_TIMEOUT)
    assert_json_error_reply(r, 404, "not_found")


@nginx_signed_links
def test_bad_and_expired_signatures_stay_json(server, signed):
    link, _ = signed
    parts = urlparse.urlsplit(link)
    q = dict(urlparse.parse_qsl(parts.query))
    bad = link.replace(q["md5"], ("A" if q["md5"][0] != "A" else "B") + q["md5"][1:])
    assert_json_error_reply(requests.get(bad, timeout=HTTP_TIMEOUT), 403, "forbidden")
    expires = str(int(time.time()) - 10)
    sig = secure_link_md5(server.signing_secret, parts.path, expires, q["name"])
    old = f"{server.media_url}{parts.path}?md5={sig}&expires={expires}&name={q['name']}"
    assert_json_error_reply(requests.get(old, timeout=HTTP_TIMEOUT), 410, "expired")
