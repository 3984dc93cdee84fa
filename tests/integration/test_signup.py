"""Opt-in sign-up on the store server: `fetchgate serve --allow-signup` enables
`POST /api/account/create` without credentials (the FetchApp v1 Python client's XML body, or a
form), rate-limited per client address (REMOTE_ADDR, never X-Forwarded-For), refused for a taken
name or email. Without the option the route is an unknown route (404).

Each test sends from its own loopback source address (127.0.0.N): the limit counts per address,
and tests must not spend each other's attempts."""
import http.client
import threading
import uuid
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
import requests

from conftest import HTTP_TIMEOUT, running_server
from support.store import parse_xml, walk_typed

LIMIT = 3


@pytest.fixture(scope="module")
def signup_server(tmp_path_factory):
    with running_server(tmp_path_factory, "fetchgate-signup", ["--allow-signup", "--signup-limit", str(LIMIT)]) as srv:
        yield srv


def account_xml(name, email, first="Ada", last="Lovelace", url="https://shop.example"):
    # As the FetchApp v1 Python client sends it.
    return (f'<?xml version="1.0" encoding="UTF-8"?><account><name>{name}</name><first_name>{first}</first_name>'
            f"<last_name>{last}</last_name><email>{email}</email><url>{url}</url></account>")


def send(server, body, source, method="POST", path="/api/account/create", content_type="application/xml", headers=None):
    """One request from the loopback address `source`; the reply as status, headers, body, root element."""
    conn = http.client.HTTPConnection("127.0.0.1", server.store_port, timeout=HTTP_TIMEOUT, source_address=(source, 0))
    try:
        conn.request(method, path, body=body.encode() if body is not None else None,
                     headers={"Content-Type": content_type, **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
        reply = SimpleNamespace(status=resp.status, headers=resp.headers, body=data)
    finally:
        conn.close()
    assert reply.headers.get("Content-Type", "").startswith("application/xml"), reply
    reply.root = walk_typed(ET.fromstring(data))
    return reply


def accounts(server):
    return [(row["name"], row["email"]) for row in server.rows("SELECT name, email FROM accounts ORDER BY id")]


def unique(prefix="shop"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_sign_up_answers_the_account_and_its_key_and_token_work_in_every_dialect(signup_server):
    name = unique()
    email = f"{name}@example.com"
    reply = send(signup_server, account_xml(name, email), "127.0.0.11")
    assert reply.status == 201, reply.body
    root = reply.root
    assert root.tag == "account"
    assert [c.tag for c in root] == ["id", "name", "email", "billing_email", "shopify_address", "url", "paypal_address",
                                     "order_expiration_in_hours", "download_limit_per_item", "api_key", "api_token"]
    assert root.findtext("name") == name and root.findtext("email") == email
    assert root.findtext("url") == "https://shop.example"
    key, token = root.findtext("api_key"), root.findtext("api_token")
    assert key and token
    # The store with Basic key:token, and through the media server with X-API-KEY.
    store = requests.get(signup_server.store_url + "/api/account", auth=(key, token), timeout=HTTP_TIMEOUT)
    assert store.status_code == 200
    assert parse_xml(store).findtext("name") == name
    for path in ("/files", "/fetch", "/store/api/account.xml"):
        r = requests.get(signup_server.media_url + path, headers={"X-API-KEY": token}, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
    assert requests.get(signup_server.media_url + "/files", headers={"X-API-KEY": token + "x"},
                        timeout=HTTP_TIMEOUT).status_code == 401


def test_a_form_body_signs_up_too(signup_server):
    name = unique()
    reply = send(signup_server, f"account[name]={name}&account[email]={name}%40example.com", "127.0.0.12",
                 content_type="application/x-www-form-urlencoded")
    assert reply.status == 201, reply.body
    assert reply.root.findtext("email") == f"{name}@example.com"


def test_taken_email_or_name_is_refused_ignoring_case_and_nothing_is_created(signup_server):
    name = unique()
    assert send(signup_server, account_xml(name, f"{name}@example.com"), "127.0.0.13").status == 201
    before = accounts(signup_server)
    same_email = send(signup_server, account_xml(unique(), f"{name.upper()}@EXAMPLE.com"), "127.0.0.13")
    assert same_email.status == 422
    assert same_email.root.tag == "message" and same_email.root.text == "email is already taken"
    same_name = send(signup_server, account_xml(name.upper(), f"{unique()}@example.com"), "127.0.0.14")
    assert same_name.status == 422
    assert same_name.root.text == "name is already taken"
    assert accounts(signup_server) == before


@pytest.mark.parametrize("source, body, message", [
    # One address per case: each attempt counts.
    ("127.0.1.1", account_xml("", "someone@example.com"), "name is required"),
    ("127.0.1.2", account_xml("Nameless", ""), "email is required"),
    ("127.0.1.3", account_xml("Bad Email", "not-an-address"), "email must contain exactly one @"),
    ("127.0.1.4", account_xml("Bad Email", "a@b@example.com"), "email must contain exactly one @"),
    ("127.0.1.5", account_xml("Bad Domain", "a@localhost"), "email needs a domain with a dot after the @ (like example.com)"),
])
def test_invalid_input_is_422_and_creates_nothing(signup_server, source, body, message):
    before = accounts(signup_server)
    reply = send(signup_server, body, source)
    assert reply.status == 422
    assert reply.root.tag == "message" and reply.root.text == message
    assert accounts(signup_server) == before


def test_the_limit_per_address_at_its_edge_and_other_addresses_unaffected(signup_server):
    source = "127.0.0.20"
    for i in range(LIMIT):
        reply = send(signup_server, account_xml(unique(), f"{unique()}@example.com"), source)
        assert reply.status == 201, (i, reply.body)
    before = accounts(signup_server)
    over = send(signup_server, account_xml(unique(), f"{unique()}@example.com"), source)
    assert over.status == 429
    assert over.root.tag == "message" and "Too many sign-ups" in over.root.text
    assert int(over.headers["Retry-After"]) in (3599, 3600)
    assert accounts(signup_server) == before, "nothing is created over the limit"
    # X-Forwarded-For does not make another address.
    forwarded = send(signup_server, account_xml(unique(), f"{unique()}@example.com"), source,
                     headers={"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"})
    assert forwarded.status == 429
    # Another address has its own attempts.
    assert send(signup_server, account_xml(unique(), f"{unique()}@example.com"), "127.0.0.21").status == 201


def test_refused_attempts_count_against_the_limit(signup_server):
    source = "127.0.0.22"
    for _ in range(LIMIT):
        assert send(signup_server, account_xml("", "x@example.com"), source).status == 422
    assert send(signup_server, account_xml(unique(), f"{unique()}@example.com"), source).status == 429


def test_two_simultaneous_sign_ups_with_one_email_make_one_account(signup_server):
    email = f"{unique()}@example.com"
    results = []
    barrier = threading.Barrier(6)

    def one(i):
        barrier.wait()
        results.append(send(signup_server, account_xml(unique(f"racer{i}"), email), f"127.0.2.{i + 1}").status)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201] + [422] * 5
    assert len([row for row in accounts(signup_server) if row[1].lower() == email]) == 1


def test_only_post_signs_up(signup_server):
    reply = send(signup_server, None, "127.0.0.23", method="GET")
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST"


def test_without_the_option_the_route_is_unknown(server):
    before = accounts(server)
    off = requests.post(server.store_url + "/api/account/create", data=account_xml(unique(), f"{unique()}@example.com"),
                        headers={"Content-Type": "application/xml"}, timeout=HTTP_TIMEOUT)
    unknown = requests.post(server.store_url + "/api/account/nothing-here", timeout=HTTP_TIMEOUT)
    assert off.status_code == 404
    assert off.content == unknown.content
    assert parse_xml(off).text == "Not found"
    assert accounts(server) == before


def test_other_dialects_refuse_the_sign_up_options(tmp_path):
    from support.server import BIN_DIR
    import subprocess
    for exe in ("files-api", "fetch-api", "jobs-api", "downloader-api"):
        run = subprocess.run([str(BIN_DIR / exe), "--socket", str(tmp_path / "s.sock"), "--database", str(tmp_path / "db"),
                              "--data", str(tmp_path / "data"), "--allow-signup"], capture_output=True, text=True, timeout=20)
        assert run.returncode == 2, (exe, run.stderr)
        assert "allow-signup" in run.stderr


@pytest.mark.parametrize("value", ["0", "100001", "many"])
def test_serve_refuses_a_bad_signup_limit_before_starting(tmp_path, value):
    from support.server import FETCHGATE
    import subprocess
    run = subprocess.run([str(FETCHGATE), "serve", "--run-dir", str(tmp_path / "run"), "--allow-signup", "--signup-limit", value],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 2, run.stderr
    assert "--signup-limit" in run.stderr
    assert not (tmp_path / "run" / "nginx.conf").exists()
