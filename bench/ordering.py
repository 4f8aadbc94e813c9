"""The cost of per-order ordering (pipeline.runner.ordering, CONTRACT.md "Order of execution").

The same number of postings (packing slips of one unit of a plain item) on 2 worker processes,
in three shapes, each timed as bench.throughput times postings (work queued first, the clock
from worker-ready to the last `finished_at`):

- independent: one packing slip per order, nothing waits (the gate's query only);
- chains: orders of 5 packing slips each, submitted order by order: a request taken while
  the one before it in its order is open is handed back (parked and released, or sent again
  after a countdown);
- one chain: every packing slip on one order, which can only run one at a time.

Each shape also reports the worker's CPU per posting and how many requests were released by
the request before them (outbox rows the releases wrote).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import func, select

from bench.common import Database, ok, request
from bench.cpu import worker_cpu
from bench.prepare import progress
from bench.throughput import POSTING_QUEUES, TIMEOUT, _check_outcomes, _finished_span
from bench.workers import Broker, running_worker
from docpost.schema import OutboxMessage
from docpost.tasks.routing import DOCUMENTS

CHAIN = 5


def _order(number: str, quantity: int) -> dict[str, Any]:
    line = {"line": 1, "item": "S0021", "quantity": str(quantity), "unit_price": "150.00"}
    return request(
        f"order-{number}", "upsert_order", {"order": number, "customer": "US-004", "lines": [line]}
    )


def _slip(number: str, n: int) -> dict[str, Any]:
    payload = {"order": number, "lines": [{"line": 1, "quantity": "1"}]}
    return request(f"ps-{number}-{n}", "post_packing_slip", payload, actor="warehouse-1")


def _releases(db: Database) -> int:
    with db.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.task == "execute_request")
            )
            or 0
        )


def shape(
    db: Database, broker: Broker, label: str, orders: int, per_order: int, processes: int = 2
) -> dict[str, float]:
    """`orders` orders of `per_order` packing slips each, submitted order by order."""
    from docpost.pipeline.runner.execute import execute
    from docpost.tasks.client import submit, wait_all

    tag = uuid.uuid4().hex[:6]
    numbers = [f"ORD-{label.upper()}-{tag}-{n}" for n in range(orders)]
    progress(f"  ordering {label}: {orders} orders x {per_order} packing slips (set-up not timed)")
    for number in numbers:
        ok(execute(_order(number, per_order), db.sessions))
    handles = [
        submit(_slip(number, n), db.sessions) for number in numbers for n in range(per_order)
    ]
    released_before = _releases(db)
    env = {"DOCPOST_DATABASE_URL": db.url}
    with running_worker(broker, env, POSTING_QUEUES, processes, f"ordering-{label}") as (
        worker,
        ready,
    ):
        cpu_at_ready = worker_cpu(worker.process.pid)
        outcomes = list(wait_all(handles, TIMEOUT))
        cpu = worker_cpu(worker.process.pid) - cpu_at_ready
    total = orders * per_order
    _check_outcomes(outcomes, total, f"ordering {label}")
    last = _finished_span(db, [h.request_id for h in handles])
    broker.purge(DOCUMENTS)  # their renders are not measured here
    return {
        "rps": round(total / (last - ready), 1),
        "worker_cpu_ms": round(1000 * cpu / total, 2),
        "released": _releases(db) - released_before,
    }


def measure(db: Database, broker: Broker, requests: int) -> dict[str, Any]:
    """The three shapes, each of `requests` packing slips, in one run (so they compare)."""
    started = time.monotonic()
    chains = max(1, requests // CHAIN)
    total = chains * CHAIN  # the same number of postings in every shape
    independent = shape(db, broker, "independent", total, 1)
    chained = shape(db, broker, "chains", chains, CHAIN)
    one = shape(db, broker, "one-chain", 1, total)
    figures: dict[str, Any] = {"ordering_requests": total}
    for name, result in (("independent", independent), ("chains", chained), ("one_chain", one)):
        figures[f"ordering_{name}_rps"] = result["rps"]
        figures[f"ordering_{name}_worker_cpu_ms"] = result["worker_cpu_ms"]
        figures[f"ordering_{name}_released"] = result["released"]
    for name in ("chains", "one_chain"):
        figures[f"ordering_{name}_ratio"] = round(
            figures[f"ordering_{name}_rps"] / figures["ordering_independent_rps"], 3
        )
    figures["ordering_measure_s"] = round(time.monotonic() - started, 1)
    return figures
