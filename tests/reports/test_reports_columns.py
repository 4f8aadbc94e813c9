"""The measured widths (details and totals tables, document heading) print as auto widths would.

reports/columns.py measures the cells' texts in the bundled font so that the templates can give
those two tables ``table-layout: fixed`` (WeasyPrint then skips measuring every cell). The page
must look as it did with auto layout: every text at the same place, within a twentieth of a
point, and no cell wrapped. The reference is the same HTML with the widths taken out, i.e. auto
layout as before.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from docpost.reports import columns
from docpost.reports.render import render_html, render_pdf
from docpost.reports.samples import norwegian_sample_view, sample_view

KINDS = ["confirmation", "packing_slip", "invoice", "credit_note"]
LOCALES = ["en_US", "nb_NO"]


def _auto_layout(html: str) -> str:
    """The HTML as it was before the measured widths: auto layout for both tables."""
    html = re.sub(
        r'<table class="(meta|totals) fixed"( style="[^"]*")?>', r'<table class="\1">', html
    )
    html = re.sub(
        r'<div class="doc-heading" style="width: [0-9.]+px">', '<div class="doc-heading">', html
    )
    return re.sub(r'<th style="width: [0-9.]+px">', "<th>", html)


def _words(pdf: bytes) -> list[tuple[int, str, float, float]]:
    """(page, text, x, y) of every text run that pypdf reports, in page order."""
    found: list[tuple[int, str, float, float]] = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):

        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                found.append((number, text.strip(), x, y))

        page.extract_text(visitor_text=visit)
    return found


def _pdf_of(html: str) -> bytes:
    from docpost.reports import render

    with render._render_lock:
        return render._write_pdf(html, render._resources())


def _assert_same_places(html: str) -> None:
    fixed, auto = _words(_pdf_of(html)), _words(_pdf_of(_auto_layout(html)))
    assert [(page, text) for page, text, _, _ in fixed] == [
        (page, text) for page, text, _, _ in auto
    ]
    for (_, text, x, y), (_, _, auto_x, auto_y) in zip(fixed, auto, strict=True):
        assert abs(x - auto_x) < 0.05 and abs(y - auto_y) < 0.05, text


def _every_row_view() -> dict:
    view = norwegian_sample_view("invoice")
    view["revision"] = 2
    view["delivery_date"] = view["date"]
    view["customer"] = {**view["customer"], "reference": "Kari Nordmann"}
    view["references"] = [
        {"label": "order", "value": "SO-77"},
        {"label": "Project", "value": "P-1"},
    ]
    view["exchange_rate"] = Decimal("11.4321")
    view["company_currency"] = "NOK"
    return view


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_fixed_columns_print_as_auto_layout(kind, locale):
    html = render_html(sample_view(kind), locale)
    assert '<table class="meta fixed"' in html
    assert '<div class="doc-heading" style="width: ' in html
    _assert_same_places(html)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["invoice", "credit_note"])
def test_fixed_columns_print_as_auto_layout_with_vat_and_every_detail_row(kind, locale):
    view = _every_row_view() if kind == "invoice" else norwegian_sample_view(kind, locale)
    html = render_html(view, locale)
    assert '<table class="meta fixed"' in html
    assert '<table class="totals fixed"' in html
    _assert_same_places(html)


def test_a_value_too_wide_for_one_line_keeps_auto_layout():
    view = sample_view("invoice")
    view["customer"] = {**view["customer"], "reference": "Accounts payable, " * 6}
    html = render_html(view)
    assert '<table class="meta">' in html
    assert "Accounts payable" in "".join(
        PdfReader(io.BytesIO(render_pdf(view))).pages[0].extract_text()
    )


def test_text_the_bundled_font_lacks_keeps_auto_layout():
    view = sample_view("invoice")
    view["customer"] = {**view["customer"], "customer": "US-004 ✓"}  # not in Docpost Sans
    assert '<table class="meta">' in render_html(view)
    assert columns.text_width_px("✓", 9) is None


def test_huge_amounts_keep_auto_layout_for_the_totals():
    view = sample_view("invoice")
    view["totals"] = {"net": Decimal("123456789012345678901234.00"), "total": Decimal("1")}
    assert '<table class="totals">' in render_html(view)


def test_measured_widths_are_pangos():
    # Kerned pairs ("AV", "Te") and both faces, against the widths WeasyPrint gives them:
    # a float shrinks to its text, and the PDF places the next text right after it.
    html = (
        '<html><head><title>t</title></head><body style="margin: 0">'
        '<p><span style="float: left; font-size: 9pt">AVAT Tëst Wåy</span>|</p>'
        '<p><span style="float: left; font-size: 11pt; font-weight: 700">$7,575.00 Te</span>|</p>'
        "</body></html>"
    )
    bars = [x for _, text, x, _ in _words(_pdf_of(html)) if text == "|"]
    expected = [
        columns.text_width_px("AVAT Tëst Wåy", 9) * 0.75,
        columns.text_width_px("$7,575.00 Te", 11, bold=True) * 0.75,
    ]
    # the page's left margin is the user-agent default, the same for both lines
    assert bars[0] - expected[0] == pytest.approx(bars[1] - expected[1], abs=0.01)
