"""bulk_invoice: one invoice request per order with posted, not yet invoiced packing slips.

The invoices are separate requests, recorded `queued` by this request and published through
the outbox after it commits, in batches that services.invoice_batch invoices set-based, each
child with its own outcome. Request ids derive from the order and its packing slips: running
bulk invoicing again for the same packing slips finds their outcomes and invoices nothing
twice.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from docpost.pipeline.contract import BulkInvoice, parse_request
from docpost.pipeline.rules.packing_slips import standing_ids
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import Journal, JournalLine, PackingSlipInvoicing, RequestRecord, SalesOrder
from docpost.schema.types import utcnow

CHUNK = 1000  # ids per IN list
# Orders invoiced per transaction (services.invoice_batch): large enough that a transaction's
# fixed costs vanish, small enough that the batches of a large run spread over the workers
# and that one batch holds the invoice number series only briefly.
BATCH = 50


def bulk_invoice(uow: UnitOfWork, cmd: BulkInvoice) -> dict[str, Any]:
    uow.require_duties_of("bulk_invoice")
    open_slips = uninvoiced_packing_slips(uow, cmd.customer, cmd.orders)
    children = [
        invoice_request(order_no, slips, uow.actor_name)
        for order_no, slips in sorted(open_slips.items())
    ]
    record_children_queued(uow, children)
    for start in range(0, len(children), BATCH):
        uow.add_outbox("invoice_batch", {"bodies": children[start : start + BATCH]})
    requests = [child["request_id"] for child in children]
    return {"orders": len(requests), "requests": requests}


def record_children_queued(uow: UnitOfWork, children: list[dict[str, Any]]) -> None:
    """The invoice requests are `queued` as soon as this request commits, so whoever reads
    its outcome can look each of them up at once. Children already known (a second run over
    the same packing slips) keep their rows and outcomes."""
    for start in range(0, len(children), CHUNK):
        chunk = [parse_request(child) for child in children[start : start + CHUNK]]
        known = set(
            uow.session.scalars(
                select(RequestRecord.request_id).where(
                    RequestRecord.request_id.in_([r.request_id for r in chunk])
                )
            )
        )
        now = utcnow()
        rows = [
            {**r.record_fields(), "status": "queued", "attempts": 0, "created_at": now}
            for r in chunk
            if r.request_id not in known
        ]
        if rows:
            uow.session.execute(insert(RequestRecord), rows)


def invoice_request(order_no: str, slips: list[str], actor: str) -> dict[str, Any]:
    digest = hashlib.sha256("\n".join(sorted(slips)).encode()).hexdigest()[:16]
    return {
        "request_id": f"bulk-invoice:{order_no}:{digest}",
        "kind": "post_invoice",
        "actor": actor,
        "payload": {"order": order_no, "packing_slips": sorted(slips)},
    }


def uninvoiced_packing_slips(
    uow: UnitOfWork, customer: str | None, orders: list[str] | None
) -> dict[str, list[str]]:
    """Order number -> its packing slips with quantity not yet invoiced (in three queries,
    whatever the number of orders)."""
    query = (
        select(Journal.id, Journal.number, Journal.reverses_id, SalesOrder.order_no)
        .join(SalesOrder, SalesOrder.id == Journal.order_id)
        .where(Journal.kind == "packing_slip")
    )
    if customer is not None:
        query = query.where(Journal.customer_code == customer)
    if orders is not None:
        query = query.where(SalesOrder.order_no.in_(orders))
    rows = uow.session.execute(query).all()
    standing = standing_ids((r.id, r.reverses_id) for r in rows)
    slips = {r.id: r for r in rows if r.id in standing}
    if not slips:
        return {}
    shipped: dict[int, Decimal] = defaultdict(Decimal)
    line_slip: dict[int, int] = {}
    for line_id, journal_id, quantity in uow.session.execute(
        select(JournalLine.id, JournalLine.journal_id, JournalLine.quantity).where(
            JournalLine.journal_id.in_(list(slips))
        )
    ):
        shipped[journal_id] += quantity
        line_slip[line_id] = journal_id
    invoiced: dict[int, Decimal] = defaultdict(Decimal)
    for ps_line_id, quantity in uow.session.execute(
        select(PackingSlipInvoicing.packing_slip_line_id, PackingSlipInvoicing.quantity).where(
            PackingSlipInvoicing.packing_slip_line_id.in_(list(line_slip))
        )
    ):
        invoiced[line_slip[ps_line_id]] += quantity
    result: dict[str, list[str]] = defaultdict(list)
    for journal_id, row in slips.items():
        if shipped[journal_id] > invoiced[journal_id]:
            result[row.order_no].append(row.number)
    return dict(result)
