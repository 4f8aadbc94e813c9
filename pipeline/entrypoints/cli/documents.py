"""The document commands: `docpost documents` and `docpost download` (CONTRACT.md).

Neither imports WeasyPrint: listing and downloading read stored bytes only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.entrypoints.cli.common import EXIT_OK, CommandFactory, fail, sessions
from docpost.schema import Journal


def register_document_commands(command: CommandFactory) -> None:
    """Add `documents` and `download` with `command(name, handler, help)`."""
    p = command(
        "documents",
        cmd_documents,
        "stored documents: id, kind, journal, revision, status, sha256, size",
    )
    p.add_argument("--journal", metavar="NUMBER", help="only this journal's documents")

    p = command("download", cmd_download, "write a stored PDF (default: ./<filename>)")
    p.add_argument("id", type=int, metavar="ID", help="document id (see `docpost documents`)")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="PATH",
        help="file to write, or a folder to write <filename> into",
    )


def cmd_documents(args: argparse.Namespace) -> int:
    from docpost.pipeline import queries
    from docpost.pipeline.documents import list_documents
    from docpost.pipeline.entrypoints.cli.output import print_json

    with sessions()() as session:
        documents = list_documents(session, args.journal)
        if (
            args.journal is not None
            and not documents
            and not _journal_exists(session, args.journal)
        ):
            raise queries.NotFound(f"journal {args.journal!r} does not exist")
    if args.json:
        print_json({"documents": documents})
    else:
        print(_documents_table(documents) if documents else "no documents")
    return EXIT_OK


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
                _one_line(d["error"]) if d["status"] != "rendered" else None,
            ]
            for d in documents
        ],
    )


def _one_line(text: str | None, limit: int = 80) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def cmd_download(args: argparse.Namespace) -> int:
    from docpost.pipeline.documents import DocumentNotFound, stored_pdf
    from docpost.pipeline.entrypoints.cli.output import print_json

    try:
        with sessions()() as session:
            pdf = stored_pdf(session, args.id)
    except DocumentNotFound as exc:
        return fail(args, str(exc), "not_found")
    if pdf.status == "failed":
        return fail(
            args,
            f"document {pdf.document_id} could not be rendered (status failed): {pdf.error}",
            "not_rendered",
        )
    if pdf.status != "rendered" or pdf.content is None:
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


def _target_path(output: Path | None, filename: str) -> Path:
    name = Path(filename).name
    if output is None:
        return Path.cwd() / name
    if output.is_dir():
        return output / name
    return output
