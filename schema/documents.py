"""Rendered documents and the transactional outbox that schedules follow-up tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from docpost.schema.base import Base
from docpost.schema.types import UtcDateTime, utcnow

# What a document row holds (migration 0012): the journal's PDF, or its EHF / Peppol BIS 3.0
# e-invoice (UBL 2.1, DOMAIN.md E1), each with its own revisions.
DOCUMENT_FORMATS = ("pdf", "ubl")
MEDIA_TYPES = {"pdf": "application/pdf", "ubl": "application/xml"}
EXTENSIONS = {"pdf": "pdf", "ubl": "xml"}
# pending -> rendered; failed after max attempts (or a journal that can have no e-invoice);
# invalid: an e-invoice with a fatal finding of the official rules (DOCPOST_EINVOICE_RULES),
# its bytes kept for diagnosis and never sent.
DOCUMENT_STATUSES = ("pending", "rendered", "invalid", "failed")


# A document's `kind` is its journal's, except for a second document of the same journal:
# the picking list of a confirmation (DOMAIN.md D2, migration 0014), an internal document for
# the warehouse. Revisions are counted per journal, kind and format.
PICKING_LIST = "picking_list"
# What a filename adds after the journal number for such a kind: CONF-000001-picking.pdf.
FILENAME_SUFFIXES = {PICKING_LIST: "picking"}


def document_filename(
    journal_number: str, revision: int, format: str = "pdf", kind: str | None = None
) -> str:
    """INV-000001.pdf, INV-000001.xml; a later revision INV-000001-r2.pdf; a confirmation's
    picking list CONF-000001-picking.pdf (its journal's number first, so it sorts beside the
    confirmation, which it is made of)."""
    variant = FILENAME_SUFFIXES.get(kind or "")
    name = f"{journal_number}-{variant}" if variant else journal_number
    suffix = "" if revision == 1 else f"-r{revision}"
    return f"{name}{suffix}.{EXTENSIONS[format]}"


class Document(Base):
    """A journal's PDF or e-invoice (or a confirmation's picking list, D2), one row per kind,
    format and revision (D6, E1). Rows start `pending` in the posting transaction and are
    filled by the render task; the bytes never change afterwards."""

    __tablename__ = "documents"
    __table_args__ = (
        # kind: a confirmation's PDF and its picking list are both revision 1 (0014).
        UniqueConstraint("journal_id", "kind", "format", "revision"),
        # The recovery sweep's lookup: pending documents only (migration 0005).
        Index(
            "ix_documents_pending",
            "created_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("journals.id"), index=True)
    # The journal's kind, or PICKING_LIST for a confirmation's picking list (D2).
    kind: Mapped[str] = mapped_column(String(20))
    # DOCUMENT_FORMATS; rows from before 0011 are PDFs.
    format: Mapped[str] = mapped_column(String(10), default="pdf", server_default="pdf")
    revision: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # DOCUMENT_STATUSES
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # An e-invoice's findings of the official rules (E2): [{ruleset, rule, flag, message,
    # location}], warnings included; None when it was not checked (no DOCPOST_EINVOICE_RULES)
    # and on PDFs.
    findings: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    rendered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # When the recovery sweep last published its render again (tasks.recovery); None: only
    # the first publish by the outbox, which created_at stands for.
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]


class OutboxMessage(Base):
    """A task to publish once the posting that wrote it has committed."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(
        UtcDateTime(), nullable=True, index=True
    )
