"""Messages the worker cannot decode or take as a task are kept as dead letters.

Celery's consumer handles such messages in four callbacks, and out of the box each one logs
and then acks or rejects the message, which on Redis deletes it: a 5,000-digit number (Python
refuses to parse integers beyond 4,300 digits), JSON nested 50,000 deep (RecursionError),
bytes that are not UTF-8, a body that is not JSON, a refused serializer (pickle) or an unknown
task name would vanish with a log line. `DeadLetterConsumer` (the worker's `worker_consumer`,
set in tasks.app) first stores the message (pipeline.dead_letters), then lets Celery go on
as before. A message that cannot be stored (the database is down) is put back on its queue
after a pause instead of being dropped.

One kind of bad message never reaches those callbacks: an item on a Redis queue that is not
a kombu envelope at all (text pushed with LPUSH by something that is not a Celery client).
kombu's Redis channel parses it in its event loop, and the parse error stopped the whole
worker ("Unrecoverable error: JSONDecodeError") after the item had been popped: the worker
died and the item was gone. The consumer's channel (`keeping_channel`) hands such an item on
as a stand-in message holding its raw bytes, which then takes the dead-letter path above.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from functools import cache
from typing import Any

from celery.worker.consumer import Consumer
from kombu.exceptions import ContentDisallowed
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import make_engine
from docpost.pipeline.dead_letters import store_dead_letter

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


# A stand-in for a queue item that is not a message envelope: its raw bytes as the body, and
# the reason in a header. No serializer accepts the content type, so Celery's consumer calls
# on_decode_error with it.
STAND_IN_CONTENT_TYPE = "application/x-docpost-not-an-envelope"
REASON_HEADER = "x-docpost-dead-letter"


def envelope_of(item: bytes | str, queue: str) -> dict[str, Any]:
    """The kombu envelope an item of a Redis queue holds, or a stand-in that keeps the item."""
    try:
        envelope = loads(bytes_to_str(item))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return stand_in(item, queue, f"not a message envelope (not JSON: {reason})")
    properties = envelope.get("properties") if isinstance(envelope, dict) else None
    if not isinstance(properties, dict) or "delivery_tag" not in properties:
        return stand_in(item, queue, "not a message envelope (no properties with a delivery tag)")
    return envelope


def stand_in(item: bytes | str, queue: str, reason: str) -> dict[str, Any]:
    raw = item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item
    return {
        "body": base64.b64encode(raw).decode("ascii"),
        "content-encoding": "binary",
        "content-type": STAND_IN_CONTENT_TYPE,
        "headers": {REASON_HEADER: reason[:1000]},
        "properties": {
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
            "delivery_info": {"exchange": "", "routing_key": queue},
            "delivery_mode": 2,
            "priority": 0,
        },
    }


def keeping_channel(base: type) -> type:
    """kombu's Redis channel (5.x), reading each popped item with `envelope_of`."""
    from kombu.transport.redis import Empty

    if getattr(base, "keeps_dead_letters", False):
        return base  # a reconnect on the same transport

    class KeepingChannel(base):  # type: ignore[misc, valid-type]
        keeps_dead_letters = True

        def _brpop_read(self, **options: Any) -> bool:
            # kombu.transport.redis.Channel._brpop_read, but for the parse of the item.
            try:
                try:
                    dest__item = self.client.parse_response(
                        self.client.connection, "BRPOP", **options
                    )
                except self.connection_errors:
                    self.client.connection.disconnect()
                    raise
                if not dest__item:
                    raise Empty()
                dest, item = dest__item
                dest = bytes_to_str(dest).rsplit(self.sep, 1)[0]
                self._queue_cycle.rotate(dest)
                self.connection._deliver(envelope_of(item, dest), dest)
                return True
            finally:
                self._in_poll = None
                flush = getattr(self, "_flush_brpop_reauth", None)
                if flush is not None:
                    flush()

    return KeepingChannel


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

    def connection_for_read(self, heartbeat: Any = None) -> Any:
        connection = self.app.connection_for_read(heartbeat=heartbeat)
        from kombu.transport.redis import Transport as RedisTransport

        transport = connection.transport
        if isinstance(transport, RedisTransport):
            # Before the connection is established: it creates its first channel then.
            transport.Channel = keeping_channel(transport.Channel)
        return self.ensure_connected(connection)

    def on_decode_error(self, message: Any, exc: Exception) -> None:
        headers = getattr(message, "headers", None) or {}
        if isinstance(exc, ContentDisallowed) and REASON_HEADER in headers:
            reason = str(headers[REASON_HEADER])  # a stand-in (envelope_of)
        else:
            reason = reason_of("the body could not be decoded", exc)
        if keep(message, reason):
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
