"""GET /health counts what the broker lost and the dead letters kept (CONTRACT.md "Nothing
accepted is lost"): requests still `queued` past DOCPOST_REPUBLISH_AFTER make it `degraded`,
not `ok`. In process (the app over this test's database, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.dead_letters import store_dead_letter
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.schema import RequestRecord
from docpost.schema.types import utcnow


@pytest.fixture
def client(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    from docpost.tasks import app as celery_app

    monkeypatch.setattr(celery_app, "broker_is_embedded", lambda: True)
    app = create_app(sessions)
    with TestClient(app) as client:
        app.state.embedded_worker = True  # a worker runs: only the backlog can degrade
        yield client


def add_queued(sessions: sessionmaker[Session], request_id: str, age: dt.timedelta) -> None:
    with sessions() as session, session.begin():
        session.add(
            RequestRecord(
                request_id=request_id, kind="confirm_order", actor="erp", body_sha256="x",
                body="{}", status="queued", attempts=0, created_at=utcnow() - age,
            )
        )  # fmt: skip


def test_health_is_ok_without_backlog(client: TestClient, sessions: sessionmaker[Session]) -> None:
    add_queued(sessions, "fresh", dt.timedelta(seconds=5))  # within the grace period
    health = client.get("/health").json()
    assert health["status"] == "ok", health
    assert health["backlog"] == {
        "ok": True,
        "queued_overdue": 0,
        "pending_documents_overdue": 0,
        "dead_letters": 0,
    }


def test_health_is_degraded_while_requests_are_overdue_and_counts_dead_letters(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    store_dead_letter(sessions, queue="posting", reason="the body could not be decoded", raw=b"x")
    dead_letter_only = client.get("/health").json()
    add_queued(sessions, "lost-1", dt.timedelta(minutes=6))
    add_queued(sessions, "lost-2", dt.timedelta(hours=2))

    response = client.get("/health")

    assert dead_letter_only["status"] == "ok"  # counted, not a degradation by itself
    assert dead_letter_only["backlog"]["dead_letters"] == 1
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "degraded", health
    assert health["backlog"]["ok"] is False
    assert health["backlog"]["queued_overdue"] == 2
    assert health["backlog"]["dead_letters"] == 1
