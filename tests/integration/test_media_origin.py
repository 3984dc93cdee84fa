"""The fetch tests' own fixtures, checked without Fetchgate: the pinned yt-dlp (no guard, no
proxy) downloads the origin's mp4, HTML page and HLS stream; every hostile case really reaches the
forbidden target when nothing guards it (so a guard test that sees 0 hits proves the guard);
the slow endpoint trickles; the webhook receiver verifies Standard Webhooks signatures; and which
HTML forms yt-dlp's generic extractor accepts.
"""
import json
import subprocess
import time
from datetime import datetime, timezone

import pytest
import requests

from conftest import REPO, sha256_hex
from support.media_origin import MAX_FETCH_BYTES, METADATA_URL, PAGE_TITLE, SLOW_RATE, media_sites
from standardwebhooks.webhooks import Webhook

YTDLP = REPO / ".venv" / "bin" / "yt-dlp"


def ytdlp(tmp_path, url, *options, timeout=60):
    """One isolated yt-dlp run into tmp_path; (CompletedProcess, final paths)."""
    r = subprocess.run([str(YTDLP), "--ignore-config", "--no-config-locations", "--no-plugin-dirs", "--no-cache-dir",
                        "--socket-timeout", "5", "-P", str(tmp_path), "-o", "%(id).64s.%(ext)s", "--restrict-filenames",
                        "--no-mtime", "--print", "after_move:%(filepath)j", *options, "--", url],
                       capture_output=True, text=True, timeout=timeout,
                       env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    paths = [json.loads(line) for line in r.stdout.splitlines() if line.startswith('"')]
    return r, paths


def probe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-protocol_whitelist", "file", "-print_format", "json",
                        "-show_format", "-show_streams", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def info(url, *options):
    r = subprocess.run([str(YTDLP), "--ignore-config", "--no-config-locations", "--no-plugin-dirs", "--no-cache-dir",
                        "--socket-timeout", "5", "-J", *options, "--", url], capture_output=True, text=True, timeout=60)
    return r.returncode, (json.loads(r.stdout) if r.returncode == 0 else None), r.stderr


@pytest.fixture(scope="module")
def bare(media_files):
    """An origin and forbidden target of this module's own: the session's target must never be hit."""
    with media_sites(media_files) as sites:
        yield sites


def test_pinned_yt_dlp():
    r = subprocess.run([str(YTDLP), "--version"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "2026.10.26", r


@pytest.mark.parametrize("case", ["mp4", "page", "hls"])
def test_origin_media_downloads_unguarded(media_origin, forbidden_target, media_files, tmp_path, case):
    url = {"mp4": media_origin.mp4_url, "page": media_origin.page_url, "hls": media_origin.hls_url}[case]
    r, paths = ytdlp(tmp_path, url)
    assert r.returncode == 0, r.stderr
    assert len(paths) == 1 and paths[0].startswith(str(tmp_path) + "/") and paths[0].endswith(".mp4"), paths
    got = probe(paths[0])
    kinds = sorted(s["codec_type"] for s in got["streams"])
    assert kinds == ["audio", "video"], got["streams"]
    video = next(s for s in got["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (320, 240)
    assert abs(float(got["format"]["duration"]) - 2.0) < 0.2, got["format"]
    if case != "hls":  # the HLS stream is remuxed from its segments
        assert sha256_hex(open(paths[0], "rb").read()) == sha256_hex(media_files.mp4_bytes)
    assert forbidden_target.hits == 0


def test_page_title_and_extractor(media_origin):
    """The page's one `<video src>`: extractor html5, title `<title> (1)` (one entry of a list)."""
    rc, d, err = info(media_origin.page_url)
    assert rc == 0, err
    assert (d["extractor"], d["title"], d["ext"]) == ("html5", f"{PAGE_TITLE} (1)", "mp4"), d
    assert d.get("duration") is None  # yt-dlp knows no duration for these: only ffprobe does


@pytest.mark.parametrize("name", ["redirect-127.0.0.2", "redirect-mapped-127.0.0.1", "hls-segments-127.0.0.2",
                                  "hls-later-segments-127.0.0.2", "video-src-127.0.0.2"])
def test_hostile_cases_reach_the_forbidden_target_without_a_guard(bare, tmp_path, name):
    bare_origin, bare_target = bare
    mark = bare_target.mark()
    r, paths = ytdlp(tmp_path, bare_origin.hostile_urls()[name])
    assert r.returncode == 0, r.stderr
    assert len(paths) == 1, r
    hit = bare_target.since(mark)
    assert hit, f"{name}: the forbidden target was never asked"
    if name == "hls-later-segments-127.0.0.2":
        # Its first segment comes from the origin: only the later ones from the target.
        assert "/hls/seg0.ts" not in [h["path"] for h in hit], hit
    if name == "redirect-mapped-127.0.0.1":
        assert {h["local"] for h in hit} == {"127.0.0.1"}, hit
    else:
        assert {h["local"] for h in hit} == {"127.0.0.2"}, hit


def test_refused_later_segments_are_skipped_unless_told(media_files, tmp_path):
    """A guard answers 403 to a refused segment. yt-dlp's default skips a fragment it cannot get
    and exits 0 with a shorter file; `--abort-on-unavailable-fragments` makes the run fail."""
    with media_sites(media_files) as (origin, target):
        for name in media_files.segments:
            target.serve(f"/hls/{name}", b"refused", "text/plain", status=403)
        url = origin.hostile_urls()["hls-later-segments-127.0.0.2"]
        r, paths = ytdlp(tmp_path / "default", url)
        assert r.returncode == 0 and len(paths) == 1, r
        assert abs(float(probe(paths[0])["format"]["duration"]) - 1.0) < 0.2  # one segment of two
        r, paths = ytdlp(tmp_path / "abort", url, "--abort-on-unavailable-fragments")
        assert r.returncode == 1 and paths == [], r


def test_metadata_redirect(media_origin):
    r = requests.get(media_origin.hostile_urls()["redirect-169.254.169.254"], allow_redirects=False, timeout=5)
    assert r.status_code == 302 and r.headers["Location"] == METADATA_URL


def test_missing_is_404_and_yt_dlp_says_so(media_origin, tmp_path):
    assert requests.get(media_origin.missing_url, timeout=5).status_code == 404
    r, paths = ytdlp(tmp_path, media_origin.missing_url)
    assert r.returncode == 1 and paths == []
    assert "HTTP Error 404" in r.stderr, r.stderr


def test_oversize_is_over_the_limit(media_origin, tmp_path):
    """yt-dlp's --max-filesize refuses it before reading the body and exits 0 with no file; with
    --print it says nothing at all unless --no-quiet follows (a runner cannot go by the exit status)."""
    mark = media_origin.mark()
    head = requests.head(media_origin.oversize_url, timeout=5)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) > MAX_FETCH_BYTES
    r, paths = ytdlp(tmp_path, media_origin.oversize_url, "--max-filesize", str(MAX_FETCH_BYTES))
    assert (r.returncode, paths, r.stdout, r.stderr) == (0, [], "", ""), r
    r, paths = ytdlp(tmp_path, media_origin.oversize_url, "--max-filesize", str(MAX_FETCH_BYTES), "--no-quiet")
    assert r.returncode == 0 and paths == [], r
    size = len(media_origin.files.oversize_bytes)
    assert f"File is larger than max-filesize ({size} bytes > {MAX_FETCH_BYTES} bytes)" in r.stdout, r.stdout
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    sent = [r for r in media_origin.since(mark) if r["method"] == "GET"]
    assert len(sent) == 4 and not any(r["complete"] for r in sent), sent  # two runs: a probe and a download each


def test_slow_endpoint_trickles_and_honours_range(media_origin, media_files):
    url = media_origin.slow_url("trickle", rate=SLOW_RATE)
    started = time.monotonic()
    with requests.get(url, stream=True, timeout=10) as r:
        assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(media_files.slow_bytes)
        got = 0
        for chunk in r.iter_content(65536):
            got += len(chunk)
            if got >= SLOW_RATE:
                break
    elapsed = time.monotonic() - started
    assert 0.7 <= elapsed <= 3.0, f"{SLOW_RATE} bytes took {elapsed:.2f}s"
    total = len(media_files.slow_bytes) / SLOW_RATE
    assert total >= 4, f"the slow clip lasts only {total:.1f}s at {SLOW_RATE} B/s"
    r = requests.get(media_origin.mp4_url, headers={"Range": "bytes=10-19"}, timeout=5)
    assert r.status_code == 206 and r.content == media_files.mp4_bytes[10:20]


def test_webhook_receiver_verifies_signatures(webhook_receiver):
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    webhook_receiver.secret("a", secret)
    body = b'{"id":"x","status":"success"}'
    now = datetime.now(timezone.utc)
    signature = Webhook(secret).sign("msg_1", now, body)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature,
               "Content-Type": "application/json"}
    assert requests.post(webhook_receiver.url("a").replace("localhost", "127.0.0.1"), data=body, headers=headers,
                         timeout=5).status_code == 204
    bad = dict(headers, **{"webhook-signature": "v1,AAAA" + signature[7:]})
    webhook_receiver.set_answer(500)
    assert requests.post(webhook_receiver.url("a"), data=body, headers=bad, timeout=5).status_code == 500
    got = webhook_receiver.received("a")
    assert [(d["verified"], d["answered"]) for d in got] == [(True, 204), (False, 500)], got
    assert got[0]["payload"] == {"id": "x", "status": "success"}
    webhook_receiver.down()
    with pytest.raises(requests.ConnectionError):
        requests.post(webhook_receiver.url("a"), data=body, headers=headers, timeout=5)
    webhook_receiver.up()
    webhook_receiver.set_answer(410)
    assert requests.post(webhook_receiver.url("a"), data=body, headers=headers, timeout=5).status_code == 410
    assert len(webhook_receiver.received("a")) == 3


# Which HTML forms the generic extractor (2026.10.26) takes: (page markup, extractor, title) or None
# for "Unsupported URL". `{base}` is the origin's http://localhost:PORT.
HEAD = "<!DOCTYPE html><html><head><title>Form Title</title>"
FORMS = {
    "video-src-relative": (HEAD + '</head><body><video src="v.mp4"></video></body></html>', "html5", "Form Title (1)"),
    "video-src-path": (HEAD + '</head><body><video controls src="/v.mp4"></video></body></html>', "html5",
                       "Form Title (1)"),
    "video-src-absolute": (HEAD + '</head><body><video src="{base}/v.mp4"></video></body></html>', "html5",
                           "Form Title (1)"),
    "video-source-child": (HEAD + '</head><body><video><source src="/v.mp4" type="video/mp4"></video></body></html>',
                           "html5", "Form Title (1)"),
    "video-src-single-quoted": (HEAD + "</head><body><video src='/v.mp4'></video></body></html>", "html5",
                                "Form Title (1)"),
    "video-src-unquoted": (HEAD + "</head><body><video src=/v.mp4></video></body></html>", "html5", "Form Title (1)"),
    "video-src-hls": (HEAD + '</head><body><video src="/hls/index.m3u8"></video></body></html>', "html5",
                      "Form Title (1)"),
    "audio-src": (HEAD + '</head><body><audio src="/v.mp4"></audio></body></html>', "html5", "Form Title (1)"),
    "og-video": (HEAD + '<meta property="og:video" content="{base}/v.mp4"></head><body></body></html>', "generic",
                 "Form Title"),
    "json-ld-video-object": (HEAD + '<script type="application/ld+json">{{"@context":"https://schema.org",'
                             '"@type":"VideoObject","name":"LD Title","contentUrl":"{base}/v.mp4"}}</script>'
                             '</head><body></body></html>', "generic", "LD Title"),
    "twitter-player-stream": (HEAD + '<meta name="twitter:player:stream" content="{base}/v.mp4"></head></html>',
                              "generic", "Form Title"),
    "video-src-uppercase-tag": (HEAD + '</head><body><VIDEO SRC="/v.mp4"></VIDEO></body></html>', None, None),
    "og-video-relative": (HEAD + '<meta property="og:video" content="/v.mp4"></head><body></body></html>', "generic",
                          "Form Title"),
    "og-video-url-relative": (HEAD + '<meta property="og:video:url" content="/v.mp4"></head><body></body></html>',
                              None, None),
    "plain-link": (HEAD + '</head><body><a href="/v.mp4">clip</a></body></html>', None, None),
    "iframe": (HEAD + '</head><body><iframe src="/page.html"></iframe></body></html>', None, None),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_generic_extractor_forms(media_origin, form):
    markup, extractor, title = FORMS[form]
    path = media_origin.serve(f"/forms/{form}.html", markup.format(base=media_origin.url("")).encode(),
                              "text/html; charset=utf-8")
    # The relative `v.mp4` of the first form resolves against /forms/.
    media_origin.serve("/forms/v.mp4", media_origin.files.mp4_bytes, "video/mp4")
    rc, d, err = info(media_origin.url(path))
    if extractor is None:
        assert rc == 1 and "Unsupported URL" in err, (rc, err)
    else:
        assert rc == 0, err
        assert (d["extractor"], d["title"], d["ext"]) == (extractor, title, "mp4"), {k: d.get(k) for k in (
            "extractor", "title", "ext", "url", "webpage_url")}
