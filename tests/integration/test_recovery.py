"""Nothing accepted is lost (CONTRACT.md; ARCHITECTURE.md data flow step 7), through a real
worker on Redis and PostgreSQL.

Work is accepted while no worker runs; then this test's broker keys are deleted (what a Redis
restart without persistence or a flushed queue does to them). Without the recovery sweep the
requests stay `queued` and the documents `pending` for ever, however long the worker runs;
beat's sweep publishes them again and every request and document finishes exactly once.
Requests and renders the sweep sends while their first message still waits run once too.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.db import session_factory
from docpost.pipeline.runner.execute import execute
from docpost.schema import Document, Journal, RequestRecord
from docpost.schema.types import utcnow
from docpost.tasks.app import app
from docpost.tasks.client import submit
from docpost.tasks.config import get_queue_settings
from docpost.tasks.recovery import Cutoffs, count_overdue, recover
from docpost.tasks.relay import relay_outbox
from docpost.tasks.schedule import RECOVER_LOST
from tests.conftest import usmf_catalog
from tests.faults.harness import pos_sale, wait_final
from tests.integration.conftest import Broker
from tests.integration.test_queue_pipeline import WAIT, wait_for_idle_queues

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def sales(tag: str, count: int) -> list[dict[str, Any]]:
    """POS sales: each posts two journals (packing slip, invoice) and two PDFs, in any order."""
    return [pos_sale(f"{tag}-{n}", f"SN-{tag}-{n}") for n in range(count)]


def ids(requests: list[dict[str, Any]]) -> list[str]:
    return [r["request_id"] for r in requests]


def requests_of(sessions: sessionmaker[Session], request_ids: list[str]) -> dict[str, Any]:
    with sessions() as session:
        return {
            r.request_id: r
            for r in session.scalars(
                select(RequestRecord).where(RequestRecord.request_id.in_(request_ids))
            )
        }


def journals_per_request(sessions: sessionmaker[Session], request_ids: list[str]) -> Counter[str]:
    with sessions() as session:
        return Counter(
            dict(
                session.execute(
                    select(Journal.request_id, func.count())
                    .where(Journal.request_id.in_(request_ids))
                    .group_by(Journal.request_id)
                ).all()
            )
        )


def documents_of(sessions: sessionmaker[Session], request_ids: list[str]) -> list[Document]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Document)
                .join(Journal, Journal.id == Document.journal_id)
                .where(Journal.request_id.in_(request_ids))
            )
        )


def wait_documents(
    sessions: sessionmaker[Session], request_ids: list[str], timeout: float = WAIT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        documents = documents_of(sessions, request_ids)
        if documents and all(d.status != "pending" for d in documents):
            return
        time.sleep(0.2)
    statuses = Counter(d.status for d in documents_of(sessions, request_ids))
    raise AssertionError(f"documents still pending after {timeout} s: {dict(statuses)}")


def assert_once(sessions: sessionmaker[Session], request_ids: list[str]) -> None:
    """Every request succeeded with its two journals, and each journal has one PDF,
    rendered: lost 0, doubled 0."""
    records = requests_of(sessions, request_ids)
    assert Counter(r.status for r in records.values()) == {"succeeded": len(request_ids)}
    assert journals_per_request(sessions, request_ids) == dict.fromkeys(request_ids, 2)
    documents = documents_of(sessions, request_ids)
    assert len(documents) == 2 * len(request_ids)
    assert len({d.journal_id for d in documents}) == len(documents)  # one PDF per journal
    assert Counter(d.status for d in documents) == {"rendered": len(documents)}


def control(worker_name: str, action: str, queue: str) -> None:
    """Stop or resume a running worker's consumption of one queue (Celery remote control)."""
    destination = [f"{worker_name}@{socket.gethostname()}"]
    method = app.control.cancel_consumer if action == "pause" else app.control.add_consumer
    replies = method(queue, destination=destination, reply=True, timeout=5.0)
    assert replies, f"{worker_name} did not answer {action} {queue}"


def test_work_accepted_while_no_worker_ran_is_published_again_after_the_broker_lost_it(
    queue_env: dict[str, str],
    broker: Broker,
    start_worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    execute(
        {"request_id": "rc-catalog", "kind": "upsert_catalog", "actor": "erp",
         "payload": usmf_catalog()},
        sessions,
    )  # fmt: skip
    # No worker runs. Four sales posted in this process (their eight renders relayed to the
    # broker), and eight sales submitted to it.
    posted, lost = sales("rc-posted", 4), sales("rc-lost", 8)
    for request in posted:
        assert execute(request, sessions)["status"] == "succeeded"
    assert relay_outbox(sessions) == 8
    for request in lost:
        submit(request, sessions)
    assert broker.waiting("posting") == 8 and broker.waiting("documents") == 8
    # What a Redis restart without persistence does to them: this test's keys only.
    broker.flush()
    broker.mark()

    # A grace period of a second, here (count_overdue) and in the worker (the sweep).
    queue_env["DOCPOST_REPUBLISH_AFTER"] = "1"
    monkeypatch.setenv("DOCPOST_REPUBLISH_AFTER", "1")
    get_queue_settings.cache_clear()
    start_worker("recovery", concurrency=2)
    # Negative control: the worker runs and takes new work, but what the broker lost stays
    # queued and pending while no sweep runs.
    after = sales("rc-after", 1)
    assert submit(after[0], sessions).wait(WAIT)["status"] == "succeeded"
    wait_documents(sessions, ids(after))
    wait_for_idle_queues(broker)
    records = requests_of(sessions, ids(lost))
    assert {(r.status, r.attempts) for r in records.values()} == {("queued", 0)}
    assert {d.status for d in documents_of(sessions, ids(posted))} == {"pending"}
    with sessions() as session:
        overdue = count_overdue(session, Cutoffs.now())
    assert overdue == {"queued_overdue": 8, "pending_documents_overdue": 8}

    app.send_task(RECOVER_LOST)  # what beat sends
    wait_final(sessions, ids(lost), timeout=WAIT)
    wait_documents(sessions, ids(posted + lost))
    wait_for_idle_queues(broker)

    assert_once(sessions, ids(posted + lost + after))
    records = requests_of(sessions, ids(lost))
    assert {r.attempts for r in records.values()} == {1}
    assert all(r.published_at is not None for r in records.values())
    assert all(d.published_at is not None for d in documents_of(sessions, ids(posted)))
    assert all(d.published_at is None for d in documents_of(sessions, ids(lost + after)))
    with sessions() as session:
        assert count_overdue(session, Cutoffs.now()) == {
            "queued_overdue": 0,
            "pending_documents_overdue": 0,
        }
    # A sweep with nothing overdue sends nothing.
    assert recover(sessions, Cutoffs.at(utcnow(), 0, 0)) == {"requests": 0, "documents": 0}


def test_a_request_and_a_render_sent_again_while_the_first_message_waits_finish_once(
    queue_env: dict[str, str], broker: Broker, start_worker: Any
) -> None:
    """Duplicates: the sweep cannot tell a lost message from one that waits behind a backlog
    (here: the worker paused on the queue), so it sends both again; each runs once."""
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    execute(
        {"request_id": "dup-catalog", "kind": "upsert_catalog", "actor": "erp",
         "payload": usmf_catalog()},
        sessions,
    )  # fmt: skip
    start_worker("paused", concurrency=2)
    control("paused", "pause", "posting")
    control("paused", "pause", "documents")
    waiting = sales("rc-waiting", 4)
    for request in waiting:
        submit(request, sessions)
    everything_overdue = Cutoffs.at(utcnow() + dt.timedelta(hours=1), 0, 0)

    assert recover(sessions, everything_overdue) == {"requests": 4, "documents": 0}
    assert broker.waiting("posting") == 8
    control("paused", "resume", "posting")
    wait_final(sessions, ids(waiting), timeout=WAIT)
    assert recover(sessions, everything_overdue) == {"requests": 0, "documents": 8}
    assert broker.waiting("documents") == 16
    control("paused", "resume", "documents")
    wait_documents(sessions, ids(waiting))
    wait_for_idle_queues(broker)

    assert_once(sessions, ids(waiting))
    # Two copies taken at once may both count as a delivery; never more than the copies.
    assert {r.attempts for r in requests_of(sessions, ids(waiting)).values()} <= {1, 2}
