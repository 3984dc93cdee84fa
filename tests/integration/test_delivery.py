"""Customer delivery on the store port without credentials: `/get/GUID` (order links) and
`/permalink/GUID` (items); counters, the download log, refusals, and the claim under concurrency."""
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
import requests

from conftest import (SHOP_FILES, XML_HEADERS, assert_close, assert_error, child_text, fetch, guid_of, order_item_of,
                      order_xml, parse_datetime, parse_xml, utcnow)

UNICODE_NAME = "Grüße 🎵.txt"
UNICODE_BYTES = "Grüße aus Köln 🎵\n0123456789\n".encode("utf-8")
UNICODE_TYPE = "application/x-fetchgate-greeting"


@pytest.fixture
def store(server, shop):
    """The shop plus item U whose file has a non-ASCII name; one order 1001 with A, B and U."""
    shop.upload(UNICODE_NAME, UNICODE_BYTES, UNICODE_TYPE)
    item = shop.create_item("U", name="Greeting", extra=f"<filename>{UNICODE_NAME}</filename>")
    assert child_text(item, "filename") == UNICODE_NAME
    order = shop.create_order(["A", "B", "U"], send_email="false", email="customer@example.com")
    assert child_text(order, "id") == "1001"
    shop.server = server
    return shop


def link(server, order, sku):
    return f"{server.store_url}/get/{guid_of(order, sku)}"


def item_state(client, order_id, sku):
    oi = order_item_of(client.order(order_id), sku)
    return int(child_text(oi, "downloads_remaining")), int(child_text(oi, "download_count"))


def assert_html_page(resp, status):
    assert resp.status_code == status, f"{resp.url}: expected {status}, got {resp.status_code}: {resp.text[:200]!r}"
    assert resp.headers.get("Content-Type", "").startswith("text/html"), resp.headers
    assert len(resp.content) < 4096, "a small page"
    assert "<html" in resp.text.lower() and "</html>" in resp.text.lower()


def test_link_delivers_exact_bytes_without_credentials(store, server):
    order = store.order("1001")
    for sku, (filename, content, ctype) in SHOP_FILES.items():
        resp = fetch(link(server, order, sku))
        assert resp.status_code == 200, resp.text[:200]
        assert resp.content == content
        assert resp.headers["Content-Type"].split(";")[0].strip() == ctype
        disposition = resp.headers["Content-Disposition"]
        assert disposition.startswith("attachment")
        assert f'filename="{filename}"' in disposition


def test_non_ascii_filename_and_upload_content_type(store, server):
    resp = fetch(link(server, store.order("1001"), "U"))
    assert resp.status_code == 200, resp.text[:200]
    assert resp.content == UNICODE_BYTES
    assert resp.headers["Content-Type"].split(";")[0].strip() == UNICODE_TYPE
    # requests decodes header bytes as latin-1: anything outside ASCII would show up here.
    raw = resp.raw.headers.get("Content-Disposition")
    assert all(ord(ch) < 128 for ch in raw), f"header must be ASCII: {raw!r}"
    assert raw.startswith("attachment")
    assert "filename*=UTF-8''" + quote(UNICODE_NAME, safe="") in raw, raw
    assert "filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%F0%9F%8E%B5.txt" in raw
    assert 'filename="' in raw, "an ASCII fallback for old browsers"


def test_download_takes_one_and_is_logged_everywhere(store, server):
    order = store.order("1001")
    before = utcnow()
    resp = fetch(link(server, order, "U"))
    assert resp.status_code == 200
    assert item_state(store, "1001", "U") == (2, 1)
    assert item_state(store, "1001", "A") == (3, 0), "other items of the order are untouched"

    shown = store.order("1001")
    assert child_text(shown, "download_count") == "1"
    nested = order_item_of(shown, "U").find("downloads").findall("download")
    assert len(nested) == 1
    assert child_text(store.item("U"), "download_count") == "1"

    def check(entry):
        assert child_text(entry, "order_id") == "1001"
        assert child_text(entry, "ip_address") == "127.0.0.1"
        assert child_text(entry, "item_sku") == "U"
        assert child_text(entry, "filename") == UNICODE_NAME
        assert float(child_text(entry, "size_bytes")) == len(UNICODE_BYTES)
        assert entry.find("downloaded_at").get("type") == "datetime"
        assert_close(parse_datetime(child_text(entry, "downloaded_at")), before)

    # Nested in the order, a download has the seed's shape: order_id, ip_address, downloaded_at, size.
    assert child_text(nested[0], "order_id") == "1001"
    assert child_text(nested[0], "ip_address") == "127.0.0.1"
    assert nested[0].find("downloaded_at").get("type") == "datetime"
    assert_close(parse_datetime(child_text(nested[0], "downloaded_at")), before)
    assert float(child_text(nested[0], "size")) == len(UNICODE_BYTES)
    for path in ("/api/downloads", "/api/orders/1001/downloads", "/api/items/U/downloads"):
        entries = store.downloads(path)
        assert len(entries) == 1, path
        check(entries[0])
    download_id = child_text(store.downloads()[0], "id")
    resp = store.get(f"/api/downloads/{download_id}")
    assert resp.status_code == 200, resp.text
    check(parse_xml(resp))


def test_each_download_takes_one_until_exhausted(store, server):
    url = link(server, store.order("1001"), "A")
    for left in (2, 1, 0):
        assert fetch(url).status_code == 200
        assert item_state(store, "1001", "A") == (left, 3 - left)
    before_order = store.get("/api/orders/1001").content
    before_log = store.get("/api/downloads").content
    for _ in range(2):
        assert_html_page(fetch(url), 403)
    assert store.get("/api/orders/1001").content == before_order, "a refused request changes nothing"
    assert store.get("/api/downloads").content == before_log
    assert len(store.downloads()) == 3


def test_expired_link_is_410_and_changes_nothing(store, server):
    url = link(server, store.order("1001"), "A")
    assert fetch(url).status_code == 200
    resp = store.post("/api/orders/1001/expire")
    assert resp.status_code == 200
    before_order = store.get("/api/orders/1001").content
    assert_html_page(fetch(url), 410)
    assert store.get("/api/orders/1001").content == before_order
    assert item_state(store, "1001", "A") == (2, 1)
    assert len(store.downloads()) == 1
    # send_email resets the expiry: the link works again.
    assert store.post("/api/orders/1001/send_email").status_code == 200
    assert fetch(url).status_code == 200
    assert item_state(store, "1001", "A") == (1, 2)


def test_link_of_order_past_its_date_is_410(shop, server):
    order = shop.create_order(["A"], send_email="false", expiration_date="2020-01-01T00:00:00+00:00")
    assert_html_page(fetch(link(server, order, "A")), 410)
    assert shop.downloads() == []


def test_link_with_no_downloads_from_the_start_is_403(shop, server):
    order = shop.create_order([("A", 0), "B"], send_email="false")
    assert_html_page(fetch(link(server, order, "A")), 403)
    assert fetch(link(server, order, "B")).status_code == 200
    assert len(shop.downloads()) == 1


@pytest.mark.parametrize("path", ["/get/" + uuid.uuid4().hex, "/get/nonexistent", "/permalink/" + uuid.uuid4().hex])
def test_unknown_guid_is_404(server, path):
    assert_html_page(fetch(server.store_url + path), 404)


def test_range_request_counts_one_download(store, server):
    """A Range request still takes (and logs) one download: the claim happens when the
    request starts, before nginx serves any bytes, so partial fetches cannot be free."""
    url = link(server, store.order("1001"), "A")
    content = SHOP_FILES["A"][1]
    resp = fetch(url, headers={"Range": "bytes=2-5"})
    assert resp.status_code == 206, resp.text[:200]
    assert resp.content == content[2:6]
    assert resp.headers["Content-Range"] == f"bytes 2-5/{len(content)}"
    assert item_state(store, "1001", "A") == (2, 1)
    assert len(store.downloads()) == 1


def test_aborted_transfer_counts_one_download(shop, server, rng):
    """An aborted transfer counts as one download: it was taken when the transfer started
    (a client that stops after 1 KiB of an 8 MiB file has still used one of its downloads)."""
    big = rng.randbytes(8 * 1024 * 1024)
    shop.upload("big.bin", big)
    shop.create_item("BIG", extra="<filename>big.bin</filename>")
    order = shop.create_order(["BIG"], send_email="false")
    order_id = child_text(order, "id")
    with requests.get(link(server, order, "BIG"), stream=True, timeout=30) as resp:
        assert resp.status_code == 200
        assert int(resp.headers["Content-Length"]) == len(big)
        first = resp.raw.read(1024)
        assert first == big[:1024]
    assert item_state(shop, order_id, "BIG") == (2, 1)
    assert len(shop.downloads()) == 1
    # The next full download is the second one, and complete.
    resp = fetch(link(server, order, "BIG"))
    assert resp.status_code == 200 and resp.content == big
    assert item_state(shop, order_id, "BIG") == (1, 2)


def test_64_concurrent_requests_on_3_downloads_left(store, server):
    url = link(server, store.order("1001"), "B")
    content = SHOP_FILES["B"][1]
    log_before = len(store.downloads())
    barrier = threading.Barrier(64)

    def claim(_):
        with requests.Session() as s:
            barrier.wait(timeout=30)
            resp = s.get(url, timeout=60)
            return resp.status_code, resp.content

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(claim, range(64)))
    statuses = [s for s, _ in results]
    assert statuses.count(200) == 3, sorted(statuses)
    assert statuses.count(403) == 61, sorted(statuses)
    assert all(body == content for s, body in results if s == 200), "the winners get the whole file"
    assert item_state(store, "1001", "B") == (0, 3)
    assert len(store.downloads()) == log_before + 3
    assert len(store.downloads("/api/orders/1001/downloads")) == 3
    assert child_text(store.item("B"), "download_count") == "3"


def test_permalink_delivers_and_logs_without_order(store, server):
    item = store.item("U")
    guid = child_text(item, "guid")
    assert child_text(item, "permalink") == "/permalink/" + guid
    resp = fetch(f"{server.store_url}/permalink/{guid}")
    assert resp.status_code == 200, resp.text[:200]
    assert resp.content == UNICODE_BYTES
    assert resp.headers["Content-Type"].split(";")[0].strip() == UNICODE_TYPE
    assert "filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%F0%9F%8E%B5.txt" in resp.raw.headers["Content-Disposition"]
    entries = store.downloads()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.findtext("order_id") or "") == "", "a permalink download has no order id"
    assert child_text(entry, "item_sku") == "U"
    assert child_text(entry, "ip_address") == "127.0.0.1"
    assert float(child_text(entry, "size_bytes")) == len(UNICODE_BYTES)
    assert child_text(store.item("U"), "download_count") == "1"
    assert len(store.downloads("/api/items/U/downloads")) == 1
    # Orders are not charged for permalink downloads.
    assert item_state(store, "1001", "U") == (3, 0)
    assert store.downloads("/api/orders/1001/downloads") == []


def test_item_without_file(shop, server):
    shop.create_item("NOFILE")
    order = shop.create_order(["NOFILE"], send_email="false")
    order_id = child_text(order, "id")
    resp = fetch(link(server, order, "NOFILE"))
    assert resp.status_code == 404
    assert_html_page(resp, 404)
    assert item_state(shop, order_id, "NOFILE") == (3, 0)
    assert shop.downloads() == []


def test_deleting_an_item_removes_it_from_orders(store, server):
    order = store.order("1001")
    url_a = link(server, order, "A")
    assert child_text(order, "item_count") == "3"
    resp = store.delete("/api/items/A/delete")
    assert resp.status_code == 200, resp.text
    shown = store.order("1001")
    assert child_text(shown, "item_count") == "2"
    assert [child_text(oi, "sku") for oi in shown.find("order_items")] == ["B", "U"]
    assert fetch(url_a).status_code == 404
    assert fetch(link(server, order, "B")).status_code == 200


def test_deleting_an_order_keeps_its_downloads(store, server):
    order = store.order("1001")
    url = link(server, order, "A")
    assert fetch(url).status_code == 200
    assert store.delete("/api/orders/1001/delete").status_code == 200
    assert_error(store.get("/api/orders/1001"), 404)
    entries = store.downloads()
    assert len(entries) == 1
    assert child_text(entries[0], "order_id") == "1001"
    assert child_text(entries[0], "item_sku") == "A"
    assert len(store.downloads("/api/items/A/downloads")) == 1
    assert child_text(store.item("A"), "download_count") == "1"
    assert fetch(url).status_code == 404, "the deleted order's link is gone"


def test_renamed_order_id_shows_in_log(store, server):
    assert fetch(link(server, store.order("1001"), "A")).status_code == 200
    resp = store.put("/api/orders/1001", data=order_xml(id="RENAMED-1"), headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    assert len(store.downloads("/api/orders/RENAMED-1/downloads")) == 1
    assert child_text(order_item_of(store.order("RENAMED-1"), "A"), "download_count") == "1"


def test_update_sets_downloads_remaining_again(store, server):
    url = link(server, store.order("1001"), "A")
    assert fetch(url).status_code == 200
    assert item_state(store, "1001", "A") == (2, 1)
    resp = store.put("/api/orders/1001", data=order_xml([("A", 5), "B", "U"]), headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    assert item_state(store, "1001", "A") == (5, 1), "explicit downloads_remaining is set as given"
    for _ in range(5):
        assert fetch(url).status_code == 200
    assert fetch(url).status_code == 403
