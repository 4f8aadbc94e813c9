"""One row per request id: the idempotency key and the request's single outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from schema.base import Base
from schema.types import UtcDateTime, utcnow

FINAL_STATUSES = ("succeeded", "rejected", "failed")


class RequestRecord(Base):
    __tablename__ = "requests"

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
