"""Authentication and the account endpoints (`/api/account`, `/api/new_token`)."""
import base64

import pytest
import requests

from conftest import StoreClient, assert_error, child_text, message_of, parse_xml

REALM = 'Basic realm="Fetchgate"'

ACCOUNT_FIELDS = ["id", "name", "email", "billing_email", "shopify_address", "url", "paypal_address",
                  "order_expiration_in_hours", "download_limit_per_item", "api_key", "api_token"]


def assert_401(resp):
    assert_error(resp, 401)
    assert resp.headers.get("WWW-Authenticate") == REALM, resp.headers


def account_of(resp):
    assert resp.status_code == 200, resp.text
    root = parse_xml(resp)
    assert root.tag == "account"
    return root


# ----------------------------------------------------------------------------- ways in

def test_basic_header(demo, server):
    root = account_of(demo.get("/api/account"))
    assert child_text(root, "api_key") == server.demo_key
    assert child_text(root, "api_token") == server.demo_token


def test_basic_header_built_by_hand(anon, server):
    raw = base64.b64encode(f"{server.demo_key}:{server.demo_token}".encode()).decode()
    root = account_of(anon.get("/api/account", headers={"Authorization": "Basic " + raw}))
    assert child_text(root, "api_key") == server.demo_key


def test_credentials_in_url(server):
    url = f"http://{server.demo_key}:{server.demo_token}@127.0.0.1:{server.store_port}/api/account"
    resp = requests.get(url, timeout=10)
    StoreClient.check_reply(resp)
    root = account_of(resp)
    assert child_text(root, "api_token") == server.demo_token


def test_x_api_key_header(anon, server):
    root = account_of(anon.get("/api/account", headers={"X-API-KEY": server.demo_token}))
    assert child_text(root, "api_key") == server.demo_key
    assert child_text(root, "api_token") == server.demo_token


def test_key_query_parameter(anon, server):
    root = account_of(anon.get("/api/account", params={"key": server.demo_token}))
    assert child_text(root, "api_key") == server.demo_key


# ----------------------------------------------------------------------------- ways out

def test_missing_credentials(anon):
    assert_401(anon.get("/api/account"))


@pytest.mark.parametrize("path", ["/api/account", "/api/account.xml", "/api/items", "/api/items/BILL-WAX",
                                  "/api/items/BILL-WAX/downloads", "/api/uploads", "/api/new_token"])
def test_every_endpoint_needs_credentials(anon, path):
    assert_401(anon.get(path))


def test_wrong_token(anon, server):
    assert_401(anon.get("/api/account", auth=(server.demo_key, server.demo_token + "x")))


def test_unknown_key(anon, server):
    assert_401(anon.get("/api/account", auth=("no-such-key", server.demo_token)))


def test_token_of_other_key_does_not_work(anon, server, tenant):
    # A valid token presented with another tenant's key is no credential.
    assert_401(anon.get("/api/account", auth=(server.demo_key, tenant.token)))


@pytest.mark.parametrize("header", ["Basic", "Basic !!!notbase64", "Bearer abc",
                                    "Basic " + base64.b64encode(b"demo").decode(),
                                    "Basic " + base64.b64encode(b"demo:").decode()])
def test_malformed_authorization(anon, header):
    assert_401(anon.get("/api/account", headers={"Authorization": header}))


def test_wrong_x_api_key(anon, server):
    assert_401(anon.get("/api/account", headers={"X-API-KEY": server.demo_token[:-1]}))
    # The key is not the token.
    assert_401(anon.get("/api/account", headers={"X-API-KEY": server.demo_key}))


def test_wrong_key_query_parameter(anon, server):
    assert_401(anon.get("/api/account", params={"key": "nope"}))


def test_unauthenticated_create_writes_nothing(anon, tenant):
    before = tenant.snapshot()
    resp = anon.post("/api/items/create", data="<item><sku>SNEAK</sku></item>",
                     headers={"Content-Type": "application/xml"}, auth=(tenant.key, "bad-token"))
    assert_401(resp)
    assert tenant.snapshot() == before


# ----------------------------------------------------------------------------- account

@pytest.mark.parametrize("path", ["/api/account", "/api/account.xml"])
def test_account_shape(new_account, path):
    t = new_account("Warner Brothers")
    root = account_of(t.get(path))
    assert [c.tag for c in root] == ACCOUNT_FIELDS
    assert child_text(root, "name") == "Warner Brothers"
    assert child_text(root, "api_key") == t.key
    assert child_text(root, "api_token") == t.token
    assert int(child_text(root, "id")) == t.account_id
    assert int(child_text(root, "order_expiration_in_hours")) == 240  # the defaults of a new account
    assert int(child_text(root, "download_limit_per_item")) == 3


def test_accounts_are_distinct(demo, tenant):
    a = account_of(demo.get("/api/account"))
    b = account_of(tenant.get("/api/account"))
    assert child_text(a, "id") != child_text(b, "id")
    assert child_text(b, "name") == tenant.name


# ----------------------------------------------------------------------------- key pairs

def test_two_key_pairs_both_work(server, tenant):
    key2, token2 = server.add_key(tenant.key, new_key=tenant.key + "-second")
    assert key2 == tenant.key + "-second"
    second = StoreClient(server.store_url, key2, token2)
    a = account_of(tenant.get("/api/account"))
    b = account_of(second.get("/api/account"))
    assert child_text(a, "id") == child_text(b, "id")
    assert child_text(b, "api_key") == key2
    assert child_text(b, "api_token") == token2
    # Same tenant: an item created with one pair is seen with the other.
    tenant.create_item("SHARED-1")
    assert "SHARED-1" in second.skus()
    # Tokens are bound to their key.
    assert_401(tenant.get("/api/account", auth=(tenant.key, token2)))
    listed = server.cli("key", "list", "--key", tenant.key).stdout
    assert tenant.key in listed and key2 in listed


def test_revoked_key_is_refused_at_once(server, tenant):
    key2, token2 = server.add_key(tenant.key)
    second = StoreClient(server.store_url, key2, token2)
    assert second.get("/api/account").status_code == 200
    server.cli("key", "revoke", key2)
    assert_401(second.get("/api/account"))
    assert_401(second.get("/api/items"))
    assert_401(tenant.get("/api/account", auth=None, headers={"X-API-KEY": token2}))
    # The other pair is untouched.
    assert tenant.get("/api/account").status_code == 200
    assert "revoked" in server.cli("key", "list", "--key", tenant.key).stdout


# ----------------------------------------------------------------------------- new_token

@pytest.mark.parametrize("method,path", [("GET", "/api/new_token"), ("GET", "/api/new_token.xml"),
                                         ("POST", "/api/new_token")])
def test_new_token_replaces_the_old_one(server, tenant, method, path):
    old = tenant.token
    resp = tenant.request(method, path)
    assert resp.status_code == 200, resp.text
    new = message_of(resp).strip()
    assert new and new != old
    assert " " not in new and "<" not in new
    assert_401(tenant.get("/api/account"))  # old token refused at once
    assert_401(tenant.get("/api/account", auth=None, headers={"X-API-KEY": old}))
    fresh = StoreClient(server.store_url, tenant.key, new)
    root = account_of(fresh.get("/api/account"))
    assert child_text(root, "api_token") == new
    assert fresh.get("/api/account", auth=None, headers={"X-API-KEY": new}).status_code == 200


def test_new_token_twice(server, tenant):
    first = message_of(tenant.get("/api/new_token")).strip()
    one = StoreClient(server.store_url, tenant.key, first)
    second = message_of(one.get("/api/new_token")).strip()
    assert second != first
    assert_401(one.get("/api/account"))
    assert StoreClient(server.store_url, tenant.key, second).get("/api/account").status_code == 200


def test_cli_account_with_chosen_key_and_token(server):
    r = server.cli("account", "create", "--name", "Chosen", "--key", "chosen-key", "--token", "chosen-token-123")
    assert server.parse_key_token(r.stdout) == ("chosen-key", "chosen-token-123")
    client = StoreClient(server.store_url, "chosen-key", "chosen-token-123")
    root = account_of(client.get("/api/account"))
    assert child_text(root, "name") == "Chosen"
    assert child_text(root, "api_key") == "chosen-key"
    # A key is unique across all accounts.
    dup = server.cli("account", "create", "--name", "Dup", "--key", "chosen-key", check=False)
    assert dup.returncode != 0
    dup2 = server.cli("key", "create", "--key", server.demo_key, "--new-key", "chosen-key", check=False)
    assert dup2.returncode != 0
    assert account_of(client.get("/api/account")).findtext("name") == "Chosen"


def test_basic_scheme_is_case_insensitive(anon, server):
    raw = base64.b64encode(f"{server.demo_key}:{server.demo_token}".encode()).decode()
    assert anon.get("/api/account", headers={"Authorization": "basic " + raw}).status_code == 200
