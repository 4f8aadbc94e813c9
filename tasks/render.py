"""The render task: one document's PDF, on the `documents` queue.

pipeline.documents.render_document is idempotent (a rendered document is left alone), so a
redelivered message costs a lookup. Deliveries are counted on the document row before
rendering, as requests count theirs, so that a document whose rendering kills the process
(WeasyPrint on a pathological input, the hard time limit) ends `failed` after
DOCPOST_MAX_ATTEMPTS deliveries instead of looping; the renderer is told not to count again.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from celery import Task
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.schema import Document
from docpost.tasks.app import app
from docpost.tasks.db import worker_sessions
from docpost.tasks.retry import backoff, is_transient, retry_later
from docpost.tasks.routing import DOCUMENTS as RENDER_QUEUE
from docpost.tasks.routing import RENDER_DOCUMENT

log = logging.getLogger(__name__)


def start_render_attempt(document_id: int, sessions: sessionmaker[Session]) -> int | None:
    """Count one delivery; None when there is nothing to render (done, failed or unknown)."""
    with sessions() as session, session.begin():
        document = session.get(Document, document_id, with_for_update=True)
        if document is None or document.status != "pending":
            return None
        document.attempts += 1
        return document.attempts


def keep_malformed(task: Task, document_id: Any, sessions: sessionmaker[Session]) -> None:
    from docpost.pipeline.dead_letters import store_dead_letter

    reason = f"render_document needs a document id (a positive integer), got {document_id!r}"
    log.error("%s; kept as a dead letter", reason[:300])
    store_dead_letter(
        sessions,
        queue=RENDER_QUEUE,
        task=RENDER_DOCUMENT,
        content_type="application/json",
        reason=reason,
        raw=json.dumps({"args": task.request.args, "kwargs": task.request.kwargs}, default=repr),
    )


def mark_render_failed(document_id: int, error: str, sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        document = session.get(Document, document_id, with_for_update=True)
        if document is not None and document.status == "pending":
            # An exception's text may hold NUL, which PostgreSQL text refuses.
            document.status, document.error = "failed", error[:2000].replace("\x00", "\\x00")


def is_document_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


@app.task(name=RENDER_DOCUMENT, bind=True, max_retries=None)
def render_document(self: Task, document_id: Any) -> None:
    # Imported here: only processes that render should load the renderer (and WeasyPrint).
    from docpost.pipeline.documents import DocumentNotFound
    from docpost.pipeline.documents import render_document as render

    sessions = worker_sessions()
    max_attempts = get_settings().max_attempts
    if not is_document_id(document_id):
        # No row to count deliveries on: looked up, such an id failed the lookup on every
        # delivery (PostgreSQL: "invalid input syntax for type integer") and was retried for
        # ever. Kept as a dead letter instead.
        keep_malformed(self, document_id, sessions)
        return
    attempts: int | None = None
    try:
        attempts = start_render_attempt(document_id, sessions)
        if attempts is None:
            return
        if attempts > max_attempts:
            mark_render_failed(
                document_id,
                f"rendering was started {attempts - 1} times without finishing; given up",
                sessions,
            )
            return
        render(sessions, document_id, count_attempt=False)
    except DocumentNotFound:
        log.warning("document %s does not exist; nothing to render", document_id)
    except Exception as exc:
        retry_or_fail(self, exc, document_id, attempts, max_attempts, sessions)


def retry_or_fail(
    task: Task,
    exc: Exception,
    document_id: int,
    attempts: int | None,
    max_attempts: int,
    sessions: sessionmaker[Session],
) -> None:
    """After a failed delivery: retry while attempts remain, else mark the document failed.

    Any failure is retried, not only transient ones: rendering writes nothing but the
    document row, and the renderer has already kept the error text (and marked the document
    failed on the last attempt)."""
    if attempts is None:
        # The delivery could not even be counted (the database is unreachable): retry a few
        # times, then leave the document pending. Without a count there is no limit, and this
        # used to retry for ever; the recovery sweep sends it again later.
        if task.request.retries + 1 < max_attempts:
            raise retry_later(task, exc, backoff(task.request.retries + 1)) from exc
        log.error(
            "document %s: delivery could not be counted %d times (%s: %s); left pending "
            "for the recovery sweep",
            document_id,
            max_attempts,
            exc.__class__.__name__,
            exc,
        )
        return
    if attempts < max_attempts:
        raise retry_later(task, exc, backoff(attempts)) from exc
    log.exception("document %s could not be rendered", document_id)
    try:
        mark_render_failed(document_id, f"{exc.__class__.__name__}: {exc}", sessions)
    except Exception as write_error:
        if not is_transient(write_error):
            raise
        raise retry_later(task, write_error, backoff(attempts)) from None
