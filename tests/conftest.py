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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.contract import canonical_json
from docpost.pipeline.db import make_engine
from docpost.pipeline.runner.execute import execute
from docpost.schema import Base
from docpost.schema.migrate import upgrade
from docpost.schema.request_sequence import next_request_sequence
from docpost.schema.requests import RequestRecord
from docpost.schema.types import utcnow

PG_URL = os.environ.get("DOCPOST_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DOCPOST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLES = Path(__file__).resolve().parent.parent / "pipeline" / "examples" / "usmf"
NORWAY_CATALOG = EXAMPLES.parent / "norway" / "catalog.json"


# --- pytest-xdist: which tests must share a worker ---------------------------------------------

# Fixtures wider than a test but narrower than the session (the HTTP package's stack, a module's
# posted example) are built once per xdist worker that runs any of their tests: the tests that
# share one go to one worker (`--dist loadgroup`, pyproject.toml), so each is built once, as in
# a serial run. xdist hands out the biggest groups first, then single tests in collection order.
SHARED_SCOPES = ("package", "module", "class")


def shared_fixture_group(item: pytest.Item) -> str | None:
    """The node whose fixture this test shares with others (the widest one), or None."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    scopes = {
        fixturedefs[-1].scope
        for name, fixturedefs in info.name2fixturedefs.items()
        if fixturedefs and name in info.names_closure
    }
    module = item.nodeid.split("::", 1)[0]
    if "package" in scopes:
        return str(Path(module).parent)
    if "module" in scopes or "class" in scopes:
        return module
    return None


# The folders whose tests start workers and servers and run for tens of seconds each: under
# xdist they are handed out first, so that no process is left with one of them at the end
# while the others are idle.
LONG_FOLDERS = ("tests/faults/", "tests/integration/", "tests/bench/", "tests/observability/")


def long_first(item: pytest.Item) -> int:
    return 0 if item.nodeid.startswith(LONG_FOLDERS) else 1


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        group = shared_fixture_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    if os.environ.get("PYTEST_XDIST_WORKER"):  # every worker sorts alike: the same collection
        items.sort(key=long_first)


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
        _FRESH_SQLITE[str(path)] = _file_state(path)
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
def usmf(run: Runner, catalogs: CatalogSnapshots) -> Runner:
    """The USMF demo catalog loaded."""
    catalogs.load(run, "usmf", usmf_catalog)
    return run


@pytest.fixture
def norway(run: Runner, catalogs: CatalogSnapshots) -> Runner:
    """The Norwegian example catalog loaded."""
    catalogs.load(run, "norway", norway_catalog)
    return run


# --- catalog snapshots -------------------------------------------------------------------------

# Posting a catalog takes ~0.15 s of this process's CPU and as much of the database's, and
# ~900 tests start with one. Each catalog is posted once per session (per xdist worker) into a
# database of its own; a test whose database is still as db_url left it gets a copy of that
# database's rows instead, with the request record made what posting it here would have made:
# the Runner's next request_id, the body under that id, this moment's timestamps, the next
# accept number. A database that anything touched first gets the catalog posted as before.
SNAPSHOT_REQUEST_ID = "catalog-snapshot"
# SQLite file -> (size, mtime) when db_url copied the template into it.
_FRESH_SQLITE: dict[str, tuple[int, int]] = {}


def _file_state(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _sqlite_untouched(path: Path) -> bool:
    """No connection open (WAL mode makes -wal and -shm files while one is) and no write since
    the template was copied in."""
    if any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-shm", "-journal")):
        return False
    return path.exists() and _FRESH_SQLITE.get(str(path)) == _file_state(path)


def _postgres_untouched(engine: Engine) -> bool:
    """Every table as reset_postgres leaves it: empty but the number series, all at 1, and no
    table's sequence taken from."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    counted = " + ".join(f'(SELECT count(*) FROM "{name}")' for name in tables)
    with engine.connect() as conn:
        sequences = conn.execute(text(OWNED_SEQUENCES)).scalars().all()
        called = " OR ".join(f'(SELECT is_called FROM "{name}")' for name in sequences) or "false"
        rows, used, moved = conn.execute(
            text(
                f"SELECT {counted}, {called}, "
                "(SELECT count(*) FROM number_series WHERE next_value <> 1)"
            )
        ).one()
    return bool(rows == 6 and not used and moved == 0)


class CatalogSnapshots:
    """The catalogs posted once per session, copied into the tests' databases."""

    def __init__(self, stack: contextlib.ExitStack, folder: Path, template: Path) -> None:
        self._stack, self._folder, self._template = stack, folder, template
        self._sqlite: dict[str, Path] = {}
        self._postgres: dict[str, tuple[str, list[str], dict[str, int]]] = {}

    def load(self, run: Runner, name: str, catalog: Callable[[], dict[str, Any]]) -> None:
        """`run.ok("upsert_catalog", catalog())`, from the snapshot when the database allows."""
        engine = run.sessions.kw["bind"]
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database:
            path = Path(url.database)
            if _sqlite_untouched(path):
                shutil.copyfile(self._sqlite_snapshot(name, catalog), path)
                self._record_request(run, engine, catalog, next_sequence=False)
                return
        elif url.get_backend_name() == "postgresql" and _postgres_untouched(engine):
            self._copy_postgres(engine, name, catalog)
            self._record_request(run, engine, catalog, next_sequence=True)
            return
        run.ok("upsert_catalog", catalog())

    def _post(self, database_url: str, catalog: Callable[[], dict[str, Any]]) -> None:
        engine = make_engine(database_url)
        body = {"request_id": SNAPSHOT_REQUEST_ID, "kind": "upsert_catalog", "actor": "erp",
                "payload": catalog()}  # fmt: skip
        outcome = execute(json.dumps(body), sessionmaker(engine, expire_on_commit=False))
        engine.dispose()  # the last connection closed: the WAL is checkpointed and removed
        assert outcome["status"] == "succeeded", outcome

    def _sqlite_snapshot(self, name: str, catalog: Callable[[], dict[str, Any]]) -> Path:
        if name not in self._sqlite:
            path = self._folder / f"{name}.db"
            shutil.copyfile(self._template, path)
            self._post(f"sqlite:///{path}", catalog)
            self._sqlite[name] = path
        return self._sqlite[name]

    def _copy_postgres(
        self, engine: Engine, name: str, catalog: Callable[[], dict[str, Any]]
    ) -> None:
        if name not in self._postgres:
            url = self._stack.enter_context(private_schema("docpost_snap"))
            self._post(url, catalog)
            schema = url.split("search_path%3D", 1)[1].split("%20", 1)[0]
            snapshot = make_engine(url)
            with snapshot.connect() as conn:
                filled = [
                    t.name
                    for t in Base.metadata.sorted_tables
                    if conn.execute(text(f'SELECT EXISTS (SELECT FROM "{t.name}")')).scalar()
                ]
                sequences = {
                    seq: int(conn.execute(text(f'SELECT last_value FROM "{seq}"')).scalar_one())
                    for seq in conn.execute(text(OWNED_SEQUENCES)).scalars()
                    if conn.execute(text(f'SELECT is_called FROM "{seq}"')).scalar()
                }
            snapshot.dispose()
            self._postgres[name] = (schema, filled, sequences)
        schema, filled, sequences = self._postgres[name]
        statements = [f'DELETE FROM "{table}"' for table in reversed(filled)]
        statements += [f'INSERT INTO "{t}" SELECT * FROM "{schema}"."{t}"' for t in filled]
        statements += [f"SELECT setval('\"{seq}\"', {value})" for seq, value in sequences.items()]
        with engine.begin() as conn:
            conn.exec_driver_sql(";\n".join(statements))

    @staticmethod
    def _record_request(
        run: Runner, engine: Engine, catalog: Callable[[], dict[str, Any]], next_sequence: bool
    ) -> None:
        """The snapshot's request record as this test's: what run.ok would have recorded."""
        request_id = f"t-{next(run._ids)}"
        body = {"request_id": request_id, "kind": "upsert_catalog", "actor": "erp",
                "payload": catalog()}  # fmt: skip
        values: dict[str, Any] = {
            "request_id": request_id,
            "body": canonical_json(json.loads(json.dumps(body))),
            "created_at": utcnow(),
            "finished_at": utcnow(),
        }
        if next_sequence:
            values["sequence"] = next_request_sequence()
        with engine.begin() as conn:
            conn.execute(
                update(RequestRecord)
                .where(RequestRecord.request_id == SNAPSHOT_REQUEST_ID)
                .values(**values)
            )


@pytest.fixture(scope="session")
def catalogs(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[CatalogSnapshots]:
    with contextlib.ExitStack() as stack:
        yield CatalogSnapshots(stack, tmp_path_factory.mktemp("catalogs"), sqlite_template)


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
