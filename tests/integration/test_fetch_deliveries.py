"""`GET /fetch/deliveries` (issue 12, for the dashboard's Usage view): every webhook attempt of the
caller's account, newest first, in the JSON dialects' list envelope, each attempt as
`/fetch/{id}/deliveries` gives it plus `fetch_id`. Only the caller's account's rows.
"""
import requests

from conftest import FetchClient, assert_json_error, parse_json, wait_for, webhook_secret

DELIVERY_KEYS = {"id", "fetch_id", "message_id", "url", "attempt", "attempted_at", "status", "duration_ms", "error"}
ENVELOPE_KEYS = {"deliveries", "page", "per_page", "total", "has_more", "next_cursor"}


def listing(api, **params):
    r = api.get("/fetch/deliveries", params=params or None)
    body = parse_json(r)
    assert r.status_code == 200, f"GET /fetch/deliveries {params}: {r.status_code} {body}"
    assert set(body) == ENVELOPE_KEYS, body
    for d in body["deliveries"]:
        assert set(d) == DELIVERY_KEYS, d
    return body


def hooked_fetches(server, api, receiver, media_origin, count):
    """`count` successful fetches of one account, each with a webhook; waits for each one's delivery."""
    receiver.secret("dash", webhook_secret(server, api.store.key))
    made = []
    for _ in range(count):
        f = api.succeeded(media_origin.mp4_url, webhook_url=receiver.url("dash"))
        wait_for(lambda: api.deliveries(f["id"]), timeout=15, interval=0.1, what=f"the delivery of {f['id']}")
        made.append(f)
    return made


def test_account_wide_log_newest_first(fetch_server, fetch_api, media_origin, webhook_receiver):
    first, second = hooked_fetches(fetch_server, fetch_api, webhook_receiver, media_origin, 2)
    body = listing(fetch_api)
    assert (body["page"], body["per_page"], body["total"], body["has_more"], body["next_cursor"]) == (1, 25, 2, False, None)
    newest, oldest = body["deliveries"]
    assert (newest["fetch_id"], oldest["fetch_id"]) == (second["id"], first["id"])
    assert newest["id"] > oldest["id"]
    # The same members as the fetch's own log, plus fetch_id.
    for f, d in ((first, oldest), (second, newest)):
        [own] = fetch_api.deliveries(f["id"])
        assert {k: v for k, v in d.items() if k != "fetch_id"} == own
        assert (d["status"], d["error"], d["attempt"], d["url"]) == (204, None, 1, webhook_receiver.url("dash"))


def test_pages_by_number_and_by_cursor(fetch_server, fetch_api, media_origin, webhook_receiver):
    made = hooked_fetches(fetch_server, fetch_api, webhook_receiver, media_origin, 3)
    newest_first = [f["id"] for f in reversed(made)]
    by_page = [listing(fetch_api, per_page=1, page=n) for n in (1, 2, 3, 4)]
    assert [[d["fetch_id"] for d in b["deliveries"]] for b in by_page] == [[newest_first[0]], [newest_first[1]],
                                                                         [newest_first[2]], []]
    assert [b["has_more"] for b in by_page] == [True, True, False, False]
    assert all(b["total"] == 3 and b["per_page"] == 1 for b in by_page)
    seen = []
    body = listing(fetch_api, per_page=2)
    seen += [d["fetch_id"] for d in body["deliveries"]]
    assert body["has_more"] and body["next_cursor"], body
    body = listing(fetch_api, per_page=2, after=body["next_cursor"])
    seen += [d["fetch_id"] for d in body["deliveries"]]
    assert (body["has_more"], body["next_cursor"]) == (False, None)
    assert seen == newest_first


def test_only_the_callers_account(fetch_server, fetch_api, media_origin, webhook_receiver):
    [mine] = hooked_fetches(fetch_server, fetch_api, webhook_receiver, media_origin, 1)
    other = FetchClient(fetch_server, fetch_server.create_account().token)
    empty = listing(other)
    assert (empty["deliveries"], empty["total"], empty["has_more"]) == ([], 0, False)
    # A third account with a webhook of its own sees its attempt and never the first account's.
    third_store = fetch_server.create_account()
    third = FetchClient(fetch_server, third_store.token)
    third.store = third_store
    [theirs] = hooked_fetches(fetch_server, third, webhook_receiver, media_origin, 1)
    assert [d["fetch_id"] for d in listing(third)["deliveries"]] == [theirs["id"]]
    assert [d["fetch_id"] for d in listing(fetch_api)["deliveries"]] == [mine["id"]]
    # A cursor past every row (the first account's included) still gives only the caller's.
    cursor = str(max(listing(fetch_api)["deliveries"][0]["id"], listing(third)["deliveries"][0]["id"]) + 1)
    assert [d["fetch_id"] for d in listing(third, after=cursor)["deliveries"]] == [theirs["id"]]
    assert [d["fetch_id"] for d in listing(fetch_api, after=cursor)["deliveries"]] == [mine["id"]]


def test_needs_credentials_and_a_real_cursor(fetch_server, fetch_api):
    assert_json_error(requests.get(fetch_server.media_url + "/fetch/deliveries", timeout=10), 401, "unauthorized")
    assert_json_error(fetch_api.get("/fetch/deliveries", params={"after": "abc"}), 400, "bad_request")
