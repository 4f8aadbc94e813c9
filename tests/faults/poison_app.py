"""The worker app of the poison-message test (`celery -A tests.faults.poison_app worker`).

It is tasks.app, except that a pool process executing a request whose id starts with
POISON_PREFIX dies on the spot (os._exit), as a process does that a request crashes (a fault
in a C library, the OOM killer). No hook in production code: the request task's reference to
pipeline.runner.execute.run_request is wrapped here when the worker starts, before it forks its pool.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from celery.signals import worker_init

import docpost.tasks.execute as request_task
from docpost.tasks.app import app

POISON_PREFIX = "poison-"

_run_request = request_task.run_request


def _deadly_run_request(raw: Any, sessions: Any, **options: Any) -> Any:
    request_id = raw.get("request_id") if isinstance(raw, dict) else None
    if isinstance(request_id, str) and request_id.startswith(POISON_PREFIX):
        os._exit(1)
    return _run_request(raw, sessions, **options)


@worker_init.connect
def _poison_this_worker(**_: Any) -> None:
    # In the worker started as this app only (its pool processes fork after this). The test
    # process imports this module for POISON_PREFIX and must keep the real run_request, and
    # an embedded worker started inside it later sends worker_init too: poisoned there, a
    # later test's request named poison-... ended the whole pytest run with exit 1.
    if __name__ not in sys.argv:  # `celery -A tests.faults.poison_app worker`
        return
    request_task.run_request = _deadly_run_request  # type: ignore[assignment]


__all__ = ["POISON_PREFIX", "app"]
