"""Messages a worker could not decode or take as a task: kept, never dropped silently
(CONTRACT.md "Nothing accepted is lost")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from docpost.schema.base import Base
from docpost.schema.types import UtcDateTime, utcnow


class DeadLetter(Base):
    """One undecodable or invalid message, as received. `raw_head` is the start of the body as
    text that any database can store (no NUL, bytes that are not UTF-8 as escapes), so an
    operator can see what was sent; `size` is the whole body's length in bytes."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    queue: Mapped[str] = mapped_column(String(200))
    task: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    raw_head: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
