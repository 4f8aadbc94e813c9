"""Scaling: invoices per second on 1, 2, 4 and 8 worker processes, and the number series'
row lock that caps them (issue 19).

    python -m bench.scaling [--requests N] [--processes 1 2 4 8] [--bulk N] [--db-floor N]

Each run posts N invoices of the tax scenario (bench.scenarios.TAX: two VAT groups, a due
date, a KID, an output VAT voucher per code), one `post_invoice` request per order whose
packing slip was posted in set-up, through a real Celery worker (`-Q posting,bulk`, `p`
pool processes) timed as bench.throughput times postings: from the worker reporting itself
ready to the last request's `finished_at`. Every invoice takes a number of the INV series and
one of VOU (vouchers), each by an UPDATE of its number_series row, locked until commit (L2):
the invoices of one series run through that lock one at a time.

The worker loads bench.lock_probe, which times inside each pool process, per transaction,
the series lock's hold (the first number_series UPDATE returned -> the commit done) and the
wait for it (the UPDATE's own time). From those:

- utilisation = the hold times summed over the run's wall time: the share of the time the
  series was locked; at 1.0 the series is the ceiling and more processes only queue on it;
- the series ceiling ~ 1 / mean hold on one process (no one waits, no core is shared): the
  most invoices per second one series allows, whatever the workers;
- bulk invoicing takes a batch's 50 numbers at once (--bulk N): one hold per batch, so the
  lock's time per invoice is the batch's hold / 50;
- several series (per legal entity, per store) do not share a row: k series ~ k x the
  ceiling, until the database's own CPU or disk is the limit (its CPU per invoice is measured
  here from the backends, and bench.db_floor's raw-SQL posting with --db-floor).

The machine has 2 cores: 4 and 8 processes oversubscribe them (with PostgreSQL and the
broker on the same cores), which shows where the plateau is, not what 8 cores would do.
Figures while other work runs on the machine are noisy: the CPU per invoice is the steadier.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

from bench.common import Database, request
from bench.cpu import with_application_name, worker_cpu
from bench.lock_probe import ENABLE, clear_holds, read_holds, summary
from bench.prepare import prepare_orders, progress
from bench.throughput import POSTING_QUEUES, TIMEOUT, _check_outcomes, _cpu_per, _finished_span
from bench.workers import Broker, running_worker
from docpost.tasks.routing import DOCUMENTS

PROCESSES = (1, 2, 4, 8)
PROBE = "bench.lock_probe"


def invoice_request(number: str) -> dict[str, Any]:
    """The invoice of the order's posted packing slips (S7), as bench.tax_cost posts it."""
    return request(f"inv-{number}", "post_invoice", {"order": number})


def prepare(db: Database, broker: Broker, runs: int, requests: int) -> list[list[str]]:
    """Orders of the tax scenario with their packing slips posted, `requests` per run (set-up,
    not timed); the packing slips' renders relayed and dropped, as bench.throughput's bulk
    set-up does."""
    from docpost.tasks.relay import relay_outbox

    tag = uuid.uuid4().hex[:6]
    numbers = [f"SCALE-{tag}-{n}" for n in range(runs * requests)]
    progress(f"  scaling: creating {len(numbers)} orders with packing slips (not timed)")
    started = time.monotonic()
    prepare_orders(db.url, numbers, packing_slips=True, scenario="tax")
    relay_outbox(db.sessions)
    broker.purge(DOCUMENTS)
    progress(f"  scaling: set-up took {time.monotonic() - started:.0f} s")
    return [numbers[i * requests : (i + 1) * requests] for i in range(runs)]


def invoices(
    db: Database, broker: Broker, numbers: Sequence[str], processes: int
) -> dict[str, Any]:
    """The invoices of `numbers` on `processes` pool processes: invoices/s, CPU per invoice
    (worker and PostgreSQL backends) and the series lock (bench.lock_probe.summary)."""
    from docpost.tasks.client import submit, wait_all

    handles = [submit(invoice_request(n), db.sessions) for n in numbers]
    clear_holds(broker.client, broker.prefix)
    application = f"bench-scaling-{processes}-{uuid.uuid4().hex[:6]}"
    env = {
        "DOCPOST_DATABASE_URL": with_application_name(db.url, application),
        ENABLE: "1",
    }
    with running_worker(
        broker, env, POSTING_QUEUES, processes, f"scaling{processes}", includes=[PROBE]
    ) as (worker, ready):
        cpu_at_ready = worker_cpu(worker.process.pid)
        outcomes = list(wait_all(handles, TIMEOUT))
        _check_outcomes(outcomes, len(numbers), f"scaling invoices on {processes}")
        last = _finished_span(db, [h.request_id for h in handles])
        cpu = _cpu_per(len(numbers), worker.process.pid, cpu_at_ready, db, application)
    broker.purge(DOCUMENTS)  # the invoices' renders: not measured
    seconds = last - ready
    holds = [h for h in read_holds(broker.client, broker.prefix) if h.ended_at >= ready]
    lock = summary(holds, seconds)
    if lock["holds"] != len(numbers):  # each invoice is one transaction taking its numbers
        raise RuntimeError(
            f"lock probe saw {lock['holds']} series transactions for {len(numbers)} invoices"
        )
    return {
        "invoices_per_s": round(len(numbers) / seconds, 1),
        "worker_cpu_ms": cpu["worker_cpu_ms"],
        "db_cpu_ms": cpu["db_cpu_ms"],
        **lock,
    }


def bulk(
    db: Database, broker: Broker, numbers: Sequence[str], processes: int = 2
) -> dict[str, Any]:
    """The same invoices by bulk invoicing (`bulk_invoice` over `numbers`): its batches of
    BATCH (50) invoices each take their INV and VOU numbers at once (next_numbers), so one lock
    hold serves a batch. Invoices/s from submitting the bulk request to the last invoice final,
    and the series lock per batch and per invoice."""
    from docpost.pipeline.services.bulk import BATCH
    from docpost.tasks.client import Handle, fan_out_ids, submit, wait_all

    clear_holds(broker.client, broker.prefix)
    tag = uuid.uuid4().hex[:6]
    application = f"bench-scaling-bulk-{tag}"
    env = {"DOCPOST_DATABASE_URL": with_application_name(db.url, application), ENABLE: "1"}
    body = request(f"bench-scaling-bulk-{tag}", "bulk_invoice", {"orders": list(numbers)})
    with running_worker(
        broker, env, POSTING_QUEUES, processes, "scalingbulk", includes=[PROBE]
    ) as (worker, _):
        cpu_at_start = worker_cpu(worker.process.pid)
        submitted = time.time()
        outcome = submit(body, db.sessions).wait(TIMEOUT)
        children = [Handle(c, db.sessions) for c in fan_out_ids(outcome)]
        _check_outcomes(list(wait_all(children, TIMEOUT)), len(numbers), "scaling bulk")
        last = _finished_span(db, [h.request_id for h in children])
        cpu = _cpu_per(len(numbers), worker.process.pid, cpu_at_start, db, application)
    broker.purge(DOCUMENTS)
    seconds = last - submitted
    holds = [h for h in read_holds(broker.client, broker.prefix) if h.ended_at >= submitted]
    lock = summary(holds, seconds)
    return {
        "scaling_bulk_processes": processes,
        "scaling_bulk_batch": BATCH,
        "scaling_bulk_invoices_per_s": round(len(numbers) / seconds, 1),
        "scaling_bulk_worker_cpu_ms": cpu["worker_cpu_ms"],
        "scaling_bulk_db_cpu_ms": cpu["db_cpu_ms"],
        "scaling_bulk_lock_holds": lock["holds"],
        "scaling_bulk_lock_hold_median_ms": lock.get("hold_median_ms"),
        "scaling_bulk_lock_hold_p95_ms": lock.get("hold_p95_ms"),
        "scaling_bulk_lock_hold_mean_ms": lock.get("hold_mean_ms"),
        "scaling_bulk_lock_wait_median_ms": lock.get("wait_median_ms"),
        "scaling_bulk_series_utilisation": lock.get("utilisation"),
        # the lock's time per invoice: the batches' hold time over the invoices
        "scaling_bulk_lock_hold_per_invoice_ms": round(
            sum(h.hold_s for h in holds) * 1000 / len(numbers), 2
        ),
        "scaling_bulk_lock_hold_cpu_per_invoice_ms": round(
            sum(h.hold_cpu_s for h in holds) * 1000 / len(numbers), 2
        ),
    }


def figures_of(p: int, run: dict[str, Any]) -> dict[str, Any]:
    """The run on `p` processes under the keys `python -m bench` shows."""
    return {
        f"scaling_invoices_per_s_{p}": run["invoices_per_s"],
        f"scaling_lock_hold_median_ms_{p}": run["hold_median_ms"],
        f"scaling_lock_hold_p95_ms_{p}": run["hold_p95_ms"],
        f"scaling_lock_hold_mean_ms_{p}": run["hold_mean_ms"],
        f"scaling_lock_wait_median_ms_{p}": run["wait_median_ms"],
        f"scaling_lock_wait_p95_ms_{p}": run["wait_p95_ms"],
        f"scaling_lock_commit_median_ms_{p}": run["commit_median_ms"],
        f"scaling_lock_hold_cpu_median_ms_{p}": run["hold_cpu_median_ms"],
        f"scaling_lock_hold_cpu_mean_ms_{p}": run["hold_cpu_mean_ms"],
        f"scaling_before_lock_median_ms_{p}": run["before_median_ms"],
        f"scaling_statements_under_lock_{p}": run["statements_median"],
        f"scaling_series_utilisation_{p}": run["utilisation"],
        f"scaling_worker_cpu_ms_{p}": run["worker_cpu_ms"],
        f"scaling_db_cpu_ms_{p}": run["db_cpu_ms"],
    }


def measure(
    db: Database,
    broker: Broker,
    requests: int,
    processes: Sequence[int] = PROCESSES,
    bulk_orders: int = 0,
) -> dict[str, Any]:
    """Invoices on each number of processes (each run its own orders, set up first), then
    `bulk_orders` more by bulk invoicing on 2 processes (0: none), with the model's figures
    (model())."""
    runs = prepare(db, broker, len(processes), requests)
    if bulk_orders:
        (bulk_numbers,) = prepare(db, broker, 1, bulk_orders)
    out: dict[str, Any] = {"scaling_requests": requests, "scaling_processes": list(processes)}
    for p, numbers in zip(processes, runs, strict=True):
        progress(f"  scaling: {requests} invoices on {p} process{'es' if p > 1 else ''}")
        run = invoices(db, broker, numbers, p)
        progress(
            f"    {run['invoices_per_s']} inv/s, hold {run['hold_median_ms']} ms "
            f"(p95 {run['hold_p95_ms']}), wait {run['wait_median_ms']} ms, "
            f"utilisation {run['utilisation']}"
        )
        out |= figures_of(p, run)
    if bulk_orders:
        progress(f"  scaling: {bulk_orders} invoices by bulk invoicing on 2 processes")
        out |= bulk(db, broker, bulk_numbers)
        progress(
            f"    {out['scaling_bulk_invoices_per_s']} inv/s, hold per batch "
            f"{out['scaling_bulk_lock_hold_median_ms']} ms, per invoice "
            f"{out['scaling_bulk_lock_hold_per_invoice_ms']} ms"
        )
    out |= model(out)
    return out


def _series_model(f: dict[str, Any]) -> dict[str, Any]:
    """One series' ceilings, from the run on one process (model())."""
    out: dict[str, Any] = {}
    if 1 not in (f.get("scaling_processes") or []):
        return out
    hold = f["scaling_lock_hold_mean_ms_1"]
    out["scaling_series_ceiling_per_s"] = round(1000 / hold, 1)
    # The share of one process's time the series is locked: one series carries at most
    # 1 / that many processes' worth of invoicing, however many cores there are.
    if f.get("scaling_series_utilisation_1"):
        out["scaling_series_processes_bound"] = round(1 / f["scaling_series_utilisation_1"], 1)
    # On an idle machine the hold is about the worker's CPU under the lock plus the commit
    # (statements' round trips and PostgreSQL's own work left out: a lower bound on hold).
    if f.get("scaling_lock_hold_cpu_mean_ms_1") is not None:
        quiet = f["scaling_lock_hold_cpu_mean_ms_1"] + f["scaling_lock_commit_median_ms_1"]
        out["scaling_series_ceiling_quiet_per_s"] = round(1000 / quiet, 1)
        if f.get("scaling_db_cpu_ms_1"):
            out["scaling_db_cores_per_saturated_series"] = round(
                out["scaling_series_ceiling_quiet_per_s"] * f["scaling_db_cpu_ms_1"] / 1000, 2
            )
    return out


def model(f: dict[str, Any]) -> dict[str, Any]:
    """The ceilings on paper from the measured figures (cpus: of this machine):

    - one series: 1 / the mean hold on one process (nobody waits for the lock); on an idle
      machine about 1 / (the worker's CPU under the lock + the commit), an upper bound;
    - how many processes' worth of invoicing one series carries: 1 / its utilisation on one;
    - the database: its cores / PostgreSQL CPU per invoice (on the run with the lowest, the
      least contended), if the database did nothing else; the database cores one series
      uses at its idle-machine ceiling;
    - the workers: the cores / worker CPU per invoice;
    - series the database's CPU carries: its ceiling / one series' ceiling;
    - bulk invoicing: 1 / the lock's hold per invoice (a batch's hold / its invoices)."""

    out = _series_model(f)
    cpus = os.cpu_count() or 1
    processes = f.get("scaling_processes") or []
    db_cpu = [f[f"scaling_db_cpu_ms_{p}"] for p in processes if f.get(f"scaling_db_cpu_ms_{p}")]
    worker = [
        f[f"scaling_worker_cpu_ms_{p}"] for p in processes if f.get(f"scaling_worker_cpu_ms_{p}")
    ]
    if db_cpu:
        out["scaling_db_cpu_bound_per_s"] = round(1000 * cpus / min(db_cpu), 1)
    if worker:
        out["scaling_worker_cpu_bound_per_s"] = round(1000 * cpus / min(worker), 1)
    if db_cpu and worker:
        out["scaling_machine_cpu_bound_per_s"] = round(1000 * cpus / (min(db_cpu) + min(worker)), 1)
    if f.get("scaling_bulk_lock_hold_per_invoice_ms"):
        out["scaling_bulk_series_ceiling_per_s"] = round(
            1000 / f["scaling_bulk_lock_hold_per_invoice_ms"], 1
        )
    if "scaling_series_ceiling_per_s" in out and "scaling_db_cpu_bound_per_s" in out:
        out["scaling_series_per_database"] = round(
            out["scaling_db_cpu_bound_per_s"] / out["scaling_series_ceiling_per_s"], 1
        )
    best = max(
        (
            (f[f"scaling_invoices_per_s_{p}"], p)
            for p in processes
            if f"scaling_invoices_per_s_{p}" in f
        ),
        default=None,
    )
    if best is not None and 1 in processes:
        out["scaling_best_invoices_per_s"], out["scaling_best_processes"] = best
        out["scaling_best_over_1"] = round(best[0] / f["scaling_invoices_per_s_1"], 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scaling", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--requests", type=int, default=200, help="invoices per run (200)")
    parser.add_argument("--processes", type=int, nargs="+", default=list(PROCESSES))
    parser.add_argument(
        "--bulk", type=int, default=0, metavar="N",
        help="also N invoices by bulk invoicing (batches of 50) on 2 processes",
    )  # fmt: skip
    parser.add_argument(
        "--db-floor", type=int, default=0, metavar="N",
        help="also the database floor: N raw-SQL postings on 2 processes (bench.db_floor)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    from bench import db_floor
    from bench.__main__ import machine
    from bench.common import private_database
    from bench.scenarios import SCENARIOS
    from bench.workers import configure_client

    figures: dict[str, Any] = {"machine": machine()}
    started = time.monotonic()
    broker = Broker()
    configure_client(broker.env())
    try:
        with private_database(SCENARIOS["tax"].catalog()) as db:
            figures |= measure(db, broker, args.requests, args.processes, args.bulk)
        if args.db_floor:
            progress(f"  database floor: {args.db_floor} raw-SQL postings on 2 processes")
            with private_database(SCENARIOS["usmf"].catalog()) as db:
                figures |= db_floor.measure(db, args.db_floor)
    finally:
        broker.close()
    figures["machine"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    figures["scaling_section_s"] = round(time.monotonic() - started, 1)
    for name, value in figures.items():
        print(f"  {name} = {value}")
    print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
