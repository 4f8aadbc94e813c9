"""The scaling section's lock probe (bench.lock_probe) measures what it claims: one hold per
committed transaction that took a gapless number (L2), starting with the series it took
first, and none for a transaction that took no number or rolled back (negative controls);
and bench.scaling's model and the bench table read those figures. Through the real
services on SQLite and PostgreSQL (the tax scenario's invoice: INV, then VOU). No timings
are asserted.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench.__main__ import derive, table
from bench.lock_probe import Hold, Probe, is_series_update, percentile, series_code, summary
from bench.prepare import prepare_orders
from bench.scaling import figures_of, invoice_request, model
from bench.scenarios import tax_catalog
from docpost.pipeline.outbox import drain_inline
from docpost.pipeline.runner.execute import execute, run_invoice_batch
from tests.conftest import Runner


@pytest.fixture
def probe() -> Any:
    holds: list[Hold] = []
    installed = Probe(holds.append).install()
    installed.holds = holds  # type: ignore[attr-defined]
    yield installed
    installed.remove()


def test_an_invoice_is_one_hold_from_its_first_series_on(
    run: Runner, sessions: sessionmaker[Session], db_url: str, probe: Any
) -> None:
    """The tax scenario's invoice takes INV and then VOU in one transaction: one hold, whose
    series are those two in that order, with statements run under the lock; the order and
    packing slip set-up before it took their own numbers, so they are cleared first."""
    run.ok("upsert_catalog", tax_catalog())
    prepare_orders(db_url, ["S-1"], packing_slips=True, scenario="tax")
    probe.holds.clear()
    body = invoice_request("S-1")
    assert body["kind"] == "post_invoice" and body["payload"] == {"order": "S-1"}
    outcome = execute(body, sessions)
    assert outcome["status"] == "succeeded", outcome
    (hold,) = probe.holds
    assert hold.series == ["INV", "VOU"]
    assert hold.statements > 0  # the journal's rows are written while INV is locked
    assert hold.hold_s >= hold.commit_s >= 0 and hold.wait_s >= 0 and hold.before_s >= 0
    assert hold.hold_cpu_s > 0
    assert probe.rolled_back == 0


def test_a_bulk_batch_is_one_hold_for_all_its_invoices(
    run: Runner, db_url: str, probe: Any
) -> None:
    """Bulk invoicing's batch takes its invoices' INV and VOU numbers at once: three invoices,
    one hold; the bulk request that fans them out takes no number."""
    run.ok("upsert_catalog", tax_catalog())
    orders = ["B-1", "B-2", "B-3"]
    prepare_orders(db_url, orders, packing_slips=True, scenario="tax")
    probe.holds.clear()
    run.ok("bulk_invoice", {"orders": orders})
    assert probe.holds == []

    def batch(payload: dict[str, Any]) -> None:
        for child in run_invoice_batch(payload["bodies"], run.sessions).outcomes:
            assert child["status"] == "succeeded", child

    drain_inline(run.sessions, {"invoice_batch": batch})
    (hold,) = probe.holds
    assert hold.series == ["INV", "VOU"]


def test_no_hold_for_a_transaction_without_a_number(
    run: Runner, sessions: sessionmaker[Session], probe: Any
) -> None:
    """Negative control: a catalog load and a Session that only reads number_series commit
    without taking a number: no hold."""
    run.ok("upsert_catalog", tax_catalog())
    with sessions() as session, session.begin():
        session.execute(text("SELECT next_value FROM number_series"))
    assert probe.holds == []


def test_a_rolled_back_number_is_no_hold(
    run: Runner, sessions: sessionmaker[Session], probe: Any
) -> None:
    """A rollback gives the number back (L2) and the lock with it: counted apart, no hold;
    the next committed one is a hold of its own, not the sum of both."""
    run.ok("upsert_catalog", tax_catalog())
    update = "UPDATE number_series SET next_value = next_value + 1 WHERE code = :code"
    with sessions() as session:
        session.execute(text(update), {"code": "INV"})
        session.rollback()
    assert probe.holds == [] and probe.rolled_back == 1
    with sessions() as session, session.begin():
        session.execute(text(update), {"code": "VOU"})
    (hold,) = probe.holds
    assert hold.series == ["VOU"] and hold.statements == 0


def test_series_update_and_code_recognised() -> None:
    orm = (
        "UPDATE number_series SET next_value=(number_series.next_value + %(next_value_1)s) "
        "WHERE number_series.code = %(code_1)s RETURNING number_series.next_value"
    )
    assert is_series_update(orm)
    assert series_code(orm, {"next_value_1": 1, "code_1": "INV"}) == "INV"
    raw = "UPDATE number_series SET next_value = next_value + 1 WHERE code = 'FLOOR'"
    assert series_code(raw, None) == "FLOOR"
    assert not is_series_update("SELECT next_value FROM number_series")
    assert not is_series_update("UPDATE sales_lines SET delivered_qty = 1")


def hold(ms: float, series: str = "INV") -> Hold:
    return Hold([series], ms / 1000, 0.0, 0.0, 0.0, 0, ms / 2000, 1.0)


def test_summary_and_utilisation() -> None:
    """Utilisation is the hold time summed over the wall time: 10 holds of 50 ms in 1 s lock
    the series half the time."""
    figures = summary([hold(50)] * 10, 1.0)
    assert figures["holds"] == 10 and figures["utilisation"] == 0.5
    assert figures["hold_median_ms"] == figures["hold_p95_ms"] == 50
    assert summary([], 1.0) == {"holds": 0}
    assert percentile(list(range(1, 101)), 0.95) == 95


def test_model_and_table_show_the_scaling_figures() -> None:
    """One series' ceiling is 1 / the mean hold on one process; the database's CPU bound is
    its cores over PostgreSQL's CPU per invoice; the table shows them per process count."""
    run = {
        "invoices_per_s": 20.0, "hold_median_ms": 40.0, "hold_p95_ms": 60.0,
        "hold_mean_ms": 50.0, "wait_median_ms": 1.0, "wait_p95_ms": 2.0,
        "commit_median_ms": 1.5, "before_median_ms": 3.0, "statements_median": 20,
        "hold_cpu_median_ms": 18.5, "hold_cpu_mean_ms": 18.5,
        "utilisation": 0.8, "worker_cpu_ms": 40.0, "db_cpu_ms": 10.0,
    }  # fmt: skip
    f: dict[str, Any] = {"scaling_processes": [1, 2], "scaling_requests": 10}
    f |= figures_of(1, run) | figures_of(2, run | {"invoices_per_s": 30.0})
    f["scaling_bulk_lock_hold_per_invoice_ms"] = 2.5
    f |= model(f)
    assert f["scaling_series_ceiling_per_s"] == 20.0  # 1000 / 50 ms
    assert f["scaling_series_ceiling_quiet_per_s"] == 50.0  # 1000 / (18.5 + 1.5 ms)
    assert f["scaling_series_processes_bound"] == 1.2  # 1 / 0.8
    assert f["scaling_db_cores_per_saturated_series"] == 0.5  # 50 /s x 10 ms
    assert f["scaling_bulk_series_ceiling_per_s"] == 400.0  # 1000 / 2.5 ms
    assert f["scaling_best_over_1"] == 1.5 and f["scaling_best_processes"] == 2
    cpus = f["scaling_db_cpu_bound_per_s"] / 100  # 1000 ms x cores / 10 ms
    assert f["scaling_series_per_database"] == round(100 * cpus / 20, 1)
    f["db_floor_tps"] = 200.0
    derive(f)
    assert f["scaling_db_floor_in_series"] == 10.0
    shown = table(f)
    assert "20.0 / 30.0 inv/s" in shown
    assert "0.8 / 0.8" in shown


def test_table_shows_the_peers_section_and_an_absent_peer() -> None:
    """`python -m bench`'s peers rows (bench.peers.measure's figures, prefixed peers_): the
    three renderers' CPU and docpost's ratio to each; a peer not installed reads 'absent',
    never 0 or a ratio."""
    f: dict[str, Any] = {
        "peers_pdf_one_page_cpu_ms": 30.0,
        "peers_pdf_one_page_chromium_cpu_ms": 60.0,
        "peers_pdf_one_page_wkhtmltopdf_cpu_ms": None,
        "peers_pdf_one_page_chromium_ratio": 0.5,
        "peers_pdf_one_page_wkhtmltopdf_ratio": None,
    }
    row = next(line for line in table(f).splitlines() if "one-page invoice: CPU" in line)
    assert "30.0 / 60.0 / absent ms" in row
    assert "0.5 / absent x" in row
