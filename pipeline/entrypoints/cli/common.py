"""What the command modules share: exit codes, the subcommand factory, sessions and the error
report. Each command module imports this, never main.py, so the modules form no circle."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for, session_factory
from docpost.pipeline.entrypoints.cli.output import print_error
from docpost.schema.migrate import upgrade

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2

# command(name, handler, help) -> the subparser to add arguments to (main.build_parser's).
CommandFactory = Callable[[str, Callable[[argparse.Namespace], int], str], Any]


def sessions(migrate: bool = False) -> sessionmaker[Session]:
    """Sessions on DOCPOST_DATABASE_URL; with `migrate`, the schema is upgraded first."""
    url = get_settings().database_url
    if migrate:
        upgrade(engine_for(url))
    return session_factory(url)


def fail(args: argparse.Namespace, message: str, code: str, exit_code: int = EXIT_REJECTED) -> int:
    """Report an error as `--json` asks (an error document on stdout) or on stderr."""
    if getattr(args, "json", False):
        print(json.dumps({"error": {"code": code, "message": message}}))
    else:
        print_error(message)
    return exit_code
