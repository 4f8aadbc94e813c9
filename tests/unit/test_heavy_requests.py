"""Heavy requests do not starve the interactive queue (issue 13, item 6): catalog loads go to
`bulk`, and a request that runs past the soft time limit is rejected as too large instead of
being retried as a passing fault."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import make_engine
from docpost.pipeline.runner.execute import record_queued
from docpost.schema import RequestRecord
from docpost.schema.migrate import upgrade
from docpost.tasks.config import get_queue_settings
from docpost.tasks.routing import BULK, EXECUTE_REQUEST, POSTING, queue_for_request, route_task

ROOT = Path(__file__).resolve().parents[2]


# --- catalog loads off the posting queue -----------------------------------------------------


def test_catalog_loads_go_to_the_bulk_queue() -> None:
    """A 13 MB catalog took 3 min 23 s on `posting`, ahead of every packing slip behind it."""
    assert queue_for_request({"kind": "upsert_catalog"}) == BULK
    assert route_task(EXECUTE_REQUEST, [{"kind": "upsert_catalog"}], {}, {}) == {"queue": BULK}
    # Negative control: interactive requests stay on `posting`.
    for kind in ("upsert_order", "confirm_order", "post_packing_slip", "change_serial"):
        assert queue_for_request({"kind": kind}) == POSTING


def test_every_worker_that_takes_postings_takes_bulk_too() -> None:
    """A catalog load on `bulk` must find a consumer wherever postings do: docker-compose's
    workers, and `docpost worker` without -Q (all three queues)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    queues_of = {}
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if "worker" in command:
            given = (
                command[command.index("-Q") + 1] if "-Q" in command else "posting,bulk,documents"
            )
            queues_of[name] = set(given.split(","))
    assert any(POSTING in queues for queues in queues_of.values())
    for name, queues in queues_of.items():
        if POSTING in queues:
            assert BULK in queues, f"{name} consumes posting but not bulk"


# --- a soft time limit is the request's fault ------------------------------------------------


@pytest.fixture
def task_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    """The tasks' database is a SQLite file; messages the task publishes stay in memory."""
    url = f"sqlite:///{tmp_path / 'docpost.db'}"
    engine = make_engine(url)
    upgrade(engine)
    monkeypatch.setenv("DOCPOST_DATABASE_URL", url)
    monkeypatch.setenv("DOCPOST_BROKER_URL", "")
    # A hard limit of 300 s, so a soft one of 240 s (tasks.config.time_limits).
    monkeypatch.setenv("DOCPOST_TASK_TIME_LIMIT", "300")
    monkeypatch.setenv("DOCPOST_VISIBILITY_TIMEOUT", "3600")
    get_settings.cache_clear()
    get_queue_settings.cache_clear()
    yield sessionmaker(engine, expire_on_commit=False)
    monkeypatch.undo()
    get_settings.cache_clear()
    get_queue_settings.cache_clear()
    engine.dispose()


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
