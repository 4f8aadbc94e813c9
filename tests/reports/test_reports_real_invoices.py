"""What a real invoice prints (issue 15), read back from the PDF with pypdf.

DOMAIN.md P3 (seller's organisation number with MVA and Foretaksregisteret, buyer's number and
reference, invoice, delivery and due dates, payment terms, KID, bank account, IBAN/BIC, the VAT
breakdown per rate, net total, VAT, total including VAT, amount due; a credit note names its
invoice), P4 (nb_NO is Norwegian throughout, "stk" for "ea"), T4 (a bundle at mixed rates prints
one line per rate), T6/T7 (VAT per rate on receipts, VAT in the company currency) and D4 (every
figure is printed as the view gives it; the renderer adds nothing up). The view is
``samples.norwegian_sample_view``; a view without the issue-15 keys must print as before.
"""

from __future__ import annotations

import datetime
import io
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from pypdf import PdfReader
from stdnum import iban, luhn
from stdnum.no import kontonr, mva, orgnr
from weasyprint import HTML

from docpost.reports import render
from docpost.reports.render import BASE_URL, USER_AGENT_ELEMENTS, render_html, render_pdf
from docpost.reports.samples import (
    NORWEGIAN_COMPANY,
    NORWEGIAN_CUSTOMER,
    norwegian_sample_view,
    sample_view,
)

NBSP = "\u00a0"
KINDS = ["confirmation", "packing_slip", "invoice", "credit_note"]
LOCALES = ["en_US", "nb_NO"]
CENT = Decimal("0.01")

# The keys issue 15 added to the view model (reports/viewmodel.py), at each level.
NEW_DOCUMENT_KEYS = (
    "due_date",
    "delivery_date",
    "payment_terms_days",
    "kid",
    "credited_invoice",
    "reverse_charge",
    "prices_include_vat",
    "vat",
    "company_currency",
    "exchange_rate",
)
NEW_COMPANY_KEYS = ("org_number", "foretaksregisteret", "bank_account", "iban", "bic")
NEW_CUSTOMER_KEYS = ("org_number", "vat_id", "reference")

# What the Norwegian sample invoice prints, per locale (babel: nb_NO groups with NO-BREAK
# SPACE, a decimal comma and "kr" after the amount; en_US writes NOK before it).
EXPECTED = {
    "nb_NO": {
        "vat_groups": [f"15{NBSP}% 1{NBSP}072,20 160,83", f"25{NBSP}% 2{NBSP}147,00 536,75"],
        "totals": [
            f"Sum eks. mva. 3{NBSP}219,20{NBSP}kr",
            f"Merverdiavgift 697,58{NBSP}kr",
            f"Sum inkl. mva. 3{NBSP}916,78{NBSP}kr",
            f"Å betale 3{NBSP}916,78{NBSP}kr",
        ],
        "dates": [
            "Fakturadato 15. januar 2025",
            "Leveringsdato 14. januar 2025",
            "Forfallsdato 14. februar 2025",
            "Betalingsbetingelser 30 dager netto",
        ],
        "parties": [
            "Organisasjonsnummer NO 923 609 016 MVA",
            "Foretaksregisteret",
            "Organisasjonsnummer 987 654 325",
            "Deres referanse Kari Nordmann",
        ],
        "payment": [
            "BETALINGSINFORMASJON",
            "Å BETALE FORFALLSDATO KONTONUMMER KID",
            f"3{NBSP}916,78{NBSP}kr 14. februar 2025 1234.56.78903 0000018",
            "IBAN NO93 8601 1117 947 BIC DNBANOKK",
        ],
    },
    "en_US": {
        "vat_groups": ["15% 1,072.20 160.83", "25% 2,147.00 536.75"],
        "totals": [
            "Total excl. VAT NOK3,219.20",
            "VAT NOK697.58",
            "Total incl. VAT NOK3,916.78",
            "Amount due NOK3,916.78",
        ],
        "dates": [
            "Invoice date January 15, 2025",
            "Delivery date January 14, 2025",
            "Due date February 14, 2025",
            "Payment terms 30 days net",
        ],
        "parties": [
            "Org. no. NO 923 609 016 MVA",
            "Foretaksregisteret",
            "Org. no. 987 654 325",
            "Your reference Kari Nordmann",
        ],
        "payment": [
            "PAYMENT DETAILS",
            "AMOUNT DUE DUE DATE BANK ACCOUNT PAYMENT REF. (KID)",
            "NOK3,916.78 February 14, 2025 1234.56.78903 0000018",
            "IBAN NO93 8601 1117 947 BIC DNBANOKK",
        ],
    },
}


@pytest.fixture(scope="module")
def norwegian_pdf():
    """``norwegian_pdf(kind, locale)``: the Norwegian sample of that kind, rendered once."""
    cache: dict[tuple[str, str], bytes] = {}

    def get(kind: str, locale: str) -> bytes:
        if (kind, locale) not in cache:
            cache[kind, locale] = render_pdf(norwegian_sample_view(kind, locale), locale)  # type: ignore[arg-type]
        return cache[kind, locale]

    return get


def _text(pdf_pages, pdf: bytes) -> str:
    # all pages: the notes of a longer variant may move onto a second page
    return "\n".join(pdf_pages(pdf))


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.split("\n")}


# --- P3: what the invoice prints -------------------------------------------------------------


@pytest.mark.parametrize(
    "section",
    [
        # P3/T3: one row per VAT rate with its taxable amount and VAT
        pytest.param("vat_groups", id="P3-T3-vat-breakdown-per-rate"),
        # P3: net total, VAT, total including VAT and the amount due, each on its own row
        pytest.param("totals", id="P3-net-vat-total-amount-due"),
        # P3/P1: invoice date, delivery date, due date and payment terms
        pytest.param("dates", id="P3-invoice-delivery-due-dates-terms"),
        # P3/M6: "NO 923 609 016 MVA", "Foretaksregisteret"; the buyer's number and reference
        pytest.param("parties", id="P3-org-number-with-MVA-buyer-reference"),
    ],
)
@pytest.mark.parametrize("locale", LOCALES)
def test_p3_invoice_prints(norwegian_pdf, pdf_pages, locale, section):
    """P3: what a Norwegian invoice must print, each figure on its own row, in both locales."""
    text = _text(pdf_pages, norwegian_pdf("invoice", locale))
    for row in EXPECTED[locale][section]:
        assert row in _lines(text), row


@pytest.mark.parametrize("locale", LOCALES)
def test_p3_t3_vat_breakdown_has_its_caption_and_column_headings(norwegian_pdf, pdf_pages, locale):
    text = _text(pdf_pages, norwegian_pdf("invoice", locale))
    heading = {
        "nb_NO": "SPESIFIKASJON AV MERVERDIAVGIFT\nSats Grunnlag Mva.\n",
        "en_US": "VAT BREAKDOWN\nRate Taxable amount VAT\n",
    }[locale]
    assert heading + EXPECTED[locale]["vat_groups"][0] in text


@pytest.mark.parametrize("locale", LOCALES)
def test_p3_invoice_prints_the_payment_block_with_kid_and_bank_account(
    norwegian_pdf, pdf_pages, locale
):
    """P2/P3: amount due, due date, bank account "1234.56.78903", KID, then IBAN and BIC."""
    text = _text(pdf_pages, norwegian_pdf("invoice", locale))
    block = text.split(EXPECTED[locale]["payment"][0], 1)[1]
    lines = [line.strip() for line in block.split("\n") if line.strip()]
    assert lines[:3] == EXPECTED[locale]["payment"][1:]


@pytest.mark.parametrize("locale", LOCALES)
def test_p3_addresses_print_on_their_own_lines(norwegian_pdf, pdf_pages, locale):
    """P3 (issue 15): address lines given as a list print one per line, seller and buyer."""
    text = _text(pdf_pages, norwegian_pdf("invoice", locale))
    assert "Fjordkurv AS\nStrandkaien 12\n5013 Bergen\nNorge\n" in text
    assert "Bryggen Delikatesse AS\nAtt. Regnskap\nBryggen 7\n5003 Bergen\n" in text


def test_p3_address_as_one_string_is_still_accepted(pdf_pages):
    """The older form, one string with line breaks, prints the same lines."""
    view = norwegian_sample_view("invoice", "nb_NO")
    view["company"]["address"] = "\n".join(NORWEGIAN_COMPANY["address"])  # type: ignore[arg-type]
    view["customer"]["address"] = "\n".join(NORWEGIAN_CUSTOMER["address"])  # type: ignore[arg-type]
    text = _text(pdf_pages, render_pdf(view, "nb_NO"))
    assert "Fjordkurv AS\nStrandkaien 12\n5013 Bergen\nNorge\n" in text
    assert "Bryggen Delikatesse AS\nAtt. Regnskap\nBryggen 7\n5003 Bergen\n" in text


def test_p3_buyer_vat_id_prints_when_given(pdf_pages):
    """P3/M7: a foreign buyer has a VAT id instead of a Norwegian organisation number."""
    view = norwegian_sample_view("invoice", "en_US")
    view["customer"] = {**view["customer"], "org_number": None, "vat_id": "SE556677889901"}
    text = _text(pdf_pages, render_pdf(view, "en_US"))
    assert "VAT no. SE556677889901" in _lines(text)
    assert "Org. no. 987 654 325" not in text


@pytest.mark.parametrize(
    ("locale", "names"),
    [
        ("nb_NO", "Krediterer faktura INV-000001 av 15. januar 2025"),
        ("en_US", "Credits invoice INV-000001 of January 15, 2025"),
    ],
)
def test_p3_credit_note_names_its_invoice_and_its_date(norwegian_pdf, pdf_pages, locale, names):
    """P3: a credit note names the invoice it credits and that invoice's date."""
    text = _text(pdf_pages, norwegian_pdf("credit_note", locale))
    assert names in _lines(text)
    credited = {"nb_NO": f"Til gode 311,25{NBSP}kr", "en_US": "Amount credited NOK311.25"}
    assert credited[locale] in _lines(text)
    # a credit note asks for no payment: no payment block, no KID, no "amount due"
    for word in ["BETALINGSINFORMASJON", "PAYMENT DETAILS", "KID", "Å betale", "Amount due"]:
        assert word not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_confirmation_shows_vat_when_given_but_no_payment_block(norwegian_pdf, pdf_pages, locale):
    """Issue 15: confirmations show VAT too; only an invoice carries the payment block."""
    text = _text(pdf_pages, norwegian_pdf("confirmation", locale))
    for row in EXPECTED[locale]["vat_groups"] + EXPECTED[locale]["totals"][:3]:
        assert row in _lines(text), row
    assert EXPECTED[locale]["payment"][0] not in text
    assert "0000018" not in text and "1234.56.78903" not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_norwegian_packing_slip_prints_no_vat_and_no_prices(norwegian_pdf, pdf_pages, locale):
    """D2: the packing slip stays without prices, VAT or payment details."""
    text = _text(pdf_pages, norwegian_pdf("packing_slip", locale))
    assert "Hvitost, lagret 12 mnd." in text
    assert not re.search(r"\d[.,]\d\d\b", text), "no money amounts on a packing slip"
    for word in ["MVA", "Mva.", "VAT", "KID", "1234.56.78903"]:
        assert word not in text.replace("NO 923 609 016 MVA", "")


# --- P4: Norwegian throughout ----------------------------------------------------------------


NORWEGIAN_WORDS = [
    "Faktura",
    "Fakturadato",
    "Leveringsdato",
    "Forfallsdato",
    "Betalingsbetingelser",
    "Organisasjonsnummer",
    "Deres referanse",
    "Sum eks. mva.",
    "Merverdiavgift",
    "Sum inkl. mva.",
    "Å betale",
    "KONTONUMMER",  # column headings are upper-cased by the stylesheet
    "KID",
    "FAKTURAMOTTAKER",
]
ENGLISH_WORDS = ["Invoice", "Due date", "Bank account", "Total", "Amount", "VAT", "Payment", "ea"]


def test_p4_nb_no_invoice_is_norwegian_throughout(norwegian_pdf, pdf_pages):
    """P4: Norwegian labels, "stk" for "ea", Norwegian dates and numbers; no English word."""
    text = _text(pdf_pages, norwegian_pdf("invoice", "nb_NO"))
    for word in NORWEGIAN_WORDS:
        assert word in text, word
    assert f"1 GAVEKURV Gavekurv (15{NBSP}%) BUNT 2 stk 375,00 15{NBSP}% 750,00" in text
    assert "3 BRETT-EIK Skjærebrett i eik 3 stk 249,00 25" in text
    assert len(re.findall(r" stk ", text)) == 5  # every line's unit
    for word in ENGLISH_WORDS:
        assert not re.search(rf"\b{word}\b", text, re.IGNORECASE), word


def test_p4_negative_control_en_us_prints_english_and_ea(norwegian_pdf, pdf_pages):
    """Negative control for the test above: the same view in en_US fails its checks."""
    text = _text(pdf_pages, norwegian_pdf("invoice", "en_US"))
    assert " stk " not in text
    assert "2 ea 375.00 15% 750.00" in text
    assert all(re.search(rf"\b{word}\b", text, re.IGNORECASE) for word in ENGLISH_WORDS)
    for word in ["Fakturadato", "Forfallsdato", "Merverdiavgift", "Å betale", "KONTONUMMER"]:
        assert word not in text


# --- T4: a bundle at mixed rates; the sample's figures follow T3 -----------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_t4_mixed_rate_bundle_prints_one_line_per_rate(norwegian_pdf, pdf_pages, locale):
    """T4: the gift basket prints as one line per rate, labelled with the parent and the rate."""
    text = _text(pdf_pages, norwegian_pdf("invoice", locale))
    rows = {
        "nb_NO": [
            f"1 GAVEKURV Gavekurv (15{NBSP}%) BUNT 2 stk 375,00 15{NBSP}% 750,00",
            f"1 GAVEKURV Gavekurv (25{NBSP}%) BUNT 2 stk 625,00 25{NBSP}% 1{NBSP}250,00",
        ],
        # en_US: the narrower description wraps the bundle tag onto the next line
        "en_US": [
            "1 GAVEKURV Gavekurv (15%) \nBUNDLE\n2 ea 375.00 15% 750.00",
            "1 GAVEKURV Gavekurv (25%) \nBUNDLE\n2 ea 625.00 25% 1,250.00",
        ],
    }[locale]
    for row in rows:
        assert row in text, row


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("kind", ["invoice", "credit_note", "confirmation"])
def test_t3_t4_sample_figures_are_what_the_rules_give(kind):
    """T3/T4/B4: the sample's VAT groups, totals and bundle shares are the rules' results.

    The renderer prints them as given (D4); this checks the sample itself is a true example:
    per rate, taxable = sum of the net line amounts, VAT = taxable x rate / 100 rounded half
    up; document VAT = sum of the groups; total = net + VAT; the per-rate lines of the bundle
    sum to its 2 x 1,000.00.
    """
    view = norwegian_sample_view(kind)  # type: ignore[arg-type]
    taxable: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in view["lines"]:
        taxable[line["tax_rate"]] += line["amount"]  # type: ignore[index,operator]
    groups = {group["rate"]: group for group in view["vat"]}  # type: ignore[union-attr]
    assert set(groups) == set(taxable)
    for rate, group in groups.items():
        assert group["category"] == "S"
        assert group["taxable_amount"] == taxable[rate]
        assert group["vat_amount"] == _half_up(taxable[rate] * rate / 100)
    totals = view["totals"]
    assert totals is not None
    assert totals["net"] == sum(taxable.values())
    assert totals["vat"] == sum(group["vat_amount"] for group in groups.values())
    assert totals["total"] == totals["net"] + totals["vat"]
    if kind == "invoice":
        bundle = [line for line in view["lines"] if line["item"] == "GAVEKURV"]
        assert sum(line["amount"] for line in bundle) == Decimal("2000.00")  # type: ignore[misc]


def test_p2_p3_m6_sample_identifiers_pass_their_checks():
    """The sample's identifiers are valid (python-stdnum), as the pipeline's will be."""
    assert orgnr.is_valid("923609016") and mva.is_valid("NO923609016MVA")
    assert mva.format("923609016MVA") == NORWEGIAN_COMPANY["org_number"]
    assert orgnr.is_valid(str(NORWEGIAN_CUSTOMER["org_number"]))
    assert kontonr.format("12345678903") == NORWEGIAN_COMPANY["bank_account"]
    assert kontonr.is_valid(str(NORWEGIAN_COMPANY["bank_account"]))
    assert iban.is_valid(str(NORWEGIAN_COMPANY["iban"]))
    kid = norwegian_sample_view("invoice")["kid"]  # type: ignore[typeddict-item]
    assert kid == "000001" + luhn.calc_check_digit("000001") and luhn.is_valid(kid)


# --- D4: printed as given --------------------------------------------------------------------


def test_d4_vat_groups_and_totals_are_printed_as_given_not_recomputed(pdf_pages):
    """D4: off-by-a-cent figures in the view print as they are: the renderer adds nothing up."""
    view = norwegian_sample_view("invoice", "en_US")
    view["vat"][0]["vat_amount"] = Decimal("160.84")  # type: ignore[index]
    view["totals"] = {  # type: ignore[typeddict-item]
        "net": Decimal("3219.21"),
        "vat": Decimal("697.60"),
        "total": Decimal("3916.83"),
        "due": Decimal("1000.00"),  # e.g. after a prepayment: not total - anything
    }
    text = _text(pdf_pages, render_pdf(view, "en_US"))
    for row in [
        "15% 1,072.20 160.84",
        "Total excl. VAT NOK3,219.21",
        "VAT NOK697.60",
        "Total incl. VAT NOK3,916.83",
        "Amount due NOK1,000.00",
    ]:
        assert row in _lines(text), row
    assert "3,916.78" not in text and "697.58" not in text


# --- reverse charge, POS, foreign currency ---------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "notice", "group"),
    [
        ("nb_NO", "Omvendt avgiftsplikt", f"0{NBSP}% omvendt avgiftsplikt 500,00 0,00"),
        ("en_US", "Reverse charge", "0% reverse charge 500.00 0.00"),
    ],
)
def test_m8_reverse_charge_prints_its_notice_and_category(pdf_pages, locale, notice, group):
    """M8: a reverse-charge document prints "Omvendt avgiftsplikt" / "Reverse charge"."""
    view = norwegian_sample_view("invoice", locale)
    view["reverse_charge"] = True
    view["vat"] = [
        {
            "category": "AE",
            "rate": Decimal(0),
            "taxable_amount": Decimal("500.00"),
            "vat_amount": Decimal("0.00"),
        }
    ]
    text = _text(pdf_pages, render_pdf(view, locale))
    assert notice in _lines(text)
    assert group in _lines(text)


def test_m8_negative_control_no_reverse_charge_without_the_flag(norwegian_pdf, pdf_pages):
    for locale in LOCALES:
        text = _text(pdf_pages, norwegian_pdf("invoice", locale))
        assert "Omvendt avgiftsplikt" not in text and "Reverse charge" not in text


def test_t6_pos_receipt_with_gross_prices_prints_vat_per_rate(pdf_pages):
    """T6: a POS sale of 499.00 incl. 25 % VAT: the lines are gross, the VAT per rate printed."""
    view = norwegian_sample_view("invoice", "nb_NO")
    view["prices_include_vat"] = True
    view["lines"] = [
        {**view["lines"][3], "line": "1", "quantity": Decimal(1), "unit_price": Decimal("499.00"),
         "amount": Decimal("499.00")}
    ]  # fmt: skip
    view["vat"] = [
        {
            "category": "S",
            "rate": Decimal(25),
            "taxable_amount": Decimal("399.20"),
            "vat_amount": Decimal("99.80"),
        }
    ]
    view["totals"] = {"net": Decimal("399.20"), "vat": Decimal("99.80"), "total": Decimal("499.00")}
    for key in ("kid", "due_date", "payment_terms_days", "delivery_date"):
        del view[key]  # type: ignore[misc]
    view["company"] = {
        key: value for key, value in view["company"].items() if key not in ("bank_account", "iban")
    }  # type: ignore[assignment]
    text = _text(pdf_pages, render_pdf(view, "nb_NO"))
    headings = " ".join(text.split())  # the two-word headings wrap in their columns
    assert "ENHETSPRIS INKL. MVA." in headings and "BELØP INKL. MVA." in headings
    assert f"25{NBSP}% 399,20 99,80" in _lines(text)
    assert f"Sum inkl. mva. 499,00{NBSP}kr" in _lines(text)
    assert "BETALINGSINFORMASJON" not in text  # paid at the till: no payment block


def test_t7_vat_is_also_stated_in_the_company_currency(pdf_pages):
    """T7: a USD invoice states the exchange rate and the VAT per group and in total in NOK."""
    view = norwegian_sample_view("invoice", "en_US")
    view.update(currency="USD", company_currency="NOK", exchange_rate=Decimal("10.5"))
    view["vat"][0]["vat_amount_company"] = Decimal("1688.72")  # type: ignore[index]
    view["vat"][1]["vat_amount_company"] = Decimal("5635.88")  # type: ignore[index]
    view["totals"]["vat_company"] = Decimal("7324.60")  # type: ignore[index]
    text = _text(pdf_pages, render_pdf(view, "en_US"))
    assert "Exchange rate 1 USD = 10.5 NOK" in _lines(text)
    assert "Rate Taxable amount VAT VAT in NOK" in _lines(text)
    assert "15% 1,072.20 160.83 1,688.72" in _lines(text)
    assert "25% 2,147.00 536.75 5,635.88" in _lines(text)
    assert "VAT in NOK NOK7,324.60" in _lines(text)
    assert "Total incl. VAT $3,916.78" in _lines(text)


# --- a view without the new keys prints as before --------------------------------------------


NEW_BLOCK_WORDS = [
    "VAT BREAKDOWN",
    "Total excl. VAT",
    "Total incl. VAT",
    "Amount due",
    "Invoice date",
    "Due date",
    "Delivery date",
    "days net",  # the payment terms row ("Payment terms" is in the old sample's notes)
    "PAYMENT DETAILS",
    "Org. no.",
    "Foretaksregisteret",
    "Your reference",
    "Credits invoice",
    "Reverse charge",
    "IBAN",
]
NEW_MARKUP = [
    'class="summary"',
    'class="payment"',
    "with-rate",
    "col-rate",
    "doc-credits",
    "recipient-id",
    "company-org",
    "notice",
]


@pytest.mark.parametrize("kind", KINDS)
def test_view_without_the_new_keys_prints_none_of_the_new_blocks(sample_pdf, pdf_pages, kind):
    """Negative control: today's views (no VAT, no payment keys) print as before."""
    text = _text(pdf_pages, sample_pdf(kind, "en_US"))
    for word in NEW_BLOCK_WORDS:
        assert word not in text, word
    html = render_html(sample_view(kind))
    for markup in NEW_MARKUP:
        assert markup not in html, markup
    if kind != "packing_slip":
        assert re.search(r"^Net amount \$", text, re.M) and re.search(r"^Total \$", text, re.M)


def test_stripping_the_new_keys_removes_every_new_block(pdf_pages):
    """The new blocks come from the new keys only: the Norwegian invoice without them prints
    none of them (so the test above cannot pass because the blocks never print)."""
    full = norwegian_sample_view("invoice", "en_US")
    full_text = _text(pdf_pages, render_pdf(full, "en_US"))
    present = [word for word in NEW_BLOCK_WORDS if word in full_text]
    assert len(present) >= 11, present  # the full view prints the blocks...
    stripped = {key: value for key, value in full.items() if key not in NEW_DOCUMENT_KEYS}
    stripped["company"] = {k: v for k, v in full["company"].items() if k not in NEW_COMPANY_KEYS}
    stripped["customer"] = {k: v for k, v in full["customer"].items() if k not in NEW_CUSTOMER_KEYS}
    stripped["lines"] = [{k: v for k, v in ln.items() if k != "tax_rate"} for ln in full["lines"]]
    stripped["totals"] = {"net": full["totals"]["net"], "total": full["totals"]["total"]}  # type: ignore[index]
    text = _text(pdf_pages, render_pdf(stripped, "en_US"))
    for word in present:  # ...and without the keys, none of them
        assert word not in text, word
    assert "Net amount NOK3,219.20" in _lines(text) and "Total NOK3,916.78" in _lines(text)
    html = render_html(stripped)
    for markup in NEW_MARKUP:
        assert markup not in html, markup


# --- the fast path holds for the new templates -----------------------------------------------


def _plain_weasyprint_pdf(html: str) -> bytes:
    res = render._resources()
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=res.fetcher)
    return document.write_pdf(stylesheets=[res.css], font_config=res.font_config)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_new_blocks_take_the_fast_path_with_the_same_bytes(monkeypatch, kind, locale):
    """render.py's shortcuts (expat, short user-agent sheet) hold for the new blocks too.

    They are WeasyPrint 70's only (render.FAST_PATH); on another version render_pdf is the
    public API, and the bytes must match all the same.
    """
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    view = norwegian_sample_view(kind, locale)  # type: ignore[arg-type]
    html = render_html(view, locale)
    if render.FAST_PATH:
        document = render._DocumentHTML(html, render._resources())
        assert document.parsed_as_xml
        assert {element.tag for element in document.etree_element.iter()} <= USER_AGENT_ELEMENTS
    assert render_pdf(view, locale) == _plain_weasyprint_pdf(html)


@pytest.mark.parametrize("locale", LOCALES)
def test_norwegian_invoice_embeds_only_the_bundled_font(norwegian_pdf, embedded_fonts, locale):
    fonts = embedded_fonts(norwegian_pdf("invoice", locale))
    assert {re.sub(r"^/(?:[A-Z]{6}\+)?", "", name) for name in fonts} <= {
        "Docpost-Sans",
        "Docpost-Sans-Bold",
    }


def test_norwegian_invoice_is_one_a4_page(norwegian_pdf):
    reader = PdfReader(io.BytesIO(norwegian_pdf("invoice", "nb_NO")))
    assert len(reader.pages) == 1


def test_p3_p4_credited_invoice_and_its_date_print_in_the_locale(pdf_pages):
    """P3/P4: the credited invoice's date is formatted by babel like every other date."""
    view = norwegian_sample_view("credit_note", "nb_NO")
    view["credited_invoice"] = {"number": "INV-000042", "date": datetime.date(2024, 12, 31)}
    text = _text(pdf_pages, render_pdf(view, "nb_NO"))
    assert "Krediterer faktura INV-000042 av 31. desember 2024" in text
