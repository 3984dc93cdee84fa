"""No way inside (issue 10): every URL a fetch is given, and every connection yt-dlp and its
ffmpeg open while it runs, is checked. The origin is allowed (`--allow-private-hosts localhost`);
each hostile case points at the forbidden target (127.0.0.2, or 127.0.0.1 spelled
`[::ffff:127.0.0.1]`) or at 169.254.169.254, and each ends in `blocked_address` (found while
running) or 400 `url_not_allowed` (refused up front). The forbidden target records every request:
every test here asserts it was never hit (test_media_origin.py shows the same cases do reach it
when nothing guards them).
"""
import time
import uuid
from pathlib import Path

import pytest

from conftest import (DownloaderClient, assert_json_error, fetch_jobs, fetch_row, stored_fetch_files,
                      webhook_secret)
from support.fetch import detail_of
from support.media_origin import METADATA_URL

HOSTILE = ["redirect-127.0.0.2", "redirect-169.254.169.254", "redirect-mapped-127.0.0.1", "hls-segments-127.0.0.2",
           "hls-later-segments-127.0.0.2", "video-src-127.0.0.2"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_case_fails_blocked_address(fetch_server, fetch_api, media_origin, forbidden_target, name):
    url = media_origin.hostile_urls()[name]
    f = fetch_api.wait(fetch_api.create(url)["id"])
    assert f["status"] == "failed", f
    assert f["error"]["code"] == "blocked_address", f
    assert f["error"]["message"].strip() and str(fetch_server.run_dir) not in f["error"]["message"]
    assert stored_fetch_files(fetch_server, f["id"]) == []
    # Refused for good: not retried.
    jobs = fetch_jobs(fetch_server, f["id"])
    assert len(jobs) == 1 and jobs[0]["state"] == "failed" and jobs[0]["attempts"] == 1, jobs  # CONTRACT: job state
    assert forbidden_target.hits == 0, forbidden_target.requests()


def test_hostile_case_through_the_downloader_dialect(fetch_server, media_origin, forbidden_target):
    downloader = DownloaderClient(fetch_server)
    download_id = downloader.start(media_origin.hostile_urls()["redirect-127.0.0.2"])
    e = downloader.wait(download_id)
    assert e["status"] == "failed", e
    assert "blocked_address" in e["error"], e  # CONTRACT: the error string names the code
    assert detail_of(downloader.get(f"/api/download/{download_id}/file"), 404) == \
        "Descarga no disponible o no completada"
    assert forbidden_target.hits == 0


def refused_up_front(origin_port, target):
    return {
        "forbidden-target": target.url("/v.mp4"),
        "mapped-loopback": f"http://[::ffff:127.0.0.1]:{target.loopback_port}/v.mp4",
        "loopback-ip": f"http://127.0.0.1:{target.loopback_port}/v.mp4",
        "metadata": METADATA_URL,
        "file-url": "file:///etc/passwd",
        "file-url-localhost": "file://localhost/etc/passwd",
        "ftp": f"ftp://localhost:{origin_port}/v.mp4",
        "dash-option": f"--exec=touch /tmp/fetchgate-pwned-{{}} http://localhost:{origin_port}/v.mp4",
        "dash-output": f"-o/tmp/fetchgate-pwned-{{}} http://localhost:{origin_port}/v.mp4",
        "dash-dash": f"--http://localhost:{origin_port}/v.mp4",
        "dash-batch": "-a/etc/passwd",
    }


CASES = ["forbidden-target", "mapped-loopback", "loopback-ip", "metadata", "file-url", "file-url-localhost", "ftp",
         "dash-option", "dash-output", "dash-dash", "dash-batch"]


def test_the_cases_are_all_listed(media_origin, forbidden_target):
    assert list(refused_up_front(media_origin.port, forbidden_target)) == CASES


@pytest.mark.parametrize("case", CASES)
def test_refused_before_any_job(fetch_server, fetch_api, media_origin, forbidden_target, case):
    marker = uuid.uuid4().hex
    url = refused_up_front(media_origin.port, forbidden_target)[case].replace("{}", marker)
    mark = media_origin.mark()
    err = assert_json_error(fetch_api.create(url, expect=400), 400, "url_not_allowed")
    assert err["message"].strip()
    assert fetch_api.listing()["total"] == 0, "a refused URL created a fetch"
    time.sleep(0.3)
    assert media_origin.since(mark) == []
    assert forbidden_target.hits == 0
    assert not list(Path("/tmp").glob(f"fetchgate-pwned-{marker}*"))


@pytest.mark.parametrize("case", ["forbidden-target", "file-url", "dash-option"])
def test_downloader_refuses_before_any_job(fetch_server, media_origin, forbidden_target, case):
    url = refused_up_front(media_origin.port, forbidden_target)[case].replace("{}", uuid.uuid4().hex)
    downloader = DownloaderClient(fetch_server)
    before = len(downloader.entries())
    r = downloader.post("/api/download", json={"url": url, "quality": "best"})
    assert detail_of(r, 400).strip()  # CONTRACT: 400 {"detail": "..."} for url_not_allowed
    assert len(downloader.entries()) == before
    assert forbidden_target.hits == 0


def test_metadata_of_a_hostile_page_is_blocked(fetch_api, media_origin, forbidden_target):
    """The page redirects to 127.0.0.2: the guard refuses the hop, the reply is 422 `blocked_address`."""
    r = fetch_api.get("/fetch/metadata", params={"url": media_origin.hostile_urls()["redirect-127.0.0.2"]})
    assert_json_error(r, 422, "blocked_address")
    assert fetch_api.listing()["total"] == 0
    assert forbidden_target.hits == 0


def test_metadata_reads_a_page_naming_a_refused_video_without_reaching_it(fetch_api, media_origin, forbidden_target):
    """Metadata reads the page only: a `<video src>` on 127.0.0.2 is listed as a format (no URL in
    the reply) and never requested; fetching it is what fails (`blocked_address`, see above)."""
    r = fetch_api.get("/fetch/metadata", params={"url": media_origin.hostile_urls()["video-src-127.0.0.2"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["ext"] for f in body["formats"]] == ["mp4"] and "url" not in body["formats"][0], body
    assert fetch_api.listing()["total"] == 0
    assert forbidden_target.hits == 0


def test_webhook_url_is_checked(fetch_api, media_origin, forbidden_target):
    for hook in [forbidden_target.url("/hook"), f"http://[::ffff:127.0.0.1]:{forbidden_target.loopback_port}/hook",
                 METADATA_URL, "ftp://localhost/hook", "file:///tmp/hook", "-http://localhost/hook"]:
        r = fetch_api.create(media_origin.mp4_url, webhook_url=hook, expect=400)
        assert_json_error(r, 400, "webhook_url_not_allowed")
    assert fetch_api.listing()["total"] == 0
    assert forbidden_target.hits == 0


def test_webhook_redirect_is_not_followed(fetch_server, fetch_api, media_origin, forbidden_target, webhook_receiver):
    webhook_receiver.secret("r", webhook_secret(fetch_server, fetch_api.store.key))
    webhook_receiver.set_answer(302, location=forbidden_target.url("/hook"))
    f = fetch_api.succeeded(media_origin.mp4_url, webhook_url=webhook_receiver.url("r"))
    # The first attempt and its quick retry (5 s x 0.01) both get the 302; neither is followed.
    deadline = time.monotonic() + 10
    while len(fetch_api.deliveries(f["id"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    log = fetch_api.deliveries(f["id"])
    assert [d["status"] for d in log[:2]] == [302, 302], log
    assert len(webhook_receiver.received("r")) >= 2
    assert forbidden_target.hits == 0
    assert fetch_row(fetch_server, f["id"])["status"] == "success"
