"""Files API (seed 001) through the real nginx: upload, probe, list, signed downloads, delete,
tenant isolation, bad input, large bodies, and probes that must not follow playlists."""
import json
from datetime import datetime
import socket
import time
import urllib.parse as urlparse

import pytest
import requests

from conftest import (HTTP_TIMEOUT, assert_close, assert_download_location, assert_json_error, check_file_object,
                      download_disposition, nginx_signed_links, parse_json, secure_link_md5, sha256_file,
                      sha256_hex, utcnow, wait_no_temp_files)


# --------------------------------------------------------------------------- helpers

def fetch_location(location, **kw):
    """GET a signed link without credentials."""
    kw.setdefault("timeout", HTTP_TIMEOUT)
    return requests.get(location, allow_redirects=False, **kw)


def split_location(server, location):
    """Checks a signed Location's shape; returns (path, {md5, expires, name}) with name as sent (encoded)."""
    parts = urlparse.urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == server.media_url, location
    assert parts.path.startswith("/dl/m/"), location
    raw = dict(p.split("=", 1) for p in parts.query.split("&"))
    assert set(raw) == {"md5", "expires", "name"}, location
    return parts.path, raw


def assert_link_error(resp, status, code):
    """nginx's answer to a bad signed link: the status and the JSON error body (the Content-Type
    is checked separately, in test_link_errors_are_labelled_json)."""
    assert resp.status_code == status, f"GET {resp.url}: expected {status}, got {resp.status_code}: {resp.text[:300]!r}"
    assert json.loads(resp.content)["error"]["code"] == code, resp.text[:300]
    assert b"Content-Disposition" not in resp.content
    return resp


def with_query(path, md5, expires, name, server):
    return f"{server.media_url}{path}?md5={md5}&expires={expires}&name={name}"


def datetime_of(f):
    return datetime.fromisoformat(f["created_at"])


def streams_of(probe, kind):
    return [s for s in probe["streams"] if s["type"] == kind]


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@pytest.fixture
def files(server):
    """A fresh tenant on the media port."""
    return server.create_files_tenant()


@pytest.fixture(scope="module")
def ready_clip(server, media):
    """One uploaded, probed mp4 (read-only use)."""
    client = server.create_files_tenant()
    f = client.upload("clip.mp4", media.mp4_bytes, "video/mp4")
    ready = client.wait(f["id"])
    assert ready["status"] == "ready", ready
    return client, ready


# --------------------------------------------------------------------------- upload + probe

def test_upload_mp4_is_probed(server, media, files):
    before = utcnow()
    created = files.upload("clip.mp4", media.mp4_bytes, "video/mp4")
    assert created["status"] == "pending"
    assert created["source"] == "upload" and created["source_url"] is None
    assert created["name"] == "clip.mp4"
    assert created["ffprobe"] is None and created["download_url"] is None
    assert_close(datetime_of(created), before)

    f = files.wait(created["id"])
    assert f["status"] == "ready", f
    assert f["id"] == created["id"] and f["created_at"] == created["created_at"]
    assert f["size_bytes"] == len(media.mp4_bytes)
    assert f["content_type"] == "video/mp4"
    assert f["error"] is None and f["ffprobe_error"] is None
    probe = f["ffprobe"]
    assert isinstance(probe, dict), f
    assert set(probe) == {"duration", "format_name", "bit_rate", "size", "streams"}, probe
    assert is_number(probe["duration"]) and abs(probe["duration"] - media.SECONDS) < 0.2, probe
    assert "mp4" in probe["format_name"], probe
    assert is_number(probe["bit_rate"]) and probe["bit_rate"] > 0, probe
    assert is_number(probe["size"]) and probe["size"] == len(media.mp4_bytes), probe
    for s in probe["streams"]:
        assert set(s) == {"type", "codec", "width", "height", "fps", "sample_rate", "channels"}, s
    (video,) = streams_of(probe, "video")
    assert video["codec"] == "h264"
    assert video["width"] == media.WIDTH and video["height"] == media.HEIGHT
    assert is_number(video["width"]) and is_number(video["height"])
    assert is_number(video["fps"]) and abs(video["fps"] - media.FPS) < 0.01, video
    (audio,) = streams_of(probe, "audio")
    assert audio["codec"] == "aac"
    assert audio["sample_rate"] == media.VIDEO_SAMPLE_RATE and is_number(audio["sample_rate"]), audio
    assert audio["channels"] == media.VIDEO_CHANNELS and is_number(audio["channels"]), audio
    assert audio["fps"] is None and audio["width"] is None


def test_upload_audio_only_is_probed(media, files):
    f = files.wait(files.upload("tone.m4a", media.m4a_bytes, "audio/mp4")["id"])
    assert f["status"] == "ready", f
    probe = f["ffprobe"]
    assert probe is not None and f["ffprobe_error"] is None, f
    assert streams_of(probe, "video") == []
    (audio,) = streams_of(probe, "audio")
    assert audio["codec"] == "aac"
    assert audio["sample_rate"] == media.AUDIO_SAMPLE_RATE and is_number(audio["sample_rate"])
    assert audio["channels"] == media.AUDIO_CHANNELS and is_number(audio["channels"])
    assert is_number(probe["duration"]) and abs(probe["duration"] - media.SECONDS) < 0.2, probe
    assert f["size_bytes"] == len(media.m4a_bytes)


def test_non_media_is_ready_without_probe(server, files, rng):
    content = rng.randbytes(64 * 1024)
    f = files.wait(files.upload("noise.bin", content)["id"])
    assert f["status"] == "ready", f
    assert f["ffprobe"] is None
    assert isinstance(f["ffprobe_error"], str) and f["ffprobe_error"].strip(), f
    assert f["error"] is None
    assert f["size_bytes"] == len(content)
    # Still downloadable.
    r = fetch_location(files.signed_location(f))
    assert r.status_code == 200 and sha256_hex(r.content) == sha256_hex(content)


def test_name_field_overrides_filename(files, media):
    f = files.upload("whatever.mp4", media.mp4_bytes, "video/mp4", name="Chosen Name.mp4")
    assert f["name"] == "Chosen Name.mp4"
    assert files.file(f["id"])["name"] == "Chosen Name.mp4"


# --------------------------------------------------------------------------- signed downloads

def test_download_redirects_to_signed_link_with_equal_bytes(server, ready_clip, media):
    client, f = ready_clip
    assert f["download_url"] == f"{server.media_url}/files/{f['id']}/clip.mp4"
    r = client.get(f"/files/{f['id']}/clip.mp4")
    assert r.status_code == 302, r.text
    location = r.headers["Location"]
    # The link names the stored file, the name and type, and carries the documented signature.
    assert_download_location(server, location, f"m/{f['id']}.mp4", "clip.mp4", "video/mp4")

    got = fetch_location(location)
    assert got.status_code == 200, got.text[:200]
    assert sha256_hex(got.content) == sha256_hex(media.mp4_bytes)
    assert got.headers.get("Content-Disposition") == download_disposition(server, location, "clip.mp4")


def test_redirect_false_answers_the_link_as_json(server, ready_clip, media):
    """The dashboard's way to a download: the link itself as JSON, nothing to follow with the API key."""
    client, f = ready_clip
    r = client.get(f"/files/{f['id']}/clip.mp4", params={"redirect": "false"})
    assert r.status_code == 200, r.text
    assert "Location" not in r.headers and r.headers["Cache-Control"] == "no-store"
    link = parse_json(r)
    assert set(link) == {"url", "expires_at"}, link
    assert_download_location(server, link["url"], f"m/{f['id']}.mp4", "clip.mp4", "video/mp4")
    assert sha256_hex(fetch_location(link["url"]).content) == sha256_hex(media.mp4_bytes)
    # The redirect's own body names the same kind of link; true is the default.
    r = client.get(f"/files/{f['id']}/clip.mp4", params={"redirect": "true"})
    assert r.status_code == 302 and set(parse_json(r)) == {"url", "expires_at"}
    assert parse_json(r)["url"] == r.headers["Location"]
    assert_json_error(client.get(f"/files/{f['id']}/clip.mp4", params={"redirect": "no"}), 400, "bad_request")


def test_download_needs_credentials_but_link_does_not(server, ready_clip):
    client, f = ready_clip
    assert_json_error(requests.get(f"{server.media_url}/files/{f['id']}/clip.mp4", allow_redirects=False,
                                   timeout=HTTP_TIMEOUT), 401)
    # ?key= works as well as the header.
    r = requests.get(f"{server.media_url}/files/{f['id']}/clip.mp4", params={"key": client.token},
                     allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 302
    assert client.token not in r.headers["Location"], "the API token leaks into the signed link"
    assert fetch_location(r.headers["Location"]).status_code == 200


def test_range_request_is_206(ready_clip, media):
    client, f = ready_clip
    location = client.signed_location(f)
    size = len(media.mp4_bytes)
    r = fetch_location(location, headers={"Range": "bytes=100-1099"})
    assert r.status_code == 206, r.text[:200]
    assert r.content == media.mp4_bytes[100:1100]
    assert r.headers.get("Content-Range") == f"bytes 100-1099/{size}"
    tail = fetch_location(location, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == media.mp4_bytes[-10:]


def test_non_ascii_name_in_link_and_content_disposition(server, files, media):
    name = "Grüße.mp4"
    f = files.wait(files.upload("plain.mp4", media.mp4_bytes, "video/mp4", name=name)["id"])
    assert f["status"] == "ready" and f["name"] == name
    assert f["download_url"].startswith(f"{server.media_url}/files/{f['id']}/")
    assert urlparse.unquote(f["download_url"].rsplit("/", 1)[1]) == name
    location = files.signed_location(f)
    assert_download_location(server, location, f"m/{f['id']}.mp4", name, "video/mp4")
    got = fetch_location(location)
    assert got.status_code == 200
    assert got.content == media.mp4_bytes
    assert got.headers.get("Content-Disposition") == download_disposition(server, location, name)


def tamper(text):
    """Changes one character of a base64url string."""
    return ("A" if text[0] != "A" else "B") + text[1:]


@nginx_signed_links
@pytest.mark.parametrize("what", ["md5", "name", "expires", "path", "missing_md5"])
def test_tampered_link_is_403(server, ready_clip, what, rng):
    client, f = ready_clip
    path, q = split_location(server, client.signed_location(f))
    md5, expires, name = q["md5"], q["expires"], q["name"]
    if what == "md5":
        url = with_query(path, tamper(md5), expires, name, server)
    elif what == "name":
        url = with_query(path, md5, expires, "evil.exe", server)
    elif what == "expires":
        url = with_query(path, md5, int(expires) + 3600, name, server)
    elif what == "path":
        other = client.upload("other.bin", rng.randbytes(100))
        client.wait(other["id"])
        url = with_query(f"/dl/m/{other['id']}.bin", md5, expires, name, server)
    else:
        url = f"{server.media_url}{path}?expires={expires}&name={name}"
    r = fetch_location(url)
    assert_link_error(r, 403, "forbidden")


@nginx_signed_links
def test_expired_link_is_410(server, ready_clip):
    client, f = ready_clip
    path, q = split_location(server, client.signed_location(f))
    secret = server.signing_secret
    # Our own signature is accepted while valid (so the 410 below is about time, not the signature).
    future = int(time.time()) + 120
    ok = fetch_location(with_query(path, secure_link_md5(secret, path, future, q["name"]), future, q["name"], server))
    assert ok.status_code == 200, ok.text[:200]
    past = int(time.time()) - 10
    r = fetch_location(with_query(path, secure_link_md5(secret, path, past, q["name"]), past, q["name"], server))
    assert_link_error(r, 410, "expired")
    # Expired and tampered: the signature is checked first.
    bad = fetch_location(with_query(path, tamper(secure_link_md5(secret, path, past, q["name"])), past, q["name"], server))
    assert bad.status_code == 403


@nginx_signed_links
def test_link_errors_are_labelled_json(server, files, rng):
    """Errors on /dl/ are JSON bodies; they must say so, not borrow the file's type from its extension."""
    f = files.wait(files.upload("labelled.mp4", rng.randbytes(2000), "video/mp4")["id"])
    path, q = split_location(server, files.signed_location(f))
    secret = server.signing_secret
    past = int(time.time()) - 10
    cases = {
        "403 tampered": fetch_location(with_query(path, tamper(q["md5"]), q["expires"], q["name"], server)),
        "410 expired": fetch_location(with_query(path, secure_link_md5(secret, path, past, q["name"]), past, q["name"],
                                                 server)),
    }
    location = files.signed_location(f)
    assert files.delete(f"/files/{f['id']}").status_code == 200
    cases["404 deleted"] = fetch_location(location)
    wrong = {what: (r.status_code, r.headers.get("Content-Type"), r.text[:80]) for what, r in cases.items()
             if not r.headers.get("Content-Type", "").startswith("application/json")}
    assert not wrong, f"signed-link errors not labelled application/json: {wrong}"


# --------------------------------------------------------------------------- listing

def test_listing_newest_first_with_pagination(files, rng):
    ids = [files.upload(f"f{n}.bin", rng.randbytes(10 + n))["id"] for n in range(5)]
    newest_first = list(reversed(ids))
    body = files.listing()
    assert [f["id"] for f in body["files"]] == newest_first
    assert body["total"] == 5 and body["has_more"] is False and body["page"] == 1
    p1 = files.listing(per_page=2, page=1)
    assert [f["id"] for f in p1["files"]] == newest_first[:2]
    assert (p1["page"], p1["per_page"], p1["total"], p1["has_more"]) == (1, 2, 5, True)
    p2 = files.listing(per_page=2, page=2)
    assert [f["id"] for f in p2["files"]] == newest_first[2:4]
    assert p2["has_more"] is True
    p3 = files.listing(per_page=2, page=3)
    assert [f["id"] for f in p3["files"]] == newest_first[4:]
    assert (p3["total"], p3["has_more"]) == (5, False)
    p4 = files.listing(per_page=2, page=4)
    assert p4["files"] == [] and p4["total"] == 5 and p4["has_more"] is False
    exact = files.listing(per_page=5)
    assert len(exact["files"]) == 5 and exact["has_more"] is False


def test_listing_by_cursor(files, rng):
    ids = [files.upload(f"c{n}.bin", rng.randbytes(5 + n))["id"] for n in range(5)]
    newest_first = list(reversed(ids))
    first = files.listing(per_page=2)
    assert [f["id"] for f in first["files"]] == newest_first[:2]
    assert (first["page"], first["per_page"], first["total"], first["has_more"]) == (1, 2, 5, True)
    assert isinstance(first["next_cursor"], str) and first["next_cursor"], first
    seen, cursor, pages = [f["id"] for f in first["files"]], first["next_cursor"], 1
    while cursor is not None:
        body = files.listing(per_page=2, after=cursor)
        assert body["total"] == 5 and body["per_page"] == 2, body
        seen += [f["id"] for f in body["files"]]
        cursor, pages = body["next_cursor"], pages + 1
    assert seen == newest_first and pages == 3
    assert body["has_more"] is False and len(body["files"]) == 1

    # The entry a cursor names may be deleted meanwhile: the next page still starts below it.
    assert files.delete(f"/files/{newest_first[1]}").status_code == 200
    after_delete = files.listing(per_page=2, after=first["next_cursor"])
    assert [f["id"] for f in after_delete["files"]] == newest_first[2:4]
    assert (after_delete["total"], after_delete["has_more"]) == (4, True)
    # `after` wins over `page`.
    assert files.listing(per_page=2, page=3, after=first["next_cursor"])["files"] == after_delete["files"]


@pytest.mark.parametrize("cursor", ["abc", "-5", "0", "1.5", "99999999999999999999", "%20"])
def test_listing_refuses_a_cursor_it_did_not_give(files, cursor):
    files.upload("x.bin", b"x")
    assert_json_error(files.get("/files", params={"after": cursor}), 400, "bad_request")


def test_listing_per_page_up_to_1000(files):
    for n in range(3):
        files.upload(f"p{n}.bin", b"p")
    for asked, answered in ((1000, 1000), (1001, 1000), (10 ** 9, 1000), (0, 1), (-3, 1)):
        body = files.listing(per_page=asked)
        assert (body["per_page"], len(body["files"]), body["total"]) == (answered, min(answered, 3), 3), (asked, body)


def test_empty_listing(files):
    body = files.listing()
    assert body["files"] == [] and body["total"] == 0 and body["has_more"] is False and body["next_cursor"] is None


# --------------------------------------------------------------------------- delete

def test_delete_removes_row_and_bytes(server, files, media):
    f = files.wait(files.upload("gone.mp4", media.mp4_bytes, "video/mp4")["id"])
    stored = server.stored_files(f["id"])
    assert len(stored) == 1 and sha256_file(stored[0]) == sha256_hex(media.mp4_bytes), stored
    location = files.signed_location(f)

    r = files.delete(f"/files/{f['id']}")
    assert r.status_code == 200, r.text
    assert parse_json(r) == {"id": f["id"], "deleted": True}
    assert_json_error(files.get(f"/files/{f['id']}"), 404, "not_found")
    assert_json_error(files.delete(f"/files/{f['id']}"), 404, "not_found")
    assert_json_error(files.get(f"/files/{f['id']}/gone.mp4"), 404, "not_found")
    assert server.stored_files(f["id"]) == []
    assert not stored[0].exists()
    assert files.total() == 0
    # An already issued link no longer yields the bytes: nginx answers 404; the bucket answers a presigned GET of
    # a missing key 403 (as S3 does for a requester that may not list the bucket).
    gone = fetch_location(location)
    assert gone.status_code == (404 if server.backend.kind == "sqlite" else 403)
    assert gone.content != media.mp4_bytes


# --------------------------------------------------------------------------- tenants and auth

def test_other_tenants_file_is_404(server, files, media):
    f = files.wait(files.upload("mine.mp4", media.mp4_bytes, "video/mp4")["id"])
    other = server.create_files_tenant()
    assert_json_error(other.get(f"/files/{f['id']}"), 404, "not_found")
    assert_json_error(other.get(f"/files/{f['id']}/mine.mp4"), 404, "not_found")
    assert_json_error(other.delete(f"/files/{f['id']}"), 404, "not_found")
    assert other.listing()["total"] == 0
    # Untouched for its owner.
    assert files.file(f["id"])["status"] == "ready"
    assert len(server.stored_files(f["id"])) == 1


def test_demo_token_and_query_key(server):
    demo = server.files_client()
    assert demo.get("/files").status_code == 200
    r = requests.get(f"{server.media_url}/files", params={"key": server.demo_token}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 200 and "files" in parse_json(r)


@pytest.mark.parametrize("headers,params", [
    ({}, {}),
    ({"X-API-KEY": "not-a-token"}, {}),
    ({}, {"key": "not-a-token"}),
    ({"X-API-KEY": ""}, {}),
])
def test_without_valid_key_is_401(server, headers, params):
    for method, path in [("GET", "/files"), ("GET", "/files/file_x"), ("DELETE", "/files/file_x"),
                         ("POST", "/files")]:
        r = requests.request(method, f"{server.media_url}{path}", headers=headers, params=params,
                             timeout=HTTP_TIMEOUT, allow_redirects=False)
        assert_json_error(r, 401)


@pytest.mark.parametrize("path", ["/files/file_doesnotexist", "/files/123", "/files/file_doesnotexist/x.mp4"])
def test_unknown_id_is_404(files, path):
    assert_json_error(files.get(path), 404, "not_found")


# "/" is the dashboard (www/index.html): test_www_quality.py.
@pytest.mark.parametrize("path", ["/nope", "/nope.html", "/api/items", "/filesx/1", "/dlx"])
def test_unknown_path_on_media_port_is_404_json(server, path):
    r = requests.get(server.media_url + path, headers={"X-API-KEY": server.demo_token}, timeout=HTTP_TIMEOUT)
    assert_json_error(r, 404)


# --------------------------------------------------------------------------- bad input

BOUNDARY = "fgboundary0123"


def multipart(*parts):
    """Raw multipart body; parts are (name, filename or None, bytes)."""
    out = b""
    for name, filename, content in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disp}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


MP_TYPE = f"multipart/form-data; boundary={BOUNDARY}"

BAD_POSTS = {
    "neither": (MP_TYPE, multipart(("name", None, b"x.bin"))),
    "nothing": (MP_TYPE, f"--{BOUNDARY}--\r\n".encode()),
    "both": (MP_TYPE, multipart(("file", "a.bin", b"abc"), ("file_url", None, b"https://example.com/a.mp4"))),
    "two_files": (MP_TYPE, multipart(("file", "a.bin", b"abc"), ("file", "b.bin", b"def"))),
    "two_files_other_field": (MP_TYPE, multipart(("file", "a.bin", b"abc"), ("extra", "b.bin", b"def"))),
    "empty_file": (MP_TYPE, multipart(("file", "empty.bin", b""))),
    "no_boundary": ("multipart/form-data", multipart(("file", "a.bin", b"abc"))),
    "wrong_boundary": ("multipart/form-data; boundary=other", multipart(("file", "a.bin", b"abc"))),
    "truncated": (MP_TYPE, multipart(("file", "a.bin", b"abc" * 100))[:-40]),
    "garbage": (MP_TYPE, b"this is not multipart at all"),
    "json": ("application/json", b'{"file_url": "https://example.com/a.mp4"}'),
    "urlencoded": ("application/x-www-form-urlencoded", b"file_url=https%3A%2F%2Fexample.com%2Fa.mp4"),
}


@pytest.mark.parametrize("case", sorted(BAD_POSTS))
def test_bad_create_is_400_and_records_nothing(server, files, case):
    ctype, body = BAD_POSTS[case]
    r = files.post("/files", data=body, headers={"Content-Type": ctype})
    assert_json_error(r, 400)
    assert files.total() == 0
    assert wait_no_temp_files(server) == []


@pytest.mark.parametrize("url", ["not a url", "example.com/a.mp4", "http://", "javascript:alert(1)"])
def test_bad_file_url_is_refused(files, url):
    r = files.post("/files", files={"file_url": (None, url)})
    assert r.status_code == 400, r.text
    assert_json_error(r, 400, "url_not_allowed")
    assert files.total() == 0


def raw_request(server, head, body=b"", read_timeout=10):
    """Sends raw bytes to the media port; returns (status, headers dict, body bytes)."""
    with socket.create_connection(("127.0.0.1", server.media_port), timeout=read_timeout) as s:
        s.sendall(head + body)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    head_part, _, rest = data.partition(b"\r\n\r\n")
                    hdrs = {k.strip().lower(): v.strip() for k, _, v in
                            (line.decode("latin-1").partition(":") for line in head_part.split(b"\r\n")[1:])}
                    if "content-length" in hdrs and len(rest) >= int(hdrs["content-length"]):
                        break
        except socket.timeout:
            pass
    head_part, _, rest = data.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, hdrs, rest


def test_body_over_2gib_is_413_json(server, files):
    size = 2 * 1024 ** 3 + 1
    head = (f"POST /files HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: {files.token}\r\n"
            f"Content-Type: {MP_TYPE}\r\nContent-Length: {size}\r\n\r\n").encode()
    status, hdrs, body = raw_request(server, head, multipart(("file", "huge.bin", b"x" * 1000)))
    assert status == 413, (status, hdrs, body[:200])
    assert hdrs.get("content-type", "").startswith("application/json"), hdrs
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert files.total() == 0


def test_large_upload_is_stored_intact_and_buffer_cleared(server, files, rng):
    size = 50 * 1024 * 1024 + 3
    content = rng.randbytes(size)
    digest = sha256_hex(content)
    f = files.upload("big.bin", content, timeout=180)
    del content
    assert f["size_bytes"] == size
    assert wait_no_temp_files(server) == [], "body buffer / app temp files left behind"
    assert server.body_temp.is_dir() and list(server.body_temp.iterdir()) == []
    stored = server.stored_files(f["id"])
    assert len(stored) == 1 and stored[0].stat().st_size == size
    assert sha256_file(stored[0]) == digest
    ready = files.wait(f["id"], timeout=30)
    assert ready["status"] == "ready" and ready["size_bytes"] == size
    r = fetch_location(files.signed_location(ready), headers={"Range": f"bytes={size - 1000}-"})
    assert r.status_code == 206 and len(r.content) == 1000


# --------------------------------------------------------------------------- probes must not follow references

def passwd_markers():
    """Things from /etc/passwd that must never show up in a reply."""
    text = open("/etc/passwd").read()
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines and any(line.startswith("root:") for line in lines)
    return lines + ["root:x:0:0", ":/bin/", ":/usr/sbin/nologin"]


def assert_not_followed(files, f):
    ready = files.wait(f["id"])
    assert ready["status"] == "ready", ready
    assert ready["ffprobe"] is None, f"the probe followed a reference: {ready['ffprobe']}"
    assert isinstance(ready["ffprobe_error"], str) and ready["ffprobe_error"].strip(), ready
    text = files.get(f"/files/{f['id']}").text
    listing = files.get("/files").text
    for marker in passwd_markers():
        assert marker not in text and marker not in listing, f"/etc/passwd content {marker!r} leaked: {text[:500]}"


# Each builder gets the media samples and `sibling`: the stored name (in the same storage directory as
# the playlist will be) of a ready mp4. Were a playlist followed, the *_media ones would yield streams:
# ffprobe without a format whitelist reads them as the clip (checked by hand with ffprobe).
PLAYLISTS = {
    "hls_passwd.m3u8": lambda media, sibling: (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXTINF:10.0,\nfile:///etc/passwd\n#EXTINF:10.0,\n/etc/passwd\n#EXT-X-ENDLIST\n"),
    "hls_media_absolute.m3u8": lambda media, sibling: (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:2.0,\nfile://{media.mp4}\n#EXT-X-ENDLIST\n"),
    "hls_media_sibling.m3u8": lambda media, sibling: (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:2.0,\n{sibling}\n#EXT-X-ENDLIST\n"),
    "concat_passwd.txt": lambda media, sibling: "ffconcat version 1.0\nfile '/etc/passwd'\nfile 'file:/etc/passwd'\n",
    "concat_media_sibling.txt": lambda media, sibling: f"ffconcat version 1.0\nfile '{sibling}'\n",
    "concat_media_sibling.ffconcat": lambda media, sibling: f"ffconcat version 1.0\nfile '{sibling}'\nduration 2.0\n",
}


@pytest.fixture(scope="module")
def sibling(server, ready_clip):
    _, f = ready_clip
    (stored,) = server.stored_files(f["id"])
    return stored.name


@pytest.mark.parametrize("filename", sorted(PLAYLISTS))
def test_probe_does_not_follow_playlists(files, media, sibling, filename):
    body = PLAYLISTS[filename](media, sibling).encode()
    f = files.upload(filename, body, "application/octet-stream")
    assert_not_followed(files, f)
    # The stored bytes are the playlist itself.
    r = fetch_location(files.signed_location(files.file(f["id"])))
    assert r.status_code == 200 and r.content == body


def test_probe_of_crafted_upload_under_media_extension(files, media, sibling):
    """A playlist named .mp4 is still not followed."""
    for builder in ("hls_media_sibling.m3u8", "concat_media_sibling.txt"):
        f = files.upload("looks-like.mp4", PLAYLISTS[builder](media, sibling).encode(), "video/mp4")
        assert_not_followed(files, f)


def test_created_at_and_ids_are_distinct(files):
    a = files.upload("a.bin", b"a")
    b = files.upload("b.bin", b"b")
    assert a["id"] != b["id"]
    assert_close(datetime_of(a), utcnow())
    assert datetime_of(b) >= datetime_of(a)


@pytest.mark.parametrize("name", ["Tom & Jerry.mp4", "Track #1.mp4", "100% [live]; a=b+c.mp4", "naïve café.mp4"])
def test_download_works_for_names_with_url_special_characters(server, files, media, name):
    """The download name travels in the signed link's query: whatever the name, the link works and
    Content-Disposition carries the name."""
    f = files.wait(files.upload("clip.mp4", media.mp4_bytes, "video/mp4", name=name)["id"])
    assert f["status"] == "ready" and f["name"] == name
    r = files.get(urlparse.urlsplit(f["download_url"]).path)
    assert r.status_code == 302, r.text[:200]
    location = r.headers["Location"]
    got = fetch_location(location)
    assert got.status_code == 200, f"name {name!r}: {r.headers['Location']} → {got.status_code} {got.text[:120]!r}"
    assert got.content == media.mp4_bytes
    assert got.headers.get("Content-Disposition") == download_disposition(server, location, name)


def test_path_in_name_is_dropped(server, files):
    f = files.upload("clip.bin", b"abc", name="../../../etc/evil.bin")
    assert f["name"] == "evil.bin"
    (stored,) = server.stored_files(f["id"])
    assert stored.name == f"{f['id']}.bin"
    if server.backend.kind == "sqlite":
        assert stored.parent == server.data_dir / "files" / "m"
    else:
        assert stored.key == f"m/{stored.name}"
    assert not (server.run_dir.parent / "etc").exists()


def test_wrong_method_is_405_json(files):
    r = files.request("PUT", "/files")
    assert_json_error(r, 405)
    assert "GET" in r.headers.get("Allow", "") and "POST" in r.headers.get("Allow", "")
