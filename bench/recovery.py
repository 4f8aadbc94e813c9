"""The recovery sweep's cost (tasks.recovery): what beat's sweep costs when nothing is lost,
on a requests table of finished work, and how fast it publishes lost work again.

`python -m bench.recovery [--finished N] [--lost N]`, on the real PostgreSQL and Redis (this
run's schema and key prefix only). `measure(db, broker)` is the section for `python -m bench`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import Any

from sqlalchemy import event, insert, text

from bench.common import Database
from bench.workers import Broker
from docpost.schema import RequestRecord
from docpost.schema.types import utcnow

IDLE_SWEEPS = 20


def _rows(prefix: str, count: int, status: str, created: dt.datetime) -> list[dict[str, Any]]:
    return [
        {
            "request_id": f"{prefix}-{n}",
            "kind": "confirm_order",
            "actor": "erp",
            "body_sha256": "0" * 64,
            "body": json.dumps(
                {
                    "request_id": f"{prefix}-{n}",
                    "kind": "confirm_order",
                    "actor": "erp",
                    "payload": {"order": f"SO-{prefix}-{n}"},
                }
            ),
            "status": status,
            "attempts": 0 if status == "queued" else 1,
            "created_at": created,
        }
        for n in range(count)
    ]


def _insert(db: Database, rows: list[dict[str, Any]]) -> None:
    with db.sessions() as session, session.begin():
        for start in range(0, len(rows), 5000):
            session.execute(insert(RequestRecord), rows[start : start + 5000])


def measure(
    db: Database, broker: Broker, finished: int = 100_000, lost: int = 1_000
) -> dict[str, Any]:
    from docpost.tasks.recovery import Cutoffs, recover

    old = utcnow() - dt.timedelta(hours=3)
    _insert(db, _rows("bench-done", finished, "succeeded", old))
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE requests"))
        conn.execute(text("ANALYZE documents"))

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", count)
    started = time.perf_counter()
    for _ in range(IDLE_SWEEPS):
        assert recover(db.sessions) == {"requests": 0, "documents": 0}
    idle_ms = (time.perf_counter() - started) * 1000 / IDLE_SWEEPS
    event.remove(db.engine, "before_cursor_execute", count)
    with db.engine.connect() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN SELECT request_id FROM requests WHERE status = 'queued' "
                "AND created_at < now() - interval '5 minutes'"
            )
        ).scalars()
        uses_index = any("ix_requests_open" in line for line in plan)

    _insert(db, _rows("bench-lost", lost, "queued", old))
    started = time.perf_counter()
    sent = recover(db.sessions, Cutoffs.now())
    republish_s = time.perf_counter() - started
    waiting = broker.waiting("posting")
    broker.purge("posting")
    return {
        "recovery_finished_requests": finished,
        "recovery_idle_sweep_ms": round(idle_ms, 2),
        "recovery_idle_sweep_statements": len(statements) // IDLE_SWEEPS,
        "recovery_uses_partial_index": uses_index,
        "recovery_lost_requests": lost,
        "recovery_republished": sent["requests"],
        "recovery_republished_waiting_in_broker": waiting,
        "recovery_republish_per_s": round(sent["requests"] / republish_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    from bench.common import private_database
    from bench.workers import configure_client

    parser = argparse.ArgumentParser(prog="python -m bench.recovery", description=__doc__)
    parser.add_argument("--finished", type=int, default=100_000)
    parser.add_argument("--lost", type=int, default=1_000)
    args = parser.parse_args(argv)
    broker = Broker()
    configure_client(broker.env())
    try:
        with private_database() as db:
            figures = measure(db, broker, args.finished, args.lost)
    finally:
        broker.flush()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
