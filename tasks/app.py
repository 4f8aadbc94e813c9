"""The Celery app: `docpost worker`, or `celery -A docpost.tasks.app worker` directly.

Configured from DOCPOST_* settings (tasks.config). With no DOCPOST_BROKER_URL the broker is
the embedded in-memory one, which only a worker thread in the same process can consume
(`docpost demo`, `docpost submit` without a broker: see tasks.embedded).
"""

from __future__ import annotations

from typing import Any

import kombu.pools
from celery import Celery
from celery.signals import celeryd_init

from docpost.pipeline.config import Settings, get_settings
from docpost.tasks.config import QueueSettings, celery_config, get_queue_settings
from docpost.tasks.routing import DOCUMENTS

app = Celery(
    "docpost",
    include=[
        "docpost.tasks.execute",
        "docpost.tasks.render",
        "docpost.tasks.relay",
        "docpost.tasks.recovery",
    ],
)


def configure(settings: Settings | None = None, queue: QueueSettings | None = None) -> None:
    """(Re)read the configuration, e.g. after changing DOCPOST_* variables in tests. Pooled
    broker connections are dropped so the next publish uses the new broker."""
    app.conf.update(celery_config(settings or get_settings(), queue or get_queue_settings()))
    # Messages the worker cannot decode are kept as dead letters, not dropped (CONTRACT.md
    # "Nothing accepted is lost"): Celery's consumer with its drop callbacks extended.
    app.conf.worker_consumer = "docpost.tasks.dead_letters:DeadLetterConsumer"
    if app._pool is not None:
        # kombu keeps the pools in process-wide registries keyed by broker URL: reset them
        # all, or a later lookup of the same URL would hand out the pool closed here.
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None


def broker_is_embedded() -> bool:
    return str(app.conf.broker_url).startswith("memory://")


@celeryd_init.connect
def _recycle_render_processes(conf: Any = None, options: Any = None, **_: Any) -> None:
    """Workers that consume `documents` replace each pool process after N tasks: WeasyPrint's
    font and image caches only grow. Celery has no per-queue setting, so it is decided here
    from the worker's queues; a worker given only -Q posting,bulk keeps its processes."""
    options = options or {}
    queues = options.get("queues") or []
    if isinstance(queues, str):
        queues = queues.split(",")
    consumes_documents = not queues or DOCUMENTS in queues
    if conf is not None and consumes_documents and not options.get("max_tasks_per_child"):
        conf.worker_max_tasks_per_child = get_queue_settings().render_max_tasks_per_child


configure()
