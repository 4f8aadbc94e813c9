"""SQL statements per posting, counted with SQLAlchemy events: proof of no N+1 queries.

The packing slip of the benchmark (3 lines, 2 serials) and the same with 30 lines: a constant
count means no statement runs once per line. `measure_scenario`: the packing slip and invoice
of a bench.scenarios order (with tax, and its no-tax twin), what tax adds per posting.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import event

from bench.common import Database, ok, order_request, packing_slip_request, request, vat_rows
from bench.scenarios import Scenario, confirm_request
from docpost.pipeline.runner.execute import execute


def _statement_kind(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper()
    if verb == "SELECT" and "FROM" in words:
        return f"SELECT {words[words.index('FROM') + 1]}"
    if verb in ("INSERT", "UPDATE", "DELETE"):
        return f"{verb} {words[2] if verb != 'UPDATE' else words[1]}"
    return verb


def count_statements(db: Database, body: dict[str, Any]) -> Counter[str]:
    seen: Counter[str] = Counter()

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen[_statement_kind(statement)] += 1

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        ok(execute(body, db.sessions))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen


def measure(db: Database) -> dict[str, Any]:
    ok(execute(order_request("SQL-1"), db.sessions))
    small = count_statements(db, packing_slip_request("SQL-1"))
    many_lines = [
        {"line": n, "item": "S0021", "quantity": "1", "unit_price": "1"} for n in range(1, 31)
    ]
    ok(
        execute(
            request(
                "order-SQL-2",
                "upsert_order",
                {"order": "SQL-2", "customer": "US-004", "lines": many_lines},
            ),
            db.sessions,
        )
    )
    large = count_statements(
        db, request("ps-SQL-2", "post_packing_slip", {"order": "SQL-2"}, actor="warehouse-1")
    )
    invoice = count_statements(db, request("inv-SQL-1", "post_invoice", {"order": "SQL-1"}))
    return {
        "sql_per_packing_slip": sum(small.values()),
        "sql_per_packing_slip_30_lines": sum(large.values()),
        "sql_per_invoice": sum(invoice.values()),
        "sql_packing_slip_detail": dict(small.most_common()),
    }


def measure_scenario(db: Database, scenario: Scenario, number: str = "SQL-T") -> dict[str, Any]:
    """Statements of the scenario's packing slip and of the invoice of that order, and the VAT
    groups (journal_vat rows, T3) the invoice wrote, keyed by the scenario's name."""
    ok(execute(scenario.order(number), db.sessions))
    if scenario.confirm:
        ok(execute(confirm_request(number), db.sessions))
    slip = count_statements(db, scenario.packing_slip(number))
    before = vat_rows(db)
    invoice = count_statements(db, request(f"inv-{number}", "post_invoice", {"order": number}))
    name = scenario.name
    return {
        f"sql_per_packing_slip_{name}": sum(slip.values()),
        f"sql_per_invoice_{name}": sum(invoice.values()),
        f"sql_invoice_vat_rows_{name}": vat_rows(db) - before,
        f"sql_packing_slip_detail_{name}": dict(slip.most_common()),
        f"sql_invoice_detail_{name}": dict(invoice.most_common()),
    }
