"""The relay and the request record's bookkeeping (attempts, final outcomes, scheduled
requests) on a SQLite file: the task functions called directly, with no broker and no worker.
Moved from tests/unit/test_queue_units.py, which keeps the queue's pieces that need no
database (tests/unit holds none)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import kombu.exceptions
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.runner.request_record import record_queued, start_attempt
from docpost.schema import OutboxMessage, RequestRecord
from docpost.tasks import relay
from docpost.tasks.schedule import latest_slot, parse_cron, slot_request_id

UTC = dt.UTC


@pytest.fixture
def task_settings() -> dict[str, str]:
    """Three deliveries, so a poison request ends after its fourth."""
    return {"DOCPOST_MAX_ATTEMPTS": "3"}


# --- the relay -------------------------------------------------------------------------------


def add_outbox(sessions: sessionmaker[Session], *messages: tuple[str, dict[str, Any]]) -> None:
    with sessions() as session, session.begin():
        session.add_all(OutboxMessage(task=t, payload=p) for t, p in messages)


def published(sessions: sessionmaker[Session]) -> list[bool]:
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [row.published_at is not None for row in rows]


def test_relay_marks_only_what_was_sent(
    sqlite_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_outbox(
        sqlite_sessions,
        ("render_document", {"document_id": 1}),
        ("execute_request", {"body": {"request_id": "c-1", "kind": "post_invoice"}}),
        ("render_document", {"document_id": 2}),
        ("unknown_task", {}),
    )
    sent: list[tuple[str, dict[str, Any]]] = []

    def flaky(task: str, payload: dict[str, Any]) -> None:
        if payload.get("document_id") == 2 and not sent[2:]:
            sent.append(("failed", payload))
            raise kombu.exceptions.OperationalError("broker down")
        sent.append((task, payload))

    monkeypatch.setattr(relay, "publish_outbox_message", flaky)
    with pytest.raises(kombu.exceptions.OperationalError):
        relay.relay_outbox(sqlite_sessions)
    assert published(sqlite_sessions) == [True, True, False, False]

    assert relay.relay_outbox(sqlite_sessions) == 1  # the sweep: the rest, once
    assert published(sqlite_sessions) == [True, True, True, False]  # unknown tasks stay
    assert relay.relay_outbox(sqlite_sessions) == 0


def test_relay_written_publishes_the_rows_it_is_given_and_leaves_the_rest_to_the_sweep(
    sqlite_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_outbox(
        sqlite_sessions,
        ("render_document", {"document_id": 1}),
        ("render_document", {"document_id": 2}),
        ("render_document", {"document_id": 3}),
    )
    with sqlite_sessions() as session:
        written = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))[:2]
    sent: list[int] = []

    def flaky(task: str, payload: dict[str, Any]) -> None:
        if payload["document_id"] == 2:
            raise kombu.exceptions.OperationalError("broker down")
        sent.append(payload["document_id"])

    monkeypatch.setattr(relay, "publish_outbox_message", flaky)
    relay.relay_written(sqlite_sessions, written)  # a failed send does not fail the request
    assert sent == [1]  # only the rows this request wrote, never the third
    assert published(sqlite_sessions) == [True, False, False]

    monkeypatch.setattr(relay, "publish_outbox_message", lambda t, p: sent.append(p["document_id"]))
    assert relay.relay_outbox(sqlite_sessions) == 2  # the sweep sends what is left, once
    assert sent == [1, 2, 3]
    assert published(sqlite_sessions) == [True, True, True]


# --- attempts and outcomes -------------------------------------------------------------------


def test_a_poison_request_ends_failed_after_max_attempts(task_db: sessionmaker[Session]) -> None:
    from docpost.tasks.execute import execute_request

    body = {"request_id": "poison-1", "kind": "confirm_order", "actor": "erp",
            "payload": {"order": "SO-1"}}  # fmt: skip
    record_queued(body, task_db)
    for _ in range(3):  # three deliveries that killed their worker before finishing
        start_attempt("poison-1", task_db)

    execute_request(body)  # the fourth delivery: called directly, as the worker would

    with task_db() as session:
        record = session.get(RequestRecord, "poison-1")
        assert record is not None
        assert record.status == "failed"
        assert record.error["code"] == "internal.worker_lost"
        assert record.attempts == 4
    execute_request(body)  # a later delivery finds it final and leaves it alone
    with task_db() as session:
        assert session.get(RequestRecord, "poison-1").attempts == 4


def test_a_first_delivery_is_counted_in_the_requests_own_transaction(
    task_db: sessionmaker[Session],
) -> None:
    from docpost.tasks.execute import execute_request

    body = {"request_id": "first-1", "kind": "confirm_order", "actor": "erp",
            "payload": {"order": "SO-1"}}  # fmt: skip
    record_queued(body, task_db)
    execute_request(body)  # called directly, as a pool process runs a first delivery
    with task_db() as session:
        record = session.get(RequestRecord, "first-1")
        assert record is not None
        assert (record.status, record.attempts) == ("rejected", 1)  # no such actor (M5)
        assert record.error["code"] == "actor.unknown"


def test_a_redelivery_after_an_uncounted_first_delivery_counts_as_the_second(
    task_db: sessionmaker[Session],
) -> None:
    """The first delivery's count rolled back with its transaction when its worker died: the
    broker's redelivery is the second delivery, and each one after counts once."""
    body = {"request_id": "lost-1", "kind": "confirm_order", "actor": "erp",
            "payload": {"order": "SO-1"}}  # fmt: skip
    record_queued(body, task_db)
    assert start_attempt("lost-1", task_db, redelivered=True) == (2, False)
    assert start_attempt("lost-1", task_db, redelivered=True) == (3, False)
    with task_db() as session:
        assert session.get(RequestRecord, "lost-1").status == "running"


def test_an_unexpected_error_ends_failed_at_once(
    task_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    import docpost.tasks.execute

    def broken(body: Any, sessions: Any, **_: Any) -> Any:
        raise ValueError("a bug, not the request's fault")

    monkeypatch.setattr(docpost.tasks.execute, "run_request", broken)
    body = {"request_id": "bug-1", "kind": "confirm_order", "actor": "erp",
            "payload": {"order": "SO-1"}}  # fmt: skip
    docpost.tasks.execute.execute_request(body)
    with task_db() as session:
        record = session.get(RequestRecord, "bug-1")
        assert record is not None
        assert (record.status, record.error["code"]) == ("failed", "internal.error")
        assert record.attempts == 1


@pytest.mark.parametrize("how", ["redelivered", "broken"])
def test_an_invoice_batch_that_cannot_run_sends_its_requests_one_by_one(
    task_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A batch whose worker died (redelivered), or that failed on something that is not a
    passing fault: each child goes on as its own request, counted and ended on its own."""
    import docpost.tasks.execute

    published: list[Any] = []
    monkeypatch.setattr(
        docpost.tasks.execute, "publish_request", lambda b, **kw: published.append((b, kw))
    )
    bodies = [{"request_id": f"child-{n}", "kind": "post_invoice", "actor": "erp",
               "payload": {"order": f"SO-{n}", "packing_slips": ["PS-000001"]}}
              for n in (1, 2)]  # fmt: skip
    if how == "broken":

        def broken(*_: Any) -> Any:
            raise ValueError("a bug in the batch")

        monkeypatch.setattr(docpost.tasks.execute, "run_invoice_batch", broken)
        docpost.tasks.execute.execute_invoice_batch(bodies)
    else:
        task = docpost.tasks.execute.execute_invoice_batch
        task.push_request(delivery_info={"redelivered": True}, retries=0)  # as Redis marks it
        try:
            task.run(bodies)
        finally:
            task.pop_request()
    assert published == [(body, {"fan_out": True}) for body in bodies]


def test_a_malformed_message_is_rejected_without_running(task_db: sessionmaker[Session]) -> None:
    from docpost.tasks.execute import execute_request

    execute_request("{not json")
    with task_db() as session:
        records = session.scalars(select(RequestRecord)).all()
        assert [(r.status, r.error["code"]) for r in records] == [("rejected", "request.invalid")]


def _fired_twice(
    task: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str, list[dict[str, Any]]]:
    """A beat task run twice (beat fired twice, or a redelivery): both request ids, and the
    requests it published."""
    import docpost.tasks.execute

    published: list[dict[str, Any]] = []
    monkeypatch.setattr(docpost.tasks.execute, "publish_request", published.append)
    scheduled = getattr(docpost.tasks.execute, task)
    return scheduled(), scheduled(), published


def test_scheduled_bulk_invoicing_submits_one_request_per_slot(
    task_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, published = _fired_twice("scheduled_bulk_invoice", monkeypatch)

    slot = latest_slot(parse_cron(get_settings().bulk_invoice_cron), dt.datetime.now(UTC))
    assert first == second == slot_request_id(slot)
    assert [p["request_id"] for p in published] == [first, first]
    assert published[0]["kind"] == "bulk_invoice"
    assert published[0]["actor"] == get_settings().system_actor
    with task_db() as session:
        record = session.get(RequestRecord, first)
        assert record is not None and record.status == "queued"


def test_scheduled_revenue_recognition_releases_once_per_date(
    task_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """B11's release on beat: the request id names the date, like `docpost recognize`."""
    first, second, published = _fired_twice("scheduled_revenue_recognition", monkeypatch)
    slot = latest_slot(parse_cron(get_settings().revenue_recognition_cron), dt.datetime.now(UTC))
    assert first == second == f"recognize-revenue:{slot.date().isoformat()}"
    assert published[0]["kind"] == "recognize_revenue"
    assert published[0]["payload"] == {"as_of": slot.date().isoformat()}
