"""Recovery: publish again what the broker lost (CONTRACT.md "Nothing accepted is lost").

A request once `queued` must reach a final status even if the broker loses its message (a
restart without persistence, a flushed or deleted queue), and so must a document's render.
Beat runs `recover_lost` every minute at most: requests still `queued` and documents still
`pending` whose last publish is older than DOCPOST_REPUBLISH_AFTER are published again, and
the time is recorded (`published_at`) so that each is sent again once per grace period, not
on every sweep. The first publish is not written down: it follows the commit that created
the row at once, so `created_at` stands for it and the posting path pays nothing.

A request `running` (counted as delivered, not final) whose message was lost is published
again too, but only when its last publish is older than the broker's visibility timeout plus
the grace period: until then Redis itself hands an unacknowledged message out again.

A duplicate of a message that was only late is harmless: a request runs once by its
request_id, a document renders once by its status. Rows are taken in batches locked with
SKIP LOCKED, like the outbox relay, so sweeps side by side take different rows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from docpost.schema import Document, RequestRecord
from docpost.schema.types import utcnow
from docpost.tasks.app import app
from docpost.tasks.config import get_queue_settings
from docpost.tasks.db import worker_sessions
from docpost.tasks.publish import publish_render, publish_request
from docpost.tasks.schedule import RECOVER_LOST

log = logging.getLogger(__name__)

BATCH = 100
# At most this many of each per sweep: a backlog older than the grace period (messages that
# wait, not lost ones) is sent again a slice at a time, not all at once.
SWEEP_LIMIT = 1000
# Request ids of bulk invoicing's invoices (pipeline.services.bulk.invoice_request): they
# go back to the `bulk` queue they were first sent to.
FAN_OUT_PREFIX = "bulk-invoice:"


@dataclass(frozen=True)
class Cutoffs:
    """Rows whose last publish is before these are overdue."""

    queued: dt.datetime
    running: dt.datetime

    @classmethod
    def at(cls, now: dt.datetime, republish_after: float, visibility_timeout: float) -> Cutoffs:
        grace = dt.timedelta(seconds=republish_after)
        return cls(now - grace, now - grace - dt.timedelta(seconds=visibility_timeout))

    @classmethod
    def now(cls) -> Cutoffs:
        queue = get_queue_settings()
        return cls.at(utcnow(), queue.republish_after, queue.visibility_timeout)


def _last_publish_before(model: Any, cutoff: dt.datetime) -> Any:
    # published_at is never before created_at, so this is "coalesce(published_at,
    # created_at) < cutoff" in a form the partial index on created_at serves.
    return and_(
        model.created_at < cutoff,
        or_(model.published_at.is_(None), model.published_at < cutoff),
    )


def overdue_requests(cutoffs: Cutoffs) -> Any:
    return or_(
        and_(RequestRecord.status == "queued", _last_publish_before(RequestRecord, cutoffs.queued)),
        and_(
            RequestRecord.status == "running", _last_publish_before(RequestRecord, cutoffs.running)
        ),
    )


def overdue_documents(cutoffs: Cutoffs) -> Any:
    return and_(Document.status == "pending", _last_publish_before(Document, cutoffs.queued))


def count_overdue(session: Session, cutoffs: Cutoffs) -> dict[str, int]:
    """What /health reports: requests and documents the sweep would send again now."""
    requests = session.scalar(
        select(func.count()).select_from(RequestRecord).where(overdue_requests(cutoffs))
    )
    documents = session.scalar(
        select(func.count()).select_from(Document).where(overdue_documents(cutoffs))
    )
    return {"queued_overdue": int(requests or 0), "pending_documents_overdue": int(documents or 0)}


def republish_body(request_id: str, body: str) -> None:
    publish_request(json.loads(body), fan_out=request_id.startswith(FAN_OUT_PREFIX))


def republish_requests(
    sessions: sessionmaker[Session], cutoffs: Cutoffs, limit: int = SWEEP_LIMIT
) -> int:
    """Publish overdue requests again; returns how many were sent. A failed send ends the
    sweep with that error after the rows sent before it are marked."""
    sent_total = 0
    while sent_total < limit:
        error: Exception | None = None
        with sessions() as session, session.begin():
            rows = session.execute(
                select(RequestRecord.request_id, RequestRecord.body)
                .where(overdue_requests(cutoffs))
                .order_by(RequestRecord.created_at)
                .limit(min(BATCH, limit - sent_total))
                .with_for_update(skip_locked=True)
            ).all()
            sent: list[str] = []
            for request_id, body in rows:
                try:
                    republish_body(request_id, body)
                except Exception as exc:
                    error = exc
                    break
                sent.append(request_id)
            if sent:
                session.execute(
                    update(RequestRecord)
                    .where(RequestRecord.request_id.in_(sent))
                    .values(published_at=utcnow())
                )
        sent_total += len(sent)
        if error is not None:
            raise error
        if len(rows) < BATCH:
            return sent_total
    return sent_total


def republish_documents(
    sessions: sessionmaker[Session], cutoffs: Cutoffs, limit: int = SWEEP_LIMIT
) -> int:
    """Publish the renders of overdue documents again; returns how many were sent."""
    sent_total = 0
    while sent_total < limit:
        error: Exception | None = None
        with sessions() as session, session.begin():
            ids = list(
                session.scalars(
                    select(Document.id)
                    .where(overdue_documents(cutoffs))
                    .order_by(Document.id)
                    .limit(min(BATCH, limit - sent_total))
                    .with_for_update(skip_locked=True)
                )
            )
            sent: list[int] = []
            for document_id in ids:
                try:
                    publish_render(document_id)
                except Exception as exc:
                    error = exc
                    break
                sent.append(document_id)
            if sent:
                session.execute(
                    update(Document).where(Document.id.in_(sent)).values(published_at=utcnow())
                )
        sent_total += len(sent)
        if error is not None:
            raise error
        if len(ids) < BATCH:
            return sent_total
    return sent_total


def recover(sessions: sessionmaker[Session], cutoffs: Cutoffs | None = None) -> dict[str, int]:
    """One sweep: overdue requests, then overdue documents."""
    cutoffs = cutoffs or Cutoffs.now()
    requests = republish_requests(sessions, cutoffs)
    documents = republish_documents(sessions, cutoffs)
    if requests or documents:
        log.warning(
            "recovery: published %d request(s) and %d document render(s) again, their "
            "messages overdue by DOCPOST_REPUBLISH_AFTER",
            requests,
            documents,
        )
    return {"requests": requests, "documents": documents}


@app.task(name=RECOVER_LOST)
def recover_lost() -> dict[str, int]:
    """Beat's recovery sweep."""
    return recover(worker_sessions())
