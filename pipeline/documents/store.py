"""Rendering posted journals to PDF and storing them (D6), and reading them back.

A document row is created ``pending`` by the posting transaction. ``render_document`` fills it
in three steps so that no database transaction stays open while WeasyPrint works: read the
journal into a view model (short transaction), render (no transaction), store the bytes
(short transaction, the row locked). The posting itself is never touched: a render that fails
only counts an attempt on the document row.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline import metrics
from docpost.pipeline.config import get_settings
from docpost.pipeline.documents import picking_list
from docpost.pipeline.documents import view as views
from docpost.pipeline.documents.einvoice_render import Rendered, render_einvoice
from docpost.pipeline.documents.einvoice_view import NoEInvoice
from docpost.pipeline.documents.snapshot import (
    CompanySnapshot,
    JournalSnapshot,
    latest_revision,
    load_company,
    load_snapshot,
)
from docpost.pipeline.documents.view import document_view
from docpost.pipeline.rules.einvoice_recipients import EINVOICE_KINDS
from docpost.reports.einvoice.ubl import NotAnEInvoice
from docpost.reports.labels import normalize_locale
from docpost.reports.viewmodel import CompanyView, DocumentView
from docpost.schema import Document, Journal
from docpost.schema.documents import MEDIA_TYPES, PICKING_LIST
from docpost.schema.types import utcnow

log = logging.getLogger(__name__)

ERROR_TEXT_LIMIT = 2000
# A journal that can have no e-invoice (E1): failing again would not help.
NO_EINVOICE = (NoEInvoice, NotAnEInvoice)


class DocumentNotFound(LookupError):
    pass


def company_view(session: Session, locale: str) -> tuple[CompanyView, str | None, str | None]:
    """The seller (M6), its country and currency: the catalog's company when there is one,
    else the DOCPOST_COMPANY_NAME/ADDRESS settings (the fallback for catalogs without a
    company, such as the USMF example; no country or currency then)."""
    return seller_view(load_company(session), locale)


def seller_view(
    company: CompanySnapshot | None, locale: str
) -> tuple[CompanyView, str | None, str | None]:
    """``company_view`` of a given seller: a journal's as posted (D6, snapshot.company)."""
    if company is not None:
        return views.company_view(company, locale), company.country, company.currency
    settings = get_settings()
    return {"name": settings.company_name, "address": settings.company_address}, None, None


def document_locale(locale: str | None = None) -> str:
    """The given locale, else DOCPOST_LOCALE (CONTRACT.md); ValueError when unsupported."""
    return normalize_locale(locale or get_settings().locale)


def build_view(
    session: Session, target: Document | Journal | int, locale: str | None = None
) -> DocumentView:
    """The view model of a document (by row or id), or of a journal's newest revision, in
    the customer's language when it has one (P4), else `locale` or DOCPOST_LOCALE.

    Plain data only (no ORM objects): ``docpost.reports.render.render_pdf`` prints it as given.
    """
    return view_and_locale(session, target, locale)[0]


def view_and_locale(
    session: Session, target: Document | Journal | int, locale: str | None = None
) -> tuple[DocumentView, str]:
    """``build_view`` and the locale it is in, which the renderer prints it in."""
    _, view, locale = snapshot_view(session, target, locale)
    return view, locale


def snapshot_view(
    session: Session, target: Document | Journal | int, locale: str | None = None
) -> tuple[JournalSnapshot, DocumentView, str]:
    """``view_and_locale`` and the journal snapshot the view was made of (an e-invoice is
    made of both: einvoice_view)."""
    kind = None
    if isinstance(target, Journal):
        journal, revision = target, latest_revision(session, target)
    else:
        document = session.get(Document, target) if isinstance(target, int) else target
        if document is None:
            raise DocumentNotFound(f"document {target} does not exist")
        journal = session.get(Journal, document.journal_id)  # type: ignore[assignment]
        revision, kind = document.revision, document.kind
    snapshot = load_snapshot(session, journal, revision)
    locale = _customer_locale(snapshot.customer_language) or document_locale(locale)
    company, company_country, company_currency = seller_view(snapshot.company, locale)
    if kind == PICKING_LIST:
        view = picking_list.view(session, snapshot, company, locale, company_country)
    else:
        view = document_view(snapshot, company, locale, company_country, company_currency)
    return snapshot, view, locale


def _customer_locale(language: str | None) -> str | None:
    """P4/M7: the customer's document language wins over the configured locale. The catalog
    checks it on load; one this version cannot print falls back to the configured locale."""
    if not language:
        return None
    try:
        return normalize_locale(language)
    except ValueError:
        return None


# --- rendering -------------------------------------------------------------------------------


def render_document(
    sessions: sessionmaker[Session],
    document_id: int,
    locale: str | None = None,
    *,
    count_attempt: bool = True,
) -> None:
    """Render a pending document and store its PDF or e-invoice; idempotent.

    A document that is not pending (rendered or invalid: its bytes never change, D6; or
    failed) is left alone. On any error the attempt is counted (unless the caller counts
    deliveries itself: ``count_attempt=False``), the error text kept, and the document marked
    ``failed`` once attempts reach ``max_attempts``; the error is then raised again so a queue
    can retry. An e-invoice of a journal that can have none is marked ``failed`` at once.
    """
    _render_once(sessions, document_id, locale, count_attempt=count_attempt)


def _render_once(
    sessions: sessionmaker[Session],
    document_id: int,
    locale: str | None,
    *,
    count_attempt: bool = True,
) -> bool:
    """True when this call stored the document."""
    # Outside the try: an unsupported locale is a configuration error, not the document's.
    locale = document_locale(locale)
    try:
        with sessions() as session, session.begin():
            document = session.get(Document, document_id)
            if document is None:
                raise DocumentNotFound(f"document {document_id} does not exist")
            if document.status != "pending":
                return False
            format = document.format
            snapshot, view, view_locale = snapshot_view(session, document, locale)
            attach = _archive_attachment(session, document)
        started = time.perf_counter()
        rendered = _produce(format, snapshot, view, view_locale, attach)
        metrics.DOCUMENT_RENDER.labels(format=format).observe(time.perf_counter() - started)
    except DocumentNotFound:
        raise
    except NO_EINVOICE as exc:
        # Deterministic: another attempt would give the same answer.
        _record_failure(sessions, document_id, exc, count_attempt, final=True)
        return False
    except Exception as exc:
        _record_failure(sessions, document_id, exc, count_attempt)
        raise
    return _store(sessions, document_id, rendered)


def _produce(
    format: str,
    snapshot: JournalSnapshot,
    view: DocumentView,
    locale: str,
    attach: str | None = None,
) -> Rendered:
    """The document's bytes, outside any transaction; a PDF as PDF/A-3b with its e-invoice
    attached under the name `attach` when given (E4: _archive_attachment)."""
    if format == "ubl":
        return render_einvoice(snapshot, view, locale, get_settings().einvoice_rules or None)
    # Looked up at call time: tests replace it, and importing WeasyPrint costs ~0.5 s that
    # processes only listing or downloading documents should not pay.
    from docpost.reports import render as reports_render

    xml = _archive_xml(snapshot, view, locale) if attach else None
    if attach and xml is not None:
        return Rendered(reports_render.render_archive_pdf(view, locale, xml, attach))
    return Rendered(reports_render.render_pdf(view, locale))


def _archive_attachment(session: Session, document: Document) -> str | None:
    """E4, DOCPOST_ARCHIVE_PDF: the name to attach the journal's e-invoice under in this PDF,
    None for a plain PDF. The journal gets one when posting wrote it an e-invoice row (the
    posting's E1 decision, rules.einvoice_recipients, as recorded): a journal posted before
    e-invoices existed has none to attach. The name is that row's (INV-000001.xml, whatever
    the PDF's revision). Only the invoice's or credit note's own PDF: another document of
    the journal (a kind of its own, as a confirmation's picking list) is not the invoice."""
    if document.format != "pdf" or document.kind not in EINVOICE_KINDS:
        return None
    if not get_settings().archive_pdf:
        return None
    return session.scalar(
        select(Document.filename)
        .where(Document.journal_id == document.journal_id, Document.format == "ubl")
        .order_by(Document.revision.desc())
        .limit(1)
    )


def _archive_xml(snapshot: JournalSnapshot, view: DocumentView, locale: str) -> bytes | None:
    """The e-invoice to attach: made from the same snapshot and view as the e-invoice row's
    (render_einvoice; the generator is deterministic, so the bytes are the row's), None to
    render the plain PDF. An archive PDF is the document kept for years as *the* invoice with
    its e-invoice: with DOCPOST_EINVOICE_RULES set, one that fails the official rules (its
    row is stored `invalid`, not to be sent) is not attached, lest the archive keep an
    invalid e-invoice as if it were the one sent; the PDF itself is still owed, so it is
    rendered plain, with a warning."""
    try:
        einvoice = render_einvoice(snapshot, view, locale, get_settings().einvoice_rules or None)
    except NO_EINVOICE as exc:  # its own row fails the same way, with this reason
        log.warning("%s: PDF rendered without its e-invoice attached: %s", snapshot.number, exc)
        return None
    if einvoice.status == "invalid":
        log.warning(
            "%s: PDF rendered without its e-invoice attached: the e-invoice fails the "
            "official rules (%s)",
            snapshot.number,
            ", ".join(f["rule"] for f in einvoice.findings or [] if f["flag"] != "warning"),
        )
        return None
    return einvoice.content


def _store(sessions: sessionmaker[Session], document_id: int, rendered: Rendered) -> bool:
    with sessions() as session, session.begin():
        document = session.get(Document, document_id, with_for_update=True, populate_existing=True)
        if document is None or document.status != "pending":
            # Another delivery of the same task stored it first: keep those bytes (D6).
            return False
        content = rendered.content
        document.content = content
        document.sha256 = hashlib.sha256(content).hexdigest()
        document.size = len(content)
        document.status = rendered.status
        document.findings = rendered.findings
        document.rendered_at = utcnow()
        document.error = None
        return True


def _record_failure(
    sessions: sessionmaker[Session],
    document_id: int,
    exc: Exception,
    count_attempt: bool,
    *,
    final: bool = False,
) -> None:
    with sessions() as session, session.begin():
        document = session.get(Document, document_id, with_for_update=True, populate_existing=True)
        if document is None or document.status != "pending":
            return
        if count_attempt:
            document.attempts += 1
        document.error = f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT]
        if final or document.attempts >= get_settings().max_attempts:
            document.status = "failed"
    log.warning("document %s: rendering failed: %s", document_id, exc)


def render_pending(sessions: sessionmaker[Session], locale: str | None = None) -> int:
    """Render every pending document in this process (the embedded mode, no queue); returns
    how many were rendered. A document that keeps failing is tried up to ``max_attempts``
    times and then left ``failed``; it does not stop the others."""
    locale = document_locale(locale)  # a configuration error stops here, not per document
    with sessions() as session:
        ids = list(
            session.scalars(
                select(Document.id).where(Document.status == "pending").order_by(Document.id)
            )
        )
    rendered = 0
    for document_id in ids:
        for _ in range(get_settings().max_attempts):
            try:
                rendered += _render_once(sessions, document_id, locale)
                break
            except Exception:  # counted on the row; the next document still renders
                if _status(sessions, document_id) != "pending":
                    break
    return rendered


def _status(sessions: sessionmaker[Session], document_id: int) -> str | None:
    with sessions() as session:
        return session.scalar(select(Document.status).where(Document.id == document_id))


# --- reading back ----------------------------------------------------------------------------


def export_documents(sessions: sessionmaker[Session], folder: Path) -> list[Path]:
    """Write every rendered revision into `folder` under its filename (PDFs and, E1, the
    e-invoices beside them: INV-000001.xml; an invalid one is not written); the paths
    written."""
    written = []
    with sessions() as session:
        for filename, content in session.execute(
            select(Document.filename, Document.content)
            .where(Document.status == "rendered")
            .order_by(Document.id)
        ):
            if content is None:
                continue
            folder.mkdir(parents=True, exist_ok=True)
            # Filenames are made from journal numbers; .name keeps a bad one inside `folder`.
            path = folder / Path(filename).name
            path.write_bytes(content)
            written.append(path)
    return written


def list_documents(
    session: Session,
    journal_number: str | None = None,
    *,
    after: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Stored documents (PDFs and e-invoices), oldest first (id ascending), as plain dicts (the
    content left out).

    A page of them (keyset paging): those with an id above `after`, at most `limit` rows read
    (the database stops there; a caller asks for one more than it shows to know whether there
    is a next page). Without `limit`, every row: a journal's few documents."""
    query = (
        select(
            Document.id,
            Document.kind,
            Document.format,
            Journal.number,
            Document.revision,
            Document.filename,
            Document.status,
            Document.sha256,
            Document.size,
            Document.attempts,
            Document.error,
            Document.findings,
            Document.rendered_at,
        )
        .join(Journal, Journal.id == Document.journal_id)
        .order_by(Document.id)
    )
    if journal_number is not None:
        query = query.where(Journal.number == journal_number)
    if after is not None:
        query = query.where(Document.id > after)
    if limit is not None:
        query = query.limit(limit)
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "format": row.format,
            "media_type": MEDIA_TYPES[row.format],
            "journal": row.number,
            "revision": row.revision,
            "filename": row.filename,
            "status": row.status,
            "sha256": row.sha256,
            "size": row.size,
            "attempts": row.attempts,
            "error": row.error,
            # An e-invoice's findings of the official rules (E2); None: not checked.
            "findings": row.findings,
            "rendered_at": row.rendered_at.isoformat() if row.rendered_at else None,
        }
        for row in session.execute(query)
    ]


@dataclass(frozen=True)
class StoredPdf:
    """A stored document (the name is older than e-invoices: a PDF or, format ``ubl``, an
    e-invoice) with what serving it needs."""

    document_id: int
    filename: str
    status: str
    error: str | None
    sha256: str | None
    content: bytes | None
    format: str = "pdf"
    findings: list[dict[str, Any]] | None = None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def fatal_findings(self) -> list[dict[str, Any]]:
        return [f for f in self.findings or [] if f.get("flag") != "warning"]

    @property
    def intact(self) -> bool:
        """The bytes still match the checksum stored with them (D6)."""
        return (
            self.content is not None
            and self.sha256 is not None
            and hashlib.sha256(self.content).hexdigest() == self.sha256
        )


def stored_pdf(session: Session, document_id: int) -> StoredPdf:
    document = session.get(Document, document_id)
    if document is None:
        raise DocumentNotFound(f"document {document_id} does not exist")
    return StoredPdf(
        document.id,
        document.filename,
        document.status,
        document.error,
        document.sha256,
        document.content,
        document.format,
        document.findings,
    )
