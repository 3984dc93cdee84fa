"""kill -9 of the worker in the middle of a URL import: the supervisor restarts it, the job's
lease runs out, the job runs again and completes exactly once (one row, one stored file,
equal bytes, the job `done`).

The server runs with a short job lease (`fetchgate serve --job-lease`, passed to the worker as
`--lease`) so the test does not wait out the 60 s default.
"""
import os
import signal
import subprocess
import time
import uuid

import pytest
import requests

from conftest import assert_json_error, running_server, sha256_file, sha256_hex, wait_for

LEASE_SECONDS = 5
RATE = 1_000_000  # bytes per second from the origin


@pytest.fixture(scope="module")
def crash_server(tmp_path_factory):
    with running_server(tmp_path_factory, "fetchgate-crash",
                        ["--allow-private-hosts", "localhost", "--job-lease", str(LEASE_SECONDS)]) as srv:
        yield srv


@pytest.fixture(scope="module")
def big_clip(tmp_path_factory):
    """A ~5-7 MB mp4 (noisy video compresses badly), so a throttled download takes seconds."""
    path = tmp_path_factory.mktemp("bigmedia") / "big.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc=size=640x480:rate=25:duration=4", "-vf", "noise=alls=60:allf=t",
                    "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "12M", "-maxrate", "12M", "-bufsize", "12M",
                    "-pix_fmt", "yuv420p", str(path)], check=True, timeout=120)
    data = path.read_bytes()
    assert len(data) >= 4_000_000, f"generated clip too small for the test: {len(data)} bytes"
    return data


def job_rows(server, file_id):
    return server.rows("SELECT id, kind, state, attempts, lease_token, last_error FROM jobs WHERE payload = ?",
                       (file_id,))


def test_kill_9_mid_import_completes_exactly_once(crash_server, origin, big_clip):
    started = time.monotonic()
    files = crash_server.create_files_tenant()
    path = origin.serve(f"/slow-{uuid.uuid4().hex}.mp4", big_clip, "video/mp4", rate=RATE)

    created = files.import_url(origin.url(path))
    file_id = created["id"]

    # The worker is downloading: the file is `processing` and bytes flow, but not all of them.
    wait_for(lambda: files.file(file_id)["status"] == "processing", timeout=10, interval=0.05, what="status processing")
    wait_for(lambda: any(r["sent"] > 0 for r in origin.requests_for(path=path)),
             timeout=10, interval=0.05, what="the download to start")
    first = origin.requests_for(path=path)
    assert len(first) == 1 and not first[0]["complete"], first
    # Not ready yet: no download link.
    assert_json_error(files.get(f"/files/{file_id}/x.mp4"), 409)

    pids = crash_server.worker_pids()
    assert len(pids) == 1, f"expected one worker for {crash_server.run_dir}, found {pids}"
    os.kill(pids[0], signal.SIGKILL)

    # The supervisor starts a new worker.
    new = wait_for(lambda: [p for p in crash_server.worker_pids() if p != pids[0]],
                   timeout=5, interval=0.05, what="a restarted worker")
    assert len(new) == 1, new
    assert pids[0] not in crash_server.worker_pids()

    # The old attempt is cut off at the origin, then the job runs again after its lease.
    wait_for(lambda: any(r.get("aborted") for r in origin.requests_for(path=path)),
             timeout=10, interval=0.05, what="the first fetch to abort")
    ready = files.wait(file_id, timeout=LEASE_SECONDS + 50)
    assert ready["status"] == "ready", ready

    assert files.total() == 1
    assert ready["size_bytes"] == len(big_clip)
    assert ready["error"] is None and ready["ffprobe"] is not None, ready
    stored = crash_server.stored_files(file_id)
    assert len(stored) == 1, stored
    assert sha256_file(stored[0]) == sha256_hex(big_clip)
    assert crash_server.stored_objects(f"m/{file_id}") == stored
    got = requests.get(files.signed_location(ready), timeout=60)
    assert got.status_code == 200 and sha256_hex(got.content) == sha256_hex(big_clip)

    (job,) = job_rows(crash_server, file_id)
    assert job["kind"] == "file-import"
    assert job["state"] == "done", job
    assert job["attempts"] == 2, f"one killed attempt and one that completed: {job}"
    assert job["lease_token"] is None

    fetches = origin.requests_for(path=path)
    assert len(fetches) == 2 and sum(1 for r in fetches if r["complete"]) == 1, fetches

    # Exactly once: after another lease period nothing runs again.
    time.sleep(LEASE_SECONDS + 1.5)
    assert len(origin.requests_for(path=path)) == 2
    (again,) = job_rows(crash_server, file_id)
    assert (again["state"], again["attempts"]) == ("done", 2), again
    assert files.file(file_id) == ready
    assert crash_server.stored_files(file_id) == stored
    # The killed attempt's partial download did not stay behind.
    assert list((crash_server.data_dir / "tmp").glob("job-*")) == []
    assert time.monotonic() - started < 90


def test_worker_keeps_working_after_restart(crash_server, origin, media):
    """The restarted worker takes new jobs at once."""
    files = crash_server.create_files_tenant()
    path = origin.serve(f"/after-{uuid.uuid4().hex}.mp4", media.mp4_bytes, "video/mp4")
    f = files.wait(files.import_url(origin.url(path))["id"])
    assert f["status"] == "ready" and f["ffprobe"] is not None, f
    assert len(crash_server.worker_pids()) == 1
