"""Render a document view model (``reports.viewmodel``) to HTML and PDF.

Why the process-wide caches: most of WeasyPrint's time per document goes into font handling.
Creating the ``FontConfiguration`` registers and copies the @font-face fonts, and parsing the
stylesheet is repeated work, so both are made once per process on first use and shared by every
document (ARCHITECTURE.md, performance notes). They are created lazily so that a Celery prefork
parent never builds them before forking.
"""

from __future__ import annotations

import datetime
import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from reports.fetcher import BASE_URL, STATIC_DIR, BundledAssetFetcher
from reports.formatting import Formatter
from reports.labels import LABELS, normalize_locale
from reports.viewmodel import KINDS, DocumentView

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STYLESHEET = STATIC_DIR / "document.css"

_REQUIRED_KEYS = ("kind", "number", "date", "currency", "company", "customer", "order", "lines")


@dataclass(frozen=True)
class _Layout:
    title: str  # label key of the document title
    recipient: str  # label key of the customer block heading
    prices: bool  # external documents show prices; the packing slip is internal (no prices)


_LAYOUTS: Mapping[str, _Layout] = {
    "confirmation": _Layout("confirmation", "customer", prices=True),
    "packing_slip": _Layout("packing_slip", "ship_to", prices=False),
    "invoice": _Layout("invoice", "bill_to", prices=True),
    "credit_note": _Layout("credit_note", "bill_to", prices=True),
}


@dataclass(frozen=True)
class _Resources:
    fetcher: BundledAssetFetcher
    font_config: FontConfiguration
    css: CSS


@functools.cache
def _resources() -> _Resources:
    fetcher = BundledAssetFetcher()
    font_config = FontConfiguration()
    # Passing font_config here registers the @font-face fonts once, for all later documents.
    css = CSS(
        string=STYLESHEET.read_text(encoding="utf-8"),
        base_url=BASE_URL,
        url_fetcher=fetcher,
        font_config=font_config,
    )
    return _Resources(fetcher, font_config, css)


# Pango/fontconfig objects in the shared FontConfiguration are not documented as thread-safe.
# Workers are processes (prefork), where this lock is never contended; it only matters if a
# caller renders from several threads.
_render_lock = threading.Lock()


@functools.cache
def _environment() -> SandboxedEnvironment:
    # Sandboxed + autoescaped: the data is customer-controlled text, and the templates only ever
    # need to print it. StrictUndefined turns a typo in a template into an error, not a blank.
    return SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(view: DocumentView | Mapping[str, Any], locale: str = "en_US") -> str:
    """The document as an HTML string (what ``render_pdf`` lays out).

    Raises ``ValueError`` for an unsupported locale or a view model missing a required key or
    with an unknown ``kind``.
    """
    locale = normalize_locale(locale)
    doc = _prepare(view)
    labels = LABELS[locale]
    layout = _LAYOUTS[doc["kind"]]
    template = _environment().get_template("document.html")
    return template.render(
        doc=doc,
        t=labels,
        fmt=Formatter(locale=locale, currency=doc["currency"]),
        layout=layout,
        title=labels[layout.title],
        columns=_column_count(layout, doc["has_discounts"]),
        lang=locale.replace("_", "-"),
        page_counter=_page_counter_css(labels["page_of"]),
    )


def render_pdf(view: DocumentView | Mapping[str, Any], locale: str = "en_US") -> bytes:
    """The document as PDF bytes (A4, bundled font, only bundled assets fetched)."""
    html = render_html(view, locale)
    with _render_lock:
        res = _resources()
        return HTML(string=html, base_url=BASE_URL, url_fetcher=res.fetcher).write_pdf(
            stylesheets=[res.css], font_config=res.font_config
        )


def _prepare(view: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``view`` with the optional keys filled in, so templates need no guards."""
    missing = [key for key in _REQUIRED_KEYS if key not in view]
    if missing:
        raise ValueError(f"view model is missing {', '.join(missing)}")
    if view["kind"] not in _LAYOUTS:
        raise ValueError(f"unknown document kind {view['kind']!r}: expected one of {KINDS}")
    if not isinstance(view["date"], datetime.date):
        raise ValueError(f"view model date must be a datetime.date, not {view['date']!r}")
    company = {"vat": None, **view["company"]}
    lines = [
        {
            "unit_price": None,
            "discount_percent": None,
            "discount_amount": None,
            "amount": None,
            "serials": [],
            "is_bundle": False,
            **line,
        }
        for line in view["lines"]
    ]
    return {
        "revision": 1,
        "references": [],
        "notes": [],
        "totals": None,
        **view,
        "company": company,
        "lines": lines,
        "has_discounts": any(
            line["discount_percent"] is not None or line["discount_amount"] is not None
            for line in lines
        ),
    }


def _column_count(layout: _Layout, has_discounts: bool) -> int:
    # line, item, description, quantity, unit [, unit price [, discount], amount]
    if not layout.prices:
        return 5
    return 8 if has_discounts else 7


def _page_counter_css(template: str) -> Markup:
    """CSS ``content`` value for a label like "Page {page} of {pages}".

    The label goes into a <style> element, where HTML escaping does not apply, so every
    character that is not a letter, digit or space is written as a CSS hex escape.
    """
    parts: list[str] = []
    rest = template
    while rest:
        head, sep, rest = rest.partition("{")
        if head:
            parts.append(_css_string(head))
        if not sep:
            break
        name, _, rest = rest.partition("}")
        if name not in ("page", "pages"):
            raise ValueError(f"unknown placeholder {{{name}}} in page label {template!r}")
        parts.append(f"counter({name})")
    return Markup(" ".join(parts))


def _css_string(text: str) -> str:
    escaped = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch == " ") else f"\\{ord(ch):x} " for ch in text
    )
    return f'"{escaped}"'
