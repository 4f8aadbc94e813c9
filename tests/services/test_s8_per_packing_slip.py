"""S8 per packing slip, not per line (issue 17 item 1), through post_invoice and bulk
invoicing, on SQLite and PostgreSQL.

The order: line 1 item 1000 (4 serialized units), line 2 item M0001 (2 serialized units).
PS-1 ships line 1 [B1, B2] and line 2 [L1, L2]; PS-2 ships line 1 [B3, B4].
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from docpost.pipeline import queries
from docpost.pipeline.contract import parse_request
from docpost.pipeline.runner.kinds import needs_of
from docpost.pipeline.runner.request_record import record_queued
from docpost.pipeline.services.bulk import invoice_request
from docpost.pipeline.services.invoice_batch import invoice_batch
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import OutboxMessage
from tests.conftest import Runner
from tests.services.helpers import counts, order, ship, unchanged_but_outcome


def issue_order(run: Runner) -> tuple[str, str]:
    order(run, "SO-1", ("1000", "4", "1900.00"), ("M0001", "2", "300.00"))
    ps1 = ship(
        run,
        "SO-1",
        {"line": 1, "quantity": "2", "serials": ["B1", "B2"]},
        {"line": 2, "quantity": "2", "serials": ["L1", "L2"]},
    )
    ps2 = ship(run, "SO-1", {"line": 1, "quantity": "2", "serials": ["B3", "B4"]})
    return ps1, ps2


def invoice(slips: list[str] | None, *lines: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {"order": "SO-1", "lines": list(lines)}
    if slips is not None:
        payload["packing_slips"] = slips
    return payload


def serials_of(run: Runner, journal: str) -> list[list[str]]:
    with run.sessions() as session:
        return [sorted(ln["serials"]) for ln in queries.show_journal(session, journal)["lines"]]


def states(run: Runner) -> dict[str, str]:
    with run.sessions() as session:
        return {
            s["serial"]: s["state"]
            for line in queries.show_order(session, "SO-1")["lines"]
            for s in line["serials"]
        }


def test_s8_issue_example_is_rejected_naming_both_packing_slips(usmf: Runner) -> None:
    """S8: B1, B2 (all of PS-1's line 1) and B3 leave both packing slips partly included:
    PS-1 leaves out line 2's L1 and L2, PS-2 leaves out B4. Nothing is written."""
    ps1, ps2 = issue_order(usmf)
    before = counts(usmf)
    error = usmf.rejected(
        "post_invoice",
        invoice([ps1, ps2], {"line": 1, "quantity": "3", "serials": ["B1", "B2", "B3"]}),
    )
    assert (error["code"], error["rule"]) == ("serial.partial_packing_slips", "S8")
    assert error["message"] == (
        f"the invoice takes part of the serials of packing slips {ps1}, {ps2}; only one packing "
        "slip may be partly invoiced, invoice the others in full (serialized units left out: "
        f"{ps1} 2 of line 2 (item M0001); {ps2} 1 of line 1 (item 1000))"
    )
    assert error["details"]["packing_slips"] == [ps1, ps2]
    assert unchanged_but_outcome(before, counts(usmf))


def test_s8_issue_example_without_naming_the_packing_slips_is_rejected_too(usmf: Runner) -> None:
    """S8: the packing slips are the ones the serials come from, named or not."""
    ps1, ps2 = issue_order(usmf)
    error = usmf.rejected(
        "post_invoice", invoice(None, {"line": 1, "quantity": "3", "serials": ["B1", "B2", "B3"]})
    )
    assert (error["code"], error["rule"]) == ("serial.partial_packing_slips", "S8")
    assert error["details"]["packing_slips"] == [ps1, ps2]


def test_s8_ps1_whole_on_both_lines_and_one_of_ps2_is_accepted(usmf: Runner) -> None:
    """S8: PS-1 in full (B1, B2 and L1, L2), PS-2 partly (B3): one partial packing slip."""
    ps1, ps2 = issue_order(usmf)
    result = usmf.ok(
        "post_invoice",
        invoice(
            [ps1, ps2],
            {"line": 1, "quantity": "3", "serials": ["B1", "B2", "B3"]},
            {"line": 2, "quantity": "2", "serials": ["L1", "L2"]},
        ),
    )
    assert serials_of(usmf, result["journal"]) == [["B1", "B2", "B3"], ["L1", "L2"]]


def test_s8_ps2_whole_and_one_of_ps1_is_accepted(usmf: Runner) -> None:
    """S8: PS-2 in full (B3, B4), PS-1 partly (B1): one partial packing slip."""
    ps1, ps2 = issue_order(usmf)
    result = usmf.ok(
        "post_invoice",
        invoice([ps1, ps2], {"line": 1, "quantity": "3", "serials": ["B3", "B4", "B1"]}),
    )
    assert serials_of(usmf, result["journal"]) == [["B1", "B3", "B4"]]


def test_s8_lines_invoiced_before_count_as_included(usmf: Runner) -> None:
    """S8: 'on this invoice or invoiced before': once L1 and L2 are invoiced (PS-1 partly, the
    only partial one), B1, B2 complete PS-1 and B3 may come from PS-2."""
    ps1, ps2 = issue_order(usmf)
    usmf.ok("post_invoice", invoice([ps1], {"line": 2, "quantity": "2", "serials": ["L1", "L2"]}))
    result = usmf.ok(
        "post_invoice",
        invoice([ps1, ps2], {"line": 1, "quantity": "3", "serials": ["B1", "B2", "B3"]}),
    )
    assert serials_of(usmf, result["journal"]) == [["B1", "B2", "B3"]]


def test_s8_without_serials_the_invoice_chooses_units_that_keep_it(usmf: Runner) -> None:
    """S8: three units of line 1 with no serials named: oldest first (B1, B2, B3) would break
    S8, so the invoice takes PS-2 whole and B1 of PS-1, named packing slips or not."""
    ps1, ps2 = issue_order(usmf)
    result = usmf.ok("post_invoice", invoice([ps1, ps2], {"line": 1, "quantity": "3"}))
    assert serials_of(usmf, result["journal"]) == [["B1", "B3", "B4"]]
    assert states(usmf)["B2"] == "shipped"  # negative control: not oldest first


def test_s8_without_serials_or_packing_slips_the_invoice_chooses_too(usmf: Runner) -> None:
    issue_order(usmf)
    result = usmf.ok("post_invoice", invoice(None, {"line": 1, "quantity": "3"}))
    assert serials_of(usmf, result["journal"]) == [["B1", "B3", "B4"]]


def test_s8_without_serials_and_no_choice_that_keeps_it_is_rejected(usmf: Runner) -> None:
    """S8: each packing slip also ships a line 2 unit left out, so only one packing slip may be
    touched, and three units of line 1 fit in none: refused, naming both."""
    order(usmf, "SO-1", ("1000", "4", "1900.00"), ("M0001", "2", "300.00"))
    slips = [
        ship(
            usmf,
            "SO-1",
            {"line": 1, "quantity": "2", "serials": [f"B{n}a", f"B{n}b"]},
            {"line": 2, "quantity": "1", "serials": [f"L{n}"]},
        )
        for n in (1, 2)
    ]
    error = usmf.rejected("post_invoice", invoice(None, {"line": 1, "quantity": "3"}))
    assert (error["code"], error["rule"]) == ("serial.partial_packing_slips", "S8")
    assert error["details"]["packing_slips"] == slips
    # Negative control: with line 2 of the first packing slip too, it holds.
    usmf.ok(
        "post_invoice",
        invoice(None, {"line": 1, "quantity": "3"}, {"line": 2, "quantity": "1"}),
    )


def _child(run: Runner, slips: list[str]) -> dict[str, Any]:
    child = invoice_request("SO-1", slips, "erp")
    record_queued(child, run.sessions)
    return child


def test_s8_bulk_invoicing_takes_whole_packing_slips(usmf: Runner) -> None:
    """S8 with bulk invoicing: after B3 alone was invoiced (PS-2 partly), bulk invoicing's
    batch invoices the rest of both packing slips whole, every line of PS-1 included: nothing
    of them is left, and the batch (set-based) took the order, leaving nothing out."""
    ps1, ps2 = issue_order(usmf)
    usmf.ok("post_invoice", invoice([ps2], {"line": 1, "quantity": "1", "serials": ["B3"]}))
    outcome = usmf.ok("bulk_invoice", {"orders": ["SO-1"]})
    with usmf.sessions() as session:
        [bodies] = [
            m.payload["bodies"]
            for m in session.scalars(select(OutboxMessage))
            if m.task == "invoice_batch"
        ]
    assert [b["payload"]["packing_slips"] for b in bodies] == [[ps1, ps2]]
    with (
        usmf.sessions() as session,
        UnitOfWork(session, "invoice-batch", "", needs_of=needs_of) as uow,
    ):
        batch = invoice_batch(uow, [parse_request(b) for b in bodies])
        uow.commit()
    assert batch.left_out == []
    [child] = batch.outcomes
    assert child["request_id"] == outcome["requests"][0]
    assert child["status"] == "succeeded"
    assert serials_of(usmf, child["result"]["journal"]) == [["B1", "B2", "B4"], ["L1", "L2"]]
    assert set(states(usmf).values()) == {"invoiced"}


def test_s8_bulk_invoicing_batch_of_the_issue_order_keeps_s8(usmf: Runner) -> None:
    """S8 with bulk invoicing from nothing invoiced: both packing slips whole in one invoice."""
    ps1, ps2 = issue_order(usmf)
    child = _child(usmf, [ps1, ps2])
    with (
        usmf.sessions() as session,
        UnitOfWork(session, "invoice-batch", "", needs_of=needs_of) as uow,
    ):
        batch = invoice_batch(uow, [parse_request(child)])
        uow.commit()
    assert batch.left_out == []
    [result] = batch.outcomes
    assert serials_of(usmf, result["result"]["journal"]) == [["B1", "B2", "B3", "B4"], ["L1", "L2"]]
    assert set(states(usmf).values()) == {"invoiced"}
