"""The transactional outbox: follow-up tasks written by a posting, published after commit.

A message is marked published only after its handler returned, so a crash in between
publishes it again: handlers must be idempotent (requests are, by request_id; renders are,
by the document's status).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.orm import Session, sessionmaker

from docpost.schema import OutboxMessage
from docpost.schema.types import utcnow

Handler = Callable[[dict[str, Any]], Any]


def pending_messages(
    session: Session, tasks: set[str], limit: int, lock: bool = False
) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.published_at.is_(None), OutboxMessage.task.in_(tasks))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if lock:
        # Several relays may sweep at once: each takes rows the others have not locked.
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


_outbox = OutboxMessage.__table__
# Built once: building the statement costs about as much as running it.
_MARK_PUBLISHED = (
    update(_outbox)
    .where(_outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(published_at=bindparam("at", type_=_outbox.c.published_at.type))
)


def mark_published(session: Session, ids: list[int]) -> None:
    session.execute(_MARK_PUBLISHED, {"ids": ids, "at": utcnow()})


def mark_published_by_id(engine: Engine, ids: list[int]) -> None:
    """`mark_published` in a transaction of its own on the engine's connection, without an ORM
    session: after every posting (tasks.relay.relay_written) the session's set-up and
    bookkeeping were twice the cost of the one UPDATE (issue 19)."""
    if not ids:
        return
    with engine.begin() as connection:
        connection.execute(_MARK_PUBLISHED, {"ids": ids, "at": utcnow()})


def drain_inline(
    sessions: sessionmaker[Session], handlers: Mapping[str, Handler], batch: int = 100
) -> int:
    """Run every unpublished message of the given tasks in this process, until none is left
    (a handler may write new messages, as bulk invoicing's requests do)."""
    done = 0
    while True:
        with sessions() as session, session.begin():
            messages = [
                (m.id, m.task, m.payload) for m in pending_messages(session, set(handlers), batch)
            ]
        if not messages:
            return done
        for message_id, task, payload in messages:
            handlers[task](payload)
            with sessions() as session, session.begin():
                mark_published(session, [message_id])
            done += 1
