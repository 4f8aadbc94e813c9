"""The worker app of the order-of-execution negative control (`celery -A
tests.integration.unordered_app worker`): tasks.app with the gate switched off, so that every
request runs as soon as a worker takes it, as before per-order ordering existed.

So that the disorder does not depend on the machine's load, an order's first two steps
(upsert_order, confirm_order) take SLOW_SECONDS longer here, as a busy database would make
them: a packing slip taken meanwhile by another process runs before they commit. No hook in
production code: both are patched when the worker starts, before it forks its pool."""

from __future__ import annotations

import time
from typing import Any

from celery.signals import worker_init

import docpost.pipeline.runner.ordering as ordering
import docpost.tasks.execute as request_task
from docpost.tasks.app import app

SLOW_SECONDS = 0.5
SLOW_KINDS = ("upsert_order", "confirm_order")

_run_request = request_task.run_request


def _slow_run_request(raw: Any, sessions: Any, **options: Any) -> Any:
    if isinstance(raw, dict) and raw.get("kind") in SLOW_KINDS:
        time.sleep(SLOW_SECONDS)
    return _run_request(raw, sessions, **options)


@worker_init.connect
def _no_order_of_execution(**_: Any) -> None:
    ordering.head_before = lambda *_: None  # type: ignore[assignment]
    request_task.run_request = _slow_run_request  # type: ignore[assignment]


__all__ = ["app"]
