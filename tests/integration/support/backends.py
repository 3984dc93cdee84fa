"""Where a test stack keeps its rows and its stored files (issue 13), chosen once per pytest run by
`FETCHGATE_TEST_BACKEND`:

- `sqlite` (the default): each `fetchgate serve` its run directory's SQLite file and data/files/;
- `postgres-s3`: one throwaway PostgreSQL 15 cluster (tests/support/pgcluster.sh) and one moto
  server for the whole run; each `fetchgate serve` a fresh database of its own in the cluster and a
  prefix of its own in one bucket (`--database-url`, `--storage-url`, `--storage-credentials-file`).

A test reads what a stack stored only through its backend: `rows(sql, params)` and `execute(sql,
params)` (SQL with `?` placeholders, run on whichever engine), `objects(prefix)` (the stored files
under a storage key prefix such as "m/": local `Path`s, or `BucketObject`s with the same `name`,
`read_bytes()` and `stat().st_size`). Nothing else in the suite names an engine or a store kind.
"""
import atexit
import contextlib as _contextlib
import itertools
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse as _urlparse
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[3]
PGCLUSTER = REPO / "tests" / "support" / "pgcluster.sh"

KIND = os.environ.get("FETCHGATE_TEST_BACKEND", "sqlite")
KINDS = ("sqlite", "postgres-s3")
assert KIND in KINDS, f"FETCHGATE_TEST_BACKEND={KIND!r}: expected one of {KINDS}"

STORAGE_BUCKET = "fetchgate-own-storage"
STORAGE_KEY, STORAGE_SECRET = "AKIAFETCHGATESTORE01", "own-storage-secret-key-0123456789abcdefWX"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sqlite_rows(path, sql, params=()):
    """Rows of a read-only query of the SQLite database at `path`, as dicts."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


def sqlite_execute(path, sql, params=()):
    """One statement on the SQLite database at `path` (autocommit); the number of rows it changed."""
    con = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        return con.execute(sql, params).rowcount
    finally:
        con.close()


# --------------------------------------------------------------------------- moto (S3 on loopback)

class Moto:
    """moto in server mode on one loopback port (its buckets live in memory, made anew at each start)."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self._client = None

    def start(self, buckets=()):
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.base + "/", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or slow to answer its first
                assert self.proc.poll() is None, f"moto exited with {self.proc.returncode}"
                assert time.monotonic() < deadline, "moto did not start"
                time.sleep(0.2)
        for bucket in buckets:
            assert requests.put(f"{self.base}/{bucket}", timeout=10).status_code == 200

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def keys(self, bucket, prefix=""):
        """Every key of `bucket` under `prefix`, as moto lists them (ListObjectsV2, all pages)."""
        keys, token = [], None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            r = requests.get(f"{self.base}/{bucket}?{_urlparse.urlencode(query)}", timeout=10)
            assert r.status_code == 200, r.text
            keys += [_unescape(k.split("</Key>")[0]) for k in r.text.split("<Key>")[1:]]
            if "<IsTruncated>true</IsTruncated>" not in r.text:
                return sorted(keys)
            token = _unescape(r.text.split("<NextContinuationToken>")[1].split("</NextContinuationToken>")[0])

    def client(self):
        """A boto3 S3 client of this server: moto refuses unsigned reads of objects (it checks no signature)."""
        if self._client is None:
            import boto3
            self._client = boto3.client("s3", endpoint_url=self.base, region_name="us-east-1",
                                        aws_access_key_id=STORAGE_KEY, aws_secret_access_key=STORAGE_SECRET)
        return self._client

    def get(self, bucket, key):
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def head(self, bucket, key):
        return {"Content-Length": str(self.client().head_object(Bucket=bucket, Key=key)["ContentLength"])}

    def put(self, bucket, key, content):
        self.client().put_object(Bucket=bucket, Key=key, Body=content)

    def delete(self, bucket, key):
        self.client().delete_object(Bucket=bucket, Key=key)

    def _signed(self, method, bucket, key):
        """A presigned URL of one object (moto refuses unsigned requests for objects: they are private)."""
        return self.client().generate_presigned_url(method, Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)


def _unescape(text):
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'") \
        .replace("&amp;", "&")


class BucketObject:
    """One stored file in the bucket, read like the `Path` of a local one (`name`, `read_bytes()`,
    `stat().st_size`); `key` is its storage key under the stack's prefix (e.g. "m/<id>.mp4")."""

    def __init__(self, moto, bucket, full_key, key):
        self.moto, self.bucket, self.full_key, self.key = moto, bucket, full_key, key
        self.name = key.rsplit("/", 1)[-1]

    def read_bytes(self):
        return self.moto.get(self.bucket, self.full_key)

    def stat(self):
        size = int(self.moto.head(self.bucket, self.full_key)["Content-Length"])
        return os.stat_result((0o100600, 0, 0, 1, 0, 0, size, 0, 0, 0))

    def is_file(self):
        return True

    def exists(self):
        """Whether the bucket still holds the object (HEAD)."""
        r = requests.head(self.moto._signed("head_object", self.bucket, self.full_key), timeout=10)
        assert r.status_code in (200, 404), f"HEAD {self.full_key}: {r.status_code}"
        return r.status_code == 200

    def unlink(self):
        self.moto.delete(self.bucket, self.full_key)

    def __eq__(self, other):
        return isinstance(other, BucketObject) and (self.bucket, self.full_key) == (other.bucket, other.full_key)

    def __lt__(self, other):
        return self.full_key < other.full_key

    def __hash__(self):
        return hash((self.bucket, self.full_key))

    def __repr__(self):
        return f"s3://{self.bucket}/{self.full_key}"


# --------------------------------------------------------------------------- backends of one stack

class SQLiteLocal:
    """The default: the run directory's SQLite file and its data/files/ directory."""
    kind = "sqlite"
    gone_link_status = 404  # nginx's answer to a signed /dl/ link whose file was removed

    def __init__(self, run_dir, label=None):
        self.run_dir = Path(run_dir)
        self.database_path = self.run_dir / "fetchgate.sqlite"
        self.files_dir = self.run_dir / "data" / "files"

    def serve_options(self):
        return []

    def rows(self, sql, params=()):
        return sqlite_rows(self.database_path, sql, params)

    def execute(self, sql, params=()):
        return sqlite_execute(self.database_path, sql, params)

    def tables(self):
        """The names of the database's tables (none before the first start: no file yet)."""
        if not self.database_path.exists():
            return []
        return [r["name"] for r in self.rows("SELECT name FROM sqlite_master WHERE type = 'table' "
                                             "AND name NOT LIKE 'sqlite_%' ORDER BY name")]

    def objects(self, prefix=""):
        """The stored files whose storage key starts with `prefix` ("m/", "f/abc"), as paths."""
        directory, _, start = prefix.rpartition("/")
        root = self.files_dir / directory if directory else self.files_dir
        if not root.is_dir():
            return []
        found = root.rglob("*") if not prefix else root.glob(f"{start}*")
        return sorted(p for p in found if p.is_file())

    def download_link(self, key, media_url):
        """(origin, path) of the link a download of storage key `key` 302s to: nginx's signed /dl/ link."""
        return media_url, f"/dl/{key}"

    def put(self, key, content):
        """Stores `content` under storage key `key` as `serve` would; the stored file (a path)."""
        path = self.files_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path


class _PostgresRows:
    """`rows`, `execute` and `tables` on the PostgreSQL database at `self.database_url`."""

    def rows(self, sql, params=()):
        return _pg_rows(self.database_url, sql, params)

    def execute(self, sql, params=()):
        return _pg_execute(self.database_url, sql, params)

    def tables(self):
        return _pg_tables(self.database_url)


class PostgresS3(_PostgresRows):
    """A database of its own in the run's PostgreSQL cluster and a prefix of its own in the run's bucket."""
    kind = "postgres-s3"
    gone_link_status = 403  # the bucket's answer to a presigned GET of a removed key (S3 without ListBucket)
    _numbers = itertools.count(1)

    def __init__(self, run_dir, label=None, moto=None):
        shared = SharedServers.get()
        self.shared = shared
        self.moto = moto or shared.moto
        n = next(PostgresS3._numbers)
        tag = re.sub(r"[^a-z0-9]+", "_", (label or Path(run_dir).parent.name).lower()).strip("_")[:30] or "stack"
        self.database = f"fg_{n}_{tag}"
        self.database_url = shared.create_database(self.database)
        self.prefix = f"{n}-{tag.replace('_', '-')}"
        self.storage_url = (f"s3://{STORAGE_BUCKET}/{self.prefix}?endpoint={self.moto.base}&region=us-east-1")

    # The driver's `statement_timeout` URL parameter for `serve` (e.g. "10s"); None: the driver's default.
    statement_timeout = None

    def serve_options(self):
        url = self.database_url + (f"?statement_timeout={self.statement_timeout}" if self.statement_timeout else "")
        return ["--database-url", url, "--storage-url", self.storage_url,
                "--storage-credentials-file", str(self.shared.credentials_file)]

    def objects(self, prefix=""):
        moto = self.moto
        root = self.prefix + "/"
        return [BucketObject(moto, STORAGE_BUCKET, k, k[len(root):]) for k in moto.keys(STORAGE_BUCKET, root + prefix)]

    def download_link(self, key, media_url):
        """(origin, path) of the link a download of storage key `key` 302s to: the object's presigned URL."""
        return self.moto.base, f"/{STORAGE_BUCKET}/{self.prefix}/{key}"

    def put(self, key, content):
        """Stores `content` under storage key `key` in the stack's prefix; the stored file (a bucket object)."""
        moto, full_key = self.moto, f"{self.prefix}/{key}"
        moto.put(STORAGE_BUCKET, full_key, content)
        return BucketObject(moto, STORAGE_BUCKET, full_key, key)


class PostgresOwnStorage(PostgresS3):
    """A database of its own in the run's cluster for a stack whose test names its own storage
    (`--storage-url`, `--data`): the test reads those stored files where it put them."""
    kind = "postgres"

    def serve_options(self):
        return ["--database-url", self.database_url]

    def download_link(self, key, media_url):
        raise AssertionError("this stack's storage is the test's own: check its links there")

    def objects(self, prefix=""):
        raise AssertionError("this stack's storage is the test's own: read it there")

    def put(self, key, content):
        raise AssertionError("this stack's storage is the test's own: write it there")


class PostgresLocal(_PostgresRows, SQLiteLocal):
    """A PostgreSQL database the test runs itself (`database_url`) and the run directory's data/files/."""
    kind = "postgres-local"

    def __init__(self, run_dir, database_url):
        super().__init__(run_dir)
        self.database_url = database_url

    def serve_options(self):
        return ["--database-url", self.database_url]


def _pg_connect(url):
    import psycopg
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def _pg_rows(url, sql, params=()):
    """Rows of a query (`?` placeholders) of the PostgreSQL database at `url`, as SQLite would give them."""
    import psycopg.rows
    with _pg_connect(url) as con:
        with con.cursor(row_factory=psycopg.rows.dict_row) as cur:
            cur.execute(_pg_placeholders(sql), tuple(params))
            return [_sqlite_like(row) for row in cur.fetchall()]


def _pg_execute(url, sql, params=()):
    with _pg_connect(url) as con:
        with con.cursor() as cur:
            cur.execute(_pg_placeholders(sql), tuple(params))
            return cur.rowcount


def _pg_tables(url):
    return [r["tablename"] for r in _pg_rows(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                                 "ORDER BY tablename")]


def _pg_placeholders(sql):
    """`?` placeholders (outside quoted text) as psycopg's `%s`, and literal `%` doubled."""
    out, quote = [], None
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def _sqlite_like(row):
    """A PostgreSQL row with the values SQLite would give: bytes for BYTEA, ints for booleans."""
    out = {}
    for k, v in row.items():
        if isinstance(v, memoryview):
            v = bytes(v)
        elif isinstance(v, bool):
            v = int(v)
        out[k] = v
    return out


class PgCluster:
    """A throwaway PostgreSQL 15 cluster (tests/support/pgcluster.sh, as the postgres user when root) in a
    directory of its own. Not under pytest's base temp: a pytest session starting meanwhile (anyone's) makes
    that 0700 again, and the postgres user then cannot reach its cluster (pgcluster.sh opens the path once)."""

    def __init__(self, prefix="fetchgate-pg."):
        self.directory = tempfile.mkdtemp(prefix=prefix)
        self.port = free_port()

    def _run(self, *args):
        r = subprocess.run([str(PGCLUSTER), *args], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"pgcluster {' '.join(args)}: {r.stdout}{r.stderr}"
        return r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""

    def start(self):
        """Starts it (made at the first start); its URL."""
        return self._run("start", self.directory, str(self.port))

    def stop(self):
        self._run("stop", self.directory)

    def restart(self):
        self._run("restart", self.directory)

    def remove(self):
        """Stops it and removes its directory."""
        self.stop()
        subprocess.run(["rm", "-rf", self.directory], capture_output=True)


class SharedServers:
    """The run's PostgreSQL cluster and moto server, started on first use and stopped at exit."""
    _instance = None
    _lock = threading.Lock()

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = SharedServers()
                atexit.register(cls.shutdown)
            return cls._instance

    @classmethod
    def shutdown(cls):
        with cls._lock:
            if cls._instance is not None:
                cls._instance.stop()
                cls._instance = None

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="fetchgate-backends."))
        self.cluster = PgCluster()
        self.admin_url = self.cluster.start()
        self.moto = Moto()
        self.moto.start(buckets=[STORAGE_BUCKET])
        self.credentials_file = self.directory / "storage.credentials"
        self.credentials_file.write_text(f"key={STORAGE_KEY}\nsecret={STORAGE_SECRET}\n")
        self.credentials_file.chmod(0o600)

    def create_database(self, name):
        with _pg_connect(self.admin_url) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}"')
            con.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def stop(self):
        self.moto.stop()
        self.cluster.remove()
        subprocess.run(["rm", "-rf", str(self.directory)], capture_output=True)


# --------------------------------------------------------------------------- one backend, several nodes

class SharedSQLiteLocal(SQLiteLocal):
    """One SQLite file and one data directory in `directory` that several nodes share (by their options)."""

    def __init__(self, directory, label=None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.database_path = self.directory / "shared.sqlite"
        self.data_dir = self.directory / "shared-data"
        self.files_dir = self.data_dir / "files"

    def serve_options(self):
        return ["--database-url", f"sqlite:{self.database_path}", "--data", str(self.data_dir)]

    @_contextlib.contextmanager
    def storage_unavailable(self):
        """The file store gone for a while: its directory moved away, then back."""
        away = self.files_dir.with_name("files-away")
        self.files_dir.rename(away)
        try:
            yield
        finally:
            away.rename(self.files_dir)

    def close(self):
        pass


class SharedPostgresS3(PostgresS3):
    """A database in the run's cluster and a bucket prefix that several nodes share. The bucket is on a moto
    of its own, so the storage can go away (`storage_unavailable`) without touching other stacks' files."""

    def __init__(self, directory, label=None):
        own = Moto()
        own.start(buckets=[STORAGE_BUCKET])
        super().__init__(directory, label, moto=own)

    # A node probes a bucket that answered at most this often (S3FileStore.probeSeconds).
    PROBE_SECONDS = 30

    @_contextlib.contextmanager
    def storage_unavailable(self):
        """The bucket server stopped (long enough for every node to probe it again), then started again
        on its port (moto keeps nothing: the stored files are gone)."""
        self.moto.stop()
        try:
            time.sleep(self.PROBE_SECONDS + 1)
            yield
        finally:
            self.moto.start(buckets=[STORAGE_BUCKET])

    def close(self):
        self.moto.stop()


BACKENDS = {"sqlite": SQLiteLocal, "postgres-s3": PostgresS3}
SHARED_BACKENDS = {"sqlite": SharedSQLiteLocal, "postgres-s3": SharedPostgresS3}


def for_stack(run_dir, label=None):
    """The backend of one `fetchgate serve` whose run directory is `run_dir`, of this run's kind."""
    return BACKENDS[KIND](run_dir, label)


def for_nodes(directory, label=None):
    """One backend of this run's kind for several `fetchgate serve` nodes at once (`Server(..., backend=)`):
    every node gets its `serve_options()`; `rows`, `objects`, `tables` read what they stored together.
    `close()` it after the nodes stop."""
    return SHARED_BACKENDS[KIND](directory, label)

def database_only(run_dir, label=None):
    """The backend of a stack whose test names its own storage but not its database: the database
    is of this run's kind, the stored files the test's."""
    return PostgresOwnStorage(run_dir, label) if KIND == "postgres-s3" else SQLiteLocal(run_dir, label)
