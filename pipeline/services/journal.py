"""Writing journals, their lines and their ledger vouchers (L1, L2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from docpost.pipeline.journal_rows import insert_rows
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import (
    Company,
    Customer,
    Journal,
    JournalLine,
    LedgerEntry,
    SalesLine,
    SalesOrder,
)
from docpost.schema.journals import BUYER_FIELDS, SELLER_FIELDS

ACCOUNTS_RECEIVABLE = "1200"
REVENUE = "3000"
DEFERRED_REVENUE = "2900"
CASH = "1900"  # a point-of-sale sale's debit where VAT is charged (T6, L1)
ACCOUNT_NAMES = {
    CASH: "Cash",
    ACCOUNTS_RECEIVABLE: "Accounts receivable",
    REVENUE: "Sales revenue",
    DEFERRED_REVENUE: "Deferred revenue",
}


def new_journal(
    uow: UnitOfWork,
    kind: str,
    series: str,
    order: SalesOrder,
    reverses: Journal | None = None,
    document_date: dt.date | None = None,
) -> Journal:
    """A journal with the next gapless number of its series (L2), added to the session (its
    writes are the ORM's); see `draft_journal` for the rest."""
    journal = draft_journal(uow, kind, order, reverses, document_date)
    journal.number = uow.next_number(series)
    uow.add_journal(journal)
    return journal


def draft_journal(
    uow: UnitOfWork,
    kind: str,
    order: SalesOrder,
    reverses: Journal | None = None,
    document_date: dt.date | None = None,
    seller: dict[str, Any] | None = None,
) -> Journal:
    """A journal without its number, outside the session: `uow.insert_journal` numbers and
    writes it once its lines are there (the number last, L2: the series row stays locked
    from then until commit). Dated `document_date` (P1: the request's), else today in the
    company's time zone (the posting date).

    Every journal, of every kind, freezes its parties (D6, M6, M7): the seller (the catalog's
    company; `seller`, when a batch has frozen it once for all its journals) and the buyer
    (the order's customer) as they are now, so its documents print them as posted whenever
    they are rendered."""
    return Journal(
        kind=kind,
        order_id=order.id,
        customer_code=order.customer_code,
        currency=order.currency,
        posting_date=uow.posting_date,
        document_date=document_date or uow.posting_date,
        request_id=uow.request_id,
        actor=uow.actor_name,
        reverses_id=reverses.id if reverses else None,
        seller=frozen_seller(uow) if seller is None else seller,
        buyer=buyer_record(order.customer),
        lines=[],
    )


def frozen_seller(uow: UnitOfWork) -> dict[str, Any]:
    """The seller a journal freezes (D6, M6): the catalog's company as it is now, {} when
    the catalog has none (its documents print the DOCPOST_COMPANY_* fallback, as posted).
    The unit of work's row, read once per request (it dates the request, P1): no statement."""
    return seller_record(uow.company)


def seller_record(company: Company | None) -> dict[str, Any]:
    """The company's columns a journal keeps (schema.journals.SELLER_FIELDS), as stored."""
    if company is None:
        return {}
    return {name: getattr(company, name) for name in SELLER_FIELDS}


def buyer_record(customer: Customer) -> dict[str, Any]:
    """The customer's columns a journal keeps (BUYER_FIELDS, M7; its language: P4)."""
    return {name: getattr(customer, name) for name in BUYER_FIELDS}


def snapshot_line(
    line: SalesLine,
    quantity: Decimal,
    *,
    amount: Decimal | None,
    linked: bool = True,
    reverses: JournalLine | None = None,
) -> JournalLine:
    """A journal line copying what the order line says now: later order changes never reach
    a posted journal."""
    parent = None
    if line.bundle_parent_id is not None:
        parent = next(p for p in line.order.lines if p.id == line.bundle_parent_id)
    priced = amount is not None
    return JournalLine(
        position=len(line.order.lines),  # replaced by add_line
        sales_line_id=line.id if linked else None,
        line_no=line.line_no,
        item_code=line.item_code,
        item_name=line.item.name,
        unit=line.item.unit,
        quantity=quantity,
        unit_price=line.unit_price if priced else None,
        discount_percent=line.discount_percent if priced else None,
        discount_amount=line.discount_amount if priced else None,
        amount=amount,
        bundle_line_no=parent.line_no if parent else None,
        bundle_item_code=parent.item_code if parent else None,
        bundle_item_name=parent.item.name if parent else None,
        bom_quantity=line.bom_quantity,
        is_bundle_parent=line.status == "canceled",
        reverses_line_id=reverses.id if reverses else None,
        warranty_months=line.item.warranty_months,  # S15, frozen at posting (D6)
    )


def add_line(journal: Journal, journal_line: JournalLine) -> JournalLine:
    journal_line.position = len(journal.lines) + 1
    journal.lines.append(journal_line)
    return journal_line


# (account, amount: debit positive, credit negative, text), in the company currency; a voucher
# of rules.ledger adds the amount in the document's currency (T7: kept where they differ).
Entry = tuple[str, Decimal, str] | tuple[str, Decimal, str, Decimal]


def post_voucher(
    uow: UnitOfWork,
    journal: Journal | None,
    entries: Sequence[Entry],
    posting_date: dt.date | None = None,
) -> str:
    """One balanced voucher (L1), with the next gapless voucher number, added to the session
    (its writes are the ORM's)."""
    voucher, rows = voucher_rows(uow, journal, entries, posting_date)
    uow.session.add_all(rows)
    return voucher


def insert_voucher(uow: UnitOfWork, journal: Journal, entries: Sequence[Entry]) -> str:
    """`post_voucher` for a journal written by `uow.insert_journal`: its entries in one
    statement (pipeline.journal_rows), the voucher number taken just before them (L2)."""
    voucher, rows = voucher_rows(uow, journal, entries)
    insert_rows(uow.session, rows)
    return voucher


def voucher_rows(
    uow: UnitOfWork,
    journal: Journal | None,
    entries: Sequence[Entry],
    posting_date: dt.date | None = None,
    voucher: str | None = None,
) -> tuple[str, list[LedgerEntry]]:
    """A balanced voucher's number and ledger rows (L1), not in the session. A journal's
    voucher is dated on its document date (P1), so the ledger, the VAT summary and the
    printed invoice agree on the period even when a request back-dates the document."""
    check_balanced(entries)
    voucher = voucher or uow.next_number("VOU")
    # T7: only a journal with an exchange rate is in another currency than the company's.
    foreign = journal is not None and journal.exchange_rate is not None
    rows = [
        LedgerEntry(
            voucher=voucher,
            journal_id=journal.id if journal else None,
            account=account,
            amount=amount,
            text=text[:200],
            posting_date=_voucher_date(journal) if journal else posting_date,
            currency=journal.currency if foreign and journal else None,
            document_amount=document_amount[0] if foreign and document_amount else None,
        )
        for account, amount, text, *document_amount in entries
    ]
    return voucher, rows


def _voucher_date(journal: Journal) -> dt.date:
    return journal.document_date or journal.posting_date


def check_balanced(entries: Sequence[Entry]) -> None:
    """L1: a voucher's debits and credits cancel out. A voucher that does not is a bug."""
    if sum((entry[1] for entry in entries), Decimal(0)) != 0:
        raise AssertionError(f"voucher does not balance: {entries}")
