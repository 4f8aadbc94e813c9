"""`python -m bench`: every benchmark on the real PostgreSQL and Redis, a table, a JSON line.

    python -m bench [--quick] [--requests N] [--orders N] [--profile DIR] [--skip SECTION ...]

Sections, each printing its figures as it goes (progress on stderr):

1. queue floor: a no-op task (bench.noop) drained by 2 worker processes, tasks/s
2. posting: packing slips with tax (bench.scenarios.TAX: a Norwegian company with its tax
   codes; 4 lines at 25 % and 15 %, one a mixed-rate bundle's components, 2 serials) end to end
   on 2 worker processes, requests/s and the ratio to (1). The renders they queue are not
   consumed during the run (the worker takes -Q posting,bulk); they are then rendered by a
   `documents`-only worker (renders/s), and a second run on a worker taking all three queues
   shows posting with rendering mixed in. Just before, the peer: the same packing slips in the
   same catalog without company and tax codes (no_tax), so the cost of tax is a ratio of one
   run
3. database floor: the same number of raw-SQL transactions doing one posting's writes; and
   the queue ceiling: those raw-SQL transactions run as tasks by 2 worker processes, the
   best any implementation of the posting can do through this queue on this machine
4. bulk invoicing: `bulk_invoice` over N orders of the tax scenario with posted packing
   slips, invoices/s (each invoice: 2 VAT groups, due date, KID, output VAT per code); and the
   no-tax peer over as many orders
5. PDF speed against plain WeasyPrint
p. PDF peers: docpost's render beside warm headless Chromium (CDP printToPDF) and wkhtmltopdf
   on the same HTML, stylesheet and fonts, one-page and 200-line invoices, CPU ms per document
   (medians, taking turns) and docpost / peer ratios; an absent peer is shown as absent
   (bench.peers; keys prefixed peers_)
6. scaling: posting with tax on 1 worker process (2 processes: section 2); and invoices of the
   tax scenario (post_invoice, one per order with a posted packing slip) on 1, 2, 4 and 8
   worker processes, invoices/s, with the number series' row lock timed inside the workers
   (bench.lock_probe): its hold per invoice (median, p95), the wait for it, the series'
   utilisation (hold time x rate; 1.0: the series is the ceiling) and the model's ceilings
   (one series ~ 1 / hold; the database's CPU per invoice); then as many invoices by bulk
   invoicing on 2 processes, whose batches of 50 take their numbers at once: the lock's hold
   per batch and per invoice (bench.scaling). The machine's 2 cores: 4 and 8 processes
   oversubscribe them, which shows the plateau
   ordering: the cost of per-order ordering, the same postings as independent orders, as
   chains of 5 per order and as one order's chain, side by side (bench.ordering)
7. memory of a render worker over N renders; SQL statements per posting: the USMF packing
   slip (3 and 30 lines) and invoice as before tax, and the tax scenario's with and without tax
t. cost of tax: the tax scenario's packing slip and invoice and the no-tax peer's, in this
   process, alternating request by request, and bulk invoicing's batches of 50 alternating
   batch by batch; CPU (ours + the PostgreSQL backend's) per request with tax over without:
   the steadier ratio on a shared machine (bench.tax_cost)
8. serials scaling: one packing slip line of 10,000 and 40,000 serials, CPU through the
   service; the ratio beside the linear limit 4 x (bench.serials)
9. recovery sweep: beat's sweep over a requests table of finished work when nothing is lost
   (its share of the sweep interval), and how fast it publishes lost requests again beside
   the queue floor (bench.recovery)
e. e-invoices: the tax scenario's invoices and a few credit notes, each one's EHF / Peppol BIS
   3.0 generation and validation by the official rules (DOCPOST_EINVOICE_RULES, else
   ../shared/einvoice: refused at start when missing) beside the PDF render of the same
   journal, in this process, taking turns; every document must pass with 0 fatal (bench.einvoice)

`--skip no_tax` leaves out the no-tax peers of posting and bulk invoicing (the full bulk run
sets up its orders twice with them). db floor, queue ceiling and ordering post the USMF
scenario (3 lines, no tax): their raw SQL is that posting's, so (2)/(3) compares the tax
scenario's 4-line packing slip with a 3-line floor.

Every figure is compared with its limit measured in the same run: other processes on the
machine (test runs) slow both alike. The broker is Redis database 13 (DOCPOST_BENCH_REDIS_URL)
under a key prefix of this run's own; the database a fresh schema in DOCPOST_TEST_PG_URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECTIONS = (
    "floor", "posting", "ordering", "db_floor", "bulk", "pdf", "scaling", "memory", "sql",
    "serials", "recovery", "no_tax", "tax_cost", "einvoice", "peers",
)  # fmt: skip

# The idle recovery sweep may take at most this share of its interval (beat runs it every
# DOCPOST_REPUBLISH_AFTER / 5 s, 60 s at the default): 1 % of one core while nothing is lost.
RECOVERY_IDLE_SHARE_LIMIT = 0.01

POSTING_RATIO_TARGET = 0.30
# Issue 19: posting at least this share of the queue ceiling (raw SQL in a task) ...
POSTING_CEILING_TARGET = 0.6
# ... and docpost's CPU per PDF at most this share of warm Chromium's, one page and 200 lines.
PDF_CHROMIUM_ONE_PAGE_TARGET = 0.5
PDF_CHROMIUM_200_LINES_TARGET = 1.0
BULK_TARGET_SECONDS = 60.0
BULK_TARGET_ORDERS = 10_000
PDF_SPEEDUP_TARGET = 3.0


@dataclass(frozen=True)
class Sizes:
    floor_tasks: int
    requests: int
    orders: int
    pdf_runs: int
    pdf_long_runs: int
    renders: int
    scaling_invoices: int  # per run of bench.scaling, 4 runs (1, 2, 4, 8 processes)
    peer_runs: int  # bench.peers: one-page runs per renderer
    peer_long_runs: int  # and 200-line runs


QUICK = Sizes(
    floor_tasks=2_000, requests=120, orders=200, pdf_runs=5, pdf_long_runs=1, renders=100,
    scaling_invoices=60, peer_runs=5, peer_long_runs=2,
)  # fmt: skip
DEFAULT = Sizes(
    floor_tasks=10_000, requests=1_000, orders=2_000, pdf_runs=20, pdf_long_runs=5, renders=1_000,
    scaling_invoices=400, peer_runs=10, peer_long_runs=3,
)  # fmt: skip


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def show(figures: dict[str, Any]) -> None:
    """A section's figures on stdout as soon as they are known."""
    for name, value in figures.items():
        print(f"  {name} = {value}", flush=True)


def machine() -> dict[str, Any]:
    def first_line(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in first_line(["lscpu"]).splitlines()
            if line.startswith("Model name")
        ),
        platform.processor(),
    )
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(total_kb / 2**20, 1),
        "python": platform.python_version(),
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench import db_floor, memory, ordering, pdf, scaling, sql_count, tax_cost, throughput
    from bench.common import Database, private_database
    from bench.scenarios import NO_TAX, SCENARIOS, TAX, TAX_VAT_GROUPS
    from bench.workers import Broker, configure_client
    from docpost.tasks.routing import DOCUMENTS

    sizes = QUICK if args.quick else DEFAULT
    requests = args.requests or sizes.requests
    orders = args.orders or sizes.orders
    profile_dir: Path | None = args.profile
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)

    def profile(name: str) -> Path | None:
        return profile_dir / f"{name}.raw" if profile_dir is not None else None

    figures: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    wanted = [s for s in SECTIONS if s not in args.skip]
    if "einvoice" in wanted:
        from bench import einvoice

        einvoice_rules = einvoice.rules_folder()  # refused now, not after the other sections

    def section(title: str, measure: Callable[[], dict[str, Any]]) -> None:
        print(f"== {title}", flush=True)
        started = time.monotonic()
        result = measure()
        result[f"{title.split(':')[0].strip().replace(' ', '_')}_section_s"] = round(
            time.monotonic() - started, 1
        )
        show(result)
        figures.update(result)

    broker = Broker()
    configure_client(broker.env())
    try:
        if "floor" in wanted:
            section("queue floor", lambda: throughput.queue_floor(broker, sizes.floor_tasks))
        with ExitStack() as databases:
            opened: dict[str, Database] = {}

            def database(scenario: str) -> Database:
                """The scenario's private schema with its catalog, opened on first use."""
                if scenario not in opened:
                    catalog = SCENARIOS[scenario].catalog()
                    opened[scenario] = databases.enter_context(private_database(catalog))
                return opened[scenario]

            if "posting" in wanted:

                def posting() -> dict[str, Any]:
                    out: dict[str, Any] = {}
                    if "no_tax" in wanted:
                        # The peer just before, so that the two runs share the machine's load
                        # as far as runs one after the other can.
                        progress(f"posting: {requests} packing slips without tax (the peer)")
                        peer = throughput.posting(
                            database("no_tax"), broker, requests, 2, label="notax",
                            scenario="no_tax",
                        )  # fmt: skip
                        broker.purge(DOCUMENTS)  # renders of the peer: not measured
                        out["posting_no_tax_rps"] = peer["rps"]
                        out["posting_no_tax_worker_cpu_ms"] = peer["worker_cpu_ms"]
                        out["posting_no_tax_db_cpu_ms"] = peer["db_cpu_ms"]
                    db = database("tax")
                    progress(f"posting: {requests} packing slips with tax on 2 processes")
                    result = throughput.posting(
                        db, broker, requests, 2, profile=profile("posting"), scenario="tax"
                    )
                    out |= {
                        "posting_rps": result["rps"],
                        "posting_worker_cpu_ms": result["worker_cpu_ms"],
                        "posting_db_cpu_ms": result["db_cpu_ms"],
                        "posting_client_cpu_ms": result["client_cpu_ms"],
                    }
                    progress("posting: rendering their PDFs on a `documents` worker")
                    out.update(
                        throughput.renders(
                            db, broker, result["numbers"], 2, profile=profile("renders")
                        )
                    )
                    progress("posting: again on a worker that also renders (all queues)")
                    broker.purge(DOCUMENTS)  # only this run's renders on `documents`
                    mixed = throughput.posting(
                        db, broker, requests, 2, queues=throughput.QUEUES, label="mixed",
                        scenario="tax",
                    )  # fmt: skip
                    out["posting_with_renders_rps"] = mixed["rps"]
                    out["posting_with_renders_all_pdfs_done_s"] = mixed["renders_done_s"]
                    return out

                section("posting", posting)
            if "ordering" in wanted:
                section("ordering", lambda: ordering.measure(database("usmf"), broker, requests))
            if "db_floor" in wanted:
                section("db floor", lambda: db_floor.measure(database("usmf"), requests))
                section(
                    "queue ceiling",
                    lambda: throughput.queue_ceiling(database("usmf"), broker, requests),
                )
            if "scaling" in wanted:

                def scaling_section() -> dict[str, Any]:
                    progress(f"scaling: {requests} packing slips with tax on 1 process")
                    one = throughput.posting(
                        database("tax"), broker, requests, 1, label="single", scenario="tax"
                    )
                    broker.purge(DOCUMENTS)  # their renders: not measured
                    progress(
                        f"scaling: {sizes.scaling_invoices} invoices with tax on each of "
                        f"{', '.join(map(str, scaling.PROCESSES))} processes"
                    )
                    out = {"posting_rps_1_process": one["rps"]}
                    return out | scaling.measure(
                        database("tax"), broker, sizes.scaling_invoices,
                        bulk_orders=sizes.scaling_invoices,
                    )  # fmt: skip

                section("scaling", scaling_section)
            if "sql" in wanted:

                def sql() -> dict[str, Any]:
                    out = sql_count.measure(database("usmf"))
                    out.update(sql_count.measure_scenario(database("tax"), TAX))
                    out.update(sql_count.measure_scenario(database("no_tax"), NO_TAX))
                    return out

                section("sql per posting", sql)
            if "tax_cost" in wanted:
                count, batches = (
                    (tax_cost.QUICK_ORDERS, tax_cost.QUICK_BATCHES)
                    if args.quick
                    else (tax_cost.ORDERS, tax_cost.BATCHES)
                )
                progress(
                    f"cost of tax: {count} orders and {batches} invoice batches with tax and as "
                    "many without, alternating"
                )
                section(
                    "cost of tax",
                    lambda: tax_cost.measure(database("tax"), database("no_tax"), count, batches),
                )
            if "einvoice" in wanted:
                invoices, credit_notes = (
                    (einvoice.QUICK_INVOICES, einvoice.QUICK_CREDIT_NOTES)
                    if args.quick
                    else (einvoice.INVOICES, einvoice.CREDIT_NOTES)
                )
                progress(
                    f"e-invoices: {invoices} invoices and {credit_notes} credit notes, "
                    "generated, validated and rendered as PDF in turn"
                )
                section(
                    "einvoice",
                    lambda: einvoice.measure(
                        database("tax"), invoices, credit_notes, einvoice_rules
                    ),
                )
        if "bulk" in wanted:
            # Both set up first (minutes for 10,000 orders), then timed one after the other:
            # the two runs share the machine's load as far as consecutive runs can.
            scenarios = ["tax", "no_tax"] if "no_tax" in wanted else ["tax"]
            with ExitStack() as bulk_databases:
                bulk_db = {
                    s: bulk_databases.enter_context(private_database(SCENARIOS[s].catalog()))
                    for s in scenarios
                }
                for scenario in scenarios:
                    throughput.prepare_bulk(bulk_db[scenario], broker, orders, scenario)

                def bulk(scenario: str) -> dict[str, Any]:
                    out = throughput.bulk_invoicing(
                        bulk_db[scenario], broker, orders, 2,
                        profile("bulk" if scenario == "tax" else f"bulk_{scenario}"),
                        scenario=scenario, prepared=True,
                    )  # fmt: skip
                    expected = orders * TAX_VAT_GROUPS if scenario == "tax" else 0
                    if out["bulk_vat_rows"] != expected:  # the figure must be what it claims
                        raise RuntimeError(
                            f"bulk invoicing ({scenario}) wrote {out['bulk_vat_rows']} VAT "
                            f"rows, expected {expected}"
                        )
                    return out

                section("bulk invoicing", lambda: bulk("tax"))
                if "no_tax" in wanted:
                    section(
                        "bulk invoicing without tax",
                        lambda: {
                            key.replace("bulk_", "bulk_no_tax_", 1): value
                            for key, value in bulk("no_tax").items()
                        },
                    )
        if "recovery" in wanted:
            from bench import recovery

            finished, lost = (20_000, 500) if args.quick else (100_000, 1_000)
            progress(f"recovery: sweeps over {finished} finished requests, {lost} lost ones")
            with private_database() as db:
                section("recovery sweep", lambda: recovery.measure(db, broker, finished, lost))
    finally:
        broker.close()
    if "pdf" in wanted:
        section("pdf", lambda: pdf.measure(sizes.pdf_runs, sizes.pdf_long_runs))
    if "peers" in wanted:
        from bench import peers

        progress(
            f"peers: {sizes.peer_runs} one-page and {sizes.peer_long_runs} 200-line renders each "
            "by docpost, Chromium and wkhtmltopdf, taking turns"
        )
        section(
            "peers",
            lambda: {
                f"peers_{key}": value
                for key, value in peers.measure(sizes.peer_runs, sizes.peer_long_runs).items()
            },
        )
    if "memory" in wanted:
        renders = sizes.renders
        progress(f"memory: {renders} renders in a fresh process")
        section("memory", lambda: memory.measure(renders))
    if "serials" in wanted:
        from bench import serials

        sizes_of_line = serials.QUICK_SIZES if args.quick else serials.SIZES
        progress(f"serials: one packing slip line of {', '.join(map(str, sizes_of_line))} serials")
        section("serials scaling", lambda: serials.measure(sizes_of_line))
    figures["machine"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    derive(figures)
    return figures


def derive(f: dict[str, Any]) -> None:
    """Ratios and target checks from the measured figures."""
    if "posting_rps" in f and "queue_floor_tps" in f:
        f["posting_ratio_to_queue_floor"] = round(f["posting_rps"] / f["queue_floor_tps"], 3)
    if "posting_rps" in f and "db_floor_tps" in f:
        f["posting_ratio_to_db_floor"] = round(f["posting_rps"] / f["db_floor_tps"], 3)
    if "queue_ceiling_tps" in f and "queue_floor_tps" in f:
        f["queue_ceiling_ratio_to_queue_floor"] = round(
            f["queue_ceiling_tps"] / f["queue_floor_tps"], 3
        )
    if "posting_rps" in f and "queue_ceiling_tps" in f:
        f["posting_ratio_to_queue_ceiling"] = round(f["posting_rps"] / f["queue_ceiling_tps"], 3)
    if "posting_rps" in f and "posting_rps_1_process" in f:
        f["scaling_2_over_1"] = round(f["posting_rps"] / f["posting_rps_1_process"], 2)
    if "scaling_series_ceiling_per_s" in f and "db_floor_tps" in f:
        # the raw-SQL floor (a packing slip's writes, USMF) in ceilings of one invoice series
        f["scaling_db_floor_in_series"] = round(
            f["db_floor_tps"] / f["scaling_series_ceiling_per_s"], 1
        )
    if "posting_worker_cpu_ms" in f and "queue_floor_worker_cpu_ms" in f:
        cpus = f.get("machine", {}).get("cpus") or 2
        per_posting = f["posting_worker_cpu_ms"] + f["posting_db_cpu_ms"]
        # No scheduling does better than all cores busy with nothing but this work.
        f["posting_cpu_bound_rps"] = round(1000 * cpus / per_posting, 1)
        f["posting_cpu_bound_ratio_to_queue_floor"] = round(
            f["queue_floor_worker_cpu_ms"] / per_posting, 3
        )
    if "recovery_idle_sweep_ms" in f:
        from docpost.tasks.config import get_queue_settings, recovery_sweep_seconds

        interval_s = recovery_sweep_seconds(get_queue_settings())
        f["recovery_sweep_interval_s"] = interval_s
        f["recovery_idle_share"] = round(f["recovery_idle_sweep_ms"] / 1000 / interval_s, 6)
        f["recovery_idle_met"] = f["recovery_idle_share"] <= RECOVERY_IDLE_SHARE_LIMIT
    if "recovery_republish_per_s" in f and "queue_floor_tps" in f:
        f["recovery_republish_ratio_to_queue_floor"] = round(
            f["recovery_republish_per_s"] / f["queue_floor_tps"], 3
        )
    _derive_cost_of_tax(f)
    if "bulk_wall_s" in f:
        f["bulk_projected_10000_s"] = round(
            f["bulk_wall_s"] * BULK_TARGET_ORDERS / f["bulk_orders"], 1
        )


def _derive_cost_of_tax(f: dict[str, Any]) -> None:
    """With tax over its no-tax peer of the same run: rate (below 1: tax slows) and CPU per
    piece of work (above 1: tax costs)."""
    if "posting_rps" in f and "posting_no_tax_rps" in f:
        f["posting_tax_rps_ratio"] = round(f["posting_rps"] / f["posting_no_tax_rps"], 3)
        f["posting_tax_cpu_ratio"] = round(
            (f["posting_worker_cpu_ms"] + f["posting_db_cpu_ms"])
            / (f["posting_no_tax_worker_cpu_ms"] + f["posting_no_tax_db_cpu_ms"]),
            3,
        )
    if "bulk_invoices_per_s" in f and "bulk_no_tax_invoices_per_s" in f:
        f["bulk_tax_rate_ratio"] = round(
            f["bulk_invoices_per_s"] / f["bulk_no_tax_invoices_per_s"], 3
        )
        f["bulk_tax_cpu_ratio"] = round(
            (f["bulk_worker_cpu_ms_per_invoice"] + f["bulk_db_cpu_ms_per_invoice"])
            / (f["bulk_no_tax_worker_cpu_ms_per_invoice"] + f["bulk_no_tax_db_cpu_ms_per_invoice"]),
            3,
        )


def _value(f: dict[str, Any], key: str, unit: str = "") -> str:
    return f"{f[key]}{unit}" if key in f else "-"


def _cpu(f: dict[str, Any], worker: str, database: str) -> str:
    if worker not in f:
        return "-"
    return f"{f[worker]} + {f[database]} ms"


def _per_processes(f: dict[str, Any], key: str, unit: str = "") -> str:
    """`key`_1 / _2 / _4 / _8 of bench.scaling, one value per number of processes run."""
    processes = f.get("scaling_processes") or []
    values = [str(f.get(f"{key}_{p}", "-")) for p in processes]
    return " / ".join(values) + unit if values else "-"


def _peers(f: dict[str, Any], document: str, what: str) -> str:
    """docpost / Chromium / wkhtmltopdf of bench.peers for `document` (`what`: cpu_ms,
    ratio); a peer that was not installed shows as absent."""
    names = ("", "chromium_", "wkhtmltopdf_") if what != "ratio" else ("chromium_", "wkhtmltopdf_")
    keys = [f"peers_pdf_{document}_{name}{what}" for name in names]
    if not any(key in f for key in keys):
        return "-"
    return " / ".join("absent" if f.get(key) is None else str(f[key]) for key in keys)


def _check(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "NO")


def _below(ratio: float | None, limit: float) -> str:
    """A peer ratio's check: "-" when the peer was absent or not measured."""
    return _check(None if ratio is None else ratio <= limit)


def table(f: dict[str, Any]) -> str:
    def get(key: str) -> Any:
        return f.get(key)

    ratio = get("posting_ratio_to_queue_floor")
    bulk_s = get("bulk_wall_s") if get("bulk_orders") == BULK_TARGET_ORDERS else None
    projected = get("bulk_projected_10000_s")
    rows = [
        ("1", "queue floor (no-op task, 2 processes)", _value(f, "queue_floor_tps", " tasks/s"),
         "", "", "-"),
        ("2", "posting (packing slip with tax, 2 processes)", _value(f, "posting_rps", " req/s"),
         _value(f, "posting_ratio_to_queue_floor", " x (1)"), f">= {POSTING_RATIO_TARGET} x (1)",
         _check(None if ratio is None else ratio >= POSTING_RATIO_TARGET)),
        ("2", "  CPU per posting: worker + PostgreSQL", _cpu(f, "posting_worker_cpu_ms",
         "posting_db_cpu_ms"), _value(f, "queue_floor_worker_cpu_ms", " ms per no-op task"),
         "", "-"),
        ("2", "  ratio if CPU-bound (no-op CPU / posting CPU)",
         _value(f, "posting_cpu_bound_ratio_to_queue_floor"), _value(
         f, "posting_cpu_bound_rps", " req/s bound"), f">= {POSTING_RATIO_TARGET}", _check(
         None if "posting_cpu_bound_ratio_to_queue_floor" not in f else
         f["posting_cpu_bound_ratio_to_queue_floor"] >= POSTING_RATIO_TARGET)),
        ("2", "  the same without tax (peer)", _value(f, "posting_no_tax_rps", " req/s"),
         "tax / no tax: " + _value(f, "posting_tax_rps_ratio", " x req/s, ") + _value(
         f, "posting_tax_cpu_ratio", " x CPU; peer CPU (") + _cpu(f, "posting_no_tax_worker_cpu_ms",
         "posting_no_tax_db_cpu_ms") + ")", "", "-"),
        ("2", "posting, same worker also rendering", _value(f, "posting_with_renders_rps",
         " req/s"), "", "", "-"),
        ("2", "renders (documents worker, 2 processes)", _value(f, "renders_per_s", " PDFs/s"),
         _value(f, "render_cpu_ms", " ms CPU per render"), "", "-"),
        ("o", f"ordering: {get('ordering_requests') or '-'} postings, independent orders",
         _value(f, "ordering_independent_rps", " req/s"),
         _value(f, "ordering_independent_worker_cpu_ms", " ms worker CPU each"), "", "-"),
        ("o", "  the same as chains of 5 per order", _value(f, "ordering_chains_rps", " req/s"),
         _value(f, "ordering_chains_ratio", " x independent; ") + _value(
         f, "ordering_chains_worker_cpu_ms", " ms CPU; ") + _value(
         f, "ordering_chains_released", " released"), "", "-"),
        ("o", "  the same as one order's chain", _value(f, "ordering_one_chain_rps", " req/s"),
         _value(f, "ordering_one_chain_ratio", " x independent; ") + _value(
         f, "ordering_one_chain_worker_cpu_ms", " ms CPU; ") + _value(
         f, "ordering_one_chain_released", " released"), "", "-"),
        ("3", "database floor (raw SQL, 2 processes)", _value(f, "db_floor_tps", " tx/s"),
         _value(f, "posting_ratio_to_db_floor", " = (2)/(3)"), "", "-"),
        ("3", "  CPU per transaction: client + PostgreSQL", _cpu(f, "db_floor_client_cpu_ms",
         "db_floor_db_cpu_ms"), "", "", "-"),
        ("3", "queue ceiling (raw SQL in the task, 2 proc.)", _value(f, "queue_ceiling_tps",
         " tasks/s"), _value(f, "queue_ceiling_ratio_to_queue_floor", " x (1)"), "", "-"),
        ("3", "  posting / queue ceiling", _value(f, "posting_ratio_to_queue_ceiling", " x"),
         "", f">= {POSTING_CEILING_TARGET} x", _check(
         None if get("posting_ratio_to_queue_ceiling") is None
         else get("posting_ratio_to_queue_ceiling") >= POSTING_CEILING_TARGET)),
        ("4", f"bulk invoicing with tax ({get('bulk_orders') or '-'} orders, 2 processes)",
         _value(f, "bulk_invoices_per_s", " inv/s"), _value(f, "bulk_wall_s", " s wall"),
         f"< {BULK_TARGET_SECONDS:.0f} s for 10,000",
         _check(None if bulk_s is None else bulk_s < BULK_TARGET_SECONDS)),
        ("4", "  CPU per invoice: worker + PostgreSQL", _cpu(f,
         "bulk_worker_cpu_ms_per_invoice", "bulk_db_cpu_ms_per_invoice"), "", "", "-"),
        ("4", "  the same without tax (peer)", _value(f, "bulk_no_tax_invoices_per_s",
         " inv/s"), "tax / no tax: " + _value(f, "bulk_tax_rate_ratio", " x inv/s, ") + _value(
         f, "bulk_tax_cpu_ratio", " x CPU; peer CPU (") + _cpu(
         f, "bulk_no_tax_worker_cpu_ms_per_invoice", "bulk_no_tax_db_cpu_ms_per_invoice") + ")",
         "", "-"),
        ("4", "  projected to 10,000 orders", _value(f, "bulk_projected_10000_s", " s"), "",
         f"< {BULK_TARGET_SECONDS:.0f} s",
         _check(None if projected is None else projected < BULK_TARGET_SECONDS)),
        ("5", "PDF one-page invoice (cached renderer)", _value(f, "pdf_one_page_ms", " ms"),
         _value(f, "pdf_one_page_plain_ms", " ms plain"), "", "-"),
        ("5", "PDF speed-up vs plain WeasyPrint", _value(f, "pdf_speedup", " x"), "",
         f">= {PDF_SPEEDUP_TARGET:.0f} x",
         _check(None if "pdf_speedup" not in f else f["pdf_speedup"] >= PDF_SPEEDUP_TARGET)),
        ("5", "PDF 200-line invoice", _value(f, "pdf_200_lines_ms", " ms"),
         _value(f, "pdf_200_lines_plain_ms", " ms plain"), "", "-"),
        ("p", "PDF peers, one-page invoice: CPU docpost / Chromium / wkhtmltopdf", _peers(
         f, "one_page", "cpu_ms") + (" ms" if "peers_pdf_one_page_cpu_ms" in f else ""),
         "docpost / peer: " + _peers(f, "one_page", "ratio") + " x",
         f"<= {PDF_CHROMIUM_ONE_PAGE_TARGET} x Chromium",
         _below(get("peers_pdf_one_page_chromium_ratio"), PDF_CHROMIUM_ONE_PAGE_TARGET)),
        ("p", "PDF peers, 200-line invoice: CPU docpost / Chromium / wkhtmltopdf", _peers(
         f, "200_lines", "cpu_ms") + (" ms" if "peers_pdf_200_lines_cpu_ms" in f else ""),
         "docpost / peer: " + _peers(f, "200_lines", "ratio") + " x; pages " + _peers(
         f, "200_lines", "pages"), f"<= {PDF_CHROMIUM_200_LINES_TARGET} x Chromium",
         _below(get("peers_pdf_200_lines_chromium_ratio"), PDF_CHROMIUM_200_LINES_TARGET)),
        ("e", f"e-invoice generation ({get('einvoice_documents') or '-'} documents, "
         f"{get('einvoice_credit_notes') or '-'} credit notes)", _value(f, "einvoice_generation_ms",
         " ms"), _value(f, "einvoice_generation_ratio_to_pdf", " x the PDF render; p95 ") + _value(
         f, "einvoice_generation_p95_ms", " ms; CPU ") + _value(f, "einvoice_generation_cpu_ms",
         " ms, ") + _value(f, "einvoice_generation_cpu_ratio_to_pdf", " x the PDF's"), "", "-"),
        ("e", "  validation, official rules (CEN + Peppol)", _value(f, "einvoice_validation_ms",
         " ms"), _value(f, "einvoice_validation_ratio_to_pdf", " x the PDF render; p95 ") + _value(
         f, "einvoice_validation_p95_ms", " ms; CPU ") + _value(f, "einvoice_validation_cpu_ms",
         " ms, ") + _value(f, "einvoice_validation_cpu_ratio_to_pdf", " x the PDF's"), "", "-"),
        ("e", "  the rules compiled (first call, once per process)", _value(
         f, "einvoice_rules_compile_s", " s"), "", "", "-"),
        ("e", "  PDF render of the same journals (peer)", _value(f, "einvoice_pdf_ms", " ms"),
         "p95 " + _value(f, "einvoice_pdf_p95_ms", " ms; CPU ") + _value(
         f, "einvoice_pdf_cpu_ms", " ms"), "", "-"),
        ("e", "  fatal findings", _value(f, "einvoice_fatal"), _value(f, "einvoice_warnings",
         " warnings accepted: ") + _value(f, "einvoice_warning_rules"), "0 fatal", _check(
         None if "einvoice_fatal" not in f else f["einvoice_fatal"] == 0)),
        ("6", "posting on 1 process", _value(f, "posting_rps_1_process", " req/s"),
         _value(f, "scaling_2_over_1", " x (2 processes / 1)"), "", "-"),
        ("6", f"invoices with tax on {' / '.join(map(str, get('scaling_processes') or [])) or '-'}"
         f" processes ({get('scaling_requests') or '-'} each)",
         _per_processes(f, "scaling_invoices_per_s", " inv/s"),
         "best " + _value(f, "scaling_best_over_1", " x (1 process)"), "", "-"),
        ("6", "  series lock hold per invoice, median", _per_processes(
         f, "scaling_lock_hold_median_ms", " ms"), "p95 " + _per_processes(
         f, "scaling_lock_hold_p95_ms", " ms; worker CPU in it ") + _per_processes(
         f, "scaling_lock_hold_cpu_median_ms", " ms"), "", "-"),
        ("6", "  wait for the series lock, median", _per_processes(
         f, "scaling_lock_wait_median_ms", " ms"), "p95 " + _per_processes(
         f, "scaling_lock_wait_p95_ms", " ms"), "", "-"),
        ("6", "  series utilisation (hold time x rate)", _per_processes(
         f, "scaling_series_utilisation"), "1.0 = the series is the ceiling", "", "-"),
        ("6", "  CPU per invoice: worker + PostgreSQL", _per_processes(
         f, "scaling_worker_cpu_ms") + " + " + _per_processes(f, "scaling_db_cpu_ms", " ms"),
         "", "", "-"),
        ("6", "  one series' ceiling (1 / mean hold, 1 process)", _value(
         f, "scaling_series_ceiling_per_s", " inv/s"), "idle machine ~ " + _value(
         f, "scaling_series_ceiling_quiet_per_s", " inv/s (1 / (CPU under lock + commit)); ")
         + _value(f, "scaling_series_processes_bound", " processes' worth; ")
         + "database CPU bound " + _value(
         f, "scaling_db_cpu_bound_per_s", " inv/s = ") + _value(
         f, "scaling_series_per_database", " series; a saturated series, idle machine: ") + _value(
         f, "scaling_db_cores_per_saturated_series", " database cores"), "", "-"),
        ("6", f"  the same by bulk invoicing (batches of {get('scaling_bulk_batch') or '-'}, "
         "2 processes)", _value(f, "scaling_bulk_invoices_per_s", " inv/s"), "lock hold per batch "
         + _value(f, "scaling_bulk_lock_hold_median_ms", " ms, per invoice ") + _value(
         f, "scaling_bulk_lock_hold_per_invoice_ms", " ms; utilisation ") + _value(
         f, "scaling_bulk_series_utilisation") + "; ceiling " + _value(
         f, "scaling_bulk_series_ceiling_per_s", " inv/s"), "", "-"),
        ("7", f"render worker peak RSS ({get('render_renders') or '-'} renders)",
         _value(f, "render_rss_peak_mb", " MB"),
         _value(f, "render_rss_growth_second_half_mb", " MB growth, 2nd half"), "", "-"),
        ("", "SQL per packing slip / invoice, with tax", _value(f, "sql_per_packing_slip_tax")
         + " / " + _value(f, "sql_per_invoice_tax"), "without: " + _value(
         f, "sql_per_packing_slip_no_tax") + " / " + _value(f, "sql_per_invoice_no_tax") + "; "
         + _value(f, "sql_invoice_vat_rows_tax", " VAT groups"), "", "-"),
        ("", "SQL statements per packing slip (USMF, no tax)", _value(f, "sql_per_packing_slip"),
         _value(f, "sql_per_packing_slip_30_lines", " with 30 lines"), "", "-"),
        ("", "SQL statements per invoice (USMF, no tax)", _value(f, "sql_per_invoice"), "", "",
         "-"),
        ("t", "cost of tax per packing slip (in-process, interleaved)", _value(
         f, "tax_cost_packing_slip_tax_cpu_ms", " ms CPU"), "tax / no tax: " + _value(
         f, "tax_cost_packing_slip_ratio", " x; peer ") + _value(
         f, "tax_cost_packing_slip_no_tax_cpu_ms", " ms"), "", "-"),
        ("t", "cost of tax per invoice (in-process, interleaved)", _value(
         f, "tax_cost_invoice_tax_cpu_ms", " ms CPU"), "tax / no tax: " + _value(
         f, "tax_cost_invoice_ratio", " x; peer ") + _value(
         f, "tax_cost_invoice_no_tax_cpu_ms", " ms"), "", "-"),
        ("t", "cost of tax per invoice in bulk batches (in-process)", _value(
         f, "tax_cost_batch_invoice_tax_cpu_ms", " ms CPU"), "tax / no tax: " + _value(
         f, "tax_cost_batch_invoice_ratio", " x; peer ") + _value(
         f, "tax_cost_batch_invoice_no_tax_cpu_ms", " ms"), "", "-"),
        ("8", f"serials scaling: CPU of {get('serials_scaling_sizes') or '-'} serials",
         _value(f, "serials_scaling_ratio", " x"), _value(f, "serials_post_high_cpu_s", " s / ")
         + _value(f, "serials_post_low_cpu_s", " s"), "4 x (linear; quadratic 16 x)",
         _check(f.get("serials_scaling_met"))),
        ("9", f"recovery: idle sweep over {get('recovery_finished_requests') or '-'} finished "
         "requests", _value(f, "recovery_idle_sweep_ms", " ms"),
         _value(f, "recovery_idle_share", " of its ") + _value(
         f, "recovery_sweep_interval_s", " s interval; ") + _value(
         f, "recovery_idle_sweep_statements", " statements"),
         f"<= {RECOVERY_IDLE_SHARE_LIMIT} of interval", _check(f.get("recovery_idle_met"))),
        ("9", f"  publishing {get('recovery_lost_requests') or '-'} lost requests again",
         _value(f, "recovery_republish_per_s", " req/s"),
         _value(f, "recovery_republish_ratio_to_queue_floor", " x (1)"), "", "-"),
    ]  # fmt: skip
    header = ("#", "figure", "value", "compared", "target", "met")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    m = f.get("machine", {})
    out.append(
        f"\n{m.get('date')}; {m.get('cpus')} CPUs ({m.get('cpu_model')}), "
        f"{m.get('memory_gib')} GiB; Python {m.get('python')}; load average at start "
        f"{m.get('load_at_start')}, at end {m.get('load_at_end')}"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: under two minutes")
    parser.add_argument("--requests", type=int, help="packing slips per posting run")
    parser.add_argument("--orders", type=int, help="orders to bulk-invoice (full run: 10000)")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record the posting, render and bulk workers with py-spy into DIR (slows them: "
        "figures of a profiled run do not compare); summarise with python -m bench.profile",
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=SECTIONS, metavar="SECTION")
    args = parser.parse_args(argv)
    started = time.monotonic()
    figures = run(args)
    figures["total_s"] = round(time.monotonic() - started, 1)
    print()
    print(table(figures))
    print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
