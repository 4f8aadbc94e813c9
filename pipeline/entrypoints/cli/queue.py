"""The queue's commands: submit, worker, beat, bulk-invoice, demo.

Thin: the work is in tasks/ (imported inside the handlers, so that `docpost show ...` does
not pay for loading Celery).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from docpost.pipeline.config import get_settings
from docpost.pipeline.entrypoints.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    CommandFactory,
)
from docpost.pipeline.entrypoints.cli.output import describe_outcome, print_error, print_json
from docpost.pipeline.entrypoints.cli.requests_io import read_request_file

NOT_OK = ("rejected", "failed")

NO_BROKER_NOTE = (
    "no broker configured (DOCPOST_BROKER_URL is empty): running in this process through the "
    "embedded queue; set DOCPOST_BROKER_URL=redis://HOST:6379/0 to use workers elsewhere"
)
WAIT_HELP = "seconds to wait for outcomes with --wait (default: no limit)"


def register_queue_commands(command: CommandFactory) -> None:
    """Add the queue's subcommands with `command(name, handler, help)`, which returns the
    subparser to add arguments to."""
    p = command(
        "submit",
        cmd_submit,
        "enqueue requests from JSON files (an object, an array, or JSON lines); with --wait, "
        "print each outcome when it is final. Without DOCPOST_BROKER_URL the requests run in "
        "this process through the embedded queue, in file order, as with --wait",
    )
    p.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="a request file: one JSON object, an array of them, or one object per line",
    )
    p.add_argument("--wait", action="store_true", help="wait for and print every outcome")
    p.add_argument(
        "--in-order",
        action="store_true",
        help="submit each request only when the one before it (and what it fanned out) is "
        "final, for files whose requests build on each other; implies --wait",
    )
    p.add_argument("--timeout", type=float, metavar="S", help=WAIT_HELP)

    for name, handler, what in (
        ("worker", cmd_worker, "a Celery worker (all three queues: posting, documents, bulk)"),
        ("beat", cmd_beat, "the Celery beat scheduler (bulk invoicing, outbox sweep)"),
    ):
        p = command(
            name,
            handler,
            f"start {what}; needs DOCPOST_BROKER_URL. Further arguments go to "
            f"`celery {name}` unchanged (e.g. --concurrency 2 -Q posting,bulk --loglevel INFO)",
        )
        # Options docpost does not know are collected here by pipeline.entrypoints.cli.main.main.
        p.set_defaults(passthrough=[])

    p = command(
        "bulk-invoice",
        cmd_bulk_invoice,
        "run bulk invoicing now: one invoice per order with posted, uninvoiced packing slips; "
        "with --wait, a progress bar on stderr while the invoices complete",
    )
    p.add_argument("--customer", help="only this customer's orders")
    p.add_argument("--actor", help="who runs it (default: DOCPOST_SYSTEM_ACTOR, erp)")
    p.add_argument("--wait", action="store_true", help="wait for the run and its invoices")
    p.add_argument("--timeout", type=float, metavar="S", help=WAIT_HELP)

    command(
        "demo",
        cmd_demo,
        "the USMF example end to end in this folder, with no server: creates the database "
        "(DOCPOST_DATABASE_URL, default ./docpost.db), runs the requests through the embedded "
        "queue, writes the PDFs into ./documents and prints a summary and the trial balance; "
        "then a Norwegian company with VAT the same way in ./norway (norway/docpost.db, "
        "norway/documents), with its VAT summary",
    )


# --- helpers ---------------------------------------------------------------------------------


@contextlib.contextmanager
def _queue_session() -> Iterator[tuple[Any, bool]]:
    """The database sessions (schema created or upgraded, as `docpost run` does) and, when no
    broker is configured, the embedded worker running for the duration."""
    from docpost.pipeline.db import engine_for, session_factory
    from docpost.schema.migrate import upgrade
    from docpost.tasks.app import broker_is_embedded
    from docpost.tasks.embedded import embedded_worker

    url = get_settings().database_url
    upgrade(engine_for(url))
    embedded = broker_is_embedded()
    if embedded:
        print_error(NO_BROKER_NOTE)
    with embedded_worker() if embedded else contextlib.nullcontext():
        yield session_factory(url), embedded


def _queue_errors() -> tuple[type[BaseException], ...]:
    """What ends a command that talks to the queue early: a wait past --timeout, or a broker
    out of reach (kombu's error, or the connection's own)."""
    import kombu.exceptions

    return (TimeoutError, kombu.exceptions.OperationalError, ConnectionError)


def _stopped(exc: BaseException, not_done: str) -> int:
    """Exit 1 with why on stderr. A timeout's message already names what it gave up on; for a
    broker out of reach, `not_done` tells what that left undone."""
    if isinstance(exc, TimeoutError):
        print_error(str(exc))
    else:
        print_error(f"cannot reach the broker ({exc}); {not_done}")
    return EXIT_REJECTED


def _exit_code(outcomes: list[dict[str, Any]]) -> int:
    return EXIT_REJECTED if any(o["status"] in NOT_OK for o in outcomes) else EXIT_OK


# --- submit ----------------------------------------------------------------------------------


def cmd_submit(args: argparse.Namespace) -> int:
    from docpost.tasks.client import submit, wait_all
    from docpost.tasks.embedded import run_in_order

    requests: list[str | dict[str, Any]] = []
    for path in args.files:
        requests.extend(read_request_file(path))

    def show(outcome: dict[str, Any]) -> None:
        if not args.json:
            print(describe_outcome(outcome), flush=True)

    try:
        with _queue_session() as (sessions, embedded):
            # With a broker, say on stderr what is still awaited: with no worker running, the
            # wait used to print nothing for ever.
            report = None if embedded else WaitReport(sys.stderr)
            if embedded or args.in_order:
                # Embedded: the queue dies with this process, so run everything now, in order.
                outcomes = run_in_order(requests, sessions, show, args.timeout, report)
            else:
                handles = [submit(body, sessions) for body in requests]
                if not args.wait:
                    return _report_queued(args, handles)
                outcomes = []
                for outcome in wait_all(handles, args.timeout, on_waiting=report):
                    outcomes.append(outcome)
                    show(outcome)
    except _queue_errors() as exc:
        return _stopped(exc, "the requests stay queued, submit again")
    if args.json:
        print_json(outcomes)
    return _exit_code(outcomes)


class WaitReport:
    """While `submit --wait` waits, a line on stderr every `every` seconds saying what for:
    "waiting for 3 request(s): 2 queued, 1 running". When nothing has moved for `stalled`
    seconds and nothing runs, the line adds that no worker may be running. Quick runs print
    nothing (the first line comes after `every` seconds)."""

    every = 10.0
    stalled = 30.0

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.clock = stream, clock
        self.shown_at = self.changed_at = clock()
        self.state: tuple[tuple[str, int], ...] = ()

    def __call__(self, waiting: dict[str, int]) -> None:
        now = self.clock()
        state = tuple(sorted((status, n) for status, n in waiting.items() if n))
        if state != self.state:
            self.state, self.changed_at = state, now
        if now - self.shown_at < self.every:
            return
        self.shown_at = now
        counts = ", ".join(f"{n} {status}" for status, n in state)
        line = f"docpost: waiting for {sum(waiting.values())} request(s): {counts}"
        still = now - self.changed_at
        if still >= self.stalled and not waiting.get("running"):
            line += (
                f"; nothing has moved for {still:.0f} s: is a worker running? Start one with "
                "`docpost worker` (same DOCPOST_BROKER_URL and DOCPOST_DATABASE_URL)"
            )
        print(line, file=self.stream, flush=True)


def _report_queued(args: argparse.Namespace, handles: list[Any]) -> int:
    """Without --wait: each request's status now (a malformed request is already rejected,
    a repeat may be final already)."""
    current = [h.outcome() or {"request_id": h.request_id, "status": "queued"} for h in handles]
    if args.json:
        print_json(current)
    else:
        for outcome in current:
            print(describe_outcome(outcome))
    return _exit_code(current)


# --- worker and beat -------------------------------------------------------------------------


def cmd_worker(args: argparse.Namespace) -> int:
    return _celery("worker", args.passthrough)


def cmd_beat(args: argparse.Namespace) -> int:
    return _celery("beat", args.passthrough)


def _celery(command: str, celery_args: list[str]) -> int:
    import click

    from docpost.tasks.app import app, broker_is_embedded

    if broker_is_embedded():
        print_error(
            f"`docpost {command}` needs a broker that other processes can reach: set "
            "DOCPOST_BROKER_URL (e.g. redis://localhost:6379/0). Without one, `docpost run` "
            "or `docpost submit` process requests in their own process."
        )
        return EXIT_USAGE
    try:
        code = app.start([command, *celery_args])
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    return int(code or 0)


# --- bulk-invoice ----------------------------------------------------------------------------


def cmd_bulk_invoice(args: argparse.Namespace) -> int:
    from docpost.tasks.client import Handle, fan_out_ids, submit, wait_all
    from docpost.tasks.schedule import bulk_invoice_request

    actor = args.actor or get_settings().system_actor
    request = bulk_invoice_request(f"bulk-invoice-cli:{uuid.uuid4().hex}", actor, args.customer)
    try:
        with _queue_session() as (sessions, embedded):
            handle = submit(request, sessions)
            if not (args.wait or embedded):
                return _report_queued(args, [handle])
            outcome = handle.wait(args.timeout)
            children = [Handle(c, sessions) for c in fan_out_ids(outcome)]
            bar = ProgressBar("invoices", len(children), sys.stderr)
            invoices = sorted(
                wait_all(children, args.timeout, on_progress=bar.update),
                key=lambda o: o["request_id"],
            )
            bar.close()
    except _queue_errors() as exc:
        return _stopped(exc, "bulk invoicing was not started")
    if args.json:
        print_json({"run": outcome, "invoices": invoices})
    else:
        for o in (outcome, *invoices):
            print(describe_outcome(o))
    return _exit_code([outcome, *invoices])


class ProgressBar:
    """`invoices ━━━━━━━━━━╸━━━━━ 8/20` on `stream`, drawn by rich: redrawn in place on a
    terminal; written to a log file or a pipe, the final line only (rich draws live only
    where the stream is a terminal, instead of hand-written carriage returns)."""

    def __init__(self, label: str, total: int, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.total = total
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(file=stream),
        )
        self.task = self.progress.add_task(label, total=total)
        if total:  # nothing to wait for: no bar
            self.progress.start()

    def update(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.total:
            self.progress.update(self.task, completed=self.total)
            self.progress.stop()


# --- demo ------------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.demo import demo_command

    return demo_command(args.json)
