"""Real invoices on paper (issue 15) on SQLite and PostgreSQL, through the Norwegian example
catalog: the invoice, credit note and POS receipt print what the journal froze (D6): the VAT
breakdown per rate, net total, VAT, total incl. VAT, amount due, due date, payment terms, KID,
bank account, the seller's "NO 923 609 016 MVA" (P3), each line's rate, the gift basket at 15 %
and 25 % as one line per rate (T4), Norwegian throughout in the customer's language (P4), and
printed totals that are the ledger's (D4). A USMF invoice (no company, no tax codes) prints as
before (the negative control).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline import queries
from docpost.pipeline.documents import UnprintableJournal, build_view, render_document
from docpost.pipeline.documents.snapshot import load_snapshot
from docpost.pipeline.documents.store import _customer_locale, company_view, view_and_locale
from docpost.pipeline.documents.view import document_view
from docpost.reports.render import render_pdf
from docpost.schema import Document, Journal
from tests.conftest import Runner, norway_catalog
from tests.documents.pdfs import pdf_text, squash
from tests.documents.test_mixed_order_documents import mixed

__all__ = ["mixed"]  # the USMF fixture, used by the negative control below

D = Decimal
BASKET = "Gavekurv: fjellost og ostekniv"


def _journal(session: Session, number: str) -> Journal:
    return session.scalars(select(Journal).where(Journal.number == number)).one()


def _stored_text(run: Runner, number: str) -> str:
    """The journal's document rendered and stored as the render task does (its locale chosen
    there: the customer's language, else the configured one), read back as text."""
    with run.sessions() as session:
        journal = _journal(session, number)
        document_id = session.scalars(
            select(Document.id).where(Document.journal_id == journal.id, Document.format == "pdf")
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


def _shown(run: Runner, number: str) -> dict[str, Any]:
    with run.sessions() as session:
        return queries.show_journal(session, number)


def _ledger_of(run: Runner, number: str) -> dict[str, Decimal]:
    """D4: the journal's ledger entries per account (debit positive), by queries.ledger."""
    with run.sessions() as session:
        entries = queries.ledger(session)["entries"]
    sums: dict[str, Decimal] = {}
    for e in entries:
        if e["journal"] == number:
            amount = D(e["debit"]) if e["debit"] else -D(e["credit"])
            sums[e["account"]] = sums.get(e["account"], D(0)) + amount
    return sums


def _order(run: Runner, *lines: tuple[str, str, str], **header: Any) -> None:
    """SO-1 for NO-1001 of (item, quantity, unit price) lines, confirmed."""
    items = [dict(zip(("item", "quantity", "unit_price"), line, strict=True)) for line in lines]
    run.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [{"line": n, **item} for n, item in enumerate(items, start=1)],
            **header,
        },
    )
    run.ok("confirm_order", {"order": "SO-1"})


def _sell_basket(run: Runner) -> tuple[str, str]:
    """Three gift baskets (cheese at 15 %, knife at 25 %: T4) with the buyer's reference,
    shipped on a packing slip and invoiced: (packing slip, invoice)."""
    _order(run, ("GAVE-1", "3", "438.00"), buyer_reference="PO 4711")
    slip = run.ok("post_packing_slip", {"order": "SO-1"}, actor="warehouse-1")["journal"]
    return slip, run.ok("post_invoice", {"order": "SO-1"})["journal"]


@pytest.fixture
def norway_en(run: Runner) -> Runner:
    """The Norwegian example with its customer NO-1001 reading English (M7 language)."""
    catalog = norway_catalog()
    for customer in catalog["customers"]:
        if customer["customer"] == "NO-1001":
            customer["language"] = "en_US"
    run.ok("upsert_catalog", catalog)
    return run


# --- the invoice (P3, T4, D4) ------------------------------------------------------------------


def test_p3_t4_d4_gift_basket_invoice_nb_no(norway: Runner) -> None:
    """P3 in nb_NO: seller "NO 923 609 016 MVA" and Foretaksregisteret, bank account
    1234.56.78903, invoice, delivery and due dates, 30 days' terms, KID, the buyer's
    reference; T4: the basket as one line per rate (25 % first) at 747.00 + 567.00 = 1,314.00
    (B4); the VAT rows 747.00/186.75 and 567.00/85.05; D4: net, VAT and total are the
    ledger's (1200 debit 1,585.80, revenue 1,314.00, VAT 271.80)."""
    slip, invoice = _sell_basket(norway)
    shown = _shown(norway, invoice)
    text = _stored_text(norway, invoice)  # NO-1001 reads nb_NO (P4)
    flat = squash(text)
    assert "Faktura" in text and "Organisasjonsnummer NO 923 609 016 MVA" in text
    assert "Foretaksregisteret" in text
    assert "1234.56.78903" in text and "NO71 1234 5678 903" in text
    assert "Deres referanse PO 4711" in text
    assert shown["kid"] and shown["kid"] in text and "KID" in text
    due = dt.date.fromisoformat(shown["due_date"])
    invoiced = dt.date.fromisoformat(shown["document_date"])
    delivered = dt.date.fromisoformat(_shown(norway, slip)["posting_date"])
    assert f"Forfallsdato {format_date(due, 'long', locale='nb_NO')}" in text
    assert f"Fakturadato {format_date(invoiced, 'long', locale='nb_NO')}" in text
    assert f"Leveringsdato {format_date(delivered, 'long', locale='nb_NO')}" in text
    assert "Betalingsbetingelser 30 dager netto" in text
    # T4: one line per (bundle, rate), labelled with the parent and the rate; P4: "stk".
    assert squash(f"{BASKET} (25 %)") in flat and squash(f"{BASKET} (15 %)") in flat
    assert "3stk249,0025%747,00" in flat and "3stk189,0015%567,00" in flat
    # The VAT breakdown per rate, then the totals (D4: the journal's, which the ledger got).
    assert "25%747,00186,75" in flat and "15%567,0085,05" in flat
    assert "Sumeks.mva.1314,00kr" in flat
    assert "Merverdiavgift271,80kr" in flat
    assert "Suminkl.mva.1585,80kr" in flat and "Åbetale1585,80kr" in flat
    ledger = _ledger_of(norway, invoice)
    assert ledger["1200"] == D(shown["total"]) == D("1585.80")
    assert -ledger["3000"] == D(shown["net_total"]) == D("1314.00")
    assert -(ledger["2700"] + ledger["2701"]) == D(shown["vat_total"]) == D("271.80")


def test_p3_p4_gift_basket_invoice_en_us(norway_en: Runner) -> None:
    """P3 in en_US (the customer's language, P4): the same invoice in English words and
    numbers, units "ea", "Org. no. NO 923 609 016 MVA"; D4 against the ledger."""
    _, invoice = _sell_basket(norway_en)
    shown = _shown(norway_en, invoice)
    text = _stored_text(norway_en, invoice)
    flat = squash(text)
    assert "Invoice" in text and "Org. no. NO 923 609 016 MVA" in text
    assert "1234.56.78903" in text and shown["kid"] in text
    due = dt.date.fromisoformat(shown["due_date"])
    assert f"Due date {format_date(due, 'long', locale='en_US')}" in text
    assert "Payment terms 30 days net" in text
    assert squash(f"{BASKET} (25%)") in flat and "3ea249.0025%747.00" in flat
    assert "25%747.00186.75" in flat and "15%567.0085.05" in flat
    for row in (
        "Total excl. VAT NOK1,314.00",
        "VAT NOK271.80",
        "Total incl. VAT NOK1,585.80",
        "Amount due NOK1,585.80",
    ):
        assert squash(row) in flat, row
    assert "Faktura" not in text and "stk" not in text
    assert _ledger_of(norway_en, invoice)["1200"] == D(shown["total"])


def test_t4_a_bundle_at_one_rate_prints_its_parent_line_with_the_rate(norway: Runner) -> None:
    """T4: a bundle whose components share one rate prints as its parent line (D1), with
    that rate; the gift basket (two rates) in the same view as two lines whose amounts sum to
    the bundle's (B4)."""
    catalog = norway_catalog()
    catalog["items"].append(
        {"item": "OSTEPAKKE", "name": "Ostepakke", "unit": "ea", "base_sales_price": "300.00",
         "bundle": True}
    )  # fmt: skip
    catalog["boms"].append(
        {"bundle": "OSTEPAKKE", "components": [{"item": "OST-1", "quantity": "2"}]}
    )
    norway.ok("upsert_catalog", catalog)
    _order(norway, ("OSTEPAKKE", "2", "300.00"), ("GAVE-1", "1", "438.00"))
    invoice = norway.ok("post_invoice", {"order": "SO-1"})["journal"]
    with norway.sessions() as session:
        view = build_view(session, _journal(session, invoice))
    cheese, *basket = view["lines"]
    assert (cheese["name"], cheese["amount"], cheese.get("tax_rate")) == (
        "Ostepakke",
        D("600.00"),
        D("15.00"),
    )
    assert [(ln["name"], ln.get("tax_rate")) for ln in basket] == [
        (f"{BASKET} (25\u00a0%)", D("25.00")),
        (f"{BASKET} (15\u00a0%)", D("15.00")),
    ]
    assert sum((ln["amount"] or D(0) for ln in basket), D(0)) == D("438.00")
    assert view["totals"] is not None
    assert view["totals"]["net"] == D(_shown(norway, invoice)["net_total"])


def test_t7_an_invoice_in_usd_states_its_vat_in_nok_too(norway: Runner) -> None:
    """T7: 100.00 USD at 25 % and 10.5 NOK per USD: the VAT 25.00 USD is also stated as
    262.50 NOK (the journal's company amount, D4), with the exchange rate."""
    _order(norway, ("KNIV-1", "1", "100.00"), currency="USD", exchange_rate="10.5")
    invoice = norway.ok("post_invoice", {"order": "SO-1"})["journal"]
    with norway.sessions() as session:
        view, locale = view_and_locale(session, _journal(session, invoice))
    assert (view.get("company_currency"), view.get("exchange_rate")) == ("NOK", D("10.5"))
    [group] = view.get("vat") or []
    assert (group["vat_amount"], group.get("vat_amount_company")) == (D("25.00"), D("262.50"))
    assert view["totals"] is not None and view["totals"].get("vat_company") == D("262.50")
    [shown] = _shown(norway, invoice)["vat"]
    assert D(shown["company_vat_amount"]) == D("262.50")
    assert "262,50" in pdf_text(render_pdf(view, locale))


# --- credit note and POS receipt (P3, T6) --------------------------------------------------------


def test_p3_credit_note_names_its_invoice_and_date(norway: Runner) -> None:
    """P3: a credit note names the invoice it credits and that invoice's date; it prints the
    invoice's VAT per rate again (T5) and the amount to be credited (D4: the ledger's)."""
    _, invoice = _sell_basket(norway)
    credit = norway.ok("post_credit_note", {"invoice": invoice})["journal"]
    invoiced = dt.date.fromisoformat(_shown(norway, invoice)["document_date"])
    text = _stored_text(norway, credit)
    flat = squash(text)
    assert "Kreditnota" in text
    assert (
        squash(f"Krediterer faktura {invoice} av {format_date(invoiced, 'long', locale='nb_NO')}")
        in flat
    )
    assert "25%747,00186,75" in flat and "15%567,0085,05" in flat
    assert "Tilgode1585,80kr" in flat
    shown = _shown(norway, credit)
    assert -_ledger_of(norway, credit)["1200"] == D(shown["total"]) == D("1585.80")


def test_t6_p3_pos_receipt_prints_vat_per_rate(norway: Runner) -> None:
    """T6: a POS receipt prints gross lines (said in the headings), VAT per rate (499.00 at
    25 %: 399.20 + 99.80; 115.00 at 15 %: 100.00 + 15.00), net 499.20, VAT 114.80 and total
    614.00, what cash (1900) got (D4); it is paid, so no amount due or KID."""
    pos = norway.ok(
        "post_pos_sale",
        {
            "lines": [
                {"item": "KNIV-1", "quantity": "1", "unit_price": "499.00"},
                {"item": "OST-1", "quantity": "1", "unit_price": "115.00"},
            ]
        },
        actor="pos-1",
    )["journal"]
    text = _text(norway, pos, "en_US")  # the walk-in customer has no language
    flat = squash(text)
    assert "INCL.VAT" in flat
    assert "25%399.2099.80" in flat and "15%100.0015.00" in flat
    for row in ("Total excl. VAT NOK499.20", "VAT NOK114.80", "Total incl. VAT NOK614.00"):
        assert squash(row) in flat, row
    assert "Amount due" not in text and "KID" not in text
    assert _ledger_of(norway, pos)["1900"] == D("614.00") == D(_shown(norway, pos)["total"])


# --- P4: the customer's language -----------------------------------------------------------------


def test_p4_the_customers_language_wins_over_the_configured_locale(norway: Runner) -> None:
    """P4/M7: NO-1001 reads nb_NO, so its invoice is Norwegian even when en_US is asked for
    (units "stk"); the walk-in customer has no language and follows the locale asked for
    (negative control: "ea" in en_US, "stk" in nb_NO)."""
    _, invoice = _sell_basket(norway)
    text = _text(norway, invoice, "en_US")
    assert "Faktura" in text and "Forfallsdato" in text and " stk " in text
    assert "Invoice date" not in text and " ea " not in text
    pos = norway.ok(
        "post_pos_sale",
        {"lines": [{"item": "KNIV-1", "quantity": "1", "unit_price": "499.00"}]},
        actor="pos-1",
    )["journal"]
    assert " 1 ea " in _text(norway, pos, "en_US")
    assert " 1 stk " in _text(norway, pos, "nb_NO")


# --- D6: what the journal froze --------------------------------------------------------------


def test_d6_prints_the_posted_due_date_and_terms_not_current_master_data(norway: Runner) -> None:
    """D6: after the invoice posts, NO-1001's terms change from 30 to 60 days; its document
    still prints the due date, terms and KID it was posted with."""
    _, invoice = _sell_basket(norway)
    catalog = norway_catalog()
    for customer in catalog["customers"]:
        customer["payment_terms_days"] = 60
    norway.ok("upsert_catalog", catalog)
    shown = _shown(norway, invoice)
    with norway.sessions() as session:
        view = build_view(session, _journal(session, invoice))
    assert view.get("payment_terms_days") == 30
    assert view.get("due_date") == dt.date.fromisoformat(shown["due_date"])
    assert view.get("kid") == shown["kid"]


def test_d4_a_journal_whose_figures_disagree_is_not_printed(norway: Runner) -> None:
    """D4: the view checks the journal against itself; a VAT breakdown that does not add up
    to the VAT total, or a total less VAT that is not the net amount, is a bug and never
    printed (the messages name the journal and D4)."""
    _, invoice = _sell_basket(norway)
    with norway.sessions() as session:
        snapshot = load_snapshot(session, _journal(session, invoice))
        company, country, currency = company_view(session, "nb_NO")
    assert snapshot.tax is not None
    assert document_view(snapshot, company, "nb_NO", country, currency)["totals"] is not None
    bad_vat = dataclasses.replace(
        snapshot, tax=dataclasses.replace(snapshot.tax, vat_total=D("271.81"))
    )
    with pytest.raises(UnprintableJournal, match=rf"{invoice}: the VAT breakdown .* 271.81 \(D4\)"):
        document_view(bad_vat, company, "nb_NO", country, currency)
    bad_total = dataclasses.replace(
        snapshot, tax=dataclasses.replace(snapshot.tax, total=D("1585.81"))
    )
    with pytest.raises(UnprintableJournal, match=rf"{invoice}: total 1585.81 less VAT .*\(D4\)"):
        document_view(bad_total, company, "nb_NO", country, currency)


# --- negative control: a catalog without company or tax codes ---------------------------------


def test_usmf_invoice_prints_as_before_without_vat(mixed: Runner) -> None:
    """The USMF example has no company and no tax codes: its invoice carries no VAT, due date,
    KID or payment block, and its totals are the net total only, as before issue 15."""
    with mixed.sessions() as session:
        view = build_view(session, _journal(session, "INV-000001"), "en_US")
    absent = ("vat", "due_date", "kid", "delivery_date", "payment_terms_days", "credited_invoice")
    assert not [key for key in absent if key in view]
    assert view["totals"] == {"net": D("7579.60"), "total": D("7579.60")}
    assert all("tax_rate" not in line for line in view["lines"])
    text = pdf_text(render_pdf(view, "en_US"))
    assert "VAT" not in text and "KID" not in text and "Due date" not in text


def test_p4_customer_language_forms_and_the_fallback() -> None:
    """P4/M7: the customer's language in either spelling picks the locale; none, or one this
    version has no labels for (the catalog refuses those on load), leaves the configured one."""
    assert _customer_locale("nb-NO") == _customer_locale("nb_NO") == "nb_NO"
    assert _customer_locale(None) is None and _customer_locale("") is None
    assert _customer_locale("de_DE") is None
