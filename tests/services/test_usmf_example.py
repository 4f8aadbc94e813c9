"""The USMF example (../shared/examples/usmf) end to end through the posting services."""

from __future__ import annotations

from decimal import Decimal

from docpost.pipeline import queries
from docpost.pipeline.outbox import drain_inline
from docpost.pipeline.runner.execute import execute, run_invoice_batch
from tests.conftest import Runner, usmf_requests


def run_all(run: Runner) -> dict[str, dict]:
    outcomes = {}

    def one(body: dict) -> None:
        outcome = execute(body, run.sessions)
        outcomes[outcome["request_id"]] = outcome

    def batch(bodies: list[dict]) -> None:
        for outcome in run_invoice_batch(bodies, run.sessions).outcomes:
            outcomes[outcome["request_id"]] = outcome

    for body in usmf_requests():
        one(body)
        drain_inline(
            run.sessions,
            {
                "execute_request": lambda p: one(p["body"]),
                "invoice_batch": lambda p: batch(p["bodies"]),
            },
        )
    return outcomes


def test_usmf_example_runs_and_ledger_balances(usmf: Runner) -> None:
    outcomes = run_all(usmf)
    assert {o["status"] for o in outcomes.values()} == {"succeeded"}, outcomes
    assert outcomes["usmf-003"]["result"]["journal"] == "PS-000001"
    assert outcomes["usmf-004"]["result"]["journal"] == "INV-000001"
    with usmf.sessions() as session:
        ledger = queries.ledger(session)
        assert ledger["trial_balance"]["total"] == "0.00"
        receivable = next(a for a in ledger["trial_balance"]["accounts"] if a["account"] == "1200")
        # 5 bundles of 2,300 + 3 phones at 300 less 10% - 1 bundle credited + 1 POS phone at 299
        assert Decimal(receivable["balance"]) == Decimal("11500") + Decimal("810") - Decimal(
            "2300"
        ) + Decimal("299")
