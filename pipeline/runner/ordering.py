"""Order of execution (CONTRACT.md): the requests of one order run in the order they were
accepted, whatever the number of workers.

Managed queues call this an ordering key (SQS FIFO message groups, Pub/Sub ordering keys).
Here it lives in the database, the one place every worker sees:

- A request that concerns an order gets an *order key* (the order number) and every request a
  *sequence* number when it is accepted (`record_queued`, or its first delivery when an
  upstream system published it without): one global, increasing accept number (a PostgreSQL
  sequence; on SQLite the next number after the highest, taken under the database's one
  write lock). Only the relative order within an order matters, so no per-order counter and
  no per-order lock are needed.
- A worker that picks up a request runs it only when no request of the same order with a
  lower sequence is still open (`queued` or `running`): the earliest open one, the *head*,
  must run first. Otherwise the request is handed back without holding a worker process and
  without counting as a delivery:
    * parked (`parked_at` set) when the head is idle (waiting in a queue, or its worker died).
      The head's own transaction, when it makes the head final, unparks the next request of
      the order and publishes it through the outbox (so a crash after commit loses nothing).
      Parking takes a share lock on the head's row, which the head's claim (FOR UPDATE) waits
      for: a head cannot finish unseen between the check and the park.
    * retried after a short countdown when the head is being executed right now (its row is
      locked by its transaction): it is about to finish, and its finish may come before the
      park could commit. Also on SQLite, whose writers are one at a time anyway.
- Nothing blocks an order for ever: a head whose message was lost is `queued`, and the
  recovery sweep publishes it again after DOCPOST_REPUBLISH_AFTER (tasks.recovery), and
  parked requests with it (they are `queued` too) should a release itself have been lost; a
  head that kills its worker ends `failed` after DOCPOST_MAX_ATTEMPTS deliveries, which is
  final and releases the next. A waiting request therefore never republishes its head itself:
  that would duplicate the sweep and, for a head that is running, add a delivery to its count.
- `cancel_packing_slip` and `post_credit_note` name a journal, not an order: the key is the
  journal's order. A journal not posted yet when the request is accepted (a file that cancels
  the packing slip it posts two lines earlier) is looked up again when a worker picks the
  request up; until every request accepted before it is final, it waits (it may be one of
  those that posts the journal), as it would have in `docpost run`.
- Bulk invoicing's invoices (recorded by the bulk request, run in batches) have no key: they
  are made of what is posted when bulk invoicing runs, as in `docpost run`.

In-process callers (`docpost run`, tests) have no queue to hand a request back to: a request
that finds an earlier one of its order open runs that one first (pipeline.runner.execute).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.schema import Journal, RequestRecord, SalesOrder
from docpost.schema.types import utcnow

OPEN_STATUSES = ("queued", "running")

# Kinds whose payload names the order.
ORDER_FIELD = frozenset(
    {"upsert_order", "confirm_order", "post_packing_slip", "post_invoice", "change_serial"}
)
# Kinds whose payload names a journal: the key is that journal's order.
JOURNAL_FIELD = {"cancel_packing_slip": "packing_slip", "post_credit_note": "invoice"}

# Countdowns (s) of a request handed back while its head runs: short first (a posting takes
# milliseconds), longer for a head that runs long, so waiting requests cost little polling.
FIRST_RETRY_SECONDS = 0.05
MAX_RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class OrderRef:
    """What a request names to find its order: the order itself, or a posted journal."""

    order: str | None = None
    journal: str | None = None


def order_ref(kind: str, payload: Any) -> OrderRef | None:
    """The order a parsed request's command concerns (None: it concerns no single order).
    Pure: `payload` is the typed command (or any object with the payload's fields)."""
    if kind in ORDER_FIELD:
        order = getattr(payload, "order", None)
        return OrderRef(order=order) if isinstance(order, str) else None
    field = JOURNAL_FIELD.get(kind)
    if field is not None:
        journal = getattr(payload, field, None)
        return OrderRef(journal=journal) if isinstance(journal, str) else None
    return None


def order_key(session: Session, ref: OrderRef | None) -> str | None:
    """The order key of a reference: the order number, or the order of the named journal
    (None while that journal is not posted)."""
    if ref is None:
        return None
    if ref.order is not None:
        return ref.order
    return session.scalar(
        select(SalesOrder.order_no)
        .join(Journal, Journal.order_id == SalesOrder.id)
        .where(Journal.number == ref.journal)
    )


# --- may this request run now? -------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """The earliest open request that must run before the one asking."""

    request_id: str
    body: str
    # "park": idle, so the asking request is parked and released when the head finishes;
    # "retry": being executed now (or no park possible): ask again after a countdown.
    wait: str

    def as_message(self) -> dict[str, Any] | str:
        """The head's request as it is published again (its stored canonical body)."""
        try:
            loaded = json.loads(self.body)
        except ValueError:
            return self.body
        return loaded if isinstance(loaded, dict) else self.body


def assign(session: Session, record: RequestRecord, ref: OrderRef | None) -> None:
    """Give an accepted request its order key, if it concerns an order known now."""
    record.order_key = order_key(session, ref)


# session.info key: request id -> the next open request of its order found by `head_before`
# and whether it was parked then (None: no next one), so that `next_parked` needs no query.
FOLLOWING = "docpost.ordering.following"


def head_before(session: Session, record: RequestRecord, ref: OrderRef | None) -> Head | None:
    """The request that must finish before `record` may run, or None: it may run now.

    Called inside the transaction that runs the request, with the request's own row locked.
    A journal reference not resolved at accept time is resolved here (and kept). One query
    finds the first open request of the order besides this one: an earlier one is the head;
    a later one is remembered for `next_parked`."""
    if record.sequence is None:
        return None  # accepted before ordering existed
    if record.order_key is None and ref is not None and ref.journal is not None:
        record.order_key = order_key(session, ref)
        if record.order_key is None:
            # Its journal may be posted by any request accepted before it.
            return _earliest_open(session, record.sequence)
    if record.order_key is None:
        return None
    for _ in range(3):
        first = session.execute(
            select(RequestRecord.request_id, RequestRecord.sequence, RequestRecord.parked_at)
            .where(
                RequestRecord.order_key == record.order_key,
                RequestRecord.status.in_(OPEN_STATUSES),
                RequestRecord.request_id != record.request_id,
            )
            .order_by(RequestRecord.sequence)
            .limit(1)
        ).first()
        following = session.info.setdefault(FOLLOWING, {})
        if first is None or first.sequence is None or first.sequence > record.sequence:
            following[record.request_id] = (
                None if first is None else (first.request_id, first.parked_at is not None)
            )
            return None
        following.pop(record.request_id, None)
        head = _waiting_on(session, first.request_id)
        if head is not None:
            return head
    return _earliest_open(session, record.sequence, record.order_key)


def _waiting_on(session: Session, request_id: str) -> Head | None:
    """How to wait for the open request `request_id`; None if it has just become final."""
    body = session.scalar(select(RequestRecord.body).where(RequestRecord.request_id == request_id))
    if session.get_bind().dialect.name != "postgresql":
        return Head(request_id, body or "", "retry")
    # Idle or being executed? Its transaction holds its row (FOR UPDATE) while it runs.
    idle = session.scalar(
        select(RequestRecord.request_id)
        .where(RequestRecord.request_id == request_id, RequestRecord.status.in_(OPEN_STATUSES))
        .with_for_update(read=True, skip_locked=True)
    )
    if idle is not None:
        return Head(request_id, body or "", "park")
    if _is_final(session, request_id):
        return None  # it finished between the two reads: look again
    return Head(request_id, body or "", "retry")


def _earliest_open(session: Session, sequence: int, key: str | None = None) -> Head | None:
    """The earliest open request before `sequence` (of the order `key`, or of all): waited
    for by a countdown."""
    query = (
        select(RequestRecord.request_id, RequestRecord.body)
        .where(RequestRecord.status.in_(OPEN_STATUSES), RequestRecord.sequence < sequence)
        .order_by(RequestRecord.sequence)
        .limit(1)
    )
    if key is not None:
        query = query.where(RequestRecord.order_key == key)
    row = session.execute(query).first()
    return None if row is None else Head(row.request_id, row.body, "retry")


def _is_final(session: Session, request_id: str) -> bool:
    status = session.scalar(
        select(RequestRecord.status)
        .where(RequestRecord.request_id == request_id)
        .execution_options(populate_existing=True)
    )
    return status not in OPEN_STATUSES


def park(record: RequestRecord) -> None:
    record.parked_at = utcnow()


def next_parked(session: Session, record: RequestRecord) -> RequestRecord | None:
    """The request to release when `record` (the head of its order) becomes final in this
    transaction: the next open request of its order, if it is parked (and now no longer).
    Nobody parks behind a head while its transaction runs (its row is locked), so what
    `head_before` saw parked at the start of the transaction is what is parked now."""
    if record.order_key is None or record.sequence is None:
        return None
    known = session.info.get(FOLLOWING, {})
    if record.request_id in known:
        seen = known.pop(record.request_id)
        if seen is None or not seen[1]:
            return None
        following = session.get(RequestRecord, seen[0])
    else:  # no gate in this transaction (a failure recorded on its own)
        following = session.scalars(
            select(RequestRecord)
            .where(
                RequestRecord.order_key == record.order_key,
                RequestRecord.status.in_(OPEN_STATUSES),
                RequestRecord.sequence > record.sequence,
            )
            .order_by(RequestRecord.sequence)
            .limit(1)
        ).first()
    if following is None or following.parked_at is None or following.is_final:
        return None
    following.parked_at = None
    return following


def retry_countdown(held: int) -> float:
    """The countdown before the `held`-th (0-based) look again at a running head."""
    return min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2.0**held)
