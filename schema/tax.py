"""Tax codes (DOMAIN.md M8) and their rates by the date each takes effect.

A document uses the rate of its tax code valid on its document date: the row with the latest
`valid_from` not after it. Rates are exact decimals (percent, 2 decimals): sort and pick in
Python, not in SQL (schema.types.ExactDecimal is text on SQLite).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docpost.schema.base import Base
from docpost.schema.types import ExactDecimal


class TaxCode(Base):
    __tablename__ = "tax_codes"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # EN 16931 VAT category: S, Z, E, G, O, AE or K.
    category: Mapped[str] = mapped_column(String(2))
    # The ledger account of its output VAT; none where no VAT is ever due (rate 0 throughout).
    account: Mapped[str | None] = mapped_column(String(20), nullable=True)

    rates: Mapped[list[TaxRate]] = relationship(
        order_by="TaxRate.valid_from", cascade="all, delete-orphan", lazy="selectin"
    )


class TaxRate(Base):
    __tablename__ = "tax_rates"

    tax_code: Mapped[str] = mapped_column(ForeignKey("tax_codes.code"), primary_key=True)
    valid_from: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    rate: Mapped[Decimal] = mapped_column(ExactDecimal(5, 2))
