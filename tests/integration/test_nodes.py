"""Several nodes (issue 13): two `fetchgate serve` on one machine, each with its own run directory,
ports and node name, sharing the database, the stored files and one secrets file.

- a write on A is read on B; an upload on A is downloaded through B (a link signed on either works on both);
- with A's worker stopped (SIGSTOP: the supervisor sees no exit, so it starts none), a job created
  on A is done by B's worker;
- a kill -9 of the whole node running a media fetch: the other node finishes it after the lease, once;
- 64 concurrent clicks on a customer link with 3 downloads left, split across both nodes: exactly 3;
- two nodes starting at once on an empty database migrate it once;
- `/healthz` on both ports of each node (200 naming the node; 503 + Retry-After naming what failed);
- `--node-name`: every line of every log of a node starts `node=NAME`;
- `--secrets-file` refused when open to group or others, or unreadable; `secrets create` never
  replaces a file and can carry over a run directory's own secrets.

The database and the storage are the run's backend (support/backends.py `for_nodes`): one SQLite
file and one data directory, or (FETCHGATE_TEST_BACKEND=postgres-s3) one database in the run's
PostgreSQL cluster and one prefix in a bucket (on a moto of the nodes' own, so that the storage can
go away without touching other stacks). What the nodes stored is read through it (`rows`, `objects`).
"""
import base64
import os
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from conftest import (FETCHGATE, SHOP_FILES, XML_HEADERS, FetchClient, Server, StoreClient, child_text, fetch,
                      fetch_serve_options, guid_of, order_item_of, sha256_hex, wait_for)
from support import backends as _backends
from support.fetch import JOB_LEASE_SECONDS

BIG = 9 * 1024 * 1024  # over the store server's 8 MiB body limit: nginx refuses and logs it


class Node(Server):
    """One `fetchgate serve` of several: its own run directory, ports and name; the shared backend."""

    def __init__(self, run_dir, name, backend, secrets_file, extra_args=()):
        self.name = name
        Path(run_dir).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(run_dir, ["--secrets-file", str(secrets_file), "--node-name", name, *extra_args],
                         backend=backend)

    @property
    def data_dir(self):
        """The data directory: the shared one when the nodes share local files, else the node's own (temp files)."""
        return getattr(self.backend, "data_dir", None) or super().data_dir

    def cli(self, *args, check=True):
        return super().cli(*args, *self.backend.serve_options(), check=check)

    def health(self, url):
        return requests.get(url + "/healthz", timeout=10)

    def processes(self):
        """Pids of everything this node runs: the supervisor and all its descendants."""
        parents = {}
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    stat = (proc / "stat").read_text()
                except OSError:
                    continue
                parents[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        found, frontier = [], [self.proc.pid]
        while frontier:
            pid = frontier.pop()
            found.append(pid)
            frontier += [child for child, parent in parents.items() if parent == pid]
        return found

    def worker_pid(self):
        pids = [p for p in self.processes() if _cmdline(p).split(" ", 1)[0].endswith("/worker")]
        assert len(pids) == 1, f"node {self.name}: workers {pids}"
        return pids[0]

    def kill_9(self):
        """The whole node at once, as a crash would: frozen first (nothing restarts anything), then killed."""
        pids = self.processes()
        for pid in pids:
            _signal(pid, signal.SIGSTOP)
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.out.close()
        return pids


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _state(pid):
    try:
        line = next(ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines() if ln.startswith("State:"))
        return line.split()[1]
    except (OSError, StopIteration):
        return None


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def make_secrets(path):
    r = subprocess.run([str(FETCHGATE), "secrets", "create", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (os.stat(path).st_mode & 0o777) == 0o600
    return path


def secrets_of(path):
    values = dict(line.split("=", 1) for line in Path(path).read_text().splitlines() if line and not line.startswith("#"))
    return values["signing-secret"], base64.b64decode(values["master-key"])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Nodes A and B (the fetch stack's options, a short job lease) over one shared backend."""
    root = tmp_path_factory.mktemp("nodes")
    backend = _backends.for_nodes(root / "backends", "nodes")
    secrets = make_secrets(root / "secrets")
    a = Node(root / "a" / "run", "a", backend, secrets, fetch_serve_options())
    b = Node(root / "b" / "run", "b", backend, secrets, fetch_serve_options())
    a.start()
    b.start()
    yield a, b, backend, secrets
    for node in (a, b):
        node.stop()
    backend.close()
    # A node killed by the last test has no exit status worth checking; the other stops cleanly.
    for node in (a, b):
        if node.proc.returncode != -signal.SIGKILL:
            assert node.proc.returncode == 0, f"node {node.name} exited with {node.proc.returncode}\n{node.logs()}"


def test_health_on_both_ports_of_each_node_names_it(cluster):
    a, b, _, _ = cluster
    for node in (a, b):
        for url in (node.store_url, node.media_url):
            r = node.health(url)
            assert r.status_code == 200, (url, r.text)
            assert r.headers["Content-Type"] == "application/json"
            assert r.headers["Cache-Control"] == "no-store"
            assert r.json() == {"status": "ok", "node": node.name, "database": "ok", "storage": "ok"}
            assert requests.head(url + "/healthz", timeout=10).status_code == 200
            refused = requests.post(url + "/healthz", timeout=10)
            assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"


def test_health_names_storage_then_database_when_they_fail(cluster):
    a, b, backend, _ = cluster
    with backend.storage_unavailable():
        for node in (a, b):
            for url in (node.store_url, node.media_url):
                r = node.health(url)
                assert r.status_code == 503, r.text
                assert r.headers["Retry-After"] == "1"
                assert r.json() == {"status": "unavailable", "node": node.name, "database": "ok", "storage": "unavailable"}
    assert a.health(a.store_url).status_code == 200

    # The check reads the schema version: without it, the database does not answer what a node needs.
    backend.execute("ALTER TABLE schema_migrations RENAME TO schema_migrations_away")
    try:
        r = b.health(b.media_url)
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "1"
        assert r.json() == {"status": "unavailable", "node": "b", "database": "unavailable", "storage": "ok"}
    finally:
        backend.execute("ALTER TABLE schema_migrations_away RENAME TO schema_migrations")
    assert b.health(b.media_url).status_code == 200
    assert "healthz: database unavailable" in (b.run_dir / "logs" / "files-api.log").read_text()


def test_write_on_a_is_read_on_b(cluster):
    a, b, _, _ = cluster
    on_a = a.create_account()
    on_b = StoreClient(b.store_url, on_a.key, on_a.token)
    sku = f"NODE-{uuid.uuid4().hex[:8]}"
    created = on_a.create_item(sku, name="Written on A", price="12.5")
    read = on_b.item(sku)
    assert child_text(read, "name") == "Written on A"
    assert child_text(read, "guid") == child_text(created, "guid")
    assert on_b.skus() == on_a.skus() == [sku]


def test_upload_on_a_is_downloaded_through_b(cluster):
    a, b, backend, _ = cluster
    files_a = a.create_files_tenant()
    files_b = b.files_client(files_a.token)
    content = os.urandom(300_000)
    up = files_a.upload("payload.bin", content)
    ready = files_b.wait(up["id"], timeout=30)
    assert ready["status"] == "ready" and ready["size_bytes"] == len(content), ready
    # The same file, each node's links on its own public URL.
    assert ready["download_url"].startswith(b.media_url + "/files/")
    on_a = files_a.file(up["id"])
    assert on_a["download_url"] == a.media_url + ready["download_url"][len(b.media_url):]
    assert {k: v for k, v in on_a.items() if k != "download_url"} == {k: v for k, v in ready.items() if k != "download_url"}
    # B signs a link and the bytes come from the shared store: B's nginx (one signing secret: a link
    # signed on A is good on B, a tampered one refused on both), or the bucket (a URL presigned with
    # the one set of storage credentials, whichever node signed it).
    location = files_b.signed_location(ready)
    signed_on_a = files_a.signed_location(files_a.file(up["id"]))
    if backend.kind == "sqlite":
        assert location.startswith(b.media_url + "/dl/")
        assert signed_on_a.startswith(a.media_url + "/dl/")
        locations = [location, b.media_url + signed_on_a[len(a.media_url):]]
    else:
        (stored,) = backend.objects(f"m/{up['id']}")
        url = f"{backend.moto.base}/{stored.bucket}/{stored.full_key}"
        assert location.split("?", 1)[0] == url and signed_on_a.split("?", 1)[0] == url, (location, signed_on_a)
        assert "X-Amz-Signature=" in location and "X-Amz-Signature=" in signed_on_a
        locations = [location, signed_on_a]
    for signed in locations:
        got = requests.get(signed, timeout=30)
        assert got.status_code == 200 and sha256_hex(got.content) == sha256_hex(content), signed
    if backend.kind == "sqlite":
        for node in (a, b):
            bad = node.media_url + signed_on_a[len(a.media_url):].replace("md5=", "md5=x", 1)
            assert requests.get(bad, timeout=30).status_code == 403

    # The store's upload on A, its item's permalink downloaded through B.
    shop = a.create_account()
    shop.upload("alpha.txt", b"uploaded on A\n", "text/plain")
    item = shop.create_item("PERMA", extra="<filename>alpha.txt</filename>")
    r = fetch(f"{b.store_url}/permalink/{child_text(item, 'guid')}")
    assert r.status_code == 200 and r.content == b"uploaded on A\n"


def test_job_created_on_a_is_done_by_b_while_a_worker_is_stopped(cluster, origin, media):
    a, b, backend, _ = cluster
    stopped = a.worker_pid()
    os.kill(stopped, signal.SIGSTOP)
    try:
        wait_for(lambda: _state(stopped) == "T", timeout=5, interval=0.02, what="A's worker to stop")
        files = a.create_files_tenant()
        path = origin.serve(f"/node-job-{uuid.uuid4().hex}.mp4", media.mp4_bytes, "video/mp4")
        created = files.import_url(origin.url(path))
        done = files.wait(created["id"], timeout=30)
        assert done["status"] == "ready", done
        assert done["ffprobe"] is not None, done
        # A's worker never ran: the same process, stopped all along.
        assert a.worker_pid() == stopped and _state(stopped) == "T"
        jobs = backend.rows("SELECT kind, state, attempts FROM jobs WHERE payload = ? ORDER BY id", (created["id"],))
        assert [(j["kind"], j["state"], j["attempts"]) for j in jobs] == [("file-import", "done", 1)], jobs
        assert len(origin.requests_for(path=path)) == 1
    finally:
        os.kill(stopped, signal.SIGCONT)


def test_64_clicks_on_a_link_with_3_downloads_split_across_both_nodes_serve_3(cluster):
    a, b, _, _ = cluster
    shop = a.create_account()
    filename, content, ctype = SHOP_FILES["B"]
    shop.upload(filename, content, ctype)
    shop.create_item("B", extra=f"<filename>{filename}</filename>")
    order = shop.create_order(items=[("B", 3)], id=f"N-{uuid.uuid4().hex[:8]}")
    order_id = child_text(order, "id")
    guid = guid_of(order, "B")
    barrier = threading.Barrier(64)

    def click(i):
        node = (a, b)[i % 2]
        with requests.Session() as s:
            barrier.wait(timeout=30)
            r = s.get(f"{node.store_url}/get/{guid}", timeout=60)
            return node.name, r.status_code, r.content

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(click, range(64)))
    statuses = sorted(s for _, s, _ in results)
    assert statuses.count(200) == 3, statuses
    assert statuses.count(403) == 61, statuses
    assert all(body == content for _, s, body in results if s == 200)
    assert sorted(n for n, _, _ in results) == ["a"] * 32 + ["b"] * 32
    item = order_item_of(shop.order(order_id), "B")
    assert (child_text(item, "downloads_remaining"), child_text(item, "download_count")) == ("0", "3")
    assert len(shop.downloads(f"/api/orders/{order_id}/downloads")) == 3


def test_every_log_line_of_a_node_carries_its_name(cluster):
    a, b, backend, _ = cluster
    # Lines in every kind of log: nginx's error log (a refused body), the worker's (a file that
    # is no media cannot be probed), the dialects' (a failing health check).
    with backend.storage_unavailable():
        assert [a.health(url).status_code for url in (a.store_url, a.media_url)] == [503, 503]
    r = requests.post(a.store_url + "/api/items", data=b"x" * BIG, headers=XML_HEADERS, timeout=30)
    assert r.status_code == 413
    r = requests.post(b.store_url + "/api/items", data=b"x" * BIG, headers=XML_HEADERS, timeout=30)
    assert r.status_code == 413
    files = a.create_files_tenant()
    not_media = files.upload("notes.bin", b"no media here " * 100)
    files.wait(not_media["id"], timeout=30)

    def logged_lines(node):
        files = [node.out_path] + sorted(p for p in (node.run_dir / "logs").iterdir() if p.is_file())
        return {p.name: [ln for ln in p.read_text(errors="replace").splitlines() if ln.strip()] for p in files}

    def worker_line():
        return any("no probe" in ln for node in (a, b) for ln in logged_lines(node)["worker.log"])
    wait_for(worker_line, timeout=10, what="a worker's log line")
    wait_for(lambda: all(logged_lines(n)["nginx-error.log"] for n in (a, b)), timeout=10, what="nginx error lines")
    for node in (a, b):
        lines = logged_lines(node)
        untagged = {name: [ln for ln in got if not ln.startswith(f"node={node.name} ")] for name, got in lines.items()}
        assert {name: got for name, got in untagged.items() if got} == {}
        written = {name for name, got in lines.items() if got}
        assert {node.out_path.name, "nginx-access.log", "nginx-error.log"} <= written, written
    for log in ("store-api.log", "files-api.log"):
        assert "node=a healthz: storage unavailable: " in "\n".join(logged_lines(a)[log]), log


def test_secrets_file_open_to_others_or_unreadable_is_refused(cluster, tmp_path):
    a, _, backend, secrets = cluster
    loose = tmp_path / "loose-secrets"
    loose.write_bytes(Path(secrets).read_bytes())
    for mode in (0o640, 0o604, 0o660):
        os.chmod(loose, mode)
        r = subprocess.run([str(FETCHGATE), "serve", "--run-dir", str(tmp_path / "run"), *backend.serve_options(),
                            "--secrets-file", str(loose)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, r.stdout + r.stderr
        assert f"the secrets file {loose} is open to its group or others (mode {mode:o}); chmod 600 it" in r.stderr
    missing = tmp_path / "missing"
    r = subprocess.run([str(FETCHGATE), "serve", "--run-dir", str(tmp_path / "run"), *backend.serve_options(),
                        "--secrets-file", str(missing)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and f"cannot read the secrets file {missing}" in r.stderr, r.stderr
    # Nothing started: no nginx config rendered, no socket.
    assert not (tmp_path / "run" / "nginx.conf").exists()
    # Never both: the master key is in the secrets file.
    r = subprocess.run([str(FETCHGATE), "serve", "--run-dir", str(tmp_path / "run"), "--secrets-file", str(secrets),
                        "--master-key-file", str(tmp_path / "k")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--secrets-file holds the master key" in r.stderr, r.stderr
    # The nodes made no secrets of their own.
    for node in cluster[:2]:
        assert not (node.run_dir / "secure-link.secret").exists() and not (node.run_dir / "master.key").exists()


def test_secrets_create_never_replaces_and_carries_over_a_run_directory(tmp_path):
    path = make_secrets(tmp_path / "s")
    before = path.read_bytes()
    r = subprocess.run([str(FETCHGATE), "secrets", "create", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "an existing secrets file is never replaced" in r.stderr, r.stderr
    assert path.read_bytes() == before
    # One node becoming several keeps its signing secret and master key.
    run = tmp_path / "run"
    run.mkdir()
    (run / "secure-link.secret").write_text("k" * 40 + "\n")
    key = os.urandom(32)
    fd = os.open(run / "master.key", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, key)
    os.close(fd)
    r = subprocess.run([str(FETCHGATE), "secrets", "create", str(tmp_path / "carried"), "--from-run-dir",
                        "--run-dir", str(run)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert secrets_of(tmp_path / "carried") == ("k" * 40, key)


def test_kill_9_of_the_node_running_a_fetch_other_node_finishes_it_once(cluster, media_origin, media_files):
    a, b, backend, _ = cluster
    tenant = a.create_account()
    on_a, on_b = FetchClient(a, tenant.token), FetchClient(b, tenant.token)
    name = f"node-kill-{uuid.uuid4().hex[:8]}"
    url = media_origin.slow_url(name)
    # Only A's worker may take the job: B's waits, stopped, until A is gone.
    b_worker = b.worker_pid()
    os.kill(b_worker, signal.SIGSTOP)
    try:
        created = on_a.create(url)
        wait_for(lambda: any(r["sent"] > 200_000 for r in media_origin.requests(contains=name)),
                 timeout=30, interval=0.05, what="A's worker to be downloading")
        killed = a.kill_9()
        wait_for(lambda: all(_state(p) in (None, "Z") for p in killed), timeout=5, interval=0.05,
                 what="every process of A to be gone")
    finally:
        os.kill(b_worker, signal.SIGCONT)
    done = on_b.wait(created["id"], timeout=JOB_LEASE_SECONDS + 60)
    assert done["status"] == "success", done
    assert done["size_bytes"] == len(media_files.slow_bytes)
    jobs = backend.rows("SELECT state, attempts, lease_token FROM jobs WHERE kind = 'media.fetch' AND payload = ?",
                         (created["id"],))
    assert jobs == [{"state": "done", "attempts": 2, "lease_token": None}], jobs
    (stored,) = backend.objects(f"f/{created['id']}")
    assert sha256_hex(stored.read_bytes()) == sha256_hex(media_files.slow_bytes)
    got = requests.get(on_b.fetch_signed_location(done), timeout=60)
    assert got.status_code == 200 and sha256_hex(got.content) == sha256_hex(media_files.slow_bytes)
    # Exactly once: another lease later nothing has run again.
    time.sleep(JOB_LEASE_SECONDS + 1)
    assert backend.objects(f"f/{created['id']}") == [stored]
    assert on_b.fetch(created["id"])["finished_at"] == done["finished_at"]
    assert backend.rows("SELECT attempts FROM jobs WHERE kind = 'media.fetch' AND payload = ?",
                         (created["id"],)) == [{"attempts": 2}]


def test_two_nodes_starting_at_once_on_an_empty_database_migrate_once(tmp_path):
    backend = _backends.for_nodes(tmp_path / "backends", "migrate")
    secrets = make_secrets(tmp_path / "secrets")
    nodes = [Node(tmp_path / n / "run", n, backend, secrets) for n in ("c", "d")]
    assert backend.tables() == []
    starters = [threading.Thread(target=node.start) for node in nodes]
    try:
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        for node in nodes:
            assert node.health(node.store_url).json()["status"] == "ok", node.logs()
        applied = []
        for node in nodes:
            for line in node.out_path.read_text().splitlines():
                marker = "fetchgate serve: migrated the schema: applied "
                if marker in line:
                    applied += [int(v) for v in line.split(marker, 1)[1].split(", ")]
        versions = [r["version"] for r in backend.rows("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == list(range(1, len(versions) + 1)) and len(versions) >= 15, versions
        assert sorted(applied) == versions, f"applied by the two nodes together: {sorted(applied)}"
    finally:
        for node in nodes:
            node.stop()
        backend.close()
    for node in nodes:
        assert node.proc.returncode == 0, node.logs()
