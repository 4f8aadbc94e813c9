"""E4 wired (DOMAIN.md E4, E1, D6; setting DOCPOST_ARCHIVE_PDF): with the setting on, the render
task writes an invoice's or credit note's PDF as PDF/A-3b with its e-invoice attached, under the
e-invoice's stored filename, and the attached bytes are the stored e-invoice's (the generator
is deterministic). Read back with pypdf. Journals without an e-invoice row, and every journal
with the setting off, get the plain PDF (the negative controls). With DOCPOST_EINVOICE_RULES
set, an e-invoice that fails the official rules is not attached. SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import logging

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from docpost.pipeline.config import get_settings
from docpost.pipeline.documents import render_document, render_pending
from docpost.schema import Document, Journal
from tests.conftest import Runner
from tests.einvoice.test_stored_einvoices import (  # noqa: F401
    changed_payable_amount,
    checked_env,
    einvoice_row,
    invoice,
    rows,
    settings_env,
)

ARCHIVE_PDF_SETTING = "DOCPOST_ARCHIVE_PDF"


@pytest.fixture
def archive_env(settings_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:  # noqa: F811
    """DOCPOST_ARCHIVE_PDF on, DOCPOST_EINVOICE_RULES unset (a test sets it)."""
    settings_env.setenv(ARCHIVE_PDF_SETTING, "true")
    get_settings.cache_clear()
    return settings_env


def pdf_row(run: Runner, number: str) -> Document:
    (row,) = [d for d in rows(run.sessions, number) if d.format == "pdf"]
    assert row.status == "rendered", row.error
    assert row.content is not None
    return row


def attachments(pdf: bytes) -> dict[str, list[bytes]]:
    return dict(PdfReader(io.BytesIO(pdf)).attachments)


def pdfa_part(pdf: bytes) -> str | None:
    """The XMP metadata's pdfaid:part ("3" for PDF/A-3), None without metadata."""
    catalog = PdfReader(io.BytesIO(pdf)).trailer["/Root"].get_object()
    if "/Metadata" not in catalog:
        return None
    packet = catalog["/Metadata"].get_object().get_data().decode("utf-8", "replace")
    for marker in ('pdfaid:part="', "<pdfaid:part>"):
        if marker in packet:
            return packet.split(marker, 1)[1][0]
    return None


# --- the setting ------------------------------------------------------------------------------


def test_e4_archive_pdf_setting_is_off_unless_set(locale_env: pytest.MonkeyPatch) -> None:
    """DOCPOST_ARCHIVE_PDF: off by default (plain PDFs, as before); "true"/"1" turn it on."""
    locale_env.delenv(ARCHIVE_PDF_SETTING, raising=False)
    get_settings.cache_clear()
    assert get_settings().archive_pdf is False
    for value in ("true", "1"):
        locale_env.setenv(ARCHIVE_PDF_SETTING, value)
        get_settings.cache_clear()
        assert get_settings().archive_pdf is True


# --- rendering (E4) ---------------------------------------------------------------------------


def test_e4_invoice_and_credit_note_pdfs_attach_their_stored_einvoice(
    shop: Runner,
    archive_env: pytest.MonkeyPatch,
) -> None:
    """E4 with the setting on: the invoice's and credit note's PDFs are PDF/A-3b (pdfaid part
    3) with one attachment, named as the e-invoice row (INV-000001.xml, CN-000001.xml), whose
    bytes are exactly the stored e-invoice's. The confirmation's PDF (no e-invoice) stays a
    plain PDF: the negative control that the checks can fail."""
    invoice(shop)
    shop.ok("post_credit_note", {"invoice": "INV-000001"})
    render_pending(shop.sessions)
    for number in ("INV-000001", "CN-000001"):
        stored = einvoice_row(shop.sessions, number)
        assert stored.status == "rendered" and stored.content
        pdf = pdf_row(shop, number).content or b""
        assert attachments(pdf) == {stored.filename: [stored.content]}, number
        assert stored.filename == f"{number}.xml"
        assert pdfa_part(pdf) == "3"
    confirmation = [d for d in rows(shop.sessions, "CONF-000001") if d.format == "pdf"]
    assert confirmation and all(d.status == "rendered" and d.content for d in confirmation)
    for document in confirmation:
        assert attachments(document.content or b"") == {}, document.filename
        assert pdfa_part(document.content or b"") is None, document.filename


def test_e4_setting_off_renders_plain_pdfs(
    shop: Runner,
    settings_env: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    """Negative control: without DOCPOST_ARCHIVE_PDF the invoice's PDF has no attachment and
    no PDF/A metadata, though its e-invoice is stored beside it."""
    invoice(shop)
    render_pending(shop.sessions)
    assert einvoice_row(shop.sessions, "INV-000001").status == "rendered"
    pdf = pdf_row(shop, "INV-000001").content or b""
    assert attachments(pdf) == {} and pdfa_part(pdf) is None


def test_e4_a_journal_without_einvoice_gets_the_plain_pdf(
    shop: Runner,
    archive_env: pytest.MonkeyPatch,
) -> None:
    """E1 decides which journals have an e-invoice to attach, as posting recorded it: the
    consumer's invoice (no electronic address, no e-invoice row) gets the plain PDF."""
    invoice(shop, customer="NO-1002")
    render_pending(shop.sessions)
    assert [d.format for d in rows(shop.sessions, "INV-000001")] == ["pdf"]
    pdf = pdf_row(shop, "INV-000001").content or b""
    assert attachments(pdf) == {} and pdfa_part(pdf) is None


def test_e4_an_einvoice_failing_the_rules_is_not_attached(
    shop: Runner,
    checked_env: pytest.MonkeyPatch,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """E4 with DOCPOST_EINVOICE_RULES: an e-invoice with a fatal finding (PayableAmount changed:
    BR-CO-16) is stored `invalid` and not attached to the archive PDF, which is rendered plain
    with a warning naming the rule; the same setting with a valid e-invoice attaches it (the
    credit note, rendered after the fault is removed)."""
    checked_env.setenv(ARCHIVE_PDF_SETTING, "1")
    get_settings.cache_clear()
    invoice(shop)
    with pytest.MonkeyPatch.context() as fault:
        changed_payable_amount(fault)
        with caplog.at_level(logging.WARNING, logger="docpost.pipeline.documents.store"):
            render_pending(shop.sessions)
    assert einvoice_row(shop.sessions, "INV-000001").status == "invalid"
    pdf = pdf_row(shop, "INV-000001").content or b""
    assert attachments(pdf) == {} and pdfa_part(pdf) is None
    assert (
        "INV-000001: PDF rendered without its e-invoice attached: the e-invoice fails the "
        "official rules (BR-CO-16)"
    ) in caplog.messages

    shop.ok("post_credit_note", {"invoice": "INV-000001"})
    render_pending(shop.sessions)
    stored = einvoice_row(shop.sessions, "CN-000001")
    assert stored.status == "rendered" and stored.findings is not None
    assert attachments(pdf_row(shop, "CN-000001").content or b"") == {
        "CN-000001.xml": [stored.content]
    }


def test_e4_an_einvoice_the_generator_refuses_is_not_attached(
    shop: Runner,
    archive_env: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An e-invoice row the generator refuses (forced on the consumer's invoice, which posting
    gives none) fails on its own; the PDF beside it is still rendered, plain, with a warning
    giving the generator's reason."""
    invoice(shop, customer="NO-1002")
    with shop.sessions() as session, session.begin():
        journal = session.scalars(select(Journal).where(Journal.number == "INV-000001")).one()
        session.add(
            Document(
                journal_id=journal.id, kind="invoice", format="ubl", revision=1,
                filename="INV-000001.xml",
            )
        )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="docpost.pipeline.documents.store"):
        render_pending(shop.sessions)
    assert einvoice_row(shop.sessions, "INV-000001").status == "failed"
    pdf = pdf_row(shop, "INV-000001").content or b""
    assert attachments(pdf) == {}
    assert (
        "INV-000001: PDF rendered without its e-invoice attached: INV-000001: customer "
        "NO-1002 has no Peppol endpoint nor an organisation number to address an e-invoice to "
        "(PEPPOL-EN16931-R010)"
    ) in caplog.messages


def test_d6_a_rendered_pdf_is_not_rendered_again_when_the_setting_changes(
    shop: Runner,
    settings_env: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    """D6: DOCPOST_ARCHIVE_PDF changes new renders only: a PDF rendered plain keeps its bytes
    when the setting is turned on and its render task runs again."""
    invoice(shop)
    render_pending(shop.sessions)
    before = pdf_row(shop, "INV-000001")
    settings_env.setenv(ARCHIVE_PDF_SETTING, "true")
    get_settings.cache_clear()
    render_document(shop.sessions, before.id)
    after = pdf_row(shop, "INV-000001")
    assert (after.content, after.sha256) == (before.content, before.sha256)
    assert attachments(after.content or b"") == {}
