"""PDF documents: view model -> HTML (Jinja2, sandboxed) -> PDF (WeasyPrint, bundled font).

Public API: ``render_html``, ``render_pdf`` (reports.render), ``SUPPORTED_LOCALES`` and
``locale_from_env`` (reports.labels); the view model is described in ``docpost.reports.viewmodel``.
"""

from __future__ import annotations

from typing import Any

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
