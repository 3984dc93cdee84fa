"""Webhook delivery by the worker (`webhook.deliver` jobs), through a running `fetchgate serve`.

Each test queues a message as the fetch code does (a job row with the payload
{account_id, subject_id, message_id, url, body}), straight in the stack's database, and a local
receiver records what reaches it; signatures are checked with the `standardwebhooks` package.
The server runs the retry schedule a hundred times faster (`--webhook-retry-scale 0.01`: attempts
at once, at once, then 3 s, 18 s … later) and may reach `localhost` by name only.
"""
import json
import os
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from conftest import free_port, running_server, wait_for


@pytest.fixture(scope="module")
def hooks(tmp_path_factory):
    with running_server(tmp_path_factory, "fetchgate-webhooks",
                        ["--allow-private-hosts", "localhost", "--job-poll-ms", "100", "--job-lease", "5",
                         "--webhook-retry-scale", "0.01"]) as srv:
        yield srv


class Receiver:
    """A webhook receiver on 127.0.0.1: answers each POST with the next of `statuses` (then 200)
    and records every request (method, path, headers, body)."""

    def __init__(self, statuses=(), port=None):
        self.statuses = list(statuses)
        self.port = port or free_port()
        self.hits = []
        self.lock = threading.Lock()
        self.httpd = None

    def url(self, path="/hook"):
        return f"http://localhost:{self.port}{path}"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.hits.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                          "body": body})
                    status = receiver.statuses.pop(0) if receiver.statuses and self.command == "POST" else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", receiver.url("/elsewhere"))
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def close(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    def posts(self):
        with self.lock:
            return [h for h in self.hits if h["method"] == "POST"]


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(), port=None, start=True):
        r = Receiver(statuses, port)
        made.append(r)
        return r.start() if start else r
    yield make
    for r in made:
        r.close()


def enqueue(server, account_id, url, body, attempts=0, job_account=True):
    """Queues a message as `WebhookService.enqueue` does; `attempts` already used (to reach the last).
    `job_account=False`: the job row names no account (the message still does)."""
    message = {"account_id": account_id, "subject_id": str(uuid.uuid4()), "message_id": "msg_" + uuid.uuid4().hex[:24],
               "url": url, "body": body}
    now = int(time.time())
    server.execute("INSERT INTO jobs (account_id, kind, payload, subject_id, run_at, max_attempts, attempts, created_at) "
                   "VALUES (?, 'webhook.deliver', ?, ?, ?, 8, ?, ?)",
                   (account_id if job_account else None, json.dumps(message), message["message_id"], now, attempts, now))
    return message


def deliveries(server, message):
    return server.rows("SELECT account_id, subject_id, message_id, url, attempt, attempted_at, status, duration_ms, error "
                       "FROM webhook_deliveries WHERE subject_id = ? ORDER BY id", (message["subject_id"],))


def job(server, message):
    row, = server.rows("SELECT state, attempts, last_error FROM jobs WHERE subject_id = ?", (message["message_id"],))
    return row["state"], row["attempts"], row["last_error"]


def secret_of(server, account, rotate=False):
    out = server.cli("webhook-secret", "--key", account.key, *(["--rotate"] if rotate else [])).stdout.strip()
    assert out.startswith("whsec_"), out
    return out


def body_for(message_id_hint="x"):
    return json.dumps({"id": str(uuid.uuid4()), "status": "success", "title": "Café ☕ " + message_id_hint})


def verified(secret, hit):
    return Webhook(secret).verify(hit["body"], hit["headers"])


def test_a_signed_post_reaches_the_receiver(hooks, receiver):
    account = hooks.create_account()
    secret = secret_of(hooks, account)
    assert secret_of(hooks, account) == secret, "the secret is kept"
    r = receiver()
    body = body_for()
    message = enqueue(hooks, account.account_id, r.url(), body)

    wait_for(lambda: job(hooks, message)[0] == "done", timeout=10, interval=0.05, what="the delivery")
    [hit] = r.posts()
    assert hit["path"] == "/hook"
    assert hit["body"] == body.encode()
    assert hit["headers"]["Content-Type"] == "application/json"
    assert hit["headers"]["webhook-id"] == message["message_id"]
    assert abs(int(hit["headers"]["webhook-timestamp"]) - time.time()) < 30
    assert hit["headers"]["webhook-signature"].startswith("v1,")
    assert verified(secret, hit) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(hit["body"], hit["headers"])

    [row] = deliveries(hooks, message)
    assert row["account_id"] == account.account_id and row["message_id"] == message["message_id"]
    assert row["url"] == r.url() and row["attempt"] == 1 and row["status"] == 200 and row["error"] is None
    assert 0 <= row["duration_ms"] < 5000
    assert abs(row["attempted_at"] - int(hit["headers"]["webhook-timestamp"])) == 0


def test_a_rotated_secret_signs_what_is_sent_after(hooks, receiver):
    account = hooks.create_account()
    old = secret_of(hooks, account)
    new = secret_of(hooks, account, rotate=True)
    assert new != old
    r = receiver()
    message = enqueue(hooks, account.account_id, r.url(), body_for())
    wait_for(lambda: r.posts(), timeout=10, interval=0.05, what="the delivery")
    [hit] = r.posts()
    verified(new, hit)
    with pytest.raises(WebhookVerificationError):
        verified(old, hit)
    wait_for(lambda: job(hooks, message)[0] == "done", timeout=5, interval=0.05, what="the job done")


def test_a_receiver_down_then_up_gets_it_later_with_the_same_id(hooks, receiver):
    account = hooks.create_account()
    secret = secret_of(hooks, account)
    r = receiver(start=False)  # nothing listens on its port yet
    message = enqueue(hooks, account.account_id, r.url(), body_for())

    # Attempts 1 and 2 go at once and find nothing; attempt 3 is due 3 s (±10 %) after attempt 2.
    wait_for(lambda: len(deliveries(hooks, message)) == 2, timeout=10, interval=0.02, what="two failed attempts")
    r.start()
    wait_for(lambda: job(hooks, message)[0] == "done", timeout=15, interval=0.05, what="the delivery")

    rows = deliveries(hooks, message)
    assert [row["attempt"] for row in rows] == [1, 2, 3]
    assert [row["status"] for row in rows] == [None, None, 200]
    assert all("request failed" in row["error"] for row in rows[:2]), rows
    assert rows[2]["error"] is None
    assert 2 <= rows[2]["attempted_at"] - rows[1]["attempted_at"] <= 5, rows
    [hit] = r.posts()
    assert hit["headers"]["webhook-id"] == message["message_id"]
    verified(secret, hit)


def test_410_stops_retries(hooks, receiver):
    account = hooks.create_account()
    r = receiver([410])
    message = enqueue(hooks, account.account_id, r.url(), body_for())
    wait_for(lambda: job(hooks, message)[0] == "done", timeout=10, interval=0.05, what="the attempt")
    time.sleep(1.5)  # a retry would go at once (5 s × 0.01)
    assert len(r.posts()) == 1
    [row] = deliveries(hooks, message)
    assert row["status"] == 410 and "no more attempts" in row["error"], row


def test_a_redirect_is_not_followed_and_counts_as_a_failure(hooks, receiver):
    account = hooks.create_account()
    secret = secret_of(hooks, account)
    r = receiver([302])
    message = enqueue(hooks, account.account_id, r.url(), body_for())
    wait_for(lambda: job(hooks, message)[0] == "done", timeout=10, interval=0.05, what="the delivery")
    assert [row["status"] for row in deliveries(hooks, message)] == [302, 200]
    assert [h["path"] for h in r.hits] == ["/hook", "/hook"], "the redirect's target was requested"
    ids = {h["headers"]["webhook-id"] for h in r.posts()}
    assert ids == {message["message_id"]}
    for hit in r.posts():
        verified(secret, hit)


def test_kill_9_of_the_worker_between_attempts_loses_no_delivery(hooks, receiver):
    account = hooks.create_account()
    secret = secret_of(hooks, account)
    r = receiver([503, 503])
    message = enqueue(hooks, account.account_id, r.url(), body_for())
    wait_for(lambda: len(deliveries(hooks, message)) == 2, timeout=10, interval=0.02, what="two failed attempts")
    # Between attempts: the job waits in the queue for its time (3 s away).
    assert job(hooks, message)[0] == "queued"
    pids = hooks.worker_pids()
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    wait_for(lambda: [p for p in hooks.worker_pids() if p != pids[0]], timeout=5, interval=0.05, what="a restarted worker")

    wait_for(lambda: job(hooks, message)[0] == "done", timeout=15, interval=0.05, what="the delivery")
    time.sleep(0.5)
    rows = deliveries(hooks, message)
    assert [(row["attempt"], row["status"]) for row in rows] == [(1, 503), (2, 503), (3, 200)]
    posts = r.posts()
    assert len(posts) == 3
    assert {h["headers"]["webhook-id"] for h in posts} == {message["message_id"]}
    for hit in posts:
        verified(secret, hit)


def test_the_last_attempt_fails_for_good(hooks, receiver):
    account = hooks.create_account()
    r = receiver([500])
    message = enqueue(hooks, account.account_id, r.url(), body_for(), attempts=7)  # the eighth is the last
    wait_for(lambda: job(hooks, message)[0] == "failed", timeout=10, interval=0.05, what="the last attempt")
    state, attempts, last_error = job(hooks, message)
    assert attempts == 8 and last_error == "the receiver answered HTTP 500"
    [row] = deliveries(hooks, message)
    assert row["attempt"] == 8 and row["status"] == 500
    assert row["error"] == "the receiver answered HTTP 500; no more attempts"
    assert len(r.posts()) == 1


def test_a_refused_address_is_never_reached(hooks, receiver):
    account = hooks.create_account()
    secret = secret_of(hooks, account)
    r = receiver()
    # 127.0.0.1 by address: only `localhost` is allowed by name.
    message = enqueue(hooks, account.account_id, f"http://127.0.0.1:{r.port}/hook", body_for(), attempts=7)
    wait_for(lambda: job(hooks, message)[0] == "failed", timeout=10, interval=0.05, what="the refused attempt")
    [row] = deliveries(hooks, message)
    assert row["status"] is None and "non-public address 127.0.0.1" in row["error"], row
    assert r.hits == []
    # The secret is in no log: not the delivery's, not the job's.
    assert secret not in row["error"] and secret not in (job(hooks, message)[2] or "")


def test_a_message_of_an_account_that_is_gone_is_dropped(hooks, receiver):
    r = receiver()
    # The job row cannot name a missing account (its foreign key is enforced on PostgreSQL): only the message does.
    message = enqueue(hooks, 999_999, r.url(), body_for(), job_account=False)
    wait_for(lambda: job(hooks, message)[0] == "done", timeout=10, interval=0.05, what="the job to end")
    assert r.hits == [] and deliveries(hooks, message) == []
