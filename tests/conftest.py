"""Shared fixtures: databases (SQLite and PostgreSQL), sessions, and a request runner.

PostgreSQL and Redis are real servers. Outside CI a test that needs one skips when it is down;
with CI=true it fails instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import make_engine
from docpost.pipeline.runner.execute import execute
from docpost.schema import Base
from docpost.schema.migrate import upgrade

PG_URL = os.environ.get("DOCPOST_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DOCPOST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLES = Path(__file__).resolve().parent.parent / "pipeline" / "examples" / "usmf"
NORWAY_CATALOG = EXAMPLES.parent / "norway" / "catalog.json"


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: tests that need it must run)", pytrace=False)
    pytest.skip(message)


# --- PostgreSQL: one private schema per test session ------------------------------------------


@contextlib.contextmanager
def private_schema(prefix: str = "docpost_t") -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new schema, migrated; dropped afterwards. Each
    test run (and suite) gets its own, so runs on one server never see each other's rows."""
    admin = make_engine(PG_URL)
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:  # any connection problem means "not reachable"
        admin.dispose()
        unavailable("PostgreSQL", exc)
    separator = "&" if "?" in PG_URL else "?"
    # synchronous_commit off: a commit does not wait for the disk (4-5 ms each here); what
    # other sessions see is the same, only a crash of the shared server could lose the last
    # commits, and no test crashes it (the fault tests stop private servers of their own).
    url = f"{PG_URL}{separator}options=-csearch_path%3D{name}%20-csynchronous_commit%3Doff"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    """The session's private PostgreSQL schema."""
    with private_schema() as url:
        yield url


# Sequences owned by a column of a table (serial and identity columns): what TRUNCATE ...
# RESTART IDENTITY restarts. A free-standing sequence (request_sequence) keeps counting, as it
# did under TRUNCATE.
OWNED_SEQUENCES = """
SELECT DISTINCT s.relname FROM pg_class s
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid
WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace
"""


def reset_postgres(engine: Engine) -> None:
    """Every table emptied, the tables' sequences restarted, the number series at 1.

    DELETE, children before parents, in one round trip: TRUNCATE of the 27 tables gives each
    a new file and waits for the disk (0.3-0.5 s a test, ~10x this on tables of a few rows).
    """
    with engine.begin() as conn:
        sequences = conn.execute(text(OWNED_SEQUENCES)).scalars().all()
        statements = [f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)]
        statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sorted(sequences)]
        statements.append(
            "INSERT INTO number_series (code, next_value) VALUES "
            "('CONF', 1), ('PS', 1), ('INV', 1), ('CN', 1), ('VOU', 1), ('POS', 1)"
        )
        conn.exec_driver_sql(";\n".join(statements))


# --- SQLite: a migrated template copied per test ----------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "docpost.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


# --- the database a service test runs on ------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same service tests run on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "docpost.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_base_url")
    engine = make_engine(url)
    reset_postgres(engine)
    engine.dispose()
    return url


@pytest.fixture
def pg_url(pg_base_url: str) -> str:
    """PostgreSQL only (concurrency tests), emptied for this test."""
    engine = make_engine(pg_base_url)
    reset_postgres(engine)
    engine.dispose()
    return pg_base_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class Runner:
    """Executes requests the way every caller does (pipeline.runner.execute), with fresh ids."""

    _ids = itertools.count(1)

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def __call__(
        self,
        kind: str,
        payload: dict[str, Any],
        actor: str = "erp",
        request_id: str | None = None,
    ) -> dict[str, Any]:
        body = {
            "request_id": request_id or f"t-{next(self._ids)}",
            "kind": kind,
            "actor": actor,
            "payload": payload,
        }
        return execute(json.dumps(body), self.sessions)

    def ok(
        self, kind: str, payload: dict[str, Any], actor: str = "erp", **kw: Any
    ) -> dict[str, Any]:
        outcome = self(kind, payload, actor, **kw)
        assert outcome["status"] == "succeeded", outcome
        return outcome["result"]

    def rejected(
        self, kind: str, payload: dict[str, Any], actor: str = "erp", **kw: Any
    ) -> dict[str, Any]:
        outcome = self(kind, payload, actor, **kw)
        assert outcome["status"] == "rejected", outcome
        return outcome["error"]


@pytest.fixture
def run(sessions: sessionmaker[Session]) -> Runner:
    return Runner(sessions)


def usmf_catalog() -> dict[str, Any]:
    return json.loads((EXAMPLES / "catalog.json").read_text())


def norway_catalog() -> dict[str, Any]:
    """The Norwegian example (pipeline/examples/norway): a company selling in NOK with the
    SAF-T tax codes, items at 15 % and 25 % and a gift basket of both (M6-M8, T4)."""
    catalog: dict[str, Any] = json.loads(NORWAY_CATALOG.read_text(encoding="utf-8"))
    return catalog


def usmf_requests() -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in (EXAMPLES / "requests.jsonl").read_text().splitlines()
        if line.strip()
    ]


@pytest.fixture
def usmf(run: Runner) -> Runner:
    """The USMF demo catalog loaded."""
    run.ok("upsert_catalog", usmf_catalog(), actor="erp")
    return run


@pytest.fixture
def norway(run: Runner) -> Runner:
    """The Norwegian example catalog loaded."""
    run.ok("upsert_catalog", norway_catalog())
    return run


# --- settings ---------------------------------------------------------------------------------


@pytest.fixture
def locale_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """DOCPOST_LOCALE tests (tests/unit, and init's negative control in tests/services): run in
    tmp_path, whose settings and database are the test's own."""
    monkeypatch.chdir(tmp_path)  # no .env of the checkout; a database file of our own
    monkeypatch.setenv("DOCPOST_DATABASE_URL", f"sqlite:///{tmp_path / 'docpost.db'}")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
