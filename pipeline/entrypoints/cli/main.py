"""`docpost`: the command line (CONTRACT.md). Thin: parse arguments, call the pipeline, print.

Exit codes: 0 success, 1 a request was rejected or failed (or a lookup found nothing),
2 usage errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from docpost.pipeline import queries
from docpost.pipeline.config import ConfigurationError, get_settings
from docpost.pipeline.db import engine_for
from docpost.pipeline.documents import render_pending
from docpost.pipeline.entrypoints.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    command_factory,
    fail,
    json_option,
    sessions,
)
from docpost.pipeline.entrypoints.cli.db import register_db_commands
from docpost.pipeline.entrypoints.cli.dead_letters import register_dead_letter_commands
from docpost.pipeline.entrypoints.cli.documents import register_document_commands
from docpost.pipeline.entrypoints.cli.example import register_example_commands
from docpost.pipeline.entrypoints.cli.output import describe_outcome, print_json, readable_time
from docpost.pipeline.entrypoints.cli.queue import register_queue_commands
from docpost.pipeline.entrypoints.cli.requests_io import (
    RequestFileError,
    read_json_file,
    read_request_file,
)
from docpost.pipeline.entrypoints.cli.serve import register_http_commands
from docpost.pipeline.logs import configure_cli_logging
from docpost.pipeline.runner.execute import execute_or_fail
from docpost.pipeline.runner.follow_ups import run_follow_ups
from docpost.schema.migrate import schema_problem, upgrade

# A reader that went away (`docpost ledger | head`): the exit status of a program killed by
# SIGPIPE (128 + 13), as `yes | head` gives, and no traceback.
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a closed pipe is found here as often as in print
    except BrokenPipeError:
        # Python flushes stdout again at exit and would report the pipe there: point stdout
        # at /dev/null first (the recipe of Python's signal module documentation).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parse_arguments(parser, argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        # Every command, the worker and the HTTP service included, refuses a configuration it
        # cannot work with before doing anything (an unsupported DOCPOST_LOCALE, CONTRACT.md).
        get_settings()
    except ConfigurationError as exc:
        return fail(args, f"configuration refused: {exc}", "config.invalid", EXIT_USAGE)
    configure_cli_logging()  # DOCPOST_LOG_FORMAT and DOCPOST_LOG_LEVEL (pipeline.logs)
    try:
        return int(args.handler(args))
    except queries.NotFound as exc:
        return fail(args, str(exc), "not_found")
    except FileNotFoundError as exc:
        return fail(args, f"no such file: {exc.filename}", "usage", EXIT_USAGE)
    except RequestFileError as exc:
        return fail(args, str(exc), "usage", EXIT_USAGE)
    except DBAPIError as exc:
        return _database_error(args, exc)
    except KeyboardInterrupt:
        return 130


def _database_error(args: argparse.Namespace, exc: DBAPIError) -> int:
    """A query on a database without docpost's schema (or an older one) says what to run,
    and a database out of reach says which and why, instead of a traceback; any other
    database error is raised on."""
    engine = engine_for(get_settings().database_url)
    try:
        problem = schema_problem(engine)
    except DBAPIError as unreachable:
        # The server refuses even the schema check: the database itself is out of reach.
        reason = str(unreachable.orig).strip().splitlines()[0] if unreachable.orig else ""
        shown = engine.url.render_as_string(hide_password=True)
        return fail(args, f"cannot reach the database {shown}: {reason}", "database.unreachable")
    if problem is None:
        raise exc
    return fail(args, problem, "database.no_schema")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("docpost")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def parse_arguments(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None = None
) -> argparse.Namespace:
    """Commands that wrap another program (worker, beat) pass the options they do not know on
    to it, in order, as `args.passthrough`; every other command refuses them (exit 2)."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "passthrough"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.passthrough = [*args.passthrough, *extra]
    return args


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="docpost",
        description="Sales document posting: serial numbers, bundles, journals, ledger and "
        "PDF documents. Configure with DOCPOST_DATABASE_URL, DOCPOST_BROKER_URL, "
        "DOCPOST_DOCUMENTS_DIR and DOCPOST_LOCALE (or a .env file). Exit status: 0 done, 1 a "
        "request was rejected or failed or a lookup found nothing, 2 a usage error.",
        parents=[json_option()],
    )
    parser.add_argument("--version", action="version", version=f"docpost {_version()}")
    command = command_factory(parser.add_subparsers(title="commands", metavar="COMMAND"))
    command("init", cmd_init, "create or upgrade the database schema")

    p = command("load", cmd_load, "load a catalog file (an upsert_catalog request)")
    p.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help="the catalog, one JSON object (e.g. usmf/catalog.json from `docpost example`)",
    )
    p.add_argument("--actor", help="who loads it (default: DOCPOST_SYSTEM_ACTOR, erp)")

    p = command("run", cmd_run, "execute request files in this process, printing each outcome")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help=REQUEST_FILES_HELP)

    show = command("show", lambda a: EXIT_USAGE, "show an order, a journal or a request")
    show_sub = show.add_subparsers(title="what", metavar="WHAT", required=True)
    for what, handler, metavar, key_help in (
        ("order", cmd_show_order, "ORDER", "the order number, e.g. SO-1001"),
        ("journal", cmd_show_journal, "NUMBER", "the journal number: CONF-, PS-, INV-, CN-..."),
        ("request", cmd_show_request, "REQUEST_ID", "the request_id the request was sent with"),
    ):
        p = show_sub.add_parser(
            what, help=f"show {what} {metavar}", parents=[json_option(top=False)]
        )
        p.add_argument("key", metavar=metavar, help=key_help)
        p.set_defaults(handler=handler)

    p = command("trace", cmd_trace, "trace a serial to its sale (warranty and service check)")
    p.add_argument("serial", metavar="SERIAL", help="the serial number, as registered")
    p.add_argument("--item", help="only the serial of this item (a serial may be on several items)")
    p.add_argument(
        "--on",
        metavar="YYYY-MM-DD",
        help="the day to judge the warranty on (S15; default: today in the company's time "
        "zone): valid from the delivery through its last day, both included",
    )

    p = show_sub.add_parser(
        "schedule",
        help="show schedule INVOICE: its revenue schedule lines",
        parents=[json_option(top=False)],
    )
    p.add_argument("key", metavar="INVOICE", help="the invoice number, e.g. INV-000001")
    p.set_defaults(handler=cmd_show_schedule)

    p = command(
        "recognize",
        cmd_recognize,
        "release deferred revenue due by a date, in one voucher (idempotent per date)",
    )
    p.add_argument(
        "--as-of",
        required=True,
        type=_date,
        metavar="YYYY-MM-DD",
        help="release what is due by this day, included (not after today in the company's "
        "time zone)",
    )
    p.add_argument("--actor", help="who runs it (default: DOCPOST_SYSTEM_ACTOR, erp)")

    p = command(
        "ledger",
        cmd_ledger,
        "ledger entries, the trial balance and the VAT summary per tax code (base and VAT "
        "in the company currency: what a VAT return needs), of all time or of a period",
    )
    # The VAT summary is a return's: of the period's invoices and credit notes, whatever
    # entries --voucher or --account pick.
    p.add_argument(
        "--voucher", help="only the entries of this voucher (VOU-...); not the VAT summary"
    )
    p.add_argument(
        "--account", help="only the entries of this account, e.g. 2700; not the VAT summary"
    )
    p.add_argument(
        "--from",
        dest="date_from",
        metavar="YYYY-MM-DD",
        help="first day of the period, included: vouchers dated on or after it (a journal's "
        "voucher is dated on its document date) and the VAT of the invoices and credit notes "
        "of those document dates; the trial balance is then the period's movements",
    )
    p.add_argument(
        "--to",
        dest="date_to",
        metavar="YYYY-MM-DD",
        help="last day of the period, included (either end may be left open)",
    )

    register_queue_commands(command)
    register_dead_letter_commands(command)
    register_document_commands(command)
    register_http_commands(command)
    register_example_commands(command)
    register_db_commands(command)
    return parser


REQUEST_FILES_HELP = (
    "a request file: one JSON object, an array of them, or one object per line (JSON lines)"
)


# --- commands --------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    url = get_settings().database_url
    upgrade(engine_for(url))
    if args.json:
        print_json(
            {
                "database": engine_for(url).url.render_as_string(hide_password=True),
                "schema": "up to date",
            }
        )
    else:
        print(f"schema up to date in {engine_for(url).url.render_as_string(hide_password=True)}")
    return EXIT_OK


def cmd_load(args: argparse.Namespace) -> int:
    catalog = read_json_file(args.file)
    actor = args.actor or get_settings().system_actor
    request = {
        # The actor is part of the id: the same file loaded by another actor is another
        # request (its own duty check), not a conflict with the first load.
        "request_id": f"load-{args.file.name}-{_digest({'actor': actor, 'catalog': catalog})}",
        "kind": "upsert_catalog",
        "actor": actor,
        "payload": catalog,
    }
    return _run_and_report(args, [request])


def _digest(document: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()[
        :12
    ]


def cmd_run(args: argparse.Namespace) -> int:
    requests: list[str | dict[str, Any]] = []
    for path in args.files:
        requests.extend(read_request_file(path))
    return _run_and_report(args, requests)


def _run_and_report(args: argparse.Namespace, requests: list[str | dict[str, Any]]) -> int:
    factory = sessions(migrate=True)
    outcomes: list[dict[str, Any]] = []

    def report(outcome: dict[str, Any]) -> None:
        outcomes.append(outcome)
        if not args.json:
            print(describe_outcome(outcome))

    for body in requests:
        report(execute_or_fail(body, factory))
        # Follow-up requests (bulk invoicing's invoices) run right after their parent.
        run_follow_ups(factory, report)
    # In this process no worker relays the render tasks, so the PDFs are made here. Rendering
    # is idempotent: a relay of the same outbox messages later renders nothing again.
    render_pending(factory)
    if args.json:
        print_json(outcomes)
    failed = [o for o in outcomes if o["status"] in ("rejected", "failed")]
    return EXIT_REJECTED if failed else EXIT_OK


def _query(
    args: argparse.Namespace,
    fetch: Callable[[Session], dict[str, Any]],
    render: Callable[[dict[str, Any]], None],
) -> int:
    with sessions()() as session:
        document = fetch(session)
    if args.json:
        print_json(document)
    else:
        render(document)
    return EXIT_OK


def cmd_show_order(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.render_text import print_order

    def text(order: dict[str, Any]) -> None:
        print_order({**order, "confirmed_at": readable_time(order["confirmed_at"])})

    return _query(args, lambda s: queries.show_order(s, args.key), text)


def cmd_show_journal(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.credits import credits_of
    from docpost.pipeline.entrypoints.cli.render_text import print_journal

    def fetch(session: Session) -> dict[str, Any]:
        # An invoice adds `credit_notes` and `credited` ("partly", "fully" or null) beside
        # `reversed_by`, which names only the first credit note.
        return {**queries.show_journal(session, args.key), **credits_of(session, args.key)}

    return _query(args, fetch, print_journal)


def cmd_show_request(args: argparse.Namespace) -> int:
    return _query(
        args, lambda s: queries.show_request(s, args.key), lambda d: print(describe_outcome(d))
    )


def cmd_trace(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.render_text import print_trace

    try:
        on = None if args.on is None else queries.warranty_day(args.on)
    except ValueError as exc:
        return fail(args, f"trace: --on {exc}", "usage", EXIT_USAGE)
    return _query(args, lambda s: _traced(s, args.serial, args.item, on), print_trace)


def _traced(session: Session, serial: str, item: str | None, on: dt.date | None) -> dict[str, Any]:
    """The trace; a serial never registered on a sale is a lookup that found nothing."""
    found = queries.trace(session, serial, item, on)
    if not found["sales"]:
        of_item = f" of item {item!r}" if item is not None else ""
        raise queries.NotFound(f"serial {serial.strip()!r}{of_item} was never registered on a sale")
    return found


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_recognize(args: argparse.Namespace) -> int:
    from docpost.tasks.schedule import revenue_recognition_request

    request = revenue_recognition_request(args.as_of, args.actor or get_settings().system_actor)
    return _run_and_report(args, [request])


def cmd_show_schedule(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.render_text import print_schedule

    return _query(args, lambda s: queries.show_schedule(s, args.key), print_schedule)


def cmd_ledger(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.render_text import print_ledger

    try:
        period = queries.period_asked(args.date_from, args.date_to, ("--from", "--to"))
    except queries.PeriodError as exc:
        return fail(args, f"ledger: {exc}", "usage", EXIT_USAGE)
    return _query(args, lambda s: _ledger(s, args, period), print_ledger)


def _ledger(
    session: Session, args: argparse.Namespace, period: queries.Period | None
) -> dict[str, Any]:
    """The ledger; a --voucher or --account that picks no entry is a lookup that found
    nothing (the whole ledger of an empty period is not: it is a listing)."""
    found = queries.ledger(session, args.voucher, args.account, period)
    if found["entries"] or (args.voucher is None and args.account is None):
        return found
    raise queries.NotFound(queries.no_ledger_entries(args.voucher, args.account, period))


if __name__ == "__main__":
    sys.exit(main())
