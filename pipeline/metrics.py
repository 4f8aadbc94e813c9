"""Prometheus metrics counted where things happen (prometheus-client).

Counted in the process that decides them: request outcomes (pipeline.runner.outcome_log, after
their commit), their attempts and durations, and document render times by format (pdf: the
WeasyPrint PDF, ubl: the e-invoice). A process exposes its own counts: the HTTP service at
GET /metrics (with gauges read from Redis and the database when scraped:
entrypoints.http.routes_metrics), a worker on DOCPOST_METRICS_PORT (tasks.observability).

Every metric here has labels, on purpose: a Celery prefork worker's tasks run in pool processes
forked from its main process, and their counts reach the exporter only through
prometheus-client's multiprocess mode (files in PROMETHEUS_MULTIPROC_DIR). A labelled metric
creates its values when a label set is first used, in the pool process, after
`use_multiprocess` switched the value class; an unlabelled one would have made its value at
import, in memory, before the switch, and never be seen.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.multiprocess import MultiProcessCollector

REQUEST_OUTCOMES = Counter(
    "docpost_request_outcomes",
    "Requests that reached their outcome, by kind and status (succeeded, rejected, failed); "
    "a conflict (request_id reused for another body) counts as rejected",
    ["kind", "status"],
)
REQUEST_ATTEMPTS = Histogram(
    "docpost_request_attempts",
    "Deliveries a request took to reach its outcome, by status",
    ["status"],
    buckets=(1, 2, 3, 4, 5, 10),
)
REQUEST_DURATION = Histogram(
    "docpost_request_duration_seconds",
    "Time from the start of a request's run in a process to its committed outcome, by kind",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
DOCUMENT_RENDER = Histogram(
    "docpost_document_render_seconds",
    "Time to produce a document's bytes, by format: pdf (WeasyPrint), ubl (the e-invoice, "
    "with the official rules when DOCPOST_EINVOICE_RULES is set)",
    ["format"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def use_multiprocess(directory: Path) -> None:
    """From now on, metric values made in this process and its forks live in `directory`
    (prometheus-client's multiprocess mode), where `multiprocess_registry` sums them. Files of
    an earlier run are removed first: their pids may be reused, and counts must start at 0.
    Call before the first label set is used (see the module's docstring)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    # prometheus-client picks its value class once, at import, from this variable; metrics
    # read `values.ValueClass` when they make a value, so the switch takes effect here.
    values.ValueClass = values.get_value_class()


def multiprocess_registry(directory: Path) -> CollectorRegistry:
    """The counts of every process that wrote to `directory`, summed."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))
    return registry
