"""A dead letter that cannot be stored (the database is down) is put back on its queue, not
dropped (docpost.tasks.dead_letters). Moved from tests/unit/test_dead_letter_units.py: it opens
a database engine (one that cannot connect), and tests/unit holds no database."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from docpost.pipeline.config import get_settings
from docpost.tasks import dead_letters
from docpost.tasks.dead_letters import keep, put_back


class Message(SimpleNamespace):
    def reject_log_error(self, logger: Any, errors: Any, requeue: bool = False) -> None:
        self.rejected = requeue


def test_a_dead_letter_the_database_cannot_take_is_put_back_not_dropped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DOCPOST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/none")
    get_settings.cache_clear()
    monkeypatch.setattr(dead_letters, "REQUEUE_PAUSE_SECONDS", 0)
    message = Message(
        body=b"\xff", headers={"task": "docpost.execute_request"}, content_type="application/json",
        delivery_info={"routing_key": "posting"}, rejected=None,
    )  # fmt: skip
    try:
        assert keep(message, "the body could not be decoded: UnicodeDecodeError") is False
        put_back(message)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert message.rejected is True  # requeued
    assert "could not keep a dead letter (the body could not be decoded" in caplog.text
