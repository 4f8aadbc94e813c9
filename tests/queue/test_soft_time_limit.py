"""A request that runs past the soft time limit is rejected as too large instead of being
retried as a passing fault (issue 13, item 6), on a SQLite file. Moved from
tests/unit/test_heavy_requests.py (tests/unit holds no database)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.runner.request_record import record_queued
from docpost.schema import RequestRecord


@pytest.fixture
def task_settings() -> dict[str, str]:
    """A hard limit of 300 s, so a soft one of 240 s (tasks.config.time_limits)."""
    return {"DOCPOST_TASK_TIME_LIMIT": "300", "DOCPOST_VISIBILITY_TIMEOUT": "3600"}


def test_a_request_past_the_soft_time_limit_is_rejected_not_retried(
    task_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to count as a transient fault: retried five times, holding a worker (and the
    order's lock) each time, then `failed`. Now it ends `rejected` on the spot, saying how
    to split it."""
    import docpost.tasks.execute

    runs: list[str] = []

    def too_long(body: Any, sessions: Any, **_: Any) -> Any:
        runs.append(body["request_id"])
        raise SoftTimeLimitExceeded()

    def no_retry(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a request past the time limit was retried")

    real_run_request = docpost.tasks.execute.run_request
    monkeypatch.setattr(docpost.tasks.execute, "run_request", too_long)
    monkeypatch.setattr(docpost.tasks.execute.execute_request, "retry", no_retry)
    body = {"request_id": "big-1", "kind": "confirm_order", "actor": "erp",
            "payload": {"order": "SO-1"}}  # fmt: skip
    record_queued(body, task_db)
    docpost.tasks.execute.execute_request(body)  # a first delivery, as a pool process runs it

    assert runs == ["big-1"]
    with task_db() as session:
        record = session.get(RequestRecord, "big-1")
        assert record is not None
        assert (record.status, record.attempts) == ("rejected", 1)
        assert record.error == {
            "code": "request.time_limit",
            "rule": None,
            "message": "the request took longer than 240 s, the time one request may take (set "
            "by DOCPOST_TASK_TIME_LIMIT), and was stopped; nothing of it was kept. Split it into "
            "smaller requests: fewer lines or serials per packing slip or invoice (post "
            "several), fewer customers and items per catalog load",
            "details": {"seconds": 240},
        }
    # A later delivery (the real runner) finds the outcome final and leaves it alone.
    monkeypatch.setattr(docpost.tasks.execute, "run_request", real_run_request)
    docpost.tasks.execute.execute_request(body)
    with task_db() as session:
        record = session.get(RequestRecord, "big-1")
        assert record is not None
        assert (record.status, record.attempts) == ("rejected", 1)


def test_a_request_never_recorded_is_rejected_under_its_own_id(
    task_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message published without record_queued (an upstream system): the first delivery's
    own record rolled back with the run; the rejection is stored all the same."""
    import docpost.tasks.execute

    def too_long(body: Any, sessions: Any, **_: Any) -> Any:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(docpost.tasks.execute, "run_request", too_long)
    body = {"request_id": "big-2", "kind": "upsert_catalog", "actor": "erp", "payload": {}}
    docpost.tasks.execute.execute_request(body)
    with task_db() as session:
        record = session.get(RequestRecord, "big-2")
        assert record is not None
        assert (record.status, record.error["code"]) == ("rejected", "request.time_limit")
        assert re.search(
            r"took longer than \d+ s, the time one request may take", record.error["message"]
        )
