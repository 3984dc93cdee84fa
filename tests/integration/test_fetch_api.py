"""The Fetch (seed 000) and Downloader (seed 003) dialects through nginx, for what works without the
worker's media.fetch handler: create, show, list, cancel, the Downloader's errors and key-less
access, and nginx sending a finished fetch's bytes.

Fetch URLs point at a loopback listener that accepts connections and never answers, so whatever
runs them (once the worker's handler is joined in) keeps them unfinished for the whole test.
"""
import socket
import subprocess
import threading
import time
import urllib.parse as urlparse
import uuid

import pytest
import requests

from conftest import FETCHGATE, REPO, FilesClient, assert_json_error, parse_json, running_server
from support.files import assert_download_location

QUALITIES = "best, 1080p, 720p, 480p, 360p, audio, mp4"
STATUS_KEYS = {"id", "url", "status", "quality", "step", "progress", "title", "filename", "size_bytes", "content_type",
               "duration", "ffprobe", "download_url", "error", "created_at", "started_at", "finished_at"}
DOWNLOAD_KEYS = {"id", "url", "title", "status", "progress", "quality", "filename", "error", "created_at"}
KEYLESS_KEY = "keyless-" + uuid.uuid4().hex[:8]


class Silent:
    """A loopback TCP listener that accepts and never answers; records whether anything connected."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def url(self, name="video.mp4"):
        return f"http://localhost:{self.port}/{name}"

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


@pytest.fixture(scope="module")
def fetch_server(tmp_path_factory):
    """This module's own fetch stack (conftest's `fetch_api` tenants are made on it here).
    `localhost` may be fetched; key-less Downloader requests act as the account of KEYLESS_KEY
    (given to the demo account below, after start: until then no account has it)."""
    with running_server(tmp_path_factory, "fetchgate-fetch",
                        ["--allow-private-hosts", "localhost", "--downloader-account", KEYLESS_KEY,
                         "--fetch-cap", "2", "--retention-days", "7", "--max-fetch-duration", "600", "--metadata-timeout", "4"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def silent():
    s = Silent()
    yield s
    s.close()


def create(client, url, **fields):
    r = client.post("/fetch", json={"url": url, **fields})
    assert r.status_code == 201, r.text
    body = parse_json(r)
    assert set(body) == {"id", "url", "status", "created_at"}, body
    assert body["status"] == "pending"
    assert str(uuid.UUID(body["id"])) == body["id"]
    return body


def test_create_show_list_and_cancel(fetch_api, silent):
    created = create(fetch_api, silent.url(), quality="480p")
    shown = parse_json(fetch_api.get(f"/fetch/{created['id']}"))
    assert set(shown) == STATUS_KEYS
    assert shown["url"] == silent.url() and shown["quality"] == "480p"
    assert shown["download_url"] is None and shown["error"] is None
    assert set(shown["progress"]) == {"percent", "bytes", "total_bytes", "speed", "eta"}

    second = create(fetch_api, silent.url("b.mp4"))
    listing = parse_json(fetch_api.get("/fetch", params={"per_page": 1}))
    assert set(listing) == {"fetches", "page", "per_page", "total", "has_more", "next_cursor"}
    assert [f["id"] for f in listing["fetches"]] == [second["id"]]
    assert listing["total"] == 2 and listing["has_more"] is True
    rest = parse_json(fetch_api.get("/fetch", params={"per_page": 1, "after": listing["next_cursor"]}))
    assert [f["id"] for f in rest["fetches"]] == [created["id"]]

    cancelled = fetch_api.delete(f"/fetch/{created['id']}")
    assert cancelled.status_code == 200, cancelled.text
    body = parse_json(cancelled)
    assert body["status"] == "failed"
    assert body["error"] == {"code": "cancelled", "message": "The fetch was cancelled"}
    failed = parse_json(fetch_api.get("/fetch", params={"status": "failed"}))
    assert [f["id"] for f in failed["fetches"]] == [created["id"]]
    deleted = fetch_api.delete(f"/fetch/{created['id']}")
    assert deleted.status_code == 200 and parse_json(deleted) == {"id": created["id"], "deleted": True}
    assert_json_error(fetch_api.get(f"/fetch/{created['id']}"), 404, "not_found")
    fetch_api.delete(f"/fetch/{second['id']}")


def test_other_tenants_fetch_is_404(fetch_server, fetch_api, silent):
    created = create(fetch_api, silent.url())
    other = FilesClient(fetch_server, fetch_server.create_account().token)
    assert_json_error(other.get(f"/fetch/{created['id']}"), 404, "not_found")
    assert_json_error(other.delete(f"/fetch/{created['id']}"), 404, "not_found")
    assert parse_json(other.get("/fetch"))["total"] == 0
    fetch_api.delete(f"/fetch/{created['id']}")


@pytest.mark.parametrize("body,code", [
    ({"url": "http://127.0.0.2/v.mp4"}, "url_not_allowed"),
    ({"url": "http://169.254.169.254/latest/meta-data/"}, "url_not_allowed"),
    ({"url": "-o/tmp/x"}, "url_not_allowed"),
    ({"url": "file:///etc/passwd"}, "url_not_allowed"),
    ({"url": "LOCAL", "quality": "4k"}, "invalid_quality"),
    ({"url": "LOCAL", "webhook_url": "http://127.0.0.2/hook"}, "webhook_url_not_allowed"),
])
def test_refused_creates_record_nothing(fetch_api, silent, body, code):
    body = {k: (silent.url() if v == "LOCAL" else v) for k, v in body.items()}
    err = assert_json_error(fetch_api.post("/fetch", json=body), 400, code)
    if code == "invalid_quality":
        assert err["message"] == f"quality must be one of: {QUALITIES}"
    assert parse_json(fetch_api.get("/fetch"))["total"] == 0


def test_bad_json_is_400(fetch_api):
    r = fetch_api.post("/fetch", data=b'{"url": ', headers={"Content-Type": "application/json"})
    assert_json_error(r, 400, "bad_request")


def test_unauthenticated_fetch_is_401(fetch_server):
    assert_json_error(requests.get(fetch_server.media_url + "/fetch", timeout=10), 401, "unauthorized")


def test_idempotent_create(fetch_api, silent):
    headers = {"Idempotency-Key": "fetch-" + uuid.uuid4().hex}
    first = fetch_api.post("/fetch", json={"url": silent.url()}, headers=headers)
    again = fetch_api.post("/fetch", json={"url": silent.url()}, headers=headers)
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert parse_json(fetch_api.get("/fetch"))["total"] == 1
    fetch_api.delete(f"/fetch/{first.json()['id']}")


def test_metadata_refuses_internal_urls_then_times_out(fetch_api, silent):
    """An internal URL is refused before yt-dlp runs; an origin that never answers is a 504
    `timeout` once the stack's --metadata-timeout (4 s) runs out, yt-dlp killed."""
    assert_json_error(fetch_api.get("/fetch/metadata", params={"url": "http://127.0.0.2/"}), 400, "url_not_allowed")
    started = time.monotonic()
    assert_json_error(fetch_api.get("/fetch/metadata", params={"url": silent.url()}), 504, "timeout")
    assert time.monotonic() - started < 10


# --------------------------------------------------------------------------- Downloader (seed 003)

def detail(r, status):
    assert r.status_code == status, f"{r.request.method} {r.url}: {r.status_code} {r.text[:300]}"
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    assert set(body) == {"detail"}, body
    return body["detail"]


def test_downloader_keyless_is_401_by_default(server):
    r = requests.get(server.media_url + "/api/downloads", timeout=10)
    assert detail(r, 401).startswith("Not authenticated")
    r = requests.post(server.media_url + "/api/download", json={"url": "http://localhost/", "quality": "best"}, timeout=10)
    detail(r, 401)


def test_downloader_keyless_account_and_errors(fetch_server, silent):
    base = fetch_server.media_url
    # No account holds the configured key yet: key-less requests are refused.
    detail(requests.get(base + "/api/downloads", timeout=10), 401)
    fetch_server.add_key(fetch_server.demo_key, KEYLESS_KEY)

    r = requests.post(base + "/api/download", json={"url": silent.url(), "quality": "720p"}, timeout=10)
    assert r.status_code == 200, r.text
    started = r.json()
    assert set(started) == {"download_id", "status"} and started["status"] == "pending"
    listing = requests.get(base + "/api/downloads", timeout=10)
    assert listing.status_code == 200
    entries = [e for e in listing.json() if e["id"] == started["download_id"]]
    assert len(entries) == 1 and set(entries[0]) == DOWNLOAD_KEYS
    assert entries[0]["quality"] == "720p" and entries[0]["error"] is None
    # The key-less requests acted as the demo account: its token sees the download.
    demo = FilesClient(fetch_server, fetch_server.demo_token)
    assert parse_json(demo.get(f"/fetch/{started['download_id']}"))["url"] == silent.url()
    # Wrong credentials are refused whatever the setting.
    detail(requests.get(base + "/api/downloads", headers={"X-API-KEY": "wrong"}, timeout=10), 401)

    assert detail(requests.get(f"{base}/api/download/{started['download_id']}/file", timeout=10), 404) \
        == "Descarga no disponible o no completada"
    assert detail(requests.get(f"{base}/api/download/{uuid.uuid4()}/file", timeout=10), 404) \
        == "Descarga no disponible o no completada"
    assert detail(requests.post(base + "/api/download", json={"url": silent.url(), "quality": "8k"}, timeout=10), 400) \
        == f"quality must be one of: {QUALITIES}"
    assert detail(requests.post(base + "/api/download", json={"url": "http://169.254.169.254/", "quality": "best"},
                                timeout=10), 400) == "The URL leads to an address that may not be fetched"

    removed = requests.delete(f"{base}/api/downloads/{started['download_id']}/remove", timeout=10)
    assert removed.status_code == 200
    assert removed.json() == {"detail": "Descarga eliminada", "id": started["download_id"]}
    assert detail(requests.delete(f"{base}/api/downloads/{started['download_id']}/remove", timeout=10), 404) \
        == "Descarga no encontrada"


def mark_success(server, fetch_id, content, title):
    """Stands in for the worker (not joined in yet) for the delivery test ONLY: writes the bytes
    where the worker stores them and marks the fetch a success in the database, its job done."""
    key = f"f/{fetch_id}.mp4"
    stored = server.store_object(key, content)
    server.execute("UPDATE jobs SET state = 'done', lease_token = NULL WHERE subject_id = ?", (fetch_id,))
    server.execute("""UPDATE fetches SET status = 'success', step = 'done', storage_key = ?, filename = ?,
                      size_bytes = ?, content_type = 'video/mp4', title = ?, finished_at = started_at
                      WHERE public_id = ?""", (key, f"{title}.mp4", len(content), title, fetch_id))
    return stored


def test_finished_fetch_is_sent_by_nginx(fetch_api, silent):
    """Delivery of a finished fetch: the success is written into the database directly (with the
    bytes), because the worker's fetch handler is not part of this branch; everything after that
    goes through nginx and the dialects as in production."""
    created = create(fetch_api, silent.url())
    content = bytes(range(256)) * 40
    title = "Vídeo de prueba"
    path = mark_success(fetch_api.server, created["id"], content, title)
    base = fetch_api.server.media_url
    headers = {"X-API-KEY": fetch_api.token}

    r = requests.get(f"{base}/api/download/{created['id']}/file", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.content == content
    assert r.headers["Content-Type"] == "video/mp4"
    quoted = urlparse.quote(title + ".mp4", safe="")
    assert r.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{quoted}; filename=\"V_deo de prueba.mp4\""
    ranged = requests.get(f"{base}/api/download/{created['id']}/file", headers={**headers, "Range": "bytes=10-19"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == content[10:20]

    # Seed 000: the status object names the link, which answers 302 to the backend's signed URL.
    shown = parse_json(fetch_api.get(f"/fetch/{created['id']}"))
    assert shown["status"] == "success"
    assert shown["download_url"] == f"{base}/fetch/{created['id']}/{quoted}"
    link = fetch_api.get(urlparse.urlsplit(shown["download_url"]).path)
    assert link.status_code == 302, link.text
    assert_download_location(fetch_api.server, link.headers["Location"], f"f/{created['id']}.mp4", shown["filename"])
    signed = requests.get(link.headers["Location"], timeout=10)
    assert signed.status_code == 200 and signed.content == content

    path.unlink()
    assert detail(requests.get(f"{base}/api/download/{created['id']}/file", headers=headers, timeout=10), 404) \
        == "Archivo físico no encontrado"
    gone = fetch_api.delete(f"/fetch/{created['id']}")
    assert gone.status_code == 200 and parse_json(gone)["deleted"] is True


# --------------------------------------------------------------------------- serve's options

def _argv(fetch_server, program):
    r = subprocess.run(["pgrep", "-af", f"{program} .*{fetch_server.run_dir}/"], capture_output=True, text=True)
    lines = [line for line in r.stdout.splitlines() if "pgrep" not in line]
    assert len(lines) == 1, f"{program}: {r.stdout!r}"
    return lines[0].split()


def _option(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


def test_serve_hands_fetch_options_to_the_right_children(fetch_server):
    worker = _argv(fetch_server, "/worker")
    assert _option(worker, "--fetch-cap") == "2"
    assert _option(worker, "--retention-days") == "7"
    assert _option(worker, "--max-fetch-duration") == "600"
    assert _option(worker, "--media-public-url") == fetch_server.media_url
    ytdlp = str(REPO / ".venv" / "bin" / "yt-dlp")
    assert _option(worker, "--yt-dlp") == ytdlp
    fetch_api = _argv(fetch_server, "fetch-api --socket")
    assert _option(fetch_api, "--yt-dlp") == ytdlp
    assert "--downloader-account" not in fetch_api
    downloader = _argv(fetch_server, "downloader-api --socket")
    assert _option(downloader, "--downloader-account") == KEYLESS_KEY
    assert "--yt-dlp" not in downloader
    files_api = _argv(fetch_server, "files-api --socket")
    assert "--downloader-account" not in files_api and "--yt-dlp" not in files_api


@pytest.mark.parametrize("option,value", [("--fetch-cap", "0"), ("--retention-days", "x"), ("--max-fetch-duration", "-5"),
                                          ("--fetch-concurrency", "0")])
def test_serve_refuses_bad_fetch_numbers(tmp_path, option, value):
    r = subprocess.run([str(FETCHGATE), "serve", "--run-dir", str(tmp_path / "run"), option, value],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stdout + r.stderr
    assert option in r.stderr + r.stdout
