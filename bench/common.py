"""What the benchmarks share: a private PostgreSQL schema, the USMF catalog, timing.

The catalogs and orders the posting and bulk figures run on (with tax and without) are in
bench.scenarios."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.db import make_engine
from docpost.pipeline.runner.execute import execute
from docpost.schema import Journal, JournalVat
from docpost.schema.migrate import upgrade

PG_URL = os.environ.get("DOCPOST_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DOCPOST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
CATALOG = Path(__file__).resolve().parent.parent / "pipeline" / "examples" / "usmf" / "catalog.json"


@dataclass
class Database:
    url: str
    schema: str
    engine: Engine
    sessions: sessionmaker[Session]


@contextmanager
def private_database(catalog: dict[str, Any] | None = None) -> Iterator[Database]:
    """A fresh schema in the PostgreSQL test database, migrated, with `catalog` loaded (the
    USMF example unless given), dropped afterwards."""
    name = f"docpost_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{name}"
    engine = make_engine(url, pool_size=5)
    try:
        upgrade(engine)
        sessions = sessionmaker(engine, expire_on_commit=False)
        if catalog is None:
            catalog = json.loads(CATALOG.read_text())
        ok(execute(request("catalog", "upsert_catalog", catalog), sessions))
        yield Database(url, name, engine, sessions)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def request(
    request_id: str, kind: str, payload: dict[str, Any], actor: str = "erp"
) -> dict[str, Any]:
    return {"request_id": request_id, "kind": kind, "actor": actor, "payload": payload}


def ok(outcome: dict[str, Any]) -> dict[str, Any]:
    if outcome["status"] != "succeeded":
        raise RuntimeError(f"benchmark set-up failed: {outcome}")
    return outcome


def order_request(number: str) -> dict[str, Any]:
    """An order of three lines: a serialized laptop (2), a docking station, a support plan."""
    return request(
        f"order-{number}",
        "upsert_order",
        {
            "order": number,
            "customer": "US-004",
            "lines": [
                {"line": 1, "item": "1000", "quantity": "2", "unit_price": "1900.00"},
                {"line": 2, "item": "S0021", "quantity": "2", "unit_price": "150.00"},
                {"line": 3, "item": "S0021", "quantity": "1", "unit_price": "140.00"},
            ],
        },
    )


def packing_slip_request(number: str) -> dict[str, Any]:
    """The benchmark posting: a packing slip of 3 lines with 2 serials."""
    return request(
        f"ps-{number}",
        "post_packing_slip",
        {
            "order": number,
            "lines": [
                {"line": 1, "quantity": "2", "serials": [f"{number}-A", f"{number}-B"]},
                {"line": 2, "quantity": "2"},
                {"line": 3, "quantity": "1"},
            ],
        },
        actor="warehouse-1",
    )


def vat_rows(db: Database, kind: str = "invoice") -> int:
    """The VAT groups (journal_vat rows, T3) of the database's journals of `kind`: proof that
    tax was posted (a confirmation of the same order may carry its own)."""
    journals = select(Journal.id).where(Journal.kind == kind)
    with db.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(JournalVat)
                .where(JournalVat.journal_id.in_(journals))
            )
            or 0
        )


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
