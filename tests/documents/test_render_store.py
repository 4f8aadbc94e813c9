"""render_document: idempotent (D6), failures counted on the document row only, never on the
posting; render_pending for the embedded mode."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import docpost.reports.render
from docpost.pipeline.config import get_settings
from docpost.pipeline.documents import DocumentNotFound, render_document, render_pending
from docpost.schema import Document, Journal, JournalLine, LedgerEntry
from tests.conftest import Runner


def _invoice(run: Runner) -> int:
    """A directly invoiced order (journal, lines, ledger voucher); its document's id."""
    run.ok(
        "upsert_order",
        {
            "order": "SO-3001",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "S0021", "quantity": "2", "unit_price": "150.00"}],
        },
    )
    run.ok("post_invoice", {"order": "SO-3001"})
    with run.sessions() as session:
        return session.scalars(
            select(Document.id)
            .join(Journal, Journal.id == Document.journal_id)
            .where(Journal.number == "INV-000001")
        ).one()


def _posting_state(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """What a render must never change: journals, their lines and the ledger."""
    with sessions() as session:
        return {
            "journals": session.execute(
                select(Journal.number, Journal.total_amount).order_by(Journal.id)
            ).all(),
            "lines": session.scalar(select(func.count()).select_from(JournalLine)),
            "ledger": session.execute(
                select(LedgerEntry.account, LedgerEntry.amount).order_by(LedgerEntry.id)
            ).all(),
        }


def _document(sessions: sessionmaker[Session], document_id: int) -> Document:
    with sessions() as session:
        document = session.get(Document, document_id)
        assert document is not None
        return document


class Boom(RuntimeError):
    pass


@pytest.fixture
def failing_renderer(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """docpost.reports.render.render_pdf raising; the list counts its calls."""
    calls: list[int] = []

    def boom(view: Any, locale: str = "en_US") -> bytes:
        calls.append(1)
        raise Boom("the renderer exploded")

    monkeypatch.setattr(docpost.reports.render, "render_pdf", boom)
    return calls


def test_render_failure_counts_attempts_then_fails_and_leaves_the_posting_alone(
    usmf: Runner, failing_renderer: list[int]
) -> None:
    document_id = _invoice(usmf)
    before = _posting_state(usmf.sessions)
    max_attempts = get_settings().max_attempts
    for attempt in range(1, max_attempts + 1):
        with pytest.raises(Boom):
            render_document(usmf.sessions, document_id)
        document = _document(usmf.sessions, document_id)
        assert document.attempts == attempt
        assert document.error == "Boom: the renderer exploded"
        assert document.status == ("failed" if attempt == max_attempts else "pending")
        assert document.content is None and document.sha256 is None
    # A failed document is left alone: no further attempt, nothing raised.
    render_document(usmf.sessions, document_id)
    assert len(failing_renderer) == max_attempts
    assert _document(usmf.sessions, document_id).attempts == max_attempts
    assert render_pending(usmf.sessions) == 0
    assert _posting_state(usmf.sessions) == before
    assert before["ledger"] and before["journals"][0][1] == Decimal("300.00")


def test_render_failure_not_counted_when_the_caller_counts_deliveries(
    usmf: Runner, failing_renderer: list[int]
) -> None:
    """The render task counts deliveries itself before rendering (tasks/render.py)."""
    document_id = _invoice(usmf)
    with pytest.raises(Boom):
        render_document(usmf.sessions, document_id, count_attempt=False)
    document = _document(usmf.sessions, document_id)
    assert (document.attempts, document.status) == (0, "pending")
    assert document.error == "Boom: the renderer exploded"


def test_render_pending_tries_a_failing_document_up_to_max_attempts(
    usmf: Runner, failing_renderer: list[int]
) -> None:
    document_id = _invoice(usmf)
    assert render_pending(usmf.sessions) == 0
    document = _document(usmf.sessions, document_id)
    assert (document.status, document.attempts) == ("failed", get_settings().max_attempts)


def test_d6_rendered_document_is_never_rendered_again(
    usmf: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = _invoice(usmf)
    render_document(usmf.sessions, document_id)
    first = _document(usmf.sessions, document_id)
    assert first.status == "rendered" and first.error is None
    monkeypatch.setattr(docpost.reports.render, "render_pdf", _must_not_render)
    render_document(usmf.sessions, document_id)
    assert render_pending(usmf.sessions) == 0
    again = _document(usmf.sessions, document_id)
    assert (again.content, again.sha256, again.rendered_at) == (
        first.content,
        first.sha256,
        first.rendered_at,
    )


def _must_not_render(view: Any, locale: str = "en_US") -> bytes:
    raise AssertionError("a rendered document was rendered again")


def test_d6_concurrent_render_keeps_the_bytes_stored_first(
    usmf: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two deliveries of one render task: the second to finish leaves the first one's bytes.
    This also shows no transaction is held while rendering (SQLite would block the write)."""
    document_id = _invoice(usmf)
    original: Callable[..., bytes] = docpost.reports.render.render_pdf

    def render_while_another_worker_finishes(view: Any, locale: str = "en_US") -> bytes:
        monkeypatch.setattr(docpost.reports.render, "render_pdf", original)
        render_document(usmf.sessions, document_id, locale)  # the other worker, done first
        return b"%PDF-1.7 the slower worker's bytes"

    monkeypatch.setattr(docpost.reports.render, "render_pdf", render_while_another_worker_finishes)
    render_document(usmf.sessions, document_id)
    document = _document(usmf.sessions, document_id)
    assert document.status == "rendered"
    assert document.content is not None and b"slower worker" not in document.content


def test_unknown_document_raises_not_found(usmf: Runner) -> None:
    with pytest.raises(DocumentNotFound, match="document 4242 does not exist"):
        render_document(usmf.sessions, 4242)
