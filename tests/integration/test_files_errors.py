"""Files API errors say what went wrong with a stable code and a readable message, and never
carry a server path, a stack trace or a tool's own text (ffprobe's stderr, curl's messages,
resolver answers): that detail goes to the worker's log (issue 8, defect 8).

A server of its own, allowed to fetch from `localhost`, with small import limits
(`--max-fetch-bytes`, `--fetch-timeout`) so that every import failure can be reached.
"""
import uuid

import pytest

from conftest import assert_json_error, free_port, running_server, wait_for

MAX_FETCH_BYTES = 65536
FETCH_TIMEOUT = 2

# The documented codes and messages (README, "Files API errors"; Domain/MediaFileError.swift).
MESSAGES = {
    "invalid_url": "The URL is not a valid http or https URL",
    "blocked_address": "The URL leads to an address that may not be fetched",
    "host_not_found": "The URL's host name could not be resolved",
    "network": "The origin could not be reached",
    "timeout": "The download did not finish within the time limit",
    "too_large": "The file is larger than the import size limit",
    "too_many_redirects": "The URL redirected too many times",
    "empty_file": "The URL returned an empty file",
    "not_media": "The file is not a recognised audio or video format",
}
RETRY_SUFFIX = "; will retry"


@pytest.fixture(scope="module")
def errors_server(tmp_path_factory):
    with running_server(tmp_path_factory, "fetchgate-errors",
                        ["--allow-private-hosts", "localhost", "--max-fetch-bytes", str(MAX_FETCH_BYTES),
                         "--fetch-timeout", str(FETCH_TIMEOUT)]) as srv:
        yield srv


@pytest.fixture
def files(errors_server):
    return errors_server.create_files_tenant()


def forbidden_texts(server, file_ids):
    """What no reply may contain: the run directory, storage paths, stored file names, tool text."""
    texts = {str(server.run_dir), str(server.run_dir.resolve()), "/data/files", "/data/tmp", "tmp/job-",
             "file:", "Invalid data found", "Failed to connect", "Connection refused", "curl", "Traceback"}
    for file_id in file_ids:
        texts.add(f"m/{file_id}")
        for stored in server.stored_files(file_id):
            texts.add(stored.name)  # file_….bin
    return sorted(texts)


def assert_no_leak(server, files, file_ids):
    """The show reply of each file and the list reply carry none of `forbidden_texts`."""
    replies = {f"GET /files/{i}": files.get(f"/files/{i}") for i in file_ids}
    replies["GET /files"] = files.get("/files", params={"per_page": 100})
    for what, r in replies.items():
        assert r.status_code == 200, f"{what}: {r.status_code} {r.text[:300]}"
        for text in forbidden_texts(server, file_ids):
            assert text not in r.text, f"{what} carries {text!r}: {r.text[:2000]}"
    listed = {f["id"]: f for f in files.listing(per_page=100)["files"]}
    assert set(file_ids) <= set(listed), listed.keys()
    return listed


def worker_log(server):
    return (server.run_dir / "logs" / "worker.log").read_text(errors="replace")


def test_non_media_upload_has_a_code_not_ffprobe_stderr(errors_server, files):
    body = b"just some notes, not audio or video\n" * 100
    created = files.upload("notes.bin", body)
    f = files.wait(created["id"])
    assert f["status"] == "ready", f
    (stored,) = errors_server.stored_files(f["id"])
    listed = assert_no_leak(errors_server, files, [f["id"]])
    assert listed[f["id"]] == f, "list and show render the same file"
    assert f["ffprobe"] is None
    assert f["ffprobe_error_code"] == "not_media", f
    assert f["ffprobe_error"] == MESSAGES["not_media"], f
    assert f["error"] is None and f["error_code"] is None, f
    # The detail stays in the worker's log: ffprobe named the file it read, the stored file itself (local
    # disk) or the worker's scratch copy of the bucket object (S3).
    log = wait_for(lambda: (lambda text: text if f["id"] in text else None)(worker_log(errors_server)),
                   timeout=5, what="the probe's detail in worker.log")
    line = next(line for line in log.splitlines() if f["id"] in line)
    read = str(stored) if errors_server.backend.kind == "sqlite" else f"{errors_server.data_dir / 'tmp'}/s3-"
    assert "not_media" in line and read in line, line


def failed_import_cases(origin, tag):
    """(origin setup → URL, expected code, expected message, expected status)."""
    return {
        "http_status": (origin.url(origin.serve(f"/gone-{tag}.mp4", b"nope", "text/plain", status=404)),
                        "http_status", "The origin answered HTTP 404", "failed"),
        "blocked_address": (origin.url(origin.redirect(f"/to-loopback-{tag}", f"http://127.0.0.1:{origin.port}/x.mp4")),
                            "blocked_address", MESSAGES["blocked_address"], "failed"),
        "too_large": (origin.url(origin.serve(f"/big-{tag}.bin", b"\0" * (MAX_FETCH_BYTES + 1))),
                      "too_large", MESSAGES["too_large"], "failed"),
        "empty_file": (origin.url(origin.serve(f"/empty-{tag}.mp4", b"", "video/mp4")),
                       "empty_file", MESSAGES["empty_file"], "failed"),
        # Nothing listens there: curl's "Failed to connect … Connection refused" is transient.
        "network": (f"http://localhost:{free_port()}/clip-{tag}.mp4", "network", MESSAGES["network"] + RETRY_SUFFIX,
                    "pending"),
        # 64 KiB at 1 KiB/s against a 2 s limit: curl's "Operation timed out …" is transient too.
        "timeout": (origin.url(origin.serve(f"/slow-{tag}.bin", b"\1" * (MAX_FETCH_BYTES - 1), rate=1024)),
                    "timeout", MESSAGES["timeout"] + RETRY_SUFFIX, "pending"),
    }


def test_failed_imports_have_codes_and_leak_nothing(errors_server, origin, files):
    tag = uuid.uuid4().hex
    cases = failed_import_cases(origin, tag)
    created = {name: files.import_url(url)["id"] for name, (url, *_) in cases.items()}
    try:
        for name, (url, code, message, status) in cases.items():
            # A final failure stays `failed`; a transient one is `pending` between attempts, with its error.
            f = wait_for(lambda: (lambda g: g if g["status"] == status and g["error"] else None)(files.file(created[name])),
                         timeout=FETCH_TIMEOUT + 15, interval=0.05, what=f"{name}: {status} with an error")
            assert_no_leak(errors_server, files, [f["id"]])
            assert f["error_code"] == code, f"{name}: {f}"
            assert f["error"] == message, f"{name}: {f}"
            assert f["download_url"] is None and f["size_bytes"] is None and f["ffprobe"] is None, f
            assert errors_server.stored_files(f["id"]) == []
        listed = assert_no_leak(errors_server, files, list(created.values()))
        for name, (url, code, message, status) in cases.items():
            assert listed[created[name]]["error_code"] == code, listed[created[name]]
        # Each detail is in the worker's log instead.
        log = worker_log(errors_server)
        for detail in ("the origin answered HTTP 404", "non-public address 127.0.0.1", "Failed to connect to localhost",
                       f"larger than the limit of {MAX_FETCH_BYTES} bytes"):
            assert detail in log, f"worker.log lacks {detail!r}: {log[-3000:]}"
    finally:
        for file_id in created.values():  # stops the retries
            assert files.delete(f"/files/{file_id}").status_code == 200


def test_refused_url_does_not_say_what_a_name_resolves_to(server):
    """The session server refuses `localhost`: the reply names the reason, not the address."""
    files = server.create_files_tenant()
    r = files.post("/files", files={"file_url": (None, f"http://localhost:{free_port()}/a.mp4")})
    err = assert_json_error(r, 400, "url_not_allowed")
    assert err["message"] == MESSAGES["blocked_address"], err
    for address in ("127.0.0.1", "::1"):
        assert address not in r.text, r.text
    r = files.post("/files", files={"file_url": (None, "ftp://example.com/a.mp4")})
    assert assert_json_error(r, 400, "url_not_allowed")["message"] == MESSAGES["invalid_url"]
    r = files.post("/files", files={"file_url": (None, "http://no-such-host.invalid/a.mp4")})
    assert assert_json_error(r, 400, "url_not_allowed")["message"] == MESSAGES["host_not_found"]


def test_rows_from_before_codes_render_without_their_text(errors_server, files):
    """A row written by the old worker (raw ffprobe stderr with the stored path) renders as a code."""
    f = files.wait(files.upload("old.bin", b"old row " * 64)["id"])
    (stored,) = errors_server.stored_files(f["id"])
    raw = f"not a recognised media file: {stored}: Invalid data found when processing input"
    assert errors_server.execute(
        "UPDATE media_files SET status = 'failed', ffprobe_error = ?, error = ? WHERE public_id = ?",
        (raw, f"will retry: cannot write {errors_server.run_dir}/data/tmp/job-7: No space left", f["id"])) == 1
    shown = files.file(f["id"])
    assert shown["ffprobe_error_code"] == "not_media" and shown["ffprobe_error"] == MESSAGES["not_media"], shown
    assert shown["error_code"] == "processing_failed" and shown["error"] == "The file could not be processed", shown
    assert_no_leak(errors_server, files, [f["id"]])
