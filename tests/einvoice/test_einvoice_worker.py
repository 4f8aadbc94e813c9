"""E1/E2 through the real pipeline: requests on Redis, a `celery worker` subprocess (prefork
pool), PostgreSQL. The worker renders the invoice's and credit note's e-invoices from the
`documents` queue and checks them with the official rules (DOCPOST_EINVOICE_RULES): Saxon is
made inside the pool process that validates, after the fork, and the stylesheets compiled
there once.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import session_factory
from docpost.schema import Document
from docpost.tasks.embedded import run_in_order
from tests.einvoice.conftest import einvoice_catalog
from tests.integration.conftest import broker, queue_env, start_worker  # noqa: F401

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

WAIT = 60.0
RENDER_WAIT = 120.0


def request(n: int, kind: str, payload: dict[str, Any], actor: str = "erp") -> dict[str, Any]:
    return {"request_id": f"ehf-{n:03d}", "kind": kind, "actor": actor, "payload": payload}


def wait_rendered(sessions: sessionmaker[Session], timeout: float) -> list[Document]:
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            documents = list(session.scalars(select(Document).order_by(Document.id)))
        if documents and all(d.status != "pending" for d in documents):
            return documents
        if time.monotonic() > deadline:
            raise AssertionError(f"still pending: {[d.filename for d in documents]}")
        time.sleep(0.2)


def test_e1_e2_einvoices_rendered_and_checked_by_a_real_worker(
    queue_env: dict[str, str],  # noqa: F811
    start_worker: Any,  # noqa: F811
    rules: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The outcomes name the e-invoices; the worker stores them `rendered` with no fatal
    finding (the rules ran: findings is a list, not null), their sha256, an Invoice and a
    CreditNote; PDFs beside them as before."""
    monkeypatch.setenv("DOCPOST_EINVOICE_RULES", str(rules))  # the worker's environment too
    get_settings.cache_clear()
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    worker = start_worker("ehf", concurrency=2)

    lines = [{"line": 1, "item": "KNIV-1", "quantity": "2", "unit_price": "249.00"},
             {"line": 2, "item": "GAVE-1", "quantity": "1", "unit_price": "438.00"}]  # fmt: skip
    outcomes = run_in_order(
        [
            request(1, "upsert_catalog", einvoice_catalog()),
            request(2, "upsert_order", {"order": "SO-1", "customer": "NO-1001", "lines": lines}),
            request(3, "confirm_order", {"order": "SO-1"}),
            request(4, "post_invoice", {"order": "SO-1"}),
            request(
                5,
                "post_credit_note",
                {"invoice": "INV-000001", "lines": [{"line": 1, "quantity": "1"}]},
            ),
        ],
        sessions,
        lambda outcome: None,
        timeout=WAIT,
    )

    assert [o["status"] for o in outcomes] == ["succeeded"] * 5, outcomes
    assert outcomes[3]["result"]["documents"] == ["INV-000001.pdf", "INV-000001.xml"]
    assert outcomes[4]["result"]["documents"] == ["CN-000001.pdf", "CN-000001.xml"]
    documents = wait_rendered(sessions, RENDER_WAIT)
    assert {d.status for d in documents} == {"rendered"}, [(d.filename, d.error) for d in documents]
    einvoices = {d.filename: d for d in documents if d.format == "ubl"}
    assert sorted(einvoices) == ["CN-000001.xml", "INV-000001.xml"]
    roots = {}
    for name, document in einvoices.items():
        assert document.content is not None
        assert document.sha256 == hashlib.sha256(document.content).hexdigest()
        assert isinstance(document.findings, list), "the rules ran in the worker"
        assert [f for f in document.findings if f["flag"] != "warning"] == [], document.findings
        roots[name] = etree.QName(etree.fromstring(document.content)).localname
    assert roots == {"INV-000001.xml": "Invoice", "CN-000001.xml": "CreditNote"}
    assert all(d.content and d.content.startswith(b"%PDF") for d in documents if d.format == "pdf")
    assert "render_document" in worker.text()
    assert_rules_compiled_at_pool_start(worker.text())


def assert_rules_compiled_at_pool_start(log: str) -> None:
    """tasks.app.prepare_einvoice_rules: each pool process (ForkPoolWorker-N, after the fork)
    logs "e-invoice rules compiled in N ms" before any task of its own; the main process never
    compiles them (Saxon is not fork-safe); some pool process that compiled them ran tasks."""
    lines = log.splitlines()
    compiled = [i for i, line in enumerate(lines) if "e-invoice rules compiled in " in line]
    assert len(compiled) >= 2, log[-3000:]  # concurrency 2: every pool process
    ran = 0
    for i in compiled:
        found = re.search(r"/(ForkPoolWorker-\d+)\]", lines[i])
        assert found, lines[i]  # not MainProcess
        assert re.search(r"compiled in \d+ ms", lines[i]), lines[i]
        own = [
            j
            for j, line in enumerate(lines)
            if f"/{found.group(1)}]" in line and " Task " in line and j != i
        ]
        assert all(i < j for j in own), (lines[i], [lines[j] for j in own][:1])
        ran += bool(own)
    assert ran, "no pool process that compiled the rules ran a task"
