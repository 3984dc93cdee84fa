"""Harness for the Fetchgate integration suite: the fixtures. The helpers live in `support/`,
one concern per module, and every name is re-exported here (tests import from conftest):

- support/http.py     what both clients share (base URL, timeout, verbs)
- support/store.py    the store dialect's reply rules, `StoreClient`, orders and shops
- support/files.py    the Files API's shapes, `FilesClient`, link signing, ffmpeg media
- support/origins.py  local HTTP origins for URL imports
- support/server.py   one `fetchgate serve` on free loopback ports, its CLI and its files
- support/backends.py where a stack keeps rows and stored files: SQLite + disk, or PostgreSQL + S3 (moto)
- support/mail.py     the outbox's `.eml` files
- support/raw.py      raw HTTP for requests `requests` cannot send
- support/rng.py      the one seeded generator of randomized tests (fixture `rng`)

One `fetchgate serve` (nginx and every dialect) runs for the whole session in a temporary run
directory on free ports of 127.0.0.1. Tests talk to it over HTTP only, and use the admin CLI
(same --run-dir) to create their own tenants so state-changing tests do not interfere.
"""
import os
import time

import pytest

from support import backends
from support.files import (FILE_KEYS, FILES_STATUSES, READY_TIMEOUT, FilesClient, MediaSamples,
                           assert_download_location, assert_json_error, check_file_object, download_disposition,
                           download_signature, nginx_signed_links, parse_json, secure_link_md5, sha256_file,
                           sha256_hex)
from support.http import HTTP_TIMEOUT
from support.mail import mail_body, mails_to, outbox_messages, recipients, unique_email
from support.origins import Origin
from support.raw import RawReply, raw_http
from support.rng import RUN_SEED, SEED_VARIABLE, replay_hint, rng_for
from support.server import (BIN_DIR, FETCHGATE, REPO, START_TIMEOUT, STOP_TIMEOUT, LoopbackPorts, Server,
                            both_dialects_answer, free_port, running_server, stray_temp_files, wait_for,
                            wait_no_temp_files)
from support.store import (FORM_HEADERS, ORDER_CHILDREN, ORDER_ITEM_CHILDREN, SHOP_FILES, XML_HEADERS, StoreClient,
                           assert_close, assert_error, child_text, fetch, guid_of, item_xml, message_of, order_item_of,
                           order_xml, parse_datetime, parse_xml, stock_shop, utcnow, walk_typed)


# --------------------------------------------------------------------------- the session's server

@pytest.fixture(scope="session")
def server(tmp_path_factory):
    assert FETCHGATE.exists(), f"{FETCHGATE} not built: run `swift build -c release` (or set FETCHGATE_BIN)"
    srv = Server(tmp_path_factory.mktemp("fetchgate") / "run")
    srv.start()
    yield srv
    nginx_pid_file = srv.run_dir / "nginx.pid"
    nginx_pid = int(nginx_pid_file.read_text().strip()) if nginx_pid_file.exists() else None
    srv.stop()
    assert srv.proc.returncode == 0, f"fetchgate serve exited with {srv.proc.returncode} on SIGTERM\n{srv.logs()}"
    # Nothing it started outlives it.
    deadline = time.monotonic() + 5
    while srv.store_api_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not srv.store_api_pids(), "store-api still running after fetchgate serve stopped"
    if nginx_pid:
        alive = True
        while time.monotonic() < deadline:
            try:
                os.kill(nginx_pid, 0)
            except ProcessLookupError:
                alive = False
                break
            time.sleep(0.1)
        assert not alive, "nginx still running after fetchgate serve stopped"


@pytest.fixture(scope="session")
def base_url(server):
    return server.store_url


@pytest.fixture(scope="session")
def demo_auth(server):
    return (server.demo_key, server.demo_token)


@pytest.fixture(scope="session")
def demo(server):
    """The demo tenant: read-only use (other tests may run before or after)."""
    return StoreClient(server.store_url, server.demo_key, server.demo_token)


@pytest.fixture(scope="session")
def anon(server):
    return StoreClient(server.store_url)


@pytest.fixture
def new_account(server):
    """Factory: a fresh tenant created through the admin CLI, as a StoreClient."""
    return server.create_account


@pytest.fixture
def tenant(server):
    """One fresh tenant for a test that mutates state."""
    return server.create_account()


@pytest.fixture
def cli(server):
    return server.cli


@pytest.fixture
def shop(server):
    """A fresh tenant stocked with items A and B that carry files (see SHOP_FILES)."""
    return stock_shop(server.create_account())


@pytest.fixture(scope="session")
def private_server(tmp_path_factory):
    """A server that may fetch from `localhost` by name (`--allow-private-hosts localhost`)."""
    with running_server(tmp_path_factory, "fetchgate-private", ["--allow-private-hosts", "localhost"]) as srv:
        yield srv


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    return MediaSamples(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def origin():
    o = Origin()
    yield o
    o.close()


# --------------------------------------------------------------------------- randomness

@pytest.fixture
def rng(request):
    """This test's seeded `random.Random` (see support/rng.py); use it for any random input."""
    return rng_for(f"{request.node.path.name}::{request.node.name}")


def pytest_report_header(config):
    return [f"random seed: {SEED_VARIABLE}={RUN_SEED}",
            f"backend: FETCHGATE_TEST_BACKEND={backends.KIND} (rows and stored files of every stack; see support/backends.py)"]


@pytest.fixture(scope="session", autouse=True)
def _shared_backends():
    """The run's PostgreSQL cluster and moto server (postgres-s3 only) stop when the session ends."""
    yield
    backends.SharedServers.shutdown()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and "rng" in getattr(item, "fixturenames", ()):
        report.sections.append(("random seed", f"{SEED_VARIABLE}={RUN_SEED}; replay: {replay_hint(item.nodeid)}"))


# --------------------------------------------------------------------------- media fetching (issue 10)
# The fetch stack and its origins; the helpers live in support/media_origin.py, support/webhooks.py
# and support/fetch.py (whose `fetch_serve_options()` is the stack's option list).
from support.fetch import (DownloaderClient, FetchClient, fetch_jobs, fetch_row, fetch_serve_options,  # noqa: E402
                           ffprobe_of, stored_fetch_files, webhook_secret)
from support.media_origin import ForbiddenTarget, MediaFiles, MediaOrigin, processes_mentioning  # noqa: E402
from support.webhooks import WebhookReceiver  # noqa: E402


@pytest.fixture(scope="session")
def media_files(tmp_path_factory):
    return MediaFiles(tmp_path_factory.mktemp("fetch-media"))


@pytest.fixture(scope="session")
def forbidden_target(media_files):
    target = ForbiddenTarget(media_files)
    yield target
    target.close()


@pytest.fixture(scope="session")
def media_origin(media_files, forbidden_target):
    o = MediaOrigin(media_files, forbidden_target)
    yield o
    o.close()


@pytest.fixture(scope="session")
def fetch_server(tmp_path_factory):
    """The stack of the fetch tests: private `localhost`, the Downloader account, small limits."""
    with running_server(tmp_path_factory, "fetchgate-fetch", fetch_serve_options()) as srv:
        yield srv


@pytest.fixture
def webhook_receiver():
    r = WebhookReceiver()
    yield r
    r.close()


@pytest.fixture
def fetch_api(fetch_server):
    """A fresh tenant of the fetch stack as a FetchClient (`.store` is its StoreClient, `.store.key` its API key)."""
    store = fetch_server.create_account()
    client = FetchClient(fetch_server, store.token)
    client.store = store
    return client
