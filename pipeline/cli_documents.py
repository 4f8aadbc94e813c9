"""The document commands: documents, download (filled by the documents work)."""

from __future__ import annotations

from pipeline.cli_queue import CommandFactory


def register_document_commands(command: CommandFactory) -> None:
    """Add `documents` and `download` with `command(name, handler, help)`."""
