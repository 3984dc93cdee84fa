"""Queue lanes: a burst of long jobs never holds up a short one (issue 8, gap "one slow kind of
job starves another"). After a burst of uploads, order emails used to wait minutes behind the
uploads' ffprobe jobs, because every worker thread took the oldest due job of any kind.

The assertion is about order, not speed: the email is queued after a few hundred probe jobs,
and it must be sent while the newest of them has not even been claimed yet. Without lanes the
queue is first in, first out, so by the time the email goes out every earlier probe job has
been claimed, however fast or slow the machine is.
"""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import FilesClient, mails_to, running_server, stock_shop, unique_email, wait_for

BURST = 300          # probe jobs ahead of the email: ~100 ms of ffprobe each, two long-lane threads
UPLOADERS = 4        # parallel uploads, so the backlog grows faster than the long lane drains it
MAIL_SECONDS = 10    # "within a few seconds": the short lane polls every 0.5 s
BOUND_SECONDS = 120  # how long the test waits at most for anything


@pytest.fixture(scope="module")
def lane_server(tmp_path_factory):
    """A server of its own: its backlog must not slow other tests' probes, nor theirs this one."""
    with running_server(tmp_path_factory, "fetchgate-lanes") as srv:
        yield srv


def pending_among_newest(files, ids):
    """How many of `ids` the newest page of the list shows as not yet claimed (pending)."""
    wanted = set(ids)
    return sum(1 for f in files.listing(per_page=100)["files"] if f["id"] in wanted and f["status"] == "pending")


def test_order_email_overtakes_a_probe_backlog(lane_server, media):
    shop = stock_shop(lane_server.create_account())
    files = FilesClient(lane_server, shop.token)

    # The burst: BURST uploads of a real clip, each queueing an ffprobe job in the long lane.
    with ThreadPoolExecutor(max_workers=UPLOADERS) as pool:
        ids = list(pool.map(lambda i: files.upload(f"clip-{i}.mp4", media.mp4_bytes, "video/mp4")["id"], range(BURST)))
    newest = ids[-1]
    backlog = pending_among_newest(files, ids)
    assert files.file(newest)["status"] == "pending", \
        f"the long lane drained the burst before the order was placed ({backlog} of the newest 100 pending): " \
        f"no backlog to test against"

    # The short job: an order with an email, queued after every probe job of the burst.
    address = unique_email("lanes")
    placed = time.monotonic()
    shop.create_order(["A"], email=address)
    wait_for(lambda: mails_to(lane_server.run_dir, address), timeout=BOUND_SECONDS, interval=0.05,
             what=f"the order email to {address}")
    took = time.monotonic() - placed

    # Right after it landed: the newest probe job, queued before the email, is still waiting.
    newest_status = files.file(newest)["status"]
    still_pending = pending_among_newest(files, ids)
    assert newest_status == "pending", \
        f"the email went out {took:.1f} s after the order, only after the probe job queued before it was " \
        f"claimed (newest upload: {newest_status}; {still_pending} of the newest 100 still pending; " \
        f"{backlog} were pending when the order was placed)"
    assert still_pending > 0
    print(f"email {took:.2f} s after the order; probe jobs pending among the newest 100: {backlog} at the order, "
          f"{still_pending} when the email landed")
    assert took < MAIL_SECONDS, f"the email took {took:.1f} s behind a backlog of {still_pending}+ probe jobs"

    # The long lane was working through its backlog meanwhile.
    oldest = files.file(ids[0])
    assert oldest["status"] == "ready" and oldest["ffprobe"] is not None, oldest
