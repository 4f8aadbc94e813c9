"""The document commands: `docpost documents` and `docpost download` (CONTRACT.md).

Neither imports WeasyPrint: listing and downloading read stored bytes only. A document is a
PDF or an e-invoice (E1, INV-000001.xml); an e-invoice the official rules found fatal faults in
(status `invalid`, DOCPOST_EINVOICE_RULES) is listed with its rule ids and messages, counted,
and written by `download` only when asked with --invalid (for diagnosis: it must not be sent).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.entrypoints.cli.common import EXIT_OK, CommandFactory, fail, sessions
from docpost.schema import Journal

# As GET /documents: a page of 100 by default, at most 1000; ids are PostgreSQL integers.
DEFAULT_LISTED = 100
MAX_LISTED = 1000
MAX_ID = 2**31 - 1


def register_document_commands(command: CommandFactory) -> None:
    """Add `documents` and `download` with `command(name, handler, help)`."""
    p = command(
        "documents",
        cmd_documents,
        "stored documents (PDFs and e-invoices): id, kind, journal, revision, status, sha256, "
        "size; invalid e-invoices with their findings",
    )
    p.add_argument("--journal", metavar="NUMBER", help="only this journal's documents")
    p.add_argument(
        "--limit",
        type=_bounded(1, MAX_LISTED),
        default=DEFAULT_LISTED,
        metavar="N",
        help=f"at most N documents, oldest first (default {DEFAULT_LISTED}, at most "
        f"{MAX_LISTED}); when there are more, the command to list the next ones is printed",
    )
    p.add_argument(
        "--after",
        type=_bounded(0, MAX_ID),
        default=0,
        metavar="ID",
        help="only documents with an id above ID (the last id of the previous page)",
    )

    p = command(
        "download",
        cmd_download,
        "write a stored PDF or e-invoice (default: ./<filename>), by document id or by journal",
    )
    p.add_argument(
        "id", type=int, nargs="?", metavar="ID", help="document id (see `docpost documents`)"
    )
    p.add_argument(
        "--journal",
        metavar="NUMBER",
        help="instead of ID: the journal's document, its newest revision (e.g. INV-000001)",
    )
    p.add_argument(
        "--format",
        choices=tuple(FORMATS),
        default="pdf",
        help="with --journal: the PDF (default) or the e-invoice (xml)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="file to write, or a folder to write <filename> into (a path ending in / is a "
        "folder, made if missing)",
    )
    p.add_argument(
        "--invalid",
        action="store_true",
        help="write an e-invoice stored as invalid too (to diagnose it; it must not be sent)",
    )


def cmd_documents(args: argparse.Namespace) -> int:
    from docpost.pipeline import queries
    from docpost.pipeline.documents import list_documents
    from docpost.pipeline.entrypoints.cli.output import print_json

    with sessions()() as session:
        # One row more than shown: whether there is a next page, read in the same query.
        read = list_documents(session, args.journal, after=args.after, limit=args.limit + 1)
        if args.journal is not None and not read and not _journal_exists(session, args.journal):
            raise queries.NotFound(f"journal {args.journal!r} does not exist")
    documents = read[: args.limit]
    next_after = documents[-1]["id"] if len(read) > args.limit else None
    invalid = [d for d in documents if d["status"] == "invalid"]
    if args.json:
        print_json(
            {"documents": documents, "invalid_einvoices": len(invalid), "next_after": next_after}
        )
    else:
        print(_documents_table(documents) if documents else "no documents")
        if invalid:
            print(_invalid_text(invalid))
        if next_after is not None:
            print(f"more documents: {_next_command(args, next_after)}")
    return EXIT_OK


def _next_command(args: argparse.Namespace, next_after: int) -> str:
    """The command that lists the next page (the same journal and page size)."""
    words = ["docpost documents"]
    if args.journal is not None:
        words.append(f"--journal {shlex.quote(args.journal)}")
    if args.limit != DEFAULT_LISTED:
        words.append(f"--limit {args.limit}")
    words.append(f"--after {next_after}")
    return " ".join(words)


def _bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` (else a usage error, exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse


def _invalid_text(invalid: list[dict[str, Any]]) -> str:
    """E2: each invalid e-invoice's fatal findings, one line each, and how many there are."""
    lines = [
        f"{len(invalid)} e-invoice(s) invalid: fatal findings of the official rules "
        "(DOCPOST_EINVOICE_RULES); not to be sent"
    ]
    for d in invalid:
        for f in _fatal(d["findings"]):
            lines.append(
                f"  {d['filename']} (id {d['id']}) {f['ruleset']} {f['rule']}: {f['message']}"
            )
    return "\n".join(lines)


def _fatal(findings: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [f for f in findings or [] if f.get("flag") != "warning"]


def _journal_exists(session: Session, number: str) -> bool:
    return session.scalar(select(Journal.id).where(Journal.number == number)) is not None


def _documents_table(documents: list[dict[str, Any]]) -> str:
    from docpost.pipeline.entrypoints.cli.render_text import table

    return table(
        ["id", "kind", "journal", "revision", "status", "sha256", "size", "filename", "error"],
        [
            [
                d["id"],
                d["kind"],
                d["journal"],
                d["revision"],
                d["status"],
                d["sha256"],
                d["size"],
                d["filename"],
                _problem(d),
            ]
            for d in documents
        ],
    )


def _problem(document: dict[str, Any]) -> str | None:
    """The error column: a failed document's error, an invalid e-invoice's fatal rule ids."""
    if document["status"] == "invalid":
        return "fails " + ", ".join(f["rule"] for f in _fatal(document["findings"]))
    if document["status"] != "rendered":
        return _one_line(document["error"])
    return None


def _one_line(text: str | None, limit: int = 80) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# `download --format`: what it is called on the command line -> the stored format (an
# e-invoice is stored as format "ubl", INV-000001.xml, since migration 0012).
FORMATS = {"pdf": "pdf", "xml": "ubl"}


def cmd_download(args: argparse.Namespace) -> int:
    from docpost.pipeline.documents import DocumentNotFound, stored_pdf

    if (args.id is None) == (args.journal is None):
        return fail(
            args, "download: give a document ID or --journal NUMBER (one of them)", "usage", 2
        )
    try:
        with sessions()() as session:
            document_id = args.id if args.id is not None else _journal_document(session, args)
            pdf = stored_pdf(session, document_id)
    except DocumentNotFound as exc:
        return fail(args, str(exc), "not_found")
    return _write(args, pdf)


def _journal_document(session: Session, args: argparse.Namespace) -> int:
    """`download --journal NUMBER --format F`: the id of the journal's own document of that
    format, its newest revision. A confirmation's picking list (a second PDF of the same
    journal, its kind not the journal's) is left for `download ID`."""
    from docpost.pipeline.documents import DocumentNotFound, list_documents

    kind = session.scalar(select(Journal.kind).where(Journal.number == args.journal))
    if kind is None:
        raise DocumentNotFound(f"journal {args.journal!r} does not exist")
    fmt = FORMATS[args.format]
    found = [
        d for d in list_documents(session, args.journal) if d["format"] == fmt and d["kind"] == kind
    ]
    if not found:
        raise DocumentNotFound(
            f"journal {args.journal} has no {args.format} document"
            + (" (no e-invoice was made for it, E1)" if fmt == "ubl" else "")
        )
    return int(max(found, key=lambda d: (d["revision"], d["id"]))["id"])


def _write(args: argparse.Namespace, pdf: Any) -> int:
    from docpost.pipeline.entrypoints.cli.output import print_json

    if pdf.status == "failed":
        return fail(
            args,
            f"document {pdf.document_id} could not be rendered (status failed): {pdf.error}",
            "not_rendered",
        )
    if pdf.status == "invalid" and not args.invalid:
        rules = ", ".join(f["rule"] for f in pdf.fatal_findings)
        return fail(
            args,
            f"document {pdf.document_id} ({pdf.filename}) is an invalid e-invoice (fails "
            f"{rules}; see `docpost documents`); write it anyway with --invalid, to diagnose it",
            "invalid",
        )
    if pdf.status not in ("rendered", "invalid") or pdf.content is None:
        return fail(
            args,
            f"document {pdf.document_id} is not rendered yet (status {pdf.status})",
            "not_rendered",
        )
    if not pdf.intact:
        # D6: the stored checksum is the document's identity; never hand out other bytes.
        return fail(
            args,
            f"document {pdf.document_id}: stored content does not match its sha256 {pdf.sha256}",
            "checksum_mismatch",
        )
    path = _target_path(args.output, pdf.filename)
    path.write_bytes(pdf.content)
    if args.json:
        print_json(
            {
                "id": pdf.document_id,
                "path": str(path),
                "sha256": pdf.sha256,
                "size": len(pdf.content),
            }
        )
    else:
        print(f"wrote {path} ({len(pdf.content)} bytes, sha256 {pdf.sha256})", file=sys.stdout)
    return EXIT_OK


def _target_path(output: str | None, filename: str) -> Path:
    """Where `download -o` writes: a folder (there already, or written with a trailing /,
    then made) gets the document's own filename; anything else is the file to write."""
    name = Path(filename).name
    if output is None:
        return Path.cwd() / name
    if output.endswith(("/", os.sep)):
        Path(output).mkdir(parents=True, exist_ok=True)
    path = Path(output)
    if path.is_dir():
        return path / name
    return path
