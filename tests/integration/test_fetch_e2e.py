"""The Fetch API (seed 000, issue 10) end to end through the real nginx, the worker and the pinned
yt-dlp, against the local media origin (support/media_origin.py) reached as `localhost`:
POST /fetch → poll GET /fetch/{id} → GET /fetch/{id}/{filename} 302 → the signed link's bytes;
ffprobe data, progress on the slow endpoint, presets, errors, listing, metadata, idempotent
retries, cancellation, deletion, kill -9 of the worker, retention.
"""
import os
import signal
import time
import urllib.parse as _urlparse
import uuid

import pytest
import requests

from conftest import (FetchClient, assert_json_error, fetch_jobs, fetch_row, ffprobe_of, parse_json,
                      processes_mentioning, running_server, sha256_hex, stored_fetch_files, wait_for)
from support.files import assert_download_location
from support.fetch import FETCH_CAP, FETCH_KEYS, JOB_LEASE_SECONDS, PRESETS, fetch_serve_options
from support.media_origin import PAGE_TITLE

REPLAYED = "Idempotent-Replayed"


def signed_bytes(api, f):
    """The bytes behind a successful fetch's download_url (302 → the backend's signed link, no credentials)."""
    location = api.fetch_signed_location(f)
    assert_download_location(api.server, location, f"f/{f['id']}.{f['filename'].rsplit('.', 1)[1]}", f["filename"])
    r = requests.get(location, allow_redirects=False, timeout=30)
    assert r.status_code == 200, f"{location}: {r.status_code} {r.text[:200]}"
    assert r.headers["Content-Type"] == f["content_type"], r.headers
    return r


def assert_stored_once(server, f, data=None):
    """One stored file for the fetch, of the announced size (and these bytes, if given)."""
    stored = stored_fetch_files(server, f["id"])
    assert len(stored) == 1, stored
    assert stored[0].stat().st_size == f["size_bytes"]
    if data is not None:
        assert sha256_hex(stored[0].read_bytes()) == sha256_hex(data)
    return stored[0]


def streams(row):
    return sorted(s["type"] for s in ffprobe_of(row)["streams"])


# ------------------------------------------------------------------------------------------ success

def test_mp4_end_to_end(fetch_server, fetch_api, media_origin, media_files, forbidden_target):
    created = fetch_api.create(media_origin.mp4_url)
    assert created["url"] == media_origin.mp4_url
    assert uuid.UUID(created["id"]).version == 4 and str(uuid.UUID(created["id"])) == created["id"]
    f = fetch_api.wait(created["id"])
    assert f["status"] == "success", f
    assert (f["quality"], f["step"], f["title"], f["filename"]) == ("best", "done", "v", "v.mp4"), f
    assert (f["size_bytes"], f["content_type"]) == (len(media_files.mp4_bytes), "video/mp4"), f
    assert f["download_url"] == f"{fetch_server.media_url}/fetch/{f['id']}/v.mp4"
    assert f["started_at"] is not None and f["finished_at"] is not None
    r = signed_bytes(fetch_api, f)
    assert sha256_hex(r.content) == sha256_hex(media_files.mp4_bytes)
    assert_stored_once(fetch_server, f, media_files.mp4_bytes)
    row = fetch_row(fetch_server, f["id"])
    assert streams(row) == ["audio", "video"]
    video = next(s for s in ffprobe_of(row)["streams"] if s["type"] == "video")
    assert (video["width"], video["height"]) == (320, 240)
    assert abs(float(ffprobe_of(row)["duration"]) - 2.0) < 0.2
    # A fetch result is not a file of the Files API.
    assert fetch_api.get("/files").json()["total"] == 0
    assert forbidden_target.hits == 0


def test_html_page_with_video_src(fetch_api, media_origin, media_files, forbidden_target):
    """The generic extractor's html5 form: the page's title (yt-dlp adds " (1)": one entry of a list)."""
    f = fetch_api.succeeded(media_origin.page_url)
    assert (f["title"], f["filename"]) == (f"{PAGE_TITLE} (1)", f"{PAGE_TITLE} (1).mp4"), f
    assert f["download_url"] == f"{fetch_api.server.media_url}/fetch/{f['id']}/{_urlparse.quote(f['filename'])}"
    assert sha256_hex(signed_bytes(fetch_api, f).content) == sha256_hex(media_files.mp4_bytes)
    assert forbidden_target.hits == 0


def test_hls_stream(fetch_server, fetch_api, media_origin, forbidden_target):
    mark = media_origin.mark()
    f = fetch_api.succeeded(media_origin.hls_url)
    assert (f["title"], f["filename"], f["content_type"]) == ("index", "index.mp4", "video/mp4"), f
    data = signed_bytes(fetch_api, f).content
    assert len(data) == f["size_bytes"]
    row = fetch_row(fetch_server, f["id"])
    assert streams(row) == ["audio", "video"]
    assert abs(float(ffprobe_of(row)["duration"]) - 2.0) < 0.3
    # Both segments came from the origin.
    got = {r["path"] for r in media_origin.since(mark) if r["complete"] and r["method"] == "GET"}
    assert {"/hls/index.m3u8", *(f"/hls/{name}" for name in media_origin.files.segments)} <= got, got
    assert forbidden_target.hits == 0


def test_progress_moves_on_the_slow_endpoint(fetch_server, fetch_api, media_origin, media_files):
    url = media_origin.slow_url(f"progress-{uuid.uuid4().hex[:8]}")
    seen = []
    f = fetch_api.wait(fetch_api.create(url)["id"], seen=seen)
    assert f["status"] == "success", f
    running = [s for s in seen if s["status"] == "running" and s["step"] == "downloading"]
    moving = sorted({s["progress"]["bytes"] for s in running if s["progress"]["bytes"]})
    assert len(moving) >= 3, f"progress did not move: {[s['progress'] for s in running]}"
    for s in running:
        p = s["progress"]
        if p["bytes"]:
            assert p["total_bytes"] == len(media_files.slow_bytes), p
            assert 0 <= p["percent"] <= 100 and abs(p["percent"] - 100 * p["bytes"] / p["total_bytes"]) < 1, p
    assert any(0 < s["progress"]["percent"] < 100 for s in running if s["progress"]["percent"] is not None)
    assert any(s["progress"]["speed"] for s in running) and any(s["progress"]["eta"] is not None for s in running)
    # Statuses only go forward.
    order = {"pending": 0, "running": 1, "success": 2}
    ranks = [order[s["status"]] for s in seen]
    assert ranks == sorted(ranks), [s["status"] for s in seen]
    assert f["size_bytes"] == len(media_files.slow_bytes)
    assert sha256_hex(signed_bytes(fetch_api, f).content) == sha256_hex(media_files.slow_bytes)


def test_quality_presets(fetch_server, fetch_api, media_origin):
    ids = {q: fetch_api.create(media_origin.page_url, q)["id"] for q in PRESETS}
    for quality, fetch_id in ids.items():
        f = fetch_api.wait(fetch_id)
        assert f["status"] == "success", f"{quality}: {f}"
        assert f["quality"] == quality
        row = fetch_row(fetch_server, fetch_id)
        if quality == "audio":
            assert (f["filename"], f["content_type"]) == (f"{PAGE_TITLE} (1).m4a", "audio/mp4"), f
            assert streams(row) == ["audio"]
        else:
            assert (f["filename"], f["content_type"]) == (f"{PAGE_TITLE} (1).mp4", "video/mp4"), f
            assert streams(row) == ["audio", "video"]


def test_unknown_quality_is_400_listing_the_presets(fetch_api, media_origin):
    mark = media_origin.mark()
    err = assert_json_error(fetch_api.create(media_origin.mp4_url, "4k", expect=400), 400, "invalid_quality")
    for preset in PRESETS:
        assert preset in err["message"], err
    assert fetch_api.listing()["total"] == 0  # CONTRACT: the listing's `total`
    assert media_origin.since(mark) == []


# ------------------------------------------------------------------------------------------ failures

def assert_failed_cleanly(server, api, f, code):
    assert f["status"] == "failed" and f["error"]["code"] == code, f
    assert str(server.run_dir) not in f["error"]["message"], f  # never a local path
    assert stored_fetch_files(server, f["id"]) == []
    assert_json_error(api.get(f"/fetch/{f['id']}/x.mp4"), 409)  # CONTRACT: not ready, as Files (409)


def test_404_fails_unavailable(fetch_server, fetch_api, media_origin):
    f = fetch_api.failed(media_origin.missing_url, "unavailable")  # CONTRACT: an origin 404 is `unavailable`
    assert "404" in f["error"]["message"], f
    assert_failed_cleanly(fetch_server, fetch_api, f, "unavailable")


def test_oversize_fails_too_large(fetch_server, fetch_api, media_origin):
    mark = media_origin.mark()
    f = fetch_api.failed(media_origin.oversize_url, "too_large")
    assert_failed_cleanly(fetch_server, fetch_api, f, "too_large")
    # Refused on the announced size: the body was never sent whole.
    sent = [r for r in media_origin.since(mark) if r["path"] == "/oversize.mp4"]
    assert sent and not any(r["complete"] and r["method"] == "GET" for r in sent), sent


def test_page_without_media_fails_unsupported_url(fetch_server, fetch_api, media_origin):
    path = media_origin.serve("/no-media.html", b"<html><head><title>Nothing</title></head><body>text</body></html>",
                              "text/html")
    f = fetch_api.failed(media_origin.url(path), "unsupported_url")
    assert_failed_cleanly(fetch_server, fetch_api, f, "unsupported_url")


# ------------------------------------------------------------------------------------------ listing

def test_listing_newest_first_and_by_status(fetch_api, media_origin):
    ok = fetch_api.succeeded(media_origin.mp4_url)
    bad = fetch_api.failed(media_origin.missing_url, "unavailable")
    # CONTRACT: the listing's shape follows the Files API's (`fetches` instead of `files`).
    body = fetch_api.listing()
    assert set(body) == {"fetches", "page", "per_page", "total", "has_more", "next_cursor"}, body
    assert [f["id"] for f in body["fetches"]] == [bad["id"], ok["id"]] and body["total"] == 2
    assert all(set(f) == FETCH_KEYS for f in body["fetches"])
    assert [f["id"] for f in fetch_api.listing(status="success")["fetches"]] == [ok["id"]]
    assert [f["id"] for f in fetch_api.listing(status="failed")["fetches"]] == [bad["id"]]
    page = fetch_api.listing(per_page=1)
    assert [f["id"] for f in page["fetches"]] == [bad["id"]] and page["has_more"] is True
    assert [f["id"] for f in fetch_api.listing(per_page=1, page=2)["fetches"]] == [ok["id"]]


def test_another_accounts_fetch_is_404(fetch_server, fetch_api, media_origin):
    f = fetch_api.succeeded(media_origin.mp4_url)
    other = FetchClient(fetch_server, fetch_server.create_account().token)
    assert_json_error(other.get(f"/fetch/{f['id']}"), 404, "not_found")
    assert_json_error(other.get(f"/fetch/{f['id']}/v.mp4"), 404, "not_found")
    assert_json_error(other.delete(f"/fetch/{f['id']}"), 404, "not_found")
    assert fetch_api.fetch(f["id"])["status"] == "success"


def test_fetch_needs_a_key(fetch_server, media_origin):
    anon = FetchClient(fetch_server, None)
    assert_json_error(anon.post("/fetch", json={"url": media_origin.mp4_url}), 401)


# ------------------------------------------------------------------------------------------ metadata

METADATA_KEYS = {"title", "duration", "uploader", "thumbnail", "webpage_url", "extractor", "formats"}
FORMAT_KEYS = {"format_id", "ext", "resolution", "fps", "vcodec", "acodec", "filesize"}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_metadata_downloads_nothing(fetch_api, media_origin, method):
    mark = media_origin.mark()
    if method == "GET":
        r = fetch_api.get("/fetch/metadata", params={"url": media_origin.page_url})
    else:
        r = fetch_api.post("/fetch/metadata", json={"url": media_origin.page_url})
    assert r.status_code == 200, r.text[:300]
    m = parse_json(r)
    assert set(m) == METADATA_KEYS, m
    assert (m["title"], m["extractor"], m["webpage_url"]) == (f"{PAGE_TITLE} (1)", "html5", media_origin.page_url), m
    assert len(m["formats"]) == 1 and set(m["formats"][0]) == FORMAT_KEYS and m["formats"][0]["ext"] == "mp4", m
    assert fetch_api.listing()["total"] == 0
    # The page was read (or came from the 60 s cache); the video was not downloaded.
    assert not any(r["path"] == "/v.mp4" and r["method"] == "GET" and r["complete"]
                   for r in media_origin.since(mark)), media_origin.since(mark)


def test_metadata_refuses_a_private_url(fetch_api, forbidden_target):
    err = assert_json_error(fetch_api.get("/fetch/metadata", params={"url": forbidden_target.url("/v.mp4")}),
                            400, "url_not_allowed")
    assert err["message"].strip()
    assert forbidden_target.hits == 0


# ------------------------------------------------------------------------------------------ idempotency

def test_idempotent_retry_returns_the_same_fetch(fetch_api, media_origin):
    key = uuid.uuid4().hex
    body = {"url": media_origin.mp4_url, "quality": "best"}
    first = fetch_api.post("/fetch", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and REPLAYED not in first.headers, first.text
    again = fetch_api.post("/fetch", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and again.content == first.content
    assert again.headers.get(REPLAYED) == "true", again.headers
    other = fetch_api.post("/fetch", json={"url": media_origin.page_url}, headers={"Idempotency-Key": key})
    assert_json_error(other, 422)
    fetch_id = first.json()["id"]
    assert fetch_api.wait(fetch_id)["status"] == "success"
    assert [f["id"] for f in fetch_api.listing()["fetches"]] == [fetch_id]
    assert len(fetch_jobs(fetch_api.server, fetch_id)) == 1
    # Without a key, every POST is a new fetch.
    fetch_api.create(media_origin.mp4_url)
    assert fetch_api.listing()["total"] == 2


# ------------------------------------------------------------------------------------------ per-account cap

def test_per_account_cap_queues_the_rest(fetch_server, fetch_api, media_origin):
    """`--fetch-cap 2`: a third fetch of one account waits, while another account's runs beside them."""
    tag = uuid.uuid4().hex[:8]
    mine = [fetch_api.create(media_origin.slow_url(f"cap-{tag}-{i}", rate=1_000_000))["id"]
            for i in range(FETCH_CAP + 1)]
    other = FetchClient(fetch_server, fetch_server.create_account().token)
    theirs = other.create(media_origin.slow_url(f"cap-{tag}-other", rate=1_000_000))["id"]
    most, beside, deadline = 0, False, time.monotonic() + 90
    while time.monotonic() < deadline:
        # One list read is one snapshot: fetches read one by one could see a fetch still running
        # and, a moment later, the one that started when it ended.
        listed = {f["id"]: f["status"] for f in fetch_api.listing(per_page=100)["fetches"]}
        statuses = [listed[i] for i in mine]
        running = statuses.count("running")
        most = max(most, running)
        beside = beside or (running == FETCH_CAP and other.fetch(theirs)["status"] == "running")
        if all(s in ("success", "failed") for s in statuses):
            break
        time.sleep(0.1)
    assert [fetch_api.fetch(i)["status"] for i in mine] == ["success"] * (FETCH_CAP + 1)
    assert most == FETCH_CAP
    assert beside, "the other account's fetch never ran while this one was at its cap"
    assert other.wait(theirs)["status"] == "success"


# ------------------------------------------------------------------------------------------ cancel, delete

def test_cancel_kills_the_download_within_a_second(fetch_server, fetch_api, media_origin):
    url = media_origin.slow_url(f"cancel-{uuid.uuid4().hex[:8]}", rate=100_000)
    f = fetch_api.create(url)
    wait_for(lambda: processes_mentioning(url), timeout=30, interval=0.05, what="yt-dlp to start")
    wait_for(lambda: any(r["sent"] > 0 for r in media_origin.requests(contains=url.rsplit("/", 1)[1])),
             timeout=30, interval=0.05, what="bytes to flow")
    asked = time.monotonic()
    r = fetch_api.delete(f"/fetch/{f['id']}")
    assert r.status_code == 200, r.text  # CONTRACT: 200 with the fetch object, now cancelled
    left = max(0.0, 1.0 - (time.monotonic() - asked))
    wait_for(lambda: not processes_mentioning(url), timeout=left, interval=0.02, what="the process group to go")
    assert time.monotonic() - asked <= 1.05
    after = fetch_api.fetch(f["id"])
    assert after["status"] == "failed" and after["error"]["code"] == "cancelled", after
    assert stored_fetch_files(fetch_server, f["id"]) == []
    assert [j["state"] for j in fetch_jobs(fetch_server, f["id"])] == ["cancelled"]
    # The origin saw the connection drop: nothing finished.
    transfers = [r for r in media_origin.requests(contains=url.rsplit("/", 1)[1]) if r["sent"] > 0]
    assert transfers and not any(r["complete"] for r in transfers), transfers
    # The job is not retried.
    time.sleep(JOB_LEASE_SECONDS + 1)
    assert not processes_mentioning(url)
    assert fetch_api.fetch(f["id"])["status"] == "failed"


def test_delete_finished_fetch_removes_row_and_bytes(fetch_server, fetch_api, media_origin):
    f = fetch_api.succeeded(media_origin.mp4_url)
    assert len(stored_fetch_files(fetch_server, f["id"])) == 1
    location = fetch_api.fetch_signed_location(f)
    r = fetch_api.delete(f"/fetch/{f['id']}")
    assert r.status_code == 200, r.text
    assert parse_json(r) == {"id": f["id"], "deleted": True}  # CONTRACT: as Files' DELETE
    assert_json_error(fetch_api.get(f"/fetch/{f['id']}"), 404, "not_found")
    assert_json_error(fetch_api.delete(f"/fetch/{f['id']}"), 404, "not_found")
    assert stored_fetch_files(fetch_server, f["id"]) == []
    assert fetch_row(fetch_server, f["id"]) is None
    assert requests.get(location, allow_redirects=False, timeout=10).status_code == fetch_server.backend.gone_link_status


# ------------------------------------------------------------------------------------------ kill -9

def kill_worker_mid_download(server, media_origin, url):
    name = url.rsplit("/", 1)[1]
    wait_for(lambda: any(r["sent"] > 200_000 for r in media_origin.requests(contains=name)),
             timeout=30, interval=0.05, what="the download to be under way")
    pids = server.worker_pids()
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    wait_for(lambda: [p for p in server.worker_pids() if p != pids[0]], timeout=5, interval=0.05,
             what="a restarted worker")
    return time.monotonic()


def test_kill_9_mid_download_completes_exactly_once(fetch_server, fetch_api, media_origin, media_files):
    url = media_origin.slow_url(f"kill-{uuid.uuid4().hex[:8]}")
    f = fetch_api.create(url)
    kill_worker_mid_download(fetch_server, media_origin, url)
    done = fetch_api.wait(f["id"], timeout=JOB_LEASE_SECONDS + 60)
    assert done["status"] == "success", done
    assert done["size_bytes"] == len(media_files.slow_bytes)
    assert_stored_once(fetch_server, done, media_files.slow_bytes)
    assert sha256_hex(signed_bytes(fetch_api, done).content) == sha256_hex(media_files.slow_bytes)
    assert fetch_api.listing()["total"] == 1
    jobs = fetch_jobs(fetch_server, f["id"])
    assert len(jobs) == 1 and jobs[0]["state"] == "done" and jobs[0]["attempts"] == 2, jobs
    # Nothing else arrives later.
    time.sleep(JOB_LEASE_SECONDS + 1)
    assert len(stored_fetch_files(fetch_server, f["id"])) == 1
    assert fetch_api.fetch(f["id"])["finished_at"] == done["finished_at"]


def test_kill_9_leaves_no_download_running(fetch_server, fetch_api, media_origin):
    """The killed worker's yt-dlp does not go on writing into the job directory beside the retry."""
    url = media_origin.slow_url(f"orphan-{uuid.uuid4().hex[:8]}")
    f = fetch_api.create(url)
    killed = kill_worker_mid_download(fetch_server, media_origin, url)
    before_retry = killed + JOB_LEASE_SECONDS - 1
    wait_for(lambda: not processes_mentioning(url) or time.monotonic() > before_retry, timeout=JOB_LEASE_SECONDS,
             interval=0.05, what="the killed worker's download to stop")
    assert not processes_mentioning(url), "yt-dlp of the killed worker still running"
    assert fetch_api.wait(f["id"], timeout=JOB_LEASE_SECONDS + 60)["status"] == "success"


# ------------------------------------------------------------------------------------------ retention

@pytest.fixture(scope="module")
def retention_server(tmp_path_factory):
    with running_server(tmp_path_factory, "fetchgate-retention", fetch_serve_options() + ["--retention-days", "1"]) \
            as srv:
        yield srv


RETENTION_SWEEP_WAIT = 90  # CONTRACT: how often the worker's retention sweep runs (seconds, at most)


def backdate(server, public_id, days):
    server.execute("UPDATE fetches SET created_at = created_at - ?, started_at = started_at - ?, "
                   "finished_at = finished_at - ? WHERE public_id = ?", (days * 86400,) * 3 + (public_id,))


def test_retention_is_off_by_default(fetch_server, fetch_api, retention_server, media_origin):
    kept = fetch_api.succeeded(media_origin.mp4_url)
    swept_api = FetchClient(retention_server, retention_server.create_account().token)
    swept = swept_api.succeeded(media_origin.mp4_url)
    backdate(fetch_server, kept["id"], 3)
    backdate(retention_server, swept["id"], 3)
    # With --retention-days 1 the old fetch goes, row and bytes ...
    wait_for(lambda: fetch_row(retention_server, swept["id"]) is None, timeout=RETENTION_SWEEP_WAIT, interval=0.5,
             what="the retention sweep")
    assert stored_fetch_files(retention_server, swept["id"]) == []
    assert_json_error(swept_api.get(f"/fetch/{swept['id']}"), 404, "not_found")
    # ... and without the option, the same age keeps it.
    assert fetch_row(fetch_server, kept["id"]) is not None
    assert len(stored_fetch_files(fetch_server, kept["id"])) == 1
    assert fetch_api.fetch(kept["id"])["status"] == "success"
