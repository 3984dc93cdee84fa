"""The store dialect (XML, port `store_url`) as tests see it: the rules every reply follows,
`StoreClient` for one set of credentials, and the order and shop helpers built on it.

Every reply received through `StoreClient` is checked against the rules that hold for all
store-dialect replies (XML content type, no empty typed element, underscored names, no
Content-Length from the app).
"""
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from xml.sax.saxutils import escape as _xml_escape

import requests

from .http import HTTP_TIMEOUT, Client


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

class StoreClient(Client):
    """HTTP client for one set of credentials on the store port; checks every reply."""

    def __init__(self, base, key=None, token=None):
        self.base = base
        self.key = key
        self.token = token

    @property
    def auth(self):
        return (self.key, self.token) if self.key is not None else None

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

    # orders ---------------------------------------------------------------------

    def create_order(self, items=("A",), expect=201, path="/api/orders", **fields):
        r = self.post(path, data=order_xml(list(items), **fields), headers=XML_HEADERS)
        assert r.status_code == expect, f"create order: {r.status_code} {r.text[:400]}"
        return parse_xml(r)


    def order(self, order_id):
        r = self.get(f"/api/orders/{order_id}")
        assert r.status_code == 200, f"show order {order_id}: {r.status_code} {r.text[:300]}"
        root = parse_xml(r)
        assert root.tag == "order"
        return root


    def order_ids(self, **params):
        r = self.get("/api/orders", params=params or None)
        assert r.status_code == 200, r.text[:300]
        root = parse_xml(r)
        assert root.tag == "orders" and root.get("type") == "array", r.text[:300]
        return [child_text(o, "id") for o in root.findall("order")]


    def downloads(self, path="/api/downloads", **params):
        params.setdefault("per_page", 100)
        r = self.get(path, params=params)
        assert r.status_code == 200, r.text[:300]
        root = parse_xml(r)
        assert root.tag == "downloads" and root.get("type") == "array", r.text[:300]
        return root.findall("download")


# --------------------------------------------------------------------------- orders and shops

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


def fetch(url, **kw):
    """A customer request: no credentials."""
    kw.setdefault("timeout", HTTP_TIMEOUT)
    return requests.get(url, **kw)
