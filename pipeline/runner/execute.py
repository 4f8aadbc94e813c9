"""Execute one request: exactly one outcome per request_id, one transaction per request.

This is the single entry point every caller uses: `docpost run`, the Celery task, tests. It
runs a parsed request through its service (pipeline.runner.kinds) in one unit of work; the
request's record (claimed, counted, ended) is pipeline.runner.request_record's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.contract import Request, fallback_request_id, parse_request
from docpost.pipeline.errors import Rejection
from docpost.pipeline.runner import request_record
from docpost.pipeline.runner.kinds import SERVICES, needs_of
from docpost.pipeline.runner.ordering import Head
from docpost.pipeline.runner.outcome_log import timed_run
from docpost.pipeline.runner.request_record import RACE_ATTEMPTS, Executed, Raw
from docpost.pipeline.services.invoice_batch import invoice_batch
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import OutboxMessage

log = logging.getLogger(__name__)

# In-process runs (`docpost run`) execute the open requests an order's request waits for
# first; each such run makes one of them final, so this bound is never reached in practice.
MAX_HEADS_IN_PROCESS = 10_000


def execute(raw: Raw, sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Parse and execute one request; return its outcome (stored or, on a repeat, the first)."""
    return run_request(raw, sessions).outcome


def run_request(
    raw: Raw,
    sessions: sessionmaker[Session],
    *,
    first_delivery: bool = False,
    hold: bool = False,
) -> Executed:
    """`execute`, returning the outbox rows it committed too.

    `first_delivery`: the queue's first delivery of the message. Its delivery is counted in
    the request's own transaction instead of one of its own before it (a commit less per
    request); if that transaction never commits (the worker died), the redelivery is counted
    as the second (see `request_record.start_attempt`). Raises CountedBefore when deliveries
    were counted already, as `start_attempt` does not know of this one.

    `hold`: the queue's delivery. A request that must wait for an earlier request of its
    order (pipeline.runner.ordering) is not run and not counted: `waits_for` names that request,
    and the request is parked when it can be. Without `hold` (in-process callers, which have
    no queue to hand it back to) that earlier request is run first, then this one."""
    # Every outcome's log line is written when it commits (runner.outcome_log); this times it.
    with timed_run():
        return _run_request(raw, sessions, first_delivery, hold)


def _run_request(
    raw: Raw, sessions: sessionmaker[Session], first_delivery: bool, hold: bool
) -> Executed:
    try:
        request = parse_request(raw)
    except Rejection as rejection:
        return Executed(request_record.reject_unparsed(raw, rejection, sessions))
    earlier: list[OutboxMessage] = []
    for _ in range(MAX_HEADS_IN_PROCESS):
        run = _execute_with_races(request, sessions, first_delivery, hold)
        if run.waits_for is None or hold:
            run.outbox[:0] = earlier
            return run
        log.info("request %s runs %s first", request.request_id, run.waits_for.request_id)
        earlier.extend(run_request(run.waits_for.as_message(), sessions).outbox)
    raise RuntimeError(f"request {request.request_id}: too many earlier requests of its order")


def _execute_with_races(
    request: Request, sessions: sessionmaker[Session], first_delivery: bool, hold: bool
) -> Executed:
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            return _execute_parsed(request, sessions, first_delivery, hold)
        except IntegrityError:
            if attempt == RACE_ATTEMPTS:
                raise
            log.info("request %s raced another transaction; trying again", request.request_id)
    raise AssertionError("unreachable")


def _execute_parsed(
    request: Request, sessions: sessionmaker[Session], first_delivery: bool, hold: bool
) -> Executed:
    """Claim the request's record, run its service and store its outcome, in one unit of work."""
    try:
        with (
            sessions() as session,
            UnitOfWork(session, request.request_id, request.actor, needs_of=needs_of) as uow,
        ):
            record = request_record.claim(session, request, first_delivery, hold)
            if isinstance(record, dict):
                return Executed(record)  # nothing to run, and nothing was written
            if isinstance(record, Head):
                # Kept as it stands: a request seen for the first time keeps its accept
                # number, a parked one its parking; nothing is counted.
                uow.commit()
                return Executed(request_record.open_outcome(request.request_id), waits_for=record)
            result = SERVICES[request.kind](uow, request.command)
            executed = request_record.succeed(session, record, result, uow.outbox)
            uow.commit()
            return executed
    except Rejection as rejection:
        # The unit of work rolled the service's writes back (no savepoint on the way of every
        # request): the rejected outcome is stored in a transaction of its own.
        return request_record.store_rejection(request, rejection, sessions, first_delivery)


@dataclass
class BatchExecuted:
    """The outcomes of a batch of requests, and the outbox rows they committed."""

    outcomes: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[OutboxMessage] = field(default_factory=list)


def run_invoice_batch(
    bodies: Sequence[dict[str, Any]], sessions: sessionmaker[Session]
) -> BatchExecuted:
    """Bulk invoicing's invoice requests: those that can be, in one transaction
    (services.invoice_batch); each of the others, and any that does not parse, as a request
    of its own, after it."""
    done = BatchExecuted()
    children: list[Request] = []
    own: list[Raw] = []
    for body in bodies:
        try:
            children.append(parse_request(body))
        except Rejection:
            own.append(body)
    # The batch's own unit of work only takes numbers and the posting date: each child is
    # planned under its own request id and actor (services.invoice_batch).
    with (
        sessions() as session,
        UnitOfWork(session, "invoice-batch", "", needs_of=needs_of) as uow,
    ):
        batch = invoice_batch(uow, children)
        uow.commit()
    done.outcomes.extend(batch.outcomes)
    done.outbox.extend(batch.outbox)
    own.extend(child.body for child in batch.left_out)
    for body in own:
        run = run_request(body, sessions)
        done.outcomes.append(run.outcome)
        done.outbox.extend(run.outbox)
    return done


def execute_or_fail(raw: Raw, sessions: sessionmaker[Session]) -> dict[str, Any]:
    """`execute` for in-process callers (`docpost run`): a fault that is not the request's
    (a bug, a lost database) ends this request `failed` with the error instead of stopping
    the whole run. The queue does not use this: it retries such faults first."""
    with timed_run():  # a failure's outcome is timed from the start of its run
        return _execute_or_fail(raw, sessions)


def _execute_or_fail(raw: Raw, sessions: sessionmaker[Session]) -> dict[str, Any]:
    try:
        return execute(raw, sessions)
    except Exception as exc:
        log.exception("request failed")
        request_id, _, _ = request_record.salvage_envelope(raw)
        error = {
            "code": "internal.error",
            "rule": None,
            "message": f"the request could not be executed: {type(exc).__name__}: {exc}"[:1000],
            "details": {},
        }
        if request_id is None:
            return {"request_id": fallback_request_id(raw), "status": "failed", "error": error}
        try:
            return request_record.record_failure(request_id, error, sessions)
        except Exception:  # the database itself is gone: report, do not store
            return {"request_id": request_id, "status": "failed", "error": error}
