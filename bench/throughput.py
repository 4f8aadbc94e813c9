"""Throughput through the real queue: Celery worker subprocesses on Redis and PostgreSQL.

Every figure here is timed the same way, so that they compare: the work is queued first
(set-up, not timed), then a worker is started; the clock starts when the worker reports
itself ready (celery's worker_ready, noted in Redis by bench.noop) and stops when the last
piece of work finished, as noted by the worker itself (the Redis counter's last INCR for
the queue floor, the latest `finished_at` of the requests or `rendered_at` of the
documents). The client still waits for every outcome with `docpost.tasks.client.wait_all`, during
the run, as a submitter would, and every outcome is checked.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import Database, vat_rows
from bench.cpu import backends, backends_cpu, with_application_name, worker_cpu
from bench.noop import NOOP_TASK, RAW_DSN, RAW_POSTING_TASK, RAW_SCHEMA
from bench.prepare import prepare_orders, progress
from bench.scenarios import SCENARIOS
from bench.workers import Broker, running_worker
from docpost.schema import Document, Journal, RequestRecord
from docpost.tasks.routing import BULK, DOCUMENTS, POSTING, QUEUES

POSTING_QUEUES = (POSTING, BULK)  # `docpost worker -Q posting,bulk`: renders go elsewhere
TIMEOUT = 1800.0


def _wait_until(condition: Any, what: str, timeout: float = TIMEOUT, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done after {timeout} s")
        time.sleep(every)


# --- (1) the queue floor ---------------------------------------------------------------------


def queue_floor(broker: Broker, tasks: int, processes: int = 2) -> dict[str, Any]:
    """A task that does nothing, through the same app and configuration, `processes` pool
    processes: what the queue alone costs per message."""
    from docpost.tasks.app import app

    broker.reset_marks()
    with app.producer_or_acquire() as producer:
        for _ in range(tasks):
            app.send_task(NOOP_TASK, args=[tasks], queue=POSTING, producer=producer)
    with running_worker(broker, {}, [POSTING], processes, "floor") as (worker, ready):
        cpu_at_ready = worker_cpu(worker.process.pid)
        _wait_until(lambda: broker.done() >= tasks, "queue floor")
        finished = broker.finished_at()
        cpu = worker_cpu(worker.process.pid) - cpu_at_ready
    assert finished is not None
    return {
        "queue_floor_tps": round(tasks / (finished - ready), 1),
        "queue_floor_worker_cpu_ms": round(1000 * cpu / tasks, 2),
    }


def queue_ceiling(db: Database, broker: Broker, tasks: int, processes: int = 2) -> dict[str, Any]:
    """The posting's writes by raw SQL (the database floor's transaction) inside a task of the
    same app: what the queue and the database together allow, with no docpost code at all.
    No implementation of the posting through this queue can beat it on this machine."""
    from bench import db_floor
    from docpost.tasks.app import app

    orders = [f"CEILING-{n}" for n in range(tasks)]
    progress(f"  ceiling: creating {tasks} orders (not timed)")
    db_floor.prepare(db, orders)
    broker.reset_marks()
    with app.producer_or_acquire() as producer:
        for number in orders:
            app.send_task(RAW_POSTING_TASK, args=[number, tasks], queue=POSTING, producer=producer)
    env = {RAW_DSN: db_floor.psycopg2_dsn(db), RAW_SCHEMA: db.schema}
    with running_worker(broker, env, [POSTING], processes, "ceiling") as (_, ready):
        _wait_until(lambda: broker.done() >= tasks, "queue ceiling")
        finished = broker.finished_at()
    assert finished is not None
    return {"queue_ceiling_tps": round(tasks / (finished - ready), 1)}


# --- (2), (6) posting --------------------------------------------------------------------------


def _finished_span(db: Database, request_ids: Sequence[str]) -> float:
    """The wall-clock time (epoch seconds) the last of the requests finished."""
    with db.sessions() as session:
        last = session.scalar(
            select(func.max(RequestRecord.finished_at)).where(
                RequestRecord.request_id.in_(list(request_ids))
            )
        )
    assert last is not None
    return last.timestamp()


def _check_outcomes(outcomes: list[dict[str, Any]], expected: int, what: str) -> None:
    bad = [o for o in outcomes if o["status"] != "succeeded"]
    if bad or len(outcomes) != expected:
        raise RuntimeError(f"{what}: {len(bad)} of {len(outcomes)} not succeeded, e.g. {bad[:1]}")


def posting(
    db: Database,
    broker: Broker,
    requests: int,
    processes: int = 2,
    queues: Sequence[str] = POSTING_QUEUES,
    label: str = "posting",
    profile: Path | None = None,
    scenario: str = "usmf",
) -> dict[str, Any]:
    """Packing slips of `scenario` (bench.scenarios: usmf 3 lines, tax and no_tax 4 lines, 2
    serials each) executed end to end by `processes` pool processes consuming `queues`:
    requests per second from worker-ready to the last one finished.

    With the default queues, the renders the postings queue on `documents` are not consumed
    (they wait for `renders`); with QUEUES, the same processes render them as they come."""
    from docpost.tasks.client import submit, wait_all

    tag = uuid.uuid4().hex[:6]
    numbers = [f"{label.upper()}-{tag}-{n}" for n in range(requests)]
    progress(f"  {label}: creating {requests} orders (not timed)")
    prepare_orders(db.url, numbers, scenario=scenario)
    progress(f"  {label}: submitting {requests} packing slips (not timed)")
    packing_slip = SCENARIOS[scenario].packing_slip
    handles = [submit(packing_slip(number), db.sessions) for number in numbers]
    application = f"bench-{label}-{tag}"
    env = {"DOCPOST_DATABASE_URL": with_application_name(db.url, application)}
    figures: dict[str, Any] = {}
    with running_worker(broker, env, queues, processes, label, profile=profile) as (worker, ready):
        cpu_at_ready, client_at_ready = worker_cpu(worker.process.pid), time.process_time()
        outcomes = list(wait_all(handles, TIMEOUT))
        _check_outcomes(outcomes, requests, label)
        last_posting = _finished_span(db, [h.request_id for h in handles])
        figures["rps"] = round(requests / (last_posting - ready), 1)
        if DOCUMENTS not in queues:
            figures.update(_cpu_per(requests, worker.process.pid, cpu_at_ready, db, application))
            figures["client_cpu_ms"] = round(
                1000 * (time.process_time() - client_at_ready) / requests, 2
            )
        if DOCUMENTS in queues:
            # The same worker renders too: when was the last of these postings' PDFs done?
            _wait_until(lambda: _pending_documents(db, numbers) == 0, f"{label} renders")
            last_render = _rendered_span(db, numbers)
            figures["renders_done_s"] = round(last_render - ready, 2)
    figures["numbers"] = numbers
    return figures


def _cpu_per(
    count: int, worker_pid: int, cpu_at_ready: float, db: Database, application: str
) -> dict[str, float]:
    """CPU ms per piece of work: the worker's processes, and the PostgreSQL backends serving
    them (found by application_name, read before the worker stops and closes them)."""
    worker = worker_cpu(worker_pid) - cpu_at_ready
    database = backends_cpu(backends(db.engine, application))
    return {
        "worker_cpu_ms": round(1000 * worker / count, 2),
        "db_cpu_ms": round(1000 * database / count, 2),
    }


# --- renders ---------------------------------------------------------------------------------


def _documents_of(numbers: Sequence[str]) -> Any:
    """The packing slips' documents of these orders: a confirmation's, written in set-up, is
    never relayed (its outbox row waits) and not timed."""
    from docpost.schema import SalesOrder

    orders = select(SalesOrder.id).where(SalesOrder.order_no.in_(list(numbers)))
    journals = select(Journal.id).where(
        Journal.order_id.in_(orders), Journal.kind == "packing_slip"
    )
    return Document.journal_id.in_(journals)


def _pending_documents(db: Database, numbers: Sequence[str]) -> int:
    with db.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Document)
                .where(_documents_of(numbers), Document.status == "pending")
            )
            or 0
        )


def _rendered_span(db: Database, numbers: Sequence[str]) -> float:
    with db.sessions() as session:
        last = session.scalar(select(func.max(Document.rendered_at)).where(_documents_of(numbers)))
    assert last is not None
    return last.timestamp()


def renders(
    db: Database,
    broker: Broker,
    numbers: Sequence[str],
    processes: int = 2,
    profile: Path | None = None,
    max_tasks_per_child: int | None = None,
) -> dict[str, float]:
    """Renders per second: the PDFs that `posting` left on `documents`, rendered by a worker
    consuming only that queue (its pool processes recycled as configured: production's
    DOCPOST_RENDER_MAX_TASKS_PER_CHILD unless `max_tasks_per_child` is given)."""
    with db.sessions() as session:
        total = int(
            session.scalar(select(func.count()).select_from(Document).where(_documents_of(numbers)))
            or 0
        )
    application = f"bench-render-{uuid.uuid4().hex[:6]}"
    env = {"DOCPOST_DATABASE_URL": with_application_name(db.url, application)}
    if max_tasks_per_child is not None:
        env["DOCPOST_RENDER_MAX_TASKS_PER_CHILD"] = str(max_tasks_per_child)
    with running_worker(broker, env, [DOCUMENTS], processes, "render", profile=profile) as (
        worker,
        ready,
    ):
        cpu_at_ready = worker_cpu(worker.process.pid)
        _wait_until(lambda: _pending_documents(db, numbers) == 0, "renders", every=0.2)
        last = _rendered_span(db, numbers)
        # recycled pool processes closed their connections: the database figure is partial
        cpu = _cpu_per(total, worker.process.pid, cpu_at_ready, db, application)
    with db.sessions() as session:
        failed = int(
            session.scalar(
                select(func.count())
                .select_from(Document)
                .where(_documents_of(numbers), Document.status != "rendered")
            )
            or 0
        )
    if failed:
        raise RuntimeError(f"{failed} of {total} documents were not rendered")
    return {
        "renders_per_s": round(total / (last - ready), 1),
        "render_cpu_ms": cpu["worker_cpu_ms"],
    }


# --- (4) bulk invoicing ------------------------------------------------------------------------


def prepare_bulk(db: Database, broker: Broker, orders: int, scenario: str = "usmf") -> list[str]:
    """Set-up of bulk invoicing, not timed: `orders` orders of `scenario` with their packing
    slips posted, their renders relayed and dropped. Returns the order numbers."""
    from docpost.tasks.relay import relay_outbox

    numbers = [f"BULK-{uuid.uuid4().hex[:6]}-{n}" for n in range(orders)]
    progress(f"  bulk ({scenario}): creating {orders} orders and posting their packing slips")
    started = time.monotonic()
    prepare_orders(db.url, numbers, packing_slips=True, scenario=scenario)
    # In production these packing slips went through the queue, whose relay published their
    # render messages at once. Set-up ran them in-process: relay them now (production code),
    # or the timed run's relays would publish 10,000 stale rows on the side.
    relayed = relay_outbox(db.sessions)
    broker.purge(DOCUMENTS)
    progress(f"  bulk: set-up took {time.monotonic() - started:.0f} s ({relayed} renders relayed)")
    return numbers


def bulk_invoicing(
    db: Database,
    broker: Broker,
    orders: int,
    processes: int = 2,
    profile: Path | None = None,
    scenario: str = "usmf",
    prepared: bool = False,
) -> dict[str, Any]:
    """`bulk_invoice` over `orders` orders of `scenario` with posted packing slips (set up
    here unless `prepared` by prepare_bulk), on `processes` pool processes: from submitting
    the bulk request until every invoice request is final. Also how many VAT rows
    (journal_vat) the invoices wrote: with tax, 2 each."""
    from docpost.tasks.client import Handle, fan_out_ids, submit, wait_all
    from docpost.tasks.schedule import bulk_invoice_request

    if not prepared:
        prepare_bulk(db, broker, orders, scenario)
    tag = uuid.uuid4().hex[:6]
    application = f"bench-bulk-{tag}"
    env = {"DOCPOST_DATABASE_URL": with_application_name(db.url, application)}
    bulk_id = f"bench-bulk-{tag}"
    with running_worker(broker, env, POSTING_QUEUES, processes, "bulk", profile=profile) as (
        worker,
        _,
    ):
        cpu_at_start = worker_cpu(worker.process.pid)
        submitted = time.time()
        outcome = submit(bulk_invoice_request(bulk_id, "erp"), db.sessions).wait(TIMEOUT)
        children = [Handle(c, db.sessions) for c in fan_out_ids(outcome)]
        invoices = list(wait_all(children, TIMEOUT))
        _check_outcomes(invoices, orders, "bulk invoices")
        last = _finished_span(db, [h.request_id for h in children])
        fanned_out = _finished_span(db, [bulk_id])
        cpu = _cpu_per(orders, worker.process.pid, cpu_at_start, db, application)
    wall = last - submitted
    return {
        "bulk_worker_cpu_ms_per_invoice": cpu["worker_cpu_ms"],
        "bulk_db_cpu_ms_per_invoice": cpu["db_cpu_ms"],
        "bulk_orders": orders,
        "bulk_wall_s": round(wall, 2),
        "bulk_invoices_per_s": round(orders / wall, 1),
        "bulk_fan_out_s": round(fanned_out - submitted, 2),
        "bulk_vat_rows": vat_rows(db),
    }


__all__ = [
    "QUEUES",
    "bulk_invoicing",
    "posting",
    "prepare_bulk",
    "queue_ceiling",
    "queue_floor",
    "renders",
]
