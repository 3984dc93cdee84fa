"""Orders (store API, seed 004): create, show, list with filters and pages, update, delete, expire,
send_email, bad input, client date/boolean dialects, counters under concurrency."""
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import quote

import pytest

from conftest import (FORM_HEADERS, ORDER_CHILDREN, ORDER_ITEM_CHILDREN, XML_HEADERS, StoreClient, assert_close,
                      assert_error, child_text, guid_of, message_of, order_item_of, order_xml, parse_datetime,
                      parse_xml, utcnow)

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
HOURS_240 = timedelta(hours=240)


def ok_message(resp):
    assert resp.status_code == 200, f"{resp.request.method} {resp.url}: {resp.status_code} {resp.text[:300]}"
    assert message_of(resp) == "Ok."
    assert re.search(rb"<message>Ok\.</message>", resp.content), resp.content


def assert_seed_shape(order):
    """The order exactly as in the seed: children and their order, types, nested arrays."""
    assert order.tag == "order"
    assert [c.tag for c in order] == ORDER_CHILDREN
    order_id = child_text(order, "id")
    assert order.find("id").get("type") is None, "order ids are strings"
    for name in ("item_count", "download_count", "download_limit"):
        el = order.find(name)
        assert el.get("type") == "integer", name
        int(el.text)
    for name in ("expiration_date", "created_at"):
        el = order.find(name)
        assert el.get("type") == "datetime", name
        assert DATETIME.match(el.text or ""), (name, el.text)
    items = order.find("order_items")
    assert items.get("type") == "array"
    assert int(child_text(order, "item_count")) == len(items.findall("order_item"))
    total = 0
    for oi in items:
        assert oi.tag == "order_item"
        assert [c.tag for c in oi] == ORDER_ITEM_CHILDREN
        assert child_text(oi, "order_id") == order_id
        guid = child_text(oi, "guid")
        assert re.fullmatch(r"[a-km-np-z2-9]{24}", guid), f"the GUID is the customer's only secret: 24 of 32 symbols, {guid!r}"
        assert child_text(oi, "link") == "/get/" + guid
        for name in ("download_count", "downloads_remaining"):
            assert oi.find(name).get("type") == "integer", name
            int(oi.find(name).text)
        assert oi.find("created_at").get("type") == "datetime"
        assert DATETIME.match(child_text(oi, "created_at"))
        downloads = oi.find("downloads")
        assert downloads.get("type") == "array"
        assert int(child_text(oi, "download_count")) == len(downloads.findall("download"))
        total += int(child_text(oi, "download_count"))
    assert int(child_text(order, "download_count")) == total
    return order


def remaining(order, sku):
    return int(child_text(order_item_of(order, sku), "downloads_remaining"))


def expiry(order):
    return parse_datetime(child_text(order, "expiration_date"))


def skus_of(order):
    return [child_text(oi, "sku") for oi in order.find("order_items").findall("order_item")]


def form(pairs):
    """An urlencoded body as the Ruby gem writes it: brackets percent-encoded, %20 for spaces."""
    return "&".join(f"{quote(k, safe='')}={quote(str(v), safe='')}" for k, v in pairs)


# ----------------------------------------------------------------------------- create

def test_create_xml_answers_full_order_in_seed_shape(shop):
    before = utcnow()
    resp = shop.post("/api/orders", headers=XML_HEADERS, data=order_xml(
        ["A", ("B", 4)], send_email="false", title="Order for Bugs", first_name="Bugs", last_name="Bunny",
        email="bugs@example.com", expiration_date="2031-07-24T01:47:30+00:00", download_limit=5))
    assert resp.status_code == 201, resp.text
    order = assert_seed_shape(parse_xml(resp))
    assert child_text(order, "id") == "1001"
    assert child_text(order, "title") == "Order for Bugs"
    assert child_text(order, "first_name") == "Bugs"
    assert child_text(order, "last_name") == "Bunny"
    assert child_text(order, "email") == "bugs@example.com"
    assert child_text(order, "item_count") == "2"
    assert child_text(order, "download_count") == "0"
    assert child_text(order, "expiration_date") == "2031-07-24T01:47:30+00:00"
    assert child_text(order, "download_limit") == "5"
    assert_close(parse_datetime(child_text(order, "created_at")), before)
    assert skus_of(order) == ["A", "B"]
    assert [child_text(oi, "item_name") for oi in order.find("order_items")] == ["Item A", "Item B"]
    assert remaining(order, "A") == 5 and remaining(order, "B") == 4
    assert guid_of(order, "A") != guid_of(order, "B")
    # What the create answered is what show answers.
    assert_seed_shape(shop.order("1001"))
    assert child_text(shop.order("1001"), "title") == "Order for Bugs"


def test_seed_create_body_verbatim(tenant):
    """The seed's own example (item SKU 1, id 1, an expiry in 2010): accepted as is."""
    tenant.create_item("1", name="Carrot Juice")
    body = """<?xml version="1.0" encoding="UTF-8"?>
<order>
<send_email>true</send_email>
<id>1</id>
<title>Order for Bugs</title>
<first_name>Bugs</first_name>
<last_name>Bunny</last_name>
<email>bugs@bunny.com</email>
<expiration_date type="datetime">2010-07-24T01:47:30+00:00</expiration_date>
<download_limit type="integer">5</download_limit>
<order_items type="array">
<order_item>
<sku>1</sku>
<downloads_remaining type="integer">4</downloads_remaining>
</order_item>
</order_items>
</order>"""
    resp = tenant.post("/api/orders/create", data=body, headers=XML_HEADERS)
    assert resp.status_code == 201, resp.text
    order = assert_seed_shape(parse_xml(resp))
    assert child_text(order, "id") == "1"
    assert child_text(order, "expiration_date") == "2010-07-24T01:47:30+00:00"
    assert child_text(order, "download_limit") == "5"
    assert remaining(order, "1") == 4
    assert child_text(order_item_of(order, "1"), "item_name") == "Carrot Juice"
    assert tenant.order_ids(filter="expired") == ["1"]
    assert tenant.order_ids(filter="current") == []


@pytest.mark.parametrize("path", ["/api/orders", "/api/orders.xml", "/api/orders/create", "/api/orders/create.xml"])
def test_create_uris(shop, path):
    order = shop.create_order(["A"], path=path, send_email="false")
    assert child_text(order, "id") == "1001"
    assert shop.order_ids() == ["1001"]


def test_assigned_ids_are_numeric_from_1001(shop):
    assert child_text(shop.create_order(["A"], send_email="false"), "id") == "1001"
    assert child_text(shop.create_order(["A"], send_email="false"), "id") == "1002"
    assert child_text(shop.create_order(["A"], id="SHOP-77", send_email="false"), "id") == "SHOP-77"
    assert child_text(shop.create_order(["B"], send_email="false"), "id") == "1003"
    assert shop.order_ids() == ["1001", "1002", "SHOP-77", "1003"]


def test_assigned_ids_are_per_account(new_account):
    from conftest import stock_shop
    a, b = stock_shop(new_account()), stock_shop(new_account())
    assert child_text(a.create_order(["A"], send_email="false"), "id") == "1001"
    assert child_text(b.create_order(["A"], send_email="false"), "id") == "1001"
    assert a.order_ids() == ["1001"] and b.order_ids() == ["1001"]


def test_client_given_id_clash_is_422(shop):
    shop.create_order(["A"], id="ORD-1", title="First", send_email="false")
    resp = shop.post("/api/orders", data=order_xml(["B"], id="ORD-1", title="Second", send_email="false"),
                     headers=XML_HEADERS)
    assert_error(resp, 422, contains="ORD-1")
    assert shop.order_ids() == ["ORD-1"]
    kept = shop.order("ORD-1")
    assert child_text(kept, "title") == "First"
    assert skus_of(kept) == ["A"]


def test_create_rails_form_with_repeated_order_items(shop):
    """`order[order_items][][sku]` repeated: a repeated key starts a new element."""
    body = form([("order[id]", "RAILS-1"), ("order[title]", "Rails Order"), ("order[first_name]", "Mary Ann"),
                 ("order[email]", "mary@example.com"), ("order[send_email]", "false"),
                 ("order[order_items][][sku]", "A"), ("order[order_items][][downloads_remaining]", "7"),
                 ("order[order_items][][sku]", "B")])
    resp = shop.post("/api/orders/create", data=body, headers=FORM_HEADERS)
    assert resp.status_code == 201, resp.text
    order = assert_seed_shape(parse_xml(resp))
    assert child_text(order, "id") == "RAILS-1"
    assert child_text(order, "title") == "Rails Order"
    assert child_text(order, "first_name") == "Mary Ann"
    assert skus_of(order) == ["A", "B"]
    assert remaining(order, "A") == 7
    assert remaining(order, "B") == 3


def test_create_defaults_from_account(shop):
    before = utcnow()
    order = shop.create_order(["A", "B"], send_email="false")
    assert_close(expiry(order), before + HOURS_240)
    assert child_text(order, "download_limit") == "3"
    assert remaining(order, "A") == 3 and remaining(order, "B") == 3
    assert child_text(order, "title"), "a default title"


def test_create_defaults_follow_account_settings(shop, cli):
    cli("account", "set", "--key", shop.key, "--order-expiration-hours", "48", "--download-limit", "7")
    account = parse_xml(shop.get("/api/account"))
    assert child_text(account, "order_expiration_in_hours") == "48"
    assert child_text(account, "download_limit_per_item") == "7"
    before = utcnow()
    order = shop.create_order(["A"], send_email="false")
    assert_close(expiry(order), before + timedelta(hours=48))
    assert child_text(order, "download_limit") == "7"
    assert remaining(order, "A") == 7


def test_download_limit_and_per_item_override(shop):
    order = shop.create_order([("A", 1), "B"], download_limit=9, send_email="false")
    assert child_text(order, "download_limit") == "9"
    assert remaining(order, "A") == 1
    assert remaining(order, "B") == 9


def test_zero_limits_are_allowed(shop):
    order = shop.create_order([("A", 0), "B"], download_limit=0, send_email="false")
    assert child_text(order, "download_limit") == "0"
    assert remaining(order, "A") == 0 and remaining(order, "B") == 0


def test_unknown_sku_is_422_naming_it_and_nothing_is_written(shop):
    before_item = shop.item("A")
    resp = shop.post("/api/orders", data=order_xml(["A", "NOPE-9"], send_email="false"), headers=XML_HEADERS)
    assert_error(resp, 422, contains="NOPE-9")
    assert shop.order_ids() == []
    assert child_text(shop.item("A"), "order_count") == child_text(before_item, "order_count") == "0"
    # No id was used up either.
    assert child_text(shop.create_order(["A"], send_email="false"), "id") == "1001"


@pytest.mark.parametrize("body", [
    "<order><title>Only a title</title></order>",
    '<order><title>Empty list</title><order_items type="array"></order_items></order>',
])
def test_order_without_items_is_422(shop, body):
    assert_error(shop.post("/api/orders", data=body, headers=XML_HEADERS), 422)
    assert shop.order_ids() == []


def test_order_with_only_a_title_by_form_is_422(shop):
    assert_error(shop.post("/api/orders/create", data=form([("order[title]", "Only")]), headers=FORM_HEADERS), 422)
    assert shop.order_ids() == []


# ----------------------------------------------------------------------------- show, list

@pytest.mark.parametrize("suffix", ["", ".xml"])
def test_show(shop, suffix):
    created = shop.create_order(["A"], id="SHOW-1", send_email="false")
    resp = shop.get(f"/api/orders/SHOW-1{suffix}")
    assert resp.status_code == 200, resp.text
    shown = assert_seed_shape(parse_xml(resp))
    assert [(c.tag, c.text) for c in shown.iter()] == [(c.tag, c.text) for c in created.iter()]


def test_order_downloads_of_fresh_order_is_empty_array(shop):
    shop.create_order(["A"], id="DL-0", send_email="false")
    for path in ("/api/orders/DL-0/downloads", "/api/orders/DL-0/downloads.xml"):
        assert shop.downloads(path) == []


UNKNOWN_ORDER_REQUESTS = [
    ("GET", "/api/orders/{id}"), ("GET", "/api/orders/{id}.xml"), ("GET", "/api/orders/{id}/downloads"),
    ("PUT", "/api/orders/{id}"), ("POST", "/api/orders/{id}/update"),
    ("DELETE", "/api/orders/{id}"), ("DELETE", "/api/orders/{id}/delete"), ("GET", "/api/orders/{id}/delete"),
    ("POST", "/api/orders/{id}/expire"), ("GET", "/api/orders/{id}/expire"),
    ("POST", "/api/orders/{id}/send_email"), ("GET", "/api/orders/{id}/send_email"),
]


@pytest.mark.parametrize("method,path", UNKNOWN_ORDER_REQUESTS)
def test_unknown_order_is_404(shop, method, path):
    shop.create_order(["A"], id="REAL-1", send_email="false")
    body = order_xml(title="Changed") if "update" in path or method == "PUT" else None
    resp = shop.request(method, path.format(id="NO-SUCH-ORDER"), data=body,
                        headers=XML_HEADERS if body else None)
    assert_error(resp, 404)
    assert shop.order_ids() == ["REAL-1"]


@pytest.mark.parametrize("method,path", UNKNOWN_ORDER_REQUESTS)
def test_other_tenants_order_is_404_and_untouched(new_account, method, path):
    from conftest import stock_shop
    owner, other = stock_shop(new_account()), stock_shop(new_account())
    owner.create_order(["A"], id="PRIVATE-1", title="Mine", send_email="false", expiration_date="2031-01-01T00:00:00+00:00")
    before = owner.get("/api/orders/PRIVATE-1").content
    body = order_xml(title="Stolen", download_limit=99) if "update" in path or method == "PUT" else None
    resp = other.request(method, path.format(id="PRIVATE-1"), data=body, headers=XML_HEADERS if body else None)
    assert_error(resp, 404)
    assert owner.get("/api/orders/PRIVATE-1").content == before
    assert other.order_ids() == []


def test_list_filters(shop, cli):
    current = child_text(shop.create_order(["A"], send_email="false"), "id")
    by_date = child_text(shop.create_order(["A"], send_email="false",
                                           expiration_date="2020-01-01T00:00:00+00:00"), "id")
    cli("order", "create", "--key", shop.key, "--skus", "A,B", "--id", "MANUAL-1", "--no-email")
    by_command = child_text(shop.create_order(["B"], send_email="false"), "id")
    ok_message(shop.post(f"/api/orders/{by_command}/expire"))

    assert shop.order_ids() == [current, by_date, "MANUAL-1", by_command]
    assert shop.order_ids(filter="current") == [current, "MANUAL-1"]
    assert shop.order_ids(filter="expired") == [by_date, by_command]
    assert shop.order_ids(filter="manual") == ["MANUAL-1"]
    manual = assert_seed_shape(shop.order("MANUAL-1"))
    assert skus_of(manual) == ["A", "B"]
    # The Ruby gem sends the filter in the body of the GET.
    resp = shop.get("/api/orders", data="filter=expired", headers=FORM_HEADERS)
    assert resp.status_code == 200, resp.text
    assert [child_text(o, "id") for o in parse_xml(resp).findall("order")] == [by_date, by_command]


def test_list_entries_are_full_orders(shop):
    shop.create_order(["A", "B"], id="L-1", send_email="false")
    resp = shop.get("/api/orders.xml")
    assert resp.status_code == 200
    orders = parse_xml(resp).findall("order")
    assert len(orders) == 1
    assert_seed_shape(orders[0])
    assert skus_of(orders[0]) == ["A", "B"]


def test_unknown_filter_is_rejected(shop):
    shop.create_order(["A"], send_email="false")
    resp = shop.get("/api/orders", params={"filter": "bogus"})
    assert_error(resp, 400, "filter must be current, manual or expired")


def test_pagination_from_query_and_get_body(shop):
    ids = [child_text(shop.create_order(["A"], send_email="false"), "id") for _ in range(3)]
    assert shop.order_ids(per_page=1, page=2) == ids[1:2]
    assert shop.order_ids(per_page=2, page=2) == ids[2:3]
    assert shop.order_ids(per_page=2, page=3) == []
    resp = shop.get("/api/orders", data="per_page=1&page=2", headers=FORM_HEADERS)
    assert resp.status_code == 200, resp.text
    assert [child_text(o, "id") for o in parse_xml(resp).findall("order")] == ids[1:2]
    resp = shop.get("/api/orders", data="filter=current&per_page=1&page=3", headers=FORM_HEADERS)
    assert [child_text(o, "id") for o in parse_xml(resp).findall("order")] == ids[2:3]


# ----------------------------------------------------------------------------- update

UPDATE_ROUTES = [("PUT", "/api/orders/{id}"), ("PUT", "/api/orders/{id}.xml"), ("PUT", "/api/orders/{id}/update"),
                 ("POST", "/api/orders/{id}/update"), ("POST", "/api/orders/{id}/update.xml")]


@pytest.mark.parametrize("method,route", UPDATE_ROUTES)
def test_update_every_field_including_id_and_items(shop, method, route):
    shop.create_order(["A"], id="OLD-1", title="Before", first_name="F", last_name="L", email="old@example.com",
                      download_limit=2, send_email="false")
    body = order_xml([("B", 6)], id="NEW-1", title="After", first_name="Daffy", last_name="Duck",
                     email="daffy@example.com", expiration_date="2032-02-03T04:05:06+00:00", download_limit=8)
    resp = shop.request(method, route.format(id="OLD-1"), data=body, headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    order = assert_seed_shape(parse_xml(resp))
    expected = {"id": "NEW-1", "title": "After", "first_name": "Daffy", "last_name": "Duck",
                "email": "daffy@example.com", "expiration_date": "2032-02-03T04:05:06+00:00",
                "download_limit": "8", "item_count": "1"}
    for name, value in expected.items():
        assert child_text(order, name) == value, name
    assert skus_of(order) == ["B"]
    assert remaining(order, "B") == 6
    assert_error(shop.get("/api/orders/OLD-1"), 404)
    shown = shop.order("NEW-1")
    for name, value in expected.items():
        assert child_text(shown, name) == value, name
    assert shop.order_ids() == ["NEW-1"]


def test_update_by_rails_form(shop):
    shop.create_order(["A"], id="RF-1", send_email="false")
    body = form([("order[title]", "Renamed by form"), ("order[order_items][][sku]", "A"),
                 ("order[order_items][][sku]", "B"), ("order[order_items][][downloads_remaining]", "11")])
    resp = shop.put("/api/orders/RF-1", data=body, headers=FORM_HEADERS)
    assert resp.status_code == 200, resp.text
    order = assert_seed_shape(parse_xml(resp))
    assert child_text(order, "title") == "Renamed by form"
    assert skus_of(order) == ["A", "B"]
    assert remaining(order, "B") == 11


@pytest.mark.parametrize("how", ["query", "body"])
def test_update_by_get(shop, how):
    shop.create_order(["A"], id="GET-1", send_email="false")
    pairs = [("order[title]", "Via GET"), ("order[download_limit]", "4")]
    if how == "query":
        resp = shop.get("/api/orders/GET-1/update?" + form(pairs))
    else:
        resp = shop.get("/api/orders/GET-1/update", data=form(pairs), headers=FORM_HEADERS)
    assert resp.status_code == 200, resp.text
    assert child_text(parse_xml(resp), "title") == "Via GET"
    assert child_text(shop.order("GET-1"), "title") == "Via GET"
    assert child_text(shop.order("GET-1"), "download_limit") == "4"


def test_update_without_items_keeps_items_and_links(shop):
    created = shop.create_order(["A", "B"], id="KEEP-1", send_email="false")
    resp = shop.put("/api/orders/KEEP-1", data=order_xml(title="Only the title"), headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    order = parse_xml(resp)
    assert child_text(order, "title") == "Only the title"
    assert skus_of(order) == ["A", "B"]
    for sku in ("A", "B"):
        assert guid_of(order, sku) == guid_of(created, sku), "links already mailed to the customer keep working"
        assert remaining(order, sku) == remaining(created, sku)
    assert child_text(order, "expiration_date") == child_text(created, "expiration_date")
    assert child_text(order, "created_at") == child_text(created, "created_at")


def test_update_to_existing_id_is_422(shop):
    shop.create_order(["A"], id="U-1", send_email="false")
    shop.create_order(["B"], id="U-2", send_email="false")
    before = shop.get("/api/orders/U-1").content
    assert_error(shop.put("/api/orders/U-1", data=order_xml(id="U-2"), headers=XML_HEADERS), 422)
    assert shop.get("/api/orders/U-1").content == before
    assert skus_of(shop.order("U-2")) == ["B"]


def test_update_with_unknown_sku_is_422_and_changes_nothing(shop):
    shop.create_order(["A"], id="U-3", title="Untouched", send_email="false")
    before = shop.get("/api/orders/U-3").content
    resp = shop.put("/api/orders/U-3", data=order_xml(["B", "GHOST"], title="Changed"), headers=XML_HEADERS)
    assert_error(resp, 422, contains="GHOST")
    assert shop.get("/api/orders/U-3").content == before


# ----------------------------------------------------------------------------- delete, expire, send_email

@pytest.mark.parametrize("method,route", [("DELETE", "/api/orders/{id}"), ("DELETE", "/api/orders/{id}/delete"),
                                          ("GET", "/api/orders/{id}/delete"), ("POST", "/api/orders/{id}/delete"),
                                          ("PUT", "/api/orders/{id}/delete.xml")])
def test_delete(shop, method, route):
    shop.create_order(["A"], id="DEL-1", send_email="false")
    shop.create_order(["A"], id="DEL-2", send_email="false")
    ok_message(shop.request(method, route.format(id="DEL-1")))
    assert_error(shop.get("/api/orders/DEL-1"), 404)
    assert shop.order_ids() == ["DEL-2"]
    assert child_text(shop.item("A"), "order_count") == "1"
    assert_error(shop.request(method, route.format(id="DEL-1")), 404)


@pytest.mark.parametrize("method,route", [("POST", "/api/orders/{id}/expire"), ("GET", "/api/orders/{id}/expire"),
                                          ("PUT", "/api/orders/{id}/expire"), ("POST", "/api/orders/{id}/expire.xml")])
def test_expire(shop, method, route):
    shop.create_order(["A"], id="EXP-1", send_email="false")
    assert shop.order_ids(filter="current") == ["EXP-1"]
    assert shop.order_ids(filter="expired") == []
    ok_message(shop.request(method, route.format(id="EXP-1")))
    assert_close(expiry(shop.order("EXP-1")), utcnow())
    assert shop.order_ids(filter="current") == []
    assert shop.order_ids(filter="expired") == ["EXP-1"]


def test_send_email_resets_expiration_by_default(shop):
    shop.create_order(["A"], id="SE-1", email="se1@example.com", send_email="false")
    ok_message(shop.post("/api/orders/SE-1/expire"))
    assert shop.order_ids(filter="expired") == ["SE-1"]
    ok_message(shop.post("/api/orders/SE-1/send_email"))
    assert_close(expiry(shop.order("SE-1")), utcnow() + HOURS_240)
    assert shop.order_ids(filter="current") == ["SE-1"]


@pytest.mark.parametrize("how", ["form", "query", "xml"])
def test_send_email_without_reset_keeps_expiration(shop, how):
    shop.create_order(["A"], id="SE-2", email="se2@example.com", send_email="false",
                      expiration_date="2031-05-06T07:08:09+00:00")
    if how == "form":
        resp = shop.post("/api/orders/SE-2/send_email", data="reset_expiration=false", headers=FORM_HEADERS)
    elif how == "query":
        resp = shop.get("/api/orders/SE-2/send_email?reset_expiration=0")
    else:
        resp = shop.post("/api/orders/SE-2/send_email", data="<order><reset_expiration>false</reset_expiration></order>",
                         headers=XML_HEADERS)
    ok_message(resp)
    assert child_text(shop.order("SE-2"), "expiration_date") == "2031-05-06T07:08:09+00:00"


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_send_email_expiration_date_overrides_reset(shop, method):
    shop.create_order(["A"], id="SE-3", email="se3@example.com", send_email="false")
    pairs = [("reset_expiration", "true"), ("expiration_date", "2033-03-04T05:06:07+00:00")]
    if method == "POST":
        resp = shop.post("/api/orders/SE-3/send_email", data=form(pairs), headers=FORM_HEADERS)
    else:
        resp = shop.get("/api/orders/SE-3/send_email?" + form(pairs))
    ok_message(resp)
    assert child_text(shop.order("SE-3"), "expiration_date") == "2033-03-04T05:06:07+00:00"


def test_send_email_with_bad_date_is_400_and_changes_nothing(shop):
    shop.create_order(["A"], id="SE-4", email="se4@example.com", send_email="false")
    before = shop.get("/api/orders/SE-4").content
    resp = shop.post("/api/orders/SE-4/send_email", data="expiration_date=yesterday", headers=FORM_HEADERS)
    assert_error(resp, 400, contains="expiration_date")
    assert shop.get("/api/orders/SE-4").content == before


# ----------------------------------------------------------------------------- bad input

# Unreadable values are 400; readable numbers outside their range (negative limits) are 422.
BAD_CREATES = {
    "date_word": ("expiration_date", {"expiration_date": "yesterday"}, None, 400),
    "date_garbage": ("expiration_date", {"expiration_date": "2031-13-45T99:00:00+00:00"}, None, 400),
    "limit_word": ("download_limit", {"download_limit": "abc"}, None, 400),
    "limit_float": ("download_limit", {"download_limit": "2.5"}, None, 400),
    "limit_negative": ("download_limit", {"download_limit": "-1"}, None, 422),
    "remaining_word": ("downloads_remaining", {}, [{"sku": "A", "downloads_remaining": "lots"}], 400),
    "remaining_negative": ("downloads_remaining", {}, [{"sku": "A", "downloads_remaining": "-2"}], 422),
}


@pytest.mark.parametrize("case", sorted(BAD_CREATES))
def test_bad_create_xml_is_refused_naming_the_field(shop, case):
    field, fields, items, status = BAD_CREATES[case]
    before_item = shop.get("/api/items/A").content
    body = order_xml(items or ["A"], id="BAD-1", send_email="false", **fields)
    assert_error(shop.post("/api/orders", data=body, headers=XML_HEADERS), status, contains=field)
    assert shop.order_ids() == []
    assert_error(shop.get("/api/orders/BAD-1"), 404)
    assert shop.get("/api/items/A").content == before_item


@pytest.mark.parametrize("field,value,status", [("expiration_date", "yesterday", 400), ("download_limit", "abc", 400),
                                                ("download_limit", "-5", 422)])
def test_bad_create_form_is_refused_naming_the_field(shop, field, value, status):
    body = form([("order[send_email]", "false"), (f"order[{field}]", value), ("order[order_items][][sku]", "A")])
    assert_error(shop.post("/api/orders/create", data=body, headers=FORM_HEADERS), status, contains=field)
    assert shop.order_ids() == []


@pytest.mark.parametrize("case", sorted(BAD_CREATES))
def test_bad_update_is_refused_and_changes_nothing(shop, case):
    field, fields, items, status = BAD_CREATES[case]
    shop.create_order(["A"], id="GOOD-1", title="Good", send_email="false")
    before = shop.get("/api/orders/GOOD-1").content
    body = order_xml(items, title="Half written", **fields)
    assert_error(shop.put("/api/orders/GOOD-1", data=body, headers=XML_HEADERS), status, contains=field)
    assert shop.get("/api/orders/GOOD-1").content == before


# ----------------------------------------------------------------------------- client dialects

def test_dotnet_unset_date_means_default(shop):
    """.NET sends DateTime.MinValue (`0001-01-01T00:00:00`) for an unset expiration_date."""
    before = utcnow()
    resp = shop.post("/api/orders/create", headers={"Content-Type": "application/xml; charset=utf-8"},
                     data=order_xml(["A"], send_email="false", expiration_date="0001-01-01T00:00:00"))
    assert resp.status_code == 201, resp.text
    assert_close(expiry(parse_xml(resp)), before + HOURS_240)


@pytest.mark.parametrize("sent,expected", [
    ("2030-11-24T17:30:13.797985", "2030-11-24T17:30:13+00:00"),         # Python: no offset, microseconds: UTC
    ("2030-11-24T17:30:13", "2030-11-24T17:30:13+00:00"),
    ("2030-11-24T17:30:13.1234567+02:00", "2030-11-24T15:30:13+00:00"),  # .NET: 7 fraction digits, offset
    ("2030-11-24T17:30:13.123456-05:00", "2030-11-24T22:30:13+00:00"),   # .NET: 6 fraction digits
    ("2030-11-24T17:30:13Z", "2030-11-24T17:30:13+00:00"),
])
def test_client_datetimes(shop, sent, expected):
    order = shop.create_order(["A"], send_email="false", expiration_date=sent)
    assert child_text(order, "expiration_date") == expected
    assert child_text(shop.order(child_text(order, "id")), "expiration_date") == expected


def test_python_client_body(shop):
    """Python: 36-char UUID order ids and SKUs, booleans 1/0, an extra <ignore_items>."""
    sku = str(uuid.uuid4())
    order_id = str(uuid.uuid4())
    assert len(sku) == len(order_id) == 36
    shop.create_item(sku, name="Py item")
    body = f"""<?xml version="1.0" encoding="utf-8"?>
<order><id>{order_id}</id><title>Py</title><first_name>Monty</first_name><last_name>Python</last_name>
<email>monty@example.com</email><send_email>0</send_email><expiration_date>2030-01-02T03:04:05.678901</expiration_date>
<download_limit>2</download_limit><ignore_items>1</ignore_items>
<order_items type="array"><order_item><sku>{sku}</sku><downloads_remaining>1</downloads_remaining></order_item></order_items>
</order>"""
    resp = shop.post("/api/orders/create", data=body, headers=XML_HEADERS)
    assert resp.status_code == 201, resp.text
    order = assert_seed_shape(parse_xml(resp))
    assert child_text(order, "id") == order_id
    assert skus_of(order) == [sku]
    assert remaining(order, sku) == 1
    assert child_text(order, "expiration_date") == "2030-01-02T03:04:05+00:00"
    assert child_text(shop.item(sku), "order_count") == "1"
    # Python updates with XML without an id: the id stays.
    resp = shop.put(f"/api/orders/{order_id}/update", headers=XML_HEADERS,
                    data=f"<order><title>Py 2</title><send_email>0</send_email><ignore_items>0</ignore_items></order>")
    assert resp.status_code == 200, resp.text
    assert child_text(parse_xml(resp), "id") == order_id
    assert child_text(shop.order(order_id), "title") == "Py 2"
    ok_message(shop.get(f"/api/orders/{order_id}/expire"))
    assert shop.order_ids(filter="expired") == [order_id]
    ok_message(shop.delete(f"/api/orders/{order_id}/delete"))
    assert shop.order_ids() == []


def test_dashed_element_names(shop):
    """Rails reads `<first-name>` as first_name; dashed read-only fields are ignored."""
    body = """<order><id>DASH-1</id><first-name>Dash</first-name><last-name>Board</last-name>
<download-limit type="integer">6</download-limit><send-email>false</send-email>
<item-count type="integer">99</item-count><download-count type="integer">42</download-count>
<created-at type="datetime">2001-01-01T00:00:00</created-at>
<order-items type="array"><order-item><sku>A</sku><downloads-remaining type="integer">2</downloads-remaining></order-item></order-items>
</order>"""
    resp = shop.post("/api/orders", data=body, headers=XML_HEADERS)
    assert resp.status_code == 201, resp.text
    order = assert_seed_shape(parse_xml(resp))
    assert child_text(order, "first_name") == "Dash"
    assert child_text(order, "last_name") == "Board"
    assert child_text(order, "download_limit") == "6"
    assert child_text(order, "item_count") == "1"
    assert child_text(order, "download_count") == "0"
    assert not child_text(order, "created_at").startswith("2001")
    assert remaining(order, "A") == 2


@pytest.mark.parametrize("value", ["true", "false", "1", "0", "True", "FALSE"])
def test_boolean_spellings_accepted(shop, value):
    order = shop.create_order(["A"], send_email=value, email="bool@example.com")
    assert child_text(order, "email") == "bool@example.com"


# ----------------------------------------------------------------------------- concurrency

def test_twenty_parallel_creates_count_right(shop):
    def create(_):
        client = StoreClient(shop.base, shop.key, shop.token)
        resp = client.post("/api/orders", data=order_xml(["A"], send_email="false"), headers=XML_HEADERS)
        return resp.status_code, child_text(parse_xml(resp), "id") if resp.status_code == 201 else resp.text

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(create, range(20)))
    assert [s for s, _ in results] == [201] * 20, results
    ids = sorted(int(i) for _, i in results)
    assert ids == list(range(1001, 1021)), "every create gets its own id"
    assert child_text(shop.item("A"), "order_count") == "20"
    assert child_text(shop.item("B"), "order_count") == "0"
    assert len(shop.order_ids(per_page=100)) == 20


# ----------------------------------------------------------------------------- one email rule

UNSENDABLE_EMAILS = ["a@b", "a(b)@c.d", "a@b.", "a@.b.c", "a:b@c.d", "[a]@b.c", "a\\b@c.d"]


@pytest.mark.parametrize("address", UNSENDABLE_EMAILS)
def test_order_with_an_address_the_mailer_refuses_is_422(shop, address):
    """The order takes the mailer's own address rule: `a@b` and `a(b)@c.d` were stored with 201,
    and their email then failed in the worker on every attempt."""
    resp = shop.post("/api/orders", data=order_xml(["A"], id="MAIL-1", email=address), headers=XML_HEADERS)
    assert_error(resp, 422, contains="email")
    body = form([("order[email]", address), ("order[order_items][][sku]", "A")])
    assert_error(shop.post("/api/orders/create", data=body, headers=FORM_HEADERS), 422, contains="email")
    assert shop.order_ids() == []


@pytest.mark.parametrize("address", ["a@b", "a(b)@c.d"])
def test_update_to_an_unsendable_address_is_422_and_changes_nothing(shop, address):
    shop.create_order(["A"], id="MAIL-2", email="fine@example.com", send_email="false")
    before = shop.get("/api/orders/MAIL-2").content
    resp = shop.put("/api/orders/MAIL-2", data=order_xml(email=address, send_email="true"), headers=XML_HEADERS)
    assert_error(resp, 422, contains="email")
    assert shop.get("/api/orders/MAIL-2").content == before


def test_sendable_addresses_are_still_taken(shop):
    for i, address in enumerate(["o'neil+tag@mail.example.ie", "x@d.co", "first.last@sub.example.org"]):
        order = shop.create_order(["A"], id=f"MAIL-OK-{i}", email=address, send_email="false")
        assert child_text(order, "email") == address
