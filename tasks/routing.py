"""Task names and which queue each message goes to.

Three queues: `posting` for interactive requests, `bulk` for bulk invoicing and its fan-out
(hundreds of invoices must not delay a warehouse waiting on a packing slip), `documents`
for rendering (slow, memory-hungry, run by recycled processes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

POSTING, DOCUMENTS, BULK = "posting", "documents", "bulk"
QUEUES = (POSTING, DOCUMENTS, BULK)

EXECUTE_REQUEST = "docpost.execute_request"
INVOICE_BATCH = "docpost.invoice_batch"
RENDER_DOCUMENT = "docpost.render_document"
RELAY_OUTBOX = "docpost.relay_outbox"
SCHEDULED_BULK_INVOICE = "docpost.scheduled_bulk_invoice"
SCHEDULED_REVENUE_RECOGNITION = "docpost.scheduled_revenue_recognition"

# Heavy work, kept off the queue interactive postings wait on: the periodic runs, and catalog
# loads (100,000 customers in one request take minutes; a warehouse's packing slip must not
# wait behind them). Every worker that consumes `posting` consumes `bulk` too (docker-compose,
# `docpost worker` without -Q), so a catalog load is never left without a consumer.
BULK_KINDS = frozenset({"bulk_invoice", "recognize_revenue", "upsert_catalog"})


def queue_for_request(body: Any, fan_out: bool = False) -> str:
    """The queue of an execute_request message. `fan_out`: published by the outbox on behalf
    of a bulk request (bulk invoicing's per-order invoices)."""
    if fan_out:
        return BULK
    kind = body.get("kind") if isinstance(body, Mapping) else None
    if isinstance(kind, str) and kind in BULK_KINDS:
        return BULK
    return POSTING


_FIXED_QUEUES = {
    INVOICE_BATCH: BULK,
    RENDER_DOCUMENT: DOCUMENTS,
    SCHEDULED_BULK_INVOICE: BULK,
    SCHEDULED_REVENUE_RECOGNITION: BULK,
    RELAY_OUTBOX: POSTING,
}


def route_task(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **_: Any
) -> dict[str, str] | None:
    """Celery router (task_routes). A queue given when publishing wins over this; upstream
    systems that send `docpost.execute_request` without one get the queue of its kind."""
    if name == EXECUTE_REQUEST:
        body = (args or [None])[0] if args else (kwargs or {}).get("body")
        return {"queue": queue_for_request(body)}
    if name in _FIXED_QUEUES:
        return {"queue": _FIXED_QUEUES[name]}
    return None
