"""The transactional outbox relay: publish what postings wrote to the outbox.

A posting writes its follow-up messages (render a document, execute a fan-out request) in its
own transaction. After it commits, the executing task publishes the rows it wrote at once;
beat's sweep relays whatever a crash or a broker outage left behind. Rows are locked with
SKIP LOCKED so relays running side by side take different rows, and each is marked published
only after its send succeeded: delivery is at least once, and the consumers are idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.outbox import mark_published, mark_published_by_id, pending_messages
from docpost.schema import OutboxMessage
from docpost.tasks.app import app
from docpost.tasks.db import worker_sessions
from docpost.tasks.publish import publish_invoice_batch, publish_render, publish_request
from docpost.tasks.routing import RELAY_OUTBOX

log = logging.getLogger(__name__)

RELAYED_TASKS = frozenset({"execute_request", "invoice_batch", "render_document"})
BATCH = 100


def publish_outbox_message(task: str, payload: dict[str, Any]) -> None:
    if task == "execute_request":
        # Bulk invoicing's children one by one, as versions before invoice_batch wrote them:
        # an upgraded installation may still hold such rows. Fan-out goes to `bulk`. A
        # request released by the earlier request of its order (pipeline.runner.ordering) says
        # `fan_out: false` and goes to its own queue.
        publish_request(payload["body"], fan_out=payload.get("fan_out", True))
    elif task == "invoice_batch":
        publish_invoice_batch(payload["bodies"])
    elif task == "render_document":
        publish_render(payload["document_id"])
    else:
        raise ValueError(f"no relay for outbox task {task!r}")


def relay_outbox(sessions: sessionmaker[Session], batch: int = BATCH) -> int:
    """Publish every unpublished outbox row; returns how many were sent. A failed send ends
    the relay with that error after the rows sent before it are marked published."""
    sent_total = 0
    while True:
        error: Exception | None = None
        with sessions() as session, session.begin():
            messages = pending_messages(session, set(RELAYED_TASKS), batch, lock=True)
            sent: list[int] = []
            for message in messages:
                try:
                    publish_outbox_message(message.task, message.payload)
                except Exception as exc:
                    error = exc
                    break
                sent.append(message.id)
            if sent:
                mark_published(session, sent)
        sent_total += len(sent)
        if error is not None:
            raise error
        if len(messages) < batch:
            return sent_total


def relay_written(sessions: sessionmaker[Session], messages: Sequence[OutboxMessage]) -> None:
    """Right after a request committed: publish the outbox rows it wrote (known by id) and
    mark them, without reading the outbox. A large fan-out (bulk invoicing) goes through the
    batched relay. A failure here must not fail the request, which has committed: the sweep
    publishes whatever is left unmarked."""
    if not messages:
        return
    if len(messages) > BATCH:
        relay_quietly(sessions)
        return
    sent: list[int] = []
    try:
        for message in messages:
            publish_outbox_message(message.task, message.payload)
            sent.append(message.id)
    except Exception:
        log.warning("publishing after commit failed; the sweep will publish later", exc_info=True)
    if not sent:
        return
    try:
        engine = sessions.kw.get("bind")
        if isinstance(engine, Engine):
            mark_published_by_id(engine, sent)
        else:  # a session factory without one engine: through a session
            with sessions() as session, session.begin():
                mark_published(session, sent)
    except Exception:
        # Sent but not marked: the sweep sends them again, which consumers take as a repeat.
        log.warning("marking published outbox rows failed", exc_info=True)


def relay_quietly(sessions: sessionmaker[Session]) -> None:
    """The relay right after a posting: its failure must not fail the posting (which has
    committed); the sweep publishes the rows later."""
    try:
        relay_outbox(sessions)
    except Exception:
        log.warning("outbox relay failed; the periodic sweep will publish later", exc_info=True)


@app.task(name=RELAY_OUTBOX)
def sweep_outbox() -> int:
    """Beat's periodic sweep."""
    return relay_outbox(worker_sessions())
