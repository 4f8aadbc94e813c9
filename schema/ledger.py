"""Ledger vouchers (L1) and gapless number series (L2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from docpost.schema.base import Base
from docpost.schema.types import Money, UtcDateTime, utcnow


class NumberSeries(Base):
    """The next number of a series. Taken by an UPDATE inside the posting transaction, so the
    row stays locked until commit and a rolled-back posting leaves no hole."""

    __tablename__ = "number_series"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer, default=1)


class LedgerEntry(Base):
    """One voucher line; `amount` is positive for a debit, negative for a credit."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    voucher: Mapped[str] = mapped_column(String(30), index=True)
    journal_id: Mapped[int | None] = mapped_column(ForeignKey("journals.id"), nullable=True)
    account: Mapped[str] = mapped_column(String(20), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    text: Mapped[str] = mapped_column(String(200))
    posting_date: Mapped[dt.date] = mapped_column()
    posted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # T7: on a journal in another currency than the company's, the entry's amount in that
    # currency (`amount` is in the company's); NULL where they are the same (migration 0011).
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    document_amount: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)


class RevenueScheduleLine(Base):
    """One period of deferred revenue (B11): released by a recognition run (debit deferred
    revenue, credit revenue). A credit note adds negative lines for the periods not yet
    released, so that later releases move only what is left."""

    __tablename__ = "revenue_schedule_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("journals.id"), index=True)
    invoice_line_id: Mapped[int] = mapped_column(ForeignKey("journal_lines.id"), index=True)
    credit_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_lines.id"), nullable=True
    )
    schedule_code: Mapped[str] = mapped_column(String(50))
    occurrence: Mapped[int] = mapped_column(Integer)
    period: Mapped[dt.date] = mapped_column(index=True)  # first day of the month it is due
    amount: Mapped[Decimal] = mapped_column(Money())
    released_voucher: Mapped[str | None] = mapped_column(String(30), nullable=True, index=True)
