"""A real Celery worker (prefork, two pool processes) on Redis and PostgreSQL: its metrics on
DOCPOST_METRICS_PORT, its JSON log lines, the HTTP service's queue gauges, and the health check
docker-compose runs against it (issue 18 item 3).

The run: a catalog load and a request for an unknown order queued while no worker runs (the
HTTP service counts them waiting in their queues), a malformed body rejected on arrival in this
process, then the worker runs the queued two and three requests that build an order; the
confirmation's and packing slip's PDFs are rendered by the same worker.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import session_factory
from docpost.pipeline.entrypoints.http import create_app
from docpost.schema import Document
from docpost.tasks.client import submit
from docpost.tasks.embedded import run_in_order
from tests.conftest import usmf_catalog, usmf_requests
from tests.integration.conftest import ROOT, broker, queue_env, start_worker  # noqa: F401
from tests.observability.conftest import samples, value

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

WAIT = 60.0
OUTCOMES = "docpost_request_outcomes_total"
FIELDS = {"request_id", "kind", "actor", "order", "status", "code", "journal", "duration_ms"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape_worker(port: int) -> dict[Any, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return samples(response.read().decode())


def scrape_http(client: TestClient) -> dict[Any, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)


def wait_rendered(sessions: sessionmaker[Session]) -> list[Document]:
    deadline = time.monotonic() + WAIT * 2
    while True:
        with sessions() as session:
            documents = list(session.scalars(select(Document)))
        if documents and all(d.status != "pending" for d in documents):
            return documents
        assert time.monotonic() < deadline, [(d.filename, d.status) for d in documents]
        time.sleep(0.2)


def test_worker_metrics_json_log_and_queue_gauges(
    queue_env: dict[str, str],  # noqa: F811
    start_worker: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    # The worker subprocess inherits these; its multiprocess folder is a fresh temporary one.
    monkeypatch.setenv("DOCPOST_METRICS_PORT", str(port))
    monkeypatch.setenv("DOCPOST_LOG_FORMAT", "json")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    get_settings.cache_clear()
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    http = TestClient(create_app(sessions))

    # Queued with no worker running: one message in `bulk`, one in `posting`.
    catalog = submit({"request_id": "o-cat", "kind": "upsert_catalog", "actor": "erp",
                      "payload": usmf_catalog()}, sessions)  # fmt: skip
    unknown = submit({"request_id": "o-404", "kind": "confirm_order", "actor": "erp",
                      "payload": {"order": "SO-404"}}, sessions)  # fmt: skip
    malformed = submit('{"request_id": "o-bad", "kind": "post_invoice"}', sessions)
    assert malformed.outcome()["status"] == "rejected"  # decided here, on arrival
    waiting = scrape_http(http)
    assert value(waiting, "docpost_queue_depth", queue="bulk") == 1
    assert value(waiting, "docpost_queue_depth", queue="posting") == 1
    assert value(waiting, "docpost_queue_depth", queue="documents") == 0
    assert value(waiting, "docpost_requests_open", status="queued") == 2
    assert value(waiting, "docpost_scrape_source_up", source="broker") == 1

    worker = start_worker("obs", concurrency=2)
    # A new worker counts from zero (its multiprocess folder is emptied as it starts). A scrape
    # here would race with it: it takes the two queued requests at once, maybe before.
    before: dict[Any, float] = {}
    assert catalog.wait(WAIT)["status"] == "succeeded"
    assert unknown.wait(WAIT)["status"] == "rejected"
    built = run_in_order(usmf_requests()[:3], sessions, lambda outcome: None, timeout=WAIT)
    assert [o["status"] for o in built] == ["succeeded"] * 3
    documents = wait_rendered(sessions)
    pdfs = [d for d in documents if d.format == "pdf" and d.status == "rendered"]
    assert len(pdfs) >= 2  # the confirmation's and the packing slip's, at least
    after = scrape_worker(port)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Counted by the pool processes, summed by the worker's exporter: exactly the run.
    assert moved(OUTCOMES, kind="upsert_catalog", status="succeeded") == 1
    assert moved(OUTCOMES, kind="confirm_order", status="rejected") == 1
    assert moved(OUTCOMES, kind="upsert_order", status="succeeded") == 1
    assert moved(OUTCOMES, kind="confirm_order", status="succeeded") == 1
    assert moved(OUTCOMES, kind="post_packing_slip", status="succeeded") == 1
    assert moved("docpost_request_attempts_count", status="succeeded") == 4
    assert moved("docpost_document_render_seconds_count", format="pdf") == len(pdfs)
    # Negative controls: the malformed body was rejected in this process, not by the worker;
    # nothing failed; no e-invoice for a US order.
    assert moved(OUTCOMES, kind="invalid", status="rejected") == 0
    assert moved(OUTCOMES, kind="post_invoice", status="rejected") == 0
    assert not [k for k in after if k[0] == OUTCOMES and ("status", "failed") in k[1]]
    assert moved("docpost_document_render_seconds_count", format="ubl") == 0

    drained = scrape_http(http)
    for queue in ("posting", "bulk", "documents"):
        assert value(drained, "docpost_queue_depth", queue=queue) == 0
    assert value(drained, "docpost_requests_open", status="queued") == 0
    assert value(drained, "docpost_documents_pending") == 0

    # The worker's JSON log: one outcome line per request it decided, with the fields.
    entries = [json.loads(line) for line in worker.text().splitlines() if line.startswith("{")]
    lines = [e for e in entries if e["logger"] == "docpost.outcome"]
    assert sorted(e["request_id"] for e in lines) == sorted(
        ["o-cat", "o-404", "usmf-001", "usmf-002", "usmf-003"]
    )
    for entry in lines:
        assert entry.keys() >= FIELDS, entry
        assert entry["process"].startswith("ForkPoolWorker"), entry  # decided in the pool
    by_id = {e["request_id"]: e for e in lines}
    # Run beside the catalog load: refused for its actor (not loaded yet) or its order.
    assert by_id["o-404"]["status"] == "rejected"
    assert by_id["o-404"]["code"] in ("actor.unknown", "order.unknown")
    assert (by_id["usmf-003"]["order"], by_id["usmf-003"]["journal"]) == ("SO-1001", "PS-000001")
    assert by_id["usmf-003"]["actor"] == "warehouse-1"
    # WeasyPrint rendered the PDFs and said nothing (its CSS warnings and progress steps off).
    assert not [e for e in entries if e["logger"].startswith("weasyprint")]
    assert any(e["message"].startswith("metrics of this worker at") for e in entries)

    # docker-compose's health check of a worker, its very command, against this worker's node.
    node = f"obs@{socket.gethostname()}"
    assert compose_ping(node, queue_env).returncode == 0
    # Negative control: a node that does not exist does not answer, and the check fails.
    assert compose_ping("nobody@nowhere", queue_env).returncode != 0


def compose_ping(node: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """docker-compose.yml's worker health check (a shell command naming celery@$HOSTNAME),
    run with `node` in its place, by the shell, with this venv's `celery` first on PATH."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    kind, command = compose["services"]["worker"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL" and "celery@$$HOSTNAME" in command
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        command.replace("celery@$$HOSTNAME", node),
        shell=True,
        cwd=ROOT,
        env={**os.environ, **env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )
