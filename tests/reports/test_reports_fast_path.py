"""render_pdf's caches and shortcuts change nothing printed.

The reference is plain public WeasyPrint, as a caller without our caches would use it: a new
``FontConfiguration`` and ``CSS(string=document.css)`` for the document, then
``HTML(string=html, base_url=..., url_fetcher=...).write_pdf()`` (HTML5 parser, WeasyPrint's own
user-agent stylesheet). With SOURCE_DATE_EPOCH set, the PDFs must be the same bytes, both on
the public path (every WeasyPrint version: cached font configuration and stylesheet, paused
GC) and on WeasyPrint 70's fast path (expat parse, short user-agent sheet), which the tests
marked ``fast_path_only`` check on their own.
"""

from __future__ import annotations

import gc
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from docpost.reports import render
from docpost.reports.render import (
    BASE_URL,
    STYLESHEET,
    USER_AGENT_ELEMENTS,
    render_html,
    render_pdf,
)
from docpost.reports.samples import sample_view

KINDS = ["confirmation", "packing_slip", "invoice", "credit_note"]
LOCALES = ["en_US", "nb_NO"]

fast_path_only = pytest.mark.skipif(
    not render.FAST_PATH, reason="render.py's private shortcuts are for WeasyPrint 70 only"
)


def _plain_weasyprint_pdf(html: str) -> bytes:
    fetcher = render._resources().fetcher  # serves only the bundled fonts, as in production
    font_config = FontConfiguration()
    css = CSS(
        string=STYLESHEET.read_text(encoding="utf-8"),
        base_url=BASE_URL,
        url_fetcher=fetcher,
        font_config=font_config,
    )
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[css], font_config=font_config)


@pytest.fixture(
    params=[
        pytest.param(True, id="fast-path", marks=fast_path_only),
        pytest.param(False, id="public-path"),
    ]
)
def path(request, monkeypatch):
    """Each byte-for-byte test runs on the fast path (WeasyPrint 70) and on the public one."""
    monkeypatch.setattr(render, "FAST_PATH", request.param)
    return request.param


def _every_branch_view() -> dict:
    """An invoice that takes every optional branch of the templates."""
    view = sample_view("invoice")
    view["revision"] = 3
    view["lines"][1]["discount_amount"] = Decimal("30.00")  # percent and amount on one line
    view["notes"] = ["First note.", "Second note."]
    return view


def _tags(html: str) -> set[str]:
    return {element.tag for element in ElementTree.fromstring(html).iter()}


@pytest.fixture(autouse=True)
def _reproducible_pdfs(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_same_pdf_bytes_as_plain_weasyprint(kind, locale, path):
    view = sample_view(kind)
    assert render_pdf(view, locale) == _plain_weasyprint_pdf(render_html(view, locale))


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(_every_branch_view(), id="every-branch"),
        pytest.param(sample_view("invoice", line_count=60), id="multi-page"),
        pytest.param({**sample_view("packing_slip"), "lines": []}, id="no-lines"),
    ],
)
def test_same_pdf_bytes_as_plain_weasyprint_for_every_template_branch(view, path):
    assert render_pdf(view) == _plain_weasyprint_pdf(render_html(view))


def test_hostile_data_gives_the_same_pdf_bytes_too(path):
    view = sample_view("invoice")
    view["customer"]["name"] = '<img src="x"> & </td> <!-- "quoted" -->'
    view["company"]["name"] = "A & B <c>\nsecond line"
    html = render_html(view)
    if path:
        assert render._DocumentHTML(html, render._resources()).parsed_as_xml
    assert render_pdf(view) == _plain_weasyprint_pdf(html)


def test_the_fast_path_is_on_for_weasyprint_70_only():
    import weasyprint

    assert weasyprint.__version__.startswith("70.") == render.FAST_PATH


def test_other_versions_render_through_the_public_api(monkeypatch):
    monkeypatch.setattr(render, "FAST_PATH", False)
    document = render._document(render_html(sample_view("invoice")), render._resources())
    assert type(document) is HTML


@fast_path_only
@pytest.mark.parametrize("kind", KINDS)
def test_template_output_takes_the_fast_path(kind):
    html = render_html(sample_view(kind))
    document = render._DocumentHTML(html, render._resources())
    assert document.parsed_as_xml
    assert document.user_agent_css is render._resources().user_agent_css


@fast_path_only
def test_templates_use_only_elements_the_short_user_agent_sheet_covers():
    tags: set[str] = set()
    for kind in KINDS:
        for locale in LOCALES:
            tags |= _tags(render_html(sample_view(kind), locale))
    tags |= _tags(render_html(_every_branch_view()))
    assert tags <= USER_AGENT_ELEMENTS


@fast_path_only
def test_text_that_is_not_xml_falls_back_to_the_html5_parser():
    # A vertical tab is allowed in HTML text but not in XML (it prints as a .notdef box).
    view = sample_view("invoice")
    view["customer"]["name"] = "Cave\x0bWholesales"
    html = render_html(view)
    assert not render._DocumentHTML(html, render._resources()).parsed_as_xml
    assert render_pdf(view) == _plain_weasyprint_pdf(html)


@fast_path_only
def test_an_element_outside_the_short_sheet_gets_weasyprints_own():
    html = render_html(sample_view("invoice")).replace(
        "<p>Payment terms", "<p><em>Payment</em> terms"
    )
    document = render._DocumentHTML(html, render._resources())
    assert document.parsed_as_xml
    assert document.user_agent_css is None
    assert len(document._ua_stylesheets()) >= 1


def test_percent_and_amount_discount_print_on_two_lines(pdf_pages, path):
    [text] = pdf_pages(render_pdf(_every_branch_view()))
    assert "Mobile phone 2 ea 300.00 10%\n30.00\n540.00" in text


def test_garbage_collector_is_enabled_again_after_a_render():
    assert gc.isenabled()
    render_pdf(sample_view("invoice"))
    assert gc.isenabled()


def test_garbage_collector_is_enabled_again_after_a_failed_render(monkeypatch):
    def fail(html: str, res: object) -> bytes:
        assert not gc.isenabled()  # paused during the render
        raise RuntimeError("layout failed")

    monkeypatch.setattr(render, "_write_pdf", fail)
    with pytest.raises(RuntimeError, match="layout failed"):
        render_pdf(sample_view("invoice"))
    assert gc.isenabled()


def test_a_caller_that_disabled_the_collector_keeps_it_disabled():
    gc.disable()
    try:
        render_pdf(sample_view("packing_slip"))
        assert not gc.isenabled()
    finally:
        gc.enable()
