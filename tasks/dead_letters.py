"""Messages the worker cannot decode or take as a task are kept as dead letters.

Celery's consumer handles such messages in four callbacks, and out of the box each one logs
and then acks or rejects the message, which on Redis deletes it: a 5,000-digit number (Python
refuses to parse integers beyond 4,300 digits), JSON nested 50,000 deep (RecursionError),
bytes that are not UTF-8, a body that is not JSON, a refused serializer (pickle) or an unknown
task name would vanish with a log line. `DeadLetterConsumer` (the worker's `worker_consumer`,
set in tasks.app) first stores the message (pipeline.dead_letters), then lets Celery go on
as before. A message that cannot be stored (the database is down) is put back on its queue
after a pause instead of being dropped.
"""

from __future__ import annotations

import logging
import time
from functools import cache
from typing import Any

from celery.worker.consumer import Consumer
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from pipeline.config import get_settings
from pipeline.db import make_engine
from pipeline.dead_letters import store_dead_letter

log = logging.getLogger(__name__)

# Between putting back a message that could not be stored and taking it again: the database
# is down, and the consumer must not spin on the same message meanwhile.
REQUEUE_PAUSE_SECONDS = 1.0


@cache
def _sessions(url: str) -> sessionmaker[Session]:
    # The worker's main process, not a pool process. No pooled connection: a pool process
    # forked later (max_tasks_per_child) must not inherit an open one, and dead letters are
    # rare enough to connect each time.
    return sessionmaker(make_engine(url, poolclass=NullPool), expire_on_commit=False)


def message_queue(message: Any) -> str:
    info = getattr(message, "delivery_info", None) or {}
    return str(info.get("routing_key") or info.get("exchange") or "?")


def message_task(message: Any) -> str | None:
    headers = getattr(message, "headers", None)
    task = headers.get("task") if isinstance(headers, dict) else None
    return task if isinstance(task, str) else None


def reason_of(what: str, exc: BaseException | None) -> str:
    if exc is None:
        return what
    # kombu wraps the parser's error (DecodeError(ValueError(...))): name the one that says why.
    cause = exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], BaseException) else exc
    return f"{what}: {type(cause).__name__}: {cause}"


def keep(message: Any, reason: str) -> bool:
    """Store the message as a dead letter; False when it could not be stored."""
    try:
        letter = store_dead_letter(
            _sessions(get_settings().database_url),
            queue=message_queue(message),
            reason=reason,
            raw=getattr(message, "body", None),
            task=message_task(message),
            content_type=getattr(message, "content_type", None),
        )
    except Exception:
        log.critical("could not keep a dead letter (%s); putting it back", reason, exc_info=True)
        return False
    log.error("dead letter %d kept (docpost dead-letters): %s", letter, reason)
    return True


def put_back(message: Any) -> None:
    time.sleep(REQUEUE_PAUSE_SECONDS)
    message.reject_log_error(log, (Exception,), requeue=True)


class DeadLetterConsumer(Consumer):  # type: ignore[misc]
    """Celery's consumer, keeping each message it would otherwise drop."""

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        if keep(message, reason_of("the body could not be decoded", exc)):
            super().on_decode_error(message, exc)
        else:
            put_back(message)

    def on_invalid_task(self, body: Any, message: Any, exc: Exception) -> None:
        if keep(message, reason_of("not a valid task message", exc)):
            super().on_invalid_task(body, message, exc)
        else:
            put_back(message)

    def on_unknown_message(self, body: Any, message: Any) -> None:
        if keep(message, "not a task message (no task name in its headers or body)"):
            super().on_unknown_message(body, message)
        else:
            put_back(message)

    def on_unknown_task(self, body: Any, message: Any, exc: Exception) -> None:
        if keep(message, f"unknown task {message_task(message)!r}"):
            super().on_unknown_task(body, message, exc)
        else:
            put_back(message)
