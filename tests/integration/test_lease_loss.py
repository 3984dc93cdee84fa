"""A lost lease stops the running job (issue 9). The worker's heartbeat, which extends a running
job's lease every third of its length, marks the lease lost when the job row no longer carries
its token: another worker claimed the job after the lease ran out, or the job was cancelled.
The handler then stops at once: an import's transfer is cut off at the origin, and the attempt
records nothing, neither on the job (another worker's now) nor on the file. Before, only the
fencing at completion protected the result, and the download ran to its end.

The server runs with a 3 s lease (`fetchgate serve --job-lease`), so the heartbeat beats every
second; the origin sends slowly enough that a transfer left running would take half a minute.
"""
import time
import uuid

import pytest

from conftest import running_server, sha256_file, sha256_hex, wait_for

LEASE_SECONDS = 3
RATE = 100_000         # bytes per second from the origin
SIZE = 3_000_000       # 30 s at RATE
STOP_SECONDS = LEASE_SECONDS / 3 + 2  # one heartbeat, and the origin noticing the closed connection


@pytest.fixture(scope="module")
def lease_server(tmp_path_factory):
    with running_server(tmp_path_factory, "fetchgate-lease",
                        ["--allow-private-hosts", "localhost", "--job-lease", str(LEASE_SECONDS)]) as srv:
        yield srv


def job_of(server, file_id):
    (row,) = server.rows("SELECT id, kind, state, attempts, lease_token, last_error FROM jobs WHERE subject_id = ?",
                         (file_id,))
    return row


def set_lease(server, job_id, token, expires_at):
    changed = server.execute("UPDATE jobs SET lease_token = ?, lease_expires_at = ? WHERE id = ? AND state = 'running'",
                             (token, expires_at, job_id))
    assert changed == 1, f"job {job_id} is not running"


def worker_log(server):
    return (server.run_dir / "logs" / "worker.log").read_text(errors="replace")


def start_slow_import(server, origin, tag):
    files = server.create_files_tenant()
    body = (bytes(range(256)) * (SIZE // 256 + 1))[:SIZE]
    path = origin.serve(f"/{tag}-{uuid.uuid4().hex}.bin", body, rate=RATE)
    file_id = files.import_url(origin.url(path))["id"]
    wait_for(lambda: any(r["sent"] > 0 for r in origin.requests_for(path=path)), timeout=10, interval=0.05,
             what="the download to start")
    assert files.file(file_id)["status"] == "processing"
    return files, body, path, file_id


def wait_for_abort(origin, path, since):
    wait_for(lambda: any(r.get("aborted") for r in origin.requests_for(path=path)), timeout=STOP_SECONDS + 5,
             interval=0.05, what="the transfer to be cut off")
    took = time.monotonic() - since
    (fetch,) = origin.requests_for(path=path)
    assert not fetch["complete"] and fetch["sent"] < SIZE / 2, fetch
    assert took < STOP_SECONDS, f"the transfer went on for {took:.1f} s after the lease was lost"
    return took


def test_a_lost_lease_stops_a_running_import(lease_server, origin):
    files, body, path, file_id = start_slow_import(lease_server, origin, "stolen")
    job = job_of(lease_server, file_id)
    assert (job["kind"], job["state"], job["attempts"]) == ("file-import", "running", 1), job

    # Another worker takes the job over, as one that claimed it after the lease ran out would.
    set_lease(lease_server, job["id"], "another-worker", int(time.time()) + 3600)
    wait_for_abort(origin, path, time.monotonic())

    # The stopped attempt records nothing, even after a few more heartbeats would have run.
    time.sleep(LEASE_SECONDS)
    after = job_of(lease_server, file_id)
    assert (after["state"], after["attempts"], after["lease_token"], after["last_error"]) == \
        ("running", 1, "another-worker", None), after
    f = files.file(file_id)
    assert (f["status"], f["error"], f["size_bytes"]) == ("processing", None, None), f
    assert lease_server.stored_files(file_id) == []
    assert list((lease_server.data_dir / "tmp").glob("job-*")) == [], "the partial download is removed"
    assert f"job {job['id']} (file-import) attempt 1 stopped: it lost its lease" in worker_log(lease_server)
    assert len(origin.requests_for(path=path)) == 1

    # The other worker's lease runs out without it finishing: this worker takes the job again.
    origin.serve(path, body)  # full speed now
    set_lease(lease_server, job["id"], "another-worker", 0)
    ready = files.wait(file_id, timeout=30)
    assert ready["status"] == "ready" and ready["size_bytes"] == SIZE, ready
    (stored,) = lease_server.stored_files(file_id)
    assert sha256_file(stored) == sha256_hex(body)
    done = job_of(lease_server, file_id)
    assert (done["state"], done["attempts"], done["lease_token"]) == ("done", 2, None), done


def test_deleting_a_file_stops_its_running_import(lease_server, origin):
    """Deleting cancels the file's jobs by subject; the running one loses its lease and stops."""
    files, body, path, file_id = start_slow_import(lease_server, origin, "deleted")
    job = job_of(lease_server, file_id)
    deleted = time.monotonic()
    assert files.delete(f"/files/{file_id}").status_code == 200
    wait_for_abort(origin, path, deleted)
    time.sleep(LEASE_SECONDS)
    after = job_of(lease_server, file_id)
    assert (after["state"], after["attempts"], after["lease_token"]) == ("cancelled", 1, None), after
    assert files.get(f"/files/{file_id}").status_code == 404
    assert lease_server.stored_files(file_id) == []
    assert f"job {job['id']} (file-import) attempt 1 stopped: it lost its lease" in worker_log(lease_server)
