"""The embedded queue: kombu's in-memory broker and a worker thread in this process.

Why this and not kombu's SQLAlchemy or filesystem transport: those would let separate
processes share a queue without a server, but they poll, have no acknowledgements (a
message is gone once fetched) and leave broker state on disk to go stale between runs.
The embedded default serves one process (`docpost demo`, `docpost submit` without a broker),
where an in-memory queue is exact: nothing to configure, nothing left behind, and the
durable state (requests, outbox) is in the database anyway. The messages still go through
Celery with JSON serialization and the same task code as on Redis.

The worker uses the solo pool (tasks run in the worker thread, one at a time): no forking
inside a CLI process, and SQLite has one writer anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from celery.contrib.testing.worker import start_worker
from sqlalchemy.orm import Session, sessionmaker

from docpost.tasks.app import app, broker_is_embedded
from docpost.tasks.client import Handle, fan_out_ids, submit, wait_all


@contextmanager
def embedded_worker(loglevel: str = "WARNING") -> Iterator[None]:
    """A worker thread consuming the embedded broker's three queues until the block ends."""
    if not broker_is_embedded():
        raise RuntimeError("the embedded worker serves the embedded broker only")
    # start_worker is Celery's documented in-process worker; the ping check would need a
    # result backend, which this app does not use.
    with start_worker(
        app,
        pool="solo",
        concurrency=1,
        loglevel=loglevel,
        perform_ping_check=False,
        shutdown_timeout=60.0,
    ):
        yield


def run_in_order(
    requests: Iterable[dict[str, Any] | str],
    sessions: sessionmaker[Session],
    on_outcome: Callable[[dict[str, Any]], None],
    timeout: float | None = None,
    on_waiting: Callable[[dict[str, int]], None] | None = None,
) -> list[dict[str, Any]]:
    """Submit the requests one at a time, each after the previous one (and the requests it
    fanned out) is final: a file of requests often builds on itself (order, confirmation,
    packing slip...). Returns the outcomes in that order."""
    outcomes: list[dict[str, Any]] = []

    def settle(outcome: dict[str, Any]) -> None:
        outcomes.append(outcome)
        on_outcome(outcome)
        children = [Handle(c, sessions) for c in fan_out_ids(outcome)]
        done = wait_all(children, timeout, on_waiting=on_waiting)
        for child in sorted(done, key=lambda o: o["request_id"]):
            settle(child)

    for body in requests:
        settle(submit(body, sessions).wait(timeout, on_waiting))
    return outcomes
