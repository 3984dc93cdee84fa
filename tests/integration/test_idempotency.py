"""Idempotency-Key on every create, in every dialect (issue 8, "Retries can duplicate").

The same key with the same request within 24 h answers the first result again (same status,
headers and body, plus `Idempotent-Replayed: true`) and creates nothing more; the same key with
another request is refused with 422; a malformed key with 400; without the header nothing changes.
"""
import os
import threading
import time
import uuid

import pytest
import requests

from conftest import (FORM_HEADERS, XML_HEADERS, assert_error, assert_json_error, child_text, item_xml,
                      order_xml, parse_json, parse_xml, stock_shop)

REPLAYED = "Idempotent-Replayed"
DAY = 24 * 3600


def key():
    return "key-" + uuid.uuid4().hex


def keyed(k, headers=None):
    return {**(headers or {}), "Idempotency-Key": k}


def assert_same_reply(first, again):
    """`again` is `first` replayed: same status, type and body; only `again` is marked."""
    assert again.status_code == first.status_code, (first.status_code, again.status_code, again.text[:300])
    assert again.content == first.content
    assert again.headers.get("Content-Type") == first.headers.get("Content-Type")
    assert REPLAYED not in first.headers, first.headers
    assert again.headers.get(REPLAYED) == "true", again.headers


# --------------------------------------------------------------------------- store dialect

ORDER_ROUTES = [
    ("POST", "/api/orders", "xml"),
    ("POST", "/api/orders.xml", "xml"),
    ("POST", "/api/orders/create", "xml"),
    ("POST", "/api/orders/create", "form"),
    ("GET", "/api/orders/create", "query"),
]


def send_order(client, method, path, style, k, email="buyer@example.com", check=True):
    """An auto-numbered order for SKU A, sent as XML, a form body or query parameters."""
    headers = keyed(k) if k is not None else {}
    if style == "xml":
        return client.request(method, path, data=order_xml(["A"], email=email),
                              headers={**headers, **XML_HEADERS}, check=check)
    fields = {"order[email]": email, "order[order_items][][sku]": "A"}
    if style == "form":
        return client.request(method, path, data=fields, headers={**headers, **FORM_HEADERS}, check=check)
    return client.request(method, path, params=fields, headers=headers, check=check)


@pytest.mark.parametrize("method,path,style", ORDER_ROUTES)
def test_order_create_replays_and_creates_once(shop, method, path, style):
    k = key()
    first = send_order(shop, method, path, style, k)
    assert first.status_code == 201, first.text[:300]
    number = child_text(parse_xml(first), "id")
    again = send_order(shop, method, path, style, k)
    assert_same_reply(first, again)
    assert shop.order_ids() == [number]


def test_order_same_key_other_body_is_422_and_changes_nothing(shop):
    k = key()
    first = send_order(shop, "POST", "/api/orders", "xml", k, email="one@example.com")
    assert first.status_code == 201
    other = send_order(shop, "POST", "/api/orders", "xml", k, email="two@example.com")
    assert_error(other, 422, contains="Idempotency-Key was already used with a different request")
    assert REPLAYED not in other.headers
    assert len(shop.order_ids()) == 1
    # The first request is still answered from the key.
    assert_same_reply(first, send_order(shop, "POST", "/api/orders", "xml", k, email="one@example.com"))


def test_order_without_key_creates_every_time(shop):
    for _ in range(2):
        r = send_order(shop, "POST", "/api/orders", "xml", None)
        assert r.status_code == 201 and REPLAYED not in r.headers
    assert len(shop.order_ids()) == 2


def test_key_is_per_route_and_per_account(shop, server):
    k = key()
    assert send_order(shop, "POST", "/api/orders", "xml", k).status_code == 201
    # Same key on the command URI: another route, another key.
    assert send_order(shop, "POST", "/api/orders/create", "xml", k).status_code == 201
    assert len(shop.order_ids()) == 2
    other = stock_shop(server.create_account())
    r = send_order(other, "POST", "/api/orders", "xml", k)
    assert r.status_code == 201 and REPLAYED not in r.headers
    assert len(other.order_ids()) == 1 and len(shop.order_ids()) == 2


def test_key_length_and_characters(shop):
    ok = "k" * 255
    r = send_order(shop, "POST", "/api/orders", "xml", ok)
    assert r.status_code == 201
    assert send_order(shop, "POST", "/api/orders", "xml", ok).headers.get(REPLAYED) == "true"
    assert_error(send_order(shop, "POST", "/api/orders", "xml", "k" * 256), 400, contains="Idempotency-Key must be 1 to 255")
    assert_error(send_order(shop, "POST", "/api/orders", "xml", ""), 400, contains="Idempotency-Key")
    assert_error(send_order(shop, "POST", "/api/orders", "xml", "caf\u00e9".encode("utf-8")), 400, contains="printable ASCII")
    assert len(shop.order_ids()) == 1


def test_failed_create_is_not_kept(tenant):
    """An order for an unknown SKU fails and stores nothing: after the SKU exists the same key creates."""
    k = key()
    body = order_xml(["LATER"])
    first = tenant.post("/api/orders", data=body, headers=keyed(k, XML_HEADERS))
    assert_error(first, 422, contains="Unknown SKU LATER")
    tenant.create_item("LATER")
    second = tenant.post("/api/orders", data=body, headers=keyed(k, XML_HEADERS))
    assert second.status_code == 201 and REPLAYED not in second.headers
    assert_same_reply(second, tenant.post("/api/orders", data=body, headers=keyed(k, XML_HEADERS)))
    assert len(tenant.order_ids()) == 1


@pytest.mark.parametrize("path", ["/api/items", "/api/items/create"])
def test_item_create_replays(tenant, path):
    k = key()
    body = item_xml("SKU-1", "First")
    first = tenant.post(path, data=body, headers=keyed(k, XML_HEADERS))
    assert first.status_code == 201
    assert_same_reply(first, tenant.post(path, data=body, headers=keyed(k, XML_HEADERS)))
    assert tenant.skus() == ["SKU-1"]
    # Without the key the same body is a second create: the SKU is taken.
    assert_error(tenant.post(path, data=body, headers=XML_HEADERS), 422, contains="already taken")
    other = tenant.post(path, data=item_xml("SKU-2"), headers=keyed(k, XML_HEADERS))
    assert_error(other, 422, contains="Idempotency-Key")
    assert tenant.skus() == ["SKU-1"]


def upload_ids(client):
    r = client.get("/api/uploads", params={"per_page": 100})
    assert r.status_code == 200
    return [child_text(u, "id") for u in parse_xml(r).findall("upload")]


def stored_file_count(server):
    return len(server.stored_objects())


@pytest.mark.parametrize("path", ["/api/uploads", "/api/uploads/create"])
def test_upload_replays_with_a_new_boundary(tenant, server, path, rng):
    """requests picks a new multipart boundary for every send: a retry still matches."""
    k = key()
    content = rng.randbytes(300_000)
    files_before = stored_file_count(server)
    first = tenant.post(path, files={"file": ("a.bin", content, "application/octet-stream")}, headers=keyed(k))
    assert first.status_code == 201, first.text[:300]
    again = tenant.post(path, files={"file": ("a.bin", content, "application/octet-stream")}, headers=keyed(k))
    assert_same_reply(first, again)
    assert len(upload_ids(tenant)) == 1
    assert stored_file_count(server) == files_before + 1
    changed = bytearray(content)
    changed[-1] ^= 1
    other = tenant.post(path, files={"file": ("a.bin", bytes(changed), "application/octet-stream")}, headers=keyed(k))
    assert_error(other, 422, contains="Idempotency-Key")
    renamed = tenant.post(path, files={"file": ("b.bin", content, "application/octet-stream")}, headers=keyed(k))
    assert_error(renamed, 422, contains="Idempotency-Key")
    assert len(upload_ids(tenant)) == 1
    assert stored_file_count(server) == files_before + 1


def test_upload_key_too_long_is_400(tenant):
    r = tenant.post("/api/uploads", files={"file": ("a.bin", b"x", "application/octet-stream")}, headers=keyed("u" * 256))
    assert_error(r, 400, contains="Idempotency-Key")
    assert upload_ids(tenant) == []


# --------------------------------------------------------------------------- Files API (JSON)

def test_files_upload_replays(server, rng):
    client = server.create_files_tenant()
    k = key()
    content = rng.randbytes(200_000)
    first = client.post("/files", files={"file": ("clip.bin", content, "application/octet-stream")}, headers=keyed(k))
    assert first.status_code == 201, first.text[:300]
    created = parse_json(first)
    again = client.post("/files", files={"file": ("clip.bin", content, "application/octet-stream")}, headers=keyed(k))
    assert_same_reply(first, again)
    assert parse_json(again)["id"] == created["id"]
    assert client.total() == 1
    changed = client.post("/files", files={"file": ("clip.bin", content[:-1], "application/octet-stream")}, headers=keyed(k))
    err = assert_json_error(changed, 422, "idempotency_key_reused")
    assert "Idempotency-Key" in err["message"]
    too_long = client.post("/files", files={"file": ("clip.bin", content, "application/octet-stream")}, headers=keyed("f" * 256))
    assert_json_error(too_long, 400, "invalid_idempotency_key")
    assert client.total() == 1
    # Without a key: a second file.
    assert client.post("/files", files={"file": ("clip.bin", content, "application/octet-stream")}).status_code == 201
    assert client.total() == 2


def test_files_url_import_replays(private_server, origin):
    client = private_server.create_files_tenant()
    path = origin.serve(f"/idem-{uuid.uuid4().hex}.bin", b"imported bytes")
    k = key()
    fields = {"file_url": (None, origin.url(path)), "name": (None, "imported.bin")}
    first = client.post("/files", files=fields, headers=keyed(k))
    assert first.status_code == 201, first.text[:300]
    again = client.post("/files", files=fields, headers=keyed(k))
    assert_same_reply(first, again)
    assert client.total() == 1
    other = client.post("/files", files={"file_url": (None, origin.url(path + "?other"))}, headers=keyed(k))
    assert_json_error(other, 422, "idempotency_key_reused")
    file = client.wait(parse_json(first)["id"])
    assert file["status"] == "ready" and file["size_bytes"] == len(b"imported bytes")
    # One import, one fetch.
    assert len(origin.requests_for(path)) == 1
    assert client.total() == 1


# --------------------------------------------------------------------------- concurrency

def test_concurrent_pairs_with_one_key_create_one_row_each(shop):
    pairs = 8
    replies = {}
    barrier = threading.Barrier(2 * pairs)
    keys = [key() for _ in range(pairs)]

    def send(k, slot):
        barrier.wait()
        replies[(k, slot)] = send_order(shop, "POST", "/api/orders", "xml", k, check=False)

    threads = [threading.Thread(target=send, args=(k, slot)) for k in keys for slot in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for k in keys:
        a, b = replies[(k, 0)], replies[(k, 1)]
        assert (a.status_code, b.status_code) == (201, 201), (a.text[:200], b.text[:200])
        assert a.content == b.content
        assert {a.headers.get(REPLAYED), b.headers.get(REPLAYED)} == {"true", None}, "one creates, one replays"
    assert len(shop.order_ids()) == pairs


# --------------------------------------------------------------------------- kill -9 and expiry

def kill_store_api(server):
    pids = server.store_api_pids()
    assert len(pids) == 1, pids
    time.sleep(1.1)  # the supervisor starts a crashed child at most once a second
    os.kill(pids[0], 9)
    return pids[0]


def retry_until_answered(send, seconds=10):
    """Retries (as a client would after a 502) until the app answers; returns that reply."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            r = send()
            if r.status_code not in (502, 503, 504):
                return r
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "the store did not answer again after kill -9"
        time.sleep(0.05)


def test_kill_9_after_commit_then_retry_replays(server, shop):
    """The create committed, then the process died: the retry with the key answers the same
    order from the store (a new process, nothing held in memory) and creates no second one."""
    k = key()
    first = send_order(shop, "POST", "/api/orders", "xml", k)
    assert first.status_code == 201
    old = kill_store_api(server)
    again = retry_until_answered(lambda: send_order(shop, "POST", "/api/orders", "xml", k, check=False))
    assert server.store_api_pids() != [old]
    assert_same_reply(first, again)
    assert len(shop.order_ids()) == 1


def test_kill_9_during_keyed_creates_never_duplicates(server, shop):
    """kill -9 while large keyed orders are in flight, at several moments: whatever the moment
    (before the commit, after it, before the reply), the client's retry with the same key ends
    with exactly one order per key, and the reply it gets is that order."""
    body = order_xml(["A", "B"] * 4000, email="buyer@example.com")
    for delay in (0.0, 0.03, 0.08):
        k = key()
        before = set(shop.order_ids(per_page=100))
        result = {}

        def send():
            try:
                result["r"] = shop.post("/api/orders", data=body, headers=keyed(k, XML_HEADERS), check=False)
            except requests.RequestException as e:
                result["r"] = e

        t = threading.Thread(target=send)
        pids = server.store_api_pids()
        time.sleep(1.1)
        t.start()
        time.sleep(delay)
        os.kill(pids[0], 9)
        t.join(30)
        reply = retry_until_answered(lambda: shop.post("/api/orders", data=body, headers=keyed(k, XML_HEADERS), check=False))
        assert reply.status_code == 201, reply.text[:300]
        new = set(shop.order_ids(per_page=100)) - before
        assert len(new) == 1, f"delay {delay}: orders created {sorted(new)}"
        assert child_text(parse_xml(reply), "id") == new.pop()
        # Asked once more, the key answers the same order.
        assert shop.post("/api/orders", data=body, headers=keyed(k, XML_HEADERS)).content == reply.content


def age_keys(server, account_key, seconds, entries=1):
    """Moves the account's stored idempotency entries (`entries` of them) `seconds` into the past,
    in the stack's database."""
    changed = server.execute("""
        UPDATE idempotency_keys SET created_at = created_at - ?
        WHERE account_id = (SELECT account_id FROM credentials WHERE api_key = ?)
        """, (seconds, account_key))
    assert changed == entries
    return changed


def test_entries_expire_after_24_hours(server, shop):
    k = key()
    first = send_order(shop, "POST", "/api/orders", "xml", k)
    assert first.status_code == 201
    age_keys(server, shop.key, DAY - 60)
    assert_same_reply(first, send_order(shop, "POST", "/api/orders", "xml", k))
    age_keys(server, shop.key, 61)
    fresh = send_order(shop, "POST", "/api/orders", "xml", k)
    assert fresh.status_code == 201 and REPLAYED not in fresh.headers
    assert child_text(parse_xml(fresh), "id") != child_text(parse_xml(first), "id")
    assert len(shop.order_ids()) == 2
    # The new entry replaced the expired one; the expired one is gone from the store.
    (rows,) = server.rows("""
        SELECT COUNT(*) AS n FROM idempotency_keys WHERE idempotency_key = ?
          AND account_id = (SELECT account_id FROM credentials WHERE api_key = ?)""", (k, shop.key))
    (stale,) = server.rows("SELECT COUNT(*) AS n FROM idempotency_keys WHERE created_at <= ?",
                           (int(time.time()) - DAY,))
    assert rows["n"] == 1 and stale["n"] == 0
