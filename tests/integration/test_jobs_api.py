"""The download jobs dialect (seed 002, issue 11) through the real nginx, the worker and the pinned
yt-dlp against the local media origin: create → Completed, cancel (the process group gone within a
second), retry, bulk (all or nothing), paused batches (rename, start), the exact cap under 50
concurrent creators (a stack with `--job-cap 20`), usage, signed job webhooks, the error shape.
"""
import collections
import concurrent.futures
import json
import threading
import time
import urllib.parse as _urlparse
import uuid

import pytest
import requests

from conftest import (FilesClient, assert_json_error, fetch_jobs, fetch_row, parse_json, processes_mentioning,
                      running_server, wait_for, webhook_secret)
from support.files import assert_download_location
from support.fetch import fetch_serve_options, query, stored_fetch_files
from support.media_origin import PLAYLIST_TITLE

JOB_CAP = 20
JOB_KEYS = {"id", "url", "status", "step", "progress", "error", "error_type", "created_at", "updated_at", "file",
            "download_url", "s3_url", "batch_id"}
STATUSES = {"Pending", "Processing", "Completed", "Failed", "Cancelled"}
STEPS = {"queued", "downloading", "converting", "uploading", "done"}
TIMEOUT = 60


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory):
    with running_server(tmp_path_factory, "fetchgate-jobs", fetch_serve_options() + ["--job-cap", str(JOB_CAP)]) as srv:
        yield srv


class JobsClient(FilesClient):
    def create(self, url, expect=201, **options):
        r = self.post("/jobs", json={"url": url, **options})
        assert r.status_code == expect, f"POST /jobs: {r.status_code} {r.text[:300]}"
        return check_job(parse_json(r)) if expect == 201 else r

    def file(self, job_id):
        """The job (what `FilesClient.wait` polls)."""
        r = self.get(f"/jobs/{job_id}")
        assert r.status_code == 200, f"GET /jobs/{job_id}: {r.status_code} {r.text[:300]}"
        return check_job(parse_json(r))

    job = file

    def wait(self, job_id, until=("Completed", "Failed", "Cancelled"), timeout=TIMEOUT):
        return super().wait(job_id, timeout=timeout, until=until)

    def batch(self, batch_id):
        r = self.get(f"/batch/{batch_id}")
        assert r.status_code == 200, f"GET /batch/{batch_id}: {r.status_code} {r.text[:300]}"
        return parse_json(r)


def check_job(j):
    assert set(j) == JOB_KEYS, sorted(j)
    assert j["status"] in STATUSES and (j["step"] is None or j["step"] in STEPS), j
    assert isinstance(j["created_at"], int) and j["updated_at"] >= j["created_at"] > 1_600_000_000_000, j
    # A job's file is ours (download_url) or in the account's bucket (s3_url), never both.
    assert j["s3_url"] is None or (j["download_url"] is None and j["status"] == "Completed"), j
    if j["status"] == "Completed":
        assert j["error"] is None and j["progress"] == 100, j
        # No file once it was deleted (DELETE /jobs/{id}/file).
        assert j["file"] is None and j["download_url"] is None or set(j["file"]) == {"name", "size", "content_type"}, j
    if j["status"] in ("Failed", "Cancelled"):
        assert j["error"] and j["error_type"], j
    return j


@pytest.fixture
def jobs(jobs_server):
    store = jobs_server.create_account()
    client = JobsClient(jobs_server, store.token)
    client.store = store
    return client


def active(server, client):
    account = query(server, "SELECT account_id FROM credentials WHERE api_key = ?", (client.store.key,))[0]["account_id"]
    return query(server, "SELECT COUNT(*) AS n FROM fetches WHERE account_id = ? AND status IN ('pending', 'running')",
                 (account,))[0]["n"], account


# ------------------------------------------------------------------------------------------ create

def test_create_runs_to_completed_with_a_signed_download(jobs_server, jobs, media_origin, media_files):
    created = jobs.create(media_origin.mp4_url, format="mp4")
    assert (created["status"], created["step"], created["batch_id"], created["file"]) == ("Pending", "queued", None, None)
    assert fetch_row(jobs_server, created["id"])["origin"] == "jobs"
    j = jobs.wait(created["id"])
    assert j["status"] == "Completed", f"{j}\n{jobs_server.logs()}"
    assert j["step"] == "done" and j["file"] == {"name": "v.mp4", "size": len(media_files.mp4_bytes), "content_type": "video/mp4"}
    assert j["download_url"] == f"{jobs_server.media_url}/jobs/{j['id']}/file/v.mp4"
    r = jobs.get(_urlparse.urlsplit(j["download_url"]).path)
    assert r.status_code == 302, r.text
    assert_download_location(jobs_server, r.headers["Location"], f"f/{j['id']}.mp4", "v.mp4", "video/mp4")
    got = requests.get(r.headers["Location"], timeout=30)
    assert got.status_code == 200 and got.content == media_files.mp4_bytes
    # The header name's case does not matter.
    assert requests.get(f"{jobs_server.media_url}/jobs/{j['id']}", headers={"x-api-key": jobs.token}, timeout=10).status_code == 200
    # Delete the file, keep the job.
    r = jobs.delete(f"/jobs/{j['id']}/file")
    assert r.status_code == 200, r.text
    kept = check_job(parse_json(r))
    assert (kept["status"], kept["file"], kept["download_url"]) == ("Completed", None, None)
    assert stored_fetch_files(jobs_server, j["id"]) == []
    assert_json_error(jobs.delete(f"/jobs/{j['id']}/file"), 404, "not_found")


def test_options_are_typed_and_the_error_shape_is_one(jobs_server, jobs, media_origin):
    url = media_origin.mp4_url
    for body, code in [({"url": url, "format": "avi"}, "invalid_option"), ({"url": url, "quality": "4k"}, "invalid_quality"),
                       ({"url": url, "max_resolution": "1000"}, "invalid_option"),
                       ({"url": url, "start_time": 10, "end_time": 5}, "invalid_option"),
                       ({"url": url, "subtitles": ["en;rm"]}, "invalid_option"), ({"url": url, "audio_only": "yes"}, "invalid_option"),
                       ({"url": url, "filename": ["x"]}, "invalid_option"), ({}, "bad_request"),
                       ({"url": "http://10.0.0.1/v.mp4"}, "url_not_allowed")]:
        err = assert_json_error(jobs.post("/jobs", json=body), 400, code)
        assert set(err) == {"code", "message"} and err["message"], err
    assert_json_error(requests.get(f"{jobs_server.media_url}/jobs", timeout=10), 401, "unauthorized")
    assert_json_error(jobs.get(f"/jobs/{uuid.uuid4()}"), 404, "not_found")
    assert_json_error(jobs.get(f"/batch/{uuid.uuid4()}"), 404, "not_found")
    account = active(jobs_server, jobs)[1]
    assert query(jobs_server, "SELECT COUNT(*) AS n FROM fetches WHERE account_id = ?", (account,))[0]["n"] == 0
    # Valid options are stored typed.
    j = jobs.create(url, quality="1440p", start_time="0:01", end_time=1.5, subtitles=["en", "pt-BR"], subtitle_mode="sidecar",
                    audio_only=True, filename="Clip", paused=True)
    stored = json.loads(fetch_row(jobs_server, j["id"])["options"])
    assert (stored["maxHeight"], stored["clipStart"], stored["clipEnd"], stored["subtitles"], stored["subtitleMode"],
            stored["audioOnly"], stored["filename"]) == (1440, 1.0, 1.5, ["en", "pt-BR"], "sidecar", True, "Clip"), stored


# ------------------------------------------------------------------------------------------ cancel, retry

def test_cancel_kills_a_running_job_within_a_second_then_409(jobs_server, jobs, media_origin):
    url = media_origin.slow_url(f"jobcancel-{uuid.uuid4().hex[:8]}", rate=100_000)
    j = jobs.create(url)
    wait_for(lambda: processes_mentioning(url), timeout=30, interval=0.05, what="yt-dlp to start")
    assert jobs.job(j["id"])["status"] == "Processing"
    asked = time.monotonic()
    r = jobs.delete(f"/jobs/{j['id']}")
    assert r.status_code == 200, r.text
    left = max(0.0, 1.0 - (time.monotonic() - asked))
    wait_for(lambda: not processes_mentioning(url), timeout=left, interval=0.02, what="the process group to go")
    assert time.monotonic() - asked <= 1.05
    cancelled = check_job(parse_json(r))
    assert (cancelled["status"], cancelled["error_type"]) == ("Cancelled", "cancelled"), cancelled
    assert [x["state"] for x in fetch_jobs(jobs_server, j["id"])] == ["cancelled"]
    assert_json_error(jobs.delete(f"/jobs/{j['id']}"), 409, "conflict")

    # Retry of a Cancelled job: a new job with the same URL.
    r = jobs.post(f"/jobs/{j['id']}/retry")
    assert r.status_code == 201, r.text
    again = check_job(parse_json(r))
    assert again["id"] != j["id"] and again["url"] == url and again["status"] in ("Pending", "Processing"), again
    assert jobs.delete(f"/jobs/{again['id']}").status_code == 200


def test_retry_of_failed_and_409_on_completed(jobs_server, jobs, media_origin):
    failed = jobs.wait(jobs.create(media_origin.missing_url)["id"])
    assert failed["status"] == "Failed" and failed["error_type"] == "unavailable", failed
    r = jobs.post(f"/jobs/{failed['id']}/retry")
    assert r.status_code == 201, r.text
    assert jobs.wait(parse_json(r)["id"])["status"] == "Failed"
    done = jobs.wait(jobs.create(media_origin.mp4_url)["id"])
    assert done["status"] == "Completed"
    assert_json_error(jobs.post(f"/jobs/{done['id']}/retry"), 409, "conflict")
    assert_json_error(jobs.delete(f"/jobs/{done['id']}"), 409, "conflict")
    # Usage: this account's jobs, its stored bytes, the limits.
    r = jobs.get("/usage")
    assert r.status_code == 200, r.text
    usage = parse_json(r)
    assert usage["jobs"] == {"Pending": 0, "Processing": 0, "Completed": 1, "Failed": 2, "Cancelled": 0, "total": 3}, usage
    assert usage["active_jobs"] == 0
    assert usage["bytes_stored"] == {"local": done["file"]["size"], "bucket": 0, "total": done["file"]["size"]}
    assert usage["limits"] == {"active_jobs": JOB_CAP, "bulk_urls": 100}


# ------------------------------------------------------------------------------------------ bulk, batches

def test_bulk_over_100_is_400_and_creates_nothing(jobs_server, jobs, media_origin):
    assert_json_error(jobs.post("/jobs/bulk", json={"urls": [media_origin.mp4_url] * 101}), 400, "bad_request")
    # One refused URL refuses the whole bulk.
    assert_json_error(jobs.post("/jobs/bulk", json={"urls": [media_origin.mp4_url, "http://10.1.2.3/x"]}), 400, "url_not_allowed")
    assert active(jobs_server, jobs)[0] == 0
    assert query(jobs_server, "SELECT COUNT(*) AS n FROM batches WHERE account_id = ?", (active(jobs_server, jobs)[1],))[0]["n"] == 0
    assert_json_error(jobs.post("/jobs/bulk", json={"playlist_url": media_origin.playlist_url, "limit": 101}), 400, "bad_request")
    # A playlist page that needs a refused address is refused by the guard: nothing made.
    assert_json_error(jobs.post("/jobs/bulk", json={"playlist_url": media_origin.url("/go/127.0.0.2"), "limit": 5}),
                      422, "blocked_address")
    assert active(jobs_server, jobs)[0] == 0


def test_playlist_becomes_a_paused_batch(jobs_server, jobs, media_origin, forbidden_target):
    """A page with three <video> tags, limit 2: a paused batch of the first two entries, each
    named by its title; renamed, started, completed."""
    r = jobs.post("/jobs/bulk", json={"playlist_url": media_origin.playlist_url, "limit": 2})
    assert r.status_code == 201, r.text
    made = parse_json(r)
    assert made["status"] == "paused" and len(made["job_ids"]) == 2, made
    b = jobs.batch(made["batch_id"])
    assert [j["url"] for j in b["jobs"]] == [media_origin.url("/v.mp4?n=1"), media_origin.url("/v.mp4?n=2")], b
    assert [json.loads(fetch_row(jobs_server, j)["options"])["filename"] for j in made["job_ids"]] == \
        [f"{PLAYLIST_TITLE} (1)", f"{PLAYLIST_TITLE} (2)"]
    r = jobs.request("PATCH", f"/batch/{made['batch_id']}/jobs", json={"jobs": [{"id": made["job_ids"][1], "filename": "Second"}]})
    assert r.status_code == 200, r.text
    assert jobs.post(f"/batch/{made['batch_id']}/start").status_code == 200
    done = [jobs.wait(j) for j in made["job_ids"]]
    assert [d["status"] for d in done] == ["Completed", "Completed"], done
    assert [d["file"]["name"] for d in done] == [f"{PLAYLIST_TITLE} (1).mp4", "Second.mp4"], done
    assert forbidden_target.hits == 0


def test_paused_batch_rename_start_and_its_webhooks(jobs_server, jobs, media_origin, webhook_receiver):
    name = uuid.uuid4().hex[:8]
    webhook_receiver.secret(name, webhook_secret(jobs_server, jobs.store.key))
    hook = webhook_receiver.url(name)
    r = jobs.post("/jobs/bulk", json={"urls": [media_origin.mp4_url, media_origin.page_url], "paused": True, "webhook_url": hook})
    assert r.status_code == 201, r.text
    made = parse_json(r)
    assert set(made) == {"batch_id", "status", "job_ids"} and made["status"] == "paused" and len(made["job_ids"]) == 2
    batch_id, (first, second) = made["batch_id"], made["job_ids"]
    time.sleep(1)
    b = jobs.batch(batch_id)
    assert (b["status"], b["total"], b["counts"]["Pending"], b["progress"]) == ("paused", 2, 2, 0), b
    assert [j["id"] for j in b["jobs"]] == [first, second] and all(j["batch_id"] == batch_id for j in b["jobs"])
    assert fetch_jobs(jobs_server, first) == [] and fetch_row(jobs_server, first)["step"] == "paused"
    listed = parse_json(jobs.get("/jobs", params={"batch_id": batch_id}))
    assert [j["id"] for j in listed["jobs"]] == [second, first] and listed["has_more"] is False

    r = jobs.request("PATCH", f"/batch/{batch_id}/jobs", json={"jobs": [{"id": first, "filename": "Renamed one"}]})
    assert r.status_code == 200, r.text
    assert json.loads(fetch_row(jobs_server, first)["options"])["filename"] == "Renamed one"
    # A job of another batch, or a bad name: nothing renamed.
    assert_json_error(jobs.request("PATCH", f"/batch/{batch_id}/jobs",
                                   json={"jobs": [{"id": second, "filename": "ok"}, {"id": str(uuid.uuid4()), "filename": "x"}]}),
                      400, "bad_request")
    assert fetch_row(jobs_server, second)["options"] is None

    r = jobs.post(f"/batch/{batch_id}/start")
    assert r.status_code == 200, r.text
    assert parse_json(r)["status"] == "started"
    assert_json_error(jobs.post(f"/batch/{batch_id}/start"), 409, "conflict")
    assert_json_error(jobs.request("PATCH", f"/batch/{batch_id}/jobs", json={"jobs": [{"id": first, "filename": "late"}]}),
                      409, "conflict")
    for job_id in (first, second):
        assert jobs.wait(job_id)["status"] == "Completed"
    b = jobs.batch(batch_id)
    assert (b["status"], b["counts"]["Completed"], b["progress"]) == ("completed", 2, 100), b

    got = wait_for(lambda: (lambda d: d if len(d) >= 3 else None)(webhook_receiver.received(name)), timeout=20,
                   what="two job webhooks and the batch's")
    time.sleep(0.5)
    got = webhook_receiver.received(name)
    assert len(got) == 3 and all(d["verified"] for d in got), got
    events = sorted((d["payload"]["type"], d["payload"]["data"]["id"]) for d in got)
    assert events == sorted([("job.completed", first), ("job.completed", second), ("batch.completed", batch_id)]), events
    for d in got:
        assert set(d["payload"]) == {"type", "timestamp", "data"}
        if d["payload"]["type"] == "job.completed":
            check_job(d["payload"]["data"])
            assert d["payload"]["data"]["status"] == "Completed"
        else:
            assert d["payload"]["data"]["counts"]["Completed"] == 2


def test_failed_job_webhook(jobs_server, jobs, media_origin, webhook_receiver):
    name = uuid.uuid4().hex[:8]
    webhook_receiver.secret(name, webhook_secret(jobs_server, jobs.store.key))
    j = jobs.wait(jobs.create(media_origin.missing_url, webhook_url=webhook_receiver.url(name))["id"])
    got = wait_for(lambda: webhook_receiver.received(name), timeout=15, what="the webhook")
    assert len(got) == 1 and got[0]["verified"], got
    assert got[0]["payload"]["type"] == "job.failed" and got[0]["payload"]["data"] == j


# ------------------------------------------------------------------------------------------ the cap

def test_cap_is_exact_under_50_concurrent_creators(jobs_server, jobs, media_origin):
    url = media_origin.slow_url(f"cap-{uuid.uuid4().hex[:8]}", rate=20_000)
    most = [0]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            most[0] = max(most[0], active(jobs_server, jobs)[0])
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    barrier = threading.Barrier(50)

    def creator(i):
        barrier.wait()
        out = []
        for n in range(2):
            body = {"url": url, "paused": (i + n) % 2 == 0}
            r = jobs.post("/jobs", json=body)
            out.append((r.status_code, r.headers.get("Retry-After"), r.text))
        return out

    try:
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            results = [x for xs in pool.map(creator, range(50)) for x in xs]
        # A bulk at the cap is refused whole.
        r = jobs.post("/jobs/bulk", json={"urls": [url] * 2})
    finally:
        stop.set()
        watcher.join()
    created = [t for s, _, t in results if s == 201]
    refused = [(s, ra, t) for s, ra, t in results if s != 201]
    assert len(created) == JOB_CAP, [s for s, _, _ in results]
    assert all(s == 429 and ra == "5" and json.loads(t)["error"]["code"] == "too_many_jobs" for s, ra, t in refused), \
        (collections.Counter((s, json.loads(t)["error"]["code"]) for s, _, t in refused), refused[:3])
    assert len(refused) == 100 - JOB_CAP
    assert most[0] == JOB_CAP
    assert_json_error(r, 429, "too_many_jobs")
    assert r.headers["Retry-After"] == "5"
    assert active(jobs_server, jobs)[0] == JOB_CAP
    # Cancelling one frees one place.
    one = json.loads(created[0])["id"]
    assert jobs.delete(f"/jobs/{one}").status_code == 200
    assert jobs.post("/jobs", json={"url": url, "paused": True}).status_code == 201
    assert_json_error(jobs.post("/jobs", json={"url": url, "paused": True}), 429, "too_many_jobs")
    # Clean up: nothing of this account keeps running.
    for j in parse_json(jobs.get("/jobs", params={"per_page": 100}))["jobs"]:
        if j["status"] in ("Pending", "Processing"):
            assert jobs.delete(f"/jobs/{j['id']}").status_code == 200
    wait_for(lambda: not processes_mentioning(url), timeout=5, what="no yt-dlp left")


def test_list_filters_and_pages_by_cursor(jobs_server, jobs, media_origin):
    ids = [jobs.create(media_origin.mp4_url, paused=True)["id"] for _ in range(5)]
    assert jobs.delete(f"/jobs/{ids[1]}").status_code == 200
    seen, after = [], None
    while True:
        params = {"per_page": 2, **({"after": after} if after else {})}
        page = parse_json(jobs.get("/jobs", params=params))
        assert set(page) == {"jobs", "per_page", "has_more", "next_cursor"}, page
        seen += [j["id"] for j in page["jobs"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        after = page["next_cursor"]
    assert seen == ids[::-1]
    cancelled = parse_json(jobs.get("/jobs", params={"status": "Cancelled"}))["jobs"]
    assert [j["id"] for j in cancelled] == [ids[1]]
    assert len(parse_json(jobs.get("/jobs", params={"status": "Pending"}))["jobs"]) == 4
    assert_json_error(jobs.get("/jobs", params={"status": "done"}), 400, "bad_request")
    assert_json_error(jobs.get("/jobs", params={"after": "abc"}), 400, "bad_request")
