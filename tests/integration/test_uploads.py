"""Uploads: multipart POST, list, show, large bodies buffered by nginx, bad multipart."""
import hashlib
import time
from pathlib import Path

import pytest

from conftest import (FORM_HEADERS, XML_HEADERS, assert_error, child_text, item_xml, parse_xml, rng_for, sha256_file,
                      wait_no_temp_files)


def upload_ids(client, **params):
    resp = client.get("/api/uploads", params=params or None)
    assert resp.status_code == 200, resp.text
    root = parse_xml(resp)
    assert root.tag == "uploads" and root.get("type") == "array"
    return [child_text(u, "id") for u in root.findall("upload")]


def test_upload_multipart(tenant):
    content = b"hello upload\n" * 10
    resp = tenant.post("/api/uploads", files={"file": ("hello.txt", content, "text/plain")})
    assert resp.status_code == 201, resp.text
    up = parse_xml(resp)
    assert up.tag == "upload"
    up_id = child_text(up, "id")
    assert child_text(up, "filename") == "hello.txt"
    assert float(child_text(up, "size_bytes")) == len(content)

    assert upload_ids(tenant) == [up_id]
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


def test_item_from_uploaded_filename_shows_size(tenant, rng):
    content = rng.randbytes(12345)
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
    assert wait_no_temp_files(server, seconds=3) == []


def test_large_upload_is_stored_intact(tenant, server, rng):
    size = 20 * 1024 * 1024 + 7
    content = rng.randbytes(size)
    digest = hashlib.sha256(content).hexdigest()
    resp = tenant.post("/api/uploads", files={"file": ("big.bin", content, "application/octet-stream")}, timeout=120)
    assert resp.status_code == 201, resp.text[:500]
    up = parse_xml(resp)
    assert float(child_text(up, "size_bytes")) == size
    del content

    stored = [p for p in server.stored_objects() if p.stat().st_size == size]
    assert stored, "no stored file of the uploaded size in the stack's storage"
    digests = [sha256_file(p) for p in stored]
    assert digest in digests, "stored bytes differ from the uploaded bytes"

    assert wait_no_temp_files(server, seconds=3) == [], "nginx body buffer / app temp files left behind"
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
    assert wait_no_temp_files(server, seconds=3) == []


def test_good_handmade_multipart(tenant):
    """Control for the bad cases: the same builder with one file part is accepted."""
    body = multipart([field_part("note", b"hi"), file_part(filename="hand.txt", body=b"handmade")])
    resp = tenant.post("/api/uploads", data=body, headers=MP)
    assert resp.status_code == 201, resp.text
    up = parse_xml(resp)
    assert child_text(up, "filename") == "hand.txt"
    assert float(child_text(up, "size_bytes")) == len(b"handmade")


def stored_with_digest(server, content):
    digest = hashlib.sha256(content).hexdigest()
    hits = []
    for p in server.stored_objects():
        if p.stat().st_size == len(content) and hashlib.sha256(p.read_bytes()).hexdigest() == digest:
            hits.append(p)
    return hits


TRICKY = (b"line one\r\n--" + BOUNDARY[:-1].encode() + b"\r\n--" + BOUNDARY.encode() + b"x\r\n\r\n"
          + bytes(range(256)) + b"\r\n--\r\n" + rng_for(__name__ + ".TRICKY").randbytes(64) + b"--")


@pytest.mark.parametrize("content_type", [
    f"multipart/form-data; boundary={BOUNDARY}",
    f'multipart/form-data; boundary="{BOUNDARY}"',
    f"multipart/form-data; charset=utf-8; boundary={BOUNDARY}",
], ids=["plain", "quoted_boundary", "extra_param"])
def test_file_bytes_that_look_like_boundaries_survive(tenant, server, content_type):
    content = TRICKY + content_type.encode()  # distinct bytes per case
    body = b"preamble, ignored\r\n" + multipart([field_part("note", b"n"), file_part(filename="tricky.bin", body=content)])
    resp = tenant.post("/api/uploads", data=body, headers={"Content-Type": content_type})
    assert resp.status_code == 201, resp.text
    up = parse_xml(resp)
    assert float(child_text(up, "size_bytes")) == len(content)
    assert len(stored_with_digest(server, content)) == 1


@pytest.mark.parametrize("sent,kept", [("../../etc/passwd", "passwd"), ("C:\\Users\\me\\evil.txt", "evil.txt"),
                                       ("dir/sub/ok.txt", "ok.txt")])
def test_upload_filename_is_reduced_to_its_last_component(tenant, sent, kept):
    resp = tenant.post("/api/uploads", data=multipart([file_part(filename=sent, body=b"content")]), headers=MP)
    assert resp.status_code == 201, resp.text
    assert child_text(parse_xml(resp), "filename") == kept


def test_upload_filename_rfc8187(tenant):
    part = ("Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''na%C3%AFve%20file.txt\r\n"
            "Content-Type: text/plain", b"naive")
    resp = tenant.post("/api/uploads", data=multipart([part]), headers=MP)
    assert resp.status_code == 201, resp.text
    assert child_text(parse_xml(resp), "filename") == "naïve file.txt"


def test_upload_unicode_filename(tenant):
    up = tenant.upload("café menü.txt", b"unicode name", "text/plain")
    assert child_text(up, "filename") == "café menü.txt"
    item = tenant.create_item("UNI-FILE", extra="<filename>café menü.txt</filename>")
    assert child_text(item, "filename") == "café menü.txt"


@pytest.mark.parametrize("filename", ["", ".."])
def test_upload_without_usable_filename_is_400(tenant, server, filename):
    before = tenant.snapshot()
    resp = tenant.post("/api/uploads", data=multipart([file_part(filename=filename, body=b"x")]), headers=MP)
    assert_error(resp, 400)
    assert tenant.snapshot() == before
    assert wait_no_temp_files(server, seconds=3) == []


def test_upload_xml_suffix(tenant):
    resp = tenant.post("/api/uploads.xml", files={"file": ("suffix.txt", b"suffix", "text/plain")})
    assert resp.status_code == 201, resp.text
    assert child_text(parse_xml(resp), "filename") == "suffix.txt"


def test_aborted_upload_leaves_nothing(tenant, server):
    """A client that disconnects halfway: no upload row, no stored file, no buffered body left."""
    import base64
    import socket
    before = tenant.snapshot()
    files_before = server.stored_objects()
    auth = base64.b64encode(f"{tenant.key}:{tenant.token}".encode()).decode()
    with socket.create_connection(("127.0.0.1", server.store_port), timeout=5) as s:
        s.sendall((f"POST /api/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n"
                   f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
                   f"Content-Length: {5 * 1024 * 1024}\r\n\r\n").encode())
        s.sendall(f"--{BOUNDARY}\r\n".encode()
                  + b'Content-Disposition: form-data; name="file"; filename="half.bin"\r\n\r\n' + b"h" * 300000)
        time.sleep(0.2)
    assert wait_no_temp_files(server, seconds=3) == []
    assert tenant.snapshot() == before
    assert server.stored_objects() == files_before


def test_upload_timestamps(tenant):
    import re
    up = tenant.upload("when.txt", b"time")
    uploaded = up.find("uploaded_at")
    assert uploaded is not None and uploaded.get("type") == "datetime"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", uploaded.text), uploaded.text
    assert up.find("size_bytes").get("type") == "float"
