"""A fetch's typed options (issue 11, part R) through the real worker and the pinned yt-dlp: the
options a download job carries (`fetches.options`, written here while the fetch waits behind the
account's cap, as `POST /jobs` will write them) become fixed yt-dlp options; `filename` is the
download name; sidecar subtitles are stored as `f/<id>.<lang>.<ext>` with the media, listed in
`fetches.sidecars`, and removed with it.
"""
import json
import uuid

from conftest import (assert_json_error, fetch_row, ffprobe_of, parse_json, processes_mentioning, stored_fetch_files,
                      wait_for)
from support.fetch import FETCH_CAP

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n"
TRACK_PAGE = ('<html><head><title>Tracked Clip</title></head><body><video src="/v.mp4">'
              '<track kind="subtitles" srclang="en" src="/options/en.vtt"></video></body></html>')


def write_options(server, public_id, options):
    """What the jobs dialect stores: FetchOptions as JSON (every non-optional key present)."""
    assert server.execute("UPDATE fetches SET options = ? WHERE public_id = ? AND status = 'pending'",
                          (json.dumps(options), public_id)) == 1


def test_options_reach_the_worker_and_sidecars_go_with_the_media(fetch_server, fetch_api, media_origin):
    media_origin.serve("/options/track.html", TRACK_PAGE.encode(), "text/html; charset=utf-8")
    media_origin.serve("/options/en.vtt", VTT.encode(), "text/vtt")
    # The account's running places taken by slow fetches: the next one waits, pending, unclaimed.
    slow = [media_origin.slow_url(f"options-{uuid.uuid4().hex[:8]}", rate=50_000) for _ in range(FETCH_CAP)]
    blockers = [fetch_api.create(url)["id"] for url in slow]
    for url in slow:
        wait_for(lambda: processes_mentioning(url), timeout=30, interval=0.05, what="the slow fetches to run")
    f = fetch_api.create(media_origin.url("/options/track.html"))
    write_options(fetch_server, f["id"], {"format": "mkv", "audioOnly": False, "subtitles": ["en", "fr"],
                                          "subtitleMode": "sidecar", "filename": "My/Clip: one"})
    for b in blockers:
        assert fetch_api.delete(f"/fetch/{b}").status_code == 200
    done = fetch_api.wait(f["id"])
    assert done["status"] == "success", f"{done}\n{fetch_server.logs()}"
    assert (done["filename"], done["content_type"]) == ("My_Clip: one.mkv", "video/x-matroska"), done
    row = fetch_row(fetch_server, f["id"])
    assert ffprobe_of(row)["format_name"] == "matroska,webm", row["ffprobe"]
    assert json.loads(row["sidecars"]) == [{"storageKey": f"f/{f['id']}.en.vtt", "language": "en", "ext": "vtt",
                                            "sizeBytes": len(VTT)}], row["sidecars"]
    stored = stored_fetch_files(fetch_server, f["id"])
    assert [p.name for p in stored] == [f"{f['id']}.en.vtt", f"{f['id']}.mkv"], stored
    assert stored[0].read_bytes() == VTT.encode()
    assert stored[1].stat().st_size == done["size_bytes"]
    # Deleting the fetch removes the media and its sidecar.
    r = fetch_api.delete(f"/fetch/{f['id']}")
    assert r.status_code == 200 and parse_json(r) == {"id": f["id"], "deleted": True}, r.text
    assert_json_error(fetch_api.get(f"/fetch/{f['id']}"), 404, "not_found")
    assert stored_fetch_files(fetch_server, f["id"]) == []
