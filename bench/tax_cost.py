"""The cost of tax per posting, interleaved: CPU of the same packing slip and invoice with tax
(bench.scenarios.TAX) and without (NO_TAX), run in this process through
pipeline.runner.execute, one order of each in turn; and of bulk invoicing's batches of 50
invoices (pipeline.runner.execute.run_invoice_batch, as the `bulk` worker runs them), one
batch of each in turn.

The throughput peers (sections 2 and 4) run one after the other, each for seconds to minutes,
so on a shared machine other load can fall on one and not the other: their ratio moves by
more than tax costs. Here the two alternate request by request (which goes first alternates
too), so whatever else runs slows both alike; the figure is CPU, ours (process time) plus
the PostgreSQL backend's serving each scenario's connection (bench.cpu, by
application_name; /proc counts in clock ticks of 10 ms, so the split between packing slip and
invoice is exact only on average: the sum is), per request.

    python -m bench.tax_cost [--orders N] [--batches N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy.orm import sessionmaker

from bench.common import Database, ok, private_database, request
from bench.cpu import backends, backends_cpu, with_application_name
from bench.scenarios import NO_TAX, TAX, Scenario, confirm_request
from docpost.pipeline.db import make_engine
from docpost.pipeline.outbox import pending_messages
from docpost.pipeline.runner.execute import execute, run_invoice_batch

QUICK_ORDERS = 60
ORDERS = 300
WARM_UP = 5  # pairs run first and not counted: first requests fill caches
QUICK_BATCHES = 3
BATCHES = 10
BATCH = 50  # bulk invoicing's invoices per batch (services.bulk): the set-up checks it
WHAT = ("packing_slip", "invoice", "batch_invoice")


class _Meter:
    """One scenario's connection (its own application_name) and its CPU so far."""

    def __init__(self, db: Database, scenario: Scenario) -> None:
        self.scenario = scenario
        self.admin = db.engine  # finds the backends: a query on our own would count
        self.name = f"bench-tax-cost-{scenario.name}-{uuid.uuid4().hex[:6]}"
        self.engine = make_engine(with_application_name(db.url, self.name), pool_size=1)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.own = dict.fromkeys(WHAT, 0.0)
        self.database = dict.fromkeys(WHAT, 0.0)

    def backend_cpu(self) -> float:
        return backends_cpu(backends(self.admin, self.name))

    def prepare(self, numbers: list[str], packing_slips: bool = False) -> None:
        for number in numbers:
            ok(execute(self.scenario.order(number), self.sessions))
            ok(execute(confirm_request(number), self.sessions))
            if packing_slips:
                ok(execute(self.scenario.packing_slip(number), self.sessions))

    def timed(self, what: str, work: Callable[[], object], counted: bool) -> None:
        database_before = self.backend_cpu()
        started = time.process_time()
        work()
        own = time.process_time() - started
        if counted:
            self.own[what] += own
            self.database[what] += self.backend_cpu() - database_before

    def post(self, number: str, counted: bool) -> None:
        bodies = {
            "packing_slip": self.scenario.packing_slip(number),
            "invoice": request(f"inv-{number}", "post_invoice", {"order": number}),
        }
        for what, body in bodies.items():
            self.timed(what, lambda body=body: ok(execute(body, self.sessions)), counted)

    def batches(self, numbers: list[str], tag: str) -> list[list[dict[str, Any]]]:
        """Set-up of bulk invoicing: orders with posted packing slips, `bulk_invoice` over
        them (not timed); its invoice batches as the relay would publish them."""
        self.prepare(numbers, packing_slips=True)
        ok(execute(request(f"bulk-{tag}", "bulk_invoice", {"orders": numbers}), self.sessions))
        with self.sessions() as session:
            messages = pending_messages(session, {"invoice_batch"}, limit=len(numbers))
            batches = [list(m.payload["bodies"]) for m in messages]
        if sorted(map(len, batches)) != [BATCH] * (len(numbers) // BATCH):
            raise RuntimeError(f"bulk invoicing's batches are not of {BATCH}: {batches[:1]}")
        return batches

    def invoice_batch(self, bodies: list[dict[str, Any]], counted: bool) -> None:
        def work() -> None:
            outcomes = run_invoice_batch(bodies, self.sessions).outcomes
            for outcome in outcomes:
                ok(outcome)

        self.timed("batch_invoice", work, counted)


def _alternate(meters: list[_Meter], orders: int, batches: int) -> None:
    """The timed work, each scenario's turn alternating (and which goes first)."""
    tag = uuid.uuid4().hex[:6]
    numbers = [f"TAXCOST-{tag}-{n}" for n in range(WARM_UP + orders)]
    for meter in meters:
        meter.prepare(numbers)  # not timed
    for n, number in enumerate(numbers):
        for meter in meters if n % 2 == 0 else meters[::-1]:
            meter.post(number, counted=n >= WARM_UP)
    if not batches:
        return
    in_batches = [f"TAXBATCH-{tag}-{n}" for n in range(BATCH * (1 + batches))]
    planned = [meter.batches(in_batches, tag) for meter in meters]  # not timed
    for n in range(1 + batches):  # the first pair warms up
        for k in (0, 1) if n % 2 == 0 else (1, 0):
            meters[k].invoice_batch(planned[k][n], counted=n > 0)


def measure(tax_db: Database, no_tax_db: Database, orders: int, batches: int = 0) -> dict[str, Any]:
    """CPU ms per packing slip, per invoice and per invoice of bulk invoicing's batches, with
    and without tax, and their ratios (tax over no tax)."""
    meters = [_Meter(tax_db, TAX), _Meter(no_tax_db, NO_TAX)]
    try:
        _alternate(meters, orders, batches)
    finally:
        for meter in meters:
            meter.engine.dispose()
    figures: dict[str, Any] = {"tax_cost_orders": orders, "tax_cost_batches": batches}
    counts = {"packing_slip": orders, "invoice": orders, "batch_invoice": BATCH * batches}
    measured = [what for what in WHAT if counts[what]]
    for meter in meters:
        for what in measured:
            own, database, count = meter.own[what], meter.database[what], counts[what]
            key = f"tax_cost_{what}_{meter.scenario.name}"
            figures[f"{key}_own_cpu_ms"] = round(1000 * own / count, 2)
            figures[f"{key}_db_cpu_ms"] = round(1000 * database / count, 2)
            figures[f"{key}_cpu_ms"] = round(1000 * (own + database) / count, 2)
    for what in measured:
        figures[f"tax_cost_{what}_ratio"] = round(
            figures[f"tax_cost_{what}_tax_cpu_ms"] / figures[f"tax_cost_{what}_no_tax_cpu_ms"], 3
        )
    return figures


@contextmanager
def _databases() -> Iterator[tuple[Database, Database]]:
    with ExitStack() as stack:
        yield (
            stack.enter_context(private_database(TAX.catalog())),
            stack.enter_context(private_database(NO_TAX.catalog())),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tax_cost", description=__doc__)
    parser.add_argument("--orders", type=int, default=ORDERS)
    parser.add_argument("--batches", type=int, default=BATCHES, help=f"of {BATCH} invoices")
    args = parser.parse_args(argv)
    with _databases() as (tax_db, no_tax_db):
        figures = measure(tax_db, no_tax_db, args.orders, args.batches)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
