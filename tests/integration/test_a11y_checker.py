"""The accessibility checker (support/a11y.js) proves itself: a good page gives no violation, each
deliberately bad page (one defect added to the good one) gives exactly the violation of that defect,
with the element's selector, and the edges each rule must let through (4.5:1 exactly, large text at 3:1,
hidden views, visually hidden text, disabled controls, decorative images) give none. The pages are files under tmp_path opened with file:// (no server needed)."""
import pytest

from support import a11y
from support.browser import chromium

PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNk+A8AAQUBAScY42YAAAAASUVORK5CYII="

GOOD_CSS = """
body { margin: 0; font: 16px/1.5 sans-serif; color: #1a1a1a; background: #ffffff; }
.skip { position: absolute; left: -10000px; top: 0; background: #ffffff; color: #0b3d91; }
.skip:focus { left: 0; }
a { color: #0b3d91; }
button { color: #ffffff; background: #0b5394; border: 0; padding: 4px 8px; }
button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid #b35900; outline-offset: 2px; }
"""

GOOD_BODY = f"""
<a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Sections"><a href="#/one">One</a> <a href="#/two">Two</a></nav></header>
<main id="main">
  <h1>Good page</h1>
  <p id="intro">Plain text on white.</p>
  <form aria-label="Search"><label for="q">Query</label> <input id="q" value="cats">
    <label>Kind <select id="kind"><option>All</option></select></label>
    <button id="go">Go</button> <button id="close" aria-label="Close"><img src="{PIXEL}" alt=""></button></form>
  <h2>Pictures</h2>
  <img id="pic" src="{PIXEL}" alt="A pixel" width="20" height="20">
  <div class="shade"><p id="shaded">Shaded</p></div>
  <h3>Details</h3><p><a id="more" href="#/more">More about pixels</a></p>
</main>
<footer><p>Footer text</p></footer>
"""


def page(tmp_path, name, body=GOOD_BODY, css=GOOD_CSS, lang="en", title="Good page"):
    lang_attr = f' lang="{lang}"' if lang is not None else ""
    html = (f'<!doctype html><html{lang_attr}><head><meta charset="utf-8"><title>{title}</title>'
            f'<style>{css}</style></head><body>{body}</body></html>')
    path = tmp_path / f"{name}.html"
    path.write_text(html)
    return path.as_uri()


@pytest.fixture(scope="module")
def driver():
    d = chromium("desktop")
    yield d
    d.quit()


def found(driver, url):
    driver.get(url)
    return [(v["rule"], v["selector"]) for v in a11y.check(driver)], a11y.check(driver)


def test_good_page_has_no_violation(driver, tmp_path):
    pairs, raw = found(driver, page(tmp_path, "good"))
    assert pairs == [], a11y.describe(raw)


def test_good_page_in_a_dark_colour_scheme_has_no_violation(driver, tmp_path):
    # The canvas behind an unpainted root is dark under color-scheme: dark; light text on it passes,
    # and would fail against a white canvas (1.2:1).
    css = GOOD_CSS.replace("color: #1a1a1a; background: #ffffff;", "color: #eeeeee;") + \
        ":root { color-scheme: dark; } a, .skip { color: #9ecbff; } .skip { background: #121212; }"
    pairs, raw = found(driver, page(tmp_path, "dark", css=css))
    assert pairs == [], a11y.describe(raw)


BAD = [
    # name, change to the good page (body replacements, extra css, lang, title), expected (rule, selector) list
    ("input-without-label", {"body": ('<label for="q">Query</label> <input id="q"', '<input id="q"')},
     [("label", "#q")]),
    ("empty-icon-button", {"body": ('<button id="close" aria-label="Close">', '<button id="close">')},
     [("label", "#close")]),
    ("labelledby-missing-id", {"body": ('<button id="go">Go</button>', '<button id="go" aria-labelledby="nope"></button>')},
     [("label", "#go")]),
    ("placeholder-is-not-a-label", {"body": ('<label for="q">Query</label> <input id="q" value="cats">',
                                              '<input id="q" placeholder="Query">')},
     [("label", "#q")]),
    ("image-without-alt", {"body": ('alt="A pixel" ', '')}, [("image-alt", "#pic")]),
    ("empty-link", {"body": ('<a id="more" href="#/more">More about pixels</a>', '<a id="more" href="#/more"></a>')},
     [("link-name", "#more")]),
    ("grey-text", {"css": "#intro { color: #999999; }"}, [("contrast", "#intro")]),
    ("grey-large-text-below-3", {"css": "#intro { color: #999999; font-size: 24px; }"}, [("contrast", "#intro")]),
    ("translucent-text", {"css": "#intro { color: rgba(0, 0, 0, 0.3); }"}, [("contrast", "#intro")]),
    ("faded-by-ancestor-opacity", {"css": ".shade { opacity: 0.3; }"}, [("contrast", "#shaded")]),
    ("white-on-translucent-ancestor", {"css": ".shade { background: rgba(0, 0, 0, 0.5); } #shaded { color: #fff; }"},
     [("contrast", "#shaded")]),
    ("oklch-colour", {"css": "#intro { color: oklch(0.75 0 0); }"}, [("contrast", "#intro")]),
    ("input-value-text", {"css": "#q { color: #aaaaaa; }"}, [("contrast", "#q")]),
    ("no-lang", {"lang": None}, [("html-lang", "html")]),
    ("no-title", {"title": ""}, [("title", "html")]),
    ("two-mains", {"body": ("<footer><p>Footer text</p></footer>", "<main><p>Again</p></main>")},
     [("main-one", "body > main:nth-of-type(2)")]),
    ("no-main", {"body": ('<main id="main">', '<div id="main">'), "body2": ("</main>", "</div>")},
     # (the form keeps its controls in a landmark: a form with a name is one)
     [("main-one", "body")] + [("region", sel) for sel in (
         "#main > h1", "#intro", "#main > h2", "#shaded", "#main > h3", "#more", "#pic")]),
    ("no-banner-or-nav", {"body": ('<header><nav aria-label="Sections"><a href="#/one">One</a> <a href="#/two">Two</a></nav></header>', '')},
     [("banner-nav", "body")]),
    ("text-outside-landmarks", {"body": ("<footer>", '<div id="loose">Loose text</div><footer>')},
     [("region", "#loose")]),
    ("first-heading-not-h1", {"body": ("<h1>Good page</h1>", "<h2 id='first'>Good page</h2>")},
     [("heading-order", "#first")]),
    ("no-heading", {"body": ("<h1>Good page</h1>", ""), "body2": ("<h2>Pictures</h2>", ""),
                    "body3": ("<h3>Details</h3>", "")}, [("heading-order", "body")]),
    ("skipped-heading-level", {"body": ("<h2>Pictures</h2>", "<h3 id='deep'>Pictures</h3>")},
     [("heading-order", "#deep")]),
    ("duplicate-id", {"body": ('<p id="intro">Plain text on white.</p>', '<p id="intro">Plain text on white.</p><p id="intro">Twice</p>')},
     [("duplicate-id", "#main > p:nth-of-type(2)")]),
    ("focus-ring-removed", {"css": "#go:focus, #go:focus-visible { outline: none; }"}, [("focus-visible", "#go")]),
    ("skip-link-never-shown", {"css": ".skip:focus { left: -10000px; }"}, [("focus-visible", "body > a")]),
    ("grey-text-just-below-4.5", {"css": "#intro { color: #777777; }"}, [("contrast", "#intro")]),
    # What the rules must let through (no violation expected):
    ("ok-grey-text-at-4.5", {"css": "#intro { color: #767676; }"}, []),
    ("ok-large-text-at-3", {"css": "#intro { color: #949494; font-size: 24px; }"}, []),
    ("ok-bold-text-at-3", {"css": "#intro { color: #949494; font-size: 19px; font-weight: 700; }"}, []),
    ("ok-hidden-view-ignored", {"body": ("</main>", '<section hidden><h5>x</h5><input><img src="x.png"><a href="/"></a>'
                                                   '<p class="faint">faint</p></section></main>'),
                                "css": ".faint { color: #dddddd; }"}, []),
    ("ok-visually-hidden-text", {"body": ("<h1>Good page</h1>", '<h1>Good page <span class="sr">more</span></h1>'),
                                 "css": ".sr { position: absolute; width: 1px; height: 1px; overflow: hidden;"
                                        " clip: rect(0 0 0 0); color: #eeeeee; }"}, []),
    ("ok-disabled-control", {"body": ('<button id="go">Go</button>', '<button id="go" disabled>Go</button>'),
                             "css": "#go { color: #cccccc; background: #eeeeee; }"}, []),
    ("ok-decorative-image", {"body": ('alt="A pixel" ', 'alt="" ')}, []),
]


@pytest.mark.parametrize("name,change,expected", BAD, ids=[b[0] for b in BAD])
def test_each_case_gives_exactly_its_violations(driver, tmp_path, name, change, expected):
    body, css = GOOD_BODY, GOOD_CSS
    for k in ("body", "body2", "body3"):
        if k in change:
            old, new = change[k]
            assert old in body, f"{name}: the good page lacks {old!r}"
            body = body.replace(old, new)
    css += change.get("css", "")
    url = page(tmp_path, name, body=body, css=css, lang=change.get("lang", "en"),
               title=change.get("title", "Good page"))
    pairs, raw = found(driver, url)
    assert sorted(pairs) == sorted(expected), a11y.describe(raw)


MODAL = ('<dialog id="ask" aria-labelledby="ask-q"><form method="dialog"><p id="ask-q">Delete it?</p>'
         '<button id="yes" value="yes">Delete</button> <button id="no" value="no">Cancel</button></form></dialog>'
         '<script>document.getElementById("ask").showModal();</script>')


def test_a_modal_dialog_is_checked_alone_for_focus(driver, tmp_path):
    # Behind a modal dialog the page is inert: focus() cannot reach it, which is no defect.
    body = GOOD_BODY.replace("</main>", MODAL + "</main>")
    pairs, raw = found(driver, page(tmp_path, "modal", body=body, css=GOOD_CSS + "dialog button:focus-visible"
                                    " { outline: 3px solid #b35900; }"))
    assert pairs == [], a11y.describe(raw)


def test_a_modal_dialog_without_focus_rings_is_found(driver, tmp_path):
    body = GOOD_BODY.replace("</main>", MODAL + "</main>")
    pairs, raw = found(driver, page(tmp_path, "modal-bad", body=body, css=GOOD_CSS + "dialog button:focus,"
                                    " dialog button:focus-visible { outline: none; }"))
    assert pairs == [("focus-visible", "#yes"), ("focus-visible", "#no")], a11y.describe(raw)


# The keyboard walk (a11y.tab_walk) on the good page and on pages that break it.

def walk(driver, url):
    driver.get(url)
    expected, visited = a11y.tab_walk(driver)
    keys = [v["key"] for v in visited]
    return expected, keys, visited


def test_tab_walk_goes_round_the_good_page(driver, tmp_path):
    expected, keys, visited = walk(driver, page(tmp_path, "walk-good"))
    assert len(expected) == 8 and sorted(keys) == sorted(expected), (expected, keys)
    assert keys[0] == "body > a", keys  # the skip link
    assert all(v["shown"] and v["indicator"] for v in visited), visited


def test_tab_walk_misses_a_control_taken_out_of_the_tab_order(driver, tmp_path):
    body = GOOD_BODY.replace('<button id="go">', '<button id="go" tabindex="-1">')
    expected, keys, _ = walk(driver, page(tmp_path, "walk-untabbable", body=body))
    assert [k for k in expected if k not in keys] == ["#go"], (expected, keys)


def test_tab_walk_is_stopped_by_a_trap(driver, tmp_path):
    trap = ('<script>document.getElementById("q").addEventListener("keydown", (e) => {'
            ' if (e.key === "Tab") e.preventDefault(); });</script>')
    expected, keys, _ = walk(driver, page(tmp_path, "walk-trap", body=GOOD_BODY + trap))
    missing = [k for k in expected if k not in keys]
    assert keys[-1] == "#q" and missing == ["#kind", "#go", "#close", "#more"], (expected, keys)


def test_tab_walk_sees_focus_without_an_indicator(driver, tmp_path):
    css = GOOD_CSS + "#more:focus, #more:focus-visible { outline: none; }"
    _, _, visited = walk(driver, page(tmp_path, "walk-no-ring", css=css))
    assert [v["key"] for v in visited if not v["indicator"]] == ["#more"], visited


# Reduced motion (group "motion"), on a driver that emulates prefers-reduced-motion: reduce.

@pytest.fixture(scope="module")
def still():
    yield from a11y.still_chromium()


MOVING = ("@keyframes spin { to { transform: rotate(360deg); } }"
          " #pic { animation: spin 2s linear infinite; } #go { transition: background-color 300ms; }")


def test_motion_rule_passes_a_page_that_stops_moving(still, tmp_path):
    css = GOOD_CSS + MOVING + (" @media (prefers-reduced-motion: reduce) { *, *::before, *::after {"
                               " animation-duration: 0.01ms !important; animation-iteration-count: 1 !important;"
                               " transition-duration: 0.01ms !important; } }")
    still.get(page(tmp_path, "still", css=css))
    assert a11y.check(still, a11y.MOTION) == []


def test_motion_rule_finds_what_keeps_moving(still, tmp_path):
    still.get(page(tmp_path, "moving", css=GOOD_CSS + MOVING + " html { scroll-behavior: smooth; }"))
    assert [(v["rule"], v["selector"]) for v in a11y.check(still, a11y.MOTION)] == [
        ("reduced-motion", "#go"), ("reduced-motion", "#pic"), ("reduced-motion", "html")]


def test_motion_rule_refuses_to_run_without_the_emulation(driver, tmp_path):
    driver.get(page(tmp_path, "unemulated"))
    assert [v["rule"] for v in a11y.check(driver, a11y.MOTION)] == ["reduced-motion"]


def test_tab_walk_stays_in_a_modal_dialog(driver, tmp_path):
    body = GOOD_BODY.replace("</main>", MODAL + "</main>")
    expected, keys, visited = walk(driver, page(tmp_path, "walk-modal", body=body))
    assert expected == ["#yes", "#no"] and sorted(keys) == sorted(expected), (expected, keys)
