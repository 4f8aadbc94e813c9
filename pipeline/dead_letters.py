"""Dead letters: messages a worker could not decode or take as a task, kept for operators.

CONTRACT.md "Nothing accepted is lost": such a message is never dropped silently. The worker
(tasks.dead_letters) stores one row per message with the reason and the head of the raw body;
`docpost dead-letters` lists them and `/health` counts them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from docpost.schema import DeadLetter

# Enough of a body to tell what was sent, small enough that a flood of 100 MB messages does
# not fill the database.
HEAD_BYTES = 4096
REASON_LIMIT = 1000


def safe_text(raw: bytes | str | None, limit: int = HEAD_BYTES) -> str:
    """The first `limit` bytes of `raw` as text every database stores: bytes that are not UTF-8
    (and lone surrogates) become backslash escapes, NUL becomes the text `\\x00`."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    head = raw[:limit].decode("utf-8", "backslashreplace")
    # A character cut in half at `limit` is escaped like any other invalid byte.
    return head.replace("\x00", "\\x00")


def body_size(raw: bytes | str | None) -> int:
    if raw is None:
        return 0
    if isinstance(raw, str):
        return len(raw.encode("utf-8", "surrogatepass"))
    return len(raw)


def store_dead_letter(
    sessions: sessionmaker[Session],
    *,
    queue: str,
    reason: str,
    raw: bytes | str | None,
    task: str | None = None,
    content_type: str | None = None,
) -> int:
    """Keep one message; returns its id."""
    with sessions() as session, session.begin():
        letter = DeadLetter(
            queue=safe_text(queue, 200) or "?",
            task=safe_text(task, 200) if task is not None else None,
            content_type=safe_text(content_type, 200) if content_type is not None else None,
            reason=safe_text(reason, REASON_LIMIT),
            raw_head=safe_text(raw),
            size=body_size(raw),
        )
        session.add(letter)
        session.flush()
        return letter.id


def count_dead_letters(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DeadLetter)) or 0)


def list_dead_letters(session: Session, limit: int | None = None) -> list[dict[str, Any]]:
    """Newest first, as plain dicts."""
    query = select(DeadLetter).order_by(DeadLetter.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [
        {
            "id": letter.id,
            "received_at": letter.received_at.isoformat(),
            "queue": letter.queue,
            "task": letter.task,
            "content_type": letter.content_type,
            "reason": letter.reason,
            "size": letter.size,
            "raw_head": letter.raw_head,
        }
        for letter in session.scalars(query)
    ]
