"""The render task's limits without a document row to count on (tasks.render): a message
that fails before its delivery is counted is not retried for ever."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

import docpost.tasks.render as render_task
from docpost.pipeline.config import get_settings


class RetriedForEver(BaseException):
    """Stops the old behaviour: it retried an uncounted delivery without end."""


def test_a_render_whose_delivery_cannot_be_counted_is_retried_up_to_the_attempt_limit(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def unreachable(document_id: int, sessions: Any) -> int:
        calls.append(document_id)
        if len(calls) > 50:
            raise RetriedForEver
        raise sa_exc.OperationalError("SELECT documents", {}, Exception("connection refused"))

    monkeypatch.setattr(render_task, "start_render_attempt", unreachable)
    monkeypatch.setattr(render_task, "backoff", lambda attempt: 0)
    monkeypatch.setattr(render_task, "worker_sessions", lambda: None)

    render_task.render_document.apply(args=[7])  # eager: each retry runs at once

    assert len(calls) == get_settings().max_attempts
    assert "document 7: delivery could not be counted 5 times (OperationalError" in caplog.text
    assert "left pending for the recovery sweep" in caplog.text


def test_the_failure_text_of_a_document_may_hold_nul(monkeypatch: pytest.MonkeyPatch) -> None:
    stored: dict[str, str] = {}

    class Row:
        status = "pending"

        def __setattr__(self, name: str, value: str) -> None:
            stored[name] = value

    class Session:
        def __enter__(self) -> Session:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def begin(self) -> Session:
            return self

        def get(self, *args: Any, **kwargs: Any) -> Row:
            return Row()

    render_task.mark_render_failed(1, "ValueError: a\x00b", lambda: Session())  # type: ignore[arg-type, return-value]
    assert stored == {"status": "failed", "error": "ValueError: a\\x00b"}
