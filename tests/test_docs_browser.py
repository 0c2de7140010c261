"""The v3 documentation page in a real headless browser (Debian's chromium through chromedriver and Selenium).

The app runs in this process on chalice's local HTTP server, over moto, with a lead provider, its token, a
delivery partner and a school it can report. The browser opens /api-docs/v3/ (sent on to /api-docs/v3), finds
the operations listed, authorises with the token, runs "Try it out" on POST /api/v3/partnerships/ecf and reads
the status the page shows; the partnership is then fetched through the API. Every request the page made must
have gone to the local server (the page works offline), and the console must hold no error (a
Content-Security-Policy violation is one). A screenshot is saved as out/browser/docs-v3-try-it-out.png.

``make browser`` (a prerequisite of ``make test``) installs chromium and chromium-driver when they are missing;
run alone with ``.venv/bin/pytest -m browser``. Skipped when they are absent, except in CI (``CI`` set).
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.api_helpers import partnership_payload
from tests.test_localdev import free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "out" / "browser"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,2000",
)
WAIT = 20.0
POST_PARTNERSHIP = '.opblock-post:has(.opblock-summary-path[data-path="/api/v3/partnerships/ecf"])'
T = TypeVar("T")
# React listens for input events; a plain ``value =`` would be overwritten by its own state on the next render.
SET_VALUE = """
const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set;
setter.call(arguments[0], arguments[1]);
arguments[0].dispatchEvent(new Event("input", {bubbles: true}));
"""


def require_browser() -> None:
    if CHROMIUM.is_file() and CHROMEDRIVER.is_file():
        return
    missing = f"{CHROMIUM} and {CHROMEDRIVER} are needed (make browser installs Debian's chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(missing)
    pytest.skip(missing)


@pytest.fixture
def reportable(world: Any) -> dict[str, str]:
    """A provider's token, and a school and delivery partner it may report for 2024."""
    world.cohort(2024)
    provider = world.lead_provider("Ambition Institute")
    partner = world.delivery_partner(provider, [2024], name="Alpha Partners")
    school = world.school()
    return {"token": world.token(provider), "school_id": school.id, "delivery_partner_id": partner.id}


@pytest.fixture
def server(world: Any) -> Iterator[str]:
    """chalice's local server for the app, in a thread of this process (so it sees the test's moto)."""
    from chalice.config import Config

    import app as app_module
    from localdev.apiserver import ApiServer

    app = app_module.app
    original = app.__class__  # chalice's local server swaps the app's class for its own
    api = ApiServer(app, Config.create(chalice_stage="test", app_name=app.app_name, lambda_timeout=29), free_port())
    api.gate.open()  # the local stack opens it once ready (localdev/startup.py); this server is ready at once
    api.start()
    try:
        yield api.url
    finally:
        api.stop()
        app.__class__ = original


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER), log_output=str(tmp_path / "d.log")))
    try:
        yield driver
    finally:
        driver.quit()


def wait_for[T](find: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = find()
        if found:
            return found
        assert time.monotonic() < deadline, f"not found after {timeout:.0f} s: {what}"
        time.sleep(0.1)


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def click(driver: Any, selector: str) -> None:
    element = wait_for(lambda: css(driver, selector), selector)[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def authorise(driver: Any, token: str) -> None:
    click(driver, ".auth-wrapper .btn.authorize")
    field = wait_for(lambda: css(driver, ".modal-ux input"), "the token field")[0]
    field.send_keys(token)
    click(driver, ".modal-ux .auth-btn-wrapper .btn.authorize")
    wait_for(lambda: css(driver, ".modal-ux .auth-btn-wrapper .btn-done"), "the authorised state")
    click(driver, ".modal-ux .auth-btn-wrapper .btn-done")


def try_post(driver: Any, body: dict[str, Any]) -> None:
    from selenium.webdriver.common.keys import Keys

    click(driver, f"{POST_PARTNERSHIP} .opblock-summary-control")
    click(driver, f"{POST_PARTNERSHIP} .try-out__btn")
    editor = wait_for(lambda: css(driver, f"{POST_PARTNERSHIP} textarea.body-param__text"), "the body editor")[0]
    # Typed key by key the body takes ~10 s (Swagger UI re-renders on each key): set it as a paste would, then
    # type the last character.
    text = json.dumps(body)
    driver.execute_script(SET_VALUE, editor, text[:-1])
    editor.send_keys(Keys.END, text[-1])
    click(driver, f"{POST_PARTNERSHIP} .btn.execute")


def shown_response(driver: Any) -> tuple[str, str]:
    """The status and body of the live response the page shows."""
    scope = f"{POST_PARTNERSHIP} .live-responses-table .response"
    status = wait_for(lambda: css(driver, f"{scope} .response-col_status"), "the response status")[0]
    body = wait_for(lambda: css(driver, f"{scope} .response-col_description pre"), "the response body")[0]
    return status.text.strip(), body.text


def requested_urls(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def get_json(url: str, token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.load(response)


def test_try_it_out_creates_a_partnership(server: str, browser: Any, reportable: dict[str, str]) -> None:
    from chalicelib.api.docs import document

    browser.get(f"{server}/api-docs/v3/")  # redirected to the URL without the slash
    wait_for(lambda: browser.current_url == f"{server}/api-docs/v3" or None, "the URL without its trailing slash")
    operations = sum(len(ops) for ops in json.loads(document("v3").body)["paths"].values())
    listed = wait_for(lambda: len(css(browser, ".opblock")) == operations or None, f"{operations} operations")
    assert listed
    assert css(browser, '.opblock-get .opblock-summary-path[data-path="/api/v3/participants/ecf"]')
    assert css(browser, POST_PARTNERSHIP)

    authorise(browser, reportable["token"])
    try_post(browser, partnership_payload("2024", reportable["school_id"], reportable["delivery_partner_id"]))
    status, body = shown_response(browser)
    curl = css(browser, f"{POST_PARTNERSHIP} .curl-command")[0].text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "docs-v3-try-it-out.png"))

    assert status == "200", body
    assert f"{server}/api/v3/partnerships/ecf" in curl
    assert f"Bearer {reportable['token']}" in curl
    created = json.loads(body)["data"]
    fetched_status, fetched = get_json(f"{server}/api/v3/partnerships/ecf/{created['id']}", reportable["token"])
    assert fetched_status == 200
    assert fetched["data"]["attributes"]["school_id"] == reportable["school_id"]
    assert fetched["data"]["attributes"]["delivery_partner_id"] == reportable["delivery_partner_id"]

    network = [u for u in requested_urls(browser) if u.partition(":")[0] in ("http", "https", "ws", "wss")]
    assert f"{server}/api-docs/static/swagger-ui-bundle.js" in {u.partition("?")[0] for u in network}
    elsewhere = [u for u in network if not u.startswith(server + "/")]
    assert elsewhere == []
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
