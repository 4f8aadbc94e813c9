"""PDF documents: view model -> HTML (Jinja2, sandboxed) -> PDF (WeasyPrint, bundled font).

Public API: ``render_html``, ``render_pdf`` (reports.render), ``SUPPORTED_LOCALES`` and
``locale_from_env`` (reports.labels); the view model is described in ``reports.viewmodel``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SUPPORTED_LOCALES", "locale_from_env", "render_html", "render_pdf"]


def __getattr__(name: str) -> Any:
    # Lazy: importing reports.viewmodel (as the pipeline does) must not pay for WeasyPrint.
    if name in ("render_html", "render_pdf"):
        from reports import render

        return getattr(render, name)
    if name in ("SUPPORTED_LOCALES", "locale_from_env"):
        from reports import labels

        return getattr(labels, name)
    raise AttributeError(f"module 'reports' has no attribute {name!r}")
