"""Serial registrations on sales lines, and their correction audit trail (S1-S11)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from docpost.schema.base import Base
from docpost.schema.types import UtcDateTime, utcnow


class SerialRegistration(Base):
    """One unit's registration: a serial, or a blank (`serial` is NULL) for a not-readable one.

    `active` is true while the unit is on a posted packing slip that is not reversed, or on an
    invoice line that is not credited. A partial unique index on (item, serial) over active rows
    makes the database itself refuse a serial sold twice (S5), even by two orders posting at once.
    """

    __tablename__ = "serial_registrations"
    __table_args__ = (
        Index(
            "uq_serial_registrations_active_serial",
            "item_code",
            "serial",
            unique=True,
            postgresql_where=text("active AND serial IS NOT NULL"),
            sqlite_where=text("active AND serial IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sales_line_id: Mapped[int] = mapped_column(ForeignKey("sales_lines.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(50))
    serial: Mapped[str | None] = mapped_column(String(100), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    packing_slip_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_lines.id"), nullable=True
    )
    invoice_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_lines.id"), nullable=True
    )
    credit_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_lines.id"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SerialChange(Base):
    """Audit trail of S9 corrections: who changed which registration, from what to what."""

    __tablename__ = "serial_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("serial_registrations.id"), index=True)
    old_serial: Mapped[str | None] = mapped_column(String(100), nullable=True)
    new_serial: Mapped[str | None] = mapped_column(String(100), nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    request_id: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
