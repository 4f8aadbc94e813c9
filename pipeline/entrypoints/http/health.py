"""GET /health: the database, the broker and the workers, each reported; no key needed.

503 when the database or the broker is down: the service can then neither read nor accept
requests. No worker answering is `degraded` (200): requests are still accepted and wait in
the queue until a worker comes back. So is a backlog of requests still `queued`, or documents
still `pending`, longer than DOCPOST_REPUBLISH_AFTER after their last publish (the broker
lost their messages; the recovery sweep sends them again); dead letters are counted.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from docpost.pipeline.entrypoints.http.schemas import Health

router = APIRouter(tags=["health"])

PING_SECONDS = 1.0


def _database(request: Request) -> dict[str, Any]:
    try:
        with request.app.state.sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        # The class only: /health is public, and driver messages name hosts and users.
        return {"ok": False, "detail": type(exc).__name__}
    return {"ok": True}


def _backlog(request: Request) -> dict[str, Any]:
    """Work the broker seems to have lost (overdue by DOCPOST_REPUBLISH_AFTER: the recovery
    sweep sends it again; if it stays, beat is not running) and the dead letters kept."""
    from docpost.pipeline.dead_letters import count_dead_letters
    from docpost.tasks.recovery import Cutoffs, count_overdue

    try:
        with request.app.state.sessions() as session:
            counts = count_overdue(session, Cutoffs.now())
            counts["dead_letters"] = count_dead_letters(session)
    except Exception as exc:
        return {"ok": False, "detail": type(exc).__name__}
    overdue = counts["queued_overdue"] + counts["pending_documents_overdue"]
    return {"ok": overdue == 0, **counts}


def _broker_and_workers(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    from docpost.tasks.app import app as celery_app
    from docpost.tasks.app import broker_is_embedded

    if broker_is_embedded():
        alive = request.app.state.embedded_worker
        return (
            {"ok": True, "detail": "embedded (in this process)"},
            {"ok": alive, "detail": "embedded worker" if alive else "no embedded worker"},
        )
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=PING_SECONDS)
            # A broadcast over the broker: every worker answers with its name. limit=1 returns
            # on the first answer instead of always waiting the whole timeout.
            replies = celery_app.control.ping(timeout=PING_SECONDS, limit=1, connection=connection)
    except Exception as exc:
        return {"ok": False, "detail": type(exc).__name__}, {"ok": False, "detail": "unknown"}
    # Whether one answered, never its name: /health is public, and worker names are
    # `celery@<hostname>` (`celery inspect ping` names them for operators).
    answered = any(reply for reply in replies)
    workers = {"ok": answered, "detail": "a worker answered" if answered else "no worker answered"}
    return {"ok": True}, workers


@router.get(
    "/health",
    summary="Database, broker and worker status; 503 when the database or broker is down",
    response_model=Health,
    responses={503: {"model": Health, "description": "the database or the broker is down"}},
)
def health(request: Request) -> JSONResponse:
    database = _database(request)
    broker, workers = _broker_and_workers(request)
    backlog = _backlog(request) if database["ok"] else {"ok": False, "detail": "no database"}
    if not (database["ok"] and broker["ok"]):
        status, code = "unavailable", 503
    elif not workers["ok"] or not backlog["ok"]:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body = {
        "status": status,
        "database": database,
        "broker": broker,
        "workers": workers,
        "backlog": backlog,
    }
    return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})
