"""Bulk invoicing's invoices, many orders in one transaction (set-based).

bulk_invoice fans out one invoice request per order, in batches. A batch is invoiced here in
one transaction: the orders, their packing slips, what is invoiced of them and their serial
registrations are read with a handful of queries for all orders at once; each invoice is
planned by the rules post_invoice applies (plan_invoice: S7, S8, B7, B8; L1 and B11 through
invoice_voucher); and the rows are written in three flushes for the whole batch, not five
per invoice. Each child request still gets its own outcome, the same as post_invoice's.

A child whose order breaks a rule, or changed since bulk_invoice looked at it, is left out:
it runs afterwards as a request of its own, which gives it its own rejection.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.contract import PostInvoice, Request
from docpost.pipeline.errors import Rejection
from docpost.pipeline.journal_rows import insert_rows, update_by_id
from docpost.pipeline.rules.tax import ReceiptPlan, VatPlan
from docpost.pipeline.services.invoices import (
    InvoicePlan,
    InvoiceTax,
    invoice_lines,
    invoiced_quantities,
    named_packing_slips,
    open_registrations,
    packing_slip_portions,
    plan_invoice,
    plan_invoice_tax,
    shipments_from,
    standing_of,
    voucher_entries,
    write_invoice_tax,
)
from docpost.pipeline.services.journal import add_line, draft_journal, frozen_seller, voucher_rows
from docpost.pipeline.services.lines import require_exploded
from docpost.pipeline.services.posting import tax_setup
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import (
    Journal,
    JournalLineSerial,
    OutboxMessage,
    RequestRecord,
    SalesOrder,
    SerialRegistration,
)
from docpost.schema.types import utcnow

ZERO = Decimal(0)


@dataclass
class BatchOutcome:
    """What a batch did: the outcomes it stored, the children left to run on their own, and
    the outbox rows (renders) it wrote."""

    outcomes: list[dict[str, Any]] = field(default_factory=list)
    left_out: list[Request] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)


@dataclass
class _Planned:
    uow: UnitOfWork  # the child's: its request id and actor go on its journal
    record: RequestRecord
    order: SalesOrder
    plans: list[InvoicePlan]
    tax: InvoiceTax  # T1, T7, P1 decided with the plan: a refusal leaves the child out
    journal: Journal | None = None
    vat: VatPlan | ReceiptPlan | None = None


def invoice_batch(uow: UnitOfWork, children: Sequence[Request]) -> BatchOutcome:
    """Invoice the children's orders in the caller's transaction (`uow.session`)."""
    result = BatchOutcome()
    records = _lock_requests(uow, children, result)
    runnable = [c for c in children if c.request_id in records]
    orders = _lock_orders(uow, [c.command.order for c in runnable])
    planned = _plan_all(uow, runnable, records, orders, result)
    _write_all(uow, planned, result)
    result.outbox = uow.outbox
    return result


def _lock_requests(
    uow: UnitOfWork, children: Sequence[Request], result: BatchOutcome
) -> dict[str, RequestRecord]:
    """The children's rows, locked. A child already final keeps its outcome (a repeat); one
    without a row or with another body under its id is left to run_request, which knows
    what to answer."""
    records = {
        r.request_id: r
        for r in uow.session.scalars(
            select(RequestRecord)
            .where(RequestRecord.request_id.in_([c.request_id for c in children]))
            .order_by(RequestRecord.request_id)
            .with_for_update()
        )
    }
    runnable: dict[str, RequestRecord] = {}
    for child in children:
        record = records.get(child.request_id)
        same = record is not None and record.body_sha256 == child.body_sha256
        if same and record is not None and record.is_final:
            result.outcomes.append(record.outcome())
        elif same and record is not None and isinstance(child.command, PostInvoice):
            runnable[child.request_id] = record
        else:
            result.left_out.append(child)
    return runnable


def _lock_orders(uow: UnitOfWork, order_numbers: Sequence[str]) -> dict[str, SalesOrder]:
    """The orders, locked in id order (as every posting locks one order: no deadlock), their
    lines read again under the lock."""
    return {
        order.order_no: order
        for order in uow.session.scalars(
            select(SalesOrder)
            .where(SalesOrder.order_no.in_(list(order_numbers)))
            .order_by(SalesOrder.id)
            .with_for_update(of=SalesOrder)
            .execution_options(populate_existing=True)
        )
    }


def _standing_packing_slips(
    uow: UnitOfWork, orders: Sequence[SalesOrder]
) -> dict[int, list[Journal]]:
    """Order id -> its packing slips that are neither cancellations nor canceled, oldest
    first (what invoices.standing_packing_slips gives for one order)."""
    journals = list(
        uow.session.scalars(
            select(Journal)
            .where(Journal.order_id.in_([o.id for o in orders]), Journal.kind == "packing_slip")
            .order_by(Journal.id)
        )
    )
    by_order: dict[int, list[Journal]] = defaultdict(list)
    for journal in journals:
        by_order[journal.order_id].append(journal)
    return {order_id: standing_of(slips) for order_id, slips in by_order.items()}


def _plan_all(
    uow: UnitOfWork,
    children: Sequence[Request],
    records: dict[str, RequestRecord],
    orders: dict[str, SalesOrder],
    result: BatchOutcome,
) -> list[_Planned]:
    standing = _standing_packing_slips(uow, list(orders.values()))
    ps_line_ids = [ln.id for slips in standing.values() for s in slips for ln in s.lines]
    invoiced = invoiced_quantities(uow.session, ps_line_ids)
    registrations = open_registrations(uow.session, ps_line_ids)
    setup = tax_setup(uow)  # the company and tax codes, read once for the batch
    planned = []
    planned_orders: set[int] = set()
    for child in children:
        cmd: PostInvoice = child.command
        order = orders.get(cmd.order)
        if order is None or cmd.lines is not None or cmd.packing_slips is None:
            result.left_out.append(child)  # not bulk invoicing's kind of invoice
            continue
        if order.id in planned_orders:
            # Planned from what was invoiced before this batch: a second invoice of the
            # same order must see the first, so it runs on its own after the batch.
            result.left_out.append(child)
            continue
        child_uow = uow.for_request(child.request_id, child.actor)
        try:
            child_uow.require_duties_of("post_invoice")
            require_exploded(order, "invoice")
            slips_of_order = standing.get(order.id, [])
            only = named_packing_slips(child_uow, order, cmd.packing_slips, slips_of_order)
            shipped = shipments_from(
                [s for s in slips_of_order if only is None or s.id in only],
                invoiced,
                registrations,
            )
            plans = plan_invoice(child_uow, order, cmd, shipped, only)
            tax = plan_invoice_tax(setup, order, plans, cmd, child_uow.posting_date)
        except Rejection:
            result.left_out.append(child)  # its own request gives it its own rejection
            continue
        planned.append(_Planned(child_uow, records[child.request_id], order, plans, tax))
        planned_orders.add(order.id)
    return planned


def _write_all(uow: UnitOfWork, planned: list[_Planned], result: BatchOutcome) -> None:
    """The batch's rows decided in memory, then written one statement per table for all its
    invoices (pipeline.journal_rows, as post_invoice writes one invoice's): the order lines'
    quantities, the journals (their INV numbers taken just before: a KID is made of its
    number, P2), their lines and VAT breakdowns, the packing slip portions, the
    registrations' links, the vouchers (their VOU numbers taken just before their rows), the
    documents and their render messages. The requests' outcomes are the ORM's, written at
    commit, where the outcome log sees them."""
    session = uow.session
    seller = frozen_seller(uow)  # D6: once for the batch, as its tax setup read the company
    for item in planned:
        journal = draft_journal(
            item.uow, "invoice", item.order, document_date=item.tax.date, seller=seller
        )
        for journal_line in invoice_lines(item.plans):
            add_line(journal, journal_line)
        journal.total_amount = sum((ln.amount or ZERO for ln in journal.lines), ZERO)
        item.journal = journal
    order_lines = [plan.target.line for item in planned for plan in item.plans]
    update_by_id(
        session,
        order_lines,
        {
            name: [getattr(line, name) for line in order_lines]
            for name in ("invoiced_qty", "invoiced_amount", "delivered_qty")
        },
    )

    journals = [_journal_of(item) for item in planned]
    for item, journal, number in zip(
        planned, journals, uow.next_numbers("INV", len(planned)), strict=True
    ):
        journal.number = number
        item.vat = write_invoice_tax(journal, item.order, item.tax)
    insert_rows(session, journals)
    for journal in journals:
        for part in (*journal.lines, *journal.vat):
            part.journal_id = journal.id
    insert_rows(session, [ln for journal in journals for ln in journal.lines])
    insert_rows(session, [part for journal in journals for part in journal.vat])
    insert_rows(
        session,
        [
            portion
            for item, journal in zip(planned, journals, strict=True)
            for portion in packing_slip_portions(item.plans, journal.lines)
        ],
    )
    _link_registrations(session, planned, journals)

    ledger = []
    for item, journal, voucher in zip(
        planned, journals, uow.next_numbers("VOU", len(planned)), strict=True
    ):
        entries = voucher_entries(uow, journal, item.vat)
        ledger.extend(voucher_rows(uow, journal, entries, voucher=voucher)[1])
    insert_rows(session, ledger)

    # Its PDF and, E1, its e-invoice.
    documents = [
        uow.document_rows(journal, item.order.origin)
        for item, journal in zip(planned, journals, strict=True)
    ]
    uow.insert_documents([document for written in documents for document in written])

    now = utcnow()
    for item, journal, written in zip(planned, journals, documents, strict=True):
        record = item.record
        record.status, record.error = "succeeded", None
        record.result = {
            "journal": journal.number,
            "documents": [document.filename for document in written],
        }
        record.attempts = max(record.attempts, 1)
        record.finished_at = now
        result.outcomes.append(record.outcome())


def _journal_of(item: _Planned) -> Journal:
    assert item.journal is not None
    return item.journal


def _link_registrations(
    session: Session, planned: Sequence[_Planned], journals: Sequence[Journal]
) -> None:
    """A packing slip's registrations are active already (no activation to guard): each goes
    on its invoice line, and the line's link to it is recorded (the S11 inquiry)."""
    registrations: list[SerialRegistration] = []
    invoice_lines_of: list[int] = []
    links = []
    for item, journal in zip(planned, journals, strict=True):
        for plan, journal_line in zip(item.plans, journal.lines, strict=True):
            for registration in plan.target.registrations:
                registrations.append(registration)
                invoice_lines_of.append(journal_line.id)
                links.append(
                    JournalLineSerial(
                        journal_line_id=journal_line.id, registration_id=registration.id
                    )
                )
    update_by_id(session, registrations, {"invoice_line_id": invoice_lines_of})
    insert_rows(session, links)
