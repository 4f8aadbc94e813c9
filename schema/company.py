"""The company (DOMAIN.md M6): the seller on every document, one row, loaded with the catalog.

Later steps (documents, postings) read it with a plain `select(Company)`; there is no row until
a catalog gives a company, and then its documents carry the company's VAT details.
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from docpost.schema.base import Base

# The one row's key: a catalog's company replaces it (pipeline.services.catalog).
COMPANY_ROW = 1


class PartyColumns:
    """What the company (M6) and a customer (M7) alike have: the address beyond its lines,
    the organisation number and the Peppol endpoint, stored compact ("923609016"); documents
    format them (e.g. with stdnum's `format`)."""

    postcode: Mapped[str | None] = mapped_column(String(20), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    organisation_number: Mapped[str | None] = mapped_column(String(50), nullable=True)
    peppol_endpoint: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Company(PartyColumns, Base):
    __tablename__ = "company"
    __table_args__ = (CheckConstraint(f"id = {COMPANY_ROW}", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The address lines joined by line feeds, as the customers' `address` column holds them.
    address_lines: Mapped[str] = mapped_column(String(500), default="")
    vat_registered: Mapped[bool] = mapped_column(Boolean, default=False)
    foretaksregisteret: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str] = mapped_column(String(3))
    bank_account: Mapped[str | None] = mapped_column(String(50), nullable=True)
    iban: Mapped[str | None] = mapped_column(String(50), nullable=True)
    bic: Mapped[str | None] = mapped_column(String(11), nullable=True)
    time_zone: Mapped[str] = mapped_column(String(50))
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    kid_scheme: Mapped[str] = mapped_column(String(5))
