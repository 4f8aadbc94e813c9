"""GET /metrics: Prometheus metrics of the pipeline, in the text exposition format.

Two kinds:
- counted in this process (pipeline.metrics): outcomes decided here (with the embedded worker,
  or a malformed body rejected on arrival), their attempts and durations, render times. A
  Celery worker counts its own and serves them on DOCPOST_METRICS_PORT (tasks.observability).
  With PROMETHEUS_MULTIPROC_DIR set (several server processes), the counts of all of them.
- read when scraped, the same whoever reads them, so no worker needs to be up: messages
  waiting per queue (the broker), requests queued or running and the age of the oldest
  queued one, pending documents and the oldest one's age, dead letters (the database). Each
  read is one indexed query (the open-request and pending-document partial indexes); a
  source that cannot be read is reported by docpost_scrape_source_up{source} = 0 and its
  gauges left out rather than given as zeros, which would look like an empty queue.

No key needed, as for /health: counts by kind, status, queue and format, never an order,
an actor or a request id.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.metrics import multiprocess_registry
from docpost.schema import DeadLetter, Document, RequestRecord
from docpost.schema.types import utcnow

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = Scrape(request.app.state.sessions)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)  # type: ignore[arg-type]


class Scrape:
    """What one scrape exposes: this process's counts, then the gauges read now."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        yield from _process_counts().collect()
        up = GaugeMetricFamily(
            "docpost_scrape_source_up",
            "Whether this scrape could read the source of its gauges (1) or not (0)",
            labels=["source"],
        )
        for source, read in (("broker", queue_depths), ("database", lambda: self._database())):
            try:
                families = list(read())
            except Exception as exc:
                # The class only: driver messages name hosts and users.
                log.warning("metrics: %s not read (%s)", source, type(exc).__name__)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    def _database(self) -> list[Metric]:
        with self.sessions() as session:
            return list(database_gauges(session, utcnow()))


def _process_counts() -> Collector:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return multiprocess_registry(Path(directory)) if directory else REGISTRY


def queue_depths() -> Iterable[Metric]:
    """Messages waiting in each queue, as the broker counts them (on Redis the length of the
    queue's lists, every priority; unacked messages being run are not waiting)."""
    from docpost.tasks.app import app as celery_app
    from docpost.tasks.routing import QUEUES

    depth = GaugeMetricFamily(
        "docpost_queue_depth", "Messages waiting in the queue (not yet taken)", labels=["queue"]
    )
    with celery_app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
        channel = connection.default_channel
        for queue in QUEUES:
            # Not passive: a queue nobody has used yet has no Redis key, and kombu's passive
            # declare refuses it; declaring it creates nothing on Redis and counts 0.
            depth.add_metric([queue], channel.queue_declare(queue=queue).message_count)
    return [depth]


def database_gauges(session: Session, now: dt.datetime) -> Iterator[Metric]:
    """Open requests and pending documents with the age of the oldest, and dead letters."""
    requests = GaugeMetricFamily(
        "docpost_requests_open",
        "Requests accepted and not final yet, by status (queued, running)",
        labels=["status"],
    )
    rows = session.execute(
        select(RequestRecord.status, func.count(), func.min(RequestRecord.created_at))
        .where(RequestRecord.status.in_(("queued", "running")))
        .group_by(RequestRecord.status)
    ).all()
    by_status = {status: (count, oldest) for status, count, oldest in rows}
    for status in ("queued", "running"):
        requests.add_metric([status], by_status.get(status, (0, None))[0])
    yield requests
    yield _age(
        "docpost_oldest_queued_request_age_seconds",
        "Seconds since the oldest request still queued was accepted (0: none queued)",
        by_status.get("queued", (0, None))[1],
        now,
    )
    count, oldest = session.execute(
        select(func.count(), func.min(Document.created_at)).where(Document.status == "pending")
    ).one()
    yield GaugeMetricFamily(
        "docpost_documents_pending", "Documents waiting to be rendered", value=count
    )
    yield _age(
        "docpost_oldest_pending_document_age_seconds",
        "Seconds since the oldest document still pending was made (0: none pending)",
        oldest,
        now,
    )
    letters = GaugeMetricFamily(
        "docpost_dead_letters",
        "Messages kept as dead letters (undecodable or invalid), by the queue they came from",
        labels=["queue"],
    )
    for queue, letter_count in session.execute(
        select(DeadLetter.queue, func.count()).group_by(DeadLetter.queue).order_by(DeadLetter.queue)
    ):
        letters.add_metric([queue], letter_count)
    yield letters


def _age(name: str, documentation: str, oldest: dt.datetime | None, now: dt.datetime) -> Metric:
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)  # SQLite's MIN() returns the stored text
    seconds = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
    return GaugeMetricFamily(name, documentation, value=seconds)
