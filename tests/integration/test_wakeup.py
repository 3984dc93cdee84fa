"""The worker's wake socket: with a poll interval of 20 s, a job queued by a dialect still starts
at once, because the dialect nudges the worker after the write (`--wake-socket`, passed by serve).
Without the nudge the probe below could not finish before the worker's next poll."""
import time

import pytest

from conftest import FilesClient, running_server

POLL_MS = 20_000


@pytest.fixture(scope="module")
def slow_polling_server(tmp_path_factory):
    with running_server(tmp_path_factory, "fetchgate-wakeup", ["--job-poll-ms", str(POLL_MS)]) as srv:
        yield srv


def test_a_queued_probe_starts_before_the_next_poll(slow_polling_server):
    client = FilesClient(slow_polling_server, slow_polling_server.create_account().token)
    # Every lane thread has claimed nothing and is waiting out its 20 s poll by now.
    time.sleep(1)
    started = time.monotonic()
    created = client.upload("notes.txt", b"not media, probed all the same\n")
    done = client.wait(created["id"], timeout=POLL_MS / 1000 / 2)
    assert done["status"] == "ready", done
    assert time.monotonic() - started < POLL_MS / 1000 / 2
