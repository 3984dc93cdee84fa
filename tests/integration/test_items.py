"""Items: list, show, create, update (rename), delete, downloads, files; client dialects."""
import re
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import (FORM_HEADERS, XML_HEADERS, StoreClient, assert_error, child_text, item_xml, message_of,
                      parse_xml)

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
BILL_WAX_TEXT = b"Quality Bill Wax: apply sparingly.\n"
CARROT_TEXT = b"Carrot juice recipe: carrots, juicer.\n"
DEMO_SKUS = ["BILL-WAX", "CARROT-JUICE"]  # the demo tenant's items, which no test changes


def assert_full_item(item, sku, name=None):
    assert item.tag == "item"
    assert child_text(item, "sku") == sku
    if name is not None:
        assert child_text(item, "name") == name
    guid = child_text(item, "guid")
    assert guid
    assert child_text(item, "permalink") == "/permalink/" + guid
    created = item.find("created_at")
    assert created is not None and created.get("type") == "datetime"
    assert DATETIME.match(created.text or ""), created.text
    price = item.find("price")
    assert price is not None and price.get("type") == "float"
    float(price.text)
    for name_ in ("order_count", "download_count"):
        el = item.find(name_)
        assert el is not None and el.get("type") == "integer", name_
        int(el.text)
    files = item.find("files")
    assert files is not None and files.get("type") == "array"
    downloads = item.find("downloads")
    assert downloads is not None and downloads.get("type") == "array"
    return item


def ok_message(resp):
    assert resp.status_code == 200, resp.text
    assert message_of(resp) == "Ok."
    # Exactly <message>Ok.</message>
    assert re.search(rb"<message>Ok\.</message>", resp.content), resp.content


# ----------------------------------------------------------------------------- demo items (read only)

def test_list_demo_items(demo):
    root = demo.items()
    skus = [child_text(i, "sku") for i in root.findall("item")]
    assert skus == DEMO_SKUS
    for item in root.findall("item"):
        assert_full_item(item, child_text(item, "sku"))


@pytest.mark.parametrize("path", ["/api/items", "/api/items.xml", "/api/items?"])
def test_list_uris(demo, path):
    resp = demo.get(path)
    assert resp.status_code == 200
    root = parse_xml(resp)
    assert root.tag == "items" and root.get("type") == "array"
    assert [child_text(i, "sku") for i in root.findall("item")] == DEMO_SKUS


@pytest.mark.parametrize("content_type", ["application/xml; charset=utf-8", "application/x-www-form-urlencoded"])
def test_list_with_content_type_and_empty_body(demo, content_type):
    """.NET and Ruby send a Content-Type on GETs without a body."""
    resp = demo.get("/api/items", headers={"Content-Type": content_type})
    assert resp.status_code == 200, resp.text
    assert [child_text(i, "sku") for i in parse_xml(resp).findall("item")] == DEMO_SKUS


def test_list_reply_is_chunked(demo):
    resp = demo.get("/api/items")
    assert resp.status_code == 200
    assert resp.headers.get("Transfer-Encoding", "").lower() == "chunked", resp.headers
    assert "Content-Length" not in resp.headers


@pytest.mark.parametrize("path", ["/api/items/BILL-WAX", "/api/items/BILL-WAX.xml"])
def test_show_demo_item(demo, path):
    resp = demo.get(path)
    assert resp.status_code == 200
    item = assert_full_item(parse_xml(resp), "BILL-WAX", "Quality Bill Wax")
    assert child_text(item, "filename") == "BILL-WAX.txt"
    size = item.find("size_bytes")
    assert size.get("type") == "integer" and int(size.text) == len(BILL_WAX_TEXT)
    assert child_text(item, "content_type") == "text/plain"
    files = item.find("files").findall("file")
    assert len(files) == 1
    assert child_text(files[0], "filename") == "BILL-WAX.txt"
    assert float(child_text(files[0], "size_bytes")) == len(BILL_WAX_TEXT)


def test_price_shortest_form(demo):
    item = demo.item("CARROT-JUICE")
    assert child_text(item, "price") == "95.2"
    assert child_text(item, "filename") == "carrot-juice.txt"
    assert int(child_text(item, "size_bytes")) == len(CARROT_TEXT)


def test_item_children_order_and_guid_stable(demo):
    a, b = demo.item("BILL-WAX"), demo.item("BILL-WAX")
    assert child_text(a, "guid") == child_text(b, "guid")
    assert child_text(a, "guid") != child_text(demo.item("CARROT-JUICE"), "guid")


@pytest.mark.parametrize("path", ["/api/items/BILL-WAX/downloads", "/api/items/BILL-WAX/downloads.xml"])
def test_item_downloads(demo, path):
    resp = demo.get(path)
    assert resp.status_code == 200
    root = parse_xml(resp)
    assert root.tag == "downloads" and root.get("type") == "array"
    for d in root.findall("download"):
        assert child_text(d, "item_sku") == "BILL-WAX"


@pytest.mark.parametrize("path", ["/api/items/BILL-WAX/files", "/api/items/BILL-WAX/files.xml"])
def test_item_files(demo, path):
    resp = demo.get(path)
    assert resp.status_code == 200
    root = parse_xml(resp)
    assert root.tag == "files" and root.get("type") == "array"
    files = root.findall("file")
    assert len(files) == 1
    assert child_text(files[0], "filename") == "BILL-WAX.txt"


def test_files_of_item_without_file_is_empty_array(tenant):
    tenant.create_item("NOFILE")
    resp = tenant.get("/api/items/NOFILE/files")
    assert resp.status_code == 200
    root = parse_xml(resp)
    assert root.tag == "files" and root.get("type") == "array" and len(root) == 0
    item = tenant.item("NOFILE")
    assert len(item.find("files")) == 0 and len(item.find("downloads")) == 0


@pytest.mark.parametrize("path", ["/api/items/NOPE-404", "/api/items/NOPE-404.xml", "/api/items/NOPE-404/downloads",
                                  "/api/items/NOPE-404/files"])
def test_unknown_sku_404(demo, path):
    assert_error(demo.get(path), 404)


# ----------------------------------------------------------------------------- pagination

@pytest.fixture(scope="module")
def paged(server):
    """A tenant with 105 items P000..P104, created in parallel."""
    t = server.create_account()
    skus = [f"P{n:03d}" for n in range(105)]

    def make(sku):
        r = StoreClient(t.base, t.key, t.token).post("/api/items/create", data=item_xml(sku, "Paged"),
                                                     headers=XML_HEADERS)
        return r.status_code

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(make, skus)) == {201}
    t.all_skus = skus
    return t


def page_skus(resp):
    assert resp.status_code == 200, resp.text
    root = parse_xml(resp)
    assert root.tag == "items" and root.get("type") == "array"
    return [child_text(i, "sku") for i in root.findall("item")]


def test_pagination_default_25(paged):
    skus = page_skus(paged.get("/api/items"))
    assert len(skus) == 25 and len(set(skus)) == 25
    assert page_skus(paged.get("/api/items", params={"page": 2})) != skus


def test_pagination_max_100(paged):
    assert len(page_skus(paged.get("/api/items", params={"per_page": 100}))) == 100
    assert len(page_skus(paged.get("/api/items", params={"per_page": 1000}))) == 100


def test_pagination_pages_cover_everything(paged):
    seen = []
    for page in range(1, 12):
        seen += page_skus(paged.get("/api/items.xml", params={"per_page": 10, "page": page}))
    assert len(seen) == 105 and sorted(seen) == sorted(paged.all_skus)
    assert page_skus(paged.get("/api/items", params={"per_page": 10, "page": 12})) == []


def test_pagination_page_two(paged):
    first = page_skus(paged.get("/api/items", params={"per_page": 100}))
    assert page_skus(paged.get("/api/items", params={"per_page": 25, "page": 2})) == first[25:50]
    assert page_skus(paged.get("/api/items", params={"per_page": 1, "page": 2})) == first[1:2]


def test_pagination_from_get_form_body(paged):
    """Ruby client: GET /items with list parameters in an urlencoded body."""
    first = page_skus(paged.get("/api/items", params={"per_page": 100}))
    resp = paged.get("/api/items", data="per_page=7&page=3", headers=FORM_HEADERS)
    assert page_skus(resp) == first[14:21]


def test_empty_page_is_empty_array(tenant):
    resp = tenant.get("/api/items")
    root = parse_xml(resp)
    assert root.tag == "items" and root.get("type") == "array" and len(root) == 0


# ----------------------------------------------------------------------------- create

@pytest.mark.parametrize("path", ["/api/items", "/api/items.xml", "/api/items/create", "/api/items/create.xml"])
def test_create_xml(tenant, path):
    resp = tenant.post(path, data=item_xml("NEW-1", "Carrot Juice", "95.2"), headers=XML_HEADERS)
    assert resp.status_code == 201, resp.text
    item = assert_full_item(parse_xml(resp), "NEW-1", "Carrot Juice")
    assert child_text(item, "price") == "95.2"
    assert len(item.find("files")) == 0
    shown = tenant.item("NEW-1")
    assert child_text(shown, "guid") == child_text(item, "guid")
    assert child_text(shown, "name") == "Carrot Juice"
    assert tenant.skus() == ["NEW-1"]


def test_create_seed_body_verbatim(tenant):
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<item>\n<sku>1</sku>\n<name>Carrot Juice</name>\n</item>\n'
    resp = tenant.post("/api/items/create", data=body.encode(), headers=XML_HEADERS)
    assert resp.status_code == 201
    assert_full_item(parse_xml(resp), "1", "Carrot Juice")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_create_command_uri_any_verb(tenant, method):
    resp = tenant.request(method, "/api/items/create", data=item_xml("VERB-" + method, "V"), headers=XML_HEADERS)
    assert resp.status_code == 201, resp.text
    assert_full_item(parse_xml(resp), "VERB-" + method)
    assert tenant.skus() == ["VERB-" + method]


def test_create_rails_form(tenant):
    resp = tenant.post("/api/items/create", data={"item[sku]": "FORM-1", "item[name]": "Form Item",
                                                  "item[price]": "12.5"})
    assert resp.status_code == 201, resp.text
    item = assert_full_item(parse_xml(resp), "FORM-1", "Form Item")
    assert child_text(item, "price") == "12.5"


def test_create_ruby_encoded_form(tenant):
    """Percent-encoded brackets and %20 for spaces, exactly as the Ruby gem sends them."""
    body = "item%5Bsku%5D=RB-1&item%5Bname%5D=Ruby%20Carrot%20Juice&item%5Bprice%5D=3.5"
    resp = tenant.post("/api/items/create", data=body, headers=FORM_HEADERS)
    assert resp.status_code == 201, resp.text
    item = assert_full_item(parse_xml(resp), "RB-1", "Ruby Carrot Juice")
    assert child_text(item, "price") == "3.5"


def test_create_escapes_text(tenant):
    tenant.create_item("ESC-1", name="Tom &amp; Jerry &lt;3")
    assert child_text(tenant.item("ESC-1"), "name") == "Tom & Jerry <3"


def test_python_client_body(tenant):
    """Python client: XML with an extra <ignore_items> element and 36-char UUID SKUs."""
    sku = str(uuid.uuid4())
    assert len(sku) == 36
    body = f"<item><sku>{sku}</sku><name>Py</name><price>1.25</price><ignore_items>1</ignore_items></item>"
    resp = tenant.post("/api/items/create", data=body, headers={"Content-Type": "application/xml"})
    assert resp.status_code == 201, resp.text
    assert child_text(parse_xml(resp), "sku") == sku
    assert child_text(tenant.item(sku), "price") == "1.25"
    # Python renames with PUT /items/:sku and XML.
    new_sku = str(uuid.uuid4())
    resp = tenant.put(f"/api/items/{sku}", data=f"<item><sku>{new_sku}</sku><ignore_items>0</ignore_items></item>",
                      headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    assert child_text(parse_xml(resp), "sku") == new_sku
    assert_error(tenant.get(f"/api/items/{sku}"), 404)
    assert child_text(tenant.item(new_sku), "name") == "Py"
    ok_message(tenant.delete(f"/api/items/{new_sku}/delete"))
    assert tenant.skus() == []


# ----------------------------------------------------------------------------- .NET client

DOTNET_ITEM = """<?xml version="1.0" encoding="utf-8"?>
<item>
  <sku>{sku}</sku>
  <name>{name}</name>
  <price>{price}</price>
  <download-count>77</download-count>
  <created-at>2001-01-01T00:00:00.0000000+02:00</created-at>
  <size-bytes>123456</size-bytes>
  <filename />
</item>"""

DOTNET_HEADERS = {"Content-Type": "application/xml; charset=utf-8", "Expect": "100-continue"}


def test_dotnet_create_ignores_read_only_fields(tenant):
    body = DOTNET_ITEM.format(sku="NET-1", name="Dot Net", price="4.5")
    resp = tenant.post("/api/items/create", data=body.encode("utf-8"), headers=DOTNET_HEADERS)
    assert resp.status_code == 201, resp.text
    item = assert_full_item(parse_xml(resp), "NET-1", "Dot Net")
    assert child_text(item, "download_count") == "0"
    assert child_text(item, "price") == "4.5"
    assert not item.find("created_at").text.startswith("2001")
    assert (item.findtext("filename") or "") == ""
    assert len(item.find("files")) == 0


def test_dotnet_serializer_namespace_declarations(tenant):
    """XmlSerializer puts xmlns:xsi / xmlns:xsd declarations on the root element."""
    body = DOTNET_ITEM.format(sku="NET-NS", name="Namespaced", price="2.0").replace(
        "<item>", '<item xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                  'xmlns:xsd="http://www.w3.org/2001/XMLSchema">')
    resp = tenant.post("/api/items/create", data=body.encode("utf-8"), headers=DOTNET_HEADERS)
    assert resp.status_code == 201, resp.text
    assert_full_item(parse_xml(resp), "NET-NS", "Namespaced")


def test_dotnet_update_keeps_file_on_empty_filename(tenant):
    upload = tenant.upload("net.txt", b"dotnet file body\n", "text/plain")
    up_id = child_text(upload, "id")
    tenant.create_item("NET-2", extra=f"<upload_id>{up_id}</upload_id>")
    body = DOTNET_ITEM.format(sku="NET-2", name="Renamed by .NET", price="7.25")
    resp = tenant.post("/api/items/NET-2/update", data=body.encode("utf-8"), headers=DOTNET_HEADERS)
    assert resp.status_code == 200, resp.text
    item = parse_xml(resp)
    assert child_text(item, "name") == "Renamed by .NET"
    assert child_text(item, "filename") == "net.txt"
    assert int(child_text(item, "size_bytes")) == len(b"dotnet file body\n")
    assert child_text(item, "download_count") == "0"
    shown = tenant.item("NET-2")
    assert child_text(shown, "filename") == "net.txt"
    assert child_text(shown, "price") == "7.25"


def raw_http(port, head, body=b"", expect_continue=False, timeout=5):
    """One HTTP/1.1 exchange on a raw socket. Returns (saw_100_continue, status, headers, body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head)
        saw_continue = False
        buf = b""
        if expect_continue:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(4096)
                assert chunk, "connection closed before 100 Continue"
                buf += chunk
            interim, _, buf = buf.partition(b"\r\n\r\n")
            assert interim.startswith(b"HTTP/1.1 100"), interim
            saw_continue = True
        s.sendall(body)
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            assert chunk, "connection closed before the response head"
            buf += chunk
        head_bytes, _, rest = buf.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                while b"\r\n" not in rest:
                    chunk = s.recv(65536)
                    assert chunk, "connection closed inside chunked body"
                    rest += chunk
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(rest) < size + 2:
                    chunk = s.recv(65536)
                    assert chunk, "connection closed inside chunk"
                    rest += chunk
                if size == 0:
                    break
                data += rest[:size]
                rest = rest[size + 2:]
        else:
            length = int(headers.get("content-length", "0"))
            while len(rest) < length:
                chunk = s.recv(65536)
                assert chunk
                rest += chunk
            data = rest[:length]
        return saw_continue, status, headers, data
    finally:
        s.close()


def test_dotnet_expect_100_continue_on_the_wire(server, tenant):
    """The .NET client sends headers, waits for 100 Continue, then sends the body."""
    import base64
    import xml.etree.ElementTree as ET
    body = DOTNET_ITEM.format(sku="NET-WIRE", name="Wire", price="1.5").encode("utf-8")
    auth = base64.b64encode(f"{tenant.key}:{tenant.token}".encode()).decode()
    head = (f"POST /api/items/create HTTP/1.1\r\nHost: 127.0.0.1:{server.store_port}\r\n"
            f"Authorization: Basic {auth}\r\nContent-Type: application/xml; charset=utf-8\r\n"
            f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    saw_continue, status, headers, data = raw_http(server.store_port, head, body, expect_continue=True)
    assert saw_continue
    assert status == 201, data
    assert headers["content-type"].startswith("application/xml")
    assert "content-length" not in headers
    item = ET.fromstring(data)
    assert child_text(item, "sku") == "NET-WIRE"
    assert "NET-WIRE" in tenant.skus()


def test_keep_alive_connection_serves_many_requests(demo):
    """Replies framed by chunking let one pooled connection carry request after request."""
    import requests
    with requests.Session() as s:
        s.auth = demo.auth
        for _ in range(6):
            r = s.get(demo.url("/api/items/BILL-WAX"), timeout=5)
            assert r.status_code == 200
            assert r.headers.get("Transfer-Encoding", "").lower() == "chunked"
            StoreClient.check_reply(r)


# ----------------------------------------------------------------------------- update

UPDATE_ROUTES = [
    ("PUT", "/api/items/{sku}"),
    ("PUT", "/api/items/{sku}.xml"),
    ("POST", "/api/items/{sku}/update"),
    ("POST", "/api/items/{sku}/update.xml"),
    ("PUT", "/api/items/{sku}/update"),
    ("GET", "/api/items/{sku}/update"),
    ("PUT", "/api/items/{sku}/items"),
    ("PUT", "/api/items/{sku}/items.xml"),
    ("POST", "/api/items/{sku}/items"),
]


@pytest.mark.parametrize("method,route", UPDATE_ROUTES)
def test_update_xml(tenant, method, route):
    created = tenant.create_item("UPD-1", name="Tomato", price="2.5")
    resp = tenant.request(method, route.format(sku="UPD-1"), data=item_xml(name="Tomato Juice"), headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    item = assert_full_item(parse_xml(resp), "UPD-1", "Tomato Juice")
    assert child_text(item, "price") == "2.5"  # untouched fields keep their value
    assert child_text(item, "guid") == child_text(created, "guid")
    assert child_text(item, "created_at") == child_text(created, "created_at")
    assert child_text(tenant.item("UPD-1"), "name") == "Tomato Juice"


def test_update_rails_form(tenant):
    tenant.create_item("RB-UPD", name="Before", price="1.0")
    body = "item%5Bname%5D=After%20Update&item%5Bprice%5D=9.75"
    resp = tenant.put("/api/items/RB-UPD", data=body, headers=FORM_HEADERS)
    assert resp.status_code == 200, resp.text
    item = parse_xml(resp)
    assert child_text(item, "name") == "After Update"
    assert child_text(item, "price") == "9.75"
    shown = tenant.item("RB-UPD")
    assert child_text(shown, "name") == "After Update"


@pytest.mark.parametrize("method,route", [("PUT", "/api/items/{sku}/items"), ("PUT", "/api/items/{sku}"),
                                          ("POST", "/api/items/{sku}/update")])
def test_rename_sku(tenant, method, route):
    created = tenant.create_item("2", name="Tomato Juice")
    resp = tenant.request(method, route.format(sku="2"), data=item_xml("3", "Tomato Juice"), headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    item = parse_xml(resp)
    assert child_text(item, "sku") == "3"
    assert child_text(item, "guid") == child_text(created, "guid")
    assert_error(tenant.get("/api/items/2"), 404)
    assert child_text(tenant.item("3"), "name") == "Tomato Juice"
    assert tenant.skus() == ["3"]


def test_rename_sku_by_form(tenant):
    tenant.create_item("OLD-F")
    resp = tenant.put("/api/items/OLD-F", data={"item[sku]": "NEW-F"})
    assert resp.status_code == 200, resp.text
    assert child_text(parse_xml(resp), "sku") == "NEW-F"
    assert_error(tenant.get("/api/items/OLD-F"), 404)
    tenant.item("NEW-F")


def test_rename_to_existing_sku_is_422(tenant):
    tenant.create_item("KEEP-A", name="A")
    tenant.create_item("KEEP-B", name="B")
    before = tenant.snapshot()
    assert_error(tenant.put("/api/items/KEEP-A", data=item_xml("KEEP-B", "A renamed"), headers=XML_HEADERS), 422)
    assert tenant.snapshot() == before
    assert child_text(tenant.item("KEEP-A"), "name") == "A"
    assert child_text(tenant.item("KEEP-B"), "name") == "B"


def test_rename_to_same_sku_is_fine(tenant):
    tenant.create_item("SAME")
    resp = tenant.put("/api/items/SAME", data=item_xml("SAME", "Same again"), headers=XML_HEADERS)
    assert resp.status_code == 200, resp.text
    assert child_text(parse_xml(resp), "name") == "Same again"


# ----------------------------------------------------------------------------- delete

DELETE_ROUTES = [
    ("DELETE", "/api/items/{sku}"),
    ("DELETE", "/api/items/{sku}.xml"),
    ("DELETE", "/api/items/{sku}/delete"),
    ("DELETE", "/api/items/{sku}/delete.xml"),
    ("GET", "/api/items/{sku}/delete"),
    ("GET", "/api/items/{sku}/delete.xml"),
    ("POST", "/api/items/{sku}/delete"),
    ("PUT", "/api/items/{sku}/delete"),
]


@pytest.mark.parametrize("method,route", DELETE_ROUTES)
def test_delete(tenant, method, route):
    tenant.create_item("DEL-1")
    tenant.create_item("DEL-2")
    ok_message(tenant.request(method, route.format(sku="DEL-1")))
    assert_error(tenant.get("/api/items/DEL-1"), 404)
    assert tenant.skus() == ["DEL-2"]
    # A second delete finds nothing.
    assert_error(tenant.request(method, route.format(sku="DEL-1")), 404)
    assert tenant.skus() == ["DEL-2"]


def test_deleted_sku_can_be_reused(tenant):
    first = tenant.create_item("AGAIN")
    ok_message(tenant.delete("/api/items/AGAIN/delete"))
    second = tenant.create_item("AGAIN")
    assert child_text(first, "guid") != child_text(second, "guid")


# ----------------------------------------------------------------------------- files by upload

def test_item_names_file_by_upload_id(tenant):
    content = b"0123456789" * 7
    up = tenant.upload("ten.txt", content, "text/plain")
    resp = tenant.post("/api/items/create", data=item_xml("BY-ID", extra=f"<upload_id>{child_text(up, 'id')}</upload_id>"),
                       headers=XML_HEADERS)
    assert resp.status_code == 201, resp.text
    item = parse_xml(resp)
    assert child_text(item, "filename") == "ten.txt"
    assert int(child_text(item, "size_bytes")) == len(content)
    assert child_text(item, "content_type") == "text/plain"
    files = item.find("files").findall("file")
    assert len(files) == 1 and child_text(files[0], "id") == child_text(up, "id")


def test_item_names_file_by_filename(tenant):
    content = b"%PDF-1.4 fake" * 13
    tenant.upload("manual.pdf", content, "application/pdf")
    resp = tenant.post("/api/items/create", data=item_xml("BY-NAME", extra="<filename>manual.pdf</filename>"),
                       headers=XML_HEADERS)
    assert resp.status_code == 201, resp.text
    item = parse_xml(resp)
    assert child_text(item, "filename") == "manual.pdf"
    assert int(child_text(item, "size_bytes")) == len(content)
    assert child_text(item, "content_type") == "application/pdf"


def test_update_attaches_file(tenant):
    tenant.create_item("LATE-FILE")
    up = tenant.upload("late.txt", b"late bytes", "text/plain")
    resp = tenant.put("/api/items/LATE-FILE", data={"item[upload_id]": child_text(up, "id")})
    assert resp.status_code == 200, resp.text
    assert child_text(parse_xml(resp), "filename") == "late.txt"
    assert int(child_text(tenant.item("LATE-FILE"), "size_bytes")) == len(b"late bytes")


def test_unknown_file_is_422(tenant):
    tenant.create_item("HAS-NONE")
    before = tenant.snapshot()
    assert_error(tenant.post("/api/items/create", data=item_xml("X1", extra="<upload_id>999999</upload_id>"),
                             headers=XML_HEADERS), 422)
    assert_error(tenant.post("/api/items/create", data=item_xml("X2", extra="<filename>ghost.zip</filename>"),
                             headers=XML_HEADERS), 422)
    assert_error(tenant.put("/api/items/HAS-NONE", data=item_xml(name="changed", extra="<upload_id>999999</upload_id>"),
                            headers=XML_HEADERS), 422)
    assert_error(tenant.put("/api/items/HAS-NONE", data=item_xml(name="changed", extra="<filename>ghost.zip</filename>"),
                            headers=XML_HEADERS), 422)
    assert tenant.snapshot() == before


def test_other_tenants_upload_is_unknown(new_account):
    a, b = new_account(), new_account()
    up = a.upload("secret.txt", b"tenant A only", "text/plain")
    before = b.snapshot()
    assert_error(b.post("/api/items/create", data=item_xml("STEAL", extra=f"<upload_id>{child_text(up, 'id')}</upload_id>"),
                        headers=XML_HEADERS), 422)
    assert_error(b.post("/api/items/create", data=item_xml("STEAL2", extra="<filename>secret.txt</filename>"),
                        headers=XML_HEADERS), 422)
    assert b.snapshot() == before


# ----------------------------------------------------------------------------- encodings and framing

def test_chunked_request_body(tenant):
    def body():
        yield b"<item><sku>CHU"
        yield b"NKED</sku><name>Chunked body</name></item>"
    resp = tenant.post("/api/items/create", data=body(), headers=XML_HEADERS)
    assert resp.status_code == 201, resp.text
    assert child_text(parse_xml(resp), "sku") == "CHUNKED"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded; charset=UTF-8",
                                          "application/x-www-form-urlencoded"])
def test_form_content_type_variants(tenant, content_type):
    resp = tenant.post("/api/items/create", data="item%5Bsku%5D=CT-1&item%5Bname%5D=x+y",
                       headers={"Content-Type": content_type})
    assert resp.status_code == 201, resp.text
    assert child_text(parse_xml(resp), "name") == "x y"


@pytest.mark.parametrize("content_type", ["text/xml", "application/xml; charset=utf-8", "APPLICATION/XML"])
def test_xml_content_type_variants(tenant, content_type):
    resp = tenant.post("/api/items/create", data=item_xml("CT-X", "xml"), headers={"Content-Type": content_type})
    assert resp.status_code == 201, resp.text


def test_unicode_roundtrip(tenant):
    sku = "Café-ß-日本"
    resp = tenant.post("/api/items/create", data=item_xml(sku, "Crème brûlée ☕").encode("utf-8"),
                       headers={"Content-Type": "application/xml; charset=utf-8"})
    assert resp.status_code == 201, resp.text
    assert child_text(parse_xml(resp), "name") == "Crème brûlée ☕"
    shown = tenant.get("/api/items/" + requests_quote(sku))
    assert shown.status_code == 200
    assert child_text(parse_xml(shown), "sku") == sku
    assert sku in tenant.skus()


def requests_quote(text):
    from urllib.parse import quote
    return quote(text, safe="")


def test_sku_with_space_in_path(tenant):
    tenant.create_item("My SKU", name="spaced")
    assert child_text(tenant.item("My%20SKU"), "name") == "spaced"
    ok_message(tenant.delete("/api/items/My%20SKU/delete"))
    assert tenant.skus() == []


def test_bom_cdata_and_comments(tenant):
    body = ("\ufeff<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- made by hand -->\n"
            "<item><sku>CDATA-1</sku><name><![CDATA[A & B <c>]]></name></item>").encode("utf-8")
    resp = tenant.post("/api/items/create", data=body, headers=XML_HEADERS)
    assert resp.status_code == 201, resp.text
    assert child_text(tenant.item("CDATA-1"), "name") == "A & B <c>"


# ----------------------------------------------------------------------------- downloads log

@pytest.mark.parametrize("path", ["/api/downloads", "/api/downloads.xml", "/api/downloads.xml?per_page=25&page=2"])
def test_downloads_list_is_array(tenant, path):
    resp = tenant.get(path)
    assert resp.status_code == 200
    root = parse_xml(resp)
    assert root.tag == "downloads" and root.get("type") == "array" and len(root) == 0


def test_unknown_download_404(tenant):
    assert_error(tenant.get("/api/downloads/999999"), 404)


def test_permalink_download_is_logged_on_the_item(tenant, server):
    """The item's permalink serves its file; the download shows up without an order_id."""
    import requests
    content = b"permalink bytes\n" * 3
    up = tenant.upload("perm.txt", content, "text/plain")
    item = tenant.create_item("PERM", extra=f"<upload_id>{child_text(up, 'id')}</upload_id>")
    link = child_text(item, "permalink")
    for _ in range(3):
        got = requests.get(server.store_url + link, timeout=10)
        assert got.status_code == 200
        assert got.content == content

    shown = tenant.item("PERM")
    assert child_text(shown, "download_count") == "3"
    downloads = shown.find("downloads").findall("download")
    assert len(downloads) == 3
    for d in downloads:
        assert child_text(d, "item_sku") == "PERM"
        assert d.find("order_id") is None  # permalink download: no order
        assert float(child_text(d, "size_bytes")) == len(content)
        assert DATETIME.match(child_text(d, "downloaded_at"))

    listed = parse_xml(tenant.get("/api/items/PERM/downloads")).findall("download")
    assert len(listed) == 3
    all_ids = [child_text(d, "id") for d in parse_xml(tenant.get("/api/downloads")).findall("download")]
    assert sorted(all_ids) == sorted(child_text(d, "id") for d in listed)
    one = tenant.get(f"/api/downloads/{all_ids[0]}")
    assert one.status_code == 200 and child_text(parse_xml(one), "id") == all_ids[0]
    # Ruby: list parameters in the GET body.
    page = tenant.get("/api/downloads", data="per_page=1&page=2", headers=FORM_HEADERS)
    assert [child_text(d, "id") for d in parse_xml(page).findall("download")] == all_ids[1:2]
    assert [child_text(d, "id") for d in parse_xml(tenant.get("/api/items/PERM/downloads", params={
        "per_page": 2})).findall("download")] == [child_text(d, "id") for d in listed][:2]


def test_downloads_are_per_tenant(new_account, server):
    import requests
    a, b = new_account(), new_account()
    up = a.upload("a.txt", b"a's", "text/plain")
    link = child_text(a.create_item("A-DL", extra=f"<upload_id>{child_text(up, 'id')}</upload_id>"), "permalink")
    assert requests.get(server.store_url + link, timeout=10).status_code == 200
    ids = [child_text(d, "id") for d in parse_xml(a.get("/api/downloads")).findall("download")]
    assert len(ids) == 1
    assert parse_xml(b.get("/api/downloads")).findall("download") == []
    assert_error(b.get(f"/api/downloads/{ids[0]}"), 404)
