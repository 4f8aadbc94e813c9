"""Posted journals: confirmations, packing slips, invoices and credit notes.

A journal and its lines are written once and never updated (L3, D6). A reversal or a credit
is a new journal that refers to the one it reverses.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docpost.schema.base import Base
from docpost.schema.types import (
    ExactDecimal,
    Money,
    Quantity,
    UnitPrice,
    UtcDateTime,
    utcnow,
)

JOURNAL_KINDS = ("confirmation", "packing_slip", "invoice", "credit_note")

# The parties a journal freezes at posting (D6, M6, M7): the keys of `Journal.seller` and
# `Journal.buyer`, named as the company's and the customer's columns are, values as stored
# there (compact numbers, address lines joined by line feeds). Every journal kind keeps them:
# a packing slip prints the customer's address too.
SELLER_FIELDS = (
    "name",
    "address_lines",
    "postcode",
    "city",
    "country",
    "organisation_number",
    "vat_registered",
    "foretaksregisteret",
    "currency",
    "bank_account",
    "iban",
    "bic",
    "peppol_endpoint",
)
BUYER_FIELDS = (
    "name",
    "address",
    "postcode",
    "city",
    "country",
    "organisation_number",
    "vat_id",
    "peppol_endpoint",
    "language",  # P4: it chooses the document language
)


class Journal(Base):
    __tablename__ = "journals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    customer_code: Mapped[str] = mapped_column(ForeignKey("customers.customer"))
    currency: Mapped[str] = mapped_column(String(3))
    posting_date: Mapped[dt.date] = mapped_column()
    posted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    request_id: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    # A packing slip cancellation refers to the packing slip; a credit note to its invoice.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journals.id"), nullable=True)
    # The net total (T2): the sum of the lines' amounts.
    total_amount: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    # Real invoices (issue 15). P1: the document date (the request's, else today in the
    # company's time zone); None on journals posted before it was kept.
    document_date: Mapped[dt.date | None] = mapped_column(nullable=True)
    # Invoices and credit notes of a VAT-registered company with tax codes (T3); None where
    # the catalog has none (no VAT, as before).
    vat_total: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    total: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)  # incl. VAT
    due_date: Mapped[dt.date | None] = mapped_column(nullable=True)  # P1, invoices
    kid: Mapped[str | None] = mapped_column(String(30), nullable=True)  # P2, invoices
    # Frozen from the order at posting: T7 (company currency per unit), P3.
    exchange_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 10), nullable=True)
    buyer_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # D6: the seller and the buyer as they were at posting (SELLER_FIELDS, BUYER_FIELDS).
    # None (SQL NULL) on journals posted before they were kept: their documents read master
    # data. The seller is {} when the catalog had no company (the DOCPOST_COMPANY_* fallback).
    seller: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    buyer: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)

    lines: Mapped[list[JournalLine]] = relationship(
        order_by="JournalLine.position", cascade="all, delete-orphan", lazy="selectin"
    )
    reverses: Mapped[Journal | None] = relationship(remote_side=[id])
    # The VAT breakdown (T3), read when asked for (documents, show journal, credit notes).
    vat: Mapped[list[JournalVat]] = relationship(
        order_by="JournalVat.position", cascade="all, delete-orphan"
    )


class JournalLine(Base):
    """A snapshot of what was posted for one order line."""

    __tablename__ = "journal_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("journals.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # Confirmations snapshot lines that may later be removed (B6), so no key there.
    sales_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_lines.id"), nullable=True, index=True
    )
    line_no: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str] = mapped_column(String(50))
    item_name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[Decimal] = mapped_column(Quantity())
    unit_price: Mapped[Decimal | None] = mapped_column(UnitPrice(), nullable=True)
    discount_percent: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    discount_amount: Mapped[Decimal | None] = mapped_column(UnitPrice(), nullable=True)
    amount: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    # Bundle context, snapshotted so documents can print the parent (D1) without the order.
    bundle_line_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bundle_item_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    bundle_item_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    bom_quantity: Mapped[Decimal | None] = mapped_column(Quantity(), nullable=True)
    # Confirmation only: the parent line as entered (shown on the confirmation, D1).
    is_bundle_parent: Mapped[bool] = mapped_column(default=False)
    # Credit note line -> the invoice line it credits; reversal line -> the packing slip line.
    reverses_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_lines.id"), nullable=True
    )
    # T1: the tax code, VAT category and rate in force on the document date, frozen here.
    tax_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    vat_category: Mapped[str | None] = mapped_column(String(2), nullable=True)
    vat_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(5, 2), nullable=True)
    # S15: the item's warranty period in months when the line was posted (D6: a later change
    # of the item's warranty reaches only units sold after it); None: no warranty then, and on
    # every line posted before migration 0013.
    warranty_months: Mapped[int | None] = mapped_column(Integer, nullable=True)


class JournalVat(Base):
    """One part of a document's VAT breakdown (T3): a tax code within a category and rate,
    its taxable amount and VAT, in the document's currency and (T7) the company's. Signed as
    the document's lines are: a credit note's are positive, like its lines."""

    __tablename__ = "journal_vat"

    journal_id: Mapped[int] = mapped_column(ForeignKey("journals.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tax_code: Mapped[str] = mapped_column(String(50))
    category: Mapped[str] = mapped_column(String(2))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal(5, 2))
    account: Mapped[str | None] = mapped_column(String(20), nullable=True)
    taxable_amount: Mapped[Decimal] = mapped_column(Money())
    vat_amount: Mapped[Decimal] = mapped_column(Money())
    company_taxable_amount: Mapped[Decimal] = mapped_column(Money())
    company_vat_amount: Mapped[Decimal] = mapped_column(Money())


class JournalLineSerial(Base):
    """Which serial registrations a packing slip or invoice line included (S11 inquiry)."""

    __tablename__ = "journal_line_serials"

    journal_line_id: Mapped[int] = mapped_column(ForeignKey("journal_lines.id"), primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("serial_registrations.id"), primary_key=True, index=True
    )


class PackingSlipInvoicing(Base):
    """How much of a packing slip line an invoice line invoiced (S7, S8, bulk invoicing)."""

    __tablename__ = "packing_slip_invoicing"

    invoice_line_id: Mapped[int] = mapped_column(ForeignKey("journal_lines.id"), primary_key=True)
    packing_slip_line_id: Mapped[int] = mapped_column(
        ForeignKey("journal_lines.id"), primary_key=True, index=True
    )
    quantity: Mapped[Decimal] = mapped_column(Quantity())
