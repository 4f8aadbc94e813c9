"""One structured log line, and the metrics, per request outcome, once it is committed.

Outcomes are decided in many places (runner.request_record's succeed, store_rejection,
reject_unparsed and record_failure, services.invoice_batch for bulk invoicing's children), by
several callers (the Celery task, `docpost run`, the HTTP service rejecting a malformed body).
The one place every outcome passes is the commit of its request row with a final status. So
this module watches flushes for request rows that became final and reports them after the
transaction commits: an outcome whose transaction rolls back (a race retried, a deadlock) is
never reported, and a repeat (the stored outcome returned again) changes no row and is not
reported twice. A conflict (request_id reused for another body) stores nothing: the first
outcome stands, and it alone was reported.

The line (pipeline.logs.log_outcome, logger `docpost.outcome`) holds request_id, kind, actor,
order, status, code, journal, attempts and duration_ms; the same commit counts
docpost_request_outcomes_total{kind,status} and observes the attempts and the duration
(pipeline.metrics).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from itertools import chain
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from docpost.pipeline import metrics
from docpost.pipeline.logs import log_outcome
from docpost.pipeline.runner.kinds import SERVICES
from docpost.schema import RequestRecord
from docpost.schema.requests import FINAL_STATUSES

log = logging.getLogger(__name__)

# Outcomes flushed in a session's transaction, reported when it commits.
_PENDING = "docpost_outcomes"
# When the run of the request being executed in this context started (perf_counter).
_run_started: ContextVar[float | None] = ContextVar("docpost_run_started", default=None)


@contextlib.contextmanager
def timed_run() -> Iterator[None]:
    """The outcomes committed inside get their duration from here (a nested run, such as an
    earlier request of the order run first in process, times its own)."""
    token = _run_started.set(time.perf_counter())
    try:
        yield
    finally:
        _run_started.reset(token)


def outcome_fields(record: RequestRecord) -> dict[str, Any]:
    """What the log line says of a final request row (plain values, read before commit
    expires the row)."""
    result = record.result if isinstance(record.result, dict) else {}
    error = record.error if isinstance(record.error, dict) else {}
    journal = result.get("journal")
    return {
        "request_id": record.request_id,
        "kind": record.kind,
        "actor": record.actor,
        "order": record.order_key or _text(result.get("order")),
        "status": record.status,
        "code": _text(error.get("code")),
        "journal": _text(journal),
        "attempts": record.attempts,
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _became_final(session: Session, record: RequestRecord) -> bool:
    if record.status not in FINAL_STATUSES:
        return False
    return record in session.new or inspect(record).attrs.status.history.has_changes()


@event.listens_for(Session, "after_flush")
def _note_outcomes(session: Session, _flush_context: Any) -> None:
    # In after_flush the session's new/dirty lists and attribute histories still show what
    # this flush wrote.
    for record in chain(session.new, session.dirty):
        if isinstance(record, RequestRecord) and _became_final(session, record):
            session.info.setdefault(_PENDING, []).append(outcome_fields(record))


@event.listens_for(Session, "after_commit")
def _report_outcomes(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    started = _run_started.get()
    duration = None if started is None else time.perf_counter() - started
    for fields in pending:
        try:
            report(fields, duration)
        except Exception:  # the outcome is committed: a reporting fault must not undo it
            log.exception("outcome of request %s not reported", fields.get("request_id"))


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back (or closed) transaction's outcomes never happened.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def report(fields: dict[str, Any], duration: float | None) -> None:
    """Log the outcome's line and count it."""
    log_outcome({**fields, "duration_ms": None if duration is None else round(duration * 1000, 1)})
    kind = metric_kind(fields["kind"])
    metrics.REQUEST_OUTCOMES.labels(kind=kind, status=fields["status"]).inc()
    metrics.REQUEST_ATTEMPTS.labels(status=fields["status"]).observe(fields["attempts"] or 0)
    if duration is not None:
        metrics.REQUEST_DURATION.labels(kind=kind).observe(duration)


def metric_kind(kind: str) -> str:
    """The kind as a metric label: a malformed request's kind is whatever its body said, and
    every distinct label value is a time series of its own, so unknown kinds are `invalid`."""
    return kind if kind in SERVICES else "invalid"
