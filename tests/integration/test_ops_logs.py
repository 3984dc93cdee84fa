"""No credential reaches a log (issue 8, defect 7).

Every dialect takes the token as `?key=TOKEN`, and nginx used to write the whole request line to
logs/nginx-access.log and into its error messages (a 413 names the request). These tests make
authenticated requests of every kind on both ports, through the app's replies and nginx's own
refusals, and then read every log file of the run: the token must not appear anywhere.
"""
import base64
import os
import secrets
import signal
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import HTTP_TIMEOUT, XML_HEADERS, download_signature, raw_http, running_server, wait_for

BIG = 9 * 1024 * 1024  # over the 8 MiB body limit of both servers' API locations


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """A server of its own: its logs hold only this module's traffic."""
    with running_server(tmp_path_factory, "fetchgate-logs") as s:
        yield s


def log_files(srv):
    """Every file of the run's logs/ directory, and what `serve` printed."""
    files = [p for p in (srv.run_dir / "logs").rglob("*") if p.is_file()]
    return files + [srv.out_path]


def files_containing(srv, secret):
    needle = secret.encode()
    return [str(p) for p in log_files(srv) if needle in p.read_bytes()]


def access_log(srv):
    return (srv.run_dir / "logs" / "nginx-access.log").read_text()


def error_log(srv):
    path = srv.run_dir / "logs" / "nginx-error.log"
    return path.read_text() if path.exists() else ""


def raw(port, method, target, headers=(), body=b"", version="HTTP/1.1"):
    head = f"{method} {target} {version}\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    head += "".join(f"{h}\r\n" for h in headers)
    return raw_http(port, head.encode() + b"\r\n" + body)


def test_no_credential_reaches_any_log(srv):
    store, media = srv.store_port, srv.media_port
    tenant = srv.create_account()
    key, token = tenant.key, tenant.token
    wrong = secrets.token_hex(16)           # a credential that does not authenticate (401)
    basic = base64.b64encode(f"{key}:{token}".encode()).decode()
    basic_wrong = base64.b64encode(f"{key}:{wrong}".encode()).decode()
    S, M = srv.store_url, srv.media_url
    replies = []

    def check(resp_status, expected, what):
        replies.append(what)
        assert resp_status == expected, f"{what}: expected {expected}, got {resp_status}"

    def get(url, expected, what, **kw):
        kw.setdefault("timeout", HTTP_TIMEOUT)
        kw.setdefault("allow_redirects", False)
        r = requests.get(url, **kw)
        check(r.status_code, expected, what)
        return r

    # --- store server: every way of presenting the token, and its error paths
    get(S + "/api/account", 200, "store basic", auth=(key, token))
    get(f"http://{key}:{token}@127.0.0.1:{store}/api/account", 200, "store userinfo URL")
    get(S + "/api/account", 200, "store X-API-KEY", headers={"X-API-KEY": token})
    get(S + f"/api/account?key={token}", 200, "store ?key= alone")
    get(S + f"/api/items?per_page=5&key={token}&page=1", 200, "store ?key= in the middle")
    get(S + f"/api/items?per_page=5&%6Bey={token}", 200, "store %6Bey= last")
    get(S + f"/api/account?key={wrong}", 401, "store 401 ?key=")
    get(S + "/api/account", 401, "store 401 X-API-KEY", headers={"X-API-KEY": wrong})
    get(S + "/api/account", 401, "store 401 basic", auth=(key, wrong))
    get(S + f"/api/items/NO-SUCH-SKU?key={token}", 404, "store 404 ?key=")
    get(S + "/api/items/NO-SUCH-SKU", 404, "store 404 X-API-KEY", headers={"X-API-KEY": token})
    # A body nginx buffers to a temp file before the app sees it (nginx warns about that, naming the request).
    body = b'<?xml version="1.0" encoding="UTF-8"?><item><sku>NO-SUCH-SKU</sku><notes>' + b"n" * 60000 + b"</notes></item>"
    r = requests.put(S + f"/api/items/NO-SUCH-SKU?key={token}", data=body, headers=XML_HEADERS, timeout=HTTP_TIMEOUT)
    check(r.status_code, 404, "store 404 with a buffered body")
    # 413: nginx refuses on the announced length and logs an error naming the request (and its Referer).
    r = raw(store, "POST", f"/api/items/create?key={token}",
            [f"Content-Length: {BIG}", f"X-API-KEY: {token}", f"Authorization: Basic {basic}",
             f"Referer: http://127.0.0.1:{store}/api/items?key={token}", "Content-Type: application/xml"])
    check(r.status, 413, "store 413")
    # Requests nginx refuses before any location.
    check(raw(store, "GET", f"/api/account?key={token}", ["Transfer-Encoding: gzip"]).status, 501, "store 501")
    check(raw(store, "GET", f"/api/account?key={token}", version="HTTP/2.0").status, 505, "store 505")
    check(raw(store, "TRACE", f"/api/account?key={token}", [f"X-API-KEY: {token}"]).status, 405, "store 405 TRACE")
    check(raw(store, "GET", f"/api/account?key={token}", ["Bad Header Line"]).status, 400, "store 400 bad header")
    check(raw(store, "GET", f"/api/account?key={token}", [f"X-API-KEY: {token}", "X-Pad: " + "p" * 20000]).status,
          400, "store 494 header too large")
    check(raw(store, "GET", f"/api/items?key={token}&pad=" + "a" * 20000).status, 414, "store 414")
    check(raw(store, "POST", f"/api/items/create?key={token}", ["Transfer-Encoding: chunked"], b"zz\r\n").status,
          400, "store 400 bad chunk")
    check(raw(store, "GET", f"/_files/m/x?key={token}", [f"Authorization: Basic {basic_wrong}"]).status, 404,
          "store 404 internal location")

    # --- media server
    get(M + "/files", 200, "media X-API-KEY", headers={"X-API-KEY": token})
    get(M + f"/files?key={token}", 200, "media ?key=")
    get(M + f"/files?page=1&KEY={token}&per_page=5", 401, "media KEY= (not a credential, still masked)")
    get(M + "/files", 200, "media basic", auth=(key, token))
    get(M + f"/files?key={wrong}", 401, "media 401 ?key=")
    get(M + "/files", 401, "media 401 X-API-KEY", headers={"X-API-KEY": wrong})
    get(M + f"/files/file_nosuchfile?key={token}", 404, "media 404 ?key=")
    up = requests.post(M + f"/files?key={token}", files={"file": ("a.txt", b"a" * 70000, "text/plain")},
                       timeout=HTTP_TIMEOUT)
    check(up.status_code, 201, "media upload ?key=")
    file_id = up.json()["id"]
    ready = wait_for(lambda: (lambda f: f if f["status"] in ("ready", "failed") else None)(
        requests.get(M + f"/files/{file_id}?key={token}", timeout=HTTP_TIMEOUT).json()), what="file ready")
    assert ready["status"] == "ready", ready
    link = get(M + f"/files/{file_id}/a.txt?key={token}", 302, "media signed link ?key=").headers["Location"]
    signature = download_signature(srv, link)
    get(link, 200, "media signed download")
    get(link, 416, "media 416 on the download link", headers={"Range": "bytes=900000-"})
    check(raw(media, "POST", f"/files?key={token}", [f"Content-Length: {3 * 1024 ** 3}", f"X-API-KEY: {token}"]).status,
          413, "media 413 upload")
    check(raw(media, "POST", f"/files/x?key={token}", ["Content-Length: 5", f"X-API-KEY: {token}"], b"hello").status,
          405, "media 405 from the app")
    check(raw(media, "GET", f"/files?key={token}", ["Transfer-Encoding: gzip"]).status, 501, "media 501")
    check(raw(media, "GET", f"/files?key={token}", version="HTTP/2.0").status, 505, "media 505")
    check(raw(media, "TRACE", f"/files?key={token}").status, 405, "media 405 TRACE")
    check(raw(media, "GET", f"/files?key={token}", ["Bad Header Line"]).status, 400, "media 400 bad header")

    # --- nginx errors that name the upstream: store-api's socket gone answers 502. The supervisor holds
    # each dialect's listening socket across restarts (a request arriving while store-api is away waits
    # for the next one), so nginx's connect() fails only when the socket file is not there: it is moved
    # aside, store-api killed (its kept connections close with it, so nginx must connect anew), a
    # request sent, and the file moved back (the socket itself never closed).
    sock = srv.run_dir / "store.sock"
    aside = srv.run_dir / "store.sock.aside"
    seen = set()
    pids = srv.store_api_pids()
    assert len(pids) == 1, pids
    os.rename(sock, aside)
    try:
        os.kill(pids[0], signal.SIGKILL)
        deadline = time.monotonic() + 5
        while 502 not in seen and time.monotonic() < deadline:
            seen.add(requests.get(S + f"/api/account?key={token}", timeout=HTTP_TIMEOUT).status_code)
    finally:
        os.rename(aside, sock)
    assert 502 in seen, f"no request reached nginx while store-api's socket was gone: statuses {sorted(seen)}"
    wait_for(lambda: requests.get(S + f"/api/account?key={token}", timeout=HTTP_TIMEOUT).status_code == 200,
             timeout=10, what="store-api answering again")
    replies.append("store 502 upstream down")

    # --- the logs
    def relayed():
        text = error_log(srv)
        return "client intended to send too large body" in text and "connect() to unix:" in text
    wait_for(relayed, timeout=5, what="nginx's error messages in logs/nginx-error.log")
    secrets_used = {"token": token, "wrong token": wrong, "basic credentials": basic,
                    "wrong basic credentials": basic_wrong, "link signature": signature,
                    "demo token": srv.demo_token}
    leaks = {name: files_containing(srv, value) for name, value in secrets_used.items()}
    leaks = {name: files for name, files in leaks.items() if files}
    assert not leaks, f"credentials found in log files: {leaks}"

    # The logs did record the traffic (so the check above read real lines), with the values masked.
    text = access_log(srv)
    assert f'"GET /api/items?per_page=5&key=***&page=1 HTTP/1.1" 200' in text, text[-2000:]
    assert f'"POST /api/items/create?key=*** HTTP/1.1" 413' in text, text[-2000:]
    assert f'"TRACE /files?key=*** HTTP/1.1" 405' in text, text[-2000:]
    if srv.backend.kind == "sqlite":  # a presigned bucket URL is fetched from the bucket, not through our nginx
        assert "md5=***&expires=" in text, text[-2000:]
    assert text.count("key=***") >= 20, text[-3000:]
    errors = error_log(srv)
    assert 'request: "POST /api/items/create?key=*** HTTP/1.1"' in errors, errors[-2000:]
    assert f'referrer: "http://127.0.0.1:{store}/api/items?key=***"' in errors, errors[-2000:]


# Query strings as a client may send them, and how the access log must show them. TOKEN stands
# for the credential; the probe parameter finds the line.
MASKED_FORMS = [
    ("key=TOKEN", "key=***"),
    ("a=1&key=TOKEN&b=2", "a=1&key=***&b=2"),
    ("a=1&b=2&key=TOKEN", "a=1&b=2&key=***"),
    ("%6Bey=TOKEN", "%6Bey=***"),
    ("%6b%65%79=TOKEN", "%6b%65%79=***"),
    ("KEY=TOKEN", "KEY=***"),
    ("key%5B%5D=TOKEN", "key%5B%5D=***"),
    ("key[]=TOKEN", "key[]=***"),
    ("key=TOKEN&x=1&key=TOKEN", "key=***&x=1&key=***"),
    ("key=&b=TOKENISH", "key=&b=TOKENISH"),
    ("md5=TOKEN&expires=123&name=a.txt", "md5=***&expires=123&name=a.txt"),
]


@pytest.mark.parametrize("query,logged", MASKED_FORMS, ids=[q for q, _ in MASKED_FORMS])
def test_access_log_masks_every_form_of_the_key(srv, query, logged):
    token = secrets.token_hex(16)
    probe = uuid.uuid4().hex
    # Raw bytes: `requests` would normalise %6B to k.
    r = raw(srv.store_port, "GET", f"/api/account?probe={probe}&" + query.replace("TOKEN", token))
    assert r.status == 401
    lines = [line for line in access_log(srv).splitlines() if probe in line]
    assert len(lines) == 1, lines
    assert f'"GET /api/account?probe={probe}&{logged.replace("TOKEN", token)} HTTP/1.1" 401 ' in lines[0], lines[0]
    if "TOKENISH" not in query:
        assert token not in lines[0]


def test_access_log_withholds_a_query_with_more_keys_than_it_masks(srv):
    token = secrets.token_hex(16)
    probe = uuid.uuid4().hex
    query = "&".join(f"key={token}" for _ in range(5))
    r = raw(srv.store_port, "GET", f"/api/account?probe={probe}&{query}")
    assert r.status == 401
    lines = [line for line in access_log(srv).splitlines() if '"GET /api/account?(withheld) HTTP/1.1" 401' in line]
    assert lines, access_log(srv)[-1000:]
    assert token not in access_log(srv)


@pytest.mark.parametrize("query,logged", MASKED_FORMS, ids=[q for q, _ in MASKED_FORMS])
def test_error_log_masks_every_form_of_the_key(srv, query, logged):
    """nginx names the request in its 413 error message; the relay masks it as the access log does."""
    token = secrets.token_hex(16)
    probe = uuid.uuid4().hex
    r = raw(srv.media_port, "POST", f"/files?probe={probe}&" + query.replace("TOKEN", token),
            [f"Content-Length: {3 * 1024 ** 3}"])
    assert r.status == 413
    line = wait_for(lambda: next((l for l in error_log(srv).splitlines() if probe in l), None),
                    timeout=5, what="the 413 in the error log")
    assert f'request: "POST /files?probe={probe}&{logged.replace("TOKEN", token)} HTTP/1.1"' in line, line
    if "TOKENISH" not in query:
        assert token not in line
