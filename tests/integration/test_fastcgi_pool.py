"""FastCGI connection reuse between nginx and the dialects, safe by construction. Each dialect's
upstream keeps `keepalive K` idle connections per nginx worker (`fastcgi_keep_conn on`), and a kept
connection parks one of the dialect's T request threads (libfcgi serves that connection only). The
rendered config sizes K from T and nginx's W workers so that W×K < T: a thread is always left for a
new connection (bench/delivery.sh `limits` shows T <= W×K answering 504s). Here: the rendered
numbers, 4×T concurrent clients each answered in time, and a dialect stopping at once although
nginx keeps connections open to its threads."""
import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import running_server, wait_for

THREADS = 3  # the fewest with a pool on 2 cores (K = 1, W×K = 2): one thread to spare
# A request that waited for a thread nginx's pools had taken would end after nginx's read timeout
# (60 s) with a 504; every reply here comes well inside this.
BOUND_SECONDS = 15


@pytest.fixture(scope="module")
def pooled(tmp_path_factory):
    with running_server(tmp_path_factory, "pool", extra_args=["--threads", str(THREADS)]) as srv:
        yield srv


def rendered(srv):
    conf = (srv.run_dir / "nginx.conf").read_text()
    workers = int(re.search(r"^worker_processes (\d+);$", conf, re.M).group(1))
    pools = dict(re.findall(r"upstream (\w+) \{[^}]*?keepalive (\d+);", conf))
    return conf, workers, {name: int(k) for name, k in pools.items()}


def test_every_dialect_pool_leaves_a_thread_free(pooled):
    conf, workers, pools = rendered(pooled)
    assert workers == os.cpu_count()
    keepalive = (THREADS - 1) // workers
    assert keepalive >= 1, "this machine has too many cores for a pool of 3 threads; the test needs K >= 1"
    assert pools == {f"{name}_api": keepalive for name in ("store", "files", "fetch", "downloader", "jobs")}
    assert workers * keepalive < THREADS
    # Every location that passes to a pooled upstream asks nginx to keep the connection.
    for block in re.findall(r"location (?:\^~|=) [^{]+\{[^}]*\}", conf):
        if re.search(r"fastcgi_pass (store|files|fetch|downloader|jobs)_api;", block):
            assert "fastcgi_keep_conn on;" in block, block


def test_default_threads_get_the_pool_their_count_allows(server):
    _, workers, pools = rendered(server)
    threads = max(2, 2 * os.cpu_count())  # FastCGI Server's default: two per core
    assert set(pools.values()) == ({(threads - 1) // workers} - {0})


def test_four_times_the_threads_in_parallel_are_all_answered_in_time(pooled):
    """4×T clients at once on both servers, each request on a new client connection (so nginx's
    workers take them in turn and each fills its pool), 400 requests in all."""
    shop = pooled.create_account()
    files = pooled.files_client(shop.token)

    def one(n):
        started = time.monotonic()
        try:
            if n % 2:
                resp = requests.get(shop.url("/api/items.xml"), auth=shop.auth, timeout=BOUND_SECONDS)
            else:
                resp = requests.get(f"{pooled.media_url}/files", headers={"X-API-KEY": files.token}, timeout=BOUND_SECONDS)
        except requests.Timeout:
            return "no reply", time.monotonic() - started
        return resp.status_code, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=4 * THREADS) as pool:
        results = list(pool.map(one, range(400)))
    assert [status for status, _ in results] == [200] * 400
    slowest = max(seconds for _, seconds in results)
    assert slowest < BOUND_SECONDS, f"a request took {slowest:.1f} s"


def test_a_dialect_stops_at_once_with_connections_kept_to_it(pooled):
    """SIGTERM to store-api while nginx keeps idle connections to its threads: it does not wait for
    nginx to close them (60 s), it stops within a second or two and the supervisor starts a new one."""
    shop = pooled.create_account()
    with ThreadPoolExecutor(max_workers=4 * THREADS) as pool:
        statuses = list(pool.map(lambda _: requests.get(shop.url("/api/items.xml"), auth=shop.auth, timeout=30).status_code,
                                 range(100)))
    assert statuses == [200] * 100
    [pid] = pooled.store_api_pids()
    time.sleep(1.1)  # the supervisor starts a process at most once a second
    os.kill(pid, signal.SIGTERM)
    started = time.monotonic()

    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie until the supervisor reaps it: gone as well.
        try:
            return open(f"/proc/{pid}/stat").read().split(") ", 1)[1].startswith("Z")
        except FileNotFoundError:
            return True

    wait_for(gone, timeout=10, interval=0.02, what=f"store-api {pid} to stop")
    assert time.monotonic() - started < 3
    wait_for(lambda: requests.get(shop.url("/api/items.xml"), auth=shop.auth, timeout=10).status_code == 200,
             timeout=10, what="the restarted store-api to answer")
