"""WeasyPrint's chatter off, its errors kept (issue 18 item 3; set in docpost.reports)."""

from __future__ import annotations

import logging

import pytest

import docpost.reports  # noqa: F401  (sets the levels, as any renderer's import does)


def test_css_warnings_and_progress_silenced_errors_kept(caplog: pytest.LogCaptureFixture) -> None:
    """An unsupported CSS property (a warning) and the progress steps (info) are dropped; an
    image that cannot be loaded (an error) is still logged. Negative control: the same HTML
    does produce the warning when the level is lowered again."""
    from weasyprint import HTML

    html = '<p style="frobnicate: 3px">x</p><img src="file:///nonexistent/missing.png">'
    caplog.clear()
    HTML(string=html).write_pdf()
    weasy = [r for r in caplog.records if r.name.startswith("weasyprint")]
    assert [r.levelno for r in weasy] == [logging.ERROR], [r.getMessage() for r in weasy]
    assert "missing.png" in weasy[0].getMessage()

    weasyprint_logger = logging.getLogger("weasyprint")
    try:
        weasyprint_logger.setLevel(logging.WARNING)
        caplog.clear()
        HTML(string=html).write_pdf()
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert any("frobnicate" in r.getMessage() for r in warnings)
    finally:
        weasyprint_logger.setLevel(logging.ERROR)
