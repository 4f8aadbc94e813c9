"""Request handling (CONTRACT.md): one outcome per request_id, malformed input, and posting
all or nothing with gapless numbers (L1-L3)."""

from __future__ import annotations

import json

from sqlalchemy import select

from docpost.pipeline import queries
from docpost.pipeline.runner.execute import execute
from docpost.schema import NumberSeries
from tests.conftest import Runner
from tests.services.helpers import counts, order, ship


def test_same_request_id_executes_once_and_returns_the_first_outcome(usmf: Runner) -> None:
    order(usmf, "SO-1", ("S0021", "2", "150.00"))
    first = usmf(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "1"}]},
        actor="erp",
        request_id="ps-1",
    )
    again = usmf(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "1"}]},
        actor="erp",
        request_id="ps-1",
    )
    assert first == again
    with usmf.sessions() as session:
        assert queries.show_order(session, "SO-1")["lines"][0]["delivered"] == "1"


def test_same_request_id_with_another_body_is_a_conflict(usmf: Runner) -> None:
    order(usmf, "SO-1", ("S0021", "2", "150.00"))
    usmf(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "1"}]},
        request_id="ps-1",
    )
    before = counts(usmf)
    outcome = usmf("post_packing_slip", {"order": "SO-1"}, request_id="ps-1")
    assert outcome["status"] == "rejected"
    assert outcome["error"]["code"] == "request.conflict"
    assert outcome["error"]["message"] == (
        "request_id 'ps-1' was already used for a different request; use a new request_id for a new request"
    )
    assert counts(usmf) == before
    with usmf.sessions() as session:
        assert queries.show_request(session, "ps-1")["status"] == "succeeded"


def test_a_rejected_request_is_not_retried_by_a_repeat(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    body = {"order": "SO-1", "lines": [{"line": 1, "quantity": "1"}]}
    first = usmf("post_packing_slip", body, actor="warehouse-1", request_id="r")
    assert first["status"] == "rejected"
    assert usmf("post_packing_slip", body, actor="warehouse-1", request_id="r") == first


def test_malformed_requests_get_a_stored_specific_rejection(usmf: Runner) -> None:
    before = counts(usmf)
    cases = {
        "not json": "request body is not valid JSON",
        "[1, 2]": "a request is one JSON object, got list",
        json.dumps(
            {
                "request_id": "m1",
                "kind": "post_packing_slip",
                "actor": "erp",
                "payload": {"order": "SO-1", "lines": [{"line": 1, "quantity": "-1"}]},
            }
        ): "invalid post_packing_slip request: payload.lines[0].quantity: must be greater than 0",
        json.dumps(
            {"request_id": "m2", "kind": "ship_it", "actor": "erp", "payload": {}}
        ): "unknown request kind 'ship_it'; expected one of: ",
        json.dumps(
            {
                "request_id": "m3",
                "kind": "upsert_order",
                "actor": "erp",
                "payload": {
                    "order": "SO-1",
                    "customer": "US-004",
                    "lines": [{"line": 1, "item": "X", "quantity": "abc", "unit_price": 1}],
                },
            }
        ): 'payload.lines[0].quantity: must be a decimal number such as "5" or "2300.00", got \'abc\'',
        json.dumps(
            {"request_id": "", "kind": "confirm_order", "actor": "erp", "payload": {"order": "x"}}
        ): "invalid request: request_id: String should have at least 1 character",
    }
    for body, expected in cases.items():
        outcome = execute(body, usmf.sessions)
        assert outcome["status"] == "rejected", outcome
        assert expected in outcome["error"]["message"], (expected, outcome)
        with usmf.sessions() as session:
            assert queries.show_request(session, outcome["request_id"]) == outcome
    after = counts(usmf)
    assert after == {**before, "requests": before["requests"] + len(cases)}


def test_l2_l3_a_rejected_posting_leaves_no_hole_in_the_numbers(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "2", "1900.00"))
    first = ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["A"]})
    usmf.rejected(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "serials": ["A"]}]},
        actor="warehouse-1",
    )
    second = ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["B"]})
    assert (first, second) == ("PS-000001", "PS-000002")
    with usmf.sessions() as session:
        assert session.scalar(select(NumberSeries.next_value).where(NumberSeries.code == "PS")) == 3


def test_l1_every_voucher_balances_and_invoice_debits_receivable(usmf: Runner) -> None:
    order(usmf, "SO-1", ("S0021", "3", "150.00"), ("CW-0001", "40", "12.50"))
    invoice = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    with usmf.sessions() as session:
        ledger = queries.ledger(session)
    entries = [e for e in ledger["entries"] if e["journal"] == invoice]
    assert [(e["account"], e["debit"], e["credit"]) for e in entries] == [
        ("1200", "950.00", None),
        ("3000", None, "450.00"),
        ("3000", None, "500.00"),  # 40 kg at 12.50
    ]
    assert ledger["trial_balance"]["total"] == "0.00"


def test_order_line_errors_are_specific(usmf: Runner) -> None:
    order(usmf, "SO-1", ("S0021", "2", "150.00"))
    error = usmf.rejected(
        "post_packing_slip", {"order": "SO-1", "lines": [{"line": 9, "quantity": "1"}]}
    )
    assert (error["code"], error["message"]) == ("order.line_unknown", "order SO-1 has no line 9")
    error = usmf.rejected(
        "post_packing_slip", {"order": "SO-1", "lines": [{"line": 1, "quantity": "3"}]}
    )
    assert error["message"] == (
        "order SO-1 line 1 (item S0021): packing slip quantity 3 exceeds the 2 not yet shipped or invoiced"
    )
    error = usmf.rejected("post_packing_slip", {"order": "SO-404"})
    assert (error["code"], error["message"]) == ("order.unknown", "order 'SO-404' does not exist")
    error = usmf.rejected("upsert_order", {"order": "SO-2", "customer": "NOBODY", "lines": []})
    assert error["message"] == "order SO-2: customer 'NOBODY' does not exist"
    error = usmf.rejected(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [{"line": 2, "item": "1000", "quantity": "1.5", "unit_price": "1"}],
        },
    )
    assert (error["code"], error["rule"]) == ("serial.quantity_not_whole", "S2")
