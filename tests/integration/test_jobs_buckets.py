"""Bring-your-own storage through the real stack: moto in server mode (a real S3-compatible
server on loopback; it does not check signatures, so those are checked against botocore in the
Swift suite), the jobs dialect's `/user/s3`, the worker's upload, the job's `s3_url`, and
`DELETE /jobs/{id}/file` removing the object."""
import os
import signal
import urllib.parse as _urlparse
import uuid

import pytest
import requests

from conftest import assert_json_error, fetch_jobs, fetch_row, parse_json, running_server, wait_for
from support import backends as _backends
from support.fetch import JOB_LEASE_SECONDS, fetch_serve_options
from test_jobs_api import JobsClient

BUCKET = "fetchgate-tenant"
ACCESS_KEY, SECRET_KEY = "AKIAFETCHGATETEST01", "tenant-secret-key-0123456789abcdefWXYZ"


class Moto(_backends.Moto):
    """moto in server mode on one loopback port, stopped and started again on the same port (its
    buckets are in memory: the tenant's bucket is made anew at each start)."""

    def start(self):
        super().start(buckets=[BUCKET])

    def uploads(self):
        """The ids of the multipart uploads under way in the tenant's bucket (ListMultipartUploads)."""
        r = requests.get(f"{self.base}/{BUCKET}?uploads", timeout=10)
        assert r.status_code == 200, r.text
        return [u.split("</UploadId>")[0] for u in r.text.split("<UploadId>")[1:]]

    def objects(self):
        """The keys in the tenant's bucket, as moto lists them (ListObjectsV2)."""
        return self.keys(BUCKET)


@pytest.fixture
def moto():
    m = Moto()
    yield m
    if m.proc:
        m.stop()


def settings(port):
    return {"bucket": BUCKET, "region": "us-east-1", "endpoint": f"http://localhost:{port}", "path_style": True,
            "access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY, "prefix": "media/"}


@pytest.fixture(scope="module")
def buckets_server(tmp_path_factory):
    # The fetch suite's size limit (8 MB) is lifted: the multipart test sends 40 MiB.
    options = fetch_serve_options()
    options[options.index("--max-fetch-bytes") + 1] = str(64 << 20)
    with running_server(tmp_path_factory, "fetchgate-buckets", options) as srv:
        yield srv


def test_a_job_lands_in_the_accounts_bucket_and_its_file_can_be_deleted(buckets_server, moto, media_origin):
    moto.start()
    port = moto.port
    jobs = JobsClient(buckets_server, buckets_server.create_account().token)
    r = jobs.post("/user/s3", json=settings(port))
    assert r.status_code == 200, r.text
    saved = r.text
    assert SECRET_KEY not in saved and SECRET_KEY[-4:] in saved
    # The probe wrote and removed its object: the bucket is empty again.
    assert moto.objects() == []
    # An endpoint on a private address is refused before anything is asked of it.
    assert_json_error(jobs.post("/user/s3", json={**settings(port), "endpoint": "http://127.0.0.2:9"}), 400)

    job = jobs.create(media_origin.mp4_url)
    done = jobs.wait(job["id"])
    assert done["status"] == "Completed", done
    key = f"media/{done['id']}.mp4"
    assert moto.objects() == [key]
    assert done["download_url"] is None and done["s3_url"], done
    link = _urlparse.urlsplit(done["s3_url"])
    assert (link.hostname, link.port, link.path) == ("localhost", port, f"/{BUCKET}/{key}"), done["s3_url"]
    query = _urlparse.parse_qs(link.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and int(query["X-Amz-Expires"][0]) <= 7 * 86400
    got = requests.get(done["s3_url"].replace("localhost", "127.0.0.1"), timeout=10)
    assert got.status_code == 200 and got.content == media_origin.files.mp4_bytes
    assert "v.mp4" in got.headers["Content-Disposition"], got.headers
    # Nothing of it stays here.
    row = fetch_row(buckets_server, done["id"])
    assert (row["storage_key"], row["object_key"]) == (None, key)
    usage = parse_json(jobs.get("/usage"))["bytes_stored"]
    assert usage == {"local": 0, "bucket": len(media_origin.files.mp4_bytes), "total": len(media_origin.files.mp4_bytes)}

    r = jobs.delete(f"/jobs/{done['id']}/file")
    assert r.status_code == 200, r.text
    assert parse_json(r)["s3_url"] is None and parse_json(r)["file"] is None
    assert moto.objects() == []
    assert fetch_row(buckets_server, done["id"])["object_key"] is None

    r = jobs.delete("/user/s3")
    assert r.status_code == 200, r.text
    assert_json_error(jobs.delete("/user/s3"), 404)

def test_an_upload_that_fails_for_now_resumes_without_fetching_again(buckets_server, moto, media_origin):
    """The bucket's server is down when the job finishes downloading: the upload fails for now
    (`storage_failed`, the job pending again), the download is kept; the server comes back and
    the job's next attempt uploads the kept file: the origin was asked for the media once."""
    jobs = JobsClient(buckets_server, buckets_server.create_account().token)
    moto.start()
    r = jobs.post("/user/s3", json=settings(moto.port))
    assert r.status_code == 200, r.text
    moto.stop()
    name = "resume-" + uuid.uuid4().hex[:8]
    job = jobs.create(media_origin.slow_url(name, rate=50_000_000))
    row = wait_for(lambda: (lambda f: f if f["error_code"] == "storage_failed" else None)(fetch_row(buckets_server, job["id"])),
                   timeout=60, what="the first upload to fail")
    assert row["status"] == "pending", row
    fetched = len(media_origin.requests(contains=name))
    assert fetched >= 1
    # The retry (due after a 2 s backoff) is held until the server is back with the bucket made anew:
    # moto answers before its bucket exists, and a busy machine may take longer than the backoff to start it.
    [queued] = fetch_jobs(buckets_server, job["id"])
    hold = "UPDATE jobs SET run_at = run_at {} 3600 WHERE id = ? AND state = 'queued' AND attempts = 1"
    assert buckets_server.execute(hold.format("+"), (queued["id"],)) == 1, queued
    moto.start()
    assert buckets_server.execute(hold.format("-"), (queued["id"],)) == 1
    done = jobs.wait(job["id"])
    assert done["status"] == "Completed" and done["s3_url"], done
    assert moto.objects() == [f"media/{job['id']}.mp4"]
    assert len(media_origin.requests(contains=name)) == fetched
    assert fetch_jobs(buckets_server, job["id"])[0]["attempts"] == 2


def test_kill_9_during_an_upload_restarts_it_and_the_object_appears_once(buckets_server, moto, media_origin):
    """40 MiB go up in 8 MiB parts; the worker is killed while the multipart upload is under way.
    The retry (after the lease runs out) aborts the dead worker's upload of the key, uploads again,
    and the bucket ends with exactly one object, whole, and no upload left open."""
    jobs = JobsClient(buckets_server, buckets_server.create_account().token)
    moto.start()
    assert jobs.post("/user/s3", json=settings(moto.port)).status_code == 200
    name = f"big-{uuid.uuid4().hex[:8]}.mp4"
    data = os.urandom(40 << 20)
    media_origin.serve("/" + name, data, "video/mp4")
    job = jobs.create(media_origin.url("/" + name))
    wait_for(lambda: moto.uploads(), timeout=60, interval=0.05, what="the multipart upload to be under way")
    pids = buckets_server.worker_pids()
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    wait_for(lambda: [p for p in buckets_server.worker_pids() if p != pids[0]], timeout=5, interval=0.05,
             what="a restarted worker")
    done = jobs.wait(job["id"], timeout=JOB_LEASE_SECONDS + 120)
    assert done["status"] == "Completed", done
    assert moto.objects() == [f"media/{job['id']}.mp4"]
    assert moto.uploads() == []
    got = requests.get(done["s3_url"].replace("localhost", "127.0.0.1"), timeout=60)
    assert got.status_code == 200 and got.content == data
    assert fetch_jobs(buckets_server, job["id"])[0]["attempts"] == 2
