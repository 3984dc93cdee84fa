"""Process supervision: a killed store-api is restarted and the store answers again."""
import os
import signal
import time

import requests

from conftest import StoreClient  # noqa: F401  (harness types)



def test_store_api_restarts_after_kill_9(server, demo):
    pids = server.store_api_pids()
    assert len(pids) == 1, f"expected one store-api for {server.run_dir}, found {pids}"
    os.kill(pids[0], signal.SIGKILL)
    killed_at = time.monotonic()

    recovered = None
    non_xml_errors = []
    while time.monotonic() - killed_at < 2.0:
        try:
            resp = requests.get(demo.url("/api/account"), auth=demo.auth, timeout=2)
        except requests.RequestException:
            time.sleep(0.02)
            continue
        if resp.status_code == 200:
            recovered = time.monotonic() - killed_at
            break
        if not resp.headers.get("Content-Type", "").startswith("application/xml"):
            non_xml_errors.append((resp.status_code, resp.headers.get("Content-Type"), resp.text[:80]))
        time.sleep(0.02)
    assert recovered is not None, "store did not answer 200 within 2 s of kill -9"

    new = server.store_api_pids()
    assert len(new) == 1 and new[0] != pids[0], (pids, new)
    # It stays up and serves writes too.
    for _ in range(10):
        assert demo.get("/api/items/BILL-WAX").status_code == 200
    t = server.create_account()
    t.create_item("AFTER-RESTART")
    assert t.skus() == ["AFTER-RESTART"]
    # While store-api was down, errors must still be XML <message>, never nginx's HTML page.
    assert not non_xml_errors, f"non-XML error replies during the restart: {non_xml_errors}"


def test_store_api_restarts_again(server, demo):
    """A second crash (more than a second after the first start) is also recovered."""
    time.sleep(1.1)
    pids = server.store_api_pids()
    assert len(pids) == 1
    os.kill(pids[0], signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    ok = False
    while time.monotonic() < deadline:
        try:
            if requests.get(demo.url("/api/account"), auth=demo.auth, timeout=2).status_code == 200:
                ok = True
                break
        except requests.RequestException:
            pass
        time.sleep(0.02)
    assert ok, "store did not recover within 2 s of a second kill -9"
