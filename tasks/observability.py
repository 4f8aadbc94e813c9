"""Logging and metrics of Celery's processes (issue 18), wired by Celery's signals.

Logging: Celery's setup_logging signal hands the worker's and beat's logging to
pipeline.logs.configure_logging, the one place every process configures it (DOCPOST_LOG_FORMAT
text or json; DOCPOST_LOG_LEVEL, else the command's --loglevel). With a receiver on that signal
Celery installs no handlers or format of its own.

Metrics: a worker with DOCPOST_METRICS_PORT serves /metrics from its main process on that port.
Its tasks run in prefork pool processes, whose counts the main process cannot see in memory,
so before the pool forks the worker switches prometheus-client to its multiprocess mode: every
process writes its values to files in PROMETHEUS_MULTIPROC_DIR (a fresh temporary folder when
that is unset), and the exporter sums them when scraped. A pool process replaced after
worker_max_tasks_per_child leaves its files, so counters never go back. One exporter per worker
(not one per pool process on ports of their own): Prometheus scrapes each worker container
once, and scaling out (`--scale worker=3`) adds one target per container.

Chosen over a shared PROMETHEUS_MULTIPROC_DIR read by the HTTP service: that needs every worker
on the HTTP service's host (one volume), which `docker compose --scale` and several hosts do
not give. The gauges that are the same whoever reads them (queue depth, oldest queued request,
dead letters) are read from Redis and the database by the HTTP service's /metrics instead
(entrypoints.http.routes_metrics), so no worker has to be up for them.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from celery.signals import celeryd_after_setup, setup_logging
from prometheus_client import start_http_server

from docpost.pipeline.config import get_settings
from docpost.pipeline.logs import configure_logging
from docpost.pipeline.metrics import multiprocess_registry, use_multiprocess

log = logging.getLogger(__name__)


@setup_logging.connect
def _configure_logging(loglevel: Any = None, logfile: str | None = None, **_: Any) -> None:
    from docpost.tasks.app import broker_is_embedded

    # The embedded worker runs inside a CLI command or `docpost serve`, which configured the
    # process's logging already: its level stays (the embedded worker asks for WARNING, which
    # would silence the service's own INFO lines, request outcomes among them).
    requested = None if broker_is_embedded() else (loglevel or logging.INFO)
    level = get_settings().log_level or requested
    stream = open(logfile, "a", buffering=1, encoding="utf-8") if logfile else None  # noqa: SIM115 (lives as long as the process)
    configure_logging(level, stream=stream)


@celeryd_after_setup.connect
def _start_metrics_exporter(**_: Any) -> None:
    # celeryd_after_setup: in the worker's main process once its logging is set up (so the
    # line below is seen) and before its pool processes are forked.
    start_metrics_exporter(get_settings().metrics_port)


def start_metrics_exporter(port: int | None) -> Path | None:
    """In a worker's main process, before its pool forks: multiprocess mode and the exporter
    on `port`. Returns the folder of the values, None without a port."""
    if port is None:
        return None
    directory = Path(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="docpost-metrics-")
    )
    use_multiprocess(directory)
    start_http_server(port, registry=multiprocess_registry(directory))
    log.info("metrics of this worker at http://0.0.0.0:%d/metrics (values in %s)", port, directory)
    return directory
