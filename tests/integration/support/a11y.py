"""Runs our own accessibility checker (support/a11y.js, whose header says exactly what it covers and what
it does not) inside the page a Selenium driver shows, and the keyboard walk: Tab through a page and see
where the focus goes."""
import pathlib
import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from .browser import chromium

SOURCE = (pathlib.Path(__file__).with_name("a11y.js")).read_text()

GROUPS = ("labels", "contrast", "document", "focus")
# Only on a page loaded with prefers-reduced-motion: reduce emulated (see still_chromium).
MOTION = ("motion",)
FOCUSED = SOURCE + "\nreturn fetchgateA11y().focused();"


def check(driver, groups=GROUPS):
    """The checker's violations on the current page: a list of {rule, selector, detail}."""
    return driver.execute_script(SOURCE + "\nreturn fetchgateA11y().check(arguments[0]);", {"rules": list(groups)})


def still_chromium():
    """A fixture's body: a desktop Chromium whose pages see prefers-reduced-motion: reduce, quit after."""
    driver = chromium("desktop")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    yield driver
    driver.quit()


def describe(violations):
    return "\n".join(f"  {v['rule']}: {v['selector']}: {v['detail']}" for v in violations)


def tab_walk(driver, settle=0.3):
    """The keyboard walk: presses Tab until the focus comes round to the first element it reached (past
    the end of the page it leaves for the browser and comes back at the top), so the whole cycle is seen
    wherever the view put the focus first. Returns (expected, visited): the keys (selectors) of the
    elements Tab must reach, and {key, shown, indicator, ring, rest} for each element Tab focused, in
    order (a11y.js tabTargets and focused)."""
    expected = driver.execute_script(SOURCE + "\nreturn fetchgateA11y().tabTargets();")
    visited = []
    outside = 0
    for _ in range(2 * len(expected) + 6):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        deadline = time.monotonic() + settle
        state = driver.execute_script(FOCUSED)
        # A transition on the ring may still be running: look again until it differs or time is up.
        while state and not state["indicator"] and time.monotonic() < deadline:
            time.sleep(0.05)
            state = driver.execute_script(FOCUSED)
        if state is None:
            outside += 1
            if outside > 2:
                break
            continue
        if visited and state["key"] == visited[0]["key"]:
            break
        visited.append(state)
    return expected, visited
