"""A database held by another process past the apps' busy timeout (10 s) answers 503 with
`Retry-After: 1` in each dialect's format, changes nothing, and the same request succeeds once
the lock is gone. The other process is this test: on SQLite it holds `BEGIN IMMEDIATE` on the real
file; on PostgreSQL a second connection holds every table of the stack's database `IN EXCLUSIVE MODE`
(writers wait, readers do not, as under SQLite's write lock) and the stack's connections carry a
`statement_timeout` of the same 10 s (the URL's parameter; the driver's default is 30 s)."""
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import Server, XML_HEADERS, assert_error, assert_json_error, item_xml, parse_json, wait_for

BUSY_TIMEOUT = 10  # seconds: SQLiteDatabase's default busy timeout in every app; the PostgreSQL stack's statement_timeout
HOLD = BUSY_TIMEOUT + 4


class WriteLock:
    """`BEGIN IMMEDIATE` on the server's SQLite database, from outside its processes."""

    def __init__(self, server):
        self.conn = sqlite3.connect(str(server.backend.database_path), timeout=30, isolation_level=None,
                                    check_same_thread=False)

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        self.taken = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")
        self.conn.close()


class PostgresWriteLock:
    """Every table of the stack's PostgreSQL database locked `IN EXCLUSIVE MODE` by a connection of its own."""

    def __init__(self, server):
        import psycopg
        self.conn = psycopg.connect(server.backend.database_url, autocommit=True, connect_timeout=10)

    def __enter__(self):
        tables = [r[0] for r in self.conn.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'").fetchall()]
        assert tables
        self.conn.execute("BEGIN")
        self.conn.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")
        self.taken = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.conn.execute("ROLLBACK")
        self.conn.close()


@pytest.fixture(scope="module")
def busy_server(server, tmp_path_factory):
    """The session stack on SQLite; on PostgreSQL a stack whose connections time out after BUSY_TIMEOUT."""
    if server.backend.kind == "sqlite":
        yield server
        return
    srv = Server(tmp_path_factory.mktemp("busy") / "run", label="busy")
    srv.backend.statement_timeout = f"{BUSY_TIMEOUT}s"
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
    assert srv.proc.returncode == 0, srv.logs()


def write_lock(server):
    return WriteLock(server) if server.backend.kind == "sqlite" else PostgresWriteLock(server)


def test_busy_database_is_503_with_retry_after_then_succeeds(busy_server):
    server = busy_server
    tenant = server.create_account()
    files = server.create_files_tenant()
    # serve waits for the store port only; the media port's app may still be starting.
    wait_for(lambda: files.get("/files").status_code == 200, what="files-api answering")
    before_files = files.total()
    stored = server.stored_objects()

    def store_write():
        return tenant.post("/api/items", data=item_xml("BUSY-1", name="Busy"), headers=XML_HEADERS)

    def files_write():
        return files.post("/files", files={"file": ("busy.bin", b"held" * 1000, "application/octet-stream")})

    with write_lock(server) as lock:
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
    assert server.stored_objects() == stored

    # The lock is gone: the same requests succeed.
    assert store_write().status_code == 201
    assert tenant.get("/api/items/BUSY-1").status_code == 200
    again = files_write()
    assert again.status_code == 201, again.text
    assert parse_json(again)["name"] == "busy.bin"
    assert files.total() == before_files + 1
