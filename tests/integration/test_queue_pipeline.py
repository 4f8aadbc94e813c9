"""The pipeline through real workers: Redis broker, PostgreSQL database, celery subprocesses.

Never task_always_eager: every request here is a JSON message on Redis, taken by a worker
process, executed against PostgreSQL.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline import queries
from docpost.pipeline.db import session_factory
from docpost.pipeline.runner.execute import execute
from docpost.pipeline.runner.request_record import record_queued
from docpost.schema import Journal, RequestRecord
from docpost.schema.requests import FINAL_STATUSES
from docpost.tasks.client import Handle, submit, wait_all
from docpost.tasks.embedded import run_in_order
from docpost.tasks.publish import publish_request
from tests.conftest import usmf_catalog, usmf_requests
from tests.integration.conftest import Broker

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

WAIT = 45.0


def catalog_request() -> dict[str, Any]:
    return {
        "request_id": "it-catalog",
        "kind": "upsert_catalog",
        "actor": "erp",
        "payload": usmf_catalog(),
    }


def load_directly(sessions: sessionmaker[Session], *requests: dict[str, Any]) -> None:
    """Set-up that is not under test: executed in this process."""
    for request in requests:
        outcome = execute(request, sessions)
        assert outcome["status"] == "succeeded", outcome


def journals_by_request(sessions: sessionmaker[Session], ids: list[str]) -> Counter[str]:
    with sessions() as session:
        rows = session.execute(
            select(Journal.request_id, func.count())
            .where(Journal.request_id.in_(ids))
            .group_by(Journal.request_id)
        )
        return Counter({request_id: count for request_id, count in rows})


def wait_for_idle_queues(broker: Broker, timeout: float = WAIT) -> None:
    """Until no message is waiting or unacknowledged in Redis (all deliveries done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.waiting("posting", "bulk", "documents") == 0 and broker.unacked() == 0:
            return
        time.sleep(0.1)
    raise AssertionError("messages still waiting or unacknowledged in Redis")


def test_usmf_example_end_to_end(queue_env: dict[str, str], start_worker: Any) -> None:
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    start_worker("e2e", concurrency=2)

    outcomes = run_in_order(
        [catalog_request(), *usmf_requests()], sessions, lambda outcome: None, timeout=WAIT
    )

    assert [o for o in outcomes if o["status"] != "succeeded"] == []
    ids = [o["request_id"] for o in outcomes]
    assert "usmf-012" in ids and any(i.startswith("bulk-invoice:") for i in ids)
    with sessions() as session:
        balance = queries.ledger(session)["trial_balance"]
    assert balance["accounts"], "the example posts to the ledger"
    assert Decimal(balance["total"]) == 0


def test_same_request_delivered_concurrently_posts_once(
    queue_env: dict[str, str], broker: Broker, start_worker: Any
) -> None:
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    requests = {r["request_id"]: r for r in usmf_requests()}
    load_directly(sessions, catalog_request(), requests["usmf-001"])
    confirm = requests["usmf-002"]
    for name in ("dup-a", "dup-b"):
        start_worker(name, concurrency=2)

    record_queued(confirm, sessions)
    for _ in range(5):
        publish_request(confirm)
    outcome = Handle(confirm["request_id"], sessions).wait(WAIT)
    wait_for_idle_queues(broker)

    assert outcome["status"] == "succeeded", outcome
    assert journals_by_request(sessions, [confirm["request_id"]]) == {confirm["request_id"]: 1}
    with sessions() as session:
        records = session.scalars(
            select(RequestRecord).where(RequestRecord.request_id == confirm["request_id"])
        ).all()
        numbers = session.scalars(select(Journal.number).where(Journal.kind == "confirmation"))
        assert list(numbers) == ["CONF-000001"]
    assert len(records) == 1
    assert records[0].status == "succeeded"
    assert records[0].result == outcome["result"]
    assert 1 <= records[0].attempts <= 5


def test_worker_killed_mid_batch_every_request_posts_once(
    queue_env: dict[str, str], broker: Broker, start_worker: Any
) -> None:
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    orders = [f"SO-K{n:03d}" for n in range(100)]
    load_directly(
        sessions,
        catalog_request(),
        *(
            {
                "request_id": f"kill-order-{order}",
                "kind": "upsert_order",
                "actor": "erp",
                "payload": {
                    "order": order,
                    "customer": "US-004",
                    "lines": [{"line": 1, "item": "S0021", "quantity": "2", "unit_price": "150"}],
                },
            }
            for order in orders
        ),
    )
    confirmations = [
        {
            "request_id": f"kill-confirm-{order}",
            "kind": "confirm_order",
            "actor": "erp",
            "payload": {"order": order},
        }
        for order in orders
    ]
    ids = [c["request_id"] for c in confirmations]

    doomed = start_worker("doomed", concurrency=2)
    handles = [submit(c, sessions) for c in confirmations]
    final_before_kill = _wait_until_final(sessions, ids, at_least=10)
    doomed.kill()
    with sessions() as session:
        open_at_kill = session.scalar(
            select(func.count())
            .select_from(RequestRecord)
            .where(RequestRecord.request_id.in_(ids), RequestRecord.status.not_in(FINAL_STATUSES))
        )
    assert final_before_kill >= 10
    assert open_at_kill > 0, "the worker was killed after the batch had finished"

    start_worker("survivor", concurrency=2)
    outcomes = list(wait_all(handles, WAIT))
    wait_for_idle_queues(broker)

    assert len(outcomes) == 100
    assert Counter(o["status"] for o in outcomes) == {"succeeded": 100}
    assert journals_by_request(sessions, ids) == dict.fromkeys(ids, 1)
    with sessions() as session:
        numbers = sorted(
            session.scalars(select(Journal.number).where(Journal.kind == "confirmation"))
        )
    # Transactions cut off by the kill gave their numbers back: the series has no gap.
    assert numbers == [f"CONF-{n:06d}" for n in range(1, 101)]


def _wait_until_final(sessions: sessionmaker[Session], ids: list[str], at_least: int) -> int:
    """Until `at_least` requests are final and, preferably, one is `running` (between its
    counted start and its commit), so that the kill is likely to cut a posting off."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with sessions() as session:
            statuses = Counter(
                session.scalars(
                    select(RequestRecord.status).where(RequestRecord.request_id.in_(ids))
                )
            )
        final = sum(statuses[s] for s in FINAL_STATUSES)
        if final >= at_least and (statuses["running"] or final >= 3 * at_least):
            return final
        time.sleep(0.005)
    raise AssertionError(f"fewer than {at_least} requests were final after {WAIT} s")


def test_the_sweep_publishes_what_a_crash_left_in_the_outbox(
    queue_env: dict[str, str], broker: Broker, start_worker: Any
) -> None:
    from docpost.schema import OutboxMessage
    from docpost.tasks.relay import sweep_outbox

    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    requests = {r["request_id"]: r for r in usmf_requests()}
    load_directly(sessions, catalog_request(), requests["usmf-001"])
    # A posting committed its outbox row, then its worker died before relaying it.
    with sessions() as session, session.begin():
        session.add(OutboxMessage(task="execute_request", payload={"body": requests["usmf-002"]}))
    start_worker("sweeper", concurrency=1)

    sweep_outbox.delay()  # what beat sends every ~30 s

    outcome = Handle("usmf-002", sessions).wait(WAIT)
    assert outcome["status"] == "succeeded", outcome
    wait_for_idle_queues(broker)  # the confirmation's own render row is relayed after it

    with sessions() as session:
        unpublished = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
        )
    assert unpublished == 0
