"""Contention through real workers: many requests on one order, or for one serial, delivered at
once to several worker processes (three workers of two processes each)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from docpost.pipeline import queries
from docpost.pipeline.runner.request_record import record_queued
from docpost.schema import Journal, JournalLine, PackingSlipInvoicing, SerialRegistration
from docpost.tasks.publish import publish_request
from tests.faults.harness import (
    Stack,
    assert_clean,
    audit,
    executed_per_worker,
    wait_final,
    wait_idle,
    wait_rendered,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

WORKERS = ("busy-a", "busy-b", "busy-c")


def run_at_once(
    stack: Stack, requests: list[dict[str, Any]]
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Record every request as queued, publish them all in one burst to the ready workers, and
    wait until all are final, their PDFs rendered and the queues empty. Returns the request
    ids and their outcomes by id."""
    from docpost.tasks.client import outcomes_of

    stack.workers_ready(*WORKERS)
    ids = [record_queued(request, stack.sessions) for request in requests]
    for request in requests:
        publish_request(request)
    wait_final(stack.sessions, ids, timeout=120.0)
    wait_rendered(stack.sessions, timeout=120.0)
    wait_idle(stack.broker)
    return ids, outcomes_of(stack.sessions, ids)


def test_fifty_invoices_for_one_order_never_invoice_more_than_shipped(stack: Stack) -> None:
    stack.load_catalog()
    order = "SO-BUSY"
    stack.load(
        {
            "request_id": "busy-order",
            "kind": "upsert_order",
            "actor": "erp",
            "payload": {
                "order": order,
                "customer": "US-004",
                "lines": [{"line": 1, "item": "S0021", "quantity": "20", "unit_price": "150.00"}],
            },
        },
        *(
            {
                "request_id": f"busy-ps-{n}",
                "kind": "post_packing_slip",
                "actor": "warehouse-1",
                "payload": {"order": order, "lines": [{"line": 1, "quantity": quantity}]},
            }
            for n, quantity in enumerate(("4", "6"))
        ),
    )
    shipped = Decimal(10)
    slips = ["PS-000001", "PS-000002"]

    # 50 invoice requests on the shipped packing slips: 30 for one unit, 10 for two, then 10
    # for whatever is left. 10 units are shipped (of 20 ordered): at most 10 can be invoiced.
    def invoice(n: int, lines: list[dict[str, Any]] | None) -> dict[str, Any]:
        payload: dict[str, Any] = {"order": order, "packing_slips": slips}
        if lines is not None:
            payload["lines"] = lines
        return {"request_id": f"busy-inv-{n:02d}", "kind": "post_invoice", "actor": "erp", "payload": payload}  # fmt: skip

    requests = [
        invoice(n, None if n >= 40 else [{"line": 1, "quantity": "2" if n % 4 == 3 else "1"}])
        for n in range(50)
    ]
    ids, outcomes = run_at_once(stack, requests)
    statuses = Counter(o["status"] for o in outcomes.values())
    codes = Counter(o["error"]["code"] for o in outcomes.values() if o["status"] == "rejected")
    result = audit(stack.sessions, dict.fromkeys(ids, 1))
    with stack.sessions() as session:
        line = queries.show_order(session, order)["lines"][0]
        invoiced_lines = session.scalar(
            select(func.sum(JournalLine.quantity))
            .join(Journal, Journal.id == JournalLine.journal_id)
            .where(Journal.kind == "invoice")
        )
        per_slip_line = dict(
            session.execute(
                select(PackingSlipInvoicing.packing_slip_line_id, func.sum(PackingSlipInvoicing.quantity))
                .group_by(PackingSlipInvoicing.packing_slip_line_id)
            ).all()
        )  # fmt: skip
        slip_lines = dict(
            session.execute(
                select(JournalLine.id, JournalLine.quantity)
                .join(Journal, Journal.id == JournalLine.journal_id)
                .where(Journal.number.in_(slips))
            ).all()
        )
        receivable = Decimal(
            next(
                a["balance"]
                for a in queries.ledger(session)["trial_balance"]["accounts"]
                if a["account"] == "1200"
            )
        )
    print(
        f"\nfaults: contention invoices=50 workers={len(WORKERS)}x2 "
        f"succeeded={statuses['succeeded']} rejected={statuses['rejected']} codes={dict(codes)} "
        f"shipped={shipped} invoiced={line['invoiced']} delivered={line['delivered']} "
        f"executed_by={executed_per_worker(stack)} {result.line()}"
    )
    assert statuses["succeeded"] + statuses["rejected"] == 50, statuses
    assert Decimal(line["invoiced"]) == shipped == Decimal(invoiced_lines)
    assert Decimal(line["delivered"]) == shipped, "invoicing named packing slips ships nothing"
    assert all(per_slip_line[i] <= q for i, q in slip_lines.items()), (per_slip_line, slip_lines)
    assert sum(per_slip_line.values()) == shipped
    assert receivable == shipped * Decimal("150.00")
    assert set(codes) <= {"invoice.quantity_exceeds_shipped", "invoice.nothing_shipped"}, codes
    assert result.numbers["INV"] == statuses["succeeded"]
    assert_clean(result, journals=2 + statuses["succeeded"])


def test_two_orders_racing_for_one_serial_through_workers_exactly_one_wins(stack: Stack) -> None:
    stack.load_catalog()
    rounds = 10
    stack.load(
        *(
            {
                "request_id": f"race-order-{side}{n}",
                "kind": "upsert_order",
                "actor": "erp",
                "payload": {
                    "order": f"SO-R{side}{n}",
                    "customer": "US-004",
                    "lines": [{"line": 1, "item": "1000", "quantity": "1", "unit_price": "1900"}],
                },
            }
            for n in range(rounds)
            for side in "AB"
        )
    )
    requests = [
        {
            "request_id": f"race-ps-{side}{n}",
            "kind": "post_packing_slip",
            "actor": "warehouse-1",
            "payload": {
                "order": f"SO-R{side}{n}",
                "lines": [{"line": 1, "quantity": "1", "serials": [f"RACE-{n}"]}],
            },
        }
        for n in range(rounds)
        for side in "AB"
    ]
    ids, outcomes = run_at_once(stack, requests)
    for n in range(rounds):
        pair = [outcomes[f"race-ps-A{n}"], outcomes[f"race-ps-B{n}"]]
        assert sorted(o["status"] for o in pair) == ["rejected", "succeeded"], pair
        winner = next(o for o in pair if o["status"] == "succeeded")
        loser = next(o for o in pair if o["status"] == "rejected")
        assert (loser["error"]["code"], loser["error"]["rule"]) == ("serial.in_use", "S5"), loser
        assert (
            f"serial 'RACE-{n}' of item 1000 is already on packing slip "
            f"{winner['result']['journal']}" in loser["error"]["message"]
        ), (loser, winner)
    with stack.sessions() as session:
        active = Counter(
            session.scalars(
                select(SerialRegistration.serial).where(SerialRegistration.active.is_(True))
            )
        )
    result = audit(stack.sessions, dict.fromkeys(ids, 1))
    print(
        f"\nfaults: serial-race rounds={rounds} requests={len(ids)} workers={len(WORKERS)}x2 "
        f"winners={result.statuses['succeeded']} losers={result.statuses['rejected']} "
        f"(serial.in_use, S5) executed_by={executed_per_worker(stack)} {result.line()}"
    )
    assert active == {f"RACE-{n}": 1 for n in range(rounds)}
    assert result.statuses == {"succeeded": rounds, "rejected": rounds}
    assert_clean(result, journals=rounds)
