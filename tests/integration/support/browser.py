"""Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, for the dashboard and
the store's XSLT pages. Screenshots go under the test output folder (FETCHGATE_TEST_OUTPUT, default
<checkout>/test-output/screenshots), one per page and width."""
import atexit
import os
import pathlib
import shutil
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = os.environ.get("FETCHGATE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FETCHGATE_CHROMEDRIVER", "/usr/bin/chromedriver")

# The widths every page is looked at: a desktop and a phone.
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}

# Chromium leaves a directory of its own in TMPDIR at each start (org.chromium.Chromium.*, a singleton
# socket): the browsers of this run get a TMPDIR of their own, removed when the run ends.
_TMPDIR = tempfile.mkdtemp(prefix="fetchgate-chromium.")
atexit.register(shutil.rmtree, _TMPDIR, True)

OUTPUT = pathlib.Path(os.environ.get("FETCHGATE_TEST_OUTPUT",
                                     pathlib.Path(__file__).resolve().parents[3] / "test-output"))


def screenshot_dir():
    path = OUTPUT / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def chromium(width="desktop", dark=False):
    """A new headless Chromium at one of WIDTHS (or a (w, h) pair). The caller quits it."""
    size = WIDTHS[width] if isinstance(width, str) else width
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking",
                 "--disable-sync", "--disable-default-apps", "--disable-component-update",
                 "--hide-scrollbars", "--force-device-scale-factor=1",
                 f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    if dark:
        options.add_argument("--force-dark-mode")
        options.add_argument("--blink-settings=preferredColorScheme=0")
    # Console errors (a CSP refusal, a failed script) are read back by the tests.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, env={**os.environ, "TMPDIR": _TMPDIR})
    driver = webdriver.Chrome(service=service, options=options)
    # Headless Chromium keeps its window at least 500 px wide whatever --window-size says: a phone's
    # width (and a mobile viewport) comes from DevTools' device metrics instead.
    if size[0] < 500:
        phone(driver, size)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def wait(driver, predicate, timeout=20, what="condition"):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(
        lambda d: predicate(d), message=f"timed out after {timeout}s waiting for {what}")


def phone(driver, size=WIDTHS["phone"]):
    """A phone's viewport: headless Chromium keeps its window at least 500 px wide whatever
    --window-size says, so the width (and a mobile viewport, where <meta name=viewport> counts)
    comes from DevTools' device metrics."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": True})


def save_screenshot(driver, name):
    """Saves the whole page (the viewport made as tall as the document for the shot, at most 6000 px,
    then put back) as <output>/screenshots/<name>.png and returns the path."""
    path = screenshot_dir() / f"{name}.png"
    width, height = driver.execute_script("return [innerWidth, innerHeight]")
    mobile = width < 500
    page_height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": max(height, min(page_height, 6000)), "deviceScaleFactor": 1,
                            "mobile": mobile})
    try:
        driver.save_screenshot(str(path))
    finally:
        if mobile:
            phone(driver, (width, height))
        else:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path


def console_errors(driver):
    """The page's console messages at level SEVERE (CSP violations, script errors, failed loads)."""
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
