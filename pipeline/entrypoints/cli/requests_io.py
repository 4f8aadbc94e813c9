"""Reading request files: one JSON object, an array of objects, or JSON lines."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from docpost.pipeline.entrypoints.cli.output import print_error


class RequestFileError(ValueError):
    """A file that holds no request at all: empty, or not JSON in any of the three shapes.
    The message names the file (and the line and column where its JSON breaks)."""


def read_request_file(path: Path) -> list[str | dict[str, Any]]:
    """The requests in a file, each as a dict or, for a JSON line that does not parse, its raw
    text (so that it still gets its own `rejected` outcome; the line is named on stderr by
    file and line number). An empty file, or one that is not JSON lines either (a single
    object with a typo), is a RequestFileError naming where."""
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise RequestFileError(f"{path} is empty: no requests in it")
    try:
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as whole:
        return _json_lines(path, text, whole)
    if isinstance(document, list):
        if not document:
            raise RequestFileError(f"{path} holds an empty array: no requests in it")
        return document
    return [document]


def _json_lines(path: Path, text: str, whole: json.JSONDecodeError) -> list[str | dict[str, Any]]:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    broken = [(n, _json_error(line)) for n, line in lines]
    broken = [(n, error) for n, error in broken if error is not None]
    if len(broken) == len(lines):
        # Not one line is JSON: the file is one document with an error, not JSON lines.
        raise RequestFileError(
            f"{path} line {whole.lineno} column {whole.colno}: not JSON ({whole.msg}); a "
            "request file holds one JSON object, an array of them, or one object per line"
        )
    for n, error in broken:
        print_error(f"{path} line {n}: not JSON ({error}); sent as it is, it is rejected")
    return [line for _, line in lines]


def _json_error(line: str) -> str | None:
    try:
        json.loads(line)
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at column {exc.colno}"
    return None


def read_json_file(path: Path) -> Any:
    """One JSON document (a catalog), decimals kept; an empty file or a JSON error is a
    RequestFileError naming the file, line and column."""
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise RequestFileError(f"{path} is empty: no JSON document in it")
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise RequestFileError(
            f"{path} line {exc.lineno} column {exc.colno}: not JSON ({exc.msg})"
        ) from None
