"""Which failures a fresh attempt may cure, and how long to wait before it.

Transient: the database or the broker could not be reached, PostgreSQL chose this
transaction as a deadlock victim (40P01) or could not serialise it (40001), a race on a
unique key outlived pipeline.runner.execute's own retries, or the soft time limit hit. Anything
else is a fault a retry will only repeat: the request ends as `failed` right away.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import kombu.exceptions
import redis.exceptions
from billiard.exceptions import SoftTimeLimitExceeded
from celery import Task
from celery.exceptions import Reject
from sqlalchemy import exc as sa_exc

# SQLSTATEs PostgreSQL asks the client to retry: serialization_failure, deadlock_detected.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})

BACKOFF_BASE_SECONDS = 1.0
# Short on purpose: a retry waits in the worker's memory (unacked) until its countdown ends,
# which must stay far below the broker's visibility timeout; long waits belong to beat.
BACKOFF_CAP_SECONDS = 30.0


def sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "pgcode", None) or getattr(exc, "pgcode", None)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, SoftTimeLimitExceeded):
        return True
    if sqlstate(exc) in RETRY_SQLSTATES:
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        # OperationalError: connection lost or refused, SQLite "database is locked";
        # InterfaceError: the connection was closed under us; IntegrityError: a unique-key
        # race that pipeline.runner.execute already retried and that a later attempt resolves.
        return exc.connection_invalidated or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.IntegrityError
        )
    # TimeoutError: no pooled database connection became free in time.
    return isinstance(
        exc,
        sa_exc.TimeoutError
        | redis.exceptions.ConnectionError
        | redis.exceptions.TimeoutError
        | kombu.exceptions.OperationalError
        | ConnectionError
        | TimeoutError,
    )


def backoff(
    attempt: int,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds before attempt `attempt + 1`: exponential, capped, with half of it random so
    that workers that failed together (a deadlock's two sides) do not retry together."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + rand() * ceiling / 2


def retry_later(task: Task, exc: BaseException, countdown: float) -> BaseException:
    """`task.retry(exc=exc, countdown=countdown)`, except that a retry Celery could not publish
    puts the message back instead of dropping it.

    Celery answers a failed retry publish (the broker is down; the publish gives up after
    task_publish_retry_policy's ~6 s) with Reject(requeue=False), and the worker then deletes
    the message. When the broker is back by then (a restart longer than the publish retries),
    the delete succeeds: the render or request was in neither the queue nor the unacked record,
    and stayed `pending` or `queued` until the recovery sweep. A requeue keeps it: put back on
    its queue, or, with the broker still down, left unacknowledged for the broker to hand out
    again after its visibility timeout. Raises; the return type is for `raise retry_later(...)`.
    """
    try:
        return task.retry(exc=exc, countdown=countdown)
    except Reject as reject:
        if reject.requeue:
            raise
        raise Reject(reject.reason, requeue=True) from reject
