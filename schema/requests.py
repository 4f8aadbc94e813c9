"""One row per request id: the idempotency key and the request's single outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from docpost.schema.base import Base
from docpost.schema.request_sequence import next_request_sequence
from docpost.schema.types import UtcDateTime, utcnow

FINAL_STATUSES = ("succeeded", "rejected", "failed")


class RequestRecord(Base):
    __tablename__ = "requests"
    # The recovery sweep's lookup: only requests not final are in it (migration 0005).
    __table_args__ = (
        Index(
            "ix_requests_open",
            "created_at",
            postgresql_where=text("status IN ('queued', 'running')"),
            sqlite_where=text("status IN ('queued', 'running')"),
        ),
    )

    request_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str] = mapped_column(String(100))
    body_sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # When the recovery sweep last published it again (tasks.recovery); None: only its first
    # publish, which created_at stands for (no write on the way of every request).
    published_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Order of execution (pipeline.runner.ordering, migration 0006): the order a request concerns,
    # its accept number, and since when it waits for an earlier request of that order.
    order_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    sequence: Mapped[int | None] = mapped_column(
        BigInteger, nullable=True, default=next_request_sequence()
    )
    parked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def outcome(self) -> dict[str, Any]:
        """The request's outcome as CONTRACT.md writes it."""
        outcome: dict[str, Any] = {"request_id": self.request_id, "status": self.status}
        if self.result is not None:
            outcome["result"] = self.result
        if self.error is not None:
            outcome["error"] = self.error
        return outcome


# Order of execution's lookups (pipeline.runner.ordering), over open requests only (migration 0006):
# the earliest open request of an order, and the earliest open request of all.
_OPEN = text("status IN ('queued', 'running')")
Index(
    "ix_requests_open_order_key",
    RequestRecord.order_key,
    RequestRecord.sequence,
    postgresql_where=_OPEN,
    sqlite_where=_OPEN,
)
Index(
    "ix_requests_open_sequence", RequestRecord.sequence, postgresql_where=_OPEN, sqlite_where=_OPEN
)
