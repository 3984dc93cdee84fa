"""Clients that send only GET and POST reach every JSON route: a route that needs PUT, PATCH or
DELETE also answers a POST carrying `X-HTTP-Method-Override` or `_method=` (query or form body).
Checked for each JSON dialect through nginx; the store dialect keeps its command URIs and is
unchanged (it takes no override)."""
import pytest

from conftest import XML_HEADERS, assert_error, assert_json_error, child_text, message_of, parse_json


@pytest.fixture
def files(server):
    return server.create_files_tenant()


def new_file(files):
    return files.upload("note.txt", b"hello override\n", "text/plain")["id"]


# One way of sending the override per case: (requests keyword arguments, what it shows).
OVERRIDES = [
    pytest.param({"headers": {"X-HTTP-Method-Override": "DELETE"}}, id="header"),
    pytest.param({"params": {"_method": "DELETE"}}, id="query"),
    pytest.param({"data": {"_method": "DELETE"}}, id="form"),
    pytest.param({"params": {"_method": "delete"}}, id="query-lowercase"),
]


@pytest.mark.parametrize("override", OVERRIDES)
def test_files_delete_through_post(files, override):
    file_id = new_file(files)
    r = files.post(f"/files/{file_id}", **override)
    assert r.status_code == 200, r.text
    assert parse_json(r) == {"id": file_id, "deleted": True}
    assert_json_error(files.get(f"/files/{file_id}"), 404, "not_found")


def test_files_post_without_override_is_405(files):
    file_id = new_file(files)
    r = files.post(f"/files/{file_id}")
    assert_json_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "DELETE, GET, HEAD"
    assert files.file(file_id)["id"] == file_id


def test_files_override_to_a_reading_method_is_ignored(files):
    """Only PUT, PATCH and DELETE may be asked for: `_method=GET` leaves the POST a POST."""
    file_id = new_file(files)
    assert_json_error(files.post(f"/files/{file_id}", params={"_method": "GET"}), 405, "method_not_allowed")
    assert_json_error(files.post(f"/files/{file_id}", headers={"X-HTTP-Method-Override": "HEAD"}), 405,
                      "method_not_allowed")
    assert files.file(file_id)["id"] == file_id


def test_files_override_where_the_method_has_no_route_is_405(files):
    r = files.post("/files", headers={"X-HTTP-Method-Override": "DELETE"})
    assert_json_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET, HEAD, POST"


def test_files_override_still_needs_credentials(server, files):
    file_id = new_file(files)
    anonymous = server.files_client(token=None)
    anonymous.token = None
    assert_json_error(anonymous.post(f"/files/{file_id}", headers={"X-HTTP-Method-Override": "DELETE"}), 401,
                      "unauthorized")
    assert files.file(file_id)["id"] == file_id


# --------------------------------------------------------------------------- store dialect

def test_store_command_uris_still_serve_get_and_post_clients(tenant):
    for sku in ("OV-1", "OV-2", "OV-3"):
        tenant.create_item(sku, name="Override " + sku)
    r = tenant.post("/api/items/OV-1/delete")
    assert r.status_code == 200 and message_of(r) == "Ok.", r.text
    r = tenant.get("/api/items/OV-2/delete")
    assert r.status_code == 200 and message_of(r) == "Ok.", r.text
    assert_error(tenant.get("/api/items/OV-1"), 404)
    assert_error(tenant.get("/api/items/OV-2"), 404)
    r = tenant.post("/api/items/OV-3/update", data="<item><name>Renamed</name></item>", headers=XML_HEADERS)
    assert r.status_code == 200, r.text
    assert child_text(tenant.item("OV-3"), "name") == "Renamed"


def test_store_takes_no_method_override(tenant):
    """The store dialect's answer to a POST on a REST route is what it always was: 405."""
    tenant.create_item("OV-KEEP", name="Kept")
    for override in ({"headers": {"X-HTTP-Method-Override": "DELETE"}}, {"params": {"_method": "DELETE"}}):
        r = tenant.post("/api/items/OV-KEEP", **override)
        assert assert_error(r, 405) == "Method not allowed"
        assert r.headers["Allow"] == "DELETE, GET, HEAD, PATCH, PUT"
    assert child_text(tenant.item("OV-KEEP"), "name") == "Kept"
