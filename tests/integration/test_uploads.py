"""Uploads: multipart POST, list, show, large bodies buffered by nginx, bad multipart."""
import hashlib
import os
import time
from pathlib import Path

import pytest

from conftest import FORM_HEADERS, XML_HEADERS, assert_error, child_text, item_xml, parse_xml


def upload_ids(client, **params):
    resp = client.get("/api/uploads", params=params or None)
    assert resp.status_code == 200, resp.text
    root = parse_xml(resp)
    assert root.tag == "uploads" and root.get("type") == "array"
    return [child_text(u, "id") for u in root.findall("upload")]


def stray_temp_files(server):
    """Files left in the data volume's temp areas (the upload body buffer and the app's tmp/)."""
    tmp = server.data_dir / "tmp"
    return sorted(str(p) for p in tmp.rglob("*") if p.is_file())


def wait_until_empty(server, seconds=3):
    deadline = time.monotonic() + seconds
    left = stray_temp_files(server)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = stray_temp_files(server)
    return left


def test_upload_multipart(tenant):
    content = b"hello upload\n" * 10
    resp = tenant.post("/api/uploads", files={"file": ("hello.txt", content, "text/plain")})
    assert resp.status_code == 201, resp.text
    up = parse_xml(resp)
    assert up.tag == "upload"
    up_id = child_text(up, "id")
    assert int(up_id) > 0
    assert child_text(up, "filename") == "hello.txt"
    assert float(child_text(up, "size_bytes")) == len(content)

    assert up_id in upload_ids(tenant)
    for path in (f"/api/uploads/{up_id}", f"/api/uploads/{up_id}.xml"):
        shown = tenant.get(path)
        assert shown.status_code == 200, shown.text
        s = parse_xml(shown)
        assert s.tag == "upload"
        assert child_text(s, "id") == up_id
        assert child_text(s, "filename") == "hello.txt"
        assert float(child_text(s, "size_bytes")) == len(content)


def test_upload_list_xml_suffix_and_pagination(tenant):
    ids = [child_text(tenant.upload(f"f{n}.txt", b"x" * (n + 1)), "id") for n in range(3)]
    assert upload_ids(tenant) == ids
    resp = tenant.get("/api/uploads.xml")
    assert resp.status_code == 200
    assert [child_text(u, "id") for u in parse_xml(resp).findall("upload")] == ids
    assert upload_ids(tenant, per_page=1, page=2) == ids[1:2]


def test_upload_list_params_in_get_body(tenant):
    """Ruby sends list parameters in an urlencoded GET body, also to /uploads."""
    ids = [child_text(tenant.upload(f"g{n}.txt", b"y" * (n + 1)), "id") for n in range(3)]
    resp = tenant.get("/api/uploads", data="per_page=1&page=3", headers=FORM_HEADERS)
    assert resp.status_code == 200, resp.text
    assert [child_text(u, "id") for u in parse_xml(resp).findall("upload")] == ids[2:3]


def test_upload_create_command_uri(tenant):
    resp = tenant.post("/api/uploads/create", files={"file": ("cmd.txt", b"command uri", "text/plain")})
    assert resp.status_code == 201, resp.text
    assert child_text(parse_xml(resp), "filename") == "cmd.txt"


def test_item_from_uploaded_filename_shows_size(tenant):
    content = os.urandom(12345)
    tenant.upload("album.zip", content, "application/zip")
    item = tenant.create_item("ALBUM", extra="<filename>album.zip</filename>")
    assert child_text(item, "filename") == "album.zip"
    assert int(child_text(item, "size_bytes")) == 12345
    assert child_text(item, "content_type") == "application/zip"
    shown = tenant.item("ALBUM")
    assert int(child_text(shown, "size_bytes")) == 12345
    files = shown.find("files").findall("file")
    assert len(files) == 1 and child_text(files[0], "filename") == "album.zip"


def test_uploads_are_per_tenant(new_account):
    a, b = new_account(), new_account()
    up_id = child_text(a.upload("mine.txt", b"A's file"), "id")
    assert up_id not in upload_ids(b)
    assert_error(b.get(f"/api/uploads/{up_id}"), 404)
    assert a.get(f"/api/uploads/{up_id}").status_code == 200


@pytest.mark.parametrize("path", ["/api/uploads/999999", "/api/uploads/abc"])
def test_unknown_upload_404(demo, path):
    assert_error(demo.get(path), 404)


def test_upload_needs_credentials(anon, tenant, server):
    before = tenant.snapshot()
    resp = anon.post("/api/uploads", files={"file": ("x.txt", b"nope")}, auth=(tenant.key, "wrong"))
    assert_error(resp, 401)
    assert tenant.snapshot() == before
    assert wait_until_empty(server) == []


def test_large_upload_is_stored_intact(tenant, server):
    size = 20 * 1024 * 1024 + 7
    content = os.urandom(size)
    digest = hashlib.sha256(content).hexdigest()
    resp = tenant.post("/api/uploads", files={"file": ("big.bin", content, "application/octet-stream")}, timeout=120)
    assert resp.status_code == 201, resp.text[:500]
    up = parse_xml(resp)
    assert float(child_text(up, "size_bytes")) == size
    del content

    stored = [p for p in (server.data_dir / "files").rglob("*") if p.is_file() and p.stat().st_size == size]
    assert stored, "no stored file of the uploaded size under data/files/"
    digests = []
    for p in stored:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digests.append(h.hexdigest())
    assert digest in digests, "stored bytes differ from the uploaded bytes"

    assert wait_until_empty(server) == [], "nginx body buffer / app temp files left behind"
    body_dir = server.body_temp
    assert body_dir.is_dir() and list(body_dir.iterdir()) == []

    item = tenant.create_item("BIG", extra=f"<upload_id>{child_text(up, 'id')}</upload_id>")
    assert int(child_text(item, "size_bytes")) == size


# ----------------------------------------------------------------------------- bad uploads

BOUNDARY = "----fetchgateBoundary7MA4YWxkTrZu0gW"


def multipart(parts, boundary=BOUNDARY, close=True):
    out = b""
    for headers, body in parts:
        out += f"--{boundary}\r\n".encode() + headers.encode() + b"\r\n\r\n" + body + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return out


def file_part(name="file", filename="a.txt", body=b"abc"):
    return (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: text/plain", body)


def field_part(name, body):
    return (f'Content-Disposition: form-data; name="{name}"', body)


MP = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}

BAD_UPLOADS = {
    "garbage": (MP, b"this is not multipart at all"),
    "wrong_boundary": (MP, multipart([file_part()], boundary="otherBoundary")),
    "unterminated": (MP, multipart([file_part()], close=False)[:-2]),
    "no_boundary": ({"Content-Type": "multipart/form-data"}, multipart([file_part()])),
    "no_file_part": (MP, multipart([field_part("note", b"just text")])),
    "two_files": (MP, multipart([file_part(filename="a.txt"), file_part(filename="b.txt", body=b"bbb")])),
    "empty_file": (MP, multipart([file_part(body=b"")])),
    "empty_body": (MP, b""),
    "octet_stream": ({"Content-Type": "application/octet-stream"}, b"raw file bytes"),
    "xml": (XML_HEADERS, b"<upload><filename>x.txt</filename></upload>"),
    "form": (FORM_HEADERS, b"file=abc"),
}


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_bad_upload_is_400(tenant, server, case):
    headers, body = BAD_UPLOADS[case]
    before = tenant.snapshot()
    resp = tenant.post("/api/uploads", data=body, headers=headers)
    assert_error(resp, 400)
    assert tenant.snapshot() == before
    assert wait_until_empty(server) == []


def test_good_handmade_multipart(tenant):
    """Control for the bad cases: the same builder with one file part is accepted."""
    body = multipart([field_part("note", b"hi"), file_part(filename="hand.txt", body=b"handmade")])
    resp = tenant.post("/api/uploads", data=body, headers=MP)
    assert resp.status_code == 201, resp.text
    up = parse_xml(resp)
    assert child_text(up, "filename") == "hand.txt"
    assert float(child_text(up, "size_bytes")) == len(b"handmade")
