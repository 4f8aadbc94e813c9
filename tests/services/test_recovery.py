"""The recovery sweep's choice (tasks.recovery), on SQLite and PostgreSQL: which requests and
documents are overdue by DOCPOST_REPUBLISH_AFTER, that each is sent once per grace period
(published_at), and that a failed send keeps what was sent before it marked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from docpost.schema import Document, RequestRecord
from docpost.schema.types import utcnow
from docpost.tasks import recovery
from docpost.tasks.recovery import Cutoffs, count_overdue, recover
from tests.conftest import Runner

# The sweep stamps the real time: the cutoffs are taken from it too.
NOW = utcnow()
GRACE, VISIBILITY = 300, 3600


def ago(seconds: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=seconds)


def add_request(
    sessions: sessionmaker[Session],
    request_id: str,
    status: str,
    created: dt.datetime,
    published: dt.datetime | None = None,
) -> None:
    body = (
        f'{{"actor":"erp","kind":"confirm_order","payload":{{"order":"SO-{request_id}"}},'
        f'"request_id":"{request_id}"}}'
    )
    with sessions() as session, session.begin():
        session.add(
            RequestRecord(
                request_id=request_id, kind="confirm_order", actor="erp", body_sha256="x",
                body=body, status=status, attempts=0, created_at=created, published_at=published,
            )
        )  # fmt: skip


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """What the sweep publishes, instead of a broker."""
    published: dict[str, list[Any]] = {"requests": [], "documents": []}
    monkeypatch.setattr(
        recovery,
        "publish_request",
        lambda body, fan_out=False: published["requests"].append((body["request_id"], fan_out)),
    )
    monkeypatch.setattr(recovery, "publish_render", published["documents"].append)
    return published


def test_overdue_requests_queued_after_the_grace_running_after_the_visibility_timeout_too(
    sessions: sessionmaker[Session], sent: dict[str, list[Any]]
) -> None:
    """CONTRACT "Nothing accepted is lost": queued this long after the last publish."""
    add_request(sessions, "queued-old", "queued", ago(GRACE + 1))
    add_request(sessions, "queued-new", "queued", ago(GRACE - 1))
    add_request(sessions, "queued-republished-lately", "queued", ago(9999), ago(GRACE - 1))
    add_request(sessions, "queued-republished-long-ago", "queued", ago(9999), ago(GRACE + 1))
    add_request(sessions, "running-lost", "running", ago(GRACE + VISIBILITY + 1))
    add_request(sessions, "running-may-come-back", "running", ago(GRACE + VISIBILITY - 1))
    add_request(sessions, "bulk-invoice:SO-1:abc", "queued", ago(GRACE + 1))
    for status in ("succeeded", "rejected", "failed"):
        add_request(sessions, f"final-{status}", status, ago(99999))
    cutoffs = Cutoffs.at(NOW, GRACE, VISIBILITY)
    with sessions() as session:
        assert count_overdue(session, cutoffs)["queued_overdue"] == 4

    assert recover(sessions, cutoffs) == {"requests": 4, "documents": 0}

    assert sorted(sent["requests"]) == [
        ("bulk-invoice:SO-1:abc", True),  # bulk invoicing's invoices go back to `bulk`
        ("queued-old", False),
        ("queued-republished-long-ago", False),
        ("running-lost", False),
    ]
    with sessions() as session:
        record = session.get(RequestRecord, "queued-old")
        assert record is not None and record.published_at is not None
        assert record.published_at >= NOW
        # Sent again only after another grace period.
        assert count_overdue(session, cutoffs)["queued_overdue"] == 0
    assert recover(sessions, cutoffs) == {"requests": 0, "documents": 0}


def test_pending_documents_after_the_grace_period(usmf: Runner, sent: dict[str, list[Any]]) -> None:
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-R1",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "S0021", "quantity": "1", "unit_price": "150"}],
        },
    )
    usmf.ok("confirm_order", {"order": "SO-R1"})
    with usmf.sessions() as session, session.begin():
        # The confirmation's PDF; its picking list (D2) is pending beside it.
        document = session.query(Document).filter(Document.kind == "confirmation").one()
        document_id = document.id
        picking_list = session.query(Document).filter(Document.kind == "picking_list").one()
        picking_list.status = "rendered"  # the one pending document here is the PDF
    now = utcnow()
    early = Cutoffs.at(now - dt.timedelta(seconds=GRACE), GRACE, VISIBILITY)
    assert recover(usmf.sessions, early) == {"requests": 0, "documents": 0}
    late = Cutoffs.at(now + dt.timedelta(seconds=GRACE + 1), GRACE, VISIBILITY)
    with usmf.sessions() as session:
        assert count_overdue(session, late)["pending_documents_overdue"] == 1

    assert recover(usmf.sessions, late) == {"requests": 0, "documents": 1}

    assert sent["documents"] == [document_id]
    with usmf.sessions() as session, session.begin():
        document = session.get(Document, document_id)
        assert document is not None and document.published_at is not None
        document.status = "rendered"
    much_later = Cutoffs.at(now + dt.timedelta(days=1), GRACE, VISIBILITY)
    assert recover(usmf.sessions, much_later) == {"requests": 0, "documents": 0}


def test_a_failed_send_keeps_the_rows_sent_before_it_marked(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        add_request(sessions, f"q-{n}", "queued", ago(GRACE + 10 - n))
    calls: list[str] = []

    def flaky(body: dict[str, Any], fan_out: bool = False) -> None:
        if len(calls) == 2:
            raise ConnectionError("broker down")
        calls.append(body["request_id"])

    monkeypatch.setattr(recovery, "publish_request", flaky)
    cutoffs = Cutoffs.at(NOW, GRACE, VISIBILITY)
    with pytest.raises(ConnectionError, match="broker down"):
        recover(sessions, cutoffs)
    assert calls == ["q-0", "q-1"]  # oldest first
    with sessions() as session:
        marked = {
            r.request_id: r.published_at is not None for r in session.query(RequestRecord).all()
        }
        assert count_overdue(session, cutoffs)["queued_overdue"] == 1
    assert marked == {"q-0": True, "q-1": True, "q-2": False}


def test_one_sweep_sends_at_most_its_limit(
    sessions: sessionmaker[Session], sent: dict[str, list[Any]]
) -> None:
    """A backlog older than the grace period (messages that wait, not lost ones) is sent
    again a slice at a time."""
    for n in range(5):
        add_request(sessions, f"b-{n}", "queued", ago(GRACE + 10))
    cutoffs = Cutoffs.at(NOW, GRACE, VISIBILITY)
    assert recovery.republish_requests(sessions, cutoffs, limit=3) == 3
    assert recovery.republish_requests(sessions, cutoffs, limit=3) == 2
    assert len(sent["requests"]) == 5
