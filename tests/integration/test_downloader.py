"""The Downloader API (seed 003, issue 10) through the real nginx: the seed's own curl + jq flow run
verbatim with bash (the stack runs with `--downloader-account`, so it sends no key), `curl -O -J`
and `wget --content-disposition` saving the title, the seed's JavaScript reading of the header,
the list's fields, the 404 details, removal (which also cancels), and 401 when the option is off.
"""
import shutil
import subprocess
import time
import urllib.parse as _urlparse
import uuid

import requests

from conftest import (DownloaderClient, fetch_row, processes_mentioning, sha256_file, sha256_hex,
                      stored_fetch_files, wait_for)
from support.fetch import FILE_GONE, NOT_READY, PRESETS, detail_of
from support.media_origin import PAGE_TITLE, video_page

# The "Complete Example" of /work/shared/seeds/003_*.txt, verbatim.
SEED_FLOW = r'''# Step 1: Start download
DOWNLOAD_ID=$(curl -X POST https://your-api.com/api/download \
  -H "Content-Type: application/json" \
  -d '{"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "quality": "720p"}' \
  | jq -r '.download_id')

echo "Download ID: $DOWNLOAD_ID"

# Step 2: Wait for completion
while true; do
  STATUS=$(curl -s https://your-api.com/api/downloads | jq -r ".[] | select(.id==\"$DOWNLOAD_ID\") | .status")
  echo "Status: $STATUS"
  if [ "$STATUS" = "completed" ]; then
    break
  fi
  sleep 2
done

# Step 3: Download the file
curl -O -J https://your-api.com/api/download/$DOWNLOAD_ID/file
'''

TITLE_FILE = f"{PAGE_TITLE} (1).mp4"   # the page's one <video src> (yt-dlp's html5 entry title) + ext


def rfc5987(value):
    """filename*'s percent-encoding: attr-char (RFC 5987) stays, everything else is %XX of UTF-8."""
    return _urlparse.quote(value, safe="!#$&+-.^_`|~")


def test_seed_flow_verbatim(fetch_server, media_origin, media_files, tmp_path):
    script = SEED_FLOW.replace("https://your-api.com", fetch_server.media_url) \
        .replace("https://www.youtube.com/watch?v=dQw4w9WgXcQ", media_origin.page_url)
    assert script.count(fetch_server.media_url) == 3 and media_origin.page_url in script
    r = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}\n{fetch_server.logs()}"
    lines = r.stdout.splitlines()
    download_id = lines[0].removeprefix("Download ID: ")
    assert lines[0].startswith("Download ID: ") and str(uuid.UUID(download_id)) == download_id, lines
    assert lines[-1] == "Status: completed", lines
    assert set(lines[1:-1]) <= {"Status: pending", "Status: downloading"}, lines
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == [TITLE_FILE], saved
    assert sha256_file(tmp_path / TITLE_FILE) == sha256_hex(media_files.mp4_bytes)
    # What the flow saw, in the list.
    e = DownloaderClient(fetch_server).entry(download_id)
    assert (e["status"], e["quality"], e["url"], e["title"], e["filename"], e["error"]) == \
        ("completed", "720p", media_origin.page_url, f"{PAGE_TITLE} (1)", TITLE_FILE, None), e
    assert e["progress"] == 100


def test_file_headers_and_the_seeds_javascript(fetch_server, media_origin, media_files):
    downloader = DownloaderClient(fetch_server)
    download_id = downloader.start(media_origin.page_url, "best")
    assert downloader.wait(download_id)["status"] == "completed"
    r = downloader.get(f"/api/download/{download_id}/file")
    assert r.status_code == 200, r.text[:200]
    assert r.headers["Content-Type"] == "video/mp4"
    assert r.headers["Content-Disposition"] == \
        f"attachment; filename*=UTF-8''{rfc5987(TITLE_FILE)}; filename=\"{TITLE_FILE}\"", r.headers
    assert sha256_hex(r.content) == sha256_hex(media_files.mp4_bytes)
    # The seed's JavaScript: everything after the first `filename=`, quotes removed.
    assert r.headers["Content-Disposition"].split("filename=")[1].replace('"', "") == TITLE_FILE
    # nginx sends the bytes: Range works.
    part = downloader.get(f"/api/download/{download_id}/file", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == media_files.mp4_bytes[100:200]


def test_curl_and_wget_save_the_title(fetch_server, media_origin, media_files, tmp_path):
    downloader = DownloaderClient(fetch_server)
    download_id = downloader.start(media_origin.page_url)
    assert downloader.wait(download_id)["status"] == "completed"
    url = f"{fetch_server.media_url}/api/download/{download_id}/file"
    (tmp_path / "curl").mkdir()
    subprocess.run(["curl", "-s", "-O", "-J", url], cwd=tmp_path / "curl", check=True, timeout=60)
    assert sorted(p.name for p in (tmp_path / "curl").iterdir()) == [TITLE_FILE]
    assert sha256_file(tmp_path / "curl" / TITLE_FILE) == sha256_hex(media_files.mp4_bytes)
    assert shutil.which("wget"), "wget is installed on this machine (the issue names it)"
    (tmp_path / "wget").mkdir()
    subprocess.run(["wget", "-q", "--content-disposition", url], cwd=tmp_path / "wget", check=True, timeout=60)
    assert sorted(p.name for p in (tmp_path / "wget").iterdir()) == [TITLE_FILE]
    assert sha256_file(tmp_path / "wget" / TITLE_FILE) == sha256_hex(media_files.mp4_bytes)


def test_non_ascii_title(fetch_server, media_origin, tmp_path):
    title = "Café “Übersicht” — 東京"
    path = media_origin.serve("/unicode.html", video_page(title, "/v.mp4"), "text/html; charset=utf-8")
    downloader = DownloaderClient(fetch_server)
    download_id = downloader.start(media_origin.url(path))
    e = downloader.wait(download_id)
    assert (e["status"], e["title"], e["filename"]) == ("completed", f"{title} (1)", f"{title} (1).mp4"), e
    r = downloader.get(f"/api/download/{download_id}/file")
    cd = r.headers["Content-Disposition"]
    star, fallback = cd.split("; ")[1], cd.split("; ")[2]
    assert cd.startswith("attachment; filename*=UTF-8''") and star == f"filename*=UTF-8''{rfc5987(e['filename'])}"
    assert fallback.startswith('filename="') and fallback.endswith('"') and fallback.isascii(), cd
    ascii_name = fallback[len('filename="'):-1]
    assert ascii_name.endswith(".mp4") and "/" not in ascii_name and '"' not in ascii_name, cd
    subprocess.run(["wget", "-q", "--content-disposition", r.url], cwd=tmp_path, check=True, timeout=60)
    assert sorted(p.name for p in tmp_path.iterdir()) == [e["filename"]]


def test_list_fields_and_progress(fetch_server, media_origin, media_files):
    downloader = DownloaderClient(fetch_server)
    url = media_origin.slow_url(f"dl-progress-{uuid.uuid4().hex[:8]}")
    download_id = downloader.start(url, "mp4")
    seen = []
    deadline = time.monotonic() + 60
    while True:
        asked = downloader.get(f"/api/download/{download_id}/file")
        e = downloader.entry(download_id)  # after the file was asked for: not completed then either
        seen.append(e)
        if e["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        # Not there yet: the seed's first 404.
        assert detail_of(asked, 404) == NOT_READY
        time.sleep(0.2)
    assert e["status"] == "completed", e
    moving = sorted({s["progress"] for s in seen if s["status"] == "downloading"})
    assert len(moving) >= 3 and all(0 <= p <= 100 for p in moving), moving
    assert all(isinstance(s["progress"], (int, float)) and not isinstance(s["progress"], bool) for s in seen)
    assert e["progress"] == 100 and e["quality"] == "mp4" and e["url"] == url
    assert downloader.entries()[0]["id"] == download_id  # CONTRACT: newest first, as GET /fetch
    r = downloader.get(f"/api/download/{download_id}/file")
    assert r.status_code == 200 and sha256_hex(r.content) == sha256_hex(media_files.slow_bytes)


def test_unknown_id_and_missing_bytes(fetch_server, media_origin):
    downloader = DownloaderClient(fetch_server)
    assert detail_of(downloader.get(f"/api/download/{uuid.uuid4()}/file"), 404) == NOT_READY
    assert detail_of(downloader.get("/api/download/not-a-uuid/file"), 404) == NOT_READY
    download_id = downloader.start(media_origin.mp4_url)
    assert downloader.wait(download_id)["status"] == "completed"
    stored = stored_fetch_files(fetch_server, download_id)
    assert len(stored) == 1
    stored[0].unlink()
    assert detail_of(downloader.get(f"/api/download/{download_id}/file"), 404) == FILE_GONE


def test_failed_download_shows_its_error(fetch_server, media_origin):
    downloader = DownloaderClient(fetch_server)
    e = downloader.wait(downloader.start(media_origin.missing_url))
    assert e["status"] == "failed" and isinstance(e["error"], str) and e["error"].strip(), e
    assert detail_of(downloader.get(f"/api/download/{e['id']}/file"), 404) == NOT_READY


def test_unknown_quality_is_400(fetch_server, media_origin):
    downloader = DownloaderClient(fetch_server)
    before = len(downloader.entries())
    detail = detail_of(downloader.post("/api/download", json={"url": media_origin.mp4_url, "quality": "8k"}), 400)
    assert all(p in detail for p in PRESETS), detail
    assert len(downloader.entries()) == before


def test_remove_deletes_file_and_record(fetch_server, media_origin):
    downloader = DownloaderClient(fetch_server)
    download_id = downloader.start(media_origin.mp4_url)
    assert downloader.wait(download_id)["status"] == "completed"
    assert len(stored_fetch_files(fetch_server, download_id)) == 1
    r = downloader.delete(f"/api/downloads/{download_id}/remove")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"detail", "id"} and body["id"] == download_id and body["detail"].strip(), body
    assert download_id not in [e["id"] for e in downloader.entries()]
    assert stored_fetch_files(fetch_server, download_id) == []
    assert fetch_row(fetch_server, download_id) is None
    assert detail_of(downloader.get(f"/api/download/{download_id}/file"), 404) == NOT_READY
    assert detail_of(downloader.delete(f"/api/downloads/{download_id}/remove"), 404).strip()


def test_remove_cancels_a_running_download(fetch_server, media_origin):
    downloader = DownloaderClient(fetch_server)
    url = media_origin.slow_url(f"dl-cancel-{uuid.uuid4().hex[:8]}", rate=100_000)
    download_id = downloader.start(url)
    wait_for(lambda: processes_mentioning(url), timeout=30, interval=0.05, what="yt-dlp to start")
    asked = time.monotonic()
    assert downloader.delete(f"/api/downloads/{download_id}/remove").status_code == 200
    wait_for(lambda: not processes_mentioning(url), timeout=max(0.0, 1.0 - (time.monotonic() - asked)),
             interval=0.02, what="the process group to go")
    assert download_id not in [e["id"] for e in downloader.entries()]
    assert fetch_row(fetch_server, download_id) is None
    assert stored_fetch_files(fetch_server, download_id) == []


def test_accounts_see_their_own(fetch_server, media_origin):
    tenant = fetch_server.create_account()
    mine = DownloaderClient(fetch_server, tenant.token)
    download_id = mine.start(media_origin.mp4_url)
    assert [e["id"] for e in mine.entries()] == [download_id]
    assert download_id not in [e["id"] for e in DownloaderClient(fetch_server).entries()]
    assert mine.wait(download_id)["status"] == "completed"
    assert detail_of(DownloaderClient(fetch_server).get(f"/api/download/{download_id}/file"), 404) == NOT_READY


def test_key_less_is_401_without_the_option(server, media_origin):
    """The session stack runs without --downloader-account: the seed's key-less requests get 401."""
    r = requests.get(server.media_url + "/api/downloads", timeout=10)
    assert detail_of(r, 401).strip()
    r = requests.post(server.media_url + "/api/download", json={"url": media_origin.mp4_url, "quality": "best"},
                      timeout=10)
    assert detail_of(r, 401).strip()
