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


class Document(Base):
    """A journal's PDF, one row per revision (D6). Rows start `pending` in the posting
    transaction and are filled by the render task; the bytes never change afterwards."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("journal_id", "revision"),
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
    kind: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|rendered|failed
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    rendered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # When the recovery sweep last published its render again (tasks.recovery); None: only
    # the first publish by the outbox, which created_at stands for.
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)


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
