"""Order of execution (CONTRACT.md) in the pipeline, on SQLite and PostgreSQL: accept
numbers and order keys, the gate, parking and the release, in-process runs.

The real workers are in tests/integration/test_order_of_execution.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from docpost.pipeline.runner.execute import execute, run_request
from docpost.pipeline.runner.request_record import record_failure, record_queued
from docpost.schema import OutboxMessage, RequestRecord
from tests.conftest import Runner
from tests.services.helpers import bundle_order_chain, request_body

LINE = {"line": 1, "item": "S0021", "quantity": "2", "unit_price": "100.00"}


CREDITED = [
    {"line": 1, "item": "1000", "quantity": "1", "serials": ["SN-SO-1"]},
    {"line": 1, "item": "Support", "quantity": "1"},
    {"line": 1, "item": "S0021", "quantity": "1"},
]


def record(run: Runner, request_id: str) -> RequestRecord:
    with run.sessions() as session:
        found = session.get(RequestRecord, request_id)
        assert found is not None
        return found


def test_accepted_requests_get_their_order_and_increasing_numbers(usmf: Runner) -> None:
    requests = [
        *bundle_order_chain("SO-1", "a"),
        request_body("pos", "post_pos_sale", {"lines": [LINE]}),
    ]
    for request in requests:
        record_queued(request, usmf.sessions)
    rows = [record(usmf, r["request_id"]) for r in requests]
    assert [r.order_key for r in rows] == ["SO-1"] * 4 + [None]
    numbers = [r.sequence for r in rows]
    assert all(n is not None for n in numbers)
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_a_later_request_waits_for_the_earlier_one_of_its_order(usmf: Runner) -> None:
    """The queue's view (hold=True): the packing slip is not run, not counted, and names the
    confirmation that must run first; another order is not held up."""
    first, confirm, slip, _ = bundle_order_chain("SO-1", "a")
    usmf.ok(first["kind"], first["payload"], request_id=first["request_id"])
    record_queued(confirm, usmf.sessions)
    record_queued(slip, usmf.sessions)

    held = run_request(slip, usmf.sessions, first_delivery=True, hold=True)

    assert held.waits_for is not None and held.waits_for.request_id == "a-2"
    assert held.outcome == {"request_id": "a-3", "status": "queued"}
    kept = record(usmf, "a-3")
    assert (kept.status, kept.attempts) == ("queued", 0)
    other = bundle_order_chain("SO-2", "b")[0]
    assert run_request(other, usmf.sessions, hold=True).outcome["status"] == "succeeded"


def test_in_process_the_earlier_request_runs_first(usmf: Runner) -> None:
    """`docpost run` has no queue to hand a request back to: an earlier request of the order
    still queued (submitted, no worker yet) runs first, then the one asked for, which
    therefore succeeds instead of being rejected order.not_confirmed (B2)."""
    first, confirm, slip, _ = bundle_order_chain("SO-1", "a")
    usmf.ok(first["kind"], first["payload"], request_id=first["request_id"])
    record_queued(confirm, usmf.sessions)

    outcome = execute(slip, usmf.sessions)

    assert outcome["status"] == "succeeded", outcome
    assert record(usmf, "a-2").status == "succeeded"


def test_without_the_gate_the_packing_slip_is_rejected(
    usmf: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control for the test above: with the gate switched off the same packing slip
    runs before the queued confirmation and breaks B2."""
    from docpost.pipeline.runner import ordering

    monkeypatch.setattr(ordering, "head_before", lambda *_: None)
    first, confirm, slip, _ = bundle_order_chain("SO-1", "a")
    usmf.ok(first["kind"], first["payload"], request_id=first["request_id"])
    record_queued(confirm, usmf.sessions)

    outcome = execute(slip, usmf.sessions)

    assert outcome["status"] == "rejected"
    assert (outcome["error"]["code"], outcome["error"]["rule"]) == ("order.not_confirmed", "B2")


def test_a_parked_request_is_released_by_the_one_it_waited_for(usmf: Runner, db_url: str) -> None:
    first, confirm, slip, _ = bundle_order_chain("SO-1", "a")
    usmf.ok(first["kind"], first["payload"], request_id=first["request_id"])
    record_queued(confirm, usmf.sessions)
    record_queued(slip, usmf.sessions)

    held = run_request(slip, usmf.sessions, first_delivery=True, hold=True)
    assert held.waits_for is not None
    if not db_url.startswith("postgresql"):
        # SQLite: no row locks to park safely with; it is sent again after a countdown.
        assert held.waits_for.wait == "retry" and record(usmf, "a-3").parked_at is None
        return
    assert held.waits_for.wait == "park" and record(usmf, "a-3").parked_at is not None

    done = run_request(confirm, usmf.sessions, first_delivery=True, hold=True)

    assert done.outcome["status"] == "succeeded"
    released = [m for m in done.outbox if m.task == "execute_request"]
    assert [m.payload for m in released] == [{"body": slip, "fan_out": False}]
    assert record(usmf, "a-3").parked_at is None


def test_a_failed_request_releases_the_next_of_its_order(usmf: Runner, db_url: str) -> None:
    """A poisoned head ends `failed` after its attempts: final, so its order goes on."""
    first, confirm, _, _ = bundle_order_chain("SO-1", "a")
    record_queued(first, usmf.sessions)
    record_queued(confirm, usmf.sessions)
    assert run_request(confirm, usmf.sessions, hold=True).waits_for is not None

    released: list[OutboxMessage] = []
    error = {"code": "internal.worker_lost", "rule": None, "message": "gone", "details": {}}
    record_failure("a-1", error, usmf.sessions, attempts=5, released=released)

    # SQLite parks nothing (the confirmation is sent again after a countdown instead).
    expected = ["a-2"] if db_url.startswith("postgresql") else []
    assert [m.payload["body"]["request_id"] for m in released] == expected
    run = run_request(confirm, usmf.sessions, hold=True)
    assert run.waits_for is None
    assert run.outcome["status"] == "rejected"  # the order was never created
    assert run.outcome["error"]["code"] == "order.unknown"


def test_a_credit_note_for_an_invoice_not_yet_posted_waits_for_everything_before_it(
    usmf: Runner,
) -> None:
    """The invoice's order is unknown when the credit note is accepted: it waits for every
    request accepted before it (any of them may post that invoice), then finds its order."""
    requests = bundle_order_chain("SO-1", "a")
    credit = request_body(
        "a-5",
        "post_credit_note",
        {"invoice": "INV-000001", "lines": CREDITED},
    )
    for request in [*requests, credit]:
        record_queued(request, usmf.sessions)
    assert record(usmf, "a-5").order_key is None

    held = run_request(credit, usmf.sessions, hold=True)
    assert held.waits_for is not None and held.waits_for.request_id == "a-1"

    assert execute(credit, usmf.sessions)["status"] == "succeeded"  # in process: all first
    assert [record(usmf, r["request_id"]).status for r in requests] == ["succeeded"] * 4
    assert record(usmf, "a-5").order_key == "SO-1"


def test_requests_recorded_before_ordering_existed_are_not_held(usmf: Runner) -> None:
    """Rows from before migration 0006 have no accept number: they run as they come."""
    first, confirm, _, _ = bundle_order_chain("SO-1", "a")
    record_queued(first, usmf.sessions)
    record_queued(confirm, usmf.sessions)
    with usmf.sessions() as session, session.begin():
        for row in session.scalars(select(RequestRecord)):
            row.sequence = None
    run = run_request(confirm, usmf.sessions, hold=True)
    assert run.waits_for is None
    assert run.outcome["error"]["code"] == "order.unknown"
