"""Process supervision: a killed store-api is restarted and the store answers again."""
import os
import signal
import subprocess
import threading
import time

import requests

from conftest import Server, StoreClient

RECOVERY_SECONDS = 2.0


def kill_store_api(server):
    pids = server.store_api_pids()
    assert len(pids) == 1, f"expected one store-api for {server.run_dir}, found {pids}"
    # The supervisor slows a crash loop to one start per second: let the last start age.
    time.sleep(1.1)
    os.kill(pids[0], signal.SIGKILL)
    return pids[0], time.monotonic()


def poll_until_ok(demo, killed_at):
    """Requests /api/account until it answers 200; returns (seconds, non-200 replies seen)."""
    others = []
    while time.monotonic() - killed_at < RECOVERY_SECONDS:
        try:
            resp = requests.get(demo.url("/api/account"), auth=demo.auth, timeout=2)
        except requests.RequestException as e:
            others.append(("exception", repr(e), ""))
            time.sleep(0.01)
            continue
        if resp.status_code == 200:
            return time.monotonic() - killed_at, others
        others.append((resp.status_code, resp.headers.get("Content-Type"), resp.text[:80]))
        time.sleep(0.01)
    return None, others


def test_store_api_restarts_after_kill_9(server, demo):
    old_pid, killed_at = kill_store_api(server)
    took, _ = poll_until_ok(demo, killed_at)
    assert took is not None, f"store did not answer 200 within {RECOVERY_SECONDS}s of kill -9"
    new = server.store_api_pids()
    assert len(new) == 1 and new[0] != old_pid, (old_pid, new)
    # It stays up and serves reads and writes.
    for _ in range(10):
        assert demo.get("/api/items/BILL-WAX").status_code == 200
    t = server.create_account()
    t.create_item("AFTER-RESTART")
    assert t.skus() == ["AFTER-RESTART"]


def test_errors_while_store_api_is_down_are_xml(server, demo):
    """Between the crash and the restart nginx answers by itself: still an XML <message>, not HTML."""
    _, killed_at = kill_store_api(server)
    took, others = poll_until_ok(demo, killed_at)
    assert took is not None
    replies = [o for o in others if o[0] != "exception"]
    bad = [r for r in replies if not (r[1] or "").startswith("application/xml") or "<message>" not in r[2]]
    assert not bad, f"non-XML error replies while store-api restarted: {bad}"


def test_store_api_restarts_again(server, demo):
    """A second crash is recovered as well, and the account data survived both."""
    _, killed_at = kill_store_api(server)
    took, _ = poll_until_ok(demo, killed_at)
    assert took is not None, f"store did not recover within {RECOVERY_SECONDS}s of a second kill -9"
    assert "BILL-WAX" in demo.skus()


def _pids(pattern):
    r = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


def test_killed_supervisor_takes_its_processes_along_and_restarts_clean(tmp_path):
    """kill -9 of `fetchgate serve`: the FastCGI processes and the worker stop with it (parent-death
    signal); a new `serve` on the same run directory retires the nginx left behind and serves again."""
    run = tmp_path / "run"
    first = Server(run)
    first.start()
    try:
        apps = [f"store-api --socket {run}/", f"files-api --socket {run}/", f"/worker .*--data {run}/data "]
        assert all(_pids(p) for p in apps), "every app process should run under the supervisor"
        first.proc.kill()
        first.proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_pids(p) for p in apps):
            time.sleep(0.1)
        assert not any(_pids(p) for p in apps), "app processes outlived a killed supervisor"
    finally:
        first.out.close()

    second = Server(run)
    second.backend = first.backend  # the same database and stored files as the first
    second.store_port, second.media_port = first.store_port, first.media_port
    second.start()
    try:
        client = StoreClient(second.store_url, second.demo_key, second.demo_token)
        assert client.get("/api/account").status_code == 200
        assert "stopping nginx left from an earlier run" in second.out_path.read_text()
    finally:
        second.stop()
    assert not _pids(f"nginx -p {run}"), "nginx should stop with the second supervisor"


def test_request_arriving_while_store_api_is_away_waits_for_the_next_one(server, demo):
    """The supervisor binds each dialect's socket once and hands it to every process: a request that
    arrives after kill -9 and before the restart waits in the socket's backlog and is answered (200)
    by the new process, not refused (nginx's 502). The supervisor is held (SIGSTOP) so the request
    surely arrives while no store-api exists."""
    old = server.store_api_pids()
    assert len(old) == 1, old
    time.sleep(1.1)  # past the crash-loop brake: the restart is immediate once the supervisor runs
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        os.kill(old[0], signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and server.store_api_pids():
            time.sleep(0.01)
        assert server.store_api_pids() == [], "the killed store-api is still there"
        replies = []
        sender = threading.Thread(target=lambda: replies.append(
            requests.get(demo.url("/api/account"), auth=demo.auth, timeout=30)))
        sender.start()
        sender.join(0.5)
        # Waiting, not refused: nobody serves the socket, yet nginx has no answer for it.
        assert sender.is_alive() and replies == [], replies
        assert server.store_api_pids() == []
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    sender.join(30)
    assert len(replies) == 1
    assert replies[0].status_code == 200, (replies[0].status_code, replies[0].text[:200])
    new = server.store_api_pids()
    assert len(new) == 1 and new[0] != old[0], (old, new)
