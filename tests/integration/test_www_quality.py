"""The quality of www/ in a real browser and on the wire.

- Headers (requests, no browser): every file of www/ as nginx serves it carries the CSP (frame-ancestors
  'none', no 'unsafe-inline'/'unsafe-eval'), nosniff, Referrer-Policy and its exact Content-Type; the
  stylesheets under /_xsl/ do on both servers.
- A static scan: no file of www/ has an inline script, an inline event handler, a style attribute or a
  <style> element (in HTML, in XSLT output, or in markup a script writes), which the CSP would block.
- The page walk: each dashboard route (and #/files's delete confirmation), /docs.html and the store's
  XSLT pages (account, items, an item, orders, an order, downloads, an error <message>) at desktop and
  phone width and in dark mode at desktop width: a screenshot quality-<page>-<width>[-dark].png, no
  violation from our checker (support/a11y.js), no console error (a CSP refusal is one), no horizontal
  scroll on a phone.
- Reduced motion: with prefers-reduced-motion: reduce, no page animates or transitions (checker group
  "motion").
- The keyboard walk: from the top of each dashboard view (and with its delete confirmation open), Tab
  reaches every visible enabled control, each one visibly focused and on screen, and the focus comes
  round again (no trap).

The stack serves the checkout's www/; FETCHGATE_TEST_WWW=DIR points it (and the scan) at another
folder, e.g. a part's worktree while it is being written.
"""
import html.parser
import os
import pathlib
import re
import time

import pytest
import requests

from conftest import REPO, FilesClient, MediaSamples, child_text, free_port, running_server, stock_shop
from support import a11y
from support.browser import WIDTHS, chromium, console_errors, save_screenshot, wait
from support.fetch import FetchClient

WWW = pathlib.Path(os.environ.get("FETCHGATE_TEST_WWW", REPO / "www")).resolve()
SERVE_ARGS = ("--allow-private-hosts", "localhost") + \
    (("--www", str(WWW)) if "FETCHGATE_TEST_WWW" in os.environ else ())

TOKEN_KEY = "fetchgate.token"  # the dashboard's sessionStorage key
GUEST_ROUTES = ("signin", "signup")
APP_ROUTES = ("files", "fetches", "jobs", "store", "usage")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_server(tmp_path_factory, "www-quality", SERVE_ARGS) as srv:
        shop = srv.create_account("Quality Shop")
        stock_shop(shop)
        order = shop.create_order(items=("A", "B"), first_name="Ada", last_name="Lovelace", email="ada@example.com")
        srv.shop = shop
        srv.order_id = child_text(order, "id")
        # A probed file and a cancelled fetch, so the lists show rows with their controls and an error in words.
        media = MediaSamples(tmp_path_factory.mktemp("quality-media"))
        files = FilesClient(srv, shop.token)
        files.wait(files.upload("clip.mp4", media.mp4_bytes, "video/mp4")["id"])
        fetches = FetchClient(srv, shop.token)
        cancelled = fetches.delete(f"/fetch/{fetches.create(f'http://localhost:{free_port()}/clip.mp4')['id']}")
        assert cancelled.status_code == 200, cancelled.text
        yield srv


# --------------------------------------------------------------------------- headers

TYPES = {".html": "text/html", ".css": "text/css", ".js": "application/javascript", ".json": "application/json",
         ".xsl": "text/xsl", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
         ".woff2": "font/woff2"}

# Named in the design: each must exist and be served with the headers.
NAMED = ("/", "/index.html", "/docs.html", "/css/base.css", "/js/docs.js", "/_xsl/store.xsl", "/_xsl/store.css")


def www_files():
    return sorted(p for p in WWW.rglob("*") if p.is_file())


def url_path(path):
    return "/" + path.relative_to(WWW).as_posix()


def assert_www_headers(r, path):
    assert r.status_code == 200, f"{r.url}: {r.status_code}"
    csp = r.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}
    assert directives.get("frame-ancestors") == ["'none'"], f"{r.url}: CSP {csp!r}"
    assert directives.get("script-src") == ["'self'"], f"{r.url}: CSP {csp!r}"
    assert directives.get("style-src") == ["'self'"], f"{r.url}: CSP {csp!r}"
    assert directives.get("default-src") == ["'none'"], f"{r.url}: CSP {csp!r}"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, f"{r.url}: CSP {csp!r}"
    assert r.headers.get("X-Content-Type-Options") == "nosniff", r.url
    assert r.headers.get("Referrer-Policy") == "no-referrer", r.url
    assert r.headers.get("X-Frame-Options") == "DENY", r.url
    suffix = pathlib.PurePosixPath(path).suffix or ".html"
    assert suffix in TYPES, f"{path}: no expected Content-Type for {suffix!r} in TYPES (add it)"
    assert r.headers.get("Content-Type", "").split(";")[0] == TYPES[suffix], \
        f"{r.url}: Content-Type {r.headers.get('Content-Type')!r}, expected {TYPES[suffix]}"


@pytest.mark.parametrize("path", NAMED)
def test_named_pages_carry_the_headers(stack, path):
    assert_www_headers(requests.get(stack.media_url + path, timeout=10), path)
    if path.startswith("/_xsl/"):
        assert_www_headers(requests.get(stack.store_url + path, timeout=10), path)


def test_every_www_file_carries_the_headers_and_its_type(stack):
    files = www_files()
    assert files, f"{WWW} is empty"
    for p in files:
        path = url_path(p)
        r = requests.get(stack.media_url + path, timeout=10)
        assert_www_headers(r, path)
        assert r.content == p.read_bytes(), path
        if path.startswith("/_xsl/"):
            assert_www_headers(requests.get(stack.store_url + path, timeout=10), path)


# --------------------------------------------------------------------------- the static scan

class MarkupScan(html.parser.HTMLParser):
    """Inline script, inline handlers, style attributes and <style> in HTML or XSLT markup."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name.lower(): value for name, value in attrs}
        line = self.getpos()[0]
        if tag == "style":
            self.found.append((line, "<style> element"))
        if tag == "script":
            if "src" not in names:
                self.found.append((line, "inline <script> (no src)"))
            self.in_script = True
        for name, value in names.items():
            if name == "style":
                self.found.append((line, "style attribute"))
            elif name.startswith("on"):
                self.found.append((line, f"inline handler {name}="))
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append((line, f"javascript: URL in {name}"))
        if tag == "xsl:attribute":
            attr = (names.get("name") or "").lower()
            if attr == "style" or attr.startswith("on"):
                self.found.append((line, f"<xsl:attribute name={attr!r}>"))
        if tag == "xsl:element" and (names.get("name") or "").lower() in ("style", "script"):
            self.found.append((line, f"<xsl:element name={names['name']!r}>"))

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.found.append((self.getpos()[0], "inline script text"))


# Markup a script writes (innerHTML, insertAdjacentHTML, template strings) and what the CSP refuses.
SCRIPT_PATTERNS = [
    (re.compile(r"<\w[^<>]*\sstyle\s*=", re.I), "style attribute in markup"),
    (re.compile(r"<\w[^<>]*\son[a-z]+\s*=", re.I), "inline handler in markup"),
    (re.compile(r"<style\b", re.I), "<style> in markup"),
    (re.compile(r"<script\b", re.I), "<script> in markup"),
    (re.compile(r"""setAttribute\(\s*["'](style|on[a-z]+)["']""", re.I), "setAttribute of style/handler"),
    (re.compile(r"\beval\s*\("), "eval"),
    (re.compile(r"\bnew\s+Function\s*\("), "new Function"),
    (re.compile(r"""set(Timeout|Interval)\(\s*["'`]"""), "string timer (eval)"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def scan_text(name, text):
    """What the CSP would refuse in one file's text: [(line, what)]."""
    if name.endswith((".html", ".htm", ".xsl", ".xml", ".svg")):
        scan = MarkupScan()
        scan.feed(text)
        scan.close()
        return scan.found
    if name.endswith((".js", ".mjs")):
        found = []
        for number, line in enumerate(text.splitlines(), 1):
            for pattern, what in SCRIPT_PATTERNS:
                if pattern.search(line):
                    found.append((number, what))
        return found
    if name.endswith(".css"):
        return [(n, "expression()/javascript: in CSS") for n, line in enumerate(text.splitlines(), 1)
                if re.search(r"expression\s*\(|javascript:", line, re.I)]
    return []


def test_the_scan_finds_what_the_csp_refuses():
    bad_html = ('<p style="color:red">x</p>\n<button onclick="go()">b</button>\n<script>alert(1)</script>\n'
                '<style>p{}</style>\n<a href="javascript:void(0)">a</a>\n<script type="module" src="/js/a.js"></script>')
    assert scan_text("a.html", bad_html) == [(1, "style attribute"), (2, "inline handler onclick="),
                                             (3, "inline <script> (no src)"), (3, "inline script text"),
                                             (4, "<style> element"), (5, "javascript: URL in href")]
    bad_xsl = ('<xsl:template match="/"><td><xsl:attribute name="style">x</xsl:attribute></td>\n'
               '<xsl:element name="script"/></xsl:template>')
    assert scan_text("a.xsl", bad_xsl) == [(1, "<xsl:attribute name='style'>"), (2, "<xsl:element name='script'>")]
    bad_js = ('el.innerHTML = `<td style="width:3px">`;\nx.innerHTML = "<a onclick=\'f()\'>";\n'
              'el.setAttribute("style", "x");\neval("1");\nsetTimeout("f()", 1);\nel.style.width = "3px";')
    assert scan_text("a.js", bad_js) == [(1, "style attribute in markup"), (2, "inline handler in markup"),
                                         (3, "setAttribute of style/handler"), (4, "eval"),
                                         (5, "string timer (eval)")]
    good = '<!doctype html><html lang="en"><link rel="stylesheet" href="/css/base.css"><script type="module" src="/js/app.js"></script>'
    assert scan_text("good.html", good) == []


def test_no_www_file_has_inline_script_handlers_or_styles():
    files = www_files()
    assert files, f"{WWW} is empty"
    found = {}
    for p in files:
        try:
            text = p.read_text()
        except UnicodeDecodeError:
            continue
        hits = scan_text(p.name, text)
        if hits:
            found[url_path(p)] = hits
    assert found == {}, "\n".join(f"{path}:{line}: {what}" for path, hits in found.items() for line, what in hits)


# --------------------------------------------------------------------------- the page walk

SETTLE = 0.6  # the page is done when main's markup has not changed for this long


def settle(driver, timeout=15):
    """Waits for the page's main content to stop changing (views fetch their data after load)."""
    last, since = None, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = driver.execute_script(
            "const m = document.querySelector('main') || document.body; "
            "return document.readyState + (m ? m.innerHTML : '');")
        if now != last:
            last, since = now, time.monotonic()
        elif now.startswith("complete") and time.monotonic() - since >= SETTLE:
            return
        time.sleep(0.1)
    raise AssertionError(f"{driver.current_url}: the page never settled in {timeout}s")


def set_token(driver, stack, token):
    """Puts the dashboard's token in (or out of) sessionStorage from a page of the origin that runs no
    script (the JSON 404), so the next load starts signed in (or out). The 404 it logs is dropped."""
    driver.get(stack.media_url + "/no-such-page")
    if token:
        driver.execute_script("sessionStorage.setItem(arguments[0], arguments[1]);", TOKEN_KEY, token)
    else:
        driver.execute_script("sessionStorage.clear();")
    console_errors(driver)


def open_route(driver, stack, route):
    set_token(driver, stack, None if route in GUEST_ROUTES else stack.shop.token)
    driver.get(f"{stack.media_url}/#/{route}")
    wait(driver, lambda d: d.execute_script("return location.hash") == f"#/{route}", 10, f"#/{route}")
    settle(driver)
    assert driver.execute_script("return location.hash") == f"#/{route}", \
        f"the dashboard left #/{route} for {driver.execute_script('return location.hash')}"


def open_delete_confirmation(driver, stack):
    """#/files with the confirmation of a delete open (the design: delete behind a real <dialog> or a
    confirm step; the stack has one file, so one Delete button)."""
    open_route(driver, stack, "files")
    clicked = driver.execute_script("""
        const b = Array.from(document.querySelectorAll("main button")).find((el) =>
            (el.getAttribute("aria-label") || el.textContent).trim().startsWith("Delete"));
        if (b) b.click();
        return !!b;""")
    assert clicked, "#/files shows no Delete button for the stack's file"
    wait(driver, lambda d: d.execute_script("return document.querySelector('dialog[open]') !== null"), 10,
         "the delete confirmation <dialog>")
    settle(driver)


def open_docs(driver, stack):
    driver.get(stack.media_url + "/docs.html")
    settle(driver)


def store_page(path, table=True, status=200):
    """A store reply rendered by its XSLT, opened with the shop's Basic credentials in the URL (headless
    Chromium cannot answer the prompt). `path` may use {order} for the shop's order id. An error reply
    (`status` 4xx) is logged by Chromium as a failed load of the page itself: that one line is dropped."""
    def opener(driver, stack):
        host = stack.store_url.removeprefix("http://")
        api_path = path.format(order=stack.order_id)
        url = f"http://{stack.shop.key}:{stack.shop.token}@{host}/api/{api_path}"
        driver.get(url)
        what = "table" if table else "h1"
        wait(driver, lambda d: d.execute_script(f"return document.querySelector('{what}') !== null"), 10,
             f"the XSLT page of /api/{api_path} (a {what})")
        settle(driver)
        if status != 200:
            own = f"{url} - Failed to load resource: the server responded with a status of {status}"
            logged = console_errors(driver)
            assert [e for e in logged if e["message"].startswith(own)], f"no failed load of /api/{api_path} logged: {logged}"
            return [e for e in logged if not e["message"].startswith(own)]
        return None
    return opener


# The dashboard's views: each route, and the delete confirmation (a modal dialog: Tab stays inside it).
VIEWS = {route: (lambda r: lambda d, s: open_route(d, s, r))(route) for route in GUEST_ROUTES + APP_ROUTES}
VIEWS["files-delete"] = open_delete_confirmation

PAGES = {f"dashboard-{view}": opener for view, opener in VIEWS.items()}
PAGES["docs"] = open_docs
PAGES["store-account"] = store_page("account.xml", table=False)
PAGES["store-items"] = store_page("items.xml")
PAGES["store-item"] = store_page("items/A.xml", table=False)
PAGES["store-orders"] = store_page("orders.xml")
PAGES["store-order"] = store_page("orders/{order}.xml")
PAGES["store-downloads"] = store_page("downloads.xml", table=False)
PAGES["store-message"] = store_page("items/NO-SUCH-SKU.xml", table=False, status=404)

# Chromium asks every origin for /favicon.ico by itself (no page asked for it) and logs the 404 or not
# depending on timing and its cache; that one message is not held against the page.
FAVICON = re.compile(r"^\S+/favicon\.ico - Failed to load resource: the server responded with a status of 404")

LOOKS = [("desktop", False), ("phone", False), ("desktop", True)]


PHONE = WIDTHS["phone"]

# The deepest elements reaching past a width (what makes a phone page scroll sideways), leaving out
# those an in-flow scroll box within the width clips (an absolutely positioned one may escape it).
WIDEST = """
const width = arguments[0] + 0.5;
function clipped(el) {
  if (/^(absolute|fixed)$/.test(getComputedStyle(el).position)) return false;
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== "visible" && a.getBoundingClientRect().right <= width) return true;
  }
  return false;
}
const out = [];
for (const el of document.querySelectorAll("body *")) {
  if (el.closest("xslt-warning-banner")) continue;
  const r = el.getBoundingClientRect();
  if (r.right <= width || clipped(el)) continue;
  if (Array.from(el.children).some((c) => c.getBoundingClientRect().right > width && !clipped(c))) continue;
  out.push(el.localName + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ?
    "." + el.className.trim().split(/\\s+/).join(".") : "") + " (right edge " + Math.round(r.right) + " px)");
}
return out.slice(0, 6);
"""


@pytest.fixture(scope="module", params=LOOKS, ids=[f"{w}{'-dark' if d else ''}" for w, d in LOOKS])
def look(request):
    width, dark = request.param
    driver = chromium(width, dark=dark)
    yield width, dark, driver
    driver.quit()


@pytest.mark.parametrize("page", list(PAGES))
def test_page_walk(stack, look, page):
    width, dark, driver = look
    console_errors(driver)  # drop what earlier pages logged
    logged = PAGES[page](driver, stack)  # an opener that read the console itself gives what is left
    save_screenshot(driver, f"quality-{page}-{width}{'-dark' if dark else ''}")
    problems = []
    logged = (logged or []) + console_errors(driver)
    errors = [e for e in logged if not FAVICON.search(e["message"])]
    if errors:
        problems.append("console errors:\n" + "\n".join(f"  {e['message']}" for e in errors))
    violations = a11y.check(driver)
    if violations:
        problems.append(f"{len(violations)} accessibility violation(s):\n{a11y.describe(violations)}")
    if width == "phone":
        scroll, inner = driver.execute_script(
            "return [document.scrollingElement.scrollWidth, window.innerWidth];")
        if inner != PHONE[0]:
            problems.append(f"laid out {inner} px wide on a {PHONE[0]} px phone (content wider than the screen, "
                            f"or no <meta name=viewport>); widest: {driver.execute_script(WIDEST, PHONE[0])}")
        elif scroll > inner:
            problems.append(f"horizontal scroll at phone width: scrollWidth {scroll} > innerWidth {inner}")
    assert not problems, f"{page} ({width}{', dark' if dark else ''}):\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def still():
    yield from a11y.still_chromium()


@pytest.mark.parametrize("page", list(PAGES))
def test_reduced_motion_is_respected(stack, still, page):
    PAGES[page](still, stack)
    found = a11y.check(still, a11y.MOTION)
    assert found == [], f"{page}: moves under prefers-reduced-motion: reduce\n{a11y.describe(found)}"


# --------------------------------------------------------------------------- the keyboard walk

@pytest.fixture(scope="module")
def keyboard():
    driver = chromium("desktop")
    yield driver
    driver.quit()


@pytest.mark.parametrize("route", list(VIEWS))
def test_tab_reaches_every_control_with_visible_focus(stack, keyboard, route):
    VIEWS[route](keyboard, stack)
    expected, visited = a11y.tab_walk(keyboard)
    keys = [v["key"] for v in visited]
    assert expected, f"#/{route}: nothing focusable"
    missing = [k for k in expected if k not in keys]
    assert missing == [], f"#/{route}: Tab never reached {missing}\n(reached in order: {keys})"
    repeats = sorted({k for k in keys if keys.count(k) > 1})
    assert repeats == [], f"#/{route}: Tab came back to {repeats} before going round (a trap)\n{keys}"
    unseen = [v["key"] for v in visited if not v["shown"]]
    assert unseen == [], f"#/{route}: focused but not visible on screen: {unseen}"
    no_ring = [(v["key"], v["rest"], v["ring"]) for v in visited if not v["indicator"]]
    assert no_ring == [], f"#/{route}: focused without a visible indicator (key, at rest, focused): {no_ring}"
