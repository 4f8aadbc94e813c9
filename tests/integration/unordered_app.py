"""The worker app of the order-of-execution negative control (`celery -A
tests.integration.unordered_app worker`): tasks.app with the gate switched off, so that every
request runs as soon as a worker takes it, as before per-order ordering existed. No hook in
production code: pipeline.ordering.head_before is replaced when the worker starts."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_init

import pipeline.ordering as ordering
from tasks.app import app


@worker_init.connect
def _no_order_of_execution(**_: Any) -> None:
    ordering.head_before = lambda *_: None  # type: ignore[assignment]


__all__ = ["app"]
