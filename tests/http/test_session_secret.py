"""The back office's session secret comes from the settings (DOCPOST_SESSION_SECRET, or a .env
file), so every server process of one installation signs and checks the same cookies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from docpost.pipeline.config import get_settings
from docpost.pipeline.entrypoints.http import session


@pytest.fixture
def fresh_secret() -> Iterator[None]:
    session.server_secret.cache_clear()
    get_settings.cache_clear()
    yield
    session.server_secret.cache_clear()
    get_settings.cache_clear()


def test_the_configured_secret_signs_the_cookies(
    fresh_secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCPOST_SESSION_SECRET", "a long random string")
    assert session.server_secret() == b"a long random string"


def test_without_a_secret_each_process_draws_its_own(
    fresh_secret: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Negative control: unset, the secret is random (32 bytes), not a fixed default."""
    monkeypatch.delenv("DOCPOST_SESSION_SECRET", raising=False)
    first = session.server_secret()
    session.server_secret.cache_clear()
    assert len(first) == 32 and session.server_secret() != first
