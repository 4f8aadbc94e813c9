"""PDF documents: view model -> HTML (Jinja2, sandboxed) -> PDF (WeasyPrint, bundled font).

Public API: ``render_html``, ``render_pdf`` (reports.render), ``SUPPORTED_LOCALES`` and
``locale_from_env`` (reports.labels); the view model is described in ``docpost.reports.viewmodel``.
"""

from __future__ import annotations

import logging
from typing import Any

# WeasyPrint's chatter off (issue 18: 484 of a worker's 776 log lines): `weasyprint.progress`
# logs seven INFO steps per PDF, and `weasyprint` warns about each CSS property or selector it
# does not support, for our own bundled stylesheets, on every render: none of it actionable.
# Errors (a stylesheet or image that failed to load) still reach the log. Set here, before
# any module of this package imports WeasyPrint: its import parses its own user-agent
# stylesheets, logging three progress steps in every process.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("weasyprint.progress").setLevel(logging.ERROR)

__all__ = ["SUPPORTED_LOCALES", "locale_from_env", "render_html", "render_pdf"]


def __getattr__(name: str) -> Any:
    # Lazy: importing reports.viewmodel (as the pipeline does) must not pay for WeasyPrint.
    if name in ("render_html", "render_pdf"):
        from docpost.reports import render

        return getattr(render, name)
    if name in ("SUPPORTED_LOCALES", "locale_from_env"):
        from docpost.reports import labels

        return getattr(labels, name)
    raise AttributeError(f"module 'docpost.reports' has no attribute {name!r}")
