"""What the command modules share: exit codes, the `--json` option and the subcommand factory,
sessions and the error report. Each command module imports this, never main.py, so the modules
form no circle."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for, session_factory
from docpost.pipeline.entrypoints.cli.output import print_error
from docpost.schema.migrate import upgrade

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]
# command(name, handler, help) -> the subparser to add arguments to.
CommandFactory = Callable[[str, Handler, str], argparse.ArgumentParser]


def json_option() -> argparse.ArgumentParser:
    """The option every command takes, `--json`, as a parent parser (of the top parser too:
    `docpost --json show ...` and `docpost show ... --json` both work)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return common


def command_factory(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> CommandFactory:
    """`command(name, handler, help)` for `sub`: the help text is also the command's
    description, `common`'s options come along, and `args.handler` is what main() calls."""

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[common])
        p.set_defaults(handler=handler)
        return p

    return command


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
