"""The worker app of the time-limit test (`celery -A tests.integration.slow_app worker`).

It is tasks.app, except that confirming an order whose number starts with SLOW_PREFIX takes a
minute: the service sleeps inside the request's transaction, holding the order's lock, as a
request too large for one task does. No hook in production code: the service table of
pipeline.runner.execute is wrapped here when the worker starts, before it forks its pool.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from celery.signals import worker_init

import docpost.pipeline.runner.execute
from docpost.tasks.app import app

SLOW_PREFIX = "SLOW-"

_confirm_order = docpost.pipeline.runner.execute.SERVICES["confirm_order"]


def _slow_confirm_order(uow: Any, cmd: Any) -> Any:
    if cmd.order.startswith(SLOW_PREFIX):
        time.sleep(60)  # the soft time limit interrupts this
    return _confirm_order(uow, cmd)


@worker_init.connect
def _slow_down_this_worker(**_: Any) -> None:
    # In the worker started as this app only. The test process imports this module for
    # SLOW_PREFIX, and an embedded worker started inside it later sends worker_init too:
    # wrapped there, the service table stayed changed for every later test of the run.
    if __name__ not in sys.argv:  # `celery -A tests.integration.slow_app worker`
        return
    docpost.pipeline.runner.execute.SERVICES["confirm_order"] = _slow_confirm_order


__all__ = ["SLOW_PREFIX", "app"]
