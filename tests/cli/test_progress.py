"""Issue 18 item 4: progress bars from a kept library (rich) instead of hand-written carriage
returns: on a terminal redrawn in place; in a log file or a pipe, `bulk-invoice --wait`'s bar
is its final line only and the demo's is not drawn at all (no control characters)."""

from __future__ import annotations

import io

from docpost.pipeline.entrypoints.cli import demo
from docpost.pipeline.entrypoints.cli.queue import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _bar(stream: io.StringIO, total: int) -> None:
    bar = ProgressBar("invoices", total, stream)
    for done in range(1, total + 1):
        bar.update(done, total)
    bar.close()


def test_progress_bar_in_a_log_file_is_its_final_line() -> None:
    log = io.StringIO()
    _bar(log, 20)
    assert log.getvalue().count("\n") == 1
    assert log.getvalue().startswith("invoices ") and log.getvalue().endswith(" 20/20\n")
    assert "\r" not in log.getvalue() and "\033" not in log.getvalue()


def test_progress_bar_on_a_terminal_is_drawn_in_place() -> None:
    screen = Terminal()
    _bar(screen, 20)
    assert "20/20" in screen.getvalue()
    assert "\r" in screen.getvalue() and "\033[" in screen.getvalue()  # redrawn, not appended


def test_progress_bar_of_nothing_draws_nothing() -> None:
    for stream in (io.StringIO(), Terminal()):
        _bar(stream, 0)
        assert stream.getvalue() == ""


def test_demo_progress_in_a_log_file_is_the_lines_only() -> None:
    log = io.StringIO()
    progress = demo.DemoProgress(log)
    long_url = "sqlite:///" + "x" * 120 + "/docpost.db"  # not cut at 80 columns
    progress.start(demo.USMF, long_url, 2)
    progress.outcome({"request_id": "usmf-001"})
    progress.rendering()
    progress.done()
    assert log.getvalue() == (
        f"docpost: USMF example: 2 requests through the embedded queue on {long_url[10:]}\n"
    )
