"""Races (issue 14). The 64 clicks on a limit-3 link are tests/integration's
(test_delivery.py::test_64_concurrent_requests_on_3_downloads_left on one node,
test_nodes.py::test_64_clicks_on_a_link_with_3_downloads_split_across_both_nodes_serve_3 on two);
`make reliability` runs them with this file. Here:
- the jobs dialect's default cap (500 pending or processing per account) under 64 concurrent creators:
  exactly 500 accepted, every other create 429 `too_many_jobs` with Retry-After;
- 100 token rotations (store `/api/new_token`) raced by 10 rotators while 10 clients use the tokens:
  the rotations form one chain (no token is replaced twice: a caller is never handed a token that a
  concurrent rotation already replaced), an old token works only until its rotation's reply, the new
  one from then on (no window where both work, none where neither does), every reply exact.
"""
import collections
import concurrent.futures
import json
import threading
import time
import uuid

import requests

from support.store import message_of

JOB_CAP = 500  # `fetchgate serve`'s default --job-cap
CREATORS = 64
ROTATIONS = 100
ROTATORS = 10
USERS = 10


def test_job_cap_of_500_is_exact_under_64_concurrent_creators(reliability_server, media_origin, figures):
    server = reliability_server
    tenant = server.create_account()
    token = tenant.token
    url = media_origin.url(f"/v.mp4?cap={uuid.uuid4().hex[:8]}")
    barrier = threading.Barrier(CREATORS)
    per_creator = (JOB_CAP + 100) // CREATORS + 1  # 640 creates in all

    def creator(_):
        barrier.wait(timeout=30)
        out = []
        with requests.Session() as s:
            for _ in range(per_creator):
                # Paused: a held job counts toward the cap and runs nothing.
                r = s.post(server.media_url + "/jobs", json={"url": url, "paused": True},
                           headers={"X-API-KEY": token}, timeout=30)
                out.append((r.status_code, r.headers.get("Retry-After"), r.text))
        return out

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CREATORS) as pool:
        results = [x for xs in pool.map(creator, range(CREATORS)) for x in xs]
    took = time.monotonic() - started
    statuses = collections.Counter(s for s, _, _ in results)
    assert statuses[201] == JOB_CAP, statuses
    refused = [(s, ra, json.loads(t)["error"]["code"]) for s, ra, t in results if s != 201]
    assert collections.Counter(refused) == {(429, "5", "too_many_jobs"): len(results) - JOB_CAP}, \
        collections.Counter(refused)
    account = tenant.account_id
    held = server.rows("SELECT COUNT(*) AS n FROM fetches WHERE account_id = ? AND status IN ('pending', 'running')",
                       (account,))[0]["n"]
    assert held == JOB_CAP
    figures.record("job_cap", creates=len(results), accepted=statuses[201], refused=len(refused),
                   seconds=round(took, 2))


def test_100_token_rotations_raced_with_uses_leave_no_window(reliability_server, figures):
    server = reliability_server
    tenant = server.create_account()
    key = tenant.key
    url_rotate, url_use = server.store_url + "/api/new_token", server.store_url + "/api/account"
    lock = threading.Lock()
    current = [tenant.token]
    rotations = []   # (old, new, started, ended)
    refused = []     # (old, started, ended): a rotation that presented a token already replaced
    uses = []        # (token, started, ended, status)
    done = threading.Event()
    start = threading.Barrier(ROTATORS + USERS)

    def client(url, reply):
        """Requests `url` with the current token until the rotations are done; `reply` takes each answer."""
        with requests.Session() as s:
            start.wait(timeout=30)
            while not done.is_set():
                with lock:
                    token = current[0]
                started = time.monotonic()
                r = s.get(url, auth=(key, token), timeout=30)
                reply(token, started, time.monotonic(), r)

    def rotated(old, started, ended, r):
        if r.status_code == 200:
            new = message_of(r).strip()
            with lock:
                rotations.append((old, new, started, ended))
                # Only the rotation of the token still current moves the chain on.
                if current[0] == old:
                    current[0] = new
                if len(rotations) >= ROTATIONS:
                    done.set()
        else:
            assert r.status_code == 401, f"new_token: {r.status_code} {r.text[:200]}"
            with lock:
                refused.append((old, started, ended))

    def used(token, started, ended, r):
        uses.append((token, started, ended, r.status_code))

    with concurrent.futures.ThreadPoolExecutor(ROTATORS + USERS) as pool:
        futures = [pool.submit(client, url_rotate, rotated) for _ in range(ROTATORS)] + \
                  [pool.submit(client, url_use, used) for _ in range(USERS)]
        for f in futures:
            f.result(timeout=300)

    assert len(uses) >= ROTATIONS, f"only {len(uses)} uses raced the rotations"
    # One chain: every token was replaced at most once, each rotation replaced the previous one's token.
    replaced = collections.Counter(old for old, _, _, _ in rotations)
    forks = {t: n for t, n in replaced.items() if n > 1}
    assert not forks, f"{len(forks)} tokens replaced by more than one rotation (each such caller got 200)"
    chain = sorted(rotations, key=lambda r: r[3])
    token = tenant.token
    for old, new, _, _ in chain:
        assert old == token, "a rotation replaced a token that was not the current one"
        token = new
    # Validity windows: token i is valid from rotation i's reply (or the start) to rotation i+1's start
    # for sure, and can be valid only from rotation i's start to rotation i+1's reply.
    born = {tenant.token: (float("-inf"), float("-inf"))}
    died = {}
    for old, new, started, ended in chain:
        born[new] = (started, ended)
        died[old] = (started, ended)
    bad = []
    for tok, started, ended, status in uses:
        may_from, sure_from = born[tok][0], born[tok][1]
        may_until, sure_until = died.get(tok, (float("inf"), float("inf")))[::-1]
        if status == 200 and (ended < may_from or started > may_until):
            bad.append(("accepted outside its life", started, ended))
        if status == 401 and started >= sure_from and ended <= sure_until:
            bad.append(("refused within its life", started, ended))
        if status not in (200, 401):
            bad.append((status, started, ended))
    assert not bad, f"{len(bad)} uses broke the window rule: {bad[:10]}"
    # Afterwards exactly the last token works.
    assert requests.get(url_use, auth=(key, token), timeout=30).status_code == 200
    for old, _, _, _ in chain[-5:]:
        assert requests.get(url_use, auth=(key, old), timeout=30).status_code == 401
    figures.record("token_rotation", rotations=len(rotations), refused_rotations=len(refused), uses=len(uses),
                   uses_accepted=sum(1 for u in uses if u[3] == 200), uses_refused=sum(1 for u in uses if u[3] == 401))
