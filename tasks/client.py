"""The published client: submit a request to the queue, wait for its outcome.

    handle = submit({"request_id": "erp-1", "kind": "confirm_order", "actor": "erp",
                     "payload": {"order": "SO-1001"}})
    outcome = handle.wait(timeout=30)

Outcomes are read from the database (the requests table), not from a Celery result backend:
the database is where the one outcome per request_id is kept, whoever executed it.
With the embedded broker (no DOCPOST_BROKER_URL), messages only reach a worker running in
this process: see tasks.embedded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.contract import parse_request
from docpost.pipeline.errors import Rejection
from docpost.pipeline.runner.execute import execute
from docpost.pipeline.runner.request_record import (
    outcome_of,
    poll_intervals,
    record_queued,
    unparsed_fingerprint,
)
from docpost.schema import RequestRecord
from docpost.schema.requests import FINAL_STATUSES
from docpost.tasks.db import worker_sessions
from docpost.tasks.publish import publish_request


def outcomes_of(sessions: sessionmaker[Session], request_ids: Iterable[str]) -> dict[str, Any]:
    """The stored outcomes (final or not) of the requests known to the database."""
    ids = list(request_ids)
    if not ids:
        return {}
    with sessions() as session:
        records = session.scalars(select(RequestRecord).where(RequestRecord.request_id.in_(ids)))
        return {r.request_id: outcome_of(r) for r in records}


@dataclass
class Handle:
    request_id: str
    sessions: sessionmaker[Session]
    # Known without asking the database (a request_id reused for another body).
    settled: dict[str, Any] | None = None

    def outcome(self) -> dict[str, Any] | None:
        """The outcome as stored now (`queued`, `running` or final); None if not recorded yet."""
        if self.settled is not None:
            return self.settled
        return outcomes_of(self.sessions, [self.request_id]).get(self.request_id)

    def wait(
        self,
        timeout: float | None = None,
        on_waiting: Callable[[dict[str, int]], None] | None = None,
    ) -> dict[str, Any]:
        """The final outcome; raises TimeoutError if it is not final within `timeout` s."""
        for outcome in wait_all([self], timeout, on_waiting=on_waiting):
            return outcome
        raise AssertionError("unreachable")


# The status reported for a request the database does not know (yet).
NOT_RECORDED = "not recorded"


def wait_all(
    handles: Iterable[Handle],
    timeout: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_waiting: Callable[[dict[str, int]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the final outcomes of the handles as they become final (any order). Raises
    TimeoutError naming the requests still open after `timeout` seconds. `on_waiting` gets,
    after every poll that leaves some open, how many are in each status (`queued`,
    `running`, or NOT_RECORDED), so a caller can say what it waits for."""
    pending = {h.request_id: h for h in handles}
    total = len(pending)
    deadline = None if timeout is None else time.monotonic() + timeout
    for h in [h for h in pending.values() if h.settled is not None]:
        del pending[h.request_id]
        yield h.settled  # type: ignore[misc]
    polls = poll_intervals()
    while pending:
        final, waiting = _look(pending)
        for outcome in final:
            del pending[outcome["request_id"]]
            yield outcome
        if on_progress is not None:
            on_progress(total - len(pending), total)
        if not pending:
            return
        if on_waiting is not None:
            on_waiting(waiting)
        if deadline is not None and time.monotonic() >= deadline:
            shown = ", ".join(sorted(pending)[:5]) + (" ..." if len(pending) > 5 else "")
            raise TimeoutError(f"{len(pending)} request(s) not final after {timeout} s: {shown}")
        time.sleep(next(polls))


def _look(pending: dict[str, Handle]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One look at the outcomes of the pending requests (one query per database): the final
    ones, and how many of the others are in each status."""
    by_session: dict[int, list[str]] = {}
    for h in pending.values():
        by_session.setdefault(id(h.sessions), []).append(h.request_id)
    final: list[dict[str, Any]] = []
    waiting: dict[str, int] = {}
    for ids in by_session.values():
        outcomes = outcomes_of(pending[ids[0]].sessions, ids)
        for request_id in ids:
            outcome = outcomes.get(request_id)
            if outcome is not None and outcome["status"] in FINAL_STATUSES:
                final.append(outcome)
            else:
                status = NOT_RECORDED if outcome is None else str(outcome["status"])
                waiting[status] = waiting.get(status, 0) + 1
    return final, waiting


def submit(request: dict[str, Any] | str, sessions: sessionmaker[Session] | None = None) -> Handle:
    """Record the request as `queued` and publish it. Publishing retries on broker connection
    errors and raises (kombu.exceptions.OperationalError) if the broker stays unreachable;
    the request then stays `queued` and submitting it again is safe."""
    sessions = sessions or worker_sessions()
    request_id = record_queued(request, sessions)
    handle = Handle(request_id, sessions)
    with sessions() as session:
        record = session.get(RequestRecord, request_id)
        stored_sha, final = (record.body_sha256, record.is_final) if record else ("", False)
    fingerprint = _fingerprint(request)
    if stored_sha and fingerprint and stored_sha != fingerprint:
        # A request_id reused for another body: execute() answers request.conflict and
        # writes nothing, so the answer is known here without a round trip through the queue.
        handle.settled = execute(request, sessions)
        return handle
    if not final:  # else: done before, or malformed and rejected just now
        publish_request(request)
    return handle


def _fingerprint(request: dict[str, Any] | str) -> str:
    try:
        return parse_request(request).body_sha256
    except Rejection:
        # A malformed request is fingerprinted too: another malformed body under a used
        # request_id is a conflict, not the first body's outcome.
        return unparsed_fingerprint(request)[0]


def fan_out_ids(outcome: dict[str, Any]) -> list[str]:
    """The request ids a succeeded bulk request fanned out (bulk invoicing's invoices)."""
    if outcome.get("status") != "succeeded":
        return []
    requests = (outcome.get("result") or {}).get("requests")
    return [r for r in requests if isinstance(r, str)] if isinstance(requests, list) else []
