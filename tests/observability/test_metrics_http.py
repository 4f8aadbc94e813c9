"""GET /metrics of the HTTP service (issue 18 item 3), on SQLite and PostgreSQL.

A small run executed in this process (as `docpost run`, or the HTTP service's embedded worker,
executes requests) moves the counters by exactly its outcomes and renders; a counter the run
cannot move (failed) stays where it was, and repeating a request moves nothing. The gauges are
read from the database when scraped. Counters are process-wide (other tests of this process
count too), so every check is a difference between two scrapes.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.dead_letters import store_dead_letter
from docpost.pipeline.documents import render_pending
from docpost.pipeline.entrypoints.http import create_app
from docpost.pipeline.runner.execute import execute
from docpost.pipeline.runner.request_record import record_queued
from docpost.schema import RequestRecord
from docpost.schema.types import utcnow
from tests.conftest import usmf_catalog, usmf_requests
from tests.observability.conftest import samples, value

OUTCOMES = "docpost_request_outcomes_total"
RENDERS = "docpost_document_render_seconds_count"


def scrape(client: TestClient) -> dict[Any, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


def delta(after: dict[Any, float], before: dict[Any, float], name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_counters_move_by_the_run(sessions: sessionmaker[Session]) -> None:
    client = TestClient(create_app(sessions))
    before = scrape(client)

    catalog = {"request_id": "m-cat", "kind": "upsert_catalog", "actor": "erp"}
    assert execute({**catalog, "payload": usmf_catalog()}, sessions)["status"] == "succeeded"
    for request in usmf_requests()[:3]:  # upsert_order, confirm_order, post_packing_slip
        assert execute(request, sessions)["status"] == "succeeded"
    unknown = {"request_id": "m-404", "kind": "confirm_order", "actor": "erp"}
    assert execute({**unknown, "payload": {"order": "SO-404"}}, sessions)["status"] == "rejected"
    assert execute("not json at all", sessions)["status"] == "rejected"
    execute(usmf_requests()[0], sessions)  # a repeat: its first outcome, counted once
    rendered = render_pending(sessions)
    after = scrape(client)

    assert delta(after, before, OUTCOMES, kind="upsert_catalog", status="succeeded") == 1
    assert delta(after, before, OUTCOMES, kind="upsert_order", status="succeeded") == 1
    assert delta(after, before, OUTCOMES, kind="confirm_order", status="succeeded") == 1
    assert delta(after, before, OUTCOMES, kind="post_packing_slip", status="succeeded") == 1
    assert delta(after, before, OUTCOMES, kind="confirm_order", status="rejected") == 1
    # A body that is not even JSON has no kind: `invalid`, not a series per made-up kind.
    assert delta(after, before, OUTCOMES, kind="invalid", status="rejected") == 1
    # Negative controls: nothing failed, and the repeat of upsert_order counted no second time.
    failed = [k for k in after if k[0] == OUTCOMES and ("status", "failed") in k[1]]
    assert all(delta(after, before, OUTCOMES, **dict(k[1])) == 0 for k in failed)
    assert delta(after, before, OUTCOMES, kind="post_invoice", status="succeeded") == 0
    # Attempts: six outcomes, each on its first delivery.
    assert delta(after, before, "docpost_request_attempts_count", status="succeeded") == 4
    assert (
        delta(after, before, "docpost_request_attempts_bucket", status="succeeded", le="1.0") == 4
    )
    # The confirmation's and the packing slip's PDFs (and their documents of the same kind).
    assert rendered >= 2
    assert delta(after, before, RENDERS, format="pdf") == rendered
    assert delta(after, before, RENDERS, format="ubl") == 0  # a US order: no e-invoice


def test_gauges_read_from_the_database(sessions: sessionmaker[Session]) -> None:
    """Requests queued (the oldest's age from its stored time), pending documents, dead
    letters by queue; 0 when there are none."""
    client = TestClient(create_app(sessions))
    empty = scrape(client)
    assert value(empty, "docpost_requests_open", status="queued") == 0
    assert value(empty, "docpost_oldest_queued_request_age_seconds") == 0
    assert value(empty, "docpost_scrape_source_up", source="database") == 1

    for n in (1, 2):
        body = {"request_id": f"q-{n}", "kind": "confirm_order", "actor": "erp"}
        record_queued(json.dumps({**body, "payload": {"order": "SO-1"}}), sessions)
    with sessions() as session, session.begin():
        oldest = session.get(RequestRecord, "q-1")
        assert oldest is not None
        oldest.created_at = utcnow() - dt.timedelta(hours=2)
    for _ in range(3):
        store_dead_letter(
            sessions, queue="posting", task=None, content_type="text/plain", reason="r", raw="x"
        )
    scraped = scrape(client)
    assert value(scraped, "docpost_requests_open", status="queued") == 2
    assert value(scraped, "docpost_requests_open", status="running") == 0
    # Two hours ago, read now: at least 7200 s, and not a day (the stored time, not another).
    assert 7200 <= value(scraped, "docpost_oldest_queued_request_age_seconds") < 86400
    assert value(scraped, "docpost_dead_letters", queue="posting") == 3
    assert value(scraped, "docpost_dead_letters", queue="documents") == 0
    assert value(scraped, "docpost_documents_pending") == 0


def test_metrics_is_not_in_the_openapi_document(sessions: sessionmaker[Session]) -> None:
    """/metrics is for Prometheus, not for API clients (and not fuzzed as an operation)."""
    client = TestClient(create_app(sessions))
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
