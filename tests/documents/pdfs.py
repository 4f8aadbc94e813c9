"""Reading rendered PDFs back in the document tests (text via pypdf, as a reader sees it)."""

from __future__ import annotations

import datetime
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

NBSP = "\u00a0"

# What a view model may hold (reports.viewmodel): never ORM objects.
PLAIN_TYPES = (str, int, bool, Decimal, datetime.date, type(None))


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def squash(text: str) -> str:
    """Without white space: line wrapping may split long strings anywhere."""
    return re.sub(r"\s+", "", text)


def row_after(text: str, row: str) -> str:
    """The printed row right under the row that starts with `row` ("" at the end)."""
    lines = text.split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(row))
    return lines[index + 1] if index + 1 < len(lines) else ""


def printed_total(text: str) -> Decimal:
    """The en_US "Total $1,234.56" of a priced document."""
    match = re.search(r"^Total \$([\d,]+\.\d{2})$", text, re.MULTILINE)
    assert match, f"no total printed in:\n{text}"
    return Decimal(match.group(1).replace(",", ""))


def leaves(value: Any, path: str = "view") -> Iterator[tuple[str, Any]]:
    """Every non-container value of a view model, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, value
