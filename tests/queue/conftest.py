"""The queue's tasks on a SQLite file, with no broker and no worker: the task functions are
called directly, as a pool process calls them, and what they publish stays in memory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import make_engine
from docpost.tasks.config import get_queue_settings


@pytest.fixture
def sqlite_sessions(tmp_path: Path, sqlite_template: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated SQLite file of this test's own: a copy of the session's migrated template
    (migrating takes ~1 s a test)."""
    path = tmp_path / "docpost.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def task_settings() -> dict[str, str]:
    """DOCPOST_* settings the tasks of a module run with besides the database and the broker;
    a module overrides this fixture to set its own (attempts, time limits)."""
    return {}


@pytest.fixture
def task_db(
    sqlite_sessions: sessionmaker[Session],
    task_settings: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[sessionmaker[Session]]:
    """The tasks' database is the SQLite file; an empty broker URL keeps what the tasks publish
    in memory. The settings caches are cleared on the way in and, once the environment is
    restored, on the way out, so no other test sees these settings."""
    monkeypatch.setenv("DOCPOST_DATABASE_URL", str(sqlite_sessions.kw["bind"].url))
    monkeypatch.setenv("DOCPOST_BROKER_URL", "")
    for name, value in task_settings.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_queue_settings.cache_clear()
    yield sqlite_sessions
    monkeypatch.undo()
    get_settings.cache_clear()
    get_queue_settings.cache_clear()
