"""Replays, request by request, what the three public FetchApp clients send (store-clients.md):
Ruby gem `fetchapp-api` 1.2.5, Python `FetchApp-API` (2011), .NET `fetchapp-api-dotnet`.
Each flow goes account → items → orders → customer downloads → downloads log → uploads, and checks
what that client needs from every reply: application/xml, type="array" on every list (nested too),
exactly `<message>Ok.</message>` for commands, no empty typed element, `<order_items>` as the
order's last child, and no Content-Length."""
import base64
import http.client
import re
import uuid
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from requests.structures import CaseInsensitiveDict

from conftest import (ORDER_CHILDREN, ORDER_ITEM_CHILDREN, StoreClient, assert_close, assert_error, child_text,
                      fetch, parse_datetime, parse_xml, utcnow)

LIST_TAGS = {"items", "orders", "downloads", "files", "order_items", "uploads"}


# ----------------------------------------------------------------------------- what every client needs

def check_client_needs(resp):
    """The reply rules all three clients depend on; returns the parsed root."""
    StoreClient.check_reply(resp)  # application/xml, no empty typed element, underscores, no Content-Length
    assert "text/xml" not in resp.headers.get("Content-Type", "")
    root = parse_xml(resp)
    for el in root.iter():
        if el.tag in LIST_TAGS:
            assert el.get("type") == "array", f"<{el.tag}> without type=\"array\" in {resp.url}"
        if el.tag == "order":
            assert [c.tag for c in el] == ORDER_CHILDREN, f"order children {[c.tag for c in el]}"
            assert el[-1].tag == "order_items", "order_items is the order's last child"
        if el.tag == "order_item":
            assert [c.tag for c in el] == ORDER_ITEM_CHILDREN
    return root


def ok(resp):
    assert resp.status_code == 200, f"{resp.request.method} {resp.url}: {resp.status_code} {resp.text[:300]}"
    check_client_needs(resp)
    assert re.fullmatch(rb'(<\?xml[^>]*\?>)?\s*<message>Ok\.</message>\s*', resp.content), resp.content


def expect(resp, status=200, tag=None):
    assert resp.status_code == status, f"{resp.request.method} {resp.url}: {resp.status_code} {resp.text[:400]}"
    root = check_client_needs(resp)
    if tag is not None:
        assert root.tag == tag, f"expected <{tag}>, got <{root.tag}>"
    return root


def ids(root, tag, field="id"):
    return [child_text(el, field) for el in root.findall(tag)]


def upload_file(client, filename, content, ctype="application/octet-stream"):
    """Files come from the shop owner (multipart POST /api/uploads), not from these clients."""
    return child_text(client.upload(filename, content, ctype), "id")


# ----------------------------------------------------------------------------- Ruby

def rails_pairs(value, prefix=""):
    """HTTParty's Rails-style nesting: `a[b]`, arrays of hashes as repeated `a[][k]`."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from rails_pairs(v, f"{prefix}[{k}]" if prefix else k)
    elif isinstance(value, list):
        for element in value:
            yield from rails_pairs(element, prefix + "[]")
    elif isinstance(value, bool):
        yield prefix, "true" if value else "false"
    else:
        yield prefix, str(value)


def ruby_body(params):
    """Percent-encoded brackets and %20 for spaces, as the gem writes them."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in rails_pairs(params or {}))


class RubyClient:
    """`execute(action, path, :body => options)`: urlencoded body on every verb, GET included."""

    def __init__(self, client):
        self.client = client

    def __call__(self, method, path, params=None):
        return self.client.request(method, "/api" + path, check=False, data=ruby_body(params).encode(),
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})


def test_ruby_gem_flow(tenant, server):
    ruby = RubyClient(tenant)
    account = expect(ruby("GET", "/account"), tag="account")
    assert child_text(account, "api_key") == tenant.key
    assert child_text(account, "order_expiration_in_hours") == "240"
    assert child_text(account, "download_limit_per_item") == "3"

    # Items
    upload_file(tenant, "ruby manual.pdf", b"%PDF-1.4 ruby\n", "application/pdf")
    for n, name in ((1, "Ruby Item One"), (2, "Ruby Item Two")):
        item = expect(ruby("POST", "/items/create", {"item": {"sku": f"RB-{n}", "name": name, "price": "9.5"}}),
                      201, "item")
        assert child_text(item, "sku") == f"RB-{n}" and child_text(item, "name") == name
    item = expect(ruby("PUT", "/items/RB-1", {"item": {"name": "Ruby Item Uno", "filename": "ruby manual.pdf"}}),
                  tag="item")
    assert child_text(item, "name") == "Ruby Item Uno"
    assert child_text(item, "filename") == "ruby manual.pdf"
    listed = expect(ruby("GET", "/items", {"per_page": 1, "page": 2}), tag="items")
    assert ids(listed, "item", "sku") == ["RB-2"]
    expect(ruby("GET", "/items/RB-1/downloads"), tag="downloads")

    # Orders
    created = expect(ruby("POST", "/orders/create", {"order": {
        "title": "Ruby order", "first_name": "Rudy", "last_name": "Gem", "email": "rudy@example.com",
        "send_email": False, "download_limit": 4,
        "order_items": [{"sku": "RB-1"}, {"sku": "RB-2", "downloads_remaining": 2}]}}), 201, "order")
    oid = child_text(created, "id")
    assert oid == "1001"
    items = created.find("order_items").findall("order_item")
    assert [(child_text(i, "sku"), child_text(i, "downloads_remaining")) for i in items] == [("RB-1", "4"), ("RB-2", "2")]
    assert ids(expect(ruby("GET", "/orders", {"filter": "current"}), tag="orders"), "order") == ["1001"]
    assert ids(expect(ruby("GET", "/orders", {"filter": "expired"}), tag="orders"), "order") == []
    assert ids(expect(ruby("GET", "/orders", {"filter": "manual"}), tag="orders"), "order") == []
    second = child_text(expect(ruby("POST", "/orders/create", {"order": {
        "email": "rudy2@example.com", "send_email": False, "order_items": [{"sku": "RB-2"}]}}), 201), "id")
    page = expect(ruby("GET", "/orders", {"filter": "current", "per_page": 1, "page": 2}), tag="orders")
    assert ids(page, "order") == [second]
    updated = expect(ruby("PUT", f"/orders/{oid}", {"order": {"title": "Ruby order (changed)"}}), tag="order")
    assert child_text(updated, "title") == "Ruby order (changed)"
    shown = expect(ruby("GET", f"/orders/{oid}"), tag="order")
    guid = child_text(shown.find("order_items")[0], "guid")

    # A customer downloads; the gem reads the log.
    got = fetch(f"{server.store_url}/get/{guid}")
    assert got.status_code == 200 and got.content == b"%PDF-1.4 ruby\n"
    log = expect(ruby("GET", "/downloads", {"per_page": 25, "page": 1}), tag="downloads")
    (download,) = log.findall("download")
    assert child_text(download, "order_id") == oid and child_text(download, "item_sku") == "RB-1"
    did = child_text(download, "id")
    one = expect(ruby("GET", f"/downloads/{did}"), tag="download")
    assert child_text(one, "id") == did
    assert ids(expect(ruby("GET", f"/orders/{oid}/downloads"), tag="downloads"), "download") == [did]
    assert ids(expect(ruby("GET", "/items/RB-1/downloads"), tag="downloads"), "download") == [did]

    # Commands: send_email with top-level keys, expire, delete.
    ok(ruby("POST", f"/orders/{oid}/send_email", {"reset_expiration": False,
                                                  "expiration_date": "2031-04-30T15:03:46+00:00"}))
    assert child_text(expect(ruby("GET", f"/orders/{oid}")), "expiration_date") == "2031-04-30T15:03:46+00:00"
    ok(ruby("POST", f"/orders/{oid}/send_email", {"reset_expiration": True}))
    assert_close(parse_datetime(child_text(expect(ruby("GET", f"/orders/{oid}")), "expiration_date")),
                 utcnow() + timedelta(hours=240))
    ok(ruby("POST", f"/orders/{oid}/expire"))
    assert ids(expect(ruby("GET", "/orders", {"filter": "expired"})), "order") == [oid]
    ok(ruby("DELETE", f"/orders/{oid}/delete"))
    assert_error(ruby("GET", f"/orders/{oid}"), 404)
    ok(ruby("DELETE", "/items/RB-2/delete"))
    assert ids(expect(ruby("GET", "/items"), tag="items"), "item", "sku") == ["RB-1"]

    # Uploads
    uploads = expect(ruby("GET", "/uploads"), tag="uploads")
    (up_id,) = ids(uploads, "upload")
    assert child_text(expect(ruby("GET", f"/uploads/{up_id}"), tag="upload"), "filename") == "ruby manual.pdf"

    # new_token last: the gem keeps its key and swaps the token.
    resp = ruby("GET", "/new_token")
    new_token = (expect(resp, tag="message").text or "").strip()
    assert new_token and new_token != tenant.token
    assert_error(ruby("GET", "/account"), 401)
    renewed = RubyClient(StoreClient(tenant.base, tenant.key, new_token))
    assert child_text(expect(renewed("GET", "/account")), "api_token") == new_token


# ----------------------------------------------------------------------------- raw wire clients (Python, .NET)

class Reply:
    """What `StoreClient.check_reply` and friends read from a requests.Response."""

    def __init__(self, method, url, status, headers, content):
        self.request = SimpleNamespace(method=method)
        self.url = url
        self.status_code = status
        self.headers = CaseInsensitiveDict(headers)
        self.content = content
        self.text = content.decode("utf-8", "replace")


class WireClient:
    """http.client, so the request line is sent exactly as given (`/api/items?`)."""

    def __init__(self, server, key, token, headers=None, keep_alive=False):
        self.port = server.store_port
        self.auth = "Basic " + base64.b64encode(f"{key}:{token}".encode()).decode()
        self.headers = headers or {}
        self.keep_alive = keep_alive
        self.conn = None
        self.sockets = set()

    def __call__(self, method, path, body=None, headers=None, auth=True):
        if self.conn is None or not self.keep_alive:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(self.headers)
        if auth:
            h["Authorization"] = self.auth
        if not self.keep_alive:
            h["Connection"] = "close"
        h.update(headers or {})
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.conn.request(method, "/api" + path, body=data, headers=h)
        self.sockets.add(self.conn.sock.getsockname()[1])  # local port: a new connection shows
        resp = self.conn.getresponse()
        content = resp.read()
        reply = Reply(method, f"http://127.0.0.1:{self.port}/api{path}", resp.status, resp.getheaders(), content)
        if not self.keep_alive:
            self.conn.close()
        return reply

    def close(self):
        if self.conn is not None:
            self.conn.close()


# ----------------------------------------------------------------------------- Python

def test_python_client_flow(tenant, server):
    py = WireClient(server, tenant.key, tenant.token, headers={"Content-Type": "application/xml"})
    account = expect(py("GET", "/account"), tag="account")
    assert child_text(account, "api_key") == tenant.key

    # There is no sign-up without credentials: the path is unknown (404) and nothing is created.
    resp = py("POST", "/account/create", "<account><name>Py shop</name><email>py@example.com</email></account>",
              auth=False)
    assert_error(resp, 404, "not found")
    assert b"api_token" not in resp.content

    # Items with UUID SKUs; Python renames with PUT /items/:sku.
    upload_file(tenant, "py.zip", b"PK\x03\x04 python", "application/zip")
    sku, new_sku = str(uuid.uuid4()), str(uuid.uuid4())
    created = expect(py("POST", "/items/create",
                        f"<item><sku>{sku}</sku><name>Py item</name><price>12.0</price>"
                        f"<filename>py.zip</filename><ignore_items>1</ignore_items></item>"), 201, "item")
    assert child_text(created, "sku") == sku
    assert ids(expect(py("GET", "/items?"), tag="items"), "item", "sku") == [sku]
    renamed = expect(py("PUT", f"/items/{sku}", f"<item><sku>{new_sku}</sku><ignore_items>0</ignore_items></item>"),
                     tag="item")
    assert child_text(renamed, "sku") == new_sku
    assert_error(py("GET", f"/items/{sku}"), 404)
    expect(py("GET", f"/items/{new_sku}/downloads"), tag="downloads")
    files = expect(py("GET", f"/items/{new_sku}/files"), tag="files")
    assert [child_text(f, "filename") for f in files.findall("file")] == ["py.zip"]

    # Orders: UUID id, booleans 1/0, naive datetime with microseconds (UTC), <ignore_items>.
    oid = str(uuid.uuid4())
    created = expect(py("POST", "/orders/create", f"""<?xml version="1.0" encoding="utf-8"?>
<order><id>{oid}</id><title>Py order</title><first_name>Monty</first_name><last_name>Python</last_name>
<email>monty@example.com</email><send_email>0</send_email>
<expiration_date>2030-11-24T17:30:13.797985</expiration_date><download_limit>2</download_limit>
<ignore_items>1</ignore_items>
<order_items type="array"><order_item><sku>{new_sku}</sku></order_item></order_items></order>"""), 201, "order")
    assert child_text(created, "id") == oid
    assert child_text(created, "expiration_date") == "2030-11-24T17:30:13+00:00"
    assert ids(expect(py("GET", "/orders"), tag="orders"), "order") == [oid]
    updated = expect(py("PUT", f"/orders/{oid}/update",
                        "<order><title>Py order 2</title><send_email>0</send_email>"
                        "<expiration_date>2030-12-01T00:00:00.000001</expiration_date></order>"), tag="order")
    assert child_text(updated, "id") == oid and child_text(updated, "title") == "Py order 2"
    assert child_text(updated, "expiration_date") == "2030-12-01T00:00:00+00:00"
    guid = child_text(updated.find("order_items")[0], "guid")

    got = fetch(f"{server.store_url}/get/{guid}")
    assert got.status_code == 200 and got.content == b"PK\x03\x04 python"
    (download,) = expect(py("GET", "/downloads?"), tag="downloads").findall("download")
    assert child_text(download, "order_id") == oid and child_text(download, "item_sku") == new_sku

    ok(py("GET", f"/orders/{oid}/send_email"))
    ok(py("GET", f"/orders/{oid}/expire"))
    assert ids(expect(py("GET", "/orders?filter=expired")), "order") == [oid]
    ok(py("DELETE", f"/orders/{oid}/delete"))
    assert_error(py("GET", f"/orders/{oid}"), 404)
    ok(py("DELETE", f"/items/{new_sku}/delete"))
    assert ids(expect(py("GET", "/items?")), "item") == []
    assert [child_text(u, "filename") for u in expect(py("GET", "/uploads?"), tag="uploads").findall("upload")] \
        == ["py.zip"]

    message = expect(py("GET", "/new_token"), tag="message")
    assert (message.text or "").strip() not in ("", tenant.token)
    assert_error(py("GET", "/account"), 401)


# ----------------------------------------------------------------------------- .NET

DOTNET_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}
DOTNET_BODY_HEADERS = {"Expect": "100-continue"}
XSI = ('xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
       'xmlns:xsd="http://www.w3.org/2001/XMLSchema"')


def dotnet_item(sku, name, price):
    return f"""<?xml version="1.0" encoding="utf-8"?>
<item {XSI}>
  <sku>{sku}</sku>
  <name>{name}</name>
  <price>{price}</price>
  <download-count>0</download-count>
  <created-at>0001-01-01T00:00:00</created-at>
  <size-bytes>0</size-bytes>
  <filename />
</item>"""


def test_dotnet_client_flow(tenant, server):
    """One pooled keep-alive connection for the whole flow, as the .NET client under Mono uses it."""
    net = WireClient(server, tenant.key, tenant.token, headers=DOTNET_HEADERS, keep_alive=True)
    try:
        account = expect(net("GET", "/account"), tag="account")
        assert child_text(account, "api_key") == tenant.key

        upload_file(tenant, "net.mp3", b"ID3 dotnet audio", "audio/mpeg")
        item = expect(net("POST", "/items/create", dotnet_item("NET-1", "Net One", "4.5"), DOTNET_BODY_HEADERS),
                      201, "item")
        assert child_text(item, "download_count") == "0"
        assert not child_text(item, "created_at").startswith("0001")
        expect(net("POST", "/items/create", dotnet_item("NET-2", "Net Two", "1"), DOTNET_BODY_HEADERS), 201)
        attach = dotnet_item("NET-1", "Net One", "4.5").replace("<filename />", "<filename>net.mp3</filename>")
        item = expect(net("POST", "/items/NET-1/update", attach, DOTNET_BODY_HEADERS), tag="item")
        assert child_text(item, "filename") == "net.mp3"
        # An empty <filename /> keeps the file.
        item = expect(net("POST", "/items/NET-1/update", dotnet_item("NET-1", "Net Uno", "4.75"),
                          DOTNET_BODY_HEADERS), tag="item")
        assert child_text(item, "filename") == "net.mp3" and child_text(item, "name") == "Net Uno"
        assert ids(expect(net("GET", "/items"), tag="items"), "item", "sku") == ["NET-1", "NET-2"]

        before = utcnow()
        created = expect(net("POST", "/orders/create", f"""<?xml version="1.0" encoding="utf-8"?>
<order {XSI}>
  <id>NET-ORDER-1</id>
  <title>Net order</title>
  <first_name>Dot</first_name>
  <last_name>Net</last_name>
  <email>dot@example.com</email>
  <send_email>false</send_email>
  <expiration_date>0001-01-01T00:00:00</expiration_date>
  <download_limit>0</download_limit>
  <created_at>0001-01-01T00:00:00</created_at>
  <order_items>
    <order_item><sku>NET-1</sku><downloads_remaining>2</downloads_remaining></order_item>
    <order_item><sku>NET-2</sku><downloads_remaining>1</downloads_remaining></order_item>
  </order_items>
</order>""", DOTNET_BODY_HEADERS), 201, "order")
        assert_close(parse_datetime(child_text(created, "expiration_date")),
                     before + timedelta(hours=240))
        assert [child_text(i, "downloads_remaining") for i in created.find("order_items")] == ["2", "1"]
        assert ids(expect(net("GET", "/orders"), tag="orders"), "order") == ["NET-ORDER-1"]
        updated = expect(net("POST", "/orders/NET-ORDER-1/update", f"""<?xml version="1.0" encoding="utf-8"?>
<order {XSI}>
  <id>NET-ORDER-1</id>
  <title>Net order (updated)</title>
  <expiration_date>2031-02-03T04:05:06.1234567+01:00</expiration_date>
  <send_email>false</send_email>
</order>""", DOTNET_BODY_HEADERS), tag="order")
        assert child_text(updated, "title") == "Net order (updated)"
        assert child_text(updated, "expiration_date") == "2031-02-03T03:05:06+00:00"
        guid = child_text(updated.find("order_items")[0], "guid")

        got = fetch(f"{server.store_url}/get/{guid}")
        assert got.status_code == 200 and got.content == b"ID3 dotnet audio"
        assert got.headers["Content-Type"].startswith("audio/mpeg")
        (download,) = expect(net("GET", "/downloads"), tag="downloads").findall("download")
        did = child_text(download, "id")
        assert child_text(expect(net("GET", f"/downloads/{did}"), tag="download"), "order_id") == "NET-ORDER-1"
        shown = expect(net("GET", "/orders/NET-ORDER-1"), tag="order")
        assert child_text(shown, "download_count") == "1"

        ok(net("GET", "/orders/NET-ORDER-1/send_email"))
        ok(net("GET", "/orders/NET-ORDER-1/expire"))
        assert ids(expect(net("GET", "/orders?filter=expired")), "order") == ["NET-ORDER-1"]
        assert fetch(f"{server.store_url}/get/{guid}").status_code == 410
        ok(net("GET", "/orders/NET-ORDER-1/delete"))
        assert_error(net("GET", "/orders/NET-ORDER-1"), 404)
        assert_error(net("GET", "/orders/NET-ORDER-1/expire"), 404)
        assert_error(net("GET", "/orders/NET-ORDER-1/send_email"), 404)
        ok(net("GET", "/items/NET-2/delete"))
        assert_error(net("GET", "/items/NET-2"), 404)
        assert len(net.sockets) == 1, "every reply kept the pooled connection usable"
    finally:
        net.close()


# ----------------------------------------------------------------------------- single habits

@pytest.mark.parametrize("path", ["/orders", "/orders?filter=current", "/downloads", "/uploads", "/items"])
def test_empty_lists_are_typed_arrays(tenant, server, path):
    """0 children: still `<x type="array">`, never an empty typed scalar."""
    net = WireClient(server, tenant.key, tenant.token, headers=DOTNET_HEADERS)
    root = expect(net("GET", path))
    assert root.get("type") == "array" and len(root) == 0


def test_one_and_many_children_are_typed_arrays(shop, server):
    shop.create_order(["A"], send_email="false")
    shop.create_order(["A", "B"], send_email="false")
    net = WireClient(server, shop.key, shop.token, headers=DOTNET_HEADERS)
    orders = expect(net("GET", "/orders"), tag="orders")
    assert [len(o.find("order_items")) for o in orders] == [1, 2]
    for o in orders:
        for oi in o.find("order_items"):
            assert oi.find("downloads").get("type") == "array"


def test_order_ids_are_strings_and_integers_plain(shop, server):
    net = WireClient(server, shop.key, shop.token, headers=DOTNET_HEADERS)
    shop.create_order(["A"], send_email="false")
    order = expect(net("GET", "/orders/1001"), tag="order")
    assert order.find("id").get("type") is None
    assert order.find("order_items")[0].find("order_id").get("type") is None
    for tag in ("item_count", "download_count", "download_limit"):
        assert re.fullmatch(r"\d+", child_text(order, tag)), tag
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", child_text(order, "expiration_date"))


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("command", ["delete", "expire", "send_email"])
def test_every_command_uri_accepts_every_verb(shop, server, method, command):
    shop.create_order(["A"], id="CMD-1", email="cmd@example.com", send_email="false")
    net = WireClient(server, shop.key, shop.token, headers=DOTNET_HEADERS)
    ok(net(method, f"/orders/CMD-1/{command}"))
    if command == "delete":
        assert_error(net("GET", "/orders/CMD-1"), 404)
    else:
        expect(net("GET", "/orders/CMD-1"), tag="order")
