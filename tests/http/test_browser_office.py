"""The back-office page in a real browser (headless Chromium through Selenium), issue 18 item
1: sign in, search a serial, open its warranty trace, open the order, download the invoice's
PDF and its e-invoice, see a rejected request's message, switch to Norwegian; /docs and /redoc
render with no internet. The browser cannot resolve any host but 127.0.0.1 (a host resolver
rule), and each page's resource list is checked to hold no address off this server.

Screenshots of each step go to DOCPOST_TEST_SCREENSHOTS (a folder), else the test's tmp_path.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.documents import list_documents, stored_pdf
from docpost.pipeline.entrypoints.http.app import create_app
from tests.http.conftest import free_port
from tests.http.pages_fixture import ORDER, REJECTED, SERIAL, Office, office_data
from tests.http.test_browser import CHROMEDRIVER, CHROMIUM, FLAGS, _missing, wait_for_download

# Every name resolves to nothing except the test server's address: no request leaves it.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
WAIT_SECONDS = 20.0


@pytest.fixture
def office(sessions: sessionmaker[Session]) -> Office:
    return office_data(sessions)


@pytest.fixture
def server(office: Office) -> Iterator[str]:
    """The app on a free localhost port, in a thread of this process (same database)."""
    port = free_port()
    config = uvicorn.Config(
        create_app(office.sessions), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(10)


@pytest.fixture
def screens(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DOCPOST_TEST_SCREENSHOTS") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Any]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            _missing(str(path))
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*FLAGS, OFFLINE, "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'p'}"]:
        options.add_argument(flag)
    # The DevTools network events: which requests were made, which the page's policy refused.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(
        service=Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "driver.log")),
        options=options,
    )
    driver.set_page_load_timeout(20)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads  # type: ignore[attr-defined]
    driver.get_log("performance")  # the browser's own start (its new tab page): not ours
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "p", ignore_errors=True)


def find(driver: Any, by: str, value: str) -> Any:
    """The element once the page that has it is loaded (a click's navigation may still be
    under way when the click returns)."""
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS).until(ec.presence_of_element_located((by, value)))


def body_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)


def only_local_resources(driver: Any, base: str) -> list[str]:
    """Every request the page made: this server's, or refused by the page's own
    Content-Security-Policy before it was sent (DevTools says `blockedReason: csp`)."""
    sent: dict[str, str] = {}
    refused: set[str] = set()
    for entry in driver.get_log("performance"):
        event = json.loads(entry["message"])["message"]
        params = event.get("params", {})
        if event["method"] == "Network.requestWillBeSent":
            if params["request"]["url"].startswith(("data:", "blob:")):
                continue  # in the page itself, no network
            sent[params["requestId"]] = params["request"]["url"]
        elif event["method"] == "Network.loadingFailed" and params.get("blockedReason") == "csp":
            refused.add(params["requestId"])
    names = list(sent.values())
    off_site = {i: url for i, url in sent.items() if not url.startswith(base + "/")}
    assert set(off_site) <= refused, off_site
    return names


def download(driver: Any, link: Any, office: Office, filename: str) -> None:
    """Click a document link; the file lands in the download folder with the stored bytes."""
    for old in driver.downloads.iterdir():
        old.unlink()
    link.click()
    saved = wait_for_download(driver.downloads)
    assert saved.name == filename
    with office.sessions() as session:
        (listed,) = [d for d in list_documents(session) if d["filename"] == filename]
        stored = stored_pdf(session, listed["id"])
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == stored.sha256


def test_a_service_desk_walk(office: Office, server: str, chromium: Any, screens: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base = server
    chromium.get(f"{base}/?lang=en_US")
    chromium.find_element(By.NAME, "key").send_keys(office.keys["erp"])
    chromium.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(chromium, WAIT_SECONDS).until(ec.url_to_be(f"{base}/"))
    assert "Signed in as erp" in body_text(chromium)
    assert chromium.execute_script("return document.cookie") == ""  # HttpOnly
    (cookie,) = [c for c in chromium.get_cookies() if c["name"] == "docpost_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert office.keys["erp"] not in cookie["value"]
    chromium.save_screenshot(str(screens / "01-home.png"))

    # Search a serial.
    Select(chromium.find_element(By.NAME, "kind")).select_by_value("serial")
    chromium.find_element(By.NAME, "q").send_keys(SERIAL[:6])
    chromium.find_element(By.CSS_SELECTOR, "form.search button").click()
    assert SERIAL in find(chromium, By.ID, "results").text
    chromium.save_screenshot(str(screens / "02-search.png"))

    # Its warranty trace (S11, S15).
    chromium.find_element(By.LINK_TEXT, SERIAL).click()
    warranty = find(chromium, By.ID, "warranty").text
    assert "valid" in warranty and "not valid" not in warranty and "valid until 20" in warranty
    assert "Bergen Matsenter AS" in chromium.find_element(By.ID, "sales").text
    chromium.save_screenshot(str(screens / "03-trace.png"))

    # The order, and the invoice's PDF and e-invoice.
    chromium.find_element(By.LINK_TEXT, ORDER).click()
    WebDriverWait(chromium, WAIT_SECONDS).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), f"Order {ORDER}")
    )
    assert "component of 2" in find(chromium, By.ID, "lines").text
    chromium.save_screenshot(str(screens / "04-order.png"))
    download(
        chromium, chromium.find_element(By.LINK_TEXT, "INV-000001.pdf"), office, "INV-000001.pdf"
    )
    download(
        chromium, chromium.find_element(By.LINK_TEXT, "INV-000001.xml"), office, "INV-000001.xml"
    )

    # The rejected request's message.
    chromium.find_element(By.LINK_TEXT, "Rejected and failed requests").click()
    requests = find(chromium, By.ID, "requests").text
    assert REJECTED in requests and "SO-NONE" in requests
    chromium.save_screenshot(str(screens / "05-requests.png"))
    only_local_resources(chromium, base)

    # Norwegian.
    chromium.find_element(By.LINK_TEXT, "norsk").click()
    WebDriverWait(chromium, WAIT_SECONDS).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Avviste og feilede forespørsler")
    )
    chromium.save_screenshot(str(screens / "06-norsk.png"))


def test_the_api_docs_render_offline(server: str, chromium: Any, screens: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    chromium.get(f"{server}/docs")
    title = WebDriverWait(chromium, WAIT_SECONDS).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".swagger-ui .info .title"))
    )
    assert "docpost" in title.text
    WebDriverWait(chromium, WAIT_SECONDS).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".opblock"))
    )
    chromium.save_screenshot(str(screens / "07-docs.png"))
    assert any(
        n.endswith("/docs-assets/swagger-ui-bundle.js")
        for n in only_local_resources(chromium, server)
    )

    chromium.get(f"{server}/redoc")
    WebDriverWait(chromium, WAIT_SECONDS).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "docpost sales document posting")
    )
    chromium.save_screenshot(str(screens / "08-redoc.png"))
    assert any(
        n.endswith("/docs-assets/redoc.standalone.js")
        for n in only_local_resources(chromium, server)
    )
