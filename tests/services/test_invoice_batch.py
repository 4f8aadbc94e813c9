"""Bulk invoicing's set-based batches (services.invoice_batch) write what post_invoice writes.

One scenario is built twice, under two tags: serialized items over two packing slips, a bundle
shipped in two halves (B4, B8; its Support component deferred, B11), an order invoiced in part
before, a canceled packing slip (S10), and a packing slip canceled after bulk invoicing looked
(the batch leaves that order out: its own request rejects it). Tag A is invoiced by batches,
tag B by one post_invoice request per order, the way bulk invoicing worked before. Every row
they write is compared, with numbers and tags taken out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from docpost.pipeline.outbox import drain_inline
from docpost.pipeline.runner.execute import execute, run_invoice_batch
from docpost.pipeline.runner.request_record import record_queued
from docpost.pipeline.services.bulk import invoice_request
from docpost.schema import (
    Document,
    Journal,
    JournalLine,
    JournalLineSerial,
    LedgerEntry,
    OutboxMessage,
    PackingSlipInvoicing,
    RequestRecord,
    RevenueScheduleLine,
    SalesOrder,
    SerialRegistration,
)
from tests.conftest import Runner
from tests.services.helpers import counts, order, ship


def build(run: Runner, tag: str) -> tuple[list[str], str]:
    """The scenario's orders under `tag`, all shipped; and the packing slip to cancel once
    bulk invoicing has looked."""
    so = [f"SO-{tag}-{n}" for n in range(1, 6)]
    order(run, so[0], ("1000", "3", "1900.00"), ("S0021", "2", "100.00"))
    ship(run, so[0], {"line": 1, "quantity": "2", "serials": [f"{tag}-1a", f"{tag}-1b"]})
    ship(
        run,
        so[0],
        {"line": 1, "quantity": "1", "serials": [f"{tag}-1c"]},
        {"line": 2, "quantity": "2"},
    )
    order(run, so[1], ("LaptopBundle", "2", "2300.00"), discount_percent="12.5", confirm=True)
    for serial in (f"{tag}-2a", f"{tag}-2b"):
        ship(
            run,
            so[1],
            {"line": 2, "quantity": "1", "serials": [serial]},
            {"line": 3, "quantity": "1"},
            {"line": 4, "quantity": "1"},
        )
    order(run, so[2], ("Support", "3", "450.00"))
    ship(run, so[2], {"line": 1, "quantity": "2"})
    run.ok("post_invoice", {"order": so[2], "lines": [{"line": 1, "quantity": "1"}]})
    order(run, so[3], ("S0021", "4", "100.00"))
    canceled = ship(run, so[3], {"line": 1, "quantity": "2"})
    run.ok("cancel_packing_slip", {"packing_slip": canceled}, actor="warehouse-1")
    ship(run, so[3], {"line": 1, "quantity": "3"})
    order(run, so[4], ("S0021", "1", "100.00"))
    late = ship(run, so[4], {"line": 1, "quantity": "1"})
    return so, late


def bulk(run: Runner, orders: list[str], late: str, handler: str) -> dict[str, dict[str, Any]]:
    """bulk_invoice over the orders; `late` canceled before its invoices run; the invoice
    requests run by batches ("batch") or one by one ("single")."""
    outcome = run.ok("bulk_invoice", {"orders": orders})
    run.ok("cancel_packing_slip", {"packing_slip": late}, actor="warehouse-1")
    outcomes: dict[str, dict[str, Any]] = {}

    def batch(payload: dict[str, Any]) -> None:
        for child in run_invoice_batch(payload["bodies"], run.sessions).outcomes:
            outcomes[child["request_id"]] = child

    def single(payload: dict[str, Any]) -> None:
        for body in payload["bodies"]:
            child = execute(body, run.sessions)
            outcomes[child["request_id"]] = child

    handlers: dict[str, Callable[[dict[str, Any]], None]] = {"batch": batch, "single": single}
    drain_inline(run.sessions, {"invoice_batch": handlers[handler]})
    assert sorted(outcomes) == sorted(outcome["requests"])
    return outcomes


def written(run: Runner, orders: list[str], tag: str) -> dict[str, Any]:
    """Everything the invoices of these orders wrote, numbers and the tag taken out."""
    numbers: dict[str, str] = {}

    def plain(value: Any) -> Any:
        text = str(value)
        for number, alias in numbers.items():
            text = text.replace(number, alias)
        return re.sub(rf"\b{tag}\b", "T", text)

    seen: dict[str, Any] = {}
    with run.sessions() as session:
        for order_no in orders:
            order_row = session.scalars(
                select(SalesOrder).where(SalesOrder.order_no == order_no)
            ).one()
            journals = session.scalars(
                select(Journal).where(Journal.order_id == order_row.id).order_by(Journal.id)
            ).all()
            for n, journal in enumerate(journals):
                numbers[journal.number] = f"{journal.kind}#{n}"
            line_position = {
                ln.id: (numbers[j.number], ln.position) for j in journals for ln in j.lines
            }
            invoices = [j for j in journals if j.kind == "invoice"]
            registrations = list(
                session.scalars(
                    select(SerialRegistration).where(
                        SerialRegistration.sales_line_id.in_([ln.id for ln in order_row.lines])
                    )
                )
            )
            serial_of = {r.id: plain(r.serial) for r in registrations}
            rows: dict[str, Any] = {
                "order lines": [
                    (ln.line_no, ln.delivered_qty, ln.invoiced_qty, ln.invoiced_amount)
                    for ln in order_row.lines
                ],
                "registrations": sorted(
                    (
                        plain(r.serial),
                        r.active,
                        line_position.get(r.packing_slip_line_id),  # type: ignore[arg-type]
                        line_position.get(r.invoice_line_id),  # type: ignore[arg-type]
                    )
                    for r in registrations
                ),
            }
            for invoice in invoices:
                ids = [ln.id for ln in invoice.lines]
                rows[numbers[invoice.number]] = {
                    "head": (invoice.total_amount, invoice.currency, invoice.customer_code),
                    "lines": [
                        tuple(
                            plain(getattr(ln, c.key))
                            for c in JournalLine.__table__.columns
                            if c.key not in ("id", "journal_id", "sales_line_id")
                        )
                        for ln in invoice.lines
                    ],
                    "ledger": sorted(
                        (e.account, e.amount, plain(e.text), e.posting_date)
                        for e in session.scalars(
                            select(LedgerEntry).where(LedgerEntry.journal_id == invoice.id)
                        )
                    ),
                    "schedule": sorted(
                        (
                            line_position[s.invoice_line_id],
                            s.schedule_code,
                            s.occurrence,
                            s.period,
                            s.amount,
                        )
                        for s in session.scalars(
                            select(RevenueScheduleLine).where(
                                RevenueScheduleLine.invoice_id == invoice.id
                            )
                        )
                    ),
                    "from packing slips": sorted(
                        (
                            line_position[p.invoice_line_id],
                            line_position[p.packing_slip_line_id],
                            p.quantity,
                        )
                        for p in session.scalars(
                            select(PackingSlipInvoicing).where(
                                PackingSlipInvoicing.invoice_line_id.in_(ids)
                            )
                        )
                    ),
                    "serials": sorted(
                        (line_position[s.journal_line_id], serial_of[s.registration_id])
                        for s in session.scalars(
                            select(JournalLineSerial).where(
                                JournalLineSerial.journal_line_id.in_(ids)
                            )
                        )
                    ),
                    "documents": [
                        (d.kind, d.revision, plain(d.filename), d.status)
                        for d in session.scalars(
                            select(Document).where(Document.journal_id == invoice.id)
                        )
                    ],
                    "outcome": plain(
                        {
                            k: v
                            for k, v in session.get(RequestRecord, invoice.request_id)
                            .outcome()  # type: ignore[union-attr]
                            .items()
                            if k != "request_id"
                        }
                    ),
                }
            seen[plain(order_no)] = rows
    return seen


def test_batched_bulk_invoicing_writes_what_one_request_per_order_writes(usmf: Runner) -> None:
    batched, late_a = build(usmf, "A")
    single, late_b = build(usmf, "B")
    outcomes_a = bulk(usmf, batched, late_a, "batch")
    outcomes_b = bulk(usmf, single, late_b, "single")

    def statuses(outcomes: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
        return sorted(
            (
                re.sub(r"SO-[AB]-(\d+):[0-9a-f]+$", r"SO-\1", request_id),
                o["status"],
                re.sub(r"(SO-[AB]-|PS-\d+)", "", o.get("error", {}).get("message", "")),
            )
            for request_id, o in outcomes.items()
        )

    assert statuses(outcomes_a) == statuses(outcomes_b)
    rejected = [o for o in outcomes_a.values() if o["status"] == "rejected"]
    assert [o["error"]["code"] for o in rejected] == ["packing_slip.canceled"]
    assert written(usmf, batched, "A") == written(usmf, single, "B")
    assert len([o for o in outcomes_a.values() if o["status"] == "succeeded"]) == 4


def test_a_batch_delivered_twice_invoices_nothing_twice(usmf: Runner) -> None:
    orders, _ = build(usmf, "A")
    usmf.ok("bulk_invoice", {"orders": orders})
    with usmf.sessions() as session:
        payloads = [m.payload for m in session.scalars(select(OutboxMessage))]
    bodies = [b for p in payloads if "bodies" in p for b in p["bodies"]]
    first = run_invoice_batch(bodies, usmf.sessions)
    journals = counts(usmf)["journals"]
    again = run_invoice_batch(bodies, usmf.sessions)
    assert counts(usmf)["journals"] == journals
    assert sorted(again.outcomes, key=str) == sorted(first.outcomes, key=str)
    assert again.outbox == []  # nothing new to render


def test_a_child_its_actor_may_not_post_is_rejected_by_its_own_request(usmf: Runner) -> None:
    """M5 through the batch: the child is left out, and its own request names the duty."""
    order(usmf, "SO-1", ("S0021", "1", "100.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "1"})
    usmf.ok("upsert_catalog", {"actors": [{"actor": "clerk", "duties": []}]})
    child = invoice_request("SO-1", ["PS-000001"], "clerk")
    record_queued(child, usmf.sessions)
    done = run_invoice_batch([child], usmf.sessions)
    [outcome] = done.outcomes
    assert outcome["status"] == "rejected"
    assert outcome["error"]["code"] == "actor.missing_duty"
    assert outcome["error"]["message"] == (
        "actor 'clerk' may not post invoices; that needs the duty post_sales_documents"
    )


def test_a_second_child_of_one_order_runs_after_the_batch_and_sees_the_first(
    usmf: Runner,
) -> None:
    """B8 and S7 across two children of one order in one batch: the second is left out of the
    set-based write, runs on its own afterwards, and finds nothing left to invoice."""
    order(usmf, "SO-1", ("S0021", "2", "100.00"))
    slip = ship(usmf, "SO-1")
    first, second = (invoice_request("SO-1", [slip], "erp") for _ in range(2))
    second["request_id"] += ":again"
    for child in (first, second):
        record_queued(child, usmf.sessions)
    outcomes = {
        o["request_id"]: o for o in run_invoice_batch([first, second], usmf.sessions).outcomes
    }
    assert outcomes[first["request_id"]]["status"] == "succeeded"
    assert outcomes[second["request_id"]]["error"]["code"] == "invoice.nothing_shipped"
    with usmf.sessions() as session:
        invoiced = session.scalars(select(SalesOrder).where(SalesOrder.order_no == "SO-1")).one()
        assert [ln.invoiced_qty for ln in invoiced.lines] == [2]
