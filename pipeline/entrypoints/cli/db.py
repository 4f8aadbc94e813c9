"""`docpost db upgrade|current|history`: the schema's migrations through Alembic's own
commands (issue 18 item 5), so a DBA can see where a database is, what would run, and review
the SQL of an upgrade before it runs (`docpost db upgrade --sql`, Alembic's offline mode).
`docpost init` stays what it was: create or upgrade to the newest schema."""

from __future__ import annotations

import argparse
import io
import sys
from typing import TYPE_CHECKING

from docpost.pipeline.config import get_settings
from docpost.pipeline.entrypoints.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    CommandFactory,
    command_factory,
    fail,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine


def register_db_commands(command: CommandFactory) -> None:
    db = command(
        "db",
        lambda a: EXIT_USAGE,
        "the schema's migrations for a DBA (Alembic): upgrade, current revision, history, "
        "and the SQL of an upgrade without running it (db upgrade --sql)",
    )
    sub = command_factory(db.add_subparsers(title="what", metavar="WHAT", required=True))
    p = sub(
        "upgrade",
        cmd_db_upgrade,
        "upgrade the schema (as `docpost init` does), or with --sql print the SQL it would "
        "run, for review, and run nothing",
    )
    p.add_argument(
        "revision",
        nargs="?",
        default="head",
        metavar="REVISION",
        help="the revision to upgrade to (default: head, the newest; see `docpost db history`)",
    )
    p.add_argument(
        "--sql",
        action="store_true",
        help="print the SQL on stdout instead of running it (Alembic's offline mode; for "
        "PostgreSQL: SQLite's table rebuilds need the live table)",
    )
    p.add_argument(
        "--from",
        dest="start",
        metavar="REVISION",
        help="with --sql: the revision the database is at (default: read from the database; "
        "'base' for an empty one)",
    )
    sub("current", cmd_db_current, "the revision the database is at, and the newest")
    sub(
        "history",
        cmd_db_history,
        "the migrations shipped, newest first as Alembic lists them (--json: oldest first)",
    )


def _engine() -> Engine:
    from docpost.pipeline.db import engine_for

    return engine_for(get_settings().database_url)


def _shown_url() -> str:
    return _engine().url.render_as_string(hide_password=True)


def cmd_db_current(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.output import print_json
    from docpost.schema import migrate

    engine = _engine()
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if args.json:
        print_json(
            {
                "database": _shown_url(),
                "current": current,
                "head": head,
                "up_to_date": current == head,
            }
        )
        return EXIT_OK
    if current is None:
        print(f"{_shown_url()}: no docpost schema (run `docpost init`); newest is {head}")
        return EXIT_OK
    migrate.run_on(engine, migrate.alembic_config(_raw_url(), sys.stdout), _alembic_current)
    print("up to date" if current == head else f"not up to date: the newest is {head}")
    return EXIT_OK


def _alembic_current(config: object) -> None:
    from alembic import command

    command.current(config, verbose=False)  # type: ignore[arg-type]


def _raw_url() -> str:
    return _engine().url.render_as_string(hide_password=False)


def cmd_db_history(args: argparse.Namespace) -> int:
    from alembic import command

    from docpost.pipeline.entrypoints.cli.output import print_json
    from docpost.schema import migrate

    if args.json:
        print_json({"head": migrate.head_revision(), "migrations": migrate.history()})
        return EXIT_OK
    # Alembic's own listing, newest first; it reads only the migration scripts.
    command.history(migrate.alembic_config(_raw_url(), sys.stdout))
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.output import print_json
    from docpost.schema import migrate

    if args.sql:
        return _offline_sql(args)
    if args.start is not None:
        return fail(args, "db upgrade: --from goes with --sql", "usage", EXIT_USAGE)
    engine = _engine()
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, args.revision)
    after = migrate.current_revision(engine)
    if args.json:
        print_json({"database": _shown_url(), "from": before, "to": after})
    else:
        print(f"{_shown_url()}: schema at {after} (was {before or 'empty'})")
    return EXIT_OK


def _offline_sql(args: argparse.Namespace) -> int:
    """The SQL of the upgrade, printed and not run. Alembic writes it as it goes: it is
    collected first, so that a migration that cannot be written offline prints no half."""
    from alembic.util import CommandError

    from docpost.schema import migrate

    url = _raw_url()
    if url.startswith("sqlite"):
        return fail(
            args,
            "db upgrade --sql writes PostgreSQL's SQL: SQLite's migrations rebuild tables from "
            "the live table, which offline SQL cannot read; run `docpost db upgrade` instead",
            "usage",
            EXIT_USAGE,
        )
    start = args.start if args.start != "base" else None
    if args.start is None:
        start = migrate.current_revision(_engine())
    out = io.StringIO()
    try:
        migrate.offline_sql(url, start, args.revision, out)
    except CommandError as exc:
        return fail(args, f"db upgrade --sql: {exc}", "usage", EXIT_USAGE)
    except Exception as exc:  # a migration that reads the database cannot run offline
        return fail(
            args,
            f"db upgrade --sql: migration {_last_begun(out.getvalue()) or '?'} reads the "
            f"database and cannot be written as SQL offline ({type(exc).__name__}: {exc}); "
            "run it with `docpost db upgrade`, or give --from a later revision",
            "migration.offline",
            EXIT_REJECTED,
        )
    if args.json:
        from docpost.pipeline.entrypoints.cli.output import print_json

        print_json({"from": start, "to": args.revision, "sql": out.getvalue()})
    else:
        sys.stdout.write(out.getvalue())
    return EXIT_OK


def _last_begun(sql: str) -> str | None:
    """The migration Alembic was writing when it stopped: its last '-- Running upgrade A -> B'."""
    begun = [ln for ln in sql.splitlines() if ln.startswith("-- Running upgrade ")]
    return begun[-1].removeprefix("-- Running upgrade ") if begun else None
