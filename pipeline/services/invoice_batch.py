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

from docpost.pipeline.contract import PostInvoice, Request
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.tax import ReceiptPlan, VatPlan
from docpost.pipeline.services.invoices import (
    InvoicePlan,
    InvoiceTax,
    invoice_lines,
    invoiced_quantities,
    named_packing_slips,
    open_registrations,
    plan_invoice,
    plan_invoice_tax,
    record_packing_slip_portions,
    shipments_from,
    standing_of,
    voucher_entries,
    write_invoice_tax,
)
from docpost.pipeline.services.journal import add_line, frozen_seller, new_journal, post_voucher
from docpost.pipeline.services.lines import require_exploded
from docpost.pipeline.services.posting import tax_setup
from docpost.pipeline.services.registrations import link_to_journal_line
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import (
    Journal,
    OutboxMessage,
    RequestRecord,
    SalesOrder,
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
    """Journals and lines first (one flush: their ids), then everything that refers to them
    (a second), then the render messages and the outcomes (written at commit)."""
    session = uow.session
    seller = frozen_seller(uow)  # D6: once for the batch, as its tax setup read the company
    for item, number in zip(planned, uow.next_numbers("INV", len(planned)), strict=True):
        journal = new_journal(
            item.uow,
            "invoice",
            "INV",
            item.order,
            number=number,
            document_date=item.tax.date,
            seller=seller,
        )
        for journal_line in invoice_lines(item.plans):
            add_line(journal, journal_line)
        journal.total_amount = sum((ln.amount or ZERO for ln in journal.lines), ZERO)
        item.vat = write_invoice_tax(journal, item.order, item.tax)
        item.journal = journal
    session.flush()

    documents = []
    for item, voucher in zip(planned, uow.next_numbers("VOU", len(planned)), strict=True):
        journal = item.journal
        assert journal is not None
        record_packing_slip_portions(session, item.plans, journal.lines)
        for plan, journal_line in zip(item.plans, journal.lines, strict=True):
            # A packing slip's registrations are active already: no activation to guard.
            for registration in plan.target.registrations:
                registration.invoice_line_id = journal_line.id
            link_to_journal_line(uow, journal_line, plan.target.registrations)
        _add_voucher(uow, journal, item.vat, voucher)
        # uow.add_documents would flush for each invoice's ids: one flush serves the batch.
        # Its PDF and, E1, its e-invoice.
        documents.append(uow.pending_documents(journal, item.order.origin))
    session.flush()

    now = utcnow()
    for item, written in zip(planned, documents, strict=True):
        for document in written:
            uow.add_render(document)
        record = item.record
        record.status, record.error = "succeeded", None
        record.result = {
            "journal": item.journal.number,  # type: ignore[union-attr]
            "documents": [document.filename for document in written],
        }
        record.attempts = max(record.attempts, 1)
        record.finished_at = now
        result.outcomes.append(record.outcome())


def _add_voucher(
    uow: UnitOfWork, journal: Journal, vat: VatPlan | ReceiptPlan | None, voucher: str
) -> None:
    """The invoice's voucher (L1, with its VAT, T3) and its deferred revenue schedule (B11),
    as post_invoice writes them, under a voucher number taken with the batch's others."""
    post_voucher(uow, journal, voucher_entries(uow, journal, vat), voucher=voucher)
