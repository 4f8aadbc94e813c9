"""`docpost demo`: the USMF example through the queue, in this folder, with no server.

The schema is created or upgraded, the catalog loaded and every request of the example run
through the embedded queue (the real task code and JSON messages) in file order, the outbox
drained, the PDFs written to the documents folder when rendering is available, and a
summary and the trial balance printed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline import queries
from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for, session_factory
from docpost.pipeline.entrypoints.cli.requests_io import read_request_file
from docpost.schema import Document, RequestRecord
from docpost.schema.migrate import upgrade
from docpost.tasks.app import configure
from docpost.tasks.embedded import embedded_worker, run_in_order
from docpost.tasks.relay import relay_outbox

RENDER_WAIT_SECONDS = 120.0


@dataclass
class DemoResult:
    outcomes: list[dict[str, Any]]
    kinds: dict[str, str]
    trial_balance: dict[str, Any]
    documents: list[str] = field(default_factory=list)
    documents_failed: list[str] = field(default_factory=list)
    documents_note: str | None = None

    @property
    def ok(self) -> bool:
        return all(o["status"] == "succeeded" for o in self.outcomes)


def example_requests() -> list[dict[str, Any] | str]:
    """The shipped USMF example: the catalog load, then requests.jsonl."""
    folder = resources.files("docpost.pipeline") / "examples" / "usmf"
    catalog = json.loads((folder / "catalog.json").read_text(encoding="utf-8"), parse_float=Decimal)
    digest = hashlib.sha256(json.dumps(catalog, sort_keys=True, default=str).encode()).hexdigest()[
        :12
    ]
    load = {
        "request_id": f"demo-load-catalog-{digest}",
        "kind": "upsert_catalog",
        "actor": "erp",
        "payload": catalog,
    }
    with resources.as_file(folder / "requests.jsonl") as path:
        return [load, *read_request_file(Path(path))]


def rendering_available() -> bool:
    return importlib.util.find_spec("docpost.pipeline.documents") is not None


def run_demo(
    on_outcome: Callable[[dict[str, Any]], None], timeout: float | None = 300.0
) -> DemoResult:
    settings = get_settings()
    # Always the embedded broker, whatever DOCPOST_BROKER_URL says: the demo's messages must
    # not reach workers elsewhere that may use another database.
    configure(settings.model_copy(update={"broker_url": ""}))
    upgrade(engine_for(settings.database_url))
    sessions = session_factory(settings.database_url)
    render = rendering_available()
    with embedded_worker(loglevel="ERROR"):
        outcomes = run_in_order(example_requests(), sessions, on_outcome, timeout)
        # Whatever a failed relay left behind (nothing, normally) goes out now.
        relay_outbox(sessions)
        if render:
            wait_for_renders(sessions, RENDER_WAIT_SECONDS)
    result = DemoResult(outcomes, _kinds(sessions, outcomes), _trial_balance(sessions))
    if render:
        from docpost.pipeline.documents import export_documents

        written = export_documents(sessions, Path(settings.documents_dir))
        result.documents = [str(path) for path in written]
        result.documents_failed = _failed_documents(sessions)
    else:
        result.documents_note = (
            "PDFs skipped: document rendering (pipeline.documents) is not installed"
        )
    return result


def wait_for_renders(sessions: sessionmaker[Session], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            pending = session.scalar(
                select(func.count()).select_from(Document).where(Document.status == "pending")
            )
        if not pending:
            return
        time.sleep(0.1)


def _failed_documents(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        rows = session.execute(
            select(Document.filename, Document.error).where(Document.status != "rendered")
        )
        return [f"{filename}: {error or 'not rendered'}" for filename, error in rows]


def _kinds(sessions: sessionmaker[Session], outcomes: list[dict[str, Any]]) -> dict[str, str]:
    ids = [o["request_id"] for o in outcomes]
    with sessions() as session:
        rows = session.execute(
            select(RequestRecord.request_id, RequestRecord.kind).where(
                RequestRecord.request_id.in_(ids)
            )
        )
        return {request_id: kind for request_id, kind in rows}


def _trial_balance(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session:
        return queries.ledger(session)["trial_balance"]


def summary_rows(result: DemoResult) -> list[list[str]]:
    rows = []
    for outcome in result.outcomes:
        res = outcome.get("result") or {}
        detail = res.get("journal") or ""
        if "error" in outcome:
            detail = outcome["error"]["code"]
        elif not detail and "order" in res:
            detail = f"order {res['order']}"
        elif not detail and "requests" in res:
            detail = f"{len(res['requests'])} invoice request(s)"
        rows.append(
            [
                outcome["request_id"],
                result.kinds.get(outcome["request_id"], ""),
                outcome["status"],
                detail,
            ]
        )
    return rows
