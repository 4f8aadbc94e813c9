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


JSON_HELP = "print one JSON document on stdout (before or after the command)"


def json_option(top: bool = True) -> argparse.ArgumentParser:
    """The option every command takes, `--json`, as a parent parser: of the top parser
    (`top`) and, with `top=False`, of every subcommand, so `docpost --json show ...` and
    `docpost show ... --json` both work. A subcommand's `--json` has no default of its own:
    argparse would otherwise write its False over the True the top parser read before the
    command (issue 18: `docpost --json show order X` printed text)."""
    common = argparse.ArgumentParser(add_help=False)
    default = False if top else argparse.SUPPRESS
    common.add_argument("--json", action="store_true", default=default, help=JSON_HELP)
    return common


def command_factory(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser | None = None,
) -> CommandFactory:
    """`command(name, handler, help)` for `sub`: the help text is also the command's
    description, `--json` comes along (json_option(top=False); `common`, the top parser's
    json_option(), is accepted for the callers that pass it), and `args.handler` is what
    main() calls."""
    options = json_option(top=False)

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[options])
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
