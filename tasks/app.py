"""The Celery app: `docpost worker`, or `celery -A docpost.tasks.app worker` directly.

Configured from DOCPOST_* settings (tasks.config). With no DOCPOST_BROKER_URL the broker is
the embedded in-memory one, which only a worker thread in the same process can consume
(`docpost demo`, `docpost submit` without a broker: see tasks.embedded).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import kombu.pools
from celery import Celery
from celery.signals import celeryd_init, worker_process_init

from docpost.pipeline.config import Settings, get_settings

# Imported for its signal receivers: logging through pipeline.logs, a worker's metrics exporter.
from docpost.tasks import observability  # noqa: F401
from docpost.tasks.config import QueueSettings, celery_config, get_queue_settings
from docpost.tasks.routing import DOCUMENTS

log = logging.getLogger(__name__)

# A pool process waits this long for its start (worker_process_init, which compiles the
# e-invoice rules) before Celery gives up on it; Celery's 4 s is tight for two processes
# compiling at once on a loaded machine.
EINVOICE_PROC_ALIVE_TIMEOUT = 60.0

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


# Whether this worker consumes the `documents` queue: set by celeryd_init in the worker's main
# process before its pool forks, so the pool processes inherit it.
_renders_documents = True


def consumes_documents(options: dict[str, Any] | None) -> bool:
    """A worker started without -Q consumes every queue, `documents` with them."""
    queues = (options or {}).get("queues") or []
    if isinstance(queues, str):
        queues = queues.split(",")
    return not queues or DOCUMENTS in queues


@celeryd_init.connect
def _recycle_render_processes(conf: Any = None, options: Any = None, **_: Any) -> None:
    """Workers that consume `documents` replace each pool process after N tasks: WeasyPrint's
    font and image caches only grow. Celery has no per-queue setting, so it is decided here
    from the worker's queues; a worker given only -Q posting,bulk keeps its processes."""
    global _renders_documents
    options = options or {}
    _renders_documents = consumes_documents(options)
    if conf is not None and _renders_documents and not options.get("max_tasks_per_child"):
        conf.worker_max_tasks_per_child = get_queue_settings().render_max_tasks_per_child
    if conf is not None and _renders_documents and get_settings().einvoice_rules:
        conf.worker_proc_alive_timeout = max(
            float(conf.worker_proc_alive_timeout or 0), EINVOICE_PROC_ALIVE_TIMEOUT
        )


@celeryd_init.connect
def _import_renderer(options: Any = None, **_: Any) -> None:
    prepare_renderer(consumes_documents(options))


def prepare_renderer(renders_documents: bool) -> bool:
    """Import the PDF renderer (WeasyPrint, Pango, fontTools) in a render worker's main process
    as it starts, before its pool forks, not in a first render task: that task's time limit
    could cut the import off halfway (~1 s on a loaded machine), and fontTools patches its
    classes as it is imported, so every later render of the process would fail on the
    half-imported module ("Oops, class 'Coverage' has method 'intersect'", seen in the fault
    tests under load). Imported once in the parent, every pool process (and every recycled
    one) has it for free. Only modules: the renderer's caches are built per process, after
    the fork (reports.render). True when imported here; a worker not consuming `documents`
    imports nothing."""
    if not renders_documents:
        return False
    try:
        from docpost.reports import render  # noqa: F401  (imported for its side effect)
    except Exception as exc:  # a worker that cannot start over a missing library renders nothing
        log.error("PDF renderer not imported at start (%s): the first render will", exc)
        return False
    return True


@worker_process_init.connect
def _compile_einvoice_rules(**_: Any) -> None:
    prepare_einvoice_rules()


def prepare_einvoice_rules() -> int | None:
    """E2, DOCPOST_EINVOICE_RULES: compile the official rules in this pool process as it starts
    (worker_process_init: after the fork, before its first task), so no e-invoice waits the
    ~0.5 s they take; the milliseconds it took, None when not compiled here (no rules set, a
    worker not consuming `documents`, or a failure, which leaves them to the first e-invoice,
    as without this). Never at import: Saxon made before a fork crashes after it
    (reports.einvoice.validation), and a recycled process (worker_max_tasks_per_child) compiles
    its own."""
    rules = get_settings().einvoice_rules
    if not rules or not _renders_documents:
        return None
    from docpost.reports.einvoice.validation import prepare

    started = time.perf_counter()
    try:
        prepare(rules)
    except Exception as exc:  # a pool process that cannot start would be replaced for ever
        log.error("e-invoice rules not compiled at start (%s): the first e-invoice will", exc)
        return None
    elapsed = round((time.perf_counter() - started) * 1000)
    log.info("e-invoice rules compiled in %d ms", elapsed)
    return elapsed


configure()
