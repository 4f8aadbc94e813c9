"""The bench's tax scenario (bench.scenarios, issue 15's "`python -m bench` re-measured with
tax") really posts tax, and its no-tax peer really does not: otherwise the bench's "with tax"
figures and the ratio to the peer would measure nothing. On SQLite and PostgreSQL, through the
same code the bench runs (bench.prepare, bench.sql_count), with bulk invoicing's batches run
in-process as the `bulk` worker runs them. No timings are asserted.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench.__main__ import derive, table
from bench.common import Database, vat_rows
from bench.prepare import prepare_orders
from bench.scenarios import (
    NO_TAX,
    SCENARIOS,
    TAX,
    TAX_VAT_GROUPS,
    no_tax_catalog,
    tax_catalog,
)
from bench.sql_count import measure_scenario
from bench.tax_cost import BATCH, WARM_UP, _databases
from bench.tax_cost import measure as measure_tax_cost
from docpost.pipeline.outbox import drain_inline
from docpost.pipeline.queries import show_journal
from docpost.pipeline.runner.execute import run_invoice_batch
from docpost.schema import Journal, JournalVat, LedgerEntry
from tests.conftest import Runner


@pytest.fixture
def bench_db(db_url: str, engine: Engine, sessions: sessionmaker[Session]) -> Database:
    """The bench's view of the test database (its schema is in the URL's search_path)."""
    return Database(db_url, "", engine, sessions)


def vat_of(run: Runner, number: str) -> list[tuple[str, str, str, str]]:
    with run.sessions() as session:
        shown = show_journal(session, number)
    return [(v["tax_code"], v["rate"], v["taxable_amount"], v["vat_amount"]) for v in shown["vat"]]


def invoice_numbers(run: Runner) -> list[str]:
    with run.sessions() as session:
        return list(session.scalars(select(Journal.number).where(Journal.kind == "invoice")))


def bulk_invoice(run: Runner, orders: list[str]) -> None:
    """bulk_invoice over the orders, its invoice batches run here as the `bulk` worker runs
    them (run_invoice_batch: the set-based path the bench measures)."""
    run.ok("bulk_invoice", {"orders": orders})

    def batch(payload: dict[str, Any]) -> None:
        for child in run_invoice_batch(payload["bodies"], run.sessions).outcomes:
            assert child["status"] == "succeeded", child

    drain_inline(run.sessions, {"invoice_batch": batch})


def assert_every_voucher_balances(run: Runner) -> None:
    """L1: every voucher of the database sums to zero (and there are vouchers)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with run.sessions() as session:
        for entry in session.scalars(select(LedgerEntry)):
            sums[entry.voucher] += entry.amount
    assert sums and all(total == 0 for total in sums.values()), sums


# --- the invoice the sql section counts -------------------------------------------------------


def test_t1_t3_t4_the_bench_tax_invoice_writes_its_vat_groups(
    run: Runner, bench_db: Database
) -> None:
    """T1, T3, T4, P1, P2, L1: the tax scenario's invoice (laptops 25 %, cheese 15 %, a gift
    basket of a cheese at 15 % and a knife at 25 %) writes two journal_vat rows whose taxable
    amounts take the basket's components apart by rate; a due date, a KID, a balanced voucher
    with output VAT."""
    run.ok("upsert_catalog", tax_catalog())
    counted = measure_scenario(bench_db, TAX, number="B-1")
    assert counted["sql_invoice_vat_rows_tax"] == TAX_VAT_GROUPS == 2
    assert counted["sql_invoice_detail_tax"]["INSERT journal_vat"] == 1  # one statement, no N+1
    (number,) = invoice_numbers(run)
    assert vat_of(run, number) == [
        ("3", "25.00", "4049.00", "1012.25"),  # 2 x 1,900.00 + the knife's 249.00
        ("31", "15.00", "567.00", "85.05"),  # 2 x 189.00 + the cheese's 189.00
    ]
    with run.sessions() as session:
        shown = show_journal(session, number)
    assert (shown["net_total"], shown["vat_total"], shown["total"]) == (
        "4616.00",
        "1097.30",
        "5713.30",
    )
    assert shown["due_date"] and shown["kid"]
    with run.sessions() as session:
        journal_id = session.scalars(select(Journal.id).where(Journal.number == number)).one()
        output_vat = {
            e.account: e.amount
            for e in session.scalars(
                select(LedgerEntry).where(LedgerEntry.journal_id == journal_id)
            )
            if e.account in ("2700", "2701")
        }
    assert output_vat == {"2700": Decimal("-1012.25"), "2701": Decimal("-85.05")}  # credits
    assert_every_voucher_balances(run)


def test_the_no_tax_peer_posts_the_same_invoice_without_vat(
    run: Runner, bench_db: Database
) -> None:
    """Negative control: the peer (the same catalog, orders and packing slips without company
    and tax codes) writes no journal_vat row, no due date and no KID: the ratio of the two
    figures is the cost of tax and nothing else."""
    run.ok("upsert_catalog", no_tax_catalog())
    counted = measure_scenario(bench_db, NO_TAX, number="B-1")
    assert counted["sql_invoice_vat_rows_no_tax"] == 0
    assert "INSERT journal_vat" not in counted["sql_invoice_detail_no_tax"]
    (number,) = invoice_numbers(run)
    with run.sessions() as session:
        shown = show_journal(session, number)
    assert (shown["vat"], shown["due_date"], shown["kid"], shown["total_amount"]) == (
        [],
        None,
        None,
        "4616.00",  # the same net amounts as with tax
    )


# --- bulk invoicing, as section 4 sets it up ------------------------------------------------


def test_t3_l1_bulk_invoicing_the_bench_tax_orders_writes_two_vat_groups_per_invoice(
    run: Runner, db_url: str, bench_db: Database
) -> None:
    """Section 4's set-up (bench.prepare: orders confirmed, packing slips posted) and bulk
    invoicing's batches: every invoice has the tax scenario's two VAT groups, the same as the
    single invoice above, and every voucher balances (L1). The bench itself refuses a run whose
    VAT row count is not this (bench.__main__'s bulk section)."""
    run.ok("upsert_catalog", tax_catalog())
    orders = [f"BULK-{n}" for n in range(4)]
    prepare_orders(db_url, orders, packing_slips=True, scenario="tax")
    bulk_invoice(run, orders)
    numbers = invoice_numbers(run)
    assert len(numbers) == len(orders)
    assert vat_rows(bench_db) == TAX_VAT_GROUPS * len(orders)  # what the bench checks
    with run.sessions() as session:
        per_invoice = session.execute(
            select(JournalVat.journal_id, func.count())
            .join(Journal, Journal.id == JournalVat.journal_id)
            .where(Journal.kind == "invoice")
            .group_by(JournalVat.journal_id)
        ).all()
    assert sorted(count for _, count in per_invoice) == [TAX_VAT_GROUPS] * len(orders)
    for number in numbers:
        assert vat_of(run, number) == [
            ("3", "25.00", "4049.00", "1012.25"),
            ("31", "15.00", "567.00", "85.05"),
        ]
    assert_every_voucher_balances(run)


def test_bulk_invoicing_the_no_tax_peer_writes_no_vat(run: Runner, db_url: str) -> None:
    """Negative control for the bulk peer: the same orders invoiced in batches, no VAT rows
    (on any journal)."""
    run.ok("upsert_catalog", no_tax_catalog())
    orders = [f"BULK-{n}" for n in range(2)]
    prepare_orders(db_url, orders, packing_slips=True, scenario="no_tax")
    bulk_invoice(run, orders)
    assert len(invoice_numbers(run)) == len(orders)
    with run.sessions() as session:
        assert session.scalar(select(func.count()).select_from(JournalVat)) == 0


# --- the cost of tax, interleaved (PostgreSQL: it reads its backends' CPU) -------------------


@pytest.mark.postgres
def test_t3_the_interleaved_cost_of_tax_posts_vat_on_one_side_only() -> None:
    """bench.tax_cost alternates the same postings, single invoices and bulk invoicing's
    batches, in the bench's two private schemas: the tax side's invoices write two VAT groups
    each, the peer's none, and every figure it reports is there (CPU is not asserted: no
    timings)."""
    orders, batches = 2, 1
    with _databases() as (tax_db, no_tax_db):
        figures = measure_tax_cost(tax_db, no_tax_db, orders, batches)
        invoices = WARM_UP + orders + BATCH * (1 + batches)  # a warm-up batch each
        assert vat_rows(tax_db) == TAX_VAT_GROUPS * invoices
        assert vat_rows(no_tax_db) == 0
    for what in ("packing_slip", "invoice", "batch_invoice"):
        for side in ("tax", "no_tax"):
            assert figures[f"tax_cost_{what}_{side}_own_cpu_ms"] >= 0
            assert figures[f"tax_cost_{what}_{side}_db_cpu_ms"] >= 0
        assert f"tax_cost_{what}_ratio" in figures


# --- no database: the catalogs and the table ------------------------------------------------


def test_m6_m8_the_peer_catalog_is_the_tax_catalog_without_company_and_tax_codes() -> None:
    """The two catalogs differ only in what turns VAT on (M6 company, M8 tax codes and the
    items' codes); the tax catalog codes every item (M8) and mixes rates in its bundle (T4)."""
    taxed, plain = tax_catalog(), no_tax_catalog()
    assert "company" in taxed and taxed["tax_codes"]
    assert "company" not in plain and "tax_codes" not in plain
    assert all(item.get("tax_code") for item in taxed["items"] if not item.get("bundle"))
    for item in taxed["items"]:
        item.pop("tax_code", None)
    del taxed["company"], taxed["tax_codes"]
    assert taxed == plain
    rate_of = {c["code"]: c["rates"][0]["rate"] for c in tax_catalog()["tax_codes"]}
    code_of = {i["item"]: i.get("tax_code") for i in tax_catalog()["items"]}
    (basket,) = [b for b in tax_catalog()["boms"] if b["bundle"] == "GAVE-1"]
    assert {rate_of[code_of[c["item"]]] for c in basket["components"]} == {"15", "25"}
    assert SCENARIOS["tax"].order("X") == SCENARIOS["no_tax"].order("X")


def test_the_table_shows_the_cost_of_tax_beside_its_peer() -> None:
    """derive's ratios with tax over without, shown on the peers' rows."""
    figures: dict[str, Any] = {
        "posting_rps": 80.0,
        "posting_worker_cpu_ms": 15.0,
        "posting_db_cpu_ms": 5.0,
        "posting_no_tax_rps": 100.0,
        "posting_no_tax_worker_cpu_ms": 12.0,
        "posting_no_tax_db_cpu_ms": 4.0,
        "bulk_orders": 200,
        "bulk_wall_s": 2.0,
        "bulk_invoices_per_s": 100.0,
        "bulk_worker_cpu_ms_per_invoice": 6.0,
        "bulk_db_cpu_ms_per_invoice": 2.0,
        "bulk_no_tax_invoices_per_s": 125.0,
        "bulk_no_tax_worker_cpu_ms_per_invoice": 4.0,
        "bulk_no_tax_db_cpu_ms_per_invoice": 1.0,
    }
    derive(figures)
    assert (figures["posting_tax_rps_ratio"], figures["posting_tax_cpu_ratio"]) == (0.8, 1.25)
    assert (figures["bulk_tax_rate_ratio"], figures["bulk_tax_cpu_ratio"]) == (0.8, 1.6)
    shown = table(figures)
    assert "tax / no tax: 0.8 x req/s, 1.25 x CPU; peer CPU (12.0 + 4.0 ms)" in shown
    assert "tax / no tax: 0.8 x inv/s, 1.6 x CPU; peer CPU (4.0 + 1.0 ms)" in shown
