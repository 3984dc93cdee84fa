"""A database held by another process past the apps' busy timeout (10 s) answers 503 with
`Retry-After: 1` in each dialect's format, changes nothing, and the same request succeeds once
the lock is gone. The other process is this test, holding `BEGIN IMMEDIATE` on the real file."""
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import XML_HEADERS, assert_error, assert_json_error, item_xml, parse_json, wait_for

BUSY_TIMEOUT = 10  # seconds: SQLiteDatabase's default busy timeout in every app
HOLD = BUSY_TIMEOUT + 4


class WriteLock:
    """`BEGIN IMMEDIATE` on the server's database, from outside its processes."""

    def __init__(self, path):
        self.conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        self.taken = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")
        self.conn.close()


@pytest.fixture
def database(server):
    return server.run_dir / "fetchgate.sqlite"


def test_busy_database_is_503_with_retry_after_then_succeeds(server, tenant, database):
    files = server.create_files_tenant()
    # serve waits for the store port only; the media port's app may still be starting.
    wait_for(lambda: files.get("/files").status_code == 200, what="files-api answering")
    before_files = files.total()
    stored = sorted(p.name for p in (server.data_dir / "files").rglob("*") if p.is_file())

    def store_write():
        return tenant.post("/api/items", data=item_xml("BUSY-1", name="Busy"), headers=XML_HEADERS)

    def files_write():
        return files.post("/files", files={"file": ("busy.bin", b"held" * 1000, "application/octet-stream")})

    with WriteLock(database) as lock:
        with ThreadPoolExecutor(2) as pool:
            store_future, files_future = pool.submit(store_write), pool.submit(files_write)
            # Reads go on meanwhile (WAL): only writers wait for the lock.
            assert tenant.get("/api/items").status_code == 200
            store, media = store_future.result(), files_future.result()
        waited = time.monotonic() - lock.taken
        assert waited < HOLD, "the lock must outlast both requests"

    assert_error(store, 503)
    assert store.headers.get("Retry-After") == "1", dict(store.headers)
    assert_json_error(media, 503, code="busy")
    assert media.headers.get("Retry-After") == "1", dict(media.headers)
    # Nothing was half done: no item, no file row, no stored bytes.
    assert_error(tenant.get("/api/items/BUSY-1"), 404)
    assert files.total() == before_files
    assert sorted(p.name for p in (server.data_dir / "files").rglob("*") if p.is_file()) == stored

    # The lock is gone: the same requests succeed.
    assert store_write().status_code == 201
    assert tenant.get("/api/items/BUSY-1").status_code == 200
    again = files_write()
    assert again.status_code == 201, again.text
    assert parse_json(again)["name"] == "busy.bin"
    assert files.total() == before_files + 1
