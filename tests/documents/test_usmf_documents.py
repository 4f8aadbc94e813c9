"""The USMF example's documents, rendered once per database and read back (D1-D6, S14).

Rendering every document of the example takes a second or two, so it is done once per
database (a module-scoped fixture) and the tests below only read the stored PDFs.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.db import make_engine
from docpost.pipeline.documents import build_view, export_documents, render_pending
from docpost.schema import Document, Journal, LedgerEntry
from tests.conftest import Runner, reset_postgres, usmf_catalog
from tests.documents.pdfs import PLAIN_TYPES, leaves, pdf_text, printed_total, row_after
from tests.services.test_usmf_example import run_all

ACCOUNTS_RECEIVABLE = "1200"
COMPONENT_NAMES = ("Surface Pro 128 GB", "Support, 12 months", "Docking station")


@dataclass
class UsmfDocuments:
    sessions: sessionmaker[Session]
    rendered: int
    texts: dict[str, str]  # filename -> extracted text

    def text(self, filename: str) -> str:
        return self.texts[filename]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def usmf_docs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UsmfDocuments]:
    """The USMF example run on a fresh database and every document rendered (en_US)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("usmf-documents") / "docpost.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_base_url")
    engine = make_engine(url)
    if request.param == "postgres":
        reset_postgres(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    run = Runner(sessions)
    run.ok("upsert_catalog", usmf_catalog())
    outcomes = run_all(run)
    assert {o["status"] for o in outcomes.values()} == {"succeeded"}, outcomes
    rendered = render_pending(sessions, "en_US")
    with sessions() as session:
        texts = {
            d.filename: pdf_text(d.content or b"")
            for d in session.scalars(select(Document).order_by(Document.id))
        }
    yield UsmfDocuments(sessions, rendered, texts)
    engine.dispose()


def test_every_document_is_rendered_once_with_its_checksum(usmf_docs: UsmfDocuments) -> None:
    """D6: each posted journal has its PDF stored with sha256 and size; a second pass renders
    nothing."""
    with usmf_docs.sessions() as session:
        documents = session.scalars(select(Document).order_by(Document.id)).all()
        assert [d.filename for d in documents] == [
            "CONF-000001.pdf",
            "CONF-000001-picking.pdf",  # D2
            "PS-000001.pdf",
            "INV-000001.pdf",
            "PS-000002.pdf",
            "CONF-000002.pdf",
            "CONF-000002-picking.pdf",
            "PS-000003.pdf",
            "PS-000003-r2.pdf",
            "INV-000002.pdf",
            "INV-000003.pdf",
            "CN-000001.pdf",
            "PS-000004.pdf",
            "INV-000004.pdf",
        ]
        for document in documents:
            assert document.status == "rendered", (document.filename, document.error)
            assert document.content is not None and document.content.startswith(b"%PDF-")
            assert document.sha256 == hashlib.sha256(document.content).hexdigest()
            assert document.size == len(document.content)
            assert document.rendered_at is not None
    assert usmf_docs.rendered == len(documents)
    assert render_pending(usmf_docs.sessions) == 0
    for filename, text in usmf_docs.texts.items():
        assert "None" not in text, filename  # D5: a blank serial is never printed as None


def test_d1_confirmation_prints_the_bundle_parent_never_its_components(
    usmf_docs: UsmfDocuments,
) -> None:
    text = usmf_docs.text("CONF-000001.pdf")
    assert "Order confirmation" in text
    assert "1 LaptopBundle Laptop bundle BUNDLE 5 ea 2,300.00 11,500.00" in text
    assert "Total $11,500.00" in text
    for name in COMPONENT_NAMES:
        assert name not in text
    assert "Surface Pro" not in text


def test_d1_confirmation_of_a_plain_line_prints_its_discount(usmf_docs: UsmfDocuments) -> None:
    text = usmf_docs.text("CONF-000002.pdf")
    assert "1 M0001 Mobile phone 3 ea 300.00 10% 810.00" in text
    assert "Total $810.00" in text


def test_d2_s14_packing_slip_prints_the_components_and_serials_never_the_parent(
    usmf_docs: UsmfDocuments,
) -> None:
    text = usmf_docs.text("PS-000001.pdf")
    assert "Packing slip" in text
    assert "2 1000 Surface Pro 128 GB 3 ea" in text
    assert row_after(text, "2 1000 Surface Pro 128 GB") == (
        "Serial numbers: SP-0001, SP-0002, SP-0003"
    )
    assert "3 Support Support, 12 months 3 ea" in text
    assert "4 S0021 Docking station 3 ea" in text
    assert "Laptop bundle" not in text
    assert "LaptopBundle" not in text
    # Internal document: no prices at all.
    assert "1,713.73" not in text
    assert "$" not in text


def test_d1_d5_invoice_prints_one_bundle_line_with_the_component_serials(
    usmf_docs: UsmfDocuments,
) -> None:
    text = usmf_docs.text("INV-000001.pdf")
    assert "Invoice" in text
    row = "1 LaptopBundle Laptop bundle BUNDLE 3 ea 2,300.00 6,900.00"
    assert row in text
    assert row_after(text, row) == "Serial numbers: SP-0001, SP-0002, SP-0003"
    assert "Packing slip PS-000001" in text  # the packing slip it invoices
    for name in COMPONENT_NAMES:
        assert name not in text
    assert "1,713.73" not in text  # no component price either


def test_d1_d5_bulk_invoice_of_the_rest_of_the_bundles(usmf_docs: UsmfDocuments) -> None:
    text = usmf_docs.text("INV-000002.pdf")
    row = "1 LaptopBundle Laptop bundle BUNDLE 2 ea 2,300.00 4,600.00"
    assert row in text
    assert row_after(text, row) == "Serial numbers: SP-0004, SP-0005"
    assert "Packing slip PS-000002" in text
    assert "Surface Pro" not in text


def test_d6_serial_correction_adds_a_revision_and_keeps_the_old_one(
    usmf_docs: UsmfDocuments,
) -> None:
    """D6/S9: revision 1 shows the blank as posted, even though it was rendered after the
    correction; revision 2 shows MP-102."""
    first = usmf_docs.text("PS-000003.pdf")
    second = usmf_docs.text("PS-000003-r2.pdf")
    assert row_after(first, "1 M0001 Mobile phone") == (
        "Serial numbers: MP-100, MP-101, not readable"
    )
    assert "MP-102" not in first
    assert "Revision" not in first
    assert row_after(second, "1 M0001 Mobile phone") == "Serial numbers: MP-100, MP-101, MP-102"
    assert "not readable" not in second
    assert "Revision 2" in second
    assert "Serial numbers corrected: revision 2 replaces revision 1." in second
    # The invoice made after the correction prints the corrected serial.
    invoice = usmf_docs.text("INV-000003.pdf")
    assert row_after(invoice, "1 M0001 Mobile phone") == "Serial numbers: MP-100, MP-101, MP-102"
    assert "Packing slip PS-000003" in invoice


def test_d3_credit_note_prints_the_component_lines_it_credits(usmf_docs: UsmfDocuments) -> None:
    text = usmf_docs.text("CN-000001.pdf")
    assert "Credit note" in text
    assert "2 1000 Surface Pro 128 GB 1 ea 1,713.73 1,713.73" in text
    assert row_after(text, "2 1000 Surface Pro 128 GB") == "Serial numbers: SP-0002"
    assert "3 Support Support, 12 months 1 ea 450.98 450.98" in text
    assert "4 S0021 Docking station 1 ea 135.29 135.29" in text
    assert "Laptop bundle" not in text
    assert "SP-0001" not in text and "SP-0003" not in text
    assert "Invoice INV-000001" in text  # the reference in the header
    assert "Credit for invoice INV-000001." in text
    assert "Total $2,300.00" in text


def test_s13_pos_sale_prints_packing_slip_and_invoice(usmf_docs: UsmfDocuments) -> None:
    invoice = usmf_docs.text("INV-000004.pdf")
    assert "Walk-in customer" in invoice
    assert "Sales order POS-000001" in invoice
    assert row_after(invoice, "1 M0001 Mobile phone 1 ea 299.00 299.00") == (
        "Serial numbers: MP-200"
    )
    assert "Packing slip PS-000004" in invoice
    packing_slip = usmf_docs.text("PS-000004.pdf")
    assert row_after(packing_slip, "1 M0001 Mobile phone 1 ea") == "Serial numbers: MP-200"


def test_d4_printed_total_equals_the_receivable_posted_for_the_journal(
    usmf_docs: UsmfDocuments,
) -> None:
    """D4: for every invoice and credit note, the printed total is the AR ledger amount."""
    checked = 0
    with usmf_docs.sessions() as session:
        for journal in session.scalars(
            select(Journal).where(Journal.kind.in_(["invoice", "credit_note"]))
        ):
            receivable = sum(
                session.scalars(
                    select(LedgerEntry.amount).where(
                        LedgerEntry.journal_id == journal.id,
                        LedgerEntry.account == ACCOUNTS_RECEIVABLE,
                    )
                ),
                Decimal(0),
            )
            printed = printed_total(usmf_docs.text(f"{journal.number}.pdf"))
            sign = 1 if journal.kind == "invoice" else -1
            assert sign * printed == receivable, journal.number
            checked += 1
    assert checked == 5  # INV-000001..4 and CN-000001


def test_view_models_hold_plain_data_only(usmf_docs: UsmfDocuments) -> None:
    with usmf_docs.sessions() as session:
        for document in session.scalars(select(Document)):
            view = build_view(session, document, "en_US")
            for where, value in leaves(view):
                assert isinstance(value, PLAIN_TYPES), (document.filename, where, value)


def test_export_writes_every_revision_under_its_filename(
    usmf_docs: UsmfDocuments, tmp_path: Path
) -> None:
    written = export_documents(usmf_docs.sessions, tmp_path / "documents")
    assert sorted(p.name for p in written) == sorted(usmf_docs.texts)
    with usmf_docs.sessions() as session:
        checksums = dict(session.execute(select(Document.filename, Document.sha256)).all())
    for path in written:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == checksums[path.name]
