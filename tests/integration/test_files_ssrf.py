"""Files API URL imports and the SSRF guard, through the real nginx.

`private_server` runs with `--allow-private-hosts localhost`, so a local origin reached as
`http://localhost:PORT/…` imports fine; every other spelling of a non-public address is refused
when the request is made (400 `url_not_allowed`, no file row, the origin never contacted),
and redirects are re-checked by the worker. The session `server` runs without the option and
refuses `localhost` itself.
"""
import time
import uuid

import pytest
import requests

from conftest import assert_json_error, sha256_file, sha256_hex


@pytest.fixture
def files(private_server):
    return private_server.create_files_tenant()


@pytest.fixture(scope="module")
def clip(origin, media):
    origin.serve("/clip.mp4", media.mp4_bytes, "video/mp4")
    return "/clip.mp4"


def refused_urls(port):
    return [
        f"http://127.0.0.1:{port}/",
        f"http://127.1:{port}/",
        f"http://2130706433:{port}/",
        f"http://0x7f.1:{port}/",
        f"http://0177.0.0.1:{port}/",
        f"http://[::1]:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://0.0.0.0:{port}/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://[fd00:ec2::254]/",
        "http://[fe80::1]/",
        "file:///etc/passwd",
        "ftp://localhost/",
        "gopher://localhost/",
        # Userinfo and fragment tricks: the host is what counts.
        f"http://localhost@127.0.0.1:{port}/clip.mp4",
        f"http://127.0.0.1:{port}#@localhost/clip.mp4",
        f"HTTP://127.0.0.1:{port}/clip.mp4",
    ]


URL_INDEX = list(range(len(refused_urls(1))))


@pytest.mark.parametrize("index", URL_INDEX, ids=refused_urls("PORT"))
def test_non_public_url_is_refused_at_request_time(private_server, origin, clip, files, index):
    url = refused_urls(origin.port)[index]
    mark = origin.mark()
    r = files.post("/files", files={"file_url": (None, url)})
    err = assert_json_error(r, 400, "url_not_allowed")
    assert err["message"].strip()
    assert files.total() == 0, "a refused URL created a file row"
    # Whatever the worker might do, it never gets a job for this: nothing reaches the origin.
    time.sleep(0.3)
    assert origin.since(mark) == [], f"the origin was contacted for {url}"


def test_localhost_import_when_allowed(private_server, origin, clip, files, media):
    created = files.import_url(origin.url(clip))
    assert created["status"] == "pending"
    assert created["source"] == "url" and created["source_url"] == origin.url(clip)
    assert created["name"] == "clip.mp4"
    f = files.wait(created["id"])
    assert f["status"] == "ready", f
    assert f["error"] is None
    assert f["size_bytes"] == len(media.mp4_bytes)
    assert f["content_type"] == "video/mp4"
    probe = f["ffprobe"]
    assert probe is not None and f["ffprobe_error"] is None, f
    (video,) = [s for s in probe["streams"] if s["type"] == "video"]
    assert (video["width"], video["height"]) == (media.WIDTH, media.HEIGHT)
    (stored,) = private_server.stored_files(f["id"])
    assert sha256_file(stored) == sha256_hex(media.mp4_bytes)
    location = files.signed_location(f)
    assert files.token not in location, "the API token leaks into the signed link"
    r = requests.get(location, timeout=30)
    assert r.status_code == 200 and sha256_hex(r.content) == sha256_hex(media.mp4_bytes)
    # Nothing left in the worker's temp area.
    assert [p for p in (private_server.data_dir / "tmp").glob("job-*")] == []


def test_import_name_field(private_server, origin, clip, files):
    f = files.wait(files.import_url(origin.url(clip), name="Renamed Clip.mp4")["id"])
    assert f["status"] == "ready" and f["name"] == "Renamed Clip.mp4"


def test_redirect_to_loopback_fails_without_contacting_it(private_server, origin, clip, files):
    tag = uuid.uuid4().hex
    path = origin.redirect(f"/redirect-to-loopback-{tag}", f"http://127.0.0.1:{origin.port}/clip.mp4?tag={tag}")
    f = files.wait(files.import_url(origin.url(path))["id"])
    assert f["status"] == "failed", f
    assert f["error_code"] == "blocked_address", f
    assert f["download_url"] is None
    assert private_server.stored_files(f["id"]) == []
    assert origin.requests_for(path=path), "the first hop was never fetched"
    assert origin.requests_for(query_contains=tag) == [], "the redirect target on 127.0.0.1 was contacted"


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://[::1]:{port}/clip.mp4",
                                    "ftp://localhost/clip.mp4", "file:///etc/passwd"])
def test_redirect_to_other_refused_targets_fails(private_server, origin, clip, files, target):
    tag = uuid.uuid4().hex
    path = origin.redirect(f"/redirect-{tag}", target.format(port=origin.port))
    f = files.wait(files.import_url(origin.url(path))["id"])
    assert f["status"] == "failed", f
    assert f["error"], f
    assert "root:" not in f["error"]
    assert private_server.stored_files(f["id"]) == []


def redirect_chain(origin, hops, tag):
    """`hops` redirects (localhost → localhost), then the clip; returns the first path."""
    for i in range(hops, 0, -1):
        nxt = f"/chain-{tag}/{i - 1}" if i > 1 else "/clip.mp4"
        origin.redirect(f"/chain-{tag}/{i}", origin.url(nxt))
    return f"/chain-{tag}/{hops}"


def test_six_redirects_is_too_many(private_server, origin, clip, files):
    tag = uuid.uuid4().hex
    f = files.wait(files.import_url(origin.url(redirect_chain(origin, 6, tag)))["id"])
    assert f["status"] == "failed", f
    assert f["error_code"] == "too_many_redirects", f
    assert private_server.stored_files(f["id"]) == []


def test_three_redirects_are_followed(private_server, origin, clip, files, media):
    tag = uuid.uuid4().hex
    first = redirect_chain(origin, 3, tag)
    f = files.wait(files.import_url(origin.url(first))["id"])
    assert f["status"] == "ready", f
    assert f["size_bytes"] == len(media.mp4_bytes)
    assert f["ffprobe"] is not None
    (stored,) = private_server.stored_files(f["id"])
    assert sha256_file(stored) == sha256_hex(media.mp4_bytes)
    assert [r["path"] for r in origin.requests_for() if r["path"].startswith(f"/chain-{tag}/")] == \
        [f"/chain-{tag}/3", f"/chain-{tag}/2", f"/chain-{tag}/1"]


def test_origin_404_fails(private_server, origin, files):
    path = f"/missing-{uuid.uuid4().hex}.mp4"
    origin.serve(path, b"not here", "text/plain", status=404)
    f = files.wait(files.import_url(origin.url(path))["id"])
    assert f["status"] == "failed", f
    assert f["error_code"] == "http_status" and f["error"] == "The origin answered HTTP 404", f
    assert f["size_bytes"] is None and f["download_url"] is None
    assert private_server.stored_files(f["id"]) == []
    assert_json_error(files.get(f"/files/{f['id']}/x.mp4"), 409)


def test_origin_empty_body_fails(private_server, origin, files):
    path = origin.serve(f"/empty-{uuid.uuid4().hex}.mp4", b"", "video/mp4")
    f = files.wait(files.import_url(origin.url(path))["id"])
    assert f["status"] == "failed", f
    assert f["error_code"] == "empty_file", f
    assert private_server.stored_files(f["id"]) == []


def test_url_import_of_non_media_is_ready_without_probe(private_server, origin, files):
    body = uuid.uuid4().bytes * 1000
    path = origin.serve(f"/data-{uuid.uuid4().hex}.bin", body, "application/octet-stream")
    f = files.wait(files.import_url(origin.url(path))["id"])
    assert f["status"] == "ready", f
    assert f["ffprobe"] is None and f["ffprobe_error"], f
    (stored,) = private_server.stored_files(f["id"])
    assert stored.read_bytes() == body


def test_default_server_refuses_localhost_by_name(server, origin, clip):
    """The session server runs without --allow-private-hosts: loopback by name is refused too."""
    assert "--allow-private-hosts" not in server.extra_args
    files = server.create_files_tenant()
    mark = origin.mark()
    for url in (origin.url(clip), origin.url(clip, host="LOCALHOST"), origin.url(clip, host="localhost.")):
        r = files.post("/files", files={"file_url": (None, url)})
        assert_json_error(r, 400, "url_not_allowed")
    assert files.total() == 0
    time.sleep(0.3)
    assert origin.since(mark) == []


def test_transient_origin_error_is_retried(private_server, origin, files, media):
    path = origin.serve(f"/flaky-{uuid.uuid4().hex}.mp4", media.mp4_bytes, "video/mp4")
    origin.fail_first(path, 1, status=503)
    f = files.wait(files.import_url(origin.url(path))["id"], timeout=30)
    assert f["status"] == "ready", f
    assert f["error"] is None
    (stored,) = private_server.stored_files(f["id"])
    assert sha256_file(stored) == sha256_hex(media.mp4_bytes)
    assert len(origin.requests_for(path=path)) == 2, "one 503, then one successful fetch"


def test_name_from_url_ignores_query(private_server, origin, clip, files):
    f = files.import_url(origin.url(clip) + "?token=abc&x=/y.bin")
    assert f["name"] == "clip.mp4"
    assert files.wait(f["id"])["status"] == "ready"


def test_delete_during_import_discards_the_download(private_server, origin, files):
    body = uuid.uuid4().bytes * 125_000  # 2 MB at 1 MB/s
    path = origin.serve(f"/slow-delete-{uuid.uuid4().hex}.bin", body, "application/octet-stream", rate=1_000_000)
    f = files.import_url(origin.url(path))
    deadline = time.monotonic() + 10
    while not any(r["sent"] > 0 for r in origin.requests_for(path=path)):
        assert time.monotonic() < deadline, "the download never started"
        time.sleep(0.05)
    r = files.delete(f"/files/{f['id']}")
    assert r.status_code == 200, r.text
    assert_json_error(files.get(f"/files/{f['id']}"), 404)
    # Let the transfer finish (or be dropped), then nothing of it stays.
    deadline = time.monotonic() + 15
    while not any(r["complete"] or r.get("aborted") for r in origin.requests_for(path=path)):
        assert time.monotonic() < deadline, "the transfer neither finished nor stopped"
        time.sleep(0.1)
    time.sleep(1.0)
    assert private_server.stored_files(f["id"]) == []
    assert files.total() == 0
    assert list((private_server.data_dir / "tmp").glob("job-*")) == []
    assert len(origin.requests_for(path=path)) == 1, "a deleted file's import was retried"


@pytest.mark.parametrize("sent,stored", [
    ("garbage", "video/mp4"),                          # not a media type: the name's extension decides
    ("video/" + "x" * 300, "video/mp4"),               # too long for a header
    ("Video/WebM; codecs=vp9", "video/webm"),          # valid: kept, parameters dropped
    ("application/octet-stream", "video/mp4"),         # says nothing: the extension decides
])
def test_url_import_content_type_follows_the_upload_rule(private_server, origin, files, media, sent, stored):
    path = origin.serve(f"/typed-{uuid.uuid4().hex}.mp4", media.mp4_bytes, sent)
    f = files.wait(files.import_url(origin.url(path))["id"])
    assert f["status"] == "ready", f
    assert f["content_type"] == stored, f
