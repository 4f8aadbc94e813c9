"""The request record's lifecycle: the one row per request_id that holds its outcome.

queued (`record_queued`) -> running (`claim`, `start_attempt`) -> succeeded, rejected or failed.
A request that does not parse is rejected at once, under its own request_id when that is
usable, else under an id derived from its body (`reject_unparsed`). The same request_id with
another body is a conflict (`conflict`): refused, and the first outcome is kept.

Running a parsed request through its service is pipeline.runner.execute; this module only
keeps the record: who claims it, how often it was delivered, how it ends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.contract import (
    Request,
    canonical_json,
    fallback_request_id,
    load_body,
    parse_request,
)
from docpost.pipeline.errors import Rejection
from docpost.pipeline.runner import (
    ordering,
    # Imported for its listeners: every outcome this module records is logged and counted
    # when it commits, whichever function below decided it.
    outcome_log,  # noqa: F401
)
from docpost.pipeline.runner.ordering import Head
from docpost.schema import OutboxMessage, RequestRecord
from docpost.schema.types import utcnow

Raw = str | bytes | dict[str, Any]

# Races that a fresh attempt resolves: two first deliveries inserting the same request id,
# or two upsert_order creating the same order. Deadlocks and serialization failures go to
# the caller (the Celery task retries them with backoff).
RACE_ATTEMPTS = 3

CONFLICT = "request.conflict"

# A caller waiting for outcomes looks again soon at first (most requests take milliseconds),
# then less and less often, at most every MAX_POLL_SECONDS.
FIRST_POLL_SECONDS = 0.02
MAX_POLL_SECONDS = 0.5


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


def outcome_of(record: RequestRecord) -> dict[str, Any]:
    return record.outcome()


def open_outcome(request_id: str) -> dict[str, Any]:
    return {"request_id": request_id, "status": "queued"}


def poll_intervals() -> Iterator[float]:
    """The pauses between two looks at outcomes that are not final yet (tasks.client's
    wait, which `docpost submit --wait` uses, and the HTTP service's GET with ?wait=)."""
    interval = FIRST_POLL_SECONDS
    while True:
        yield interval
        interval = min(MAX_POLL_SECONDS, interval * 1.5)


# --- request ids and conflicts -----------------------------------------------------------------


def usable_request_id(body: Any) -> str | None:
    """The request_id of a request object (a dict) if its outcome can be filed under it:
    1 to 200 printable ASCII characters, as the contract's RequestId allows (a lone surrogate
    or a NUL cannot be stored, and an id outside ASCII is refused by the contract anyway).
    None for any other body: its outcome is filed under `fallback_request_id`."""
    request_id = body.get("request_id") if isinstance(body, dict) else None
    if (
        isinstance(request_id, str)
        and 0 < len(request_id) <= 200
        and request_id.isascii()
        and request_id.isprintable()
    ):
        return request_id
    return None


def salvage_envelope(raw: Any) -> tuple[str | None, str, str]:
    """What a request that does not parse still tells: its usable request_id (or None), its
    kind and its actor, cut to what their columns hold."""
    try:
        body = load_body(raw)
    except Rejection:
        return None, "invalid", ""
    kind = body.get("kind") if isinstance(body.get("kind"), str) else "invalid"
    actor = body.get("actor") if isinstance(body.get("actor"), str) else ""
    return usable_request_id(body), str(kind)[:50], str(actor)[:100]


def conflict(request_id: str) -> Rejection:
    """The same request_id with another body: refused, and the first outcome is kept."""
    return Rejection(
        CONFLICT,
        f"request_id {request_id!r} was already used for a different request; "
        "use a new request_id for a new request",
    )


def is_conflict(outcome: dict[str, Any]) -> bool:
    error = outcome.get("error")
    return isinstance(error, dict) and error.get("code") == CONFLICT


def _conflict_outcome(request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "status": "rejected",
        "error": conflict(request_id).as_error(),
    }


# --- claiming a request to run it --------------------------------------------------------------


def claim(
    session: Session, request: Request, first_delivery: bool, hold: bool = False
) -> RequestRecord | dict[str, Any] | Head:
    """The request's row, locked and marked as being run; or, when there is nothing to run
    (another body under this id, or a final outcome already), the outcome to return; or,
    when an earlier request of its order must run first, that request (runner.ordering)."""
    record = session.scalars(
        select(RequestRecord)
        .where(RequestRecord.request_id == request.request_id)
        .with_for_update()
    ).one_or_none()
    if record is not None and record.body_sha256 != request.body_sha256:
        return _conflict_outcome(request.request_id)
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


def _locked_record(session: Session, request_id: str) -> RequestRecord:
    record = session.get(RequestRecord, request_id, with_for_update=True)
    assert record is not None
    return record


# --- final outcomes ------------------------------------------------------------------------------


def succeed(
    session: Session, record: RequestRecord, result: dict[str, Any], outbox: list[OutboxMessage]
) -> Executed:
    """The claimed request ran: its outcome, in the transaction its service wrote in."""
    record.status, record.result, record.error = "succeeded", result, None
    record.finished_at = utcnow()
    return Executed(outcome_of(record), outbox + release_next(session, record))


def release_next(session: Session, record: RequestRecord) -> list[OutboxMessage]:
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


def store_rejection(
    request: Request,
    rejection: Rejection,
    sessions: sessionmaker[Session],
    first_delivery: bool,
) -> Executed:
    """The rejected outcome, in a transaction of its own: the service's writes rolled back
    with its transaction (no savepoint on the way of every request)."""
    with sessions() as session, session.begin():
        record = claim(session, request, first_delivery=False)
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
        return Executed(outcome_of(record), release_next(session, record))


def reject_request(raw: Raw, rejection: Rejection, sessions: sessionmaker[Session]) -> Executed:
    """Store `rejection` as the outcome of a request the queue had to stop (it ran past the
    soft time limit: see `time_limit_rejection`). Its own writes rolled back with it; a
    request that reached a final outcome meanwhile keeps that one."""
    try:
        request = parse_request(raw)
    except Rejection as unparsed:
        return Executed(reject_unparsed(raw, unparsed, sessions))
    # It ran, so its delivery counts (first_delivery: attempts at least 1). The next request
    # of its order, parked behind it, is released like after any rejection.
    return store_rejection(request, rejection, sessions, True)


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


def reject_unparsed(
    raw: Any, rejection: Rejection, sessions: sessionmaker[Session]
) -> dict[str, Any]:
    """A malformed request still gets its one stored outcome, under its own request_id when
    that is usable, else under an id derived from its body. Sent again, in whatever layout
    (`unparsed_fingerprint`), it gets that first outcome; another body under its id is a
    conflict."""
    request_id, kind, actor = salvage_envelope(raw)
    if request_id is None:
        request_id = fallback_request_id(raw)
    digest, body = unparsed_fingerprint(raw)
    legacy = _legacy_unparsed_digest(raw)
    kind, actor = kind.replace("\x00", ""), actor.replace("\x00", "")
    outcome = {"request_id": request_id, "status": "rejected", "error": rejection.as_error()}
    try:
        with sessions() as session, session.begin():
            record = session.get(RequestRecord, request_id, with_for_update=True)
            if record is not None:
                # A repeat of this very request gets the first outcome (also one stored
                # before fingerprints were canonical: `legacy`); another body under the same
                # id is a conflict, and the first outcome stays.
                if record.body_sha256 in (digest, legacy):
                    return outcome_of(record)
                return _conflict_outcome(request_id)
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


# --- the fingerprint of a request that does not parse -------------------------------------------

_NOT_JSON = object()


def unparsed_fingerprint(raw: Any) -> tuple[str, str]:
    """(body_sha256, the body kept for inspection) of a request that does not parse.

    The fingerprint must not depend on how the request travelled: a line of a JSON-lines
    file arrives as its text, the same object alone in a file as a dict (requests_io), an
    HTTP body or a queue message as either. So a body that is JSON at all, valid request or
    not, is fingerprinted by its canonical form (contract.canonical_json: sorted keys, no
    white space, decimals as their text) without its request_id (the key it is filed
    under), exactly as `parse_request` fingerprints a valid request's kind, actor and
    payload: a body that only failed validation hashes as it would have had it been valid.
    Only text that is not JSON is hashed as text, its line endings and trailing white space
    normalised."""
    value = _json_value(raw)
    if value is _NOT_JSON:
        text = _normalised_text(raw)
        kept = text
    elif isinstance(value, dict):
        text = _canonical({k: v for k, v in value.items() if k != "request_id"})
        kept = _canonical(value)
    else:
        text = kept = _canonical(value)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    # Kept for inspection only; PostgreSQL text holds neither NUL characters nor lone
    # surrogates: kept as their escape text.
    kept = kept.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
    return digest, kept


def _json_value(raw: Any) -> Any:
    """The JSON value a request body holds, or _NOT_JSON."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _NOT_JSON
    if not isinstance(raw, str):
        return _NOT_JSON
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _canonical(value: Any) -> str:
    try:
        if isinstance(value, dict):
            return canonical_json(value)
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False
        )
    except (TypeError, ValueError, RecursionError):
        # A Python caller's dict that JSON cannot hold (keys of mixed types): its repr.
        return repr(value)


def _normalised_text(raw: Any) -> str:
    """Text that is not JSON, as its lines without trailing white space, joined by one line
    feed whatever ended them (CR LF, CR), without leading or trailing blank lines."""
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", "surrogateescape")
    else:
        text = raw if isinstance(raw, str) else repr(raw)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def _legacy_unparsed_digest(raw: Any) -> str:
    """The fingerprint an unparsed request got before `unparsed_fingerprint` (its text as it
    arrived, a dict by its repr): a request stored then, sent again in the very same form,
    still gets its first outcome rather than a conflict."""
    body = (raw if isinstance(raw, str) else repr(raw)).replace("\x00", "\\u0000")
    body = body.encode("utf-8", "backslashreplace").decode("utf-8")
    return hashlib.sha256(body.encode("utf-8", "replace")).hexdigest()


# --- bookkeeping for queued execution (the Celery task and `docpost submit`) -------------------


def record_queued(raw: Raw, sessions: sessionmaker[Session]) -> str:
    """Note a request as `queued` before it is published, so `show request` knows it. A
    request that does not parse is rejected right here (nothing is published for it).
    Returns the request id the outcome is filed under."""
    try:
        request = parse_request(raw)
    except Rejection as rejection:
        return reject_unparsed(raw, rejection, sessions)["request_id"]
    try:
        with sessions() as session, session.begin():
            if session.get(RequestRecord, request.request_id) is None:
                # Accepted: its order key and accept number (pipeline.runner.ordering).
                ref = ordering.order_ref(request.kind, request.command)
                _new_record(session, request, ref, status="queued")
    except IntegrityError:
        pass  # queued (or done) by a concurrent submit of the same request
    return request.request_id


def waits_for(raw: Raw, sessions: sessionmaker[Session]) -> Head | None:
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
                claimed = claim(session, request, first_delivery=False, hold=True)
                if not isinstance(claimed, Head):
                    session.rollback()  # free to run: it is counted and run next
                    return None
                session.commit()  # its accept number, or its parking
                return claimed
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
            (released if released is not None else []).extend(release_next(session, record))
        return outcome_of(record)
