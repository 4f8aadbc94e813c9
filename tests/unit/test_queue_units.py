"""The queue's pure pieces: routing, configuration, cron slots, retry classification, and the
relay and attempt bookkeeping on a SQLite file. No server needed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kombu.exceptions
import pytest
import redis.exceptions
from billiard.exceptions import SoftTimeLimitExceeded
from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import Settings, get_settings
from docpost.pipeline.db import make_engine
from docpost.pipeline.errors import Rejection
from docpost.pipeline.runner.execute import record_queued, start_attempt
from docpost.schema import OutboxMessage, RequestRecord
from docpost.schema.migrate import upgrade
from docpost.tasks import relay
from docpost.tasks.app import _recycle_render_processes
from docpost.tasks.config import QueueSettings, celery_config, time_limits
from docpost.tasks.retry import backoff, is_transient
from docpost.tasks.routing import (
    BULK,
    DOCUMENTS,
    EXECUTE_REQUEST,
    INVOICE_BATCH,
    POSTING,
    RELAY_OUTBOX,
    RENDER_DOCUMENT,
    SCHEDULED_BULK_INVOICE,
    queue_for_request,
    route_task,
)
from docpost.tasks.schedule import latest_slot, parse_cron, slot_request_id

UTC = dt.UTC

# --- routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fan_out", "queue"),
    [
        ({"kind": "post_packing_slip"}, False, POSTING),
        ({"kind": "bulk_invoice"}, False, BULK),
        ({"kind": "post_invoice"}, True, BULK),
        ("not json at all", False, POSTING),
        (None, False, POSTING),
    ],
)
def test_queue_for_request(body: Any, fan_out: bool, queue: str) -> None:
    assert queue_for_request(body, fan_out) == queue


def test_router_sends_each_task_to_its_queue() -> None:
    assert route_task(EXECUTE_REQUEST, [{"kind": "confirm_order"}], {}, {}) == {"queue": POSTING}
    assert route_task(EXECUTE_REQUEST, [{"kind": "bulk_invoice"}], {}, {}) == {"queue": BULK}
    assert route_task(EXECUTE_REQUEST, None, {"body": {"kind": "bulk_invoice"}}, {}) == {
        "queue": BULK
    }
    assert route_task(RENDER_DOCUMENT, [7], {}, {}) == {"queue": DOCUMENTS}
    assert route_task(INVOICE_BATCH, [[]], {}, {}) == {"queue": BULK}
    assert route_task(SCHEDULED_BULK_INVOICE, [], {}, {}) == {"queue": BULK}
    assert route_task(RELAY_OUTBOX, [], {}, {}) == {"queue": POSTING}
    assert route_task("celery.ping", [], {}, {}) is None


def test_published_messages_take_the_routed_queue() -> None:
    from docpost.tasks.app import app

    router = app.amqp.router
    options = router.route({}, EXECUTE_REQUEST, args=[{"kind": "bulk_invoice"}], kwargs={})
    assert options["queue"].name == BULK
    options = router.route({"queue": BULK}, EXECUTE_REQUEST, args=[{"kind": "x"}], kwargs={})
    assert options["queue"].name == BULK  # an explicit queue (the relay's fan-out) wins


# --- configuration ---------------------------------------------------------------------------


def test_celery_config_reliability_settings() -> None:
    config = celery_config(Settings(broker_url="redis://r:6379/0"), QueueSettings())
    assert config["accept_content"] == ["json"]
    assert config["task_serializer"] == config["result_serializer"] == "json"
    assert config["task_acks_late"] and config["task_reject_on_worker_lost"]
    assert config["worker_prefetch_multiplier"] == 1
    assert config["task_ignore_result"]
    assert {q.name for q in config["task_queues"]} == {POSTING, DOCUMENTS, BULK}
    visibility = config["broker_transport_options"]["visibility_timeout"]
    assert config["task_soft_time_limit"] < config["task_time_limit"] <= visibility / 2
    assert set(config["beat_schedule"]) == {
        "bulk-invoice",
        "revenue-recognition",
        "outbox-sweep",
        "recovery-sweep",
    }
    # DOCPOST_REPUBLISH_AFTER 300 s: swept every minute; a grace of seconds, every second.
    assert config["beat_schedule"]["recovery-sweep"]["schedule"] == 60.0
    quick = celery_config(Settings(), QueueSettings(republish_after=2))
    assert quick["beat_schedule"]["recovery-sweep"]["schedule"] == 1.0


def test_no_broker_means_the_embedded_one() -> None:
    config = celery_config(Settings(broker_url=""), QueueSettings())
    assert config["broker_url"].startswith("memory://")
    assert "visibility_timeout" not in config["broker_transport_options"]


def test_time_limits_stay_below_the_visibility_timeout() -> None:
    assert time_limits(QueueSettings(visibility_timeout=3600, task_time_limit=300)) == (240, 300)
    soft, hard = time_limits(QueueSettings(visibility_timeout=6, task_time_limit=300))
    assert soft < hard <= 3


def test_invalid_cron_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="five fields"):
        celery_config(Settings(bulk_invoice_cron="0 2 * *"), QueueSettings())


def test_render_processes_are_recycled_on_workers_that_render() -> None:
    conf = SimpleNamespace(worker_max_tasks_per_child=None)
    _recycle_render_processes(conf=conf, options={"queues": ["posting", "bulk"]})
    assert conf.worker_max_tasks_per_child is None
    _recycle_render_processes(conf=conf, options={"queues": "documents"})
    assert conf.worker_max_tasks_per_child == QueueSettings().render_max_tasks_per_child
    conf = SimpleNamespace(worker_max_tasks_per_child=None)
    _recycle_render_processes(conf=conf, options={})  # no -Q: all queues
    assert conf.worker_max_tasks_per_child is not None


# --- cron ------------------------------------------------------------------------------------


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "now", "slot"),
    [
        ("0 2 * * *", "2026-11-21T05:10:42", "2026-11-21T02:00"),
        ("0 2 * * *", "2026-11-21T01:59:59", "2026-11-20T02:00"),
        ("0 2 * * *", "2026-11-21T02:00:00", "2026-11-21T02:00"),
        ("*/15 * * * *", "2026-11-21T10:07:30", "2026-11-21T10:00"),
        ("30 8 * * mon", "2026-11-21T12:00", "2026-11-16T08:30"),  # a Saturday
        ("0 6 1 * *", "2026-03-01T05:00", "2026-02-01T06:00"),
        ("0 0 29 2 *", "2026-11-21T00:00", "2024-02-29T00:00"),
        ("5 4 * * 0", "2026-11-22T04:05", "2026-11-22T04:05"),  # Sunday is 0
    ],
)
def test_latest_slot(cron: str, now: str, slot: str) -> None:
    assert latest_slot(parse_cron(cron), at(now)) == at(slot)


def test_latest_slot_converts_to_utc() -> None:
    oslo = dt.timezone(dt.timedelta(hours=1))
    now = dt.datetime(2026, 11, 21, 3, 30, tzinfo=oslo)  # 02:30 UTC
    assert latest_slot(parse_cron("0 2 * * *"), now) == at("2026-11-21T02:00")


@pytest.mark.parametrize(
    "cron", ["", "0 2 * *", "0 2 * * * *", "61 2 * * *", "0 25 * * *", "x * * * *"]
)
def test_parse_cron_refuses_bad_expressions(cron: str) -> None:
    with pytest.raises(ValueError, match="cron schedule"):
        parse_cron(cron)


def test_slot_request_id_is_deterministic() -> None:
    assert slot_request_id(at("2026-11-21T02:00")) == "bulk-invoice-run:2026-11-21T02:00Z"


# --- retry classification --------------------------------------------------------------------


class PgError(Exception):
    def __init__(self, pgcode: str | None) -> None:
        super().__init__(f"pgcode {pgcode}")
        self.pgcode = pgcode


@pytest.mark.parametrize(
    "exc",
    [
        sa_exc.OperationalError("SELECT 1", {}, PgError("40P01")),  # deadlock
        sa_exc.OperationalError("SELECT 1", {}, PgError("40001")),  # serialization failure
        sa_exc.DBAPIError("SELECT 1", {}, PgError("40001")),
        sa_exc.OperationalError("SELECT 1", {}, PgError(None)),  # connection refused / lost
        sa_exc.InterfaceError("SELECT 1", {}, PgError(None)),
        sa_exc.IntegrityError("INSERT", {}, PgError("23505")),  # a race execute gave up on
        sa_exc.TimeoutError("QueuePool limit reached"),
        redis.exceptions.ConnectionError("refused"),
        redis.exceptions.TimeoutError("timed out"),
        kombu.exceptions.OperationalError("broker down"),
        ConnectionRefusedError(),
        SoftTimeLimitExceeded(),
    ],
)
def test_transient_faults_are_retried(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bug"),
        KeyError("x"),
        Rejection("order.unknown", "no such order"),
        sa_exc.ProgrammingError("SELECT nope", {}, PgError("42P01")),
        sa_exc.DataError("INSERT", {}, PgError("22001")),
    ],
)
def test_other_faults_are_not_retried(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_backoff_grows_exponentially_up_to_a_cap() -> None:
    high = [backoff(n, rand=lambda: 1.0) for n in range(1, 9)]
    low = [backoff(n, rand=lambda: 0.0) for n in range(1, 9)]
    assert high[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(high) == 30.0
    assert all(lo == hi / 2 for lo, hi in zip(low, high, strict=True))


# --- relay and attempts on a SQLite file -----------------------------------------------------


@pytest.fixture
def sqlite_sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'docpost.db'}")
    upgrade(engine)
    return sessionmaker(engine, expire_on_commit=False)


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


def test_relay_publishes_fan_out_to_bulk_and_renders_to_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, Any, str | None]] = []
    from docpost.tasks import publish

    monkeypatch.setattr(
        publish.app,
        "send_task",
        lambda name, args, queue=None, **kw: calls.append((name, args, queue)),
    )
    relay.publish_outbox_message("execute_request", {"body": {"kind": "post_invoice"}})
    relay.publish_outbox_message("invoice_batch", {"bodies": [{"kind": "post_invoice"}]})
    relay.publish_outbox_message("render_document", {"document_id": 3})
    assert calls == [
        (EXECUTE_REQUEST, [{"kind": "post_invoice"}], BULK),
        (INVOICE_BATCH, [[{"kind": "post_invoice"}]], None),  # routed to bulk by the router
        (RENDER_DOCUMENT, [3], None),
    ]


def test_decimals_go_out_as_their_text() -> None:
    from decimal import Decimal

    from docpost.tasks.publish import wire_body

    assert wire_body({"payload": {"q": Decimal("2.50")}}) == {"payload": {"q": "2.50"}}
    assert wire_body("raw text") == "raw text"


@pytest.fixture
def task_db(
    sqlite_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    """The tasks' database is the SQLite file; messages the task publishes stay in memory."""
    url = str(sqlite_sessions.kw["bind"].url)
    monkeypatch.setenv("DOCPOST_DATABASE_URL", url)
    monkeypatch.setenv("DOCPOST_BROKER_URL", "")
    monkeypatch.setenv("DOCPOST_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    yield sqlite_sessions
    monkeypatch.undo()
    get_settings.cache_clear()


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


def test_broker_key_prefix_isolates_installations() -> None:
    queue = QueueSettings(broker_key_prefix="acme:")
    options = celery_config(Settings(broker_url="redis://r/0"), queue)["broker_transport_options"]
    assert options["global_keyprefix"] == "acme:"
    plain = celery_config(Settings(broker_url="redis://r/0"), QueueSettings())
    assert "global_keyprefix" not in plain["broker_transport_options"]


def test_scheduled_bulk_invoicing_submits_one_request_per_slot(
    task_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    import docpost.tasks.execute

    published: list[dict[str, Any]] = []
    monkeypatch.setattr(docpost.tasks.execute, "publish_request", published.append)
    first = docpost.tasks.execute.scheduled_bulk_invoice()
    second = docpost.tasks.execute.scheduled_bulk_invoice()  # beat fired twice, or a redelivery

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
    import docpost.tasks.execute

    published: list[dict[str, Any]] = []
    monkeypatch.setattr(docpost.tasks.execute, "publish_request", published.append)
    first = docpost.tasks.execute.scheduled_revenue_recognition()
    second = docpost.tasks.execute.scheduled_revenue_recognition()
    slot = latest_slot(parse_cron(get_settings().revenue_recognition_cron), dt.datetime.now(UTC))
    assert first == second == f"recognize-revenue:{slot.date().isoformat()}"
    assert published[0]["kind"] == "recognize_revenue"
    assert published[0]["payload"] == {"as_of": slot.date().isoformat()}


def test_messages_need_no_binding_table_in_redis() -> None:
    config = celery_config(Settings(broker_url="redis://r/0"), QueueSettings())
    for queue in config["task_queues"]:
        # Default exchange: routed by queue name, nothing a FLUSHDB could take away.
        assert queue.exchange.name == ""
        assert queue.routing_key == queue.name
