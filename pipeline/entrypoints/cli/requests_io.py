"""Reading request files: one JSON object, an array of objects, or JSON lines."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any


def read_request_file(path: Path) -> list[str | dict[str, Any]]:
    """The requests in a file, each as a dict or, for a JSON line that does not parse, its raw
    text (so that it still gets its own `rejected` outcome)."""
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text, parse_float=Decimal)
    except ValueError:
        return [line for line in text.splitlines() if line.strip()]
    if isinstance(document, list):
        return document
    return [document]
