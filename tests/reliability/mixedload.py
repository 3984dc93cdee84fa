"""A bounded mixed load on one stack, every dialect at once, that records every request: what it was,
when it started and ended, the status (or the exception), and for a write the unique thing it
carried (a sku, a filename, a URL), so the suite can check the database afterwards.

Python threads with `requests` sessions (keep-alive to nginx), not wrk or locust: wrk cannot tell
which write of many was acknowledged, and a per-request record is what the checks need.

    load = MixedLoad(server, media_origin, webhook_receiver=None)
    load.run(seconds=20, threads=6, fetch_every=4.0)
    load.check_database()            # acked writes once, unacked at most once, fetches all done
"""
import collections
import random
import threading
import time
import uuid

import requests

from support.fetch import DownloaderClient, FetchClient, fetch_jobs, stored_fetch_files, webhook_secret
from support.files import parse_json
from support.store import XML_HEADERS, guid_of, item_xml, stock_shop, SHOP_FILES

TIMEOUT = 30
SMALL = bytes(range(256)) * 4  # 1 KiB: what every upload sends


class Record:
    __slots__ = ("op", "started", "ended", "status", "error", "ident", "acked", "dialect", "body")

    def __init__(self, op, dialect, ident=None):
        self.op, self.dialect, self.ident = op, dialect, ident
        self.started = time.monotonic()
        self.ended = self.status = self.error = self.body = None
        self.acked = False

    def __repr__(self):
        return f"<{self.op} {self.status or self.error} {self.ident or ''}>"


class MixedLoad:
    # (operation, dialect, weight): reads dominate, every kind of write is there.
    OPS = [("store_read", "store", 4), ("store_list", "store", 2), ("store_write", "store", 3),
           ("store_upload", "store", 2), ("store_download", "store", 3),
           ("files_upload", "files", 2), ("files_list", "files", 2), ("files_download", "files", 2),
           ("fetch_read", "fetch", 2), ("jobs_list", "jobs", 2), ("downloader_list", "downloader", 1)]

    def __init__(self, server, media_origin, webhook_receiver=None, seed=14):
        self.server, self.origin, self.receiver = server, media_origin, webhook_receiver
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.records = []
        self.run_id = uuid.uuid4().hex[:8]
        # One tenant per dialect; the Downloader dialect is the key-less demo account.
        self.store = stock_shop(server.create_account())
        order = self.store.create_order([("A", 1_000_000)], send_email="false", email="load@example.com")
        self.guid = guid_of(order, "A")
        self.files = server.create_files_tenant()
        self.file = self.files.wait(self.files.upload("read.bin", SMALL, name=f"read-{self.run_id}")["id"])
        assert self.file["status"] == "ready", self.file
        self.fetch_store = server.create_account()
        self.fetch = FetchClient(server, self.fetch_store.token)
        self.jobs = server.create_files_tenant()  # a JSON client with X-API-KEY: /jobs
        self.downloader = DownloaderClient(server)
        self.fetch_ids = []  # acknowledged fetches (all three dialects): polled by fetch_read
        self.hook_name = None

    # ------------------------------------------------------------------ operations

    def _record(self, rec):
        rec.ended = time.monotonic()
        with self.lock:
            self.records.append(rec)

    def _call(self, rec, session, method, url, expect, headers=None, check=None, **kw):
        try:
            r = session.request(method, url, headers=headers, timeout=TIMEOUT, allow_redirects=False, **kw)
            rec.status = r.status_code
            rec.acked = r.status_code == expect and (check is None or check(r))
            if not rec.acked:
                rec.body = r.content[:300]
            return r if rec.acked else None
        except requests.RequestException as e:
            rec.error = type(e).__name__
            return None
        finally:
            self._record(rec)

    def one(self, session, op, dialect):
        s, m, unique = self.server.store_url, self.server.media_url, f"{self.run_id}-{uuid.uuid4().hex[:12]}"
        basic = (self.store.key, self.store.token)
        fkey = {"X-API-KEY": self.files.token}
        if op == "store_read":
            self._call(Record(op, dialect), session, "GET", f"{s}/api/items/A", 200, auth=basic)
        elif op == "store_list":
            self._call(Record(op, dialect), session, "GET", f"{s}/api/items", 200, auth=basic)
        elif op == "store_write":
            sku = f"L-{unique}"
            self._call(Record(op, dialect, sku), session, "POST", f"{s}/api/items/create", 201, headers=XML_HEADERS,
                       data=item_xml(sku, "Load item", "1.50"), auth=basic)
        elif op == "store_upload":
            name = f"l-{unique}.bin"
            self._call(Record(op, dialect, name), session, "POST", f"{s}/api/uploads", 201, auth=basic,
                       files={"file": (name, SMALL, "application/octet-stream")})
        elif op == "store_download":
            want = SHOP_FILES["A"][1]
            self._call(Record(op, dialect, self.guid), session, "GET", f"{s}/get/{self.guid}", 200,
                       check=lambda r: r.content == want)
        elif op == "files_upload":
            name = f"f-{unique}"
            self._call(Record(op, dialect, name), session, "POST", f"{m}/files", 201, headers=fkey,
                       files={"file": ("load.bin", SMALL, "application/octet-stream")}, data={"name": name})
        elif op == "files_list":
            self._call(Record(op, dialect), session, "GET", f"{m}/files", 200, headers=fkey)
        elif op == "files_download":
            r = self._call(Record(op, dialect), session, "GET", f"{m}/files/{self.file['id']}/{self.file['name']}",
                           302, headers=fkey)
            if r is not None:
                self._call(Record("files_signed_get", "nginx"), session, "GET", r.headers["Location"], 200,
                           check=lambda r: r.content == SMALL)
        elif op == "fetch_read":
            with self.lock:
                ids = [ident for op, ident, _ in self.fetch_ids if op == "fetch_create"]
            if ids:
                self._call(Record(op, dialect), session, "GET", f"{m}/fetch/{self.rng.choice(ids)}", 200,
                           headers={"X-API-KEY": self.fetch.token})
            else:
                self._call(Record(op, dialect), session, "GET", f"{m}/fetch", 200, headers={"X-API-KEY": self.fetch.token})
        elif op == "jobs_list":
            self._call(Record(op, dialect), session, "GET", f"{m}/jobs", 200, headers={"X-API-KEY": self.jobs.token})
        elif op == "downloader_list":
            self._call(Record(op, dialect), session, "GET", f"{m}/api/downloads", 200)

    def create_fetch(self, session, n):
        """One media fetch, through the fetch, jobs and downloader dialects in turn; its URL is unique."""
        m = self.server.media_url
        url = self.origin.url(f"/v.mp4?load={self.run_id}-{n}")
        which = n % 3
        if which == 0:
            body = {"url": url}
            if self.hook_name is not None:
                body["webhook_url"] = self.receiver.url(self.hook_name)
            rec = Record("fetch_create", "fetch", url)
            r = self._call(rec, session, "POST", f"{m}/fetch", 201, headers={"X-API-KEY": self.fetch.token}, json=body)
            ident = r is not None and parse_json(r)["id"]
        elif which == 1:
            rec = Record("jobs_create", "jobs", url)
            r = self._call(rec, session, "POST", f"{m}/jobs", 201, headers={"X-API-KEY": self.jobs.token},
                           json={"url": url})
            ident = r is not None and parse_json(r)["id"]
        else:
            rec = Record("downloader_create", "downloader", url)
            r = self._call(rec, session, "POST", f"{m}/api/download", 200, json={"url": url, "quality": "best"})
            ident = r is not None and r.json()["download_id"]
        if ident:
            with self.lock:
                self.fetch_ids.append((rec.op, ident, url))

    # ------------------------------------------------------------------ running

    def use_webhooks(self):
        """Fetches made through the fetch dialect name the receiver; their deliveries are verified."""
        self.hook_name = f"load-{self.run_id}"
        self.receiver.secret(self.hook_name, webhook_secret(self.server, self.fetch_store.key))

    def run(self, seconds, threads=6, fetch_every=4.0, stop=None):
        """Runs the load for `seconds` (or until `stop` is set); returns the records."""
        stop = stop or threading.Event()
        deadline = time.monotonic() + seconds
        ops = [(op, d) for op, d, w in self.OPS for _ in range(w)]

        def reader(i):
            rng = random.Random(f"{self.run_id}-{i}")
            with requests.Session() as session:
                while time.monotonic() < deadline and not stop.is_set():
                    self.one(session, *rng.choice(ops))

        def fetcher():
            n = 0
            with requests.Session() as session:
                while time.monotonic() < deadline and not stop.is_set():
                    self.create_fetch(session, n)
                    n += 1
                    stop.wait(fetch_every)

        workers = [threading.Thread(target=reader, args=(i,)) for i in range(threads)]
        workers.append(threading.Thread(target=fetcher))
        for w in workers:
            w.start()
        for w in workers:
            w.join(seconds + TIMEOUT * 3)
        assert not any(w.is_alive() for w in workers), "a load thread never finished"
        return self.records

    # ------------------------------------------------------------------ figures and checks

    def statuses(self):
        return collections.Counter((r.op, r.status or r.error) for r in self.records)

    def failures(self):
        return [r for r in self.records if not r.acked]

    def writes(self, op):
        acked = [r.ident for r in self.records if r.op == op and r.acked]
        unacked = [r.ident for r in self.records if r.op == op and not r.acked]
        return acked, unacked

    def check_database(self, fetch_timeout=120):
        """Every acknowledged write is in the database exactly once, no unacknowledged one more than
        once; every acknowledged fetch ran to success exactly once (one job, done; one stored file);
        the download log holds exactly the downloads served (and at most the unanswered ones more)."""
        srv = self.server
        problems = []

        def counted(sql, params, op):
            acked, unacked = self.writes(op)
            have = collections.Counter(r["v"] for r in srv.rows(sql, params))
            problems.extend(f"{op} {x} acknowledged, in the database {have[x]} times" for x in acked if have[x] != 1)
            problems.extend(f"{op} {x} not acknowledged, in the database {have[x]} times" for x in unacked if have[x] > 1)
            return len(acked), len(unacked)

        account = lambda key: srv.rows("SELECT account_id FROM credentials WHERE api_key = ?", (key,))[0]["account_id"]
        store_account = account(self.store.key)
        files_account = account(self.files.store.key)
        like = f"%{self.run_id}%"
        counts = {
            "store_write": counted("SELECT sku AS v FROM items WHERE account_id = ? AND sku LIKE ?",
                                   (store_account, like), "store_write"),
            "store_upload": counted("SELECT filename AS v FROM uploads WHERE account_id = ? AND filename LIKE ?",
                                    (store_account, like), "store_upload"),
            "files_upload": counted("SELECT name AS v FROM media_files WHERE account_id = ? AND name LIKE ?",
                                    (files_account, like), "files_upload"),
        }
        for op in ("fetch_create", "jobs_create", "downloader_create"):
            counts[op] = counted("SELECT url AS v FROM fetches WHERE url LIKE ?", (like,), op)
        # Downloads: each 200 was logged once; an unanswered one at most once more.
        served = sum(1 for r in self.records if r.op == "store_download" and r.acked)
        unanswered = sum(1 for r in self.records if r.op == "store_download" and not r.acked)
        logged = srv.rows("SELECT COUNT(*) AS n FROM downloads d JOIN order_items oi ON oi.id = d.order_item_ref "
                          "WHERE oi.guid = ?", (self.guid,))[0]["n"]
        if not served <= logged <= served + unanswered:
            problems.append(f"downloads: {served} served (+{unanswered} unanswered), {logged} logged")
        # Every fetch finishes, once.
        deadline = time.monotonic() + fetch_timeout
        while True:
            rows = srv.rows("SELECT public_id, status FROM fetches WHERE url LIKE ?", (like,))
            if all(r["status"] in ("success", "failed") for r in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for r in rows:
            jobs = fetch_jobs(srv, r["public_id"])
            stored = stored_fetch_files(srv, r["public_id"])
            if r["status"] != "success" or [j["state"] for j in jobs] != ["done"] or len(stored) != 1:
                problems.append(f"fetch {r['public_id']}: {r['status']}, jobs {jobs}, {len(stored)} stored files")
        problems.extend(inconsistencies(srv))
        return problems, counts, rows


def inconsistencies(server):
    """What is half-written: a row that says it has stored bytes without them; SQLite's integrity_check."""
    found = []
    for table, cond in (("uploads", "1 = 1"), ("media_files", "status = 'ready'"), ("fetches", "status = 'success'")):
        for row in server.rows(f"SELECT storage_key FROM {table} WHERE {cond} AND storage_key IS NOT NULL"):
            if not server.stored_objects(row["storage_key"]):
                found.append(f"{table} row with storage key {row['storage_key']} has no stored bytes")
    if server.backend.kind == "sqlite":
        check = server.rows("PRAGMA integrity_check")
        if [r["integrity_check"] for r in check] != ["ok"]:
            found.append(f"integrity_check: {check}")
    return found
