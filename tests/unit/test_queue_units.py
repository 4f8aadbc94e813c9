"""The queue's pure pieces: routing, configuration, cron slots, retry classification and what
the relay publishes. No server and no database: the relay and the attempt bookkeeping on a
SQLite file are in tests/queue/test_relay_and_attempts.py."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import kombu.exceptions
import pytest
import redis.exceptions
from billiard.exceptions import SoftTimeLimitExceeded
from sqlalchemy import exc as sa_exc

from docpost.pipeline.config import Settings
from docpost.pipeline.errors import Rejection
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


# --- publishing ------------------------------------------------------------------------------


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


def test_broker_key_prefix_isolates_installations() -> None:
    queue = QueueSettings(broker_key_prefix="acme:")
    options = celery_config(Settings(broker_url="redis://r/0"), queue)["broker_transport_options"]
    assert options["global_keyprefix"] == "acme:"
    plain = celery_config(Settings(broker_url="redis://r/0"), QueueSettings())
    assert "global_keyprefix" not in plain["broker_transport_options"]


def test_messages_need_no_binding_table_in_redis() -> None:
    config = celery_config(Settings(broker_url="redis://r/0"), QueueSettings())
    for queue in config["task_queues"]:
        # Default exchange: routed by queue name, nothing a FLUSHDB could take away.
        assert queue.exchange.name == ""
        assert queue.routing_key == queue.name
