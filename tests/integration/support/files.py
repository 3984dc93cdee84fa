"""The Files API (JSON, port `media_url`) as tests see it: the error and File object shapes,
`FilesClient` for one token, link signing, and media made with ffmpeg."""
import base64 as _base64
import hashlib as _hashlib
import hmac as _hmac
import subprocess
import time
import urllib.parse as _urlparse
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from . import backends as _backends
from .http import HTTP_TIMEOUT, Client

FILES_STATUSES = {"pending", "processing", "ready", "failed"}
FILE_KEYS = {"id", "name", "source", "source_url", "status", "size_bytes", "content_type", "created_at",
             "download_url", "error", "error_code", "ffprobe", "ffprobe_error", "ffprobe_error_code"}
READY_TIMEOUT = 20


def parse_json(resp):
    """A media-port reply: application/json and a JSON body; error statuses carry {"error": {code, message}}."""
    ctype = resp.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), \
        f"{resp.request.method} {resp.url}: Content-Type {ctype!r}, status {resp.status_code}, body {resp.text[:200]!r}"
    try:
        body = resp.json()
    except ValueError as e:
        raise AssertionError(f"{resp.request.method} {resp.url}: reply is not JSON ({e}): {resp.text[:300]!r}")
    if resp.status_code >= 400:
        assert isinstance(body, dict) and set(body) == {"error"}, f"error reply not in the error shape: {body!r}"
        err = body["error"]
        assert isinstance(err, dict) and isinstance(err.get("code"), str) and err["code"], f"error without code: {body!r}"
        assert isinstance(err.get("message"), str) and err["message"].strip(), f"error without message: {body!r}"
    return body


def assert_json_error(resp, status, code=None):
    """A JSON error reply with the given status (and code); returns the error object."""
    assert resp.status_code == status, \
        f"{resp.request.method} {resp.url}: expected {status}, got {resp.status_code}: {resp.text[:300]!r}"
    err = parse_json(resp)["error"]
    if code is not None:
        assert err["code"] == code, f"expected error code {code!r}, got {err!r}"
    return err


def check_file_object(f):
    """Structural rules every File object follows."""
    assert isinstance(f, dict) and set(f) == FILE_KEYS, f"File object keys {sorted(f) if isinstance(f, dict) else f!r}"
    assert isinstance(f["id"], str) and f["id"], f
    assert f["status"] in FILES_STATUSES, f
    assert f["source"] in ("upload", "url"), f
    assert (f["error"] is None) == (f["error_code"] is None), f
    assert (f["ffprobe_error"] is None) == (f["ffprobe_error_code"] is None), f
    created = datetime.fromisoformat(f["created_at"])
    assert f["created_at"].endswith("+00:00") and created.utcoffset() == timedelta(0), f["created_at"]
    if f["status"] == "ready":
        assert isinstance(f["size_bytes"], int) and not isinstance(f["size_bytes"], bool), f
        assert isinstance(f["download_url"], str), f
    else:
        assert f["download_url"] is None, f
    return f


class FilesClient(Client):
    """JSON client of the Files API (media port) for one token (sent as X-API-KEY)."""

    def __init__(self, server, token):
        self.server = server
        self.base = server.media_url
        self.token = token

    def request(self, method, path, auth=True, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        headers = dict(kw.pop("headers", None) or {})
        if auth and self.token is not None:
            headers.setdefault("X-API-KEY", self.token)
        return requests.request(method, self.url(path), headers=headers, **kw)

    # convenience ---------------------------------------------------------------

    def upload(self, filename, content, content_type="application/octet-stream", name=None, expect=201, **kw):
        data = {"name": name} if name is not None else None
        r = self.post("/files", files={"file": (filename, content, content_type)}, data=data, **kw)
        assert r.status_code == expect, f"upload {filename}: {r.status_code} {r.text[:300]}"
        return check_file_object(parse_json(r))

    def import_url(self, url, name=None, expect=201):
        fields = {"file_url": (None, url)}
        if name is not None:
            fields["name"] = (None, name)
        r = self.post("/files", files=fields)
        assert r.status_code == expect, f"import {url}: {r.status_code} {r.text[:300]}"
        return check_file_object(parse_json(r)) if expect == 201 else r

    def file(self, file_id):
        r = self.get(f"/files/{file_id}")
        assert r.status_code == 200, f"show {file_id}: {r.status_code} {r.text[:300]}"
        return check_file_object(parse_json(r))

    def listing(self, **params):
        r = self.get("/files", params=params or None)
        assert r.status_code == 200, f"list: {r.status_code} {r.text[:300]}"
        body = parse_json(r)
        assert set(body) == {"files", "page", "per_page", "total", "has_more", "next_cursor"}, body
        assert (body["next_cursor"] is None) == (not body["has_more"]), body
        for f in body["files"]:
            check_file_object(f)
        return body

    def total(self):
        return self.listing()["total"]

    def wait(self, file_id, timeout=READY_TIMEOUT, until=("ready", "failed")):
        """Polls the file until its status is one of `until`; returns it."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            f = self.file(file_id)
            if not seen or seen[-1] != f["status"]:
                seen.append(f["status"])
            if f["status"] in until:
                return f
            if time.monotonic() >= deadline:
                raise AssertionError(f"file {file_id} not {until} within {timeout}s (statuses seen: {seen}): {f}\n"
                                     f"{self.server.logs()}")
            time.sleep(0.1)

    def signed_location(self, f):
        """GET /files/{id}/{name} → the 302's Location (checked); returns it."""
        path = _urlparse.urlsplit(f["download_url"]).path
        r = self.get(path)
        assert r.status_code == 302, f"download {path}: {r.status_code} {r.text[:300]}"
        assert r.headers.get("Location"), r.headers
        return r.headers["Location"]


def sha256_hex(data):
    return _hashlib.sha256(data).hexdigest()


def sha256_file(path):
    """The SHA-256 of a stored file: a local path, or a bucket object (`read_bytes()`)."""
    if not isinstance(path, (str, Path)):
        return sha256_hex(path.read_bytes())
    h = _hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def secure_link_md5(secret, path, expires, name_param):
    """nginx secure_link_md5 "$secure_link_expires$uri$arg_name <secret>", base64url without padding."""
    digest = _hashlib.md5(f"{expires}{path}{name_param} {secret}".encode()).digest()
    return _base64.urlsafe_b64encode(digest).decode().rstrip("=")


def pct(name):
    """RFC 5987 percent-encoding of a UTF-8 name (attr-char kept)."""
    return _urlparse.quote(name, safe="!#$&+-.^_`|~")


def bucket_disposition(name):
    """The Content-Disposition a presigned bucket download carries (HTTPCore ContentDisposition.attachment):
    an ASCII `filename` fallback, and `filename*` when the fallback had to change the name."""
    fallback, changed = "", False
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e and ch not in '"\\%;':
            fallback += ch
        elif ord(ch) < 0x20 or ord(ch) == 0x7f:
            changed = True
        else:
            fallback, changed = fallback + "_", True
    value = f'attachment; filename="{fallback or "download"}"'
    return value + f"; filename*=UTF-8''{pct(name)}" if changed else value


def download_disposition(server, location, name):
    """The exact Content-Disposition of the bytes behind a download `location` on `server`'s storage: nginx's
    signed /dl/ link (local files) names the file as its `name` parameter spells it; the bucket's answer to a
    presigned GET (S3) carries what `response-content-disposition` asked for."""
    if server.backend.kind == "sqlite":
        raw = dict(p.split("=", 1) for p in _urlparse.urlsplit(location).query.split("&"))
        assert _urlparse.unquote(raw["name"]) == name, location
        return f"attachment; filename*=UTF-8''{raw['name']}"
    return bucket_disposition(name)


def sigv4_presign_signature(secret, region, method, host, path, query):
    """The SigV4 query signature of a presigned request (`query`: decoded pairs without X-Amz-Signature)."""
    def enc(text):
        return _urlparse.quote(text, safe="-_.~")
    canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(query))
    canonical = "\n".join([method, path, canonical_query, f"host:{host}", "", "host", "UNSIGNED-PAYLOAD"])
    amz_date = dict(query)["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, sha256_hex(canonical.encode())])
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, "s3", "aws4_request"):
        key = _hmac.new(key, part.encode(), _hashlib.sha256).digest()
    return _hmac.new(key, to_sign.encode(), _hashlib.sha256).hexdigest()


def download_signature(server, location):
    """The signature a download Location carries: nginx's `md5`, or the presigned URL's `X-Amz-Signature`."""
    query = dict(_urlparse.parse_qsl(_urlparse.urlsplit(location).query))
    return query["md5"] if server.backend.kind == "sqlite" else query["X-Amz-Signature"]


# nginx's signed /dl/ links (secure_link) are what a stack storing files on local disk hands out; a stack storing
# them in a bucket answers downloads with the bucket's presigned URLs instead, whose methods, signature, expiry and
# error documents are the bucket's to check (moto, the test bucket, checks none of them): a test of what nginx
# does with a /dl/ link has no counterpart there.
nginx_signed_links = pytest.mark.skipif(_backends.KIND != "sqlite",
                                        reason="nginx signed /dl/ links: only a stack storing files on local disk issues them")


def assert_download_location(server, location, storage_key, name, content_type=None):
    """Checks the Location a download answers with, for `server`'s storage; returns its path and decoded query.

    Where it leads is the backend's (`download_link`). Local files: nginx's signed link
    `{media_url}/dl/<storage_key>?md5&expires&name`, signed with the run's secret (secure_link_md5) and not yet
    expired. S3: a presigned GET of `<bucket>/<prefix>/<storage_key>` on the storage endpoint, signed (SigV4,
    recomputed here) with the stack's storage keys, carrying the name (`response-content-disposition`) and
    `content_type`, and not yet expired."""
    parts = _urlparse.urlsplit(location)
    origin, path = server.backend.download_link(storage_key, server.media_url)
    assert (f"{parts.scheme}://{parts.netloc}", parts.path) == (origin, path), f"{location}: expected {origin}{path}?…"
    if origin == server.media_url:
        raw = dict(p.split("=", 1) for p in parts.query.split("&"))
        assert set(raw) == {"md5", "expires", "name"}, location
        assert _urlparse.unquote(raw["name"]) == name, location
        assert int(raw["expires"]) > time.time(), location
        assert raw["md5"] == secure_link_md5(server.signing_secret, parts.path, raw["expires"], raw["name"]), location
        return parts.path, raw
    pairs = _urlparse.parse_qsl(parts.query, keep_blank_values=True)
    query = dict(pairs)
    assert set(query) == {"response-content-disposition", "response-content-type", "X-Amz-Algorithm",
                          "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                          "X-Amz-Signature"}, location
    assert query["response-content-disposition"] == bucket_disposition(name), location
    if content_type is not None:
        assert query["response-content-type"] == content_type, location
    date = query["X-Amz-Date"]
    assert query["X-Amz-Credential"] == f"{_backends.STORAGE_KEY}/{date[:8]}/us-east-1/s3/aws4_request", location
    assert query["X-Amz-SignedHeaders"] == "host", location
    signed_at = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
    assert signed_at + int(query["X-Amz-Expires"]) > time.time(), location
    unsigned = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
    assert query["X-Amz-Signature"] == sigv4_presign_signature(_backends.STORAGE_SECRET, "us-east-1", "GET",
                                                               parts.netloc, parts.path, unsigned), location
    return parts.path, query


class MediaSamples:
    """Media generated once per session; the parameters below are what ffmpeg was asked for."""
    WIDTH, HEIGHT, FPS, SECONDS = 320, 240, 25, 2
    VIDEO_SAMPLE_RATE, VIDEO_CHANNELS = 48000, 2
    AUDIO_SAMPLE_RATE, AUDIO_CHANNELS = 44100, 1

    def __init__(self, directory):
        self.dir = Path(directory)
        self.mp4 = self.dir / "clip.mp4"
        self.m4a = self.dir / "tone.m4a"
        ffmpeg = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
        subprocess.run(ffmpeg + [
            "-f", "lavfi", "-i", f"testsrc=size={self.WIDTH}x{self.HEIGHT}:rate={self.FPS}:duration={self.SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={self.VIDEO_SAMPLE_RATE}:duration={self.SECONDS}",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", str(self.VIDEO_CHANNELS), "-shortest",
            str(self.mp4)], check=True, timeout=120)
        subprocess.run(ffmpeg + [
            "-f", "lavfi", "-i", f"sine=frequency=660:sample_rate={self.AUDIO_SAMPLE_RATE}:duration={self.SECONDS}",
            "-ac", str(self.AUDIO_CHANNELS), "-c:a", "aac", str(self.m4a)], check=True, timeout=120)
        self.mp4_bytes = self.mp4.read_bytes()
        self.m4a_bytes = self.m4a.read_bytes()
