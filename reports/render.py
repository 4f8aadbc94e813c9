"""Render a document view model (``docpost.reports.viewmodel``) to HTML and PDF.

Why the process-wide caches: creating a ``FontConfiguration`` registers and copies the
@font-face fonts, Pango's font caches live in it, and parsing the stylesheets is repeated work,
so all are made once per process on first use and shared by every document (ARCHITECTURE.md,
performance notes). They are created lazily so that a Celery prefork parent never builds them
before forking.

``render_pdf`` is WeasyPrint's public ``HTML(string=..., base_url=..., url_fetcher=...)
.write_pdf(stylesheets=..., font_config=...)`` with those cached objects, and Python's cyclic
garbage collector paused during the render and run once on its young objects afterwards: a
render allocates many objects that live until it ends, and otherwise they trigger repeated full
collections of the whole heap in the middle of it. Most of a long document's cost is per
element and per text, so the templates print an order line with as few of them as they can,
and the small details and totals tables get fixed column widths measured in Python
(reports/columns.py: the widths auto layout would find, without WeasyPrint measuring each
cell).

On WeasyPrint 70 only (FAST_PATH), two shortcuts through its private API save the rest of the
work the documents do not need (profile: ``python -m bench.pdf``); any other version takes the
public path, so a WeasyPrint release that changes those internals costs speed, not output:

* the HTML comes from our own templates, which are well-formed XHTML, so the C expat parser
  reads it instead of the pure-Python HTML5 parser (any text that is not valid XML, such as a
  control character in customer data, falls back to the HTML5 parser);
* the user-agent stylesheet is cut down to the elements our templates emit
  (static/user-agent.css), so the cascade does not test unused rules on every element.

Together they save about 15 % of a one-page invoice's CPU and 25 % of a 200-line one's (issue
19: the HTML5 parser alone is ~12 % of the public path's 200-line render, a third of it a
regex cache in tinyhtml5 that never hits). tests/reports/test_reports_fast_path.py requires
the same PDF bytes either way.

``render_archive_pdf`` writes the same pages as PDF/A-3b with the e-invoice XML attached, for
archiving (DOMAIN.md E4); ``render_pdf`` is unchanged by it.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gc
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import cssselect2
import weasyprint
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from weasyprint import CSS, HTML, Attachment, Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from docpost.reports.columns import fit_heading, fit_meta, fit_totals
from docpost.reports.fetcher import BASE_URL, STATIC_DIR, BundledAssetFetcher
from docpost.reports.formatting import Formatter
from docpost.reports.labels import LABELS, normalize_locale
from docpost.reports.viewmodel import KINDS, DocumentView

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STYLESHEET = STATIC_DIR / "document.css"
USER_AGENT_STYLESHEET = STATIC_DIR / "user-agent.css"

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
    # T6: a point-of-sale sale, paid at the till: no payment block (document.html prints it
    # on invoices only).
    "receipt": _Layout("receipt", "customer", prices=True),
    # D2: a confirmation's picking list, internal like the packing slip (no prices).
    "picking_list": _Layout("picking_list", "ship_to", prices=False),
}


@dataclass(frozen=True)
class _Resources:
    fetcher: BundledAssetFetcher
    font_config: FontConfiguration
    css: CSS
    user_agent_css: CSS


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
    user_agent_css = CSS(
        string=USER_AGENT_STYLESHEET.read_text(encoding="utf-8"),
        base_url=BASE_URL,
        url_fetcher=fetcher,
    )
    return _Resources(fetcher, font_config, css, user_agent_css)


# The WeasyPrint releases whose ``HTML.__init__`` and ``_ua_stylesheets`` _DocumentHTML
# reproduces. Check a new release's before adding it here (the byte-for-byte tests run on it).
FAST_PATH_VERSIONS = ("70.",)
FAST_PATH = weasyprint.__version__.startswith(FAST_PATH_VERSIONS)

# The elements static/user-agent.css has the rules for (all it copies from WeasyPrint's sheet).
USER_AGENT_ELEMENTS = frozenset(
    {"html", "head", "meta", "title", "style", "body", "header", "section", "div", "h1", "p"}
    | {"table", "thead", "tbody", "tr", "th", "td", "span"}
)


class _DocumentHTML(HTML):
    """A WeasyPrint ``HTML`` for our own templates' output (see the module docstring).

    Used only when FAST_PATH. Set up as WeasyPrint 70's ``HTML.__init__`` sets itself up, from
    an expat-parsed tree when ``html`` is well-formed XML; ``_ua_stylesheets`` is the hook
    WeasyPrint 70 calls for the user-agent stylesheets. tests/reports/test_reports_fast_path.py
    requires the same PDF bytes as plain public WeasyPrint gives.
    """

    def __init__(self, html: str, res: _Resources) -> None:
        root = _parse_xhtml(html)
        if root is None:
            super().__init__(string=html, base_url=BASE_URL, url_fetcher=res.fetcher)
        else:
            # Our templates have no <base>, so the base URL is the one given.
            self.base_url = BASE_URL
            self.url_fetcher = res.fetcher
            self.media_type = "print"
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root)
            self.etree_element = self.wrapper_element.etree_element
        self.parsed_as_xml = root is not None
        # An element the short sheet has no rules for (a template edited without updating it)
        # gets WeasyPrint's full sheet rather than a wrong look.
        self.user_agent_css = (
            res.user_agent_css if _only_elements(self.etree_element, USER_AGENT_ELEMENTS) else None
        )

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        if self.user_agent_css is None:
            return super()._ua_stylesheets(forms)
        return [self.user_agent_css]


def _parse_xhtml(html: str) -> ElementTree.Element | None:
    """The element tree of ``html`` if it is well-formed XML, else None.

    For XHTML without namespaces, as our templates write it, expat builds the tree the HTML5
    parser builds (no implied elements: the templates write <tbody> and close every tag), but
    for white space outside <body>, which has no box. Customer data is escaped text, so it
    cannot add a DOCTYPE with entities; a character that XML forbids (C0 controls) makes this
    return None.
    """
    try:
        return ElementTree.fromstring(html)
    except ElementTree.ParseError:
        return None


def _only_elements(root: ElementTree.Element, tags: frozenset[str]) -> bool:
    # Comments and processing instructions have a function as their tag: not covered either.
    return all(element.tag in tags for element in root.iter())


@contextlib.contextmanager
def _garbage_collected_once() -> Iterator[None]:
    """Pause the cyclic GC for the block, then collect the young objects it left.

    A render builds trees of boxes and styles that all live until it ends; with the collector
    running, they are scanned over and over and promoted until they trigger full collections of
    the whole process heap: ~190 ms of a 200-line invoice's render here, ~6 ms of a one-page
    one, more in a worker whose heap holds more. Collecting generation 0 afterwards frees the
    render's reference cycles right away, so memory stays flat (bench/memory.py). The pause is
    process-wide: other threads only see their garbage collected a render later.
    """
    if not gc.isenabled():  # the caller manages the collector
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


# Pango/fontconfig objects in the shared FontConfiguration are not documented as thread-safe.
# Workers are processes (prefork), where this lock is never contended; it only matters if a
# caller renders from several threads.
_render_lock = threading.Lock()


@functools.cache
def _environment() -> SandboxedEnvironment:
    # Sandboxed + autoescaped: the data is customer-controlled text, and the templates only ever
    # need to print it. StrictUndefined turns a typo in a template into an error, not a blank.
    environment = SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["single_line"] = _single_line
    environment.globals["fit_heading"] = fit_heading
    environment.globals["fit_meta"] = fit_meta
    environment.globals["fit_totals"] = fit_totals
    return environment


def _single_line(text: str) -> str:
    """``text`` with each run of white space made one space, for attribute values.

    An XML parser turns a line break in an attribute into a space and an HTML parser keeps it;
    with none left, both parsers give the same attribute (and PDF metadata is one line anyway).
    """
    return " ".join(text.split())


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
    with _render_lock, _garbage_collected_once():
        return _write_pdf(html, _resources())


def _write_pdf(html: str, res: _Resources, **options: Any) -> bytes:
    # A function of its own, so that the document is garbage once it returns, before the
    # collection that ends _garbage_collected_once. ``options``: WeasyPrint's write_pdf options
    # (render_archive_pdf's PDF/A variant); render_pdf passes none.
    return _document(html, res).write_pdf(
        stylesheets=[res.css], font_config=res.font_config, **options
    )


def _document(html: str, res: _Resources) -> HTML:
    if FAST_PATH:
        return _DocumentHTML(html, res)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=res.fetcher)


# --- PDF/A-3b with the e-invoice attached (DOMAIN.md E4) ------------------------------------

ARCHIVE_PDF_VARIANT = "pdf/a-3b"
# The kinds that have an e-invoice (E1) to attach.
ARCHIVE_KINDS = ("invoice", "credit_note")
# RFC 7303 prefers application/xml to text/xml. Given by _EInvoiceFetcher, not guessed by
# WeasyPrint from the file name, whose guess depends on the Python version and the host's
# /etc/mime.types (text/xml or application/xml).
EINVOICE_MEDIA_TYPE = "application/xml"
# PDF/A-3 requires an AFRelationship on every embedded file. "Alternative": the XML is the same
# invoice as the printed pages, in another form (both are made from one view model and agree to
# the cent, E3), and in Norway the EHF is the invoice a buyer books; "Data" would say the pages
# are drawn from it, "Source" that it is what the PDF was made from. ZUGFeRD/XRechnung use
# "Alternative" for full EN 16931 invoices too.
EINVOICE_RELATIONSHIP = "Alternative"
_EINVOICE_URL = "docpost-einvoice:"


def render_archive_pdf(
    view: DocumentView | Mapping[str, Any], locale: str, xml: bytes, filename: str
) -> bytes:
    """The invoice or credit note as PDF/A-3b with its e-invoice ``xml`` embedded (E4).

    The same pages as ``render_pdf``, written as PDF/A-3b by WeasyPrint: fonts embedded (the
    bundled ones, subset), XMP metadata with pdfaid part 3 / conformance B, an sRGB output
    intent, a file identifier; title and language come from the HTML as for every document.
    ``xml`` is embedded under ``filename`` (the name the e-invoice is stored under, e.g.
    ``INV-000001.xml``) as an associated file of the document (catalog /AF) with the media type
    EINVOICE_MEDIA_TYPE and the relationship EINVOICE_RELATIONSHIP; its embedded dates are the
    document's date, so the bytes depend on nothing but the inputs (and SOURCE_DATE_EPOCH, as
    render_pdf's font subsets do).

    Raises ``ValueError`` as ``render_html`` does, for a kind without an e-invoice, for empty
    ``xml`` and for a ``filename`` that is not a plain ``.xml`` file name.
    """
    html = render_html(view, locale)
    if view["kind"] not in ARCHIVE_KINDS:
        raise ValueError(
            f"only an invoice or a credit note has an e-invoice to attach, not a {view['kind']!r}"
        )
    if not xml:
        raise ValueError("the e-invoice XML to attach is empty")
    _check_attachment_name(filename)
    # Midnight of the document date: datetime.combine, as WeasyPrint formats it (naive, "Z").
    when = datetime.datetime.combine(view["date"], datetime.time())
    attachment = Attachment(
        url=_EINVOICE_URL + filename,
        url_fetcher=_EInvoiceFetcher(xml),
        name=filename,
        description="E-invoice (UBL 2.1 XML) of this document",
        created=when,
        modified=when,
        relationship=EINVOICE_RELATIONSHIP,
    )
    with _render_lock, _garbage_collected_once():
        return _write_pdf(
            html,
            _resources(),
            pdf_variant=ARCHIVE_PDF_VARIANT,
            attachments=[attachment],
            finisher=_one_af_entry_per_file,
        )


def _check_attachment_name(filename: str) -> None:
    # A bare name: readers save the attachment under it, so no folders, and .xml so that they
    # open it as XML.
    if (
        not filename.lower().endswith(".xml")
        or filename.startswith(".")
        or any(ch in filename for ch in "/\\")
        or not filename.isprintable()
    ):
        raise ValueError(f"e-invoice file name must be a plain name ending in .xml: {filename!r}")


class _EInvoiceFetcher(URLFetcher):
    """Serves the one e-invoice, with its media type, to WeasyPrint's attachment writer.

    An ``Attachment(string=...)`` would have its media type guessed from the name. Fatal on
    error (``fail_on_errors``): WeasyPrint leaves out an attachment it fails to read with only a
    log line, and an archive PDF without its e-invoice must not be stored.
    """

    def __init__(self, xml: bytes) -> None:
        super().__init__(fail_on_errors=True)
        self._xml = xml

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if not url.startswith(_EINVOICE_URL):
            raise ValueError(f"not the e-invoice: {url!r}")
        return URLFetcherResponse(
            url, body=self._xml, headers={"Content-Type": EINVOICE_MEDIA_TYPE}
        )


def _one_af_entry_per_file(document: Document, pdf: Any) -> None:
    """Drop the repeats from the catalog's /AF array.

    WeasyPrint 70's PDF/A code lists each embedded file twice there (once from the
    EmbeddedFiles name tree, once from the file specification itself).
    """
    # pdf: WeasyPrint's pydyf.PDF; /AF is a pydyf.Array (a list) of reference strings.
    associated = pdf.catalog.get("AF")
    if associated:
        associated[:] = dict.fromkeys(associated)


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
