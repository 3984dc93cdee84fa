"""The two media-acquisition dialects of issue 10 as tests see them, and the options of the stack
that runs them. Everything that depends on a contract still being built (/tmp/design10.md) is
marked `# CONTRACT:` so the lead can adjust it in one place.

- `FetchClient`       the Fetch API (seed 000, `/fetch`, JSON, errors `{"error": {code, message}}`)
- `DownloaderClient`  the Downloader API (seed 003, `/api/download*`, errors `{"detail": "..."}`)
- `fetch_serve_options()` the `fetchgate serve` options of the fetch stack
"""
import json
import time
import urllib.parse as _urlparse

import requests

from .backends import sqlite_rows  # noqa: F401 (re-exported)
from .files import FilesClient, parse_json
from .http import HTTP_TIMEOUT, Client
from .media_origin import MAX_FETCH_BYTES

# CONTRACT: `--downloader-account KEY` takes an API key (as `webhook-secret --key`); the demo
# account's API key is the fixed "demo" (Sources/fetchgate/Demo.swift), so it is known before start.
DOWNLOADER_ACCOUNT = "demo"
JOB_LEASE_SECONDS = 5
FETCH_CAP = 2                # running fetches per account (the fetch lane has 4 threads)
WEBHOOK_RETRY_SCALE = 0.01   # 5 s → 0.05 s, 5 min → 3 s, 30 min → 18 s
# Seconds /fetch/metadata may take (504 after): yt-dlp alone takes ~2 s to start on the 2-core test
# machine under load, and at 4 s the metadata and playlist tests met 504s on both backends at a load of ~11.
METADATA_TIMEOUT = 10
FETCH_TIMEOUT = 60           # seconds a test waits for a fetch to finish

FETCH_STATUSES = {"pending", "running", "success", "failed"}
FETCH_STEPS = {"queued", "downloading", "merging", "converting", "storing", "done"}
PRESETS = ["best", "1080p", "720p", "480p", "360p", "audio", "mp4"]
ERROR_CODES = {"unsupported_url", "unavailable", "too_large", "too_long", "is_live", "timeout", "network",
               "blocked_address", "storage_failed", "cancelled", "internal"}
# CONTRACT: the status object of `GET /fetch/{id}` (FetchViews.status).
FETCH_KEYS = {"id", "url", "status", "quality", "step", "progress", "title", "filename", "size_bytes",
              "content_type", "duration", "ffprobe", "download_url", "error", "created_at", "started_at", "finished_at"}
PROGRESS_KEYS = {"percent", "bytes", "total_bytes", "speed", "eta"}
CREATED_KEYS = {"id", "url", "status", "created_at"}
DOWNLOAD_ENTRY_KEYS = {"id", "url", "title", "status", "progress", "quality", "filename", "error", "created_at"}
DOWNLOADER_STATUSES = {"pending", "downloading", "completed", "failed"}
NOT_READY = "Descarga no disponible o no completada"
FILE_GONE = "Archivo físico no encontrado"


def fetch_serve_options():
    """The `fetchgate serve` options of the fetch stack (one place to adjust)."""
    return [
        "--allow-private-hosts", "localhost",
        "--job-lease", str(JOB_LEASE_SECONDS),
        "--downloader-account", DOWNLOADER_ACCOUNT,
        "--fetch-cap", str(FETCH_CAP),
        # CONTRACT: serve already has it for URL imports (Files); media fetches take MediaLimits.maxBytes from it.
        "--max-fetch-bytes", str(MAX_FETCH_BYTES),
        # CONTRACT: a worker option (tests only); serve has to pass it on.
        "--webhook-retry-scale", str(WEBHOOK_RETRY_SCALE),
        "--metadata-timeout", str(METADATA_TIMEOUT),
    ]


def check_fetch_object(f):
    """Structural rules every fetch status object follows."""
    assert isinstance(f, dict) and set(f) == FETCH_KEYS, \
        f"fetch object keys {sorted(f) if isinstance(f, dict) else f!r}"
    assert f["status"] in FETCH_STATUSES, f
    assert f["step"] is None or f["step"] in FETCH_STEPS, f
    assert isinstance(f["progress"], dict) and set(f["progress"]) == PROGRESS_KEYS, f
    if f["status"] == "success":
        assert f["error"] is None and isinstance(f["download_url"], str) and isinstance(f["size_bytes"], int), f
    else:
        assert f["download_url"] is None, f
    if f["status"] == "failed":
        assert set(f["error"]) == {"code", "message"} and f["error"]["code"] in ERROR_CODES, f
        assert f["error"]["message"].strip(), f
    else:
        assert f["error"] is None, f
    return f


class FetchClient(FilesClient):
    """JSON client of the Fetch API (media port) for one token (sent as X-API-KEY)."""

    def create(self, url, quality=None, webhook_url=None, headers=None, expect=201):
        body = {"url": url}
        if quality is not None:
            body["quality"] = quality
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        r = self.post("/fetch", json=body, headers=headers)
        assert r.status_code == expect, f"POST /fetch {body}: {r.status_code} {r.text[:300]}"
        if expect != 201:
            return r
        created = parse_json(r)
        assert set(created) == CREATED_KEYS and created["status"] == "pending" and created["url"] == url, created
        return created

    def fetch(self, fetch_id):
        r = self.get(f"/fetch/{fetch_id}")
        assert r.status_code == 200, f"GET /fetch/{fetch_id}: {r.status_code} {r.text[:300]}"
        return check_fetch_object(parse_json(r))

    _seen = None

    def file(self, fetch_id):
        """What `FilesClient.wait` polls: here the fetch (kept in `_seen` while a caller collects)."""
        f = self.fetch(fetch_id)
        if self._seen is not None:
            self._seen.append(f)
        return f

    def wait(self, fetch_id, timeout=FETCH_TIMEOUT, until=("success", "failed"), seen=None):
        """Polls until the status is one of `until`; `seen` (a list) collects every object polled."""
        self._seen = seen
        try:
            return super().wait(fetch_id, timeout=timeout, until=until)
        finally:
            self._seen = None

    def succeeded(self, url, quality=None, **kw):
        """POST then wait: the successful fetch object."""
        f = self.wait(self.create(url, quality, **kw)["id"])
        assert f["status"] == "success", f"fetch of {url} ({quality}) failed: {f}\n{self.server.logs()}"
        return f

    def failed(self, url, code, quality=None):
        f = self.wait(self.create(url, quality)["id"])
        assert f["status"] == "failed", f
        assert f["error"]["code"] == code, f"expected {code}: {f['error']}"
        return f

    def listing(self, **params):
        r = self.get("/fetch", params=params or None)
        assert r.status_code == 200, f"GET /fetch: {r.status_code} {r.text[:300]}"
        return parse_json(r)

    def deliveries(self, fetch_id):
        """The delivery log of a fetch: a list of attempts."""
        r = self.get(f"/fetch/{fetch_id}/deliveries")
        assert r.status_code == 200, f"deliveries of {fetch_id}: {r.status_code} {r.text[:300]}"
        body = parse_json(r)
        # CONTRACT: `{"deliveries": [{id, message_id, url, attempt, attempted_at, status, duration_ms, error}]}`.
        assert set(body) == {"deliveries"}, body
        return body["deliveries"]

    def fetch_signed_location(self, f):
        """GET /fetch/{id}/{filename} (from download_url) → the 302's Location."""
        parts = _urlparse.urlsplit(f["download_url"])
        assert f"{parts.scheme}://{parts.netloc}" == self.server.media_url, f["download_url"]
        assert parts.path == f"/fetch/{f['id']}/{_urlparse.quote(f['filename'])}", f["download_url"]
        r = self.get(parts.path)
        assert r.status_code == 302, f"GET {parts.path}: {r.status_code} {r.text[:300]}"
        return r.headers["Location"]


def detail_of(resp, status):
    """A Downloader API error: the status and its `{"detail": "..."}` body; returns the detail."""
    assert resp.status_code == status, f"{resp.request.method} {resp.url}: {resp.status_code} {resp.text[:300]}"
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body, dict) and set(body) == {"detail"} and isinstance(body["detail"], str), body
    return body["detail"]


class DownloaderClient(Client):
    """Client of the Downloader API (seed 003) on the media port; key-less unless `token` is given."""

    def __init__(self, server, token=None):
        self.server = server
        self.base = server.media_url
        self.token = token

    def request(self, method, path, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        headers = dict(kw.pop("headers", None) or {})
        if self.token is not None:
            headers.setdefault("X-API-KEY", self.token)
        return requests.request(method, self.url(path), headers=headers, **kw)

    def start(self, url, quality="best"):
        r = self.post("/api/download", json={"url": url, "quality": quality})
        assert r.status_code == 200, f"POST /api/download: {r.status_code} {r.text[:300]}"
        body = r.json()
        assert set(body) == {"download_id", "status"} and body["status"] == "pending", body
        return body["download_id"]

    def entries(self):
        r = self.get("/api/downloads")
        assert r.status_code == 200, f"GET /api/downloads: {r.status_code} {r.text[:300]}"
        body = r.json()
        assert isinstance(body, list), body
        for e in body:
            assert set(e) == DOWNLOAD_ENTRY_KEYS and e["status"] in DOWNLOADER_STATUSES, e
        return body

    def entry(self, download_id):
        found = [e for e in self.entries() if e["id"] == download_id]
        assert len(found) == 1, f"{download_id} listed {len(found)} times"
        return found[0]

    def wait(self, download_id, timeout=FETCH_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            e = self.entry(download_id)
            if e["status"] in ("completed", "failed"):
                return e
            if time.monotonic() >= deadline:
                raise AssertionError(f"download {download_id} still {e['status']} after {timeout}s\n"
                                     f"{self.server.logs()}")
            time.sleep(0.1)


def query(server, sql, params=()):
    """Rows of a read-only query of the stack's database, as dicts."""
    return server.rows(sql, params)


def fetch_row(server, public_id):
    """The fetch's database row, or None."""
    rows = query(server, "SELECT * FROM fetches WHERE public_id = ?", (public_id,))
    return rows[0] if rows else None


def fetch_jobs(server, public_id):
    """The `media.fetch` jobs of a fetch (payload = its public id)."""
    return query(server, "SELECT id, kind, state, attempts FROM jobs WHERE kind = 'media.fetch' AND payload = ?",
                 (public_id,))


def stored_fetch_files(server, public_id):
    """The stored bytes of a fetch: storage key f/<public_id>.<ext>."""
    return server.stored_files(public_id, prefix="f")


def ffprobe_of(row):
    """The stored ffprobe JSON of a fetch row."""
    assert row["ffprobe"], f"no ffprobe data in {row}"
    return json.loads(row["ffprobe"])


def webhook_secret(server, api_key):
    """`fetchgate webhook-secret --key KEY`: the account's `whsec_…` secret."""
    out = server.cli("webhook-secret", "--key", api_key).stdout
    secrets = [w for w in out.split() if w.startswith("whsec_")]
    assert len(secrets) == 1, f"webhook-secret printed {out!r}"
    return secrets[0]
