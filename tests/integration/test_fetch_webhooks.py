"""Signed webhooks of the Fetch API (issue 10, Standard Webhooks): the receiver verifies every
delivery with the `standardwebhooks` package from PyPI and the account's `whsec_…` secret
(`fetchgate webhook-secret --key K`). The stack runs the retry schedule scaled by
`--webhook-retry-scale 0.01` (now, 0.05 s, 3 s, 18 s, …), so "down, then up" takes seconds.
"""
import os
import signal
import time
import uuid

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from conftest import FetchClient, assert_json_error, wait_for, webhook_secret

DELIVERY_KEYS = {"id", "message_id", "url", "attempt", "attempted_at", "status", "duration_ms", "error"}  # CONTRACT


def hooked(server, api, receiver, name=None):
    """Registers the account's secret with the receiver; returns the webhook URL."""
    name = name or uuid.uuid4().hex[:8]
    receiver.secret(name, webhook_secret(server, api.store.key))
    return receiver.url(name), name


def wait_deliveries(api, fetch_id, count, timeout=15):
    return wait_for(lambda: (lambda log: log if len(log) >= count else None)(api.deliveries(fetch_id)),
                    timeout=timeout, interval=0.1, what=f"{count} delivery attempt(s) of {fetch_id}")


def check_log(log, url):
    for n, d in enumerate(log, start=1):
        assert set(d) == DELIVERY_KEYS, d
        assert d["attempt"] == n and d["url"] == url, log
        assert isinstance(d["duration_ms"], int) and d["duration_ms"] >= 0, d
    assert len({d["message_id"] for d in log}) == 1 and log[0]["message_id"].startswith("msg_"), log


def test_secret_is_whsec_and_stable(fetch_server, fetch_api):
    secret = webhook_secret(fetch_server, fetch_api.store.key)
    assert secret.startswith("whsec_")
    Webhook(secret)  # the package accepts it
    assert webhook_secret(fetch_server, fetch_api.store.key) == secret


def test_success_is_delivered_signed(fetch_server, fetch_api, media_origin, webhook_receiver):
    url, name = hooked(fetch_server, fetch_api, webhook_receiver)
    f = fetch_api.succeeded(media_origin.mp4_url, webhook_url=url)
    got = wait_for(lambda: webhook_receiver.received(name), timeout=15, what="the webhook")
    assert len(got) == 1 and got[0]["verified"], got
    d = got[0]
    assert d["headers"]["webhook-id"].startswith("msg_")
    assert abs(int(d["headers"]["webhook-timestamp"]) - time.time()) < 60
    assert d["headers"]["webhook-signature"].startswith("v1,")
    assert d["headers"]["content-type"].startswith("application/json")
    # The body is the fetch's status object at completion.
    assert d["payload"] == fetch_api.fetch(f["id"]), d["payload"]
    log = wait_deliveries(fetch_api, f["id"], 1)
    check_log(log, url)
    assert log[0]["status"] == 204 and log[0]["error"] is None and log[0]["message_id"] == d["headers"]["webhook-id"]
    time.sleep(1)
    assert len(webhook_receiver.received(name)) == 1 and len(fetch_api.deliveries(f["id"])) == 1


def test_failure_is_delivered_too(fetch_server, fetch_api, media_origin, webhook_receiver):
    url, name = hooked(fetch_server, fetch_api, webhook_receiver)
    f = fetch_api.wait(fetch_api.create(media_origin.missing_url, webhook_url=url)["id"])
    assert f["status"] == "failed"
    got = wait_for(lambda: webhook_receiver.received(name), timeout=15, what="the webhook")
    assert got[0]["verified"] and got[0]["payload"]["status"] == "failed", got
    assert got[0]["payload"]["error"] == f["error"]


def test_receiver_down_then_up(fetch_server, fetch_api, media_origin, webhook_receiver):
    url, name = hooked(fetch_server, fetch_api, webhook_receiver)
    webhook_receiver.down()
    f = fetch_api.succeeded(media_origin.mp4_url, webhook_url=url)
    # Now and 5 s x 0.01 later: both refused.
    log = wait_deliveries(fetch_api, f["id"], 2)
    assert [d["status"] for d in log[:2]] == [None, None] and all(d["error"] for d in log[:2]), log
    webhook_receiver.up()
    got = wait_for(lambda: webhook_receiver.received(name), timeout=30, what="the retried webhook")
    assert len(got) == 1 and got[0]["verified"], got
    log = wait_for(lambda: (lambda lg: lg if lg[-1]["status"] == 204 else None)(fetch_api.deliveries(f["id"])),
                   timeout=10, what="the log to show the success")
    check_log(log, url)
    assert [d["status"] for d in log] == [None] * (len(log) - 1) + [204], log
    assert got[0]["headers"]["webhook-id"] == log[0]["message_id"]
    time.sleep(4)
    assert len(webhook_receiver.received(name)) == 1 and len(fetch_api.deliveries(f["id"])) == len(log)


def test_500_is_retried_with_the_same_id(fetch_server, fetch_api, media_origin, webhook_receiver):
    url, name = hooked(fetch_server, fetch_api, webhook_receiver)
    webhook_receiver.set_answer(500)
    f = fetch_api.succeeded(media_origin.mp4_url, webhook_url=url)
    wait_for(lambda: len(webhook_receiver.received(name)) >= 2, timeout=15, what="two attempts")
    webhook_receiver.set_answer(200)
    wait_for(lambda: webhook_receiver.received(name)[-1]["answered"] == 200, timeout=30, what="a 200")
    got = webhook_receiver.received(name)
    assert all(d["verified"] for d in got), got
    assert len({d["headers"]["webhook-id"] for d in got}) == 1
    assert len({d["body"] for d in got}) == 1  # frozen at enqueue time
    log = wait_for(lambda: (lambda lg: lg if lg[-1]["status"] == 200 else None)(fetch_api.deliveries(f["id"])),
                   timeout=10, what="the log")
    check_log(log, url)
    assert [d["status"] for d in log] == [d["answered"] for d in got], (log, got)


def test_410_stops_for_good(fetch_server, fetch_api, media_origin, webhook_receiver):
    url, name = hooked(fetch_server, fetch_api, webhook_receiver)
    webhook_receiver.set_answer(410)
    f = fetch_api.succeeded(media_origin.mp4_url, webhook_url=url)
    wait_for(lambda: webhook_receiver.received(name), timeout=15, what="the first attempt")
    time.sleep(5)  # past the next two scaled attempts (0.05 s and 3 s)
    assert len(webhook_receiver.received(name)) == 1
    log = fetch_api.deliveries(f["id"])
    check_log(log, url)
    assert [d["status"] for d in log] == [410], log


def test_rotate_changes_the_signing_secret(fetch_server, fetch_api, media_origin, webhook_receiver):
    old = webhook_secret(fetch_server, fetch_api.store.key)
    out = fetch_server.cli("webhook-secret", "--key", fetch_api.store.key, "--rotate").stdout
    new = [w for w in out.split() if w.startswith("whsec_")]
    assert len(new) == 1 and new[0] != old, out
    assert webhook_secret(fetch_server, fetch_api.store.key) == new[0]
    url, name = hooked(fetch_server, fetch_api, webhook_receiver)
    fetch_api.succeeded(media_origin.mp4_url, webhook_url=url)
    got = wait_for(lambda: webhook_receiver.received(name), timeout=15, what="the webhook")
    assert got[0]["verified"], got
    try:
        Webhook(old).verify(got[0]["body"], got[0]["headers"])
        raise AssertionError("the old secret still verifies")
    except WebhookVerificationError:
        pass


def test_kill_9_between_attempts_loses_no_delivery(fetch_server, fetch_api, media_origin, webhook_receiver):
    url, name = hooked(fetch_server, fetch_api, webhook_receiver)
    webhook_receiver.down()
    f = fetch_api.succeeded(media_origin.mp4_url, webhook_url=url)
    wait_deliveries(fetch_api, f["id"], 2)
    pids = fetch_server.worker_pids()
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    wait_for(lambda: [p for p in fetch_server.worker_pids() if p != pids[0]], timeout=5, what="a restarted worker")
    webhook_receiver.up()
    got = wait_for(lambda: webhook_receiver.received(name), timeout=40, what="the delivery after the restart")
    assert got[0]["verified"]
    wait_for(lambda: fetch_api.deliveries(f["id"])[-1]["status"] == 204, timeout=10, what="the log to show it")
    time.sleep(4)
    assert len(webhook_receiver.received(name)) == 1
    log = fetch_api.deliveries(f["id"])
    check_log(log, url)
    assert [d["status"] for d in log].count(204) == 1 and log[-1]["status"] == 204, log


def test_deliveries_of_another_account_are_404(fetch_server, fetch_api, media_origin):
    f = fetch_api.succeeded(media_origin.mp4_url)
    assert fetch_api.deliveries(f["id"]) == []
    other = FetchClient(fetch_server, fetch_server.create_account().token)
    assert_json_error(other.get(f"/fetch/{f['id']}/deliveries"), 404, "not_found")
