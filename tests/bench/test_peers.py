"""The PDF peers of the bench (bench.peers; issue 19): docpost, headless Chromium and
wkhtmltopdf render the same invoice HTML with the same stylesheet and fonts, and the figures
compare like for like. No timing is asserted: that the figures are there, that each peer's
output is a real PDF of the expected pages, that Chromium used the bundled font and printed the
running footer, and that the CPU of a process tree counts what its processes spend.

Chromium is needed (CI installs it, see .ci/run): outside CI the test skips without it, with
CI=true it fails, as tests/http/test_browser.py. wkhtmltopdf is optional: absent, its figures
must be None.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from pypdf import PdfReader

import bench.peers
from bench.peers import (
    DOCUMENTS,
    PEERS,
    font_names,
    installed_peers,
    measure,
    page_count,
    page_margins,
    tree_cpu_seconds,
)
from tests.conftest import IN_CI

# burns about `seconds` of CPU, then says so and waits for its stdin to close
BUSY = (
    "import sys, time\n"
    "end = time.process_time() + float(sys.argv[1])\n"
    "while time.process_time() < end: pass\n"
    "print('done', flush=True)\n"
    "sys.stdin.read()\n"
)
# the same burn in a grandchild that the child waits for (reaps) before it says so
BUSY_GRANDCHILD = (
    "import subprocess, sys\n"
    f"subprocess.run([sys.executable, '-c', {BUSY!r}, sys.argv[1]], stdin=subprocess.DEVNULL,"
    " stdout=subprocess.DEVNULL, check=True)\n"
    "print('done', flush=True)\n"
    "sys.stdin.read()\n"
)


def _cpu_of_a_child(script: str, seconds: float) -> float:
    """What tree_cpu_seconds of this process sees a child spend: read before the child starts
    and once it says it is done (it is then still alive, so counted as a descendant)."""
    before = tree_cpu_seconds(os.getpid())
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "done"
        return tree_cpu_seconds(os.getpid()) - before
    finally:
        child.communicate("")


def test_tree_cpu_counts_a_busy_child() -> None:
    spent = _cpu_of_a_child(BUSY, 0.5)
    # the interpreter's start adds to it; /proc counts in 10 ms ticks
    assert spent >= 0.45, spent


def test_tree_cpu_counts_a_reaped_grandchild() -> None:
    """A process that came and went while a document rendered (a Chromium renderer, say) is
    counted through its parent's cutime/cstime."""
    spent = _cpu_of_a_child(BUSY_GRANDCHILD, 0.5)
    assert spent >= 0.45, spent


def test_tree_cpu_of_an_idle_child_is_small() -> None:
    # the negative control: the same measurement of a child that burns nothing
    spent = _cpu_of_a_child(BUSY, 0.0)
    assert spent < 0.3, spent


def test_tree_cpu_leaves_out_the_root_unless_asked() -> None:
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    own = tree_cpu_seconds(os.getpid(), include_root=True) - tree_cpu_seconds(os.getpid())
    assert own >= 0.15, own


def test_page_margins_are_document_css() -> None:
    # wkhtmltopdf ignores @page and gets them as options; Chromium's footer is indented by them
    assert page_margins() == ("22mm", "16mm", "22mm", "18mm")


@pytest.fixture(scope="module")
def peers() -> dict[str, bool]:
    found = installed_peers()
    if not found["chromium"]:
        message = "Chromium, chromedriver or selenium is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{message}; CI=true: the peers bench test must run", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def measured(peers: dict[str, bool]) -> Iterator[tuple[dict, dict]]:
    pdfs: dict[tuple[str, str], bytes] = {}
    figures = measure(runs=1, long_runs=1, pdfs=pdfs)
    yield figures, pdfs


def test_every_figure_is_there(peers: dict[str, bool], measured: tuple[dict, dict]) -> None:
    figures, _ = measured
    for document in DOCUMENTS:
        key = f"pdf_{document}"
        assert figures[f"{key}_cpu_ms"] > 0
        assert figures[f"{key}_wall_ms"] > 0
        for peer in PEERS:
            peer_keys = [f"{key}_{peer}_{what}" for what in ("cpu_ms", "wall_ms", "pages", "ratio")]
            if not peers[peer]:
                assert all(figures[k] is None for k in peer_keys), peer
                continue
            cpu = figures[f"{key}_{peer}_cpu_ms"]
            assert cpu > 0 and figures[f"{key}_{peer}_wall_ms"] > 0
            # docpost over the peer, by CPU
            assert figures[f"{key}_{peer}_ratio"] == pytest.approx(
                figures[f"{key}_cpu_ms"] / cpu, abs=0.01
            )


def test_each_output_is_a_pdf_of_the_expected_pages(
    peers: dict[str, bool], measured: tuple[dict, dict]
) -> None:
    figures, pdfs = measured
    assert figures["pdf_one_page_pages"] == 1
    long_pages = figures["pdf_200_lines_pages"]
    assert long_pages >= 5  # 200 lines do not fit on a few pages
    for (document, name), pdf in pdfs.items():
        assert pdf.startswith(b"%PDF-"), (document, name)
        pages = page_count(pdf)
        if name != "docpost":
            assert figures[f"pdf_{document}_{name}_pages"] == pages
        if document == "one_page":
            assert pages == 1, name
        elif name == "chromium":
            # the same page breaks: table head repeated, each line kept whole
            assert pages == long_pages
        elif name == "wkhtmltopdf":
            # it splits lines across pages and shrinks by a factor we can only undo roughly
            assert abs(pages - long_pages) <= 1, pages
    assert {name for _, name in pdfs} == {"docpost"} | {p for p in PEERS if peers[p]}


def test_chromium_used_the_bundled_font_and_printed_the_footer(
    measured: tuple[dict, dict],
) -> None:
    _, pdfs = measured
    for document in DOCUMENTS:
        pdf = pdfs[(document, "chromium")]
        # the header and footer templates too: no DejaVu Sans fallback anywhere
        assert font_names(pdf) == {"DocpostSans", "DocpostSans-Bold"}
        reader = PdfReader(io.BytesIO(pdf))
        pages = len(reader.pages)
        last = reader.pages[-1].extract_text()
        assert f"Page {pages} of {pages}" in last
        assert "Contoso Entertainment System USA" in last
        assert "INV-000001" in last


def test_absent_peers_are_none(monkeypatch: pytest.MonkeyPatch) -> None:
    # a short "200-line" invoice: only the structure is looked at
    sample = bench.peers.sample_view
    monkeypatch.setattr(bench.peers, "sample_view", lambda kind, line_count=None: sample(kind))
    figures = measure(runs=1, long_runs=1, peers={"chromium": False, "wkhtmltopdf": False})
    for document in DOCUMENTS:
        assert figures[f"pdf_{document}_pages"] == 1
        for peer in PEERS:
            for what in ("cpu_ms", "wall_ms", "pages", "ratio"):
                assert figures[f"pdf_{document}_{peer}_{what}"] is None
