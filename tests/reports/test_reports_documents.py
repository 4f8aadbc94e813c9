"""What the rendered PDFs print, read back with pypdf (DOMAIN.md D1-D6, S14)."""

from __future__ import annotations

import datetime
import io
import re
import time
from decimal import Decimal

import pytest
from pypdf import PdfReader

from docpost.reports.render import render_html, render_pdf
from docpost.reports.samples import sample_view

NBSP = "\u00a0"
KINDS = ["confirmation", "packing_slip", "invoice", "credit_note"]
LOCALES = ["en_US", "nb_NO"]

TITLES = {
    "en_US": {
        "confirmation": "Order confirmation",
        "packing_slip": "Packing slip",
        "invoice": "Invoice",
        "credit_note": "Credit note",
    },
    "nb_NO": {
        "confirmation": "Ordrebekreftelse",
        "packing_slip": "Følgeseddel",
        "invoice": "Faktura",
        "credit_note": "Kreditnota",
    },
}


BUNDLED_FONTS = {"Docpost-Sans", "Docpost-Sans-Bold"}


def _font_families(names: set[str]) -> set[str]:
    """Strip the "/ABCDEF+" subset tag: "/ABCDEF+Docpost-Sans" -> "Docpost-Sans"."""
    return {re.sub(r"^/(?:[A-Z]{6}\+)?", "", name) for name in names}


def _squash(text: str) -> str:
    """Text without any white space: line wrapping may split long strings anywhere."""
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_prints_its_header_block(sample_pdf, pdf_pages, kind, locale):
    view = sample_view(kind)
    [text] = pdf_pages(sample_pdf(kind, locale))
    assert TITLES[locale][kind] in text
    assert view["number"] in text
    assert view["order"] in text
    assert "Cave Wholesales" in text
    assert "123 Coffee Street, Suite 300" in text
    assert "Contoso Entertainment System USA" in text
    assert ("March 5, 2024" if locale == "en_US" else "5. mars 2024") in text
    assert ("Page 1 of 1" if locale == "en_US" else "Side 1 av 1") in text
    for line in view["lines"]:
        assert line["name"] in text


def test_en_us_invoice_numbers_and_totals(sample_pdf, pdf_pages):
    [text] = pdf_pages(sample_pdf("invoice", "en_US"))
    assert "2,300.00" in text  # unit price
    assert "6,900.00" in text  # line amount
    assert "10%" in text  # discount percent
    assert "15.00" in text  # discount amount
    assert "Net amount $7,575.00" in text
    assert "Total $7,575.00" in text
    assert "Packing slip PS-000001" in text  # reference to the packing slip


def test_nb_no_invoice_uses_babel_number_format(sample_pdf, pdf_pages):
    # babel 2.18 / CLDR: nb_NO groups with NO-BREAK SPACE and uses a decimal comma; the
    # currency comes after the amount.
    [text] = pdf_pages(sample_pdf("invoice", "nb_NO"))
    assert "Faktura" in text
    assert f"2{NBSP}300,00" in text
    assert f"6{NBSP}900,00" in text
    assert f"10{NBSP}%" in text
    assert f"Totalt 7{NBSP}575,00{NBSP}USD" in text
    assert "Enhetspris".upper() in text  # column headers are upper-cased by the stylesheet
    assert "Beløp".upper() in text
    assert "Følgeseddel PS-000001" in text
    assert "2,300.00" not in text


@pytest.mark.parametrize(
    ("locale", "label", "blank"),
    [("en_US", "Serial numbers:", "not readable"), ("nb_NO", "Serienumre:", "Ikke lesbart")],
)
@pytest.mark.parametrize("kind", ["invoice", "packing_slip"])
def test_d5_s14_serials_print_under_their_line_blank_as_not_readable(
    sample_pdf, pdf_pages, kind, locale, label, blank
):
    """D5/S14: serials print under their line, in order; a blank one as "not readable"."""
    [text] = pdf_pages(sample_pdf(kind, locale))
    first = "Laptop bundle" if kind == "invoice" else "Surface Pro 128 GB"
    after_first = text.split(first, 1)[1]
    serial_line = after_first.split("\n")[1]  # the row right under the line
    assert serial_line == f"{label} SP-0001, {blank}, SP-0003"
    assert f"{label} IMEI-3569-0001, IMEI-3569-0002" in text.split("Mobile phone", 1)[1]


def test_d5_blank_serial_is_never_printed_as_none(sample_pdf, pdf_pages):
    for locale in LOCALES:
        [text] = pdf_pages(sample_pdf("invoice", locale))
        assert "None" not in text


def test_d5_bundle_parent_line_is_marked_as_bundle(sample_pdf, pdf_pages):
    """D1/D5: the invoice prints the bundle parent as one marked line, with its serials."""
    [en] = pdf_pages(sample_pdf("invoice", "en_US"))
    [nb] = pdf_pages(sample_pdf("invoice", "nb_NO"))
    assert "Laptop bundle BUNDLE" in en
    assert "Laptop bundle BUNT" in nb  # "Bunt", upper-cased by the stylesheet


@pytest.mark.parametrize("locale", LOCALES)
def test_packing_slip_prints_no_prices(sample_pdf, pdf_pages, locale):
    """D2: the packing slip is internal: components and quantities, no prices or totals."""
    [text] = pdf_pages(sample_pdf("packing_slip", locale))
    assert "Surface Pro 128 GB" in text
    assert "Support, 12 months" in text
    for word in ["UNIT PRICE", "AMOUNT", "DISCOUNT", "Total", "Net amount", "Currency"]:
        assert word not in text
    for word in ["ENHETSPRIS", "BELØP", "RABATT", "Totalt", "Valuta"]:
        assert word not in text
    assert not re.search(r"\d[.,]\d\d\b", text), "no money amounts on a packing slip"
    assert "$" not in text and "USD" not in text


def test_packing_slip_layout_ignores_prices_passed_by_mistake(pdf_pages):
    view = sample_view("packing_slip")
    for line in view["lines"]:
        line["unit_price"] = Decimal("1234.56")
        line["amount"] = Decimal("9876.54")
    view["totals"] = {"net": Decimal("5555.55"), "total": Decimal("5555.55")}
    [text] = pdf_pages(render_pdf(view))
    assert "1,234.56" not in text
    assert "9,876.54" not in text
    assert "5,555.55" not in text


def test_credit_note_refers_to_its_invoice_and_prints_notes(sample_pdf, pdf_pages):
    """D3: the credit note shows the lines it credits and names the invoice."""
    [text] = pdf_pages(sample_pdf("credit_note", "en_US"))
    assert "Credit note" in text
    assert "Invoice INV-000001" in text
    assert "Credit note for INV-000001" in text
    assert "Mobile phone" in text
    assert "IMEI-3569-0002" in text
    assert "Total $270.00" in text


def test_d6_revision_is_printed_from_revision_2(pdf_pages):
    """D6: a serial correction re-renders the packing slip as a new revision."""
    view = sample_view("packing_slip")
    [first] = pdf_pages(render_pdf(view))
    view["revision"] = 2
    [second] = pdf_pages(render_pdf(view))
    assert "Revision" not in first
    assert "Revision 2" in second


def test_d4_totals_are_printed_as_given_not_recomputed(pdf_pages):
    """D4: the printed total is the posted one; the renderer never adds lines up."""
    view = sample_view("invoice")
    view["totals"] = {"net": Decimal("7575.00"), "total": Decimal("7575.01")}
    [text] = pdf_pages(render_pdf(view))
    assert "Total $7,575.01" in text


def test_multi_page_invoice_repeats_header_and_numbers_every_page(long_invoice_pdf, pdf_pages):
    pages = pdf_pages(long_invoice_pdf)
    count = len(pages)
    assert count >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {count}" in text
        # the table header (thead) is repeated on each page
        assert "LINE ITEM DESCRIPTION QUANTITY UNIT UNIT PRICE DISCOUNT AMOUNT" in text
        if number > 1:  # running header on continuation pages
            assert "Invoice INV-000001" in text
    # every line is printed exactly once, and the totals come at the end
    all_text = "\n".join(pages)
    assert len(re.findall(r"^\d+ (?:LaptopBundle|M0001|S0021) ", all_text, re.M)) == 200
    assert "Total $" in pages[-1]
    assert all("Total $" not in text for text in pages[:-1])


def test_pages_are_a4(sample_pdf):
    reader = PdfReader(io.BytesIO(sample_pdf("invoice", "en_US")))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


HOSTILE = '<img src="file:///etc/passwd"></td><style>*{display:none}</style>'


def test_hostile_customer_name_prints_literally(pdf_pages):
    view = sample_view("invoice")
    view["customer"]["name"] = HOSTILE
    view["lines"][0]["name"] = "<b>bold?</b> & {{ 7*7 }}"
    html = render_html(view)
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "<style>*{display:none}" not in html
    [text] = pdf_pages(render_pdf(view))
    assert _squash(HOSTILE) in _squash(text)
    assert _squash("<b>bold?</b> & {{ 7*7 }}") in _squash(text)  # no markup, not evaluated
    assert "Invoice" in text and "Total $7,575.00" in text  # nothing was hidden


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_only_the_bundled_font_is_embedded(sample_pdf, embedded_fonts, kind, locale):
    fonts = embedded_fonts(sample_pdf(kind, locale))
    assert fonts
    assert _font_families(fonts) <= BUNDLED_FONTS


def test_punctuation_in_the_subset_needs_no_system_font(embedded_fonts, pdf_pages):
    # Characters outside Latin-1 that documents and babel print; a missing glyph would make
    # Pango fall back to a system font, which would then be embedded.
    view = sample_view("invoice")
    punctuation = "– — ‘x’ “y” • € … a\u202fb 1\u00a0000 −5 Łódź Šťastný Œuvre"
    view["notes"] = [punctuation]
    view["customer"]["name"] = "Åse Ødegård Ærø"
    pdf = render_pdf(view, "nb_NO")
    assert _font_families(embedded_fonts(pdf)) <= BUNDLED_FONTS
    [text] = pdf_pages(pdf)
    assert "Åse Ødegård Ærø" in text
    assert "Łódź Šťastný Œuvre" in text


def test_font_check_does_see_a_system_font_fallback(embedded_fonts):
    # Negative control for the two tests above: Greek is outside the subset, so Pango takes it
    # from a system font, and the check must notice that font.
    view = sample_view("invoice")
    view["notes"] = ["Ωμέγα"]
    extra = _font_families(embedded_fonts(render_pdf(view))) - BUNDLED_FONTS
    if not extra:
        pytest.skip("no system font with Greek glyphs installed")
    assert extra


def test_d6_same_view_gives_the_same_bytes(monkeypatch):
    """D6: PDFs are stored with a checksum; a re-render of the same view is byte-identical.

    Only with SOURCE_DATE_EPOCH set: fontTools stamps each font subset with the current second
    (head.modified) while WeasyPrint writes the PDF, so without it two renders in different
    seconds differ in the embedded font bytes (and the xref offsets after them), nothing else.
    """
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = render_pdf(sample_view("invoice"), "nb_NO")
    time.sleep(1.1)  # cross a second boundary: the timestamp must not leak in
    assert render_pdf(sample_view("invoice"), "nb_NO") == first


def test_quantities_and_prices_keep_their_precision(pdf_pages):
    view = sample_view("invoice")
    view["lines"][2]["quantity"] = Decimal("2.5")
    view["lines"][2]["unit_price"] = Decimal("12.345678")
    [en] = pdf_pages(render_pdf(view, "en_US"))
    [nb] = pdf_pages(render_pdf(view, "nb_NO"))
    assert "Docking station 2.5 ea 12.345678" in en
    assert "Docking station 2,5 ea 12,345678" in nb


def test_optional_keys_may_be_left_out(pdf_pages):
    view = {
        "kind": "invoice",
        "number": "INV-000009",
        "date": datetime.date(2024, 12, 31),
        "currency": "NOK",
        "company": {"name": "Nordlys AS", "address": "Storgata 1\n0155 Oslo"},
        "customer": {"customer": "NO-001", "name": "Kunde AS", "address": "Kirkegata 2"},
        "order": "SO-2001",
        "lines": [
            {
                "line": "1",
                "item": "X",
                "name": "Vare",
                "unit": "stk",
                "quantity": Decimal(1),
                "unit_price": Decimal("100"),
                "amount": Decimal("100"),
            }
        ],
        "totals": {"net": Decimal("100"), "total": Decimal("100")},
    }
    [text] = pdf_pages(render_pdf(view, "nb_NO"))
    assert "31. desember 2024" in text
    assert f"Totalt 100,00{NBSP}kr" in text
    assert "Serienumre" not in text and "MVA-nr." not in text


def test_empty_document_says_so(pdf_pages):
    view = sample_view("packing_slip")
    view["lines"] = []
    [text] = pdf_pages(render_pdf(view))
    assert "No lines." in text


def test_unknown_kind_and_missing_keys_are_clear_errors():
    view = sample_view("invoice")
    with pytest.raises(ValueError, match="unknown document kind 'quote'"):
        render_html({**view, "kind": "quote"})
    incomplete = dict(view)
    del incomplete["customer"]
    with pytest.raises(ValueError, match="missing customer"):
        render_html(incomplete)


def test_unknown_locale_names_the_supported_ones():
    with pytest.raises(ValueError, match="supported locales are en_US, nb_NO"):
        render_pdf(sample_view("invoice"), "de_DE")


def test_locale_spelling_variants(pdf_pages):
    assert 'lang="nb-NO"' in render_html(sample_view("invoice"), "nb-NO")
    assert "Faktura" in render_html(sample_view("invoice"), "nb_no")


def test_font_configuration_and_css_are_shared_between_documents():
    from docpost.reports import render

    first = render._resources()
    render_pdf(sample_view("invoice"))
    render_pdf(sample_view("packing_slip"), "nb_NO")
    again = render._resources()
    assert again is first
    assert again.font_config is first.font_config and again.css is first.css
