"""Disk full (issue 14): a stack whose whole run directory (SQLite database, data volume, nginx's
buffers, scratch space) is a small tmpfs. With the volume filled by a filler file:
- uploads (Files API and the store) fail with 507 `storage_failed` in the dialect's own format when
  nginx could buffer the body but the app cannot copy it (nginx's own 500 when not even the body
  fits), and leave no row and no temp file behind;
- a media fetch's attempt fails with the fetch error `storage_failed` ("No space left on device"),
  stores nothing and leaves no temp file;
- the database stays consistent (integrity_check; no ready/success row without its bytes);
- once the filler is gone, that fetch's next attempt succeeds by itself, and new uploads and fetches
  succeed, with no process restarted.
The tmpfs is unmounted in a finally, whatever happened.
"""
import os
import subprocess

import pytest

from support.files import assert_json_error, parse_json
from support.server import Server, wait_for, wait_no_temp_files
from support.store import assert_error
from mixedload import inconsistencies
from support.backends import SQLiteLocal
from support.fetch import FetchClient, fetch_serve_options, stored_fetch_files

VOLUME = "96m"
BODY = 1 << 20       # the upload that no longer fits
FILLER = "filler"


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(volume, leave):
    """Grows the filler until `leave` bytes are free on the volume."""
    path = volume / FILLER
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        more = free_bytes(volume) - leave
        if more > 0:
            os.posix_fallocate(fd, os.fstat(fd).st_size, more)
    finally:
        os.close(fd)
    return free_bytes(volume)


@pytest.fixture
def tmpfs_stack(tmp_path):
    volume = tmp_path / "volume"
    volume.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={VOLUME},mode=0755", "tmpfs", str(volume)], check=True)
    srv = None
    try:
        run = volume / "run"
        # SQLite and local disk on the tmpfs, whatever the run's backend; stray temp files swept every second.
        srv = Server(run, extra_args=fetch_serve_options() + ["--temp-max-age", "2", "--temp-sweep-interval", "1"],
                     backend=SQLiteLocal(run))
        srv.start()
        srv.volume = volume
        yield srv
    finally:
        try:
            if srv is not None:
                srv.stop(check=False)
        finally:
            subprocess.run(["umount", str(volume)], check=True)


def pids(server):
    return sorted(server.store_api_pids() + server.worker_pids())


def consistent(server):
    """integrity_check, and every row that says it has bytes has them."""
    assert inconsistencies(server) == []


def test_disk_full_fails_cleanly_and_service_resumes_when_space_returns(tmpfs_stack, media_origin, figures):
    server = tmpfs_stack
    files = server.create_files_tenant()
    store = files.store
    fetch = FetchClient(server, server.create_account().token)
    before = pids(server)
    body = os.urandom(BODY)
    files.upload("ok.bin", body[:4096])
    counts = lambda: (files.total(), len(server.rows("SELECT id FROM uploads")),
                      len(server.rows("SELECT id FROM media_files")))
    start_counts = counts()

    # Room for nginx's copy of the body, not for the app's: 507 in each dialect's format.
    left = fill(server.volume, BODY + BODY // 2)
    r = files.post("/files", files={"file": ("big.bin", body, "application/octet-stream")})
    assert_json_error(r, 507, "storage_failed")
    r = store.post("/api/uploads", files={"file": ("big.bin", body, "application/octet-stream")}, check=False)
    assert_error(r, 507)
    assert counts() == start_counts, "a failed upload left a row"
    assert wait_no_temp_files(server) == [], "a failed upload left a temp file"

    # No room even for nginx's copy of the body: nginx's own 500, in the dialect's format (nginx gives no
    # other status for a body it cannot buffer; RELIABILITY.md), and again nothing is left behind.
    fill(server.volume, BODY // 4)
    assert_json_error(files.post("/files", files={"file": ("big.bin", body, "application/octet-stream")}), 500, "internal")
    r = store.post("/api/uploads", files={"file": ("big.bin", body, "application/octet-stream")}, check=False)
    assert_error(r, 500)
    assert counts() == start_counts, "a failed upload left a row"
    assert wait_no_temp_files(server) == [], "a failed upload left a temp file"
    (server.volume / FILLER).unlink()

    # Room for the fetch's row, not for its media: the attempt fails `storage_failed` (a transient
    # error: retried after a backoff of 2 s, then 4 s …) and stores nothing.
    fill(server.volume, 512 * 1024)
    url = media_origin.slow_url("disk-full", rate=50_000_000)
    fetch_id = fetch.create(url)["id"]
    row = lambda: server.rows("SELECT status, error_code, error_message, attempts FROM fetches f "
                              "JOIN jobs j ON j.kind = 'media.fetch' AND j.payload = f.public_id "
                              "WHERE f.public_id = ?", (fetch_id,))[0]
    wait_for(lambda: row()["error_code"] == "storage_failed", timeout=60, what="the fetch's storage_failed")
    shown = parse_json(fetch.get(f"/fetch/{fetch_id}"))
    assert shown["error"]["code"] == "storage_failed" and "No space left" in shown["error"]["message"], shown
    assert shown["download_url"] is None and stored_fetch_files(server, fetch_id) == []
    assert wait_no_temp_files(server, seconds=10) == [], "a failed fetch left a temp file"
    consistent(server)

    # Space returns: the fetch's next attempt succeeds by itself, and so do new uploads and fetches,
    # on the same processes.
    (server.volume / FILLER).unlink()
    # (Polled raw: while it waits for its retry the fetch is `pending` and shows the last attempt's
    # error, which FetchClient.wait's object check does not expect.)
    wait_for(lambda: parse_json(fetch.get(f"/fetch/{fetch_id}"))["status"] == "success", timeout=60,
             what="the fetch's retry succeeding once space returned")
    assert len(stored_fetch_files(server, fetch_id)) == 1
    attempts = row()["attempts"]
    f = files.upload("after.bin", body)
    assert files.wait(f["id"])["status"] == "ready"
    store.upload("after.bin", body)
    done = fetch.wait(fetch.create(media_origin.slow_url("disk-back", rate=50_000_000))["id"])
    assert done["status"] == "success", done
    assert len(stored_fetch_files(server, done["id"])) == 1
    assert pids(server) == before, "a process was restarted"
    consistent(server)
    figures.record("disk_full", volume=VOLUME, free_at_upload_bytes=left, upload_status=507,
                   fetch_error="storage_failed",
                   fetch_attempts_until_success=attempts, restarts=0)
