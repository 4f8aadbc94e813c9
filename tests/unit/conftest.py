"""tests/unit holds no database: every test here runs with a guard that fails it when it opens
one (an engine made, a connection taken, SQLite or PostgreSQL reached directly).

A test that needs a database belongs in tests/services (services and the runner) or
tests/queue (the queue's pieces on a SQLite file). The guard records each attempt as well as
refusing it, so a test whose code under test swallows the AssertionError (a broad `except`)
still fails, at teardown.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest
import sqlalchemy
import sqlalchemy.engine
import sqlalchemy.engine.create
from sqlalchemy.engine import Engine

RULE = "tests/unit holds no database"
WHERE = "a test that needs one belongs in tests/services or tests/queue"


@dataclass
class NoDatabase:
    """What the guard refused during this test; the real create_engine, for the guard's own
    test (an engine made without it cannot connect)."""

    real_create_engine: Callable[..., Engine]
    attempts: list[str] = field(default_factory=list)

    def refuse(self, what: str) -> Callable[..., NoReturn]:
        def refused(*args: Any, **kwargs: Any) -> NoReturn:
            self.attempts.append(what)
            raise AssertionError(f"{RULE}: {what} was called; {WHERE}")

        return refused

    def check(self) -> None:
        """At teardown: fails the test if anything was refused, caught by it or not."""
        assert not self.attempts, f"{RULE}: this test tried {self.attempts}; {WHERE}"


def _install(guard: NoDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    real = guard.real_create_engine
    refuse_engine = guard.refuse("sqlalchemy.create_engine")
    for module in (sqlalchemy, sqlalchemy.engine, sqlalchemy.engine.create):
        monkeypatch.setattr(module, "create_engine", refuse_engine)
    # `from sqlalchemy import create_engine` (docpost.pipeline.db) bound the real one at import.
    for name, module in list(sys.modules.items()):
        if name.startswith(("docpost", "tests")) and getattr(module, "create_engine", None) is real:
            monkeypatch.setattr(module, "create_engine", refuse_engine)
    # An engine made before the test (engine_for caches them per URL) may not connect either.
    monkeypatch.setattr(Engine, "connect", guard.refuse("Engine.connect"))
    monkeypatch.setattr(Engine, "raw_connection", guard.refuse("Engine.raw_connection"))
    monkeypatch.setattr(sqlite3, "connect", guard.refuse("sqlite3.connect"))
    psycopg2 = sys.modules.get("psycopg2")  # loaded only by a PostgreSQL engine or a test
    if psycopg2 is not None:
        monkeypatch.setattr(psycopg2, "connect", guard.refuse("psycopg2.connect"))


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[NoDatabase]:
    guard = NoDatabase(real_create_engine=sqlalchemy.create_engine)
    _install(guard, monkeypatch)
    yield guard
    guard.check()
