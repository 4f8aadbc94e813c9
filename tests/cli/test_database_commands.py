"""Issue 18 item 5 and the database side of item 4, on SQLite and PostgreSQL:

- `docpost db upgrade|current|history` through Alembic's own commands, and `docpost db upgrade
  --sql`: the SQL a DBA reviews before it runs (Alembic's offline mode), which, run by hand,
  brings the database to the newest revision. `docpost init` works as before.
- `docpost show order` / `documents` / `dead-letters` on a database without docpost's schema
  say to run `docpost init`, instead of a traceback.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for, make_engine
from docpost.schema.migrate import current_revision, head_revision, history, upgrade
from tests.cli.conftest import docpost
from tests.conftest import PG_URL, unavailable


@contextlib.contextmanager
def _empty_pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema (no migration run)."""
    admin = make_engine(PG_URL)
    name = f"docpost_e{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:
        admin.dispose()
        unavailable("PostgreSQL", exc)
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{name}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty database (no docpost schema), set as DOCPOST_DATABASE_URL."""
    monkeypatch.chdir(tmp_path)
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'empty.db'}"
        else:
            url = stack.enter_context(_empty_pg_schema())
        monkeypatch.setenv("DOCPOST_DATABASE_URL", url)
        get_settings.cache_clear()
        yield url
        get_settings.cache_clear()
        engine_for(url).dispose()


NO_SCHEMA = "the database has no docpost schema: run `docpost init`"


@pytest.mark.parametrize(
    "command",
    [["show", "order", "SO-1"], ["documents"], ["dead-letters"], ["trace", "SN"], ["ledger"]],
    ids=" ".join,
)
def test_a_database_without_schema_says_run_init(
    empty_url: str, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code, out, err = docpost(capsys, *command)
    assert (code, out, err) == (1, "", f"docpost: {NO_SCHEMA}\n")
    code, out, _ = docpost(capsys, *command, "--json")
    assert json.loads(out) == {"error": {"code": "database.no_schema", "message": NO_SCHEMA}}
    # Negative control: after `docpost init` the same command answers (or finds nothing).
    assert docpost(capsys, "init")[0] == 0
    code, _, err = docpost(capsys, *command)
    assert "schema" not in err and code in (0, 1)


def test_an_older_schema_says_which_revision_and_to_upgrade(
    empty_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = history()[0]["revision"]
    upgrade(engine_for(empty_url), first)
    code, _, err = docpost(capsys, "documents")
    assert code == 1
    assert err == (
        f"docpost: the database schema is at revision {first}, this docpost needs "
        f"{head_revision()}: run `docpost init` (or `docpost db upgrade`)\n"
    )


def test_db_current_history_and_upgrade(empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    head = head_revision()
    code, current = docpost(capsys, "db", "current", "--json")[:2]
    assert json.loads(current) == {
        "database": engine_for(empty_url).url.render_as_string(hide_password=True),
        "current": None,
        "head": head,
        "up_to_date": False,
    }
    middle = history()[4]["revision"]
    code, out, err = docpost(capsys, "db", "upgrade", middle)
    assert code == 0, err
    assert out.endswith(f": schema at {middle} (was empty)\n")
    code, out, _ = docpost(capsys, "db", "current")
    # Alembic's own line (revision), then ours.
    assert out.splitlines() == [middle, f"not up to date: the newest is {head}"]
    assert docpost(capsys, "--json", "db", "upgrade")[1].count(head) == 1
    out = docpost(capsys, "db", "current")[1]
    assert out.splitlines() == [f"{head} (head)", "up to date"]
    out = docpost(capsys, "db", "history")[1]
    assert out.splitlines()[0].startswith(f"{history()[-2]['revision']} -> {head} (head), ")
    listed = json.loads(docpost(capsys, "db", "history", "--json")[1])
    assert listed["head"] == head and listed["migrations"][-1]["revision"] == head
    assert len(listed["migrations"]) == sum(" -> " in line for line in out.splitlines())


def test_init_keeps_working(empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = docpost(capsys, "init")
    assert code == 0 and out.startswith("schema up to date in ")
    assert current_revision(engine_for(empty_url)) == head_revision()


@pytest.fixture
def pg_before_head(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL schema at the revision before the newest."""
    monkeypatch.chdir(tmp_path)
    with _empty_pg_schema() as url:
        upgrade(make_engine(url), history()[-1]["down_revision"])
        monkeypatch.setenv("DOCPOST_DATABASE_URL", url)
        get_settings.cache_clear()
        yield url
        get_settings.cache_clear()
        engine_for(url).dispose()


@pytest.mark.postgres
def test_db_upgrade_sql_is_the_newest_migration_and_running_it_upgrades(
    pg_before_head: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The SQL is printed, not run (the database stays where it was); it holds the newest
    migration's DDL; run by hand (as a DBA would, with psql), it brings the database to head,
    after which `docpost init` has nothing left to do."""
    engine = engine_for(pg_before_head)
    before, head = history()[-1]["down_revision"], head_revision()
    code, sql, err = docpost(capsys, "db", "upgrade", "--sql")
    assert code == 0, err
    assert current_revision(engine) == before  # nothing ran
    assert f"-- Running upgrade {before} -> {head}" in sql
    statements = [s.strip() for s in sql.split(";") if s.strip()]
    ddl = [s for s in statements if s.split()[0] in ("CREATE", "ALTER", "DROP")]
    assert ddl, sql
    assert f"UPDATE alembic_version SET version_num='{head}'" in sql
    assert sql.count("-- Running upgrade") == 1  # from the database's revision, not from base
    with engine.begin() as connection:
        for statement in statements:
            if statement.split()[-1] not in ("BEGIN", "COMMIT"):  # the comment line rides along
                connection.exec_driver_sql(statement)
    assert current_revision(engine) == head
    assert docpost(capsys, "db", "upgrade", "--sql")[1].count("-- Running upgrade") == 0


@pytest.mark.postgres
def test_db_upgrade_sql_from_a_revision(
    pg_before_head: str, capsys: pytest.CaptureFixture[str]
) -> None:
    start = history()[-3]["revision"]
    code, sql, _ = docpost(capsys, "db", "upgrade", "--sql", "--from", start)
    assert code == 0 and sql.count("-- Running upgrade") == 2


@pytest.mark.postgres
def test_db_upgrade_sql_names_a_migration_that_reads_the_database(
    pg_before_head: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = docpost(capsys, "db", "upgrade", "--sql", "--from", "base")
    assert (code, out) == (1, "")
    assert err.startswith("docpost: db upgrade --sql: migration 0003 -> 0004 reads the database")


def test_db_upgrade_sql_refuses_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCPOST_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    get_settings.cache_clear()
    code, out, err = docpost(capsys, "db", "upgrade", "--sql")
    get_settings.cache_clear()
    assert (code, out) == (2, "")
    assert err == (
        "docpost: db upgrade --sql writes PostgreSQL's SQL: SQLite's migrations rebuild tables "
        "from the live table, which offline SQL cannot read; run `docpost db upgrade` instead\n"
    )


@pytest.mark.parametrize(
    "command", [["show", "order", "SO-1"], ["documents"], ["init"]], ids=" ".join
)
def test_a_database_out_of_reach_says_which_and_why(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """Nothing listens on port 1: the server's own reason, the URL without its password."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCPOST_DATABASE_URL", "postgresql+psycopg2://u:secret@127.0.0.1:1/db")
    get_settings.cache_clear()
    code, out, err = docpost(capsys, *command)
    get_settings.cache_clear()
    assert (code, out) == (1, "")
    assert err.startswith(
        "docpost: cannot reach the database postgresql+psycopg2://u:***@127.0.0.1:1/db: "
        'connection to server at "127.0.0.1", port 1 failed: Connection refused'
    ), err
    assert "secret" not in err
