"""The USMF example posted over HTTP to a real worker, and the reads that show its result."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.http.conftest import Posted, post_and_wait, wait_outcome

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_every_request_of_the_example_succeeds(posted: Posted) -> None:
    failed = {rid: o for rid, o in posted.outcomes.items() if o["status"] != "succeeded"}
    assert failed == {}, posted.stack.logs()
    assert posted.outcomes["usmf-003"]["result"]["journal"] == "PS-000001"
    assert posted.outcomes["usmf-012"]["result"]["journal"].startswith("INV-")
    invoices = [rid for rid in posted.outcomes if rid.startswith("bulk-invoice:")]
    assert len(invoices) == 2, "bulk invoicing invoices SO-1001 and SO-1002"


def test_the_request_actor_is_the_keys(posted: Posted) -> None:
    """usmf-003 names warehouse-1 and was sent with warehouse-1's key; the catalog requests
    named no actor and were filed under the key's actor, erp."""
    with posted.stack.client("erp") as erp:
        slip = erp.get("/journals/PS-000001").json()
        catalog = erp.get("/requests/http-catalog").json()
    assert slip["actor"] == "warehouse-1"
    assert slip["request_id"] == "usmf-003"
    assert catalog["status"] == "succeeded"


def test_order_view(posted: Posted) -> None:
    with posted.stack.client("erp") as erp:
        response = erp.get("/orders/SO-1001")
    assert response.status_code == 200
    order = response.json()
    assert order["order"] == "SO-1001"
    assert order["customer"] == "US-004"
    lines = {(line["line"], line["item"]): line for line in order["lines"]}
    assert lines[(1, "LaptopBundle")]["bundle_parent"] is None
    assert lines[(2, "1000")]["bundle_parent"] == 1
    assert Decimal(lines[(2, "1000")]["delivered"]) == 5
    shipped = {s["serial"] for s in lines[(2, "1000")]["serials"]}
    assert shipped == {"SP-0001", "SP-0002", "SP-0003", "SP-0004", "SP-0005"}


def test_journal_view_lists_the_serials_of_each_line(posted: Posted) -> None:
    """S11 inquiry: the packing slip's line of item 1000 included SP-0001..3."""
    with posted.stack.client("erp") as erp:
        response = erp.get("/journals/PS-000001")
    assert response.status_code == 200
    journal = response.json()
    assert journal["kind"] == "packing_slip"
    by_item = {line["item"]: line for line in journal["lines"]}
    assert by_item["1000"]["serials"] == ["SP-0001", "SP-0002", "SP-0003"]
    assert journal["links"] == {
        "pdf": "/journals/PS-000001/pdf",
        "documents": "/documents?journal=PS-000001",
    }
    assert [d["links"]["pdf"] for d in journal["documents"]] == [
        f"/documents/{d['id']}" for d in journal["documents"]
    ]


def test_journal_view_shows_a_blank_and_its_correction(posted: Posted) -> None:
    """usmf-008 shipped MP-100, MP-101 and one not-readable blank; usmf-009 (S9) turned the
    blank into MP-102, so the inquiry now reads MP-102."""
    with posted.stack.client("supervisor") as supervisor:
        journal = supervisor.get("/journals/PS-000003").json()
    assert sorted(journal["lines"][0]["serials"]) == ["MP-100", "MP-101", "MP-102"]
    assert [d["revision"] for d in journal["documents"]] == [1, 2]


def test_trace_of_a_credited_serial(posted: Posted) -> None:
    with posted.stack.client("erp") as erp:
        response = erp.get("/trace/SP-0002")
        by_item = erp.get("/trace/SP-0002", params={"item": "1000"})
    assert response.status_code == 200
    (sale,) = response.json()["sales"]
    assert sale["order"] == "SO-1001"
    assert sale["packing_slip"] == "PS-000001"
    assert sale["invoice"] == "INV-000001"
    assert sale["credited"] is True
    assert by_item.json()["sales"] == response.json()["sales"]


def test_a_repeat_returns_the_first_outcome(posted: Posted) -> None:
    first = posted.outcomes["usmf-002"]
    body = _usmf_body("usmf-002")
    with posted.stack.client("erp") as erp:
        response = erp.post("/requests", json=body)
    assert response.status_code == 202
    assert response.json() == {
        "request_id": "usmf-002",
        "status": "succeeded",
        "result": first["result"],
        "links": {"outcome": "/requests/usmf-002"},
    }


def test_an_array_is_queued_and_each_request_gets_its_link(posted: Posted) -> None:
    """Independent requests in one call; ids holding '/' and '?' get an escaped link."""
    bodies = [
        {"request_id": "http/array?1", "kind": "confirm_order", "payload": {"order": "NOPE-1"}},
        {"request_id": "http/array?2", "kind": "bulk_invoice", "payload": {"orders": ["NOPE"]}},
    ]
    with posted.stack.client("erp") as erp:
        response = erp.post("/requests", json=bodies)
        assert response.status_code == 202, response.text
        accepted = response.json()
        assert [a["links"]["outcome"] for a in accepted] == [
            "/requests/http%2Farray%3F1",
            "/requests/http%2Farray%3F2",
        ]
        assert {a["status"] for a in accepted} <= {"queued", "running", "succeeded"}
        outcomes = [wait_outcome(erp, a["links"]["outcome"]) for a in accepted]
    assert outcomes[0]["status"] == "rejected"
    assert outcomes[0]["error"]["code"] == "order.unknown"
    assert outcomes[1] == {
        "request_id": "http/array?2",
        "status": "succeeded",
        "result": {"orders": 0, "requests": []},
    }


def test_long_poll_returns_the_final_outcome(posted: Posted) -> None:
    with posted.stack.client("erp") as erp:
        outcome = post_and_wait(
            erp,
            {
                "request_id": "http-long-poll",
                "kind": "upsert_order",
                "payload": {
                    "order": "SO-HTTP-1",
                    "customer": "US-004",
                    # A JSON number is read as its decimal text, as the contract says.
                    "lines": [{"line": 1, "item": "M0001", "quantity": 2, "unit_price": 299.99}],
                },
            },
        )
        order = erp.get("/orders/SO-HTTP-1").json()
    assert outcome["status"] == "succeeded", outcome
    assert order["lines"][0]["unit_price"] == "299.99"
    assert order["lines"][0]["net_amount"] == "599.98"


def _usmf_body(request_id: str) -> dict[str, Any]:
    from tests.conftest import usmf_requests

    return next(r for r in usmf_requests() if r["request_id"] == request_id)
