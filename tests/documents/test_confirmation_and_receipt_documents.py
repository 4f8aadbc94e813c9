"""The confirmation and the POS receipt on paper (issue 15), on SQLite and PostgreSQL, through
the Norwegian example catalog, the PDF read back as text in nb_NO and en_US.

- The confirmation prints what it froze at confirmation (D6): each line's rate (T1), a bundle
  at mixed rates as one line per rate (T4), the VAT breakdown per rate, net total, VAT and
  total incl. VAT (T3), dated by its request or today in the company's zone (P1), and its
  printed totals are the journal's (D4). It is not an invoice: no amount due, due date, KID,
  bank account nor payment block. A USMF confirmation (no tax codes) prints as before.
- A POS sale's invoice prints as a receipt (T6): titled "Receipt" / "Kvittering", its lines
  gross, VAT per rate, and no amount due, due date, KID nor payment block: it was paid at the
  till. Its journal stays an invoice (S13). An ordinary invoice keeps its title and payment
  block (the negative control).
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import select

from docpost.pipeline import queries
from docpost.pipeline.documents import build_view, render_document
from docpost.pipeline.documents.store import view_and_locale
from docpost.reports.render import render_pdf
from docpost.schema import Document, Journal
from tests.conftest import Runner, norway_catalog
from tests.documents.pdfs import pdf_text, squash
from tests.documents.test_mixed_order_documents import mixed

__all__ = ["mixed"]  # the USMF fixture, used by the negative control below

D = Decimal
BASKET = "Gavekurv: fjellost og ostekniv"
# What only a bill prints (P2, P3): the payment block and the amount due, per locale.
PAYMENT_WORDS = {
    "nb_NO": ("Å betale", "Betalingsinformasjon", "Forfallsdato", "KID", "Kontonummer"),
    "en_US": ("Amount due", "Payment details", "Due date", "KID", "Bank account"),
}
BANK = ("1234.56.78903", "NO71 1234 5678 903")  # the company's account and IBAN as printed


def _journal(session: Any, number: str) -> Journal:
    return session.scalars(select(Journal).where(Journal.number == number)).one()


def _stored_text(run: Runner, number: str) -> str:
    """The journal's document rendered and stored as the render task does (in the customer's
    language, P4), read back as text."""
    with run.sessions() as session:
        journal = _journal(session, number)
        document_id = session.scalars(
            select(Document.id).where(
                Document.journal_id == journal.id, Document.kind == journal.kind
            )
        ).one()
    render_document(run.sessions, document_id)
    with run.sessions() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.status == "rendered", document
        return pdf_text(document.content or b"")


def _text(run: Runner, number: str, locale: str | None = None) -> str:
    with run.sessions() as session:
        view, chosen = view_and_locale(session, _journal(session, number), locale)
    return pdf_text(render_pdf(view, chosen))


def _view(run: Runner, number: str, locale: str | None = None) -> Any:
    with run.sessions() as session:
        return build_view(session, _journal(session, number), locale)


def _shown(run: Runner, number: str) -> dict[str, Any]:
    with run.sessions() as session:
        return queries.show_journal(session, number)


def _confirm(run: Runner, *lines: tuple[str, str, str], **request: Any) -> str:
    """SO-1 for NO-1001 of (item, quantity, unit price) lines, confirmed (with the request's
    document_date when given)."""
    run.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [
                {"line": n, "item": item, "quantity": quantity, "unit_price": price}
                for n, (item, quantity, price) in enumerate(lines, start=1)
            ],
        },
    )
    number: str = run.ok("confirm_order", {"order": "SO-1", **request})["journal"]
    return number


def _assert_no_payment(text: str, locale: str) -> None:
    """None of a bill's words; upper case, as captions print in capitals."""
    for word in (*PAYMENT_WORDS[locale], *BANK):
        assert word.upper() not in text.upper(), word


@pytest.fixture
def norway_en(run: Runner) -> Runner:
    """The Norwegian example with its customer NO-1001 reading English (M7 language)."""
    catalog = norway_catalog()
    for customer in catalog["customers"]:
        if customer["customer"] == "NO-1001":
            customer["language"] = "en_US"
    run.ok("upsert_catalog", catalog)
    return run


# --- the confirmation ---------------------------------------------------------------------------


def test_t3_t4_p1_d4_confirmation_prints_vat_nb_no(norway: Runner) -> None:
    """In nb_NO (NO-1001's language, P4): "Ordrebekreftelse" dated 1 February 2026 by its
    request (P1); T4: three gift baskets as one line per rate, 25 % first, 747.00 + 567.00 =
    1,314.00 (B4); T3: the VAT rows 747.00/186.75 and 567.00/85.05, "Sum eks. mva." 1,314.00,
    "Merverdiavgift" 271.80, "Sum inkl. mva." 1,585.80, the journal's figures (D4); and none
    of a bill: no "Å betale", due date, KID, account number nor payment block."""
    number = _confirm(norway, ("GAVE-1", "3", "438.00"), document_date="2026-02-01")
    text = _stored_text(norway, number)
    flat = squash(text)
    assert "Ordrebekreftelse" in text and "Faktura" not in text
    assert f"Dato {format_date(dt.date(2026, 2, 1), 'long', locale='nb_NO')}" in text
    assert squash(f"{BASKET} (25 %)") in flat and squash(f"{BASKET} (15 %)") in flat
    assert "3stk249,0025%747,00" in flat and "3stk189,0015%567,00" in flat
    assert "SPESIFIKASJON AV MERVERDIAVGIFT" in text.upper()  # a caption, in capitals
    assert "25%747,00186,75" in flat and "15%567,0085,05" in flat
    assert "Sumeks.mva.1314,00kr" in flat
    assert "Merverdiavgift271,80kr" in flat
    assert "Suminkl.mva.1585,80kr" in flat
    _assert_no_payment(text, "nb_NO")
    shown = _shown(norway, number)  # D4: the printed totals are the journal's
    assert (shown["net_total"], shown["vat_total"], shown["total"]) == (
        "1314.00",
        "271.80",
        "1585.80",
    )


def test_t3_t4_confirmation_prints_vat_en_us(norway_en: Runner) -> None:
    """The same confirmation in en_US (NO-1001 reading English): "Order confirmation", the
    basket per rate, the VAT breakdown and "Total excl. VAT" / "VAT" / "Total incl. VAT";
    no "Amount due", due date, KID, bank account nor payment details."""
    number = _confirm(norway_en, ("GAVE-1", "3", "438.00"))
    text = _stored_text(norway_en, number)
    flat = squash(text)
    assert "Order confirmation" in text and "Invoice" not in text
    assert squash(f"{BASKET} (25 %)") in flat and squash(f"{BASKET} (15 %)") in flat
    assert "3ea249.0025%747.00" in flat and "3ea189.0015%567.00" in flat
    assert "VAT BREAKDOWN" in text.upper()  # a caption, in capitals
    assert "25%747.00186.75" in flat and "15%567.0085.05" in flat
    for row in ("Total excl. VAT NOK1,314.00", "VAT NOK271.80", "Total incl. VAT NOK1,585.80"):
        assert squash(row) in flat, row
    _assert_no_payment(text, "en_US")


def test_d1_t4_a_bundle_at_one_rate_prints_as_its_parent_line(run: Runner) -> None:
    """T4/D1: a bundle whose components share one rate (a course with a knife, both code 3)
    prints as its parent line with that rate, not split nor named with the rate."""
    catalog = copy.deepcopy(norway_catalog())
    catalog["items"].append(
        {
            "item": "KURSPAKKE",
            "name": "Kurs med kniv",
            "unit": "ea",
            "base_sales_price": "4000.00",
            "bundle": True,
        }
    )
    catalog["boms"].append(
        {
            "bundle": "KURSPAKKE",
            "components": [
                {"item": "KURS-1", "quantity": "1"},
                {"item": "KNIV-1", "quantity": "1"},
            ],
        }
    )
    run.ok("upsert_catalog", catalog)
    number = _confirm(run, ("KURSPAKKE", "2", "4000.00"))
    view = _view(run, number, "nb_NO")
    assert [(ln["item"], ln["name"], ln["amount"], ln.get("tax_rate")) for ln in view["lines"]] == [
        ("KURSPAKKE", "Kurs med kniv", D("8000.00"), D("25.00"))
    ]
    assert view["lines"][0]["is_bundle"]
    assert [(g["rate"], g["taxable_amount"], g["vat_amount"]) for g in view["vat"]] == [
        (D("25.00"), D("8000.00"), D("2000.00"))
    ]
    assert "(25 %)" not in _text(run, number, "nb_NO")


def test_d6_the_confirmation_prints_the_rate_it_froze(norway: Runner) -> None:
    """D6: after the confirmation, the catalog gives code 31 a rate of 16 % from 2012; rendered
    afterwards, the confirmation still prints 15 % and 85.05 (nothing read from tax codes at
    render time). Negative control: a new confirmation of the order prints 16 % and 90.72."""
    number = _confirm(norway, ("GAVE-1", "3", "438.00"))
    catalog = copy.deepcopy(norway_catalog())
    next(c for c in catalog["tax_codes"] if c["code"] == "31")["rates"] = [
        {"rate": "16", "valid_from": "2012-01-01"}
    ]
    norway.ok("upsert_catalog", catalog)
    flat = squash(_stored_text(norway, number))
    assert "15%567,0085,05" in flat and "16%" not in flat
    again = norway.ok("confirm_order", {"order": "SO-1"})["journal"]
    assert "16%567,0090,72" in squash(_text(norway, again))


def test_a_usmf_confirmation_prints_as_before_without_vat(mixed: Runner) -> None:
    """Negative control: the USMF catalog has no tax codes; its confirmation (3 laptop bundles,
    phones, cables) carries no VAT, no rate column, and totals of the net amount only, the
    bundle as one parent line (D1), as before issue 15."""
    view = _view(mixed, "CONF-000001", "en_US")
    assert view["kind"] == "confirmation"
    assert not [key for key in ("vat", "due_date", "kid") if key in view]
    assert all("tax_rate" not in line for line in view["lines"])
    assert view["totals"] == {"net": D("7579.60"), "total": D("7579.60")}
    assert [ln["item"] for ln in view["lines"]] == ["LaptopBundle", "M0001", "CAB-01"]
    text = pdf_text(render_pdf(view, "en_US"))
    assert "VAT" not in text and "Order confirmation" in text


# --- the POS receipt (T6) -----------------------------------------------------------------------


def _pos_sale(run: Runner) -> str:
    """A knife at 499.00 and a cheese at 115.00, prices incl. VAT (T6), to the walk-in
    customer (no language: the locale asked for prints)."""
    number: str = run.ok(
        "post_pos_sale",
        {
            "lines": [
                {"item": "KNIV-1", "quantity": "1", "unit_price": "499.00"},
                {"item": "OST-1", "quantity": "1", "unit_price": "115.00"},
            ]
        },
        actor="pos-1",
    )["journal"]
    return number


@pytest.mark.parametrize(
    ("locale", "title", "not_title", "rows"),
    [
        (
            "en_US",
            "Receipt",
            "Invoice",
            ("25%399.2099.80", "15%100.0015.00", "Totalincl.VATNOK614.00"),
        ),
        (
            "nb_NO",
            "Kvittering",
            "Faktura",
            ("25%399,2099,80", "15%100,0015,00", "Suminkl.mva.614,00kr"),
        ),
    ],
)
def test_t6_a_pos_sale_prints_as_a_receipt(
    norway: Runner, locale: str, title: str, not_title: str, rows: tuple[str, ...]
) -> None:
    """T6: a POS sale's document is a receipt: titled "Receipt" / "Kvittering" (not "Invoice"
    / "Faktura"), gross lines, VAT per rate (499.00 at 25 %: 399.20 + 99.80; 115.00 at 15 %:
    100.00 + 15.00), total 614.00; paid at the till, so no amount due, due date, KID, bank
    account nor payment block. Its journal stays an invoice (S13)."""
    number = _pos_sale(norway)
    text = _text(norway, number, locale)
    flat = squash(text)
    assert title in text and not_title not in text
    for row in rows:
        assert row in flat, row
    _assert_no_payment(text, locale)
    assert _view(norway, number, locale)["kind"] == "receipt"
    assert _shown(norway, number)["kind"] == "invoice"


def test_an_invoice_keeps_its_title_and_payment_block(norway: Runner) -> None:
    """Negative control for the two above: an ordinary invoice of the confirmed basket is
    still "Faktura" with "Å betale", due date, KID and the account number, so their absence
    on the confirmation and the receipt is not a page that never prints them."""
    _confirm(norway, ("GAVE-1", "3", "438.00"))
    invoice = norway.ok("post_invoice", {"order": "SO-1"})["journal"]
    text = _text(norway, invoice)
    assert "Faktura" in text and "Kvittering" not in text and "Ordrebekreftelse" not in text
    for word in (*PAYMENT_WORDS["nb_NO"], *BANK):
        assert word.upper() in text.upper(), word
    assert _view(norway, invoice)["kind"] == "invoice"


def test_t6_a_pos_sale_without_tax_codes_is_a_receipt_too(usmf: Runner) -> None:
    """A USMF POS sale (no company, no tax codes) is paid at the till all the same: titled
    "Receipt", with no VAT (none was posted) and no payment block."""
    number = usmf.ok(
        "post_pos_sale",
        {"lines": [{"item": "S0021", "quantity": "2", "unit_price": "150.00"}]},
        actor="pos-1",
    )["journal"]
    text = _text(usmf, number, "en_US")
    assert "Receipt" in text and "Invoice" not in text
    assert "VAT" not in text and "Payment details" not in text
