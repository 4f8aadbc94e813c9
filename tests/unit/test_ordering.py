"""Order of execution (CONTRACT.md): which order a request concerns, without a database."""

from __future__ import annotations

from typing import Any

import pytest

from docpost.pipeline.contract import parse_request
from docpost.pipeline.runner.ordering import (
    FIRST_RETRY_SECONDS,
    MAX_RETRY_SECONDS,
    OrderRef,
    order_ref,
    retry_countdown,
)


def ref_of(kind: str, payload: dict[str, Any]) -> OrderRef | None:
    request = parse_request({"request_id": "r-1", "kind": kind, "actor": "erp", "payload": payload})
    return order_ref(request.kind, request.command)


LINE = {"line": 1, "item": "1000", "quantity": "1", "unit_price": "10.00"}


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("upsert_order", {"order": "SO-7", "customer": "US-004", "lines": [LINE]}),
        ("confirm_order", {"order": "SO-7"}),
        ("post_packing_slip", {"order": "SO-7"}),
        ("post_invoice", {"order": "SO-7", "packing_slips": ["PS-000001"]}),
        ("change_serial", {"order": "SO-7", "line": 1, "old": "A", "new": "B"}),
    ],
)
def test_requests_that_name_their_order_are_keyed_by_it(kind: str, payload: dict[str, Any]) -> None:
    assert ref_of(kind, payload) == OrderRef(order="SO-7")


def test_a_cancellation_is_keyed_by_its_packing_slips_order() -> None:
    assert ref_of("cancel_packing_slip", {"packing_slip": "PS-000004"}) == OrderRef(
        journal="PS-000004"
    )


def test_a_credit_note_is_keyed_by_its_invoices_order() -> None:
    assert ref_of("post_credit_note", {"invoice": "INV-000002"}) == OrderRef(journal="INV-000002")


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("upsert_catalog", {}),
        ("post_pos_sale", {"lines": [{"item": "M0001", "quantity": "1", "unit_price": "1.00"}]}),
        ("bulk_invoice", {}),
        ("recognize_revenue", {"as_of": "2026-01-31"}),
    ],
)
def test_requests_of_no_single_order_are_not_ordered(kind: str, payload: dict[str, Any]) -> None:
    """A POS sale makes a new order of its own; bulk invoicing and catalog loads concern many."""
    assert ref_of(kind, payload) is None


def test_the_countdown_grows_from_short_to_a_bound() -> None:
    waits = [retry_countdown(n) for n in range(12)]
    assert waits[0] == FIRST_RETRY_SECONDS
    assert waits == sorted(waits)
    assert waits[-1] == MAX_RETRY_SECONDS
