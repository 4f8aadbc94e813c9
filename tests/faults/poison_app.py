"""The worker app of the poison-message test (`celery -A tests.faults.poison_app worker`).

It is tasks.app, except that a pool process executing a request whose id starts with
POISON_PREFIX dies on the spot (os._exit), as a process does that a request crashes (a fault
in a C library, the OOM killer). No hook in production code: the request task's reference to
pipeline.execute.execute is wrapped here, before the worker forks its pool.
"""

from __future__ import annotations

import os
from typing import Any

import tasks.execute as request_task
from tasks.app import app

POISON_PREFIX = "poison-"

_execute = request_task.execute


def _deadly_execute(raw: Any, sessions: Any) -> dict[str, Any]:
    request_id = raw.get("request_id") if isinstance(raw, dict) else None
    if isinstance(request_id, str) and request_id.startswith(POISON_PREFIX):
        os._exit(1)
    return _execute(raw, sessions)


request_task.execute = _deadly_execute  # type: ignore[assignment]

__all__ = ["POISON_PREFIX", "app"]
