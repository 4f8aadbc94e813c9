"""The one exception a rule raises: it becomes the request's `rejected` outcome."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


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

    def resolved(self, session: Session) -> Rejection:
        """The rejection to store, worked out in the transaction that stores it. A rule broken
        in a way only the database noticed (a unique index, at flush) aborts the posting's
        transaction before its message can name what clashed: such a rejection overrides
        this to look that up afterwards."""
        return self


class ClashRejection(Rejection):
    """A Rejection whose message is looked up after the failed transaction rolled back."""

    def __init__(
        self,
        code: str,
        message: str,
        explain: Callable[[Session], Rejection | None],
        *,
        rule: str | None = None,
    ) -> None:
        super().__init__(code, message, rule=rule)
        self._explain = explain

    def resolved(self, session: Session) -> Rejection:
        return self._explain(session) or self
