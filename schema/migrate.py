"""Create or upgrade a database to the newest schema (`docpost init`), and what `docpost db`
asks Alembic (upgrade, current, history, offline SQL for a DBA to review)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

MIGRATIONS = Path(__file__).parent / "migrations"
# The table Alembic keeps the applied revision in: a database without it has no docpost schema.
VERSION_TABLE = "alembic_version"


def alembic_config(url: str, stdout: TextIO | None = None) -> Config:
    """Alembic's configuration for the database at `url`; its commands print to `stdout`
    (default: the process's)."""
    config = Config(stdout=stdout) if stdout is not None else Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run every migration not yet applied (up to `revision`), in one transaction where the
    database allows."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def run_on(engine: Engine, config: Config, run: Any) -> None:
    """Run the Alembic command `run(config)` (command.current, command.history, ...) on
    `engine`'s connection, as `upgrade` does."""
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        run(config)


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has no docpost schema."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        return MigrationContext.configure(connection).get_current_revision()


def history() -> list[dict[str, Any]]:
    """The shipped migrations, oldest first: revision, down_revision and their title (the
    docstring's first paragraph, on one line: what `alembic history` prints)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [
        {
            "revision": s.revision,
            "down_revision": s.down_revision,
            "message": " ".join((s.doc or "").strip().split("\n\n")[0].split()),
        }
        for s in reversed(list(script.walk_revisions()))
    ]


def schema_problem(engine: Engine) -> str | None:
    """Why a command cannot work on this database's schema, in words that say what to run;
    None when the schema is up to date (the fault lies elsewhere)."""
    current = current_revision(engine)
    if current is None:
        return "the database has no docpost schema: run `docpost init`"
    head = head_revision()
    if current != head:
        return (
            f"the database schema is at revision {current}, this docpost needs {head}: run "
            "`docpost init` (or `docpost db upgrade`)"
        )
    return None


def offline_sql(url: str, start: str | None, end: str, out: TextIO) -> None:
    """The SQL that upgrades a database at revision `start` (None: an empty one) to `end`,
    written to `out` and not run (Alembic's offline mode), for a DBA to review."""
    config = alembic_config(url, stdout=out)
    config.output_buffer = out
    command.upgrade(config, f"{start}:{end}" if start else end, sql=True)
