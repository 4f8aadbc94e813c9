"""One structured log line per request outcome (issue 18 item 3), on SQLite and PostgreSQL.

The lines are read back as a log collector reads DOCPOST_LOG_FORMAT=json: one JSON object per
line, the outcome's fields at the top level. Every path that decides an outcome writes its
line when the outcome commits (pipeline.runner.outcome_log): a service's success, a rule's
rejection, a malformed body, a failure recorded by the queue. A repeat, a conflict and a
rolled-back transaction write none.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.logs import JsonFormatter, TextFormatter, configure_logging
from docpost.pipeline.runner.execute import execute
from docpost.pipeline.runner.request_record import record_failure, record_queued
from docpost.schema import RequestRecord
from tests.conftest import usmf_catalog, usmf_requests
from tests.observability.conftest import JsonLog

FIELDS = {
    "request_id",
    "kind",
    "actor",
    "order",
    "status",
    "code",
    "journal",
    "attempts",
    "duration_ms",
}


def body(request_id: str, kind: str, payload: dict[str, Any], actor: str = "erp") -> str:
    return json.dumps({"request_id": request_id, "kind": kind, "actor": actor, "payload": payload})


def test_one_json_line_per_outcome_with_its_fields(
    sessions: sessionmaker[Session], json_log: JsonLog
) -> None:
    """Succeeded (with order and journal), rejected (with its code), malformed, failed: one
    line each, in the order they were decided; the repeat and the conflict add none."""
    first_three = usmf_requests()[:3]  # upsert_order, confirm_order, post_packing_slip
    assert execute(body("cat-1", "upsert_catalog", usmf_catalog()), sessions)["status"] == (
        "succeeded"
    )
    for request in first_three:
        assert execute(json.dumps(request), sessions)["status"] == "succeeded"
    rejected = execute(body("bad-order", "confirm_order", {"order": "SO-404"}), sessions)
    assert rejected["status"] == "rejected"
    malformed = execute('{"request_id": "broken-1", "kind": "post_invoice", "actor": 7}', sessions)
    assert malformed["status"] == "rejected"
    # Failed: the queue's path (retries used up) on a request it had recorded as queued.
    queued = record_queued(body("lost-1", "confirm_order", {"order": "SO-1001"}), sessions)
    error = {"code": "internal.worker_lost", "rule": None, "message": "gone", "details": {}}
    assert record_failure(queued, error, sessions, attempts=5)["status"] == "failed"

    # Negative controls: the same request again, and its id with another body.
    assert execute(json.dumps(first_three[0]), sessions)["status"] == "succeeded"
    conflict = execute(body("usmf-001", "confirm_order", {"order": "SO-1001"}), sessions)
    assert conflict["error"]["code"] == "request.conflict"

    lines = json_log.outcomes()
    assert [line["request_id"] for line in lines] == [
        "cat-1",
        "usmf-001",
        "usmf-002",
        "usmf-003",
        "bad-order",
        "broken-1",
        "lost-1",
    ]
    for line in lines:
        assert line.keys() >= FIELDS, line
        assert line["level"] == "INFO" and line["logger"] == "docpost.outcome"
    by_id = {line["request_id"]: line for line in lines}
    packing_slip = by_id["usmf-003"]
    assert {k: packing_slip[k] for k in FIELDS - {"duration_ms"}} == {
        "request_id": "usmf-003",
        "kind": "post_packing_slip",
        "actor": "warehouse-1",
        "order": "SO-1001",
        "status": "succeeded",
        "code": None,
        "journal": "PS-000001",
        "attempts": 1,
    }
    assert packing_slip["duration_ms"] >= 0
    assert packing_slip["message"] == "request usmf-003 succeeded"
    assert by_id["usmf-002"]["journal"] == "CONF-000001"
    assert by_id["bad-order"]["status"] == "rejected"
    assert by_id["bad-order"]["code"] == "order.unknown"
    assert by_id["bad-order"]["order"] == "SO-404"
    assert by_id["bad-order"]["journal"] is None
    assert (by_id["broken-1"]["kind"], by_id["broken-1"]["code"]) == (
        "post_invoice",
        "request.invalid",
    )
    assert (by_id["lost-1"]["status"], by_id["lost-1"]["code"]) == (
        "failed",
        "internal.worker_lost",
    )
    assert by_id["lost-1"]["attempts"] == 5


def test_an_outcome_rolled_back_writes_no_line(
    sessions: sessionmaker[Session], json_log: JsonLog
) -> None:
    """Negative control: a request row made final in a transaction that rolls back (a race
    retried, a deadlock) is no outcome; the same change committed is."""
    request_id = record_queued(body("rb-1", "confirm_order", {"order": "SO-1"}), sessions)
    with sessions() as session:
        session.get(RequestRecord, request_id).status = "succeeded"  # type: ignore[union-attr]
        session.flush()
        session.rollback()
    assert json_log.outcomes() == []
    with sessions() as session, session.begin():
        session.get(RequestRecord, request_id).status = "succeeded"  # type: ignore[union-attr]
    assert [line["request_id"] for line in json_log.outcomes()] == ["rb-1"]


def test_text_format_appends_the_fields() -> None:
    """DOCPOST_LOG_FORMAT=text (the default): the message, then key=value; None as '-'."""
    record = logging.LogRecord("docpost.outcome", logging.INFO, "", 0, "request %s", ("r1",), None)
    record.fields = {"request_id": "r1", "code": None, "journal": "PS-000001", "actor": "a b"}
    text = TextFormatter().format(record)
    assert text.endswith(
        'docpost.outcome: request r1 request_id=r1 code=- journal=PS-000001 actor="a b"'
    )


def test_json_format_keeps_its_own_keys_and_the_traceback() -> None:
    """A field cannot overwrite the record's message or level; an exception is one string."""
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, "", 0, "failed", (), sys.exc_info())
    record.fields = {"message": "hidden?", "request_id": "r2"}
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "failed" and entry["level"] == "ERROR"
    assert entry["request_id"] == "r2"
    assert "ValueError: boom" in entry["exc_info"]


def test_configure_logging_replaces_its_own_handler_only() -> None:
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    try:
        configure_logging("INFO", "text", stream=io.StringIO())
        stream = io.StringIO()
        handler = configure_logging("WARNING", "json", stream=stream)
        assert [h for h in root.handlers if h not in before] == [handler]
        assert root.level == logging.WARNING
        logging.getLogger("docpost.test").warning("once")
        assert json.loads(stream.getvalue())["message"] == "once"
    finally:
        for extra in [h for h in root.handlers if h not in before]:
            root.removeHandler(extra)
        root.setLevel(level)
