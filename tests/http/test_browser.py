"""A person with a browser: headless Chromium (driven by chromedriver through Selenium) signs
in with the page's form, sees the journals, clicks a PDF link, and the PDF lands in its
download folder. A key in the address signs nobody in.

Needs Debian's `chromium` and `chromium-driver`. Outside CI the test skips without them; with
CI=true it fails, so CI cannot pass by skipping.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.chromium import CHROMIUM_FLAGS
from tests.conftest import IN_CI
from tests.http.conftest import Posted

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DOWNLOAD_SECONDS = 20.0
FLAGS = list(CHROMIUM_FLAGS)  # the flags bench/peers.py starts it with too


def _missing(what: str) -> None:
    message = f"{what} is not installed (apt-get install -y chromium chromium-driver)"
    if IN_CI:
        pytest.fail(f"{message}; CI=true: the browser test must run", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
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
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]:
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    # An explicit driver path: Selenium then never tries to fetch a driver of its own.
    driver = webdriver.Chrome(
        service=Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "driver.log")),
        options=options,
    )
    driver.set_page_load_timeout(20)
    # Headless Chromium saves downloads only where it is told to.
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def wait_for_download(folder: Path) -> Path:
    deadline = time.monotonic() + DOWNLOAD_SECONDS
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if not p.name.endswith(".crdownload")]
        if done and not any(p.name.endswith(".crdownload") for p in folder.iterdir()):
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no download in {folder}: {list(folder.iterdir())}")


def test_a_person_signs_in_and_downloads_a_pdf(posted: Posted, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base = posted.stack.base_url
    # A link with a key in it (another site's, say) signs nobody in.
    browser.get(f"{base}/?key={posted.stack.keys['erp']}")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "An API key in the address is never accepted" in body
    assert "docpost_session" not in {c["name"] for c in browser.get_cookies()}

    browser.get(f"{base}/")
    browser.find_element(By.NAME, "key").send_keys(posted.stack.keys["erp"])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    # Posted, then redirected to the page itself: the key never was in the address.
    WebDriverWait(browser, DOWNLOAD_SECONDS).until(ec.url_to_be(f"{base}/"))
    # The address changes before the new page's body exists: wait for the page, not the URL
    # (looking at once failed in CI with "no such element: body").
    WebDriverWait(browser, DOWNLOAD_SECONDS).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "Signed in as erp")
    )
    assert "Signed in as erp" in browser.find_element(By.TAG_NAME, "body").text
    # HttpOnly: the page's scripts cannot read the key.
    assert browser.execute_script("return document.cookie") == ""
    (cookie,) = browser.get_cookies()
    assert cookie["name"] == "docpost_session" and cookie["httpOnly"] is True
    assert posted.stack.keys["erp"] not in cookie["value"]

    link = browser.find_element(By.LINK_TEXT, "PS-000001.pdf")
    link.click()
    pdf = wait_for_download(browser.downloads)

    expected = next(d for d in posted.documents if d["filename"] == "PS-000001.pdf")
    assert pdf.name == "PS-000001.pdf"
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == expected["sha256"]
