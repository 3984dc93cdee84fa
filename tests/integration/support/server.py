"""One `fetchgate serve` (nginx and every dialect) on free loopback ports in its own run
directory: start, stop, logs, the admin CLI, and what it leaves on disk."""
import contextlib as _contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from . import backends as _backends
from .files import FilesClient
from .store import StoreClient

REPO = Path(__file__).resolve().parents[3]
BIN_DIR = Path(os.environ.get("FETCHGATE_BIN", REPO / ".build" / "release"))
FETCHGATE = BIN_DIR / "fetchgate"

START_TIMEOUT = 30
STOP_TIMEOUT = 20


def both_dialects_answer(store_url, media_url):
    """The statuses of an unauthenticated request to each dialect: (401, 401) once both apps serve
    (nginx answers 502 for an app that is not listening yet)."""
    return (requests.get(store_url + "/api/account", timeout=2).status_code,
            requests.get(media_url + "/files", timeout=2).status_code)


class LoopbackPorts:
    """The URLs of a run's two servers on 127.0.0.1 (`store_port`, `media_port`)."""

    @property
    def store_url(self):
        return f"http://127.0.0.1:{self.store_port}"

    @property
    def media_url(self):
        return f"http://127.0.0.1:{self.media_port}"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The options by which a test names its own database or storage; the run's backend then leaves that part to it.
_DATABASE_OPTIONS = {"--database-url", "--database"}
_STORAGE_OPTIONS = {"--storage-url", "--storage-credentials-file", "--data"}


class Server(LoopbackPorts):
    def __init__(self, run_dir, extra_args=(), label=None, backend=None):
        self.run_dir = Path(run_dir)
        self.extra_args = list(extra_args)  # more `fetchgate serve` options (e.g. --smtp-url)
        # Where this stack's rows and stored files live (support/backends.py: SQLite and data/files/, or a
        # database and bucket prefix of its own on the run's PostgreSQL and moto); the test's own options win.
        # `backend` is one several stacks share (backends.for_nodes); a test that names only its own storage
        # still gets the run's kind of database.
        own = set(self.extra_args)
        if backend is not None:
            self.backend = backend
        elif not own & (_DATABASE_OPTIONS | _STORAGE_OPTIONS):
            self.backend = _backends.for_stack(self.run_dir, label)
        elif not own & _DATABASE_OPTIONS:
            self.backend = _backends.database_only(self.run_dir, label)
        else:
            self.backend = _backends.SQLiteLocal(self.run_dir)
        self.store_port = free_port()
        self.media_port = free_port()
        while self.media_port == self.store_port:
            self.media_port = free_port()
        self.proc = None
        self.out_path = self.run_dir.parent / (self.run_dir.name + "-serve.log")
        self._names = itertools.count(1)
        self._cli_lock = threading.Lock()

    @property
    def data_dir(self):
        return self.run_dir / "data"

    @property
    def body_temp(self):
        return self.data_dir / "tmp" / "body"

    def start(self):
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(
            [str(FETCHGATE), "serve", "--run-dir", str(self.run_dir), *self.backend.serve_options(),
             "--store-port", str(self.store_port), "--media-port", str(self.media_port), *self.extra_args],
            stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.fail_start(f"fetchgate serve exited with {self.proc.returncode}")
            try:
                last = both_dialects_answer(self.store_url, self.media_url)
                if last == (401, 401):
                    break
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.1)
        else:
            self.stop(check=False)
            self.fail_start(f"store and media ports never both answered 401 within {START_TIMEOUT}s (last: {last})")
        creds = (self.run_dir / "demo-credentials").read_text().strip()
        key, _, token = creds.partition(":")
        self.demo_key, self.demo_token = key, token

    def logs(self):
        chunks = []
        paths = [self.out_path] + sorted((self.run_dir / "logs").glob("*")) if (self.run_dir / "logs").exists() \
            else [self.out_path]
        for p in paths:
            try:
                text = Path(p).read_text(errors="replace")
            except OSError:
                continue
            chunks.append(f"----- {p} -----\n{text[-6000:]}")
        return "\n".join(chunks)

    def fail_start(self, why):
        logs = self.logs()
        print(logs, file=sys.stderr)
        pytest.fail(f"{why}\n{logs}", pytrace=False)

    def stop(self, check=True):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            if check:
                raise AssertionError(f"fetchgate serve did not exit within {STOP_TIMEOUT}s of SIGTERM\n{self.logs()}")
        finally:
            self.out.close()

    # ------------------------------------------------------------------ CLI

    def cli(self, *args, check=True):
        r = subprocess.run([str(FETCHGATE), *args, "--run-dir", str(self.run_dir)],
                           capture_output=True, text=True, timeout=30)
        if check:
            assert r.returncode == 0, f"fetchgate {' '.join(args)} failed ({r.returncode}): {r.stdout}{r.stderr}"
        return r

    @staticmethod
    def parse_key_token(output):
        key = token = None
        for line in output.splitlines():
            if line.startswith("key:"):
                key = line.split(":", 1)[1].strip()
            elif line.startswith("token:"):
                token = line.split(":", 1)[1].strip()
        assert key and token, f"CLI output lacks key/token lines: {output!r}"
        return key, token

    def create_account(self, name=None):
        name = name or f"Tenant {next(self._names)} {uuid.uuid4().hex[:6]}"
        r = self.cli("account", "create", "--name", name)
        key, token = self.parse_key_token(r.stdout)
        client = StoreClient(self.store_url, key, token)
        client.name = name
        created = r.stdout.splitlines()[0].split()  # "account N created"
        assert created[0] == "account" and created[2] == "created", r.stdout
        client.account_id = int(created[1])
        return client

    def add_key(self, existing_key, new_key=None):
        args = ["key", "create", "--key", existing_key]
        if new_key:
            args += ["--new-key", new_key]
        return self.parse_key_token(self.cli(*args).stdout)

    def store_api_pids(self):
        r = subprocess.run(["pgrep", "-f", f"store-api --socket {self.run_dir}/"], capture_output=True, text=True)
        return [int(p) for p in r.stdout.split()]

    # ------------------------------------------------------------------ Files API

    @property
    def signing_secret(self):
        return (self.run_dir / "secure-link.secret").read_text().strip()


    def files_client(self, token=None):
        return FilesClient(self, self.demo_token if token is None else token)


    def create_files_tenant(self, name=None):
        """A fresh tenant (admin CLI) as a FilesClient; `.store` is its StoreClient."""
        store = self.create_account(name)
        client = FilesClient(self, store.token)
        client.store = store
        return client


    def worker_pids(self):
        r = subprocess.run(["pgrep", "-f", f"/worker .*--data {self.data_dir} "], capture_output=True, text=True)
        return [int(p) for p in r.stdout.split()]

    # ------------------------------------------------------------------ what the stack stored

    def rows(self, sql, params=()):
        """A query of this stack's database (`?` placeholders, either engine), as dicts."""
        return self.backend.rows(sql, params)

    def execute(self, sql, params=()):
        """One statement on this stack's database; the number of rows it changed."""
        return self.backend.execute(sql, params)

    def stored_objects(self, prefix=""):
        """The stored files under a storage key prefix ("m/", "f/<id>"): paths, or bucket objects."""
        return self.backend.objects(prefix)

    def store_object(self, key, content):
        """Puts `content` where this stack keeps storage key `key` (as a worker would); the stored file."""
        return self.backend.put(key, content)

    def stored_files(self, file_id, prefix="m"):
        """Stored bytes of one file by its id: storage key <prefix>/<id>[.ext] (m: a Files API file, f: a fetch's)."""
        return [o for o in self.stored_objects(f"{prefix}/{file_id}") if o.name.split(".", 1)[0] == file_id]


@_contextlib.contextmanager
def running_server(tmp_path_factory, label, extra_args=()):
    """One more `fetchgate serve` instance with its own run directory, stopped (cleanly) afterwards."""
    assert FETCHGATE.exists(), f"{FETCHGATE} not built: run `swift build -c release` (or set FETCHGATE_BIN)"
    srv = Server(tmp_path_factory.mktemp(label) / "run", extra_args=extra_args, label=label)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
    assert srv.proc.returncode == 0, f"fetchgate serve ({label}) exited with {srv.proc.returncode}\n{srv.logs()}"


def stray_temp_files(server):
    """Files left in the data volume's temp areas (the upload body buffer and the app's tmp/)."""
    tmp = server.data_dir / "tmp"
    return sorted(str(p) for p in tmp.rglob("*") if p.is_file())


def wait_no_temp_files(server, seconds=5):
    """Temp files still there after waiting up to `seconds` (nginx removes its buffer after the reply)."""
    deadline = time.monotonic() + seconds
    left = stray_temp_files(server)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = stray_temp_files(server)
    return left


def wait_for(predicate, timeout=10, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
