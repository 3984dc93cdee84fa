"""Runs our own accessibility checker (support/a11y.js, whose header says exactly what it covers and what
it does not) inside the page a Selenium driver shows, and the keyboard walk: Tab through a page and see
where the focus goes."""
import pathlib
import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

SOURCE = (pathlib.Path(__file__).with_name("a11y.js")).read_text()

GROUPS = ("labels", "contrast", "document", "focus")


def check(driver, groups=GROUPS):
    """The checker's violations on the current page: a list of {rule, selector, detail}."""
    return driver.execute_script(SOURCE + "\nreturn fetchgateA11yCheck(arguments[0]);", {"rules": list(groups)})


def describe(violations):
    return "\n".join(f"  {v['rule']}: {v['selector']}: {v['detail']}" for v in violations)


def assert_clean(driver, page):
    found = check(driver)
    assert found == [], f"{page}: {len(found)} accessibility violation(s)\n{describe(found)}"


# The keyboard walk. `FOCUSABLES` is what Tab must reach: every visible, enabled control (links,
# buttons, inputs, selects, textareas, summaries, even when tabindex=-1 hides them from Tab) and every
# other element with tabindex >= 0 (a radio group counts once: Tab enters a group once, arrows move
# inside it). `active` describes the
# focused element with the same key and whether its focus indicator differs from its resting look,
# measured against the snapshot `FOCUSABLES` took while nothing was focused.
_WALK = """
const FOCUSABLE = "a[href], button:not(:disabled), input:not(:disabled):not([type=hidden]), " +
  "select:not(:disabled), textarea:not(:disabled), summary, [tabindex], [contenteditable=''], [contenteditable=true]";
function key(el) {
  if (el.localName === "input" && el.type === "radio" && el.name) return "radio group " + el.name;
  if (!window.__fgKeys) { window.__fgKeys = new WeakMap(); window.__fgNext = 1; }
  if (!window.__fgKeys.has(el)) window.__fgKeys.set(el, window.__fgNext++);
  const label = (el.getAttribute("aria-label") || el.textContent || el.getAttribute("name") || el.id || "").trim();
  return window.__fgKeys.get(el) + " <" + el.localName + (el.id ? "#" + el.id : "") + "> " + label.slice(0, 30);
}
function ring(el) {
  const s = getComputedStyle(el);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.outlineOffset, s.boxShadow].join(" ");
}
function shown(el) {
  return !el.closest("xslt-warning-banner") && !el.closest("[inert]") &&
    el.checkVisibility({opacityProperty: true, visibilityProperty: true}) && el.getClientRects().length > 0;
}
"""

FOCUSABLES = _WALK + """
document.activeElement && document.activeElement.blur();
window.__fgRest = new WeakMap();
const out = [];
for (const el of document.querySelectorAll(FOCUSABLE)) {
  // A native control is expected even with tabindex=-1 (taking it out of the tab order is the defect);
  // any other element only when it put itself in the order (tabindex >= 0).
  const native = el.matches("a[href], button, input, select, textarea, summary");
  if ((!native && el.tabIndex < 0) || !shown(el)) continue;
  if (el.localName === "summary" && el.parentElement.localName !== "details") continue;
  window.__fgRest.set(el, ring(el));
  if (!out.includes(key(el))) out.push(key(el));
}
for (const el of document.querySelectorAll("a[href^='#']:not([href^='#/'])")) window.__fgRest.set(el, ring(el));
return out;
"""

ACTIVE = _WALK + """
const el = document.activeElement;
if (!el || el === document.body || el === document.documentElement) return null;
const rest = window.__fgRest && window.__fgRest.get(el);
const r = el.getBoundingClientRect();
const s = getComputedStyle(el);
const visibleRing = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
return {key: key(el), shown: shown(el) && r.width > 1 && r.height > 1 &&
        r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
        indicator: visibleRing && rest !== undefined && rest !== ring(el), ring: ring(el), rest: rest || null};
"""


def tab_walk(driver, settle=0.3):
    """Presses Tab until the focus comes round to the first element it reached (past the end of the
    page it leaves for the browser and comes back at the top), so the whole cycle is seen wherever the
    view put the focus first. Returns (expected, visited): the keys of the elements Tab must reach and
    the list of {key, shown, indicator, ring, rest} in the order Tab focused them."""
    expected = driver.execute_script(FOCUSABLES)
    visited = []
    outside = 0
    for _ in range(2 * len(expected) + 6):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        deadline = time.monotonic() + settle
        state = driver.execute_script(ACTIVE)
        # A transition on the ring may still be running: look again until it differs or time is up.
        while state and not state["indicator"] and time.monotonic() < deadline:
            time.sleep(0.05)
            state = driver.execute_script(ACTIVE)
        if state is None:
            outside += 1
            if outside > 2:
                break
            continue
        if visited and state["key"] == visited[0]["key"]:
            break
        visited.append(state)
    return expected, visited
