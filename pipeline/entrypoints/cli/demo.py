"""`docpost demo`: the shipped examples through the queue, in this folder, with no server.

Two companies, one database each (a database holds one company, the catalog's company row):

- the USMF example (no company, no VAT) in the configured database (default ./docpost.db),
  its PDFs in the documents folder (default ./documents), as CONTRACT.md says;
- a Norwegian company selling in NOK at 25 %, 15 % and 0 % VAT (examples/norway) in the
  sub-folder ./norway: its own SQLite database norway/docpost.db and PDFs in norway/documents,
  whatever DOCPOST_DATABASE_URL says, so `cd norway && docpost show journal INV-000001`
  looks at it with the embedded defaults. Its documents are in nb_NO where the customer has
  no language of its own (the walk-in customer of the POS sale).

For each: the schema is created or upgraded, the catalog loaded and every request of the
example run through the embedded queue (the real task code and JSON messages) in file order,
the outbox drained, the PDFs written when rendering is available, and a summary, the trial
balance and (Norway) the VAT summary per tax code printed. A second run finds every outcome
kept (the request ids are the same) and prints the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, make_url, select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline import queries
from docpost.pipeline.config import Settings, get_settings
from docpost.pipeline.db import engine_for, session_factory
from docpost.pipeline.entrypoints.cli.common import EXIT_OK, EXIT_REJECTED
from docpost.pipeline.entrypoints.cli.output import print_json
from docpost.pipeline.entrypoints.cli.render_text import table
from docpost.pipeline.entrypoints.cli.requests_io import read_request_file
from docpost.schema import Document, RequestRecord
from docpost.schema.migrate import upgrade
from docpost.tasks.app import app, configure
from docpost.tasks.client import fan_out_ids
from docpost.tasks.embedded import embedded_worker, run_in_order
from docpost.tasks.relay import relay_outbox

RENDER_WAIT_SECONDS = 120.0
NORWAY_FOLDER = "norway"


@dataclass(frozen=True)
class Example:
    """One shipped example: its folder under pipeline/examples and where the demo runs it.
    `folder` None: the configured database and documents folder (the USMF example, as
    CONTRACT.md's `docpost demo` has it); else a sub-folder of this one of its own."""

    name: str
    title: str  # heads its part of the output
    short: str  # names it in the closing lines
    folder: str | None = None
    # DOCPOST_* values the example runs with, besides its database and documents folder.
    environment: dict[str, str] = field(default_factory=dict)


USMF = Example("usmf", "USMF example (USD, no company or VAT)", "USMF example")
NORWAY = Example(
    "norway",
    "Norwegian company (NOK, VAT at 25 %, 15 % and 0 %, a SEK export order)",
    "Norwegian company",
    NORWAY_FOLDER,
    # A Norwegian company's documents: nb_NO for customers without a language of their own.
    {"DOCPOST_LOCALE": "nb_NO"},
)
EXAMPLES = (USMF, NORWAY)


@dataclass
class PartResult:
    """What one example's run left: its outcomes in order, their kinds, the ledger, PDFs."""

    example: Example
    database_url: str
    documents_dir: str
    outcomes: list[dict[str, Any]]
    kinds: dict[str, str]
    ledger: dict[str, Any]
    documents: list[str] = field(default_factory=list)
    documents_failed: list[str] = field(default_factory=list)
    documents_note: str | None = None

    @property
    def ok(self) -> bool:
        return all(o["status"] == "succeeded" for o in self.outcomes)

    @property
    def trial_balance(self) -> dict[str, Any]:
        return dict(self.ledger["trial_balance"])


@dataclass
class DemoResult:
    parts: list[PartResult]

    @property
    def ok(self) -> bool:
        return all(part.ok for part in self.parts)


def example_requests(name: str = "usmf") -> list[dict[str, Any] | str]:
    """A shipped example: its catalog's load, then its requests.jsonl. The load's request id
    carries the catalog's digest, so a changed catalog is loaded again on the next run."""
    folder = resources.files("docpost.pipeline") / "examples" / name
    catalog = json.loads((folder / "catalog.json").read_text(encoding="utf-8"), parse_float=Decimal)
    digest = hashlib.sha256(json.dumps(catalog, sort_keys=True, default=str).encode()).hexdigest()[
        :12
    ]
    load = {
        "request_id": f"demo-load-catalog-{digest}",
        "kind": "upsert_catalog",
        "actor": "erp",
        "payload": catalog,
    }
    with resources.as_file(folder / "requests.jsonl") as path:
        return [load, *read_request_file(Path(path))]


def rendering_available() -> bool:
    return importlib.util.find_spec("docpost.pipeline.documents") is not None


def example_environment(example: Example, base: Path | None = None) -> dict[str, str]:
    """The DOCPOST_* variables an example runs with: none for the configured one; for one in
    a sub-folder its SQLite database and documents there (made absolute, so that a later
    change of directory does not move them)."""
    if example.folder is None:
        return dict(example.environment)
    folder = (base or Path.cwd()) / example.folder
    return {
        "DOCPOST_DATABASE_URL": f"sqlite:///{folder / 'docpost.db'}",
        "DOCPOST_DOCUMENTS_DIR": str(folder / "documents"),
        **example.environment,
    }


@contextlib.contextmanager
def settings_for(environment: dict[str, str]) -> Iterator[Settings]:
    """The settings with `environment` over the process's DOCPOST_* variables, restored
    afterwards. The task code reads the database from the settings when it runs (tasks.db),
    so the environment, not an argument, is what puts an example's tasks in its database."""
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    get_settings.cache_clear()
    try:
        yield get_settings()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


def run_demo(
    on_outcome: Callable[[dict[str, Any]], None] = lambda outcome: None,
    timeout: float | None = 300.0,
    examples: tuple[Example, ...] = EXAMPLES,
    progress: DemoProgress | None = None,
) -> DemoResult:
    # Always the embedded broker, whatever DOCPOST_BROKER_URL says: the demo's messages must
    # not reach workers elsewhere that may use another database. The broker is the only
    # setting the Celery app takes (tasks.config), so one worker serves every example: its
    # tasks find each example's database in the settings while it runs (settings_for).
    configure(get_settings().model_copy(update={"broker_url": ""}))
    parts = []
    # One worker for all examples: stopping one takes seconds (Celery's consumer notices the
    # stop between polls of the in-memory broker).
    with embedded_worker(loglevel="ERROR"):
        for example in examples:
            environment = example_environment(example)
            if example.folder is not None:
                Path(example.folder).mkdir(exist_ok=True)  # SQLite makes the file, not its folder
            with settings_for(environment) as settings:
                parts.append(_run_example(example, settings, on_outcome, timeout, progress))
            # Each example ends with nothing in flight (its outcomes final, its PDFs rendered);
            # a duplicate message would otherwise be run against the next example's database.
            app.control.purge()
        if progress is not None:
            progress.stopping()
    if progress is not None:
        progress.done()
    return DemoResult(parts)


def _run_example(
    example: Example,
    settings: Settings,
    on_outcome: Callable[[dict[str, Any]], None],
    timeout: float | None,
    progress: DemoProgress | None,
) -> PartResult:
    upgrade(engine_for(settings.database_url))
    sessions = session_factory(settings.database_url)
    render = rendering_available()
    requests = example_requests(example.name)
    if progress is not None:
        progress.start(example, settings.database_url, len(requests))

    def settled(outcome: dict[str, Any]) -> None:
        if progress is not None:
            progress.outcome(outcome)
        on_outcome(outcome)

    outcomes = run_in_order(requests, sessions, settled, timeout)
    # Whatever a failed relay left behind (nothing, normally) goes out now.
    relay_outbox(sessions)
    if render:
        if progress is not None:
            progress.rendering()
        wait_for_renders(sessions, RENDER_WAIT_SECONDS)
    with sessions() as session:
        ledger = queries.ledger(session)
    part = PartResult(
        example,
        settings.database_url,
        settings.documents_dir,
        outcomes,
        _kinds(sessions, outcomes),
        ledger,
    )
    if render:
        from docpost.pipeline.documents import export_documents

        written = export_documents(sessions, Path(settings.documents_dir))
        part.documents = [str(path) for path in written]
        part.documents_failed = _failed_documents(sessions)
    else:
        part.documents_note = (
            "PDFs skipped: document rendering (pipeline.documents) is not installed"
        )
    return part


def wait_for_renders(sessions: sessionmaker[Session], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            pending = session.scalar(
                select(func.count()).select_from(Document).where(Document.status == "pending")
            )
        if not pending:
            return
        time.sleep(0.1)


def _failed_documents(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        rows = session.execute(
            select(Document.filename, Document.status, Document.error, Document.findings).where(
                Document.status != "rendered"
            )
        )
        return [_not_rendered(*row) for row in rows]


def _not_rendered(
    filename: str, status: str, error: str | None, findings: list[dict[str, Any]] | None
) -> str:
    if status == "invalid":  # E2: an e-invoice the official rules refused (not written)
        rules = ", ".join(f["rule"] for f in findings or [] if f.get("flag") != "warning")
        return f"{filename}: invalid e-invoice, fails {rules}"
    return f"{filename}: {error or 'not rendered'}"


def written_text(documents: list[str]) -> str:
    """What was written: 3 PDF(s); with e-invoices beside them (E1), 5 PDF(s) and 3 e-invoice(s)."""
    xml = sum(1 for path in documents if path.endswith(".xml"))
    pdfs = f"{len(documents) - xml} PDF(s)"
    return f"{pdfs} and {xml} e-invoice(s)" if xml else pdfs


def _kinds(sessions: sessionmaker[Session], outcomes: list[dict[str, Any]]) -> dict[str, str]:
    ids = [o["request_id"] for o in outcomes]
    with sessions() as session:
        rows = session.execute(
            select(RequestRecord.request_id, RequestRecord.kind).where(
                RequestRecord.request_id.in_(ids)
            )
        )
        return {request_id: kind for request_id, kind in rows}


# --- progress and output -----------------------------------------------------------------------


class DemoProgress:
    """On stderr: a line per example as it starts, and on a terminal a bar of the requests
    done so far and what it is at, drawn by rich and cleared when the example is done (the
    demo takes some seconds per example, most of it rendering). Not a terminal (a log file,
    a pipe): the lines only, no bar, no control characters."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console

        # soft_wrap: a line as long as it is, as print() writes it, not cut at 80 columns.
        self.console = Console(file=stream, soft_wrap=True, highlight=False)
        self.live = self.console.is_terminal
        self.total = self.done_count = 0
        self.progress: Any = None
        self.task: Any = None

    def start(self, example: Example, database_url: str, total: int) -> None:
        self._stop_bar()
        self.total, self.done_count = total, 0
        self.console.print(
            f"docpost: {example.short}: {total} requests through the embedded queue on "
            f"{shown_database(database_url)}",
            markup=False,
        )
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn(" "),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[at]}", markup=False),
                console=self.console,
                transient=True,  # the terminal's line left clean for the summary
            )
            self.task = self.progress.add_task("", total=total, at="")
            self.progress.start()

    def outcome(self, outcome: dict[str, Any]) -> None:
        # Fanned-out requests (bulk invoicing's invoices) count too, once their parent says.
        self.done_count += 1
        self.total += len(fan_out_ids(outcome))
        self._show(outcome["request_id"])

    def rendering(self) -> None:
        self._show("done; rendering PDFs")

    def stopping(self) -> None:
        self._show("stopping the embedded queue")

    def done(self) -> None:
        self._stop_bar()

    def _show(self, at: str) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=self.done_count, total=self.total, at=at)

    def _stop_bar(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def shown_path(path: str) -> str:
    """`path` relative to this folder when it is inside it: what a newcomer can type."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def shown_database(url: str) -> str:
    """A SQLite database as its file (relative when inside this folder); others as their URL
    without a password."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return shown_path(url.removeprefix("sqlite:///"))
    return make_url(url).render_as_string(hide_password=True)


def summary_rows(part: PartResult) -> list[list[str]]:
    rows = []
    for outcome in part.outcomes:
        res = outcome.get("result") or {}
        detail = res.get("journal") or ""
        if "error" in outcome:
            detail = outcome["error"]["code"]
        elif not detail and "order" in res:
            detail = f"order {res['order']}"
        elif not detail and "requests" in res:
            detail = f"{len(res['requests'])} invoice request(s)"
        rows.append(
            [
                outcome["request_id"],
                part.kinds.get(outcome["request_id"], ""),
                outcome["status"],
                detail,
            ]
        )
    return rows


def vat_rows(ledger: dict[str, Any]) -> list[list[str]]:
    """The VAT summary per tax code (L1) and its total line, in the company currency."""
    summary = ledger.get("vat_summary") or []
    rows = [
        [v["tax_code"], v["category"], v["rate"], v["taxable_amount"], v["vat_amount"]]
        for v in summary
    ]
    base = sum((Decimal(v["taxable_amount"]) for v in summary), Decimal(0))
    vat = sum((Decimal(v["vat_amount"]) for v in summary), Decimal(0))
    return [*rows, ["total", "", "", f"{base:.2f}", f"{vat:.2f}"]]


def part_line(part: PartResult) -> str:
    """One line per example for the end of the output: what a newcomer checks first."""
    succeeded = sum(o["status"] == "succeeded" for o in part.outcomes)
    pdfs = "PDFs skipped" if part.documents_note else f"{written_text(part.documents)} written"
    return (
        f"{part.example.short}: {succeeded}/{len(part.outcomes)} requests succeeded, {pdfs}, "
        f"trial balance {part.trial_balance['total']}"
    )


def part_document(part: PartResult) -> dict[str, Any]:
    return {
        "database": part.database_url,
        "documents_dir": part.documents_dir,
        "outcomes": part.outcomes,
        "trial_balance": part.trial_balance,
        "vat_summary": part.ledger.get("vat_summary") or [],
        "documents": part.documents,
        "documents_not_rendered": part.documents_failed,
        "documents_note": part.documents_note,
    }


def json_document(result: DemoResult) -> dict[str, Any]:
    """The USMF example's keys at the top, as before; the other examples under their name."""
    first, *others = result.parts
    return {**part_document(first), **{p.example.name: part_document(p) for p in others}}


def print_part(part: PartResult, out: TextIO) -> None:
    print(f"== {part.example.title}: {shown_database(part.database_url)}", file=out)
    print(file=out)
    print(table(["request", "kind", "status", "journal"], summary_rows(part)), file=out)
    print(file=out)
    print("Trial balance", file=out)
    balance = part.trial_balance
    rows = [[a["account"], a["name"], a["balance"]] for a in balance["accounts"]]
    total = ["total", "", balance["total"]]
    print(table(["account", "name", "balance"], [*rows, total], right={2}), file=out)
    if part.ledger.get("vat_summary"):
        currency = f" ({part.ledger['currency']})" if part.ledger.get("currency") else ""
        print(file=out)
        print(f"VAT summary per tax code{currency}", file=out)
        headers = ["tax code", "category", "rate %", "base", "VAT"]
        print(table(headers, vat_rows(part.ledger), right={2, 3, 4}), file=out)
    print(file=out)
    if part.documents_note:
        print(part.documents_note, file=out)
    else:
        print(
            f"{written_text(part.documents)} written to {shown_path(part.documents_dir)}/",
            file=out,
        )
        for problem in part.documents_failed:
            print(f"not rendered: {problem}", file=out)
    if part.example.folder:
        print(f"Look around: cd {part.example.folder} && docpost show journal INV-000001", file=out)
    print(file=out)


def demo_command(json_output: bool) -> int:
    """`docpost demo`: run every example, print each one's summary and a line per example;
    exit 0 when every request of both succeeded, 1 otherwise (CONTRACT.md)."""
    result = run_demo(progress=DemoProgress(sys.stderr))
    if json_output:
        print_json(json_document(result))
    else:
        for part in result.parts:
            print_part(part, sys.stdout)
        for part in result.parts:
            print(part_line(part))
    return EXIT_OK if result.ok else EXIT_REJECTED
