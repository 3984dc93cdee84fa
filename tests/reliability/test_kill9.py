"""Kill -9 under load (issue 14): while the mixed load runs, a FastCGI process of a dialect or the
worker is killed with SIGKILL at random, again and again. Checks:
- the supervisor restarts each: the gap from the kill to a new process answering (a dialect: its own
  401 to a request without credentials; the worker: a new pid) is measured, its max reported against
  the goal of 1 s and held to RESTART_LIMIT;
- no job is lost and no row is half-written (the mixed load's database check: every acknowledged
  write once, every acknowledged fetch done by exactly one job with one stored file);
- every successful fetch made through the fetch dialect had its webhook delivered at least once
  (signature verified by a local receiver);
- the clients see only the requests in flight fail: every failed request was sent before the killed
  process was gone and ended after the kill (accepted by the killed process), and got nginx's 502 with
  the dialect's "unavailable" page (XML on the store, JSON on the media dialects); a request sent while
  the process is away waits in the socket's backlog (the supervisor holds the listening socket) and is
  answered by the next process: none of those fails.
"""
import collections
import os
import random
import signal
import subprocess
import threading
import time

import requests

from reliability import budget
from support.server import wait_for
from mixedload import MixedLoad

KILLS = budget(8, 60)
SECONDS = budget(40, 240)        # the load's bound; the killer stops after KILLS
# Seconds from kill -9 to the new process answering: the goal (reported as met or missed with
# the load average: on 2 shared cores at a load of 10+, exec and start of a dialect alone can take
# longer), and the bound held (a supervisor that stopped restarting, or restarted late, fails it).
RESTART_GOAL = 1.0
RESTART_LIMIT = 3.0
# The supervisor starts a child at most once a second (crash-loop brake): a target is killed again only
# once its last start is older than that, so every gap measured is the restart itself.
BRAKE = 1.1
UNAVAILABLE = b"Service temporarily unavailable, retry shortly"


def dialect_probes(server):
    """Executable → (URL, headers, status the app itself answers) for a request without credentials."""
    s, m = server.store_url, server.media_url
    return {"store-api": (f"{s}/api/account", 401), "files-api": (f"{m}/files", 401),
            "fetch-api": (f"{m}/fetch", 401), "jobs-api": (f"{m}/jobs", 401),
            "downloader-api": (f"{m}/api/downloads", 200)}  # key-less: the Downloader account


def pids_of(server, target):
    if target == "worker":
        return server.worker_pids()
    r = subprocess.run(["pgrep", "-f", f"{target} --socket {server.run_dir}/"], capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


def gone(pid):
    """Every thread of the process dead (a zombie not yet reaped counts) or reaped. Not the group
    leader alone: a thread woken by the SIGKILL but not yet scheduled (a busy machine) still takes a
    connection queued meanwhile (the kernel's accept dequeues before it checks for the signal), and
    that request fails with the process: it was accepted by the killed process."""
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    return False
        return True
    except (FileNotFoundError, ProcessLookupError):
        return True


def kill_and_wait(server, target, probes):
    """SIGKILL of the target's one process; (kill time, death seen, new pid seen, answered time)."""
    old = pids_of(server, target)
    assert len(old) == 1, f"{target}: {old}"
    killed_at = time.monotonic()
    os.kill(old[0], signal.SIGKILL)
    while not gone(old[0]):
        time.sleep(0.001)
    dead_at = time.monotonic()
    deadline = killed_at + 10
    started_at = None
    while time.monotonic() < deadline:
        new = [p for p in pids_of(server, target) if p != old[0]]
        if new:
            started_at = started_at or time.monotonic()
            if target == "worker":
                return killed_at, dead_at, started_at, started_at
            url, status = probes[target]
            try:
                if requests.get(url, timeout=2).status_code == status:
                    return killed_at, dead_at, started_at, time.monotonic()
            except requests.RequestException:
                pass
        time.sleep(0.005)
    raise AssertionError(f"{target} (pid {old[0]}) not back within 10 s of kill -9\n{server.logs()}")


def test_kill_9_under_load(reliability_server, media_origin, webhook_receiver, figures):
    server = reliability_server
    probes = dialect_probes(server)
    targets = list(probes) + ["worker"]
    load = MixedLoad(server, media_origin, webhook_receiver)
    load.use_webhooks()
    stop = threading.Event()
    loader = threading.Thread(target=load.run, args=(SECONDS,), kwargs={"threads": 4, "fetch_every": 2.0, "stop": stop})
    loader.start()
    kills = []  # (target, killed_at, answered_at)
    deaths = {}  # killed_at → when the killed process was seen gone
    starts = []  # seconds from the kill to the new pid
    last_start = {t: time.monotonic() - BRAKE for t in targets}
    rng = random.Random(14)
    try:
        time.sleep(1.0)  # the load is running
        while len(kills) < KILLS:
            ready = [t for t in targets if time.monotonic() - last_start[t] >= BRAKE]
            if not ready:
                time.sleep(0.05)
                continue
            # At random among the ready targets killed least so far: every one of them is killed.
            fewest = min(sum(1 for k in kills if k[0] == t) for t in ready)
            target = rng.choice([t for t in ready if sum(1 for k in kills if k[0] == t) == fewest])
            killed_at, dead_at, started_at, answered_at = kill_and_wait(server, target, probes)
            deaths[killed_at] = dead_at
            last_start[target] = started_at
            starts.append(started_at - killed_at)
            kills.append((target, killed_at, answered_at))
            time.sleep(rng.uniform(0.1, 0.6))
        time.sleep(1.0)
    finally:
        stop.set()
        loader.join()

    # Every process of the stack is back, once each.
    for t in targets:
        assert len(pids_of(server, t)) == 1, f"{t}: {pids_of(server, t)}"
    gaps = collections.defaultdict(list)
    for target, k, a in kills:
        gaps[target].append(a - k)
    worst = max(a - k for _, k, a in kills)

    # Failures only of requests in flight at a dialect's kill: sent before the killed process was gone
    # (seen within a millisecond) and still unanswered at the kill. A request sent later waited in the
    # backlog of the socket the supervisor holds, and was answered by the next process.
    windows = [(k, a) for t, k, a in kills if t != "worker"]
    failures = load.failures()
    in_flight = [r for r in failures if any(r.started < deaths[k] and r.ended >= k for k, _ in windows)]
    while_away = [r for r in failures if r not in in_flight]
    sent_while_away = sum(1 for r in load.records if any(deaths[k] <= r.started <= a for k, a in windows))
    assert not while_away, f"failed requests not in flight at any kill: {while_away[:20]}"
    # nginx's answer for an upstream that died mid-request: 502 with the dialect's "unavailable" page (XML or JSON).
    assert all(r.status == 502 and UNAVAILABLE in r.body for r in failures), \
        collections.Counter(f"{r!r} {r.body[:80]!r}" for r in failures)

    # No job lost, nothing half-written, nothing duplicated.
    problems, counts, fetches = load.check_database(fetch_timeout=budget(90, 180))
    assert not problems, "\n".join(problems[:50]) + "\n" + server.logs()
    # Webhooks: at least once per successful fetch of the fetch dialect.
    made = [ident for op, ident, _ in load.fetch_ids if op == "fetch_create"]
    wait_for(lambda: all(any(ident.encode() in d["body"] and d["verified"] for d in webhook_receiver.received(load.hook_name))
                         for ident in made), timeout=60, what="a verified webhook for every fetch")
    deliveries = collections.Counter(ident for ident in made for d in webhook_receiver.received(load.hook_name)
                                     if ident.encode() in d["body"])
    figures.record("kill9", kills=len(kills), per_target={t: len(g) for t, g in sorted(gaps.items())},
                   max_gap_s=round(worst, 3), max_new_pid_s=round(max(starts), 3),
                   max_gap_per_target={t: round(max(g), 3) for t, g in sorted(gaps.items())},
                   mean_gap_s=round(sum(a - k for _, k, a in kills) / len(kills), 3),
                   over_goal=sum(1 for _, k, a in kills if a - k > RESTART_GOAL),
                   goal=f"<= {RESTART_GOAL} s: {'met' if worst <= RESTART_GOAL else 'missed'}",
                   load_average=os.getloadavg()[0],
                   requests=len(load.records), failed=len(failures), failed_in_flight=len(in_flight),
                   failed_while_away=len(while_away), sent_while_away=sent_while_away,
                   fetches=len(fetches), webhooks_made=len(made),
                   webhook_deliveries_max=max(deliveries.values(), default=0))
    assert worst <= RESTART_LIMIT, f"slowest restart {worst:.3f}s (limit {RESTART_LIMIT}s): {dict(gaps)}"
    assert all(counts[op][0] > 0 for op in counts), counts
