"""The guard of tests/unit/conftest.py fires: each way of opening a database fails, naming the
rule, and is recorded, so a swallowed failure still fails the test. Without these tests a
guard that patched nothing would pass every test in this folder."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy.orm import Session

from docpost.pipeline.db import make_engine, session_factory
from tests.unit.conftest import RULE, NoDatabase


def _session_on_an_engine_made_before(guard: NoDatabase, url: str) -> Any:
    # An engine made before the test (docpost.pipeline.db.engine_for caches one per URL).
    with Session(guard.real_create_engine(url)) as session:
        return session.execute(sqlalchemy.text("SELECT 1"))


OPENINGS: dict[str, Callable[[NoDatabase, str], Any]] = {
    "make_engine": lambda guard, url: make_engine(url),
    "session_factory": lambda guard, url: session_factory(url),
    "sqlalchemy.create_engine": lambda guard, url: sqlalchemy.create_engine(url),
    "sqlalchemy.engine.create_engine": lambda guard, url: sqlalchemy.engine.create_engine(url),
    "an engine made before": _session_on_an_engine_made_before,
    "sqlite3.connect": lambda guard, url: sqlite3.connect(url.removeprefix("sqlite:///")),
}


@pytest.mark.parametrize("opening", sorted(OPENINGS))
def test_opening_a_database_fails_naming_the_rule(
    no_database: NoDatabase, tmp_path: Path, opening: str
) -> None:
    url = f"sqlite:///{tmp_path / 'docpost.db'}"
    with pytest.raises(AssertionError, match=f"^{RULE}: "):
        OPENINGS[opening](no_database, url)
    assert no_database.attempts, "the attempt is recorded"
    assert not (tmp_path / "docpost.db").exists()
    no_database.attempts.clear()  # refused as it should be: this test passes


def test_a_swallowed_refusal_still_fails_the_test(no_database: NoDatabase, tmp_path: Path) -> None:
    """Code that catches every Exception (tasks.dead_letters.keep does) cannot hide an opened
    database: the guard's teardown check fails on the record."""
    with contextlib.suppress(Exception):  # what the code under test might do
        make_engine(f"sqlite:///{tmp_path / 'docpost.db'}")
    assert no_database.attempts == ["sqlalchemy.create_engine"]
    with pytest.raises(AssertionError, match=f"^{RULE}: this test tried"):
        no_database.check()
    no_database.attempts.clear()
    no_database.check()  # and passes once nothing was refused
