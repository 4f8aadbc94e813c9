"""The one exception a rule raises: it becomes the request's `rejected` outcome."""

from __future__ import annotations

from typing import Any


class Rejection(Exception):
    """A request breaks a rule or is malformed. Nothing it did is kept.

    `code` is the stable dotted error code, `rule` the DOMAIN.md id it cites (if any).
    """

    def __init__(self, code: str, message: str, *, rule: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.rule = rule
        self.message = message
        self.details = details

    def as_error(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "message": self.message,
            "details": self.details,
        }
