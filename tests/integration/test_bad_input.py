"""Bad input, tenant isolation, limits: every failure is an XML <message> and writes nothing."""
import pytest
import requests

from conftest import FORM_HEADERS, XML_HEADERS, StoreClient, assert_error, child_text, item_xml, parse_xml

MALFORMED = {
    "unclosed": b"<item><sku>BAD-1</sku>",
    "mismatched": b"<item><sku>BAD-1</name></item>",
    "garbage_after_root": b"<item><sku>BAD-1</sku></item><item>",
    "bad_entity_ref": b"<item><sku>BAD-1 &bogus;</sku></item>",
    "not_xml_at_all": b"<<<>>>",
    "attribute_unquoted": b"<item a=b><sku>BAD-1</sku></item>",
}

HOSTILE = {
    "doctype": b'<?xml version="1.0"?>\n<!DOCTYPE item>\n<item><sku>BAD-2</sku></item>',
    "xxe_file": b'<?xml version="1.0"?>\n<!DOCTYPE item [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                b"<item><sku>BAD-2</sku><name>&xxe;</name></item>",
    "billion_laughs": b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                      b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                      b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
                      b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>\n'
                      b"<item><sku>BAD-2</sku><name>&lol4;</name></item>",
    "internal_entity": b'<!DOCTYPE item [<!ENTITY n "Name">]><item><sku>BAD-2</sku><name>&n;</name></item>',
}


@pytest.fixture(scope="module")
def victim(server):
    """A tenant with two items and one file; every bad request below must leave it as it is."""
    t = server.create_account()
    up = t.upload("victim.txt", b"victim data", "text/plain")
    t.create_item("V-1", name="First", price="1.5", extra=f"<upload_id>{child_text(up, 'id')}</upload_id>")
    t.create_item("V-2", name="Second", price="2.5")
    return t


@pytest.fixture
def unchanged(victim):
    before = victim.snapshot()
    yield victim
    assert victim.snapshot() == before, "a failed request changed the tenant's items or uploads"


CREATE = ("POST", "/api/items/create")
UPDATE = ("PUT", "/api/items/V-1")


@pytest.mark.parametrize("target", [CREATE, UPDATE], ids=["create", "update"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_xml_is_400(unchanged, target, case):
    method, path = target
    text = assert_error(unchanged.request(method, path, data=MALFORMED[case], headers=XML_HEADERS), 400)
    assert "xml" in text.lower(), f"message should name the problem: {text!r}"


@pytest.mark.parametrize("target", [CREATE, UPDATE], ids=["create", "update"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_doctype_and_entities_are_400(unchanged, target, case):
    method, path = target
    resp = unchanged.request(method, path, data=HOSTILE[case], headers=XML_HEADERS)
    assert_error(resp, 400)
    assert "root:" not in resp.text


def test_malformed_xml_without_content_type_is_400(unchanged):
    # No Content-Type, body starts with '<': read as XML, and rejected as XML.
    resp = unchanged.request("POST", "/api/items/create", data=b"<item><sku>BAD-3</sku>", headers={"Content-Type": None})
    assert_error(resp, 400)


@pytest.mark.parametrize("body,headers", [
    (item_xml("BAD-P", "x", "abc"), XML_HEADERS),
    ("item[sku]=BAD-P&item[price]=abc", FORM_HEADERS),
    (item_xml("BAD-P", "x", "12,50"), XML_HEADERS),
    (item_xml("BAD-P", "x", "NaN"), XML_HEADERS),
], ids=["xml", "form", "comma", "nan"])
def test_bad_price_is_400(unchanged, body, headers):
    text = assert_error(unchanged.post("/api/items/create", data=body, headers=headers), 400)
    assert "price" in text.lower(), text


def test_bad_price_on_update_is_400(unchanged):
    assert_error(unchanged.put("/api/items/V-1", data=item_xml(name="Changed", price="abc"), headers=XML_HEADERS), 400)
    assert_error(unchanged.post("/api/items/V-1/update", data={"item[name]": "Changed", "item[price]": "abc"}), 400)


def test_bad_upload_id_is_400(unchanged):
    assert_error(unchanged.post("/api/items/create", data=item_xml("BAD-U", extra="<upload_id>abc</upload_id>"),
                                headers=XML_HEADERS), 400)


@pytest.mark.parametrize("body,headers", [
    (item_xml(name="No SKU"), XML_HEADERS),
    (item_xml("", "Empty SKU"), XML_HEADERS),
    (item_xml("   ", "Blank SKU"), XML_HEADERS),
    ("item[name]=No%20SKU", FORM_HEADERS),
    ("", XML_HEADERS),
], ids=["xml_missing", "xml_empty", "xml_blank", "form_missing", "no_body"])
def test_item_without_sku_is_422(unchanged, body, headers):
    assert_error(unchanged.post("/api/items/create", data=body, headers=headers), 422)


@pytest.mark.parametrize("body,headers", [
    (item_xml("V-2", "Dup"), XML_HEADERS),
    ("item[sku]=V-2&item[name]=Dup", FORM_HEADERS),
], ids=["xml", "form"])
def test_duplicate_sku_is_422(unchanged, body, headers):
    assert_error(unchanged.post("/api/items/create", data=body, headers=headers), 422)
    assert_error(unchanged.post("/api/items", data=body, headers=headers), 422)


def test_unknown_sku_is_404_everywhere(unchanged):
    for method, path in [("GET", "/api/items/NOPE"), ("PUT", "/api/items/NOPE"), ("POST", "/api/items/NOPE/update"),
                         ("PUT", "/api/items/NOPE/items"), ("DELETE", "/api/items/NOPE"),
                         ("GET", "/api/items/NOPE/delete"), ("DELETE", "/api/items/NOPE/delete"),
                         ("GET", "/api/items/NOPE/downloads"), ("GET", "/api/items/NOPE/files")]:
        kw = {"data": item_xml(name="x"), "headers": XML_HEADERS} if method == "PUT" or "update" in path else {}
        assert_error(unchanged.request(method, path, **kw), 404)


def test_unsupported_content_type_is_an_xml_error(unchanged):
    resp = unchanged.post("/api/items/create", data=b"sku=X", headers={"Content-Type": "text/plain"})
    assert_error(resp, 400, "Unsupported Content-Type text/plain")


def test_method_not_allowed_is_an_xml_error(unchanged):
    resp = unchanged.delete("/api/items")
    assert_error(resp, 405, "method not allowed")
    assert resp.headers["Allow"] == "GET, HEAD, POST"


# ----------------------------------------------------------------------------- tenants

def test_other_tenants_sku_is_404(victim, new_account):
    b = new_account()
    before = victim.snapshot()
    assert_error(b.get("/api/items/V-1"), 404)
    assert_error(b.get("/api/items/V-1/downloads"), 404)
    assert_error(b.get("/api/items/V-1/files"), 404)
    assert_error(b.put("/api/items/V-1", data=item_xml("STOLEN", "Stolen"), headers=XML_HEADERS), 404)
    assert_error(b.post("/api/items/V-1/update", data=item_xml(name="Stolen"), headers=XML_HEADERS), 404)
    assert_error(b.get("/api/items/V-1/delete"), 404)
    assert_error(b.delete("/api/items/V-1"), 404)
    assert b.skus() == []
    assert victim.snapshot() == before


def test_lists_are_per_tenant(victim, new_account, demo):
    b = new_account()
    b.create_item("B-ONLY")
    assert b.skus() == ["B-ONLY"]
    assert "B-ONLY" not in victim.skus()
    assert "B-ONLY" not in demo.skus()
    assert not {"V-1", "V-2", "BILL-WAX", "CARROT-JUICE"} & set(b.skus())


def test_same_sku_in_two_tenants(victim, new_account):
    b = new_account()
    mine = b.create_item("V-1", name="B's own V-1")
    assert child_text(b.item("V-1"), "name") == "B's own V-1"
    assert child_text(victim.item("V-1"), "name") == "First"
    assert child_text(mine, "guid") != child_text(victim.item("V-1"), "guid")


# ----------------------------------------------------------------------------- limits and unknown paths

def test_body_over_8mb_is_413(unchanged):
    body = b"<item><sku>HUGE</sku><name>" + b"x" * (8 * 1024 * 1024 + 100) + b"</name></item>"
    resp = unchanged.post("/api/items/create", data=body, headers=XML_HEADERS)
    assert_error(resp, 413)


def test_body_over_8mb_on_update_is_413(unchanged):
    body = "item%5Bname%5D=" + "y" * (9 * 1024 * 1024)
    assert_error(unchanged.put("/api/items/V-1", data=body, headers=FORM_HEADERS), 413)


def test_body_under_8mb_reaches_the_app(tenant):
    """The 8 MB limit is nginx's; a 3 MB form body (unknown field ignored) is an ordinary request."""
    body = "item%5Bsku%5D=BIG-FORM&item%5Bname%5D=Big&padding=" + "p" * (3 * 1024 * 1024)
    resp = tenant.post("/api/items/create", data=body, headers=FORM_HEADERS)
    assert resp.status_code == 201, resp.text[:300]
    assert tenant.skus() == ["BIG-FORM"]


@pytest.mark.parametrize("path", ["/api/nope", "/api/nope.xml", "/api/items/BILL-WAX/nope", "/api/items/a/b/c/d"])
def test_unknown_api_path_is_404_xml(demo, path):
    assert_error(demo.get(path), 404)


def test_unknown_api_path_without_auth_is_xml(anon):
    """A path no route matches is 404 before credentials are asked for."""
    resp = anon.get("/api/nope")
    assert_error(resp, 404, "not found")
    assert "WWW-Authenticate" not in resp.headers


@pytest.mark.parametrize("path", ["/", "/nope", "/api", "/permalinkx"])
def test_store_port_outside_api_is_404_xml(server, path):
    resp = requests.get(server.store_url + path, timeout=10)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("application/xml")
    assert_error(resp, 404)


# ("/" is the dashboard: test_www_quality.py)
@pytest.mark.parametrize("path", ["/nope", "/api/items", "/fetch/nope"])
def test_media_port_is_404_json(server, path):
    resp = requests.get(server.media_url + path, timeout=10)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert body["error"]["code"] == "not_found"


def test_chunked_body_over_8mb_is_413(unchanged):
    def body():
        yield b"<item><sku>HUGE-CHUNKED</sku><name>"
        for _ in range(9):
            yield b"z" * (1024 * 1024)
        yield b"</name></item>"
    assert_error(unchanged.post("/api/items/create", data=body(), headers=XML_HEADERS), 413)


def test_xml_body_within_limit_but_huge_is_an_xml_error(unchanged):
    """Under nginx's 8 MB body limit but over the app's 1 MiB XML document limit: a clean 413."""
    body = item_xml("BIG-XML", "n" * (3 * 1024 * 1024))
    resp = unchanged.post("/api/items/create", data=body, headers=XML_HEADERS)
    assert_error(resp, 413, "XML body is larger than 1048576 bytes")


@pytest.mark.parametrize("case,status", [("uri_too_long", 414), ("header_too_large", 400), ("nul_in_path", 400)])
def test_errors_from_nginx_itself_are_xml(server, demo, case, status):
    """The store dialect never answers HTML, even when nginx refuses the request itself."""
    if case == "uri_too_long":
        resp = requests.get(server.store_url + "/api/items?pad=" + "a" * 20000, auth=demo.auth, timeout=10)
    elif case == "nul_in_path":
        resp = requests.get(server.store_url + "/api/items/a%00b", auth=demo.auth, timeout=10)
    else:
        resp = requests.get(server.store_url + "/api/items", auth=demo.auth, headers={"X-Pad": "a" * 20000},
                            timeout=10)
    assert resp.headers.get("Content-Type", "").startswith("application/xml"), (resp.status_code, resp.text[:200])
    assert_error(resp, status)


@pytest.mark.parametrize("path", ["/api/items/%3Cb%3E%26x", "/api/items/%01%02", "/api/items/%FF%FE",
                                  "/api/uploads/%FF", "/api/items/%3C%21--"])
def test_odd_skus_in_path_give_well_formed_404(demo, path):
    assert_error(demo.get(path), 404)


def test_expect_continue_with_oversized_body_is_refused_early(server, tenant):
    """A .NET client announcing 9 MB gets the 413 XML reply without sending the body."""
    import base64
    import socket
    auth = base64.b64encode(f"{tenant.key}:{tenant.token}".encode()).decode()
    with socket.create_connection(("127.0.0.1", server.store_port), timeout=5) as s:
        s.sendall((f"POST /api/items/create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
                   f"Content-Type: application/xml; charset=utf-8\r\nExpect: 100-continue\r\n"
                   f"Content-Length: {9 * 1024 * 1024}\r\n\r\n").encode())
        data = b""
        while b"</message>" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), data[:200]
    assert b"application/xml" in head
    assert b"<message>" in body
