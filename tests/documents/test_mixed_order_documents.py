"""An order mixing a bundle, a serialized item with a blank registration and a plain item,
shipped, canceled (S10), shipped again and invoiced: its documents in both locales."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.documents import build_view, render_document
from docpost.reports.render import render_pdf
from docpost.schema import Document, Journal, LedgerEntry
from tests.conftest import Runner
from tests.documents.pdfs import NBSP, pdf_text, row_after, squash

CABLE = {"item": "CAB-01", "name": "USB-C cable", "unit": "ea", "base_sales_price": "19.90"}
HOSTILE_NAME = '<img src="file:///etc/passwd"></td>'


def _document_id(sessions: sessionmaker[Session], journal: str) -> int:
    with sessions() as session:
        document_id = session.scalar(
            select(Document.id)
            .join(Journal, Journal.id == Document.journal_id)
            .where(Journal.number == journal)
        )
    assert document_id is not None, journal
    return document_id


def _render(sessions: sessionmaker[Session], journal: str, locale: str) -> str:
    """The journal's document rendered in `locale` without storing it."""
    with sessions() as session:
        view = build_view(session, _document_id(sessions, journal), locale)
    return pdf_text(render_pdf(view, locale))


@pytest.fixture
def mixed(usmf: Runner) -> Runner:
    """SO-2001: 3 laptop bundles, 2 phones (one serial, one blank), 4 cables; shipped on
    PS-000001, canceled by PS-000002, shipped again on PS-000003 reusing the serials (S10),
    invoiced on INV-000001."""
    usmf.ok("upsert_catalog", {"items": [CABLE]})
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-2001",
            "customer": "US-004",
            "lines": [
                {"line": 1, "item": "LaptopBundle", "quantity": "3", "unit_price": "2300.00"},
                {"line": 2, "item": "M0001", "quantity": "2", "unit_price": "300.00"},
                {"line": 3, "item": "CAB-01", "quantity": "4", "unit_price": "19.90"},
            ],
        },
    )
    usmf.ok("confirm_order", {"order": "SO-2001"})
    shipped = usmf.ok(
        "post_packing_slip",
        {
            "order": "SO-2001",
            "lines": [
                {"line": 1, "item": "1000", "quantity": "3", "serials": ["SN-1", "SN-2", "SN-3"]},
                {"line": 1, "item": "Support", "quantity": "3"},
                {"line": 1, "item": "S0021", "quantity": "3"},
                {"line": 2, "quantity": "2", "serials": ["MP-7"], "not_readable": 1},
                {"line": 3, "quantity": "4"},
            ],
        },
        actor="warehouse-1",
    )
    assert shipped["journal"] == "PS-000001"
    canceled = usmf.ok("cancel_packing_slip", {"packing_slip": "PS-000001"})
    assert canceled["journal"] == "PS-000002"
    again = usmf.ok("post_packing_slip", {"order": "SO-2001"}, actor="warehouse-1")
    assert again["journal"] == "PS-000003"
    invoiced = usmf.ok("post_invoice", {"order": "SO-2001"})
    assert invoiced["journal"] == "INV-000001"
    return usmf


def test_d1_d5_invoice_en_us(mixed: Runner) -> None:
    text = _render(mixed.sessions, "INV-000001", "en_US")
    bundle = "1 LaptopBundle Laptop bundle BUNDLE 3 ea 2,300.00 6,900.00"
    assert bundle in text
    assert row_after(text, bundle) == "Serial numbers: SN-1, SN-2, SN-3"
    phones = "2 M0001 Mobile phone 2 ea 300.00 600.00"
    assert phones in text
    assert row_after(text, phones) == "Serial numbers: MP-7, not readable"
    cables = "3 CAB-01 USB-C cable 4 ea 19.90 79.60"
    assert cables in text
    assert not row_after(text, cables).startswith("Serial numbers")
    assert text.index(bundle) < text.index(phones) < text.index(cables)  # as on the order
    assert "Surface Pro" not in text and "Docking station" not in text
    assert "Support, 12 months" not in text
    assert "Packing slip PS-000003" in text
    assert "PS-000001" not in text  # the canceled one was not invoiced
    assert "Total $7,579.60" in text


def test_d1_d5_invoice_nb_no_stored(mixed: Runner) -> None:
    """The stored PDF in nb_NO: Norwegian words, babel's number format (no-break space)."""
    document_id = _document_id(mixed.sessions, "INV-000001")
    render_document(mixed.sessions, document_id, "nb_NO")
    with mixed.sessions() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.status == "rendered"
        text = pdf_text(document.content or b"")
        receivable = session.scalar(
            select(LedgerEntry.amount).where(
                LedgerEntry.journal_id == document.journal_id, LedgerEntry.account == "1200"
            )
        )
    assert "Faktura" in text
    assert f"1 LaptopBundle Laptop bundle BUNT 3 stk 2{NBSP}300,00 6{NBSP}900,00" in text
    assert row_after(text, "2 M0001 Mobile phone") == "Serienumre: MP-7, Ikke lesbart"
    assert "Følgeseddel PS-000003" in text
    # D4: the printed total is what the ledger got.
    assert receivable == Decimal("7579.60")
    assert f"Totalt 7{NBSP}579,60{NBSP}USD" in text
    assert "6,900.00" not in text and "not readable" not in text


def test_d2_packing_slip_nb_no(mixed: Runner) -> None:
    text = _render(mixed.sessions, "PS-000003", "nb_NO")
    assert "Følgeseddel" in text
    # P4: nb_NO prints "stk" for the unit "ea"
    assert row_after(text, "4 1000 Surface Pro 128 GB 3 stk") == "Serienumre: SN-1, SN-2, SN-3"
    assert row_after(text, "2 M0001 Mobile phone 2 stk") == "Serienumre: MP-7, Ikke lesbart"
    assert "3 CAB-01 USB-C cable 4 stk" in text
    assert "Laptop bundle" not in text


def test_d2_packing_slip_cancellation_references_the_one_it_cancels(mixed: Runner) -> None:
    """S10: the reversal prints as a packing slip with negative quantities, its serials, and
    a reference to the canceled packing slip; never the bundle parent (D2)."""
    text = _render(mixed.sessions, "PS-000002", "en_US")
    assert "Packing slip" in text
    assert "Packing slip PS-000001" in text
    assert "Cancels packing slip PS-000001." in text
    assert row_after(text, "4 1000 Surface Pro 128 GB -3 ea") == "Serial numbers: SN-1, SN-2, SN-3"
    assert "5 Support Support, 12 months -3 ea" in text
    assert row_after(text, "2 M0001 Mobile phone -2 ea") == "Serial numbers: MP-7, not readable"
    assert "3 CAB-01 USB-C cable -4 ea" in text
    assert "Laptop bundle" not in text
    nb = _render(mixed.sessions, "PS-000002", "nb_NO")
    assert "Annullerer følgeseddel PS-000001." in nb
    assert "Følgeseddel PS-000001" in nb


def test_d1_confirmation_nb_no(mixed: Runner) -> None:
    text = _render(mixed.sessions, "CONF-000001", "nb_NO")
    assert "Ordrebekreftelse" in text
    assert f"1 LaptopBundle Laptop bundle BUNT 3 stk 2{NBSP}300,00 6{NBSP}900,00" in text
    assert "2 M0001 Mobile phone 2 stk 300,00 600,00" in text
    assert "Surface Pro" not in text
    assert f"Totalt 7{NBSP}579,60{NBSP}USD" in text


def test_hostile_customer_name_prints_as_text(usmf: Runner) -> None:
    """Customer-controlled text reaches the PDF as text, end to end: no markup, no file."""
    usmf.ok(
        "upsert_catalog",
        {
            "customers": [
                {
                    "customer": "EVIL-1",
                    "name": HOSTILE_NAME,
                    "currency": "USD",
                    "address": "<script>alert(1)</script> & Co",
                }
            ]
        },
    )
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-EVIL",
            "customer": "EVIL-1",
            "lines": [{"line": 1, "item": "S0021", "quantity": "1", "unit_price": "150.00"}],
        },
    )
    usmf.ok("confirm_order", {"order": "SO-EVIL"})
    document_id = _document_id(usmf.sessions, "CONF-000001")
    render_document(usmf.sessions, document_id, "en_US")
    with usmf.sessions() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.status == "rendered"
        text = pdf_text(document.content or b"")
    assert squash(HOSTILE_NAME) in squash(text)
    assert squash("<script>alert(1)</script> & Co") in squash(text)
    assert "root:" not in text


def test_d6_each_packing_slip_revision_shows_the_serials_it_was_made_for(usmf: Runner) -> None:
    """D6/S9/S10: a blank corrected on PS-000001 (revision 2), which is then canceled
    (PS-000002) and shipped again reusing the registration (PS-000003). Rendered only now,
    each revision still shows its own serials: the correction made before PS-000003 was
    posted is part of what PS-000003 posted."""
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-5001",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "M0001", "quantity": "1", "unit_price": "300.00"}],
        },
    )
    usmf.ok("confirm_order", {"order": "SO-5001"})
    usmf.ok(
        "post_packing_slip",
        {"order": "SO-5001", "lines": [{"line": 1, "quantity": "1", "not_readable": 1}]},
        actor="warehouse-1",
    )
    usmf.ok(
        "change_serial",
        {"order": "SO-5001", "line": 1, "old": None, "new": "MP-900"},
        actor="supervisor",
    )
    usmf.ok("cancel_packing_slip", {"packing_slip": "PS-000001"})
    usmf.ok("post_packing_slip", {"order": "SO-5001"}, actor="warehouse-1")

    with usmf.sessions() as session:
        documents = session.execute(
            select(Journal.number, Document.revision, Document.id)
            .join(Journal, Journal.id == Document.journal_id)
            .where(Journal.kind == "packing_slip")
            .order_by(Document.id)
        ).all()
        serials = {
            (number, revision): [
                line["serials"] for line in build_view(session, document_id, "en_US")["lines"]
            ]
            for number, revision, document_id in documents
        }
    assert serials == {
        ("PS-000001", 1): [[None]],
        ("PS-000001", 2): [["MP-900"]],
        ("PS-000002", 1): [["MP-900"]],
        ("PS-000003", 1): [["MP-900"]],
    }
