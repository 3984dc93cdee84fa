"""/docs.html in Chromium: the documents rendered by www/js/docs.js (every operation of the chosen
document, grouped by tag, with parameters, bodies, responses and examples), switching documents,
no console errors (no CSP refusal), no horizontal scroll on a phone; screenshots desktop, phone
and dark."""
import pytest

from conftest import REPO
from support.browser import chromium, console_errors, save_screenshot, wait
from support.openapi import COMBINED, DIALECT_DOCUMENTS, documented_operations, load

BASE_CSS = REPO / "www" / "css" / "base.css"


def open_docs(driver, server, query=""):
    driver.get(f"{server.media_url}/docs.html{query}")
    wait(driver, lambda d: d.find_element("id", "doc-status").text.startswith("Showing"), what="the document to render")


def rendered_operations(driver):
    """{(METHOD, path)} of the operations on the page."""
    heads = driver.execute_script(
        "return [...document.querySelectorAll('.docs-operation h4')].map(h => [h.querySelector('.docs-method').textContent,"
        " h.querySelector('.docs-path').textContent])")
    return {(m, p) for m, p in heads}


def expected_console(driver):
    """No console error at all; until the dashboard's base.css exists here, exactly its 404."""
    errors = console_errors(driver)
    if BASE_CSS.exists():
        return errors, []
    return [e for e in errors if "/css/base.css" not in e["message"]], []


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_docs_page_renders_every_operation_of_the_combined_document(server, width):
    driver = chromium(width)
    try:
        open_docs(driver, server)
        doc = load(COMBINED)
        assert rendered_operations(driver) == documented_operations(doc)
        status = driver.find_element("id", "doc-status").text
        assert status == f"Showing fetchgate.json: {len(documented_operations(doc))} operations."
        # Tags are the groups, in the document's order.
        groups = driver.execute_script("return [...document.querySelectorAll('.docs-tag > h3')].map(h => h.textContent)")
        assert groups == [t["name"] for t in doc["tags"]]
        # Parameters in a table with a caption and header cells; examples as JSON.
        show_fetch = driver.find_element("id", "op-getFetch")
        assert "Responses" in show_fetch.text
        assert show_fetch.find_element("css selector", "table caption").text == "Parameters"
        example = driver.execute_script("return document.querySelector('#op-listFetches details pre').textContent")
        assert '"fetches"' in example and '"next_cursor": null' in example
        # Every raw document is linked.
        links = driver.execute_script("return [...document.querySelectorAll('main a[href^=\"/openapi/\"]')].map(a => a.getAttribute('href'))")
        assert sorted(links) == sorted(f"/openapi/{n}.json" for n in [COMBINED, *DIALECT_DOCUMENTS])
        # Text as text: nothing rendered as "[object …]", descriptions' `code` as <code>.
        assert "[object" not in driver.find_element("tag name", "main").text
        auth = driver.execute_script("return [...document.querySelectorAll('.docs-document > ul li')].map(li => li.textContent)")
        assert auth[0] == "X-API-KEY (header) — The account's API token alone."
        assert driver.execute_script("return document.scrollingElement.scrollWidth <= window.innerWidth")
        save_screenshot(driver, f"docs-{width}")
        errors, expected = expected_console(driver)
        assert errors == expected
    finally:
        driver.quit()


def test_choosing_a_document_shows_only_its_operations_and_keeps_it_in_the_url(server):
    driver = chromium("desktop")
    try:
        open_docs(driver, server)
        driver.execute_script("const s = document.getElementById('doc-select'); s.value = 'jobs';"
                              " s.dispatchEvent(new Event('change'))")
        wait(driver, lambda d: d.find_element("id", "doc-status").text.startswith("Showing jobs.json"), what="jobs.json")
        assert rendered_operations(driver) == documented_operations(load("jobs"))
        assert driver.current_url.endswith("/docs.html?doc=jobs")
        driver.refresh()
        wait(driver, lambda d: d.find_element("id", "doc-status").text.startswith("Showing jobs.json"), what="jobs.json again")
        assert driver.find_element("id", "doc-select").get_attribute("value") == "jobs"
        # A document name the page does not know falls back to the combined one.
        open_docs(driver, server, "?doc=../../etc/passwd")
        assert driver.find_element("id", "doc-status").text.startswith("Showing fetchgate.json")
        errors, expected = expected_console(driver)
        assert errors == expected
    finally:
        driver.quit()


def test_docs_page_in_dark_mode(server):
    driver = chromium("phone", dark=True)
    try:
        open_docs(driver, server, "?doc=downloader")
        assert rendered_operations(driver) == documented_operations(load("downloader"))
        background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 18, 18)"
        assert driver.execute_script("return document.scrollingElement.scrollWidth <= window.innerWidth")
        save_screenshot(driver, "docs-phone-dark")
    finally:
        driver.quit()
