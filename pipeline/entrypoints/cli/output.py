"""What every `docpost` command prints: JSON documents, outcomes, errors."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any


def print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, default=_json_default, ensure_ascii=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_error(message: str) -> None:
    print(f"docpost: {message}", file=sys.stderr)


def describe_outcome(outcome: dict[str, Any]) -> str:
    """One line per outcome: id, status, and the journal made or the error with its rule."""
    head = f"{outcome['request_id']}: {outcome['status']}"
    if "error" in outcome:
        error = outcome["error"]
        rule = f" [{error['rule']}]" if error.get("rule") else ""
        return f"{head} {error['code']}{rule}: {error['message']}"
    result = outcome.get("result") or {}
    shown = ", ".join(
        f"{k}={v}" for k, v in result.items() if isinstance(v, str | int) and k != "created"
    )
    return f"{head} {shown}".rstrip()


def readable_time(value: str | None) -> str | None:
    """A stored timestamp as people read it: '2026-11-30T09:28:13.109492+00:00' becomes
    '2026-11-30 09:28:13 UTC' (to the second, the zone named). The JSON keeps ISO 8601."""
    if not value:
        return value
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value  # not a timestamp: shown as it is
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.utcoffset() == dt.timedelta(0):
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")
