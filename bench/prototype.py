"""PROTOTYPES, bench only: changes proposed for production, monkeypatched into a bench worker
(`--include bench.prototype`, see `python -m bench --prototype`) so that their effect is
measured against the unchanged code in the same run. Nothing in docpost imports this.

Which patches are on: DOCPOST_BENCH_PROTOTYPE, a comma-separated list of the names below
(default: all of them).

- attempt: tasks/execute.py's delivery count in one statement: `UPDATE requests ... RETURNING
  attempts` instead of `SELECT ... FOR UPDATE` of the ORM row and an UPDATE at flush.
- ping: tasks/db.py's engine without pool_pre_ping (three `SELECT 1` round trips per task,
  one per session); a connection broken meanwhile fails the task with OperationalError, which
  tasks/retry.py already retries as transient.
- relay: tasks/relay.py, right after a posting, publishes the outbox rows this posting wrote
  (known by id) and marks them with one UPDATE in autocommit, instead of a transaction that
  locks and reads the whole unpublished outbox (FOR UPDATE SKIP LOCKED). The sweep still
  relays what a crash left. Large fan-outs (bulk) keep the batched relay.
- fanout: pipeline/services/bulk.py records each fanned-out invoice request as `queued` in the
  bulk transaction, so the first delivery of each finds its row (one transaction) instead of
  missing it, recording it and counting again (three).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session, sessionmaker

import tasks.execute as task_execute
import tasks.render as task_render
from pipeline.contract import parse_request
from pipeline.db import make_engine
from pipeline.execute import SERVICES
from pipeline.uow import UnitOfWork
from schema import OutboxMessage, RequestRecord
from schema.requests import FINAL_STATUSES
from schema.types import utcnow
from tasks.relay import publish_outbox_message, relay_quietly

ALL = ("attempt", "ping", "relay", "fanout")
FAST_RELAY_LIMIT = 100


def enabled() -> set[str]:
    names = os.environ.get("DOCPOST_BENCH_PROTOTYPE", ",".join(ALL))
    return {n.strip() for n in names.split(",") if n.strip()}


# --- attempt ---------------------------------------------------------------------------------

_FINAL = ", ".join(f"'{status}'" for status in FINAL_STATUSES)
_COUNT_ATTEMPT = text(
    "UPDATE requests SET attempts = attempts + 1, status = 'running' "
    f"WHERE request_id = :id AND status NOT IN ({_FINAL}) RETURNING attempts"
)


def start_attempt(request_id: str, sessions: sessionmaker[Session]) -> tuple[int, bool]:
    with sessions() as session, session.begin():
        counted = session.execute(_COUNT_ATTEMPT, {"id": request_id}).scalar_one_or_none()
        if counted is not None:
            return int(counted), False
        attempts = session.execute(
            text("SELECT attempts FROM requests WHERE request_id = :id"), {"id": request_id}
        ).scalar_one_or_none()
        return (0, False) if attempts is None else (int(attempts), True)


# --- ping ------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _sessions_without_ping(url: str) -> sessionmaker[Session]:
    return sessionmaker(make_engine(url, pool_pre_ping=False), expire_on_commit=False)


def worker_sessions() -> sessionmaker[Session]:
    from pipeline.config import get_settings

    return _sessions_without_ping(get_settings().database_url)


# --- relay -----------------------------------------------------------------------------------

_written: list[OutboxMessage] = []
_original_add_outbox = UnitOfWork.add_outbox


def add_outbox(self: UnitOfWork, task: str, payload: dict[str, Any]) -> None:
    message = OutboxMessage(task=task, payload=payload)
    self.session.add(message)
    _written.append(message)


def relay_written(sessions: sessionmaker[Session]) -> None:
    written = [m for m in _written if m.id is not None]
    _written.clear()
    if not written or len(written) > FAST_RELAY_LIMIT:
        relay_quietly(sessions)  # nothing known, or a fan-out: the batched relay
        return
    try:
        for message in written:
            publish_outbox_message(message.task, message.payload)
        engine = sessions.kw["bind"]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([m.id for m in written]))
                .where(OutboxMessage.published_at.is_(None))
                .values(published_at=utcnow())
            )
    except Exception:
        relay_quietly(sessions)  # as before: the sweep publishes whatever is left


_original_execute = task_execute.execute


def execute(body: Any, sessions: sessionmaker[Session]) -> dict[str, Any]:
    _written.clear()  # a rejected or retried run may have left messages that never committed
    outcome = _original_execute(body, sessions)
    if outcome.get("status") != "succeeded":
        _written.clear()
    return outcome


# --- fanout ----------------------------------------------------------------------------------

_original_bulk = SERVICES["bulk_invoice"]


def bulk_invoice(uow: UnitOfWork, cmd: Any) -> dict[str, Any]:
    result = _original_bulk(uow, cmd)
    rows = []
    now = utcnow()
    for message in [m for m in uow.session.new if isinstance(m, OutboxMessage)]:
        if message.task != "execute_request":
            continue
        child = parse_request(message.payload["body"])
        rows.append(
            {
                "request_id": child.request_id,
                "kind": child.kind,
                "actor": child.actor,
                "body_sha256": child.body_sha256,
                "body": child.body,
                "status": "queued",
                "attempts": 0,
                "created_at": now,
            }
        )
    if rows:
        # Children already known (a second bulk run over the same slips) keep their rows.
        existing = set(
            uow.session.scalars(
                text("SELECT request_id FROM requests WHERE request_id = ANY(:ids)").bindparams(
                    ids=[r["request_id"] for r in rows]
                )
            )
        )
        rows = [r for r in rows if r["request_id"] not in existing]
        if rows:
            uow.session.execute(insert(RequestRecord), rows)
    return result


# --- apply ---------------------------------------------------------------------------------

_PATCHES: dict[str, list[tuple[Any, str, Any]]] = {
    "attempt": [(task_execute, "start_attempt", start_attempt)],
    "ping": [
        (task_execute, "worker_sessions", worker_sessions),
        (task_render, "worker_sessions", worker_sessions),
    ],
    "relay": [
        (UnitOfWork, "add_outbox", add_outbox),
        (task_execute, "execute", execute),
        (task_execute, "relay_quietly", relay_written),
    ],
    "fanout": [(SERVICES, "bulk_invoice", bulk_invoice)],
}
_saved: list[tuple[Any, str, Any]] = []


def _set(target: Any, name: str, value: Any) -> Any:
    if isinstance(target, dict):
        old, target[name] = target[name], value
    else:
        old = getattr(target, name)
        setattr(target, name, value)
    return old


def apply(names: set[str] | None = None) -> set[str]:
    """Patch in the named prototypes (default: DOCPOST_BENCH_PROTOTYPE, else all)."""
    on = enabled() if names is None else names
    for name in on:
        for target, attribute, value in _PATCHES[name]:
            _saved.append((target, attribute, _set(target, attribute, value)))
    return on


def revert() -> None:
    while _saved:
        target, attribute, value = _saved.pop()
        _set(target, attribute, value)


# In a bench worker (`--include bench.prototype`, DOCPOST_BENCH_PROTOTYPE set by
# bench.workers) the patches apply on import, in the main process before the pool forks.
APPLIED = apply() if "DOCPOST_BENCH_PROTOTYPE" in os.environ else set()
