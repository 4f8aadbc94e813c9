"""Follow-up requests: the requests a request wrote to the outbox, and how they run.

Two kinds of outbox message carry requests:

- `execute_request`: one request, run on its own (a request released by the earlier request
  of its order; bulk invoicing's invoices as versions before `invoice_batch` wrote them).
- `invoice_batch`: bulk invoicing's invoice requests, run together in one transaction
  (`run_invoice_batch`). If the batch fails, each request runs on its own instead, where it
  is counted, retried and ended by itself: the one that broke the batch is told apart.

The queue (tasks.relay publishes the messages, tasks.execute runs them) and `docpost run`
(in this process, `run_follow_ups`) both follow this policy through `invoice_batch_or_each`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.outbox import drain_inline
from docpost.pipeline.runner.execute import BatchExecuted, execute_or_fail, run_invoice_batch

log = logging.getLogger(__name__)

EXECUTE_REQUEST = "execute_request"
INVOICE_BATCH = "invoice_batch"

Bodies = Sequence[dict[str, Any]]


def invoice_batch_or_each(
    bodies: Bodies,
    sessions: sessionmaker[Session],
    each: Callable[[dict[str, Any]], Any],
    *,
    run_batch: Callable[[Bodies, sessionmaker[Session]], BatchExecuted] | None = None,
    retry: Callable[[Exception], None] | None = None,
) -> BatchExecuted | None:
    """Run the invoice requests as one batch (`run_batch`, by default `run_invoice_batch`);
    if it fails, hand each request to `each`. Returns the batch's run, or None when the
    requests went to `each`. `retry` sees the batch's error first and may raise to try the
    batch again later instead (the queue does for a passing fault)."""
    try:
        return (run_batch or run_invoice_batch)(bodies, sessions)
    except Exception as exc:
        if retry is not None:
            retry(exc)
        log.warning("invoice batch failed; its requests run one by one", exc_info=True)
        for body in bodies:
            each(body)
        return None


def run_follow_ups(
    sessions: sessionmaker[Session], on_outcome: Callable[[dict[str, Any]], None]
) -> None:
    """In this process, with no queue: run every follow-up request the outbox holds, until
    none is left (a follow-up may write more), each request ending as `execute_or_fail` ends
    it. `on_outcome` gets each outcome as it is known."""

    def one(body: str | dict[str, Any]) -> None:
        on_outcome(execute_or_fail(body, sessions))

    def batch(bodies: Bodies) -> None:
        done = invoice_batch_or_each(bodies, sessions, one)
        for outcome in done.outcomes if done is not None else []:
            on_outcome(outcome)

    drain_inline(
        sessions,
        {
            EXECUTE_REQUEST: lambda payload: one(payload["body"]),
            INVOICE_BATCH: lambda payload: batch(payload["bodies"]),
        },
    )
