"""PostgreSQL going away under load (issue 13): a `fetchgate serve` on a throwaway cluster of this
test's own (tests/support/pgcluster.sh; so it runs in the sqlite run and in the postgres-s3 run alike,
with the run directory's local file store) takes steady load through nginx: store reads, item and
order creates, Files API lists and uploads, Jobs API creates. Mid-load the cluster is restarted, then
stopped for a few seconds and started again.

- every reply is the request's own success or 503 with `Retry-After: 1` in the dialect's format (XML
  for the store, JSON for Files and Jobs): no 500, no 502, nothing else;
- every write answered with success is there afterwards; one answered 503 is absent or whole (an
  order with its item, a file with its bytes and its row): a connection lost during COMMIT cannot know
  whether the server committed, so "whole" is all a 503 can promise;
- `/healthz` answers 503 on both ports while the server is down and 200 once it is back; a
  connection opened meanwhile (the admin CLI's) is refused with a message, not a crash;
- the same processes (no restart by the supervisor, none by the test) answer every kind of request
  again within a few seconds of the server's start, and the worker finishes a job queued after it.
"""
import subprocess
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import (FETCHGATE, XML_HEADERS, Server, child_text, fetch_serve_options, item_xml, message_of, order_xml,
                      wait_no_temp_files)
from support import backends as _backends
from test_jobs_api import JobsClient

RECOVERY_SECONDS = 5  # after the server is up again, every kind of request succeeds within this
PAUSE_SECONDS = 4  # the server stays down this long
SUCCESS = {"item read": 200, "item create": 201, "order create": 201, "files list": 200, "file upload": 201,
           "job create": 201}
STORE_KINDS = {"item read", "item create", "order create"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("db-restart")
    cluster = _backends.PgCluster(prefix="fetchgate-db-restart.")
    url = cluster.start()
    run_dir = root / "run"
    server = Server(run_dir, fetch_serve_options(), backend=_backends.PostgresLocal(run_dir, url))
    server.start()
    try:
        yield server, cluster
    finally:
        server.stop()
        cluster.remove()
    assert server.proc.returncode == 0, server.logs()


def _children(pid):
    """The supervisor's long-lived children by pid: each dialect, the worker, nginx's master (not a
    `yt-dlp --version` it runs now and then; what the worker runs is a grandchild)."""
    r = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        child, args = line.split(None, 1)
        program = args.split()[0]
        if program.startswith(str(FETCHGATE.parent.parent)) or args.startswith("nginx: master"):
            found[int(child)] = program.rsplit("/", 1)[-1]
    return found


class Load:
    """Threads sending one kind of request each, in a loop, recording every reply."""

    def __init__(self, server, shop, files, jobs, media_url):
        self.server, self.shop, self.files, self.jobs, self.media_url = server, shop, files, jobs, media_url
        self.replies = []  # (kind, time, key, response)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def record(self, kind, key, response):
        with self.lock:
            self.replies.append((kind, time.monotonic(), key, response))

    def loop(self, kind, send, pause):
        with requests.Session() as session:
            while not self.stopping.is_set():
                key = uuid.uuid4().hex[:12]
                self.record(kind, key, send(session, key))
                time.sleep(pause)

    def item_read(self, s, key):
        return s.get(self.shop.url("/api/items/LOAD-READ"), auth=self.shop.auth, timeout=60)

    def item_create(self, s, key):
        return s.post(self.shop.url("/api/items/create"), data=item_xml(f"W-{key}", name=f"Written {key}"),
                      headers=XML_HEADERS, auth=self.shop.auth, timeout=60)

    def order_create(self, s, key):
        return s.post(self.shop.url("/api/orders"), data=order_xml(["LOAD-READ"], id=f"O-{key}"), headers=XML_HEADERS,
                      auth=self.shop.auth, timeout=60)

    def files_list(self, s, key):
        return s.get(self.files.url("/files"), headers={"X-API-KEY": self.files.token}, timeout=60)

    def file_upload(self, s, key):
        return s.post(self.files.url("/files"), headers={"X-API-KEY": self.files.token},
                      files={"file": (f"{key}.bin", f"bytes of {key}\n".encode() * 50, "application/octet-stream")},
                      timeout=60)

    def job_create(self, s, key):
        return s.post(self.jobs.url("/jobs"), headers={"X-API-KEY": self.jobs.token}, json={"url": self.media_url},
                      timeout=60)

    def start(self):
        for kind, send, pause in [("item read", self.item_read, 0.02), ("item create", self.item_create, 0.03),
                                  ("order create", self.order_create, 0.05), ("files list", self.files_list, 0.03),
                                  ("file upload", self.file_upload, 0.05), ("job create", self.job_create, 1.5)]:
            t = threading.Thread(target=self.loop, args=(kind, send, pause), daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=90)
            assert not t.is_alive()


def _check_reply(kind, r):
    """The request's own success, or 503 + Retry-After: 1 in the dialect's error format. Returns the status."""
    what = f"{kind}: {r.status_code} {dict(r.headers)} {r.text[:300]!r}"
    assert r.status_code in (SUCCESS[kind], 503), what
    if r.status_code == 503:
        assert r.headers.get("Retry-After") == "1", what
        if kind in STORE_KINDS:
            assert r.headers["Content-Type"].startswith("application/xml"), what
            assert message_of(r) == "The store is busy; nothing was changed. Try again in a moment.", what
        else:
            assert r.headers["Content-Type"] == "application/json", what
            assert r.json()["error"]["code"] == "busy", what
    return r.status_code


def test_a_postgresql_restart_under_load_costs_only_503s_and_the_nodes_recover(stack, media_origin):
    server, cluster = stack
    shop = server.create_account()
    shop.create_item("LOAD-READ", name="Read under load")
    files = server.files_client(shop.token)
    jobs = JobsClient(server, shop.token)
    processes = _children(server.proc.pid)
    assert len(processes) >= 6, processes

    load = Load(server, shop, files, jobs, media_origin.mp4_url)
    load.start()
    try:
        time.sleep(2)
        cluster.restart()
        time.sleep(2)
        cluster.stop()
        down = time.monotonic()
        for url in (server.store_url, server.media_url):
            h = requests.get(url + "/healthz", timeout=30)
            assert h.status_code == 503 and h.headers["Retry-After"] == "1", (url, h.text)
            assert h.json()["database"] == "unavailable", h.text
        # A connection opened while the server is down fails cleanly (here the admin CLI's; the worker's
        # job heartbeat opens one the same way, and a double free there once killed the worker mid-load).
        refused = server.cli("account", "create", "--name", "While down", check=False)
        assert refused.returncode == 1 and "cannot connect to PostgreSQL" in refused.stderr, \
            (refused.returncode, refused.stderr[-600:])
        time.sleep(max(0.0, PAUSE_SECONDS - (time.monotonic() - down)))
        cluster.start()
        up = time.monotonic()
        time.sleep(RECOVERY_SECONDS + 2)
    finally:
        load.stop()
    # The same processes all along: nothing crashed and was restarted.
    assert _children(server.proc.pid) == processes

    statuses = {}
    for kind, _, _, r in load.replies:
        statuses.setdefault(kind, []).append(_check_reply(kind, r))
    counts = {kind: (got.count(SUCCESS[kind]), got.count(503)) for kind, got in statuses.items()}
    back = {kind: round(min(at for k, at, _, r in load.replies if k == kind and at > up and r.status_code == SUCCESS[kind])
                        - up, 2) for kind in SUCCESS}
    print("replies (success, 503) by kind:", counts, "; first success after the start (s):", back)
    assert set(counts) == set(SUCCESS), counts
    assert sum(busy for _, busy in counts.values()) > 0, counts
    # Every kind answers its success again by itself within a few seconds of the server's start.
    for kind in SUCCESS:
        late = [r.status_code for k, at, _, r in load.replies if k == kind and at > up + RECOVERY_SECONDS]
        assert late and set(late) == {SUCCESS[kind]}, (kind, late)
    for url in (server.store_url, server.media_url):
        assert requests.get(url + "/healthz", timeout=10).status_code == 200

    # Nothing answered with success is lost; nothing answered 503 is half done.
    committed_anyway = 0
    for kind, _, key, r in load.replies:
        if kind == "item create":
            got = shop.get(f"/api/items/W-{key}")
            committed_anyway += r.status_code == 503 and got.status_code == 200
            if r.status_code == 201 or got.status_code == 200:
                assert got.status_code == 200, (key, r.status_code, got.text[:300])
                assert child_text(ET.fromstring(got.content), "name") == f"Written {key}", got.text
            else:
                assert got.status_code == 404, got.text
        elif kind == "order create":
            got = shop.get(f"/api/orders/O-{key}")
            committed_anyway += r.status_code == 503 and got.status_code == 200
            if r.status_code == 201 or got.status_code == 200:
                assert got.status_code == 200, (key, r.status_code, got.text[:300])
                items = ET.fromstring(got.content).find("order_items").findall("order_item")
                assert [child_text(i, "sku") for i in items] == ["LOAD-READ"], got.text
            else:
                assert got.status_code == 404, got.text
        elif kind == "file upload" and r.status_code == 201:
            assert files.file(r.json()["id"])["name"] == f"{key}.bin"
        elif kind == "job create" and r.status_code == 201:
            assert jobs.job(r.json()["id"])["url"] == media_origin.mp4_url
    print("store writes answered 503 that were committed all the same:", committed_anyway)
    # Every file row has its bytes and every stored file its row (a 503 upload left neither or both).
    page = files.listing(per_page=100)
    rows = {f["id"] for f in page["files"]}
    while page["has_more"]:
        page = files.listing(per_page=100, after=page["next_cursor"])
        rows |= {f["id"] for f in page["files"]}
    assert len(rows) >= counts["file upload"][0]
    assert len(rows) <= counts["file upload"][0] + counts["file upload"][1]
    stored = {o.name.split(".", 1)[0] for o in server.stored_objects("m/")}
    assert stored == rows
    # And no upload left its temp file behind (nginx's body buffer, the app's scratch space).
    assert wait_no_temp_files(server) == []

    # The worker recovered too: a job queued now completes.
    job = jobs.create(media_origin.mp4_url)
    done = jobs.wait(job["id"], timeout=180)
    assert done["status"] == "Completed", done
