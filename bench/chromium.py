"""How docpost starts headless Chromium: one list of command-line flags for the PDF peer
benchmark (bench/peers.py) and the browser tests (tests/http/test_browser.py), so that the
browser measured is started as the browser tested. Import-light on purpose: no Selenium here.
"""

from __future__ import annotations

CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",  # runs as root in containers and CI
    "--disable-gpu",
    "--disable-dev-shm-usage",  # small /dev/shm in containers
    # no traffic or work of its own beside the page: updates, sync, first-run pages
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
)
