"""Execute one request: exactly one outcome per request_id, one transaction per request.

This is the single entry point every caller uses: `docpost run`, the Celery task, tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.contract import (
    Request,
    fallback_request_id,
    load_body,
    parse_request,
)
from docpost.pipeline.errors import Rejection
from docpost.pipeline.runner import ordering
from docpost.pipeline.runner.ordering import Head
from docpost.pipeline.services.bulk import bulk_invoice
from docpost.pipeline.services.catalog import upsert_catalog
from docpost.pipeline.services.credit_notes import post_credit_note
from docpost.pipeline.services.invoice_batch import invoice_batch
from docpost.pipeline.services.invoices import post_invoice
from docpost.pipeline.services.orders import confirm_order, upsert_order
from docpost.pipeline.services.packing_slips import cancel_packing_slip, post_packing_slip
from docpost.pipeline.services.pos import post_pos_sale
from docpost.pipeline.services.revenue import recognize_revenue
from docpost.pipeline.services.serial_changes import change_serial
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import OutboxMessage, RequestRecord
from docpost.schema.types import utcnow

log = logging.getLogger(__name__)

Service = Callable[[UnitOfWork, Any], dict[str, Any]]

SERVICES: dict[str, Service] = {
    "upsert_catalog": upsert_catalog,
    "upsert_order": upsert_order,
    "confirm_order": confirm_order,
    "post_packing_slip": post_packing_slip,
    "post_invoice": post_invoice,
    "post_credit_note": post_credit_note,
    "cancel_packing_slip": cancel_packing_slip,
    "change_serial": change_serial,
    "post_pos_sale": post_pos_sale,
    "bulk_invoice": bulk_invoice,
    "recognize_revenue": recognize_revenue,
}

# Races that a fresh attempt resolves: two first deliveries inserting the same request id,
# or two upsert_order creating the same order. Deadlocks and serialization failures go to
# the caller (the Celery task retries them with backoff).
RACE_ATTEMPTS = 3
# In-process runs (`docpost run`) execute the open requests an order's request waits for
# first; each such run makes one of them final, so this bound is never reached in practice.
MAX_HEADS_IN_PROCESS = 10_000


def outcome_of(record: RequestRecord) -> dict[str, Any]:
    return record.outcome()


@dataclass
class Executed:
    """One run of a request: its outcome, and the follow-up messages (outbox rows) the run
    committed, which the queue publishes right away."""

    outcome: dict[str, Any]
    outbox: list[OutboxMessage] = field(default_factory=list)
    # Set when the request did not run: an earlier request of its order must finish first
    # (pipeline.runner.ordering); the queue hands the request back.
    waits_for: Head | None = None


class CountedBefore(Exception):
    """A first-delivery run found the request's deliveries already counted: an earlier
    delivery happened after all, so this one must be counted before it runs."""


def execute(raw: str | bytes | dict[str, Any], sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Parse and execute one request; return its outcome (stored or, on a repeat, the first)."""
    return run_request(raw, sessions).outcome


def run_request(
    raw: str | bytes | dict[str, Any],
    sessions: sessionmaker[Session],
    *,
    first_delivery: bool = False,
    hold: bool = False,
) -> Executed:
    """`execute`, returning the outbox rows it committed too.

    `first_delivery`: the queue's first delivery of the message. Its delivery is counted in
    the request's own transaction instead of one of its own before it (a commit less per
    request); if that transaction never commits (the worker died), the redelivery is counted
    as the second (see `start_attempt`). Raises CountedBefore when deliveries were counted
    already, as `start_attempt` does not know of this one.

    `hold`: the queue's delivery. A request that must wait for an earlier request of its
    order (pipeline.runner.ordering) is not run and not counted: `waits_for` names that request,
    and the request is parked when it can be. Without `hold` (in-process callers, which have
    no queue to hand it back to) that earlier request is run first, then this one."""
    try:
        request = parse_request(raw)
    except Rejection as rejection:
        return Executed(_reject_unparsed(raw, rejection, sessions))
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
    try:
        with sessions() as session, session.begin():
            record = _claim(session, request, first_delivery, hold)
            if isinstance(record, dict):
                return Executed(record)
            if isinstance(record, Head):
                # Committed as it stands: a request seen for the first time keeps its accept
                # number, a parked one its parking; nothing is counted.
                return Executed(_open_outcome(request.request_id), waits_for=record)
            uow = UnitOfWork(session, request.request_id, request.actor)
            result = SERVICES[request.kind](uow, request.command)
            record.status, record.result, record.error = "succeeded", result, None
            record.finished_at = utcnow()
            return Executed(outcome_of(record), uow.outbox + _release_next(session, record))
    except Rejection as rejection:
        # The service's writes rolled back with the transaction (no savepoint on the way of
        # every request): the rejected outcome is stored in a transaction of its own.
        return _store_rejection(request, rejection, sessions, first_delivery)


def _open_outcome(request_id: str) -> dict[str, Any]:
    return {"request_id": request_id, "status": "queued"}


def _claim(
    session: Session, request: Request, first_delivery: bool, hold: bool = False
) -> RequestRecord | dict[str, Any] | Head:
    """The request's row, locked and marked as being run; or, when there is nothing to run
    (another body under this id, or a final outcome already), the outcome to return; or,
    when an earlier request of its order must run first, that request (pipeline.runner.ordering)."""
    record = session.scalars(
        select(RequestRecord)
        .where(RequestRecord.request_id == request.request_id)
        .with_for_update()
    ).one_or_none()
    if record is not None and record.body_sha256 != request.body_sha256:
        return _conflict(request)
    if record is not None and record.is_final:
        return outcome_of(record)
    ref = ordering.order_ref(request.kind, request.command)
    created = record is None
    if record is None:
        # Accepted now: an upstream system published it without record_queued.
        record = _new_record(session, request, ref, status="running", attempts=1)
        session.flush()  # the unique request id is claimed here, inside the transaction
    elif first_delivery and record.attempts:
        raise CountedBefore(request.request_id)
    head = ordering.head_before(session, record, ref)
    if head is not None:
        if created:  # accepted, not run: nothing counted
            record.status, record.attempts = "queued", 0
        if hold and head.wait == "park":
            ordering.park(record)
        return head
    if record.parked_at is not None:
        record.parked_at = None
    if first_delivery and not created:
        record.attempts = 1
    return record


def _new_record(
    session: Session,
    request: Request,
    ref: ordering.OrderRef | None,
    status: str,
    attempts: int = 0,
) -> RequestRecord:
    record = RequestRecord(
        **request.record_fields(),
        status=status,
        attempts=attempts,
        order_key=ordering.order_key(session, ref),
    )
    session.add(record)
    return record


def _release_next(session: Session, record: RequestRecord) -> list[OutboxMessage]:
    """The request has become final in this transaction: the next request of its order, if
    parked behind it, is published after commit (through the outbox, so a crash between the
    commit and the publish loses nothing: the outbox sweep sends it)."""
    following = ordering.next_parked(session, record)
    if following is None:
        return []
    message = OutboxMessage(
        task="execute_request", payload={"body": json.loads(following.body), "fan_out": False}
    )
    session.add(message)
    return [message]


def _store_rejection(
    request: Request,
    rejection: Rejection,
    sessions: sessionmaker[Session],
    first_delivery: bool,
) -> Executed:
    with sessions() as session, session.begin():
        record = _claim(session, request, first_delivery=False)
        if isinstance(record, dict):
            # another delivery finished it meanwhile: its outcome stands
            return Executed(record)
        if isinstance(record, Head):
            # An earlier request of its order reopened meanwhile (it was published again and
            # is queued): this one ran after all; its rejection stands.
            record = _locked_record(session, request.request_id)
        if first_delivery:
            record.attempts = max(record.attempts, 1)
        rejection = rejection.resolved(session)
        record.status, record.result, record.error = "rejected", None, rejection.as_error()
        record.finished_at = utcnow()
        return Executed(outcome_of(record), _release_next(session, record))


def _locked_record(session: Session, request_id: str) -> RequestRecord:
    record = session.get(RequestRecord, request_id, with_for_update=True)
    assert record is not None
    return record


def reject_request(
    raw: str | bytes | dict[str, Any], rejection: Rejection, sessions: sessionmaker[Session]
) -> Executed:
    """Store `rejection` as the outcome of a request the queue had to stop (it ran past the
    soft time limit: see `time_limit_rejection`). Its own writes rolled back with it; a
    request that reached a final outcome meanwhile keeps that one."""
    try:
        request = parse_request(raw)
    except Rejection as unparsed:
        return Executed(_reject_unparsed(raw, unparsed, sessions))
    # It ran, so its delivery counts (first_delivery: attempts at least 1). The next request
    # of its order, parked behind it, is released like after any rejection.
    return _store_rejection(request, rejection, sessions, True)


def time_limit_rejection(seconds: int) -> Rejection:
    """A request that takes longer than the worker's soft time limit is too large: it is the
    request's fault, and running it again would only hold a worker as long again."""
    return Rejection(
        "request.time_limit",
        f"the request took longer than {seconds} s, the time one request may take (set by "
        "DOCPOST_TASK_TIME_LIMIT), and was stopped; nothing of it was kept. Split it into "
        "smaller requests: fewer lines or serials per packing slip or invoice (post several), "
        "fewer customers and items per catalog load",
        seconds=seconds,
    )


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
    own: list[str | dict[str, Any]] = []
    for body in bodies:
        try:
            children.append(parse_request(body))
        except Rejection:
            own.append(body)
    with sessions() as session, session.begin():
        # The batch's own unit of work only takes numbers and the posting date: each child is
        # planned under its own request id and actor (services.invoice_batch).
        batch = invoice_batch(UnitOfWork(session, "invoice-batch", ""), children)
    done.outcomes.extend(batch.outcomes)
    done.outbox.extend(batch.outbox)
    own.extend(child.body for child in batch.left_out)
    for body in own:
        run = run_request(body, sessions)
        done.outcomes.append(run.outcome)
        done.outbox.extend(run.outbox)
    return done


def _conflict(request: Request) -> dict[str, Any]:
    """The same request_id with another body: refused, and the first outcome is kept."""
    return {
        "request_id": request.request_id,
        "status": "rejected",
        "error": _conflict_error(request.request_id),
    }


def _conflict_error(request_id: str) -> dict[str, Any]:
    return Rejection(
        "request.conflict",
        f"request_id {request_id!r} was already used for a different request; "
        "use a new request_id for a new request",
    ).as_error()


def _reject_unparsed(
    raw: Any, rejection: Rejection, sessions: sessionmaker[Session]
) -> dict[str, Any]:
    """A malformed request still gets its one stored outcome, under its own request_id when
    that is usable, else under an id derived from its body."""
    request_id, kind, actor = _salvage_envelope(raw)
    if request_id is None:
        request_id = fallback_request_id(raw)
    # Kept for inspection only; PostgreSQL text cannot hold NUL characters.
    body = (raw if isinstance(raw, str) else repr(raw)).replace("\x00", "\\u0000")
    # Lone surrogates cannot be stored either: kept as their escape text.
    body = body.encode("utf-8", "backslashreplace").decode("utf-8")
    kind, actor = kind.replace("\x00", ""), actor.replace("\x00", "")
    digest = hashlib.sha256(body.encode("utf-8", "replace")).hexdigest()
    outcome = {"request_id": request_id, "status": "rejected", "error": rejection.as_error()}
    try:
        with sessions() as session, session.begin():
            record = session.get(RequestRecord, request_id, with_for_update=True)
            if record is not None:
                # A repeat of this very body gets the first outcome; another body under the
                # same id is a conflict, and the first outcome stays.
                if record.body_sha256 == digest:
                    return outcome_of(record)
                return {**outcome, "error": _conflict_error(request_id)}
            session.add(
                RequestRecord(
                    request_id=request_id,
                    kind=kind,
                    actor=actor,
                    body_sha256=digest,
                    body=body[:100_000],
                    status="rejected",
                    error=rejection.as_error(),
                    attempts=1,
                    finished_at=utcnow(),
                )
            )
            return outcome
    except IntegrityError:
        # A duplicate of this malformed request won the race; its outcome is the same.
        return outcome


def _salvage_envelope(raw: Any) -> tuple[str | None, str, str]:
    try:
        body = load_body(raw)
    except Rejection:
        return None, "invalid", ""
    request_id = body.get("request_id")
    usable = (
        isinstance(request_id, str)
        and 0 < len(request_id) <= 200
        and request_id.isprintable()
        and request_id.isascii()
    )
    kind = body.get("kind") if isinstance(body.get("kind"), str) else "invalid"
    actor = body.get("actor") if isinstance(body.get("actor"), str) else ""
    return (request_id if usable else None), str(kind)[:50], str(actor)[:100]


# --- bookkeeping for queued execution (the Celery task and `docpost submit`) -------------------


def record_queued(raw: str | bytes | dict[str, Any], sessions: sessionmaker[Session]) -> str:
    """Note a request as `queued` before it is published, so `show request` knows it. A
    request that does not parse is rejected right here (nothing is published for it).
    Returns the request id the outcome is filed under."""
    try:
        request = parse_request(raw)
    except Rejection as rejection:
        return _reject_unparsed(raw, rejection, sessions)["request_id"]
    try:
        with sessions() as session, session.begin():
            if session.get(RequestRecord, request.request_id) is None:
                # Accepted: its order key and accept number (pipeline.runner.ordering).
                ref = ordering.order_ref(request.kind, request.command)
                _new_record(session, request, ref, status="queued")
    except IntegrityError:
        pass  # queued (or done) by a concurrent submit of the same request
    return request.request_id


def waits_for(raw: str | bytes | dict[str, Any], sessions: sessionmaker[Session]) -> Head | None:
    """Before a redelivery is counted: the earlier request of its order that must run first
    (the request is parked behind it when it can be), or None. A request seen for the first
    time is recorded here, as accepted now; a malformed or final one waits for nothing."""
    try:
        request = parse_request(raw)
    except Rejection:
        return None
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            with sessions() as session:
                claim = _claim(session, request, first_delivery=False, hold=True)
                if not isinstance(claim, Head):
                    session.rollback()  # free to run: it is counted and run next
                    return None
                session.commit()  # its accept number, or its parking
                return claim
        except IntegrityError:
            if attempt == RACE_ATTEMPTS:
                raise
    return None


def start_attempt(
    request_id: str, sessions: sessionmaker[Session], *, redelivered: bool = False
) -> tuple[int, bool]:
    """Count one more delivery of a request, committed before it runs, so that a message that
    kills its worker is not retried forever. Returns (attempts so far, already final).

    `redelivered`: an earlier delivery is known to have happened (the broker redelivered the
    message, or Celery retried it). If nothing was counted yet, that earlier one was a first
    delivery whose own count rolled back with it (`run_request(first_delivery=True)`): this
    one is the second."""
    with sessions() as session, session.begin():
        record = session.get(RequestRecord, request_id, with_for_update=True)
        if record is None:
            return 0, False
        if record.is_final:
            return record.attempts, True
        record.attempts = (max(record.attempts, 1) if redelivered else record.attempts) + 1
        record.status = "running"
        return record.attempts, False


def record_failure(
    request_id: str,
    error: dict[str, Any],
    sessions: sessionmaker[Session],
    *,
    attempts: int | None = None,
    released: list[OutboxMessage] | None = None,
) -> dict[str, Any]:
    """End a request as `failed` (retries used up on a fault that was not the request's).
    A request that reached a final outcome meanwhile keeps it. `attempts`: deliveries known
    to the caller that may not have been counted (a first delivery's count rolls back with
    its transaction). `released`: receives the outbox rows that publish the next request of
    its order, parked behind it (pipeline.runner.ordering), for the caller to relay."""
    with sessions() as session, session.begin():
        record = session.get(RequestRecord, request_id, with_for_update=True)
        if record is None:
            return {"request_id": request_id, "status": "failed", "error": error}
        if not record.is_final:
            record.status, record.error, record.finished_at = "failed", error, utcnow()
            record.attempts = max(record.attempts, attempts or 0)
            # A failed request is final: the next of its order may run (sent by the outbox).
            (released if released is not None else []).extend(_release_next(session, record))
        return outcome_of(record)


def execute_or_fail(
    raw: str | bytes | dict[str, Any], sessions: sessionmaker[Session]
) -> dict[str, Any]:
    """`execute` for in-process callers (`docpost run`): a fault that is not the request's
    (a bug, a lost database) ends this request `failed` with the error instead of stopping
    the whole run. The queue does not use this: it retries such faults first."""
    try:
        return execute(raw, sessions)
    except Exception as exc:
        log.exception("request failed")
        request_id, _, _ = _salvage_envelope(raw)
        error = {
            "code": "internal.error",
            "rule": None,
            "message": f"the request could not be executed: {type(exc).__name__}: {exc}"[:1000],
            "details": {},
        }
        if request_id is None:
            return {"request_id": fallback_request_id(raw), "status": "failed", "error": error}
        try:
            return record_failure(request_id, error, sessions)
        except Exception:  # the database itself is gone: report, do not store
            return {"request_id": request_id, "status": "failed", "error": error}
