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

The same channel closes a window where kombu's Redis transport loses a message: BRPOP takes
the item off its queue, and only then does a second command record it as unacknowledged. When
the broker goes away in between (a restart), that command fails, and the item was in neither
place: gone, with its document left `pending` (seen in tests/faults/test_server_restarts.py).
The channel keeps such an item in the worker's memory (`HeldDeliveries`) and puts it back at
the head of its queue before its next BRPOP, once the broker answers again. What this cannot
cover (the worker dying while it holds one, or Redis popping an item whose reply it never
sent) is left to the recovery sweep (tasks.recovery), as for any lost message.
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


# A broker as the held deliveries know it: its URL (no password) and the key prefix.
Broker = tuple[str, str]


class HeldDeliveries:
    """Items popped from a queue whose delivery could not be recorded, per broker (its URL and
    key prefix), until a channel of the same broker puts them back. Module-wide, not per
    channel: the worker reconnects on a new connection, transport and channel."""

    def __init__(self) -> None:
        self._held: dict[Broker, list[tuple[dict[str, Any], str, str]]] = {}

    def hold(self, broker: Broker, payload: dict[str, Any], exchange: str, key: str) -> None:
        self._held.setdefault(broker, []).append((payload, exchange, key))

    def count(self, broker: Broker | None = None) -> int:
        if broker is None:
            return sum(len(items) for items in self._held.values())
        return len(self._held.get(broker, ()))

    def put_back(self, broker: Broker, restore: Any) -> int:
        """Hand each held item to `restore(payload, exchange, routing_key)` (which pushes it
        to the head of its queue), oldest first; an item leaves only once restored. Returns
        how many were put back; a failure leaves the rest held and is raised."""
        items = self._held.get(broker) or []
        done = 0
        while items:
            payload, exchange, routing_key = items[0]
            restore(payload, exchange, routing_key)
            items.pop(0)
            done += 1
        return done


HELD = HeldDeliveries()


def broker_of(channel: Any) -> Broker:
    client = getattr(channel.connection, "client", None)
    uri = client.as_uri() if client is not None else "?"
    return uri, str(getattr(channel, "global_keyprefix", "") or "")


def keeping_qos(base: type) -> type:
    """kombu's Redis QoS, holding a popped message whose delivery it could not record."""

    class KeepingQoS(base):  # type: ignore[misc, valid-type]
        def append(self, message: Any, delivery_tag: Any) -> None:
            try:
                super().append(message, delivery_tag)
            except self.channel.connection_errors:
                # BRPOP has taken it off the queue; the unacked hash does not have it.
                delivery = message.delivery_info or {}
                HELD.hold(
                    broker_of(self.channel),
                    message._raw,
                    delivery.get("exchange", ""),
                    delivery.get("routing_key", ""),
                )
                log.warning(
                    "broker lost while recording delivery %s (task %s): held, to be put back "
                    "on its queue when the broker answers",
                    delivery_tag,
                    message_task(message),
                )
                raise

    return KeepingQoS


def put_back_held(channel: Any) -> int:
    """Push the items held for the channel's broker back to the head of their queues. A
    broker still unreachable leaves them held (the BRPOP that follows fails too)."""
    if not HELD.count():
        return 0  # the usual case, before every BRPOP: nothing held anywhere
    broker = broker_of(channel)
    if not HELD.count(broker):
        return 0

    def restore(payload: dict[str, Any], exchange: str, routing_key: str) -> None:
        # As kombu restores an unacknowledged message: marked redelivered, to the head.
        with channel.conn_or_acquire() as client:
            pipe = client.pipeline()
            channel._do_restore_message(payload, exchange, routing_key, pipe)
            pipe.execute()

    try:
        done = HELD.put_back(broker, restore)
    except channel.connection_errors:
        log.warning("putting back %d held delivery(ies) failed; kept", HELD.count(broker))
        return 0
    log.warning("put back %d delivery(ies) held over a broker outage", done)
    return done


def keeping_channel(base: type) -> type:
    """kombu's Redis channel (5.x), reading each popped item with `envelope_of` and keeping
    an item whose delivery could not be recorded (`keeping_qos`)."""
    from kombu.transport.redis import Empty

    if getattr(base, "keeps_dead_letters", False):
        return base  # a reconnect on the same transport

    class KeepingChannel(base):  # type: ignore[misc, valid-type]
        keeps_dead_letters = True
        QoS = keeping_qos(base.QoS)

        def _brpop_start(self, timeout: Any = None) -> None:
            self.put_back_held()
            super()._brpop_start(timeout)

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

        def put_back_held(self) -> int:
            return put_back_held(self)

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
