"""The dashboard (www/, issue 12) in headless Chromium against the fetch stack (private
`localhost` origins allowed): sign in and out, upload a generated mp4 and see its probe data,
delete it behind the confirmation dialog, start a fetch from the local media origin and watch it
reach success, download it through the signed link, cancel a slow one, a paused batch renamed
and started, an order's customer link (the file arrives, remaining downloads drop by one), the
webhook delivery log, sign-up refused when it is off. Every page is saved as
`dashboard-<view>-<width>.png`, and no page logs a console error (a CSP refusal included).
"""
import contextlib
import uuid

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from conftest import assert_download_location, running_server, wait_for, webhook_secret
from support.browser import WIDTHS, chromium, console_errors, save_screenshot, wait

ROUTES = ["signin", "signup", "files", "fetches", "jobs", "store", "usage"]
# What each view shows once its data has arrived.
LOADED = {
    "signin": "#token", "signup": "#signup-name", "files": "#files-pager button",
    "fetches": "#fetches-pager button", "jobs": "#jobs-pager button", "store": "#store-account dl",
    "usage": "#deliveries-pager button",
}
PHONE = WIDTHS["phone"]


@contextlib.contextmanager
def browser(server, width="desktop", dark=False):
    driver = chromium(width, dark=dark)
    try:
        driver.get(server.media_url + "/")
        yield driver
        assert console_errors(driver) == []
    finally:
        driver.quit()


def q(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css)


def qs(driver, css):
    return driver.find_elements(By.CSS_SELECTOR, css)


def text_of(driver, css):
    """The element's text, or None while it is missing or being replaced."""
    try:
        found = qs(driver, css)
        return found[0].text if found else None
    except StaleElementReferenceException:
        return None


def route(driver, name):
    driver.execute_script("location.hash = arguments[0]", f"#/{name}")
    wait(driver, lambda d: qs(d, LOADED[name]), 20, f"the {name} view")


def sign_in(driver, token):
    wait(driver, lambda d: d.execute_script("return location.hash") == "#/signin", 10, "the sign-in page")
    q(driver, "#token").send_keys(token)
    q(driver, "#signin-submit").click()
    wait(driver, lambda d: d.execute_script("return location.hash") == "#/files", 10, "the files view")
    wait(driver, lambda d: qs(d, LOADED["files"]), 10, "the files list")


def storage(driver):
    return driver.execute_script(
        "return {session: Object.assign({}, sessionStorage), local: Object.assign({}, localStorage), cookie: document.cookie}")


def record_link_clicks(driver):
    """Makes <a download> clicks record their href instead of downloading (headless has no save dialog)."""
    driver.execute_script("""
        window.__clicked = [];
        HTMLAnchorElement.prototype.click = function () { window.__clicked.push(this.href); };""")


def clicked_link(driver):
    return wait(driver, lambda d: (d.execute_script("return window.__clicked") or [None])[0], 10, "a download link")


def files_of(api):
    r = api.get("/files")
    assert r.status_code == 200, r.text
    return r.json()["files"]


def expect_refused_request(driver, path, status):
    """Reads the console so far: exactly one SEVERE entry, Chromium's note of the refused request."""
    errors = console_errors(driver)
    assert len(errors) == 1 and path in errors[0]["message"] and f"status of {status}" in errors[0]["message"], errors


def entry_status(driver, list_css, entry_id):
    return driver.execute_script(
        "const e = document.querySelector(arguments[0] + ' [data-id=\"' + arguments[1] + '\"]');"
        "return e ? e.dataset.status : null;", list_css, entry_id)


# --------------------------------------------------------------------------------------- sign in/out

def test_sign_in_keeps_the_token_out_of_urls_storage_and_dom(fetch_server, fetch_api):
    token = fetch_api.token
    with browser(fetch_server) as d:
        wait(d, lambda d: d.execute_script("return location.hash") == "#/signin", 10, "the redirect to #/signin")
        d.execute_script("location.hash = '#/usage'")
        wait(d, lambda d: d.execute_script("return location.hash") == "#/signin", 10, "#/usage to need a token")
        q(d, "#token").send_keys("not-a-token")
        q(d, "#signin-submit").click()
        wait(d, lambda d: "Wrong token" in (text_of(d, "#signin-message") or ""), 10, "the wrong-token message")
        expect_refused_request(d, "/store/api/account.xml", 401)
        assert storage(d)["session"] == {}
        q(d, "#token").clear()
        sign_in(d, token)
        name = fetch_api.store.get("/api/account.xml").text.split("<name>")[1].split("</name>")[0]
        wait(d, lambda d: text_of(d, "#account-name") == name, 10, "the account's name in the header")
        assert storage(d) == {"session": {"fetchgate.token": token}, "local": {}, "cookie": ""}
        assert token not in d.page_source and token not in d.current_url
        # Every route shows its view and a link in the nav marks it.
        for name_ in ROUTES[2:]:
            route(d, name_)
            assert q(d, f'nav a[data-route="{name_}"]').get_attribute("aria-current") == "page"
            assert token not in d.page_source
        q(d, "#signout").click()
        wait(d, lambda d: d.execute_script("return location.hash") == "#/signin", 10, "the sign-in page after sign-out")
        assert storage(d)["session"] == {}
        assert not q(d, "#account").is_displayed()


def test_signup_off_says_so(fetch_server):
    with browser(fetch_server) as d:
        d.execute_script("location.hash = '#/signup'")
        wait(d, lambda d: qs(d, "#signup-name"), 10, "the sign-up form")
        email = f"{uuid.uuid4().hex[:10]}@example.com"
        for field, value in (("name", f"Shop {email}"), ("first-name", "Ada"), ("last-name", "L"), ("email", email)):
            q(d, f"#signup-{field}").send_keys(value)
        q(d, "#signup-submit").click()
        wait(d, lambda d: text_of(d, "#signup-message") == "Sign-up is not enabled on this server.", 10,
             "the sign-up-off message")
        expect_refused_request(d, "/store/api/account/create", 404)
        assert storage(d)["session"] == {}


@pytest.fixture(scope="module")
def signup_stack(tmp_path_factory):
    with running_server(tmp_path_factory, "fetchgate-www-signup", ["--allow-signup"]) as srv:
        yield srv


def fill_signup(d, name, email):
    d.execute_script("location.hash = '#/signup'")
    wait(d, lambda d: qs(d, "#signup-name"), 10, "the sign-up form")
    for field, value in (("name", name), ("first-name", "Ada"), ("last-name", "L"), ("email", email),
                         ("url", "https://shop.example")):
        q(d, f"#signup-{field}").clear()
        q(d, f"#signup-{field}").send_keys(value)
    q(d, "#signup-submit").click()


def test_signup_on_creates_an_account_that_works_at_once(signup_stack):
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    name = f"Shop {email}"
    with browser(signup_stack) as d:
        fill_signup(d, name, email)
        wait(d, lambda d: text_of(d, "#signup-token"), 15, "the new credentials")
        key, token = text_of(d, "#signup-key"), text_of(d, "#signup-token")
        save_screenshot(d, "dashboard-signup-done-desktop")
        # The new token works at once in the JSON dialects and the store.
        files = requests.get(signup_stack.media_url + "/files", headers={"X-API-KEY": token}, timeout=10)
        assert files.status_code == 200 and files.json()["total"] == 0
        account = requests.get(signup_stack.store_url + "/api/account", auth=(key, token), timeout=10)
        assert account.status_code == 200 and f"<name>{name}</name>" in account.text
        q(d, "#signup-continue").click()
        wait(d, lambda d: text_of(d, "#account-name") == name, 10, "signed in as the new account")
        assert storage(d)["session"] == {"fetchgate.token": token}
        assert token not in d.current_url
        # The same email again is refused, in words, and nothing is signed in with it.
        q(d, "#signout").click()
        wait(d, lambda d: storage(d)["session"] == {}, 10, "signed out")
        fill_signup(d, name + " again", email)
        wait(d, lambda d: text_of(d, "#signup-message") == "email is already taken", 10, "the refusal")
        expect_refused_request(d, "/store/api/account/create", 422)
        assert storage(d)["session"] == {}


# --------------------------------------------------------------------------------------- files

def test_upload_probe_download_delete(fetch_server, fetch_api, media):
    mp4 = media.mp4  # clip.mp4, made by ffmpeg (support/files.py)
    with browser(fetch_server) as d:
        sign_in(d, fetch_api.token)
        q(d, "#file-input").send_keys(str(mp4))
        wait(d, lambda d: "Uploaded clip.mp4" in (text_of(d, "#upload-message") or ""), 30, "the upload")
        assert q(d, "#upload-progress").get_attribute("value") == "100"
        [made] = files_of(fetch_api)
        wait(d, lambda d: "ready" in (text_of(d, "#files-table tbody tr") or ""), 30, "the file to be ready (polling)")
        q(d, f'button[data-action="details"][data-id="{made["id"]}"]').click()
        wait(d, lambda d: text_of(d, "#file-details-resolution") == f"{media.WIDTH}×{media.HEIGHT}", 10, "the probe data")
        probe = fetch_api.get(f"/files/{made['id']}").json()["ffprobe"]
        video = next(s for s in probe["streams"] if s["type"] == "video")
        assert text_of(d, "#file-details-resolution") == f"{video['width']}×{video['height']}"
        assert video["codec"] in text_of(d, "#file-details-codecs")
        assert text_of(d, "#file-details-duration").startswith(f"0:0{int(probe['duration'])}")
        save_screenshot(d, "dashboard-files-details-desktop")
        # Download: the stack's link (nginx's signed /dl/ link, or the bucket's presigned URL), no token in it,
        # the same bytes.
        record_link_clicks(d)
        q(d, f'button[data-action="download"][data-id="{made["id"]}"]').click()
        href = clicked_link(d)
        assert_download_location(fetch_server, href, f"m/{made['id']}.mp4", "clip.mp4", "video/mp4")
        assert fetch_api.token not in href, href
        got = requests.get(href, timeout=30)
        assert got.status_code == 200 and got.content == mp4.read_bytes()
        # Delete asks first: Cancel keeps it, Delete removes it.
        q(d, f'button[data-action="delete"][data-id="{made["id"]}"]').click()
        wait(d, lambda d: q(d, "#confirm-dialog").is_displayed(), 5, "the confirmation dialog")
        save_screenshot(d, "dashboard-files-confirm-desktop")
        q(d, "#confirm-no").click()
        assert len(files_of(fetch_api)) == 1
        q(d, f'button[data-action="delete"][data-id="{made["id"]}"]').click()
        wait(d, lambda d: qs(d, "#confirm-yes"), 5, "the confirmation dialog")
        q(d, "#confirm-yes").click()
        wait(d, lambda d: "No files yet" in (text_of(d, "#files-list") or ""), 10, "the empty list")
        assert files_of(fetch_api) == []


# --------------------------------------------------------------------------------------- fetches

def test_fetch_from_a_local_origin_reaches_success(fetch_server, fetch_api, media_origin, media_files):
    with browser(fetch_server) as d:
        sign_in(d, fetch_api.token)
        route(d, "fetches")
        q(d, "#fetch-url").send_keys(media_origin.mp4_url)
        q(d, "#fetch-preview").click()
        wait(d, lambda d: text_of(d, "#fetch-metadata-title") == "v", 30, "the metadata preview")
        # yt-dlp's generic extractor reads no duration from a bare mp4: the page shows a dash for it.
        assert (text_of(d, "#fetch-metadata-formats"), text_of(d, "#fetch-metadata-duration")) == ("1", "—")
        q(d, "#fetch-start").click()
        wait(d, lambda d: "Fetch started" in (text_of(d, "#fetch-message") or ""), 10, "the fetch to start")
        [f] = fetch_api.listing()["fetches"]
        wait(d, lambda d: entry_status(d, "#fetches-list", f["id"]) == "success", 60, "success on screen (polling)")
        save_screenshot(d, "dashboard-fetches-success-desktop")
        record_link_clicks(d)
        q(d, f'#fetches-list [data-id="{f["id"]}"] button[data-action="download"]').click()
        href = clicked_link(d)
        [f] = fetch_api.listing()["fetches"]
        assert_download_location(fetch_server, href, f"f/{f['id']}.mp4", f["filename"], "video/mp4")
        assert fetch_api.token not in href, href
        got = requests.get(href, timeout=30)
        assert got.status_code == 200 and got.content == media_files.mp4_bytes


def test_cancel_a_running_fetch(fetch_server, fetch_api, media_origin):
    url = media_origin.slow_url(f"dash-cancel-{uuid.uuid4().hex[:8]}", rate=100_000)
    made = fetch_api.create(url)
    with browser(fetch_server) as d:
        sign_in(d, fetch_api.token)
        route(d, "fetches")
        wait(d, lambda d: entry_status(d, "#fetches-list", made["id"]) == "running", 30, "the fetch to run")
        wait(d, lambda d: qs(d, f'#fetches-list [data-id="{made["id"]}"] progress'), 5, "its progress bar")
        save_screenshot(d, "dashboard-fetches-running-desktop")
        q(d, f'#fetches-list [data-id="{made["id"]}"] button[data-action="cancel"]').click()
        wait(d, lambda d: entry_status(d, "#fetches-list", made["id"]) == "failed", 15, "the cancelled fetch")
        assert "It was cancelled." in q(d, f'#fetches-list [data-id="{made["id"]}"]').text
    f = fetch_api.fetch(made["id"])
    assert (f["status"], f["error"]["code"]) == ("failed", "cancelled")


# --------------------------------------------------------------------------------------- jobs

def test_paused_batch_renamed_and_started(fetch_server, fetch_api, media_origin):
    with browser(fetch_server) as d:
        sign_in(d, fetch_api.token)
        route(d, "jobs")
        q(d, "#bulk-urls").send_keys(f"{media_origin.mp4_url}\n{media_origin.mp4_url}?second")
        assert q(d, "#bulk-paused").is_selected()
        q(d, "#bulk-create").click()
        wait(d, lambda d: "paused" in (text_of(d, "#batch-status") or ""), 15, "the paused batch")
        names = qs(d, "#batch-jobs input")
        assert len(names) == 2
        names[0].send_keys("first-clip")
        q(d, "#batch-rename").click()
        wait(d, lambda d: text_of(d, "#batch-message") == "Names saved.", 10, "the rename")
        save_screenshot(d, "dashboard-jobs-batch-desktop")
        q(d, "#batch-start").click()
        wait(d, lambda d: text_of(d, "#batch-status") == "completed", 60, "the batch to complete (polling)")
    [batch_id] = {j["batch_id"] for j in fetch_api.get("/jobs").json()["jobs"]}
    batch = fetch_api.get(f"/batch/{batch_id}").json()
    assert batch["counts"]["Completed"] == 2, batch
    assert sorted(j["file"]["name"] for j in batch["jobs"])[0] == "first-clip.mp4", batch


# --------------------------------------------------------------------------------------- store

def test_order_customer_link_counts_a_download(fetch_server, fetch_api, tmp_path):
    shop = fetch_api.store
    shop.upload("alpha.txt", b"alpha file for the dashboard\n", "text/plain")
    shop.create_item("DASH-A", name="Dashboard item", extra="<filename>alpha.txt</filename>")
    shop.create_order(["DASH-A"], id="D-1", first_name="Ada", last_name="Lovelace", email="ada@example.com")
    with browser(fetch_server) as d:
        sign_in(d, fetch_api.token)
        route(d, "store")
        wait(d, lambda d: qs(d, '#store-orders a.customer-link'), 10, "the order's customer link")
        link = q(d, '#store-orders a.customer-link')
        href, guid = link.get_attribute("href"), link.get_attribute("data-guid")
        # The link opens on the dashboard's own origin (nginx passes /get/ to the store dialect).
        assert href == f"{fetch_server.media_url}/get/{guid}"
        assert text_of(d, f'.remaining[data-guid="{guid}"]') == "3"
        assert "Ada Lovelace" in q(d, '#store-orders [data-order="D-1"]').text
        # Opened in the browser: the file arrives as a download.
        d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
        link.click()
        arrived = tmp_path / "alpha.txt"
        wait(d, lambda d: arrived.exists() and arrived.read_bytes() == b"alpha file for the dashboard\n", 15,
             "the customer link's file in the download folder")
        q(d, "#store-refresh").click()
        wait(d, lambda d: text_of(d, f'.remaining[data-guid="{guid}"]') == "2", 10, "remaining downloads to drop")
        wait(d, lambda d: "DASH-A" in (text_of(d, "#downloads-table") or ""), 10, "the downloads log")
        # Filters: by the item, by the order, by another item (nothing).
        for select, value, expect in (("#downloads-item", "DASH-A", True), ("#downloads-order", "D-1", True)):
            q(d, f'{select} option[value="{value}"]').click()
            wait(d, lambda d: ("DASH-A" in (text_of(d, "#store-downloads") or "")) == expect, 10, f"{select}={value}")
        save_screenshot(d, "dashboard-store-downloads-desktop")


# --------------------------------------------------------------------------------------- usage

def test_usage_shows_the_webhook_delivery_log(fetch_server, fetch_api, media_origin, webhook_receiver):
    webhook_receiver.secret("dash", webhook_secret(fetch_server, fetch_api.store.key))
    f = fetch_api.succeeded(media_origin.mp4_url, webhook_url=webhook_receiver.url("dash"))
    wait_for(lambda: fetch_api.deliveries(f["id"]), timeout=15, interval=0.1, what="the delivery")
    with browser(fetch_server) as d:
        sign_in(d, fetch_api.token)
        route(d, "usage")
        wait(d, lambda d: qs(d, "#deliveries-table"), 10, "the delivery log")
        row = q(d, "#deliveries-table tbody tr").text
        assert f["id"][:8] in row and "204" in row, row
        assert text_of(d, "#usage-total") == "1"


# --------------------------------------------------------------------------------------- every page

@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_view_at_each_width(fetch_server, fetch_api, width):
    with browser(fetch_server, width) as d:
        for name in ("signin", "signup"):
            route(d, name)
            save_screenshot(d, f"dashboard-{name}-{width}")
        route(d, "signin")
        sign_in(d, fetch_api.token)
        for name in ROUTES[2:]:
            route(d, name)
            save_screenshot(d, f"dashboard-{name}-{width}")
            widths = d.execute_script("return [document.scrollingElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1], f"{name} scrolls sideways at {width}: {widths}"
            assert d.execute_script("return innerWidth") == (PHONE[0] if width == "phone" else 1366)


def test_dark_mode_follows_the_system(fetch_server, fetch_api):
    with browser(fetch_server, dark=True) as d:
        sign_in(d, fetch_api.token)
        background = d.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 18, 23)", background
        for name in ROUTES[2:]:
            route(d, name)
            save_screenshot(d, f"dashboard-{name}-desktop-dark")
