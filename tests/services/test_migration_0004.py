"""Migration 0004 (M5 as extended): an existing database keeps working. Its actors get the new
duties by the rule in the migration's docstring, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import make_engine
from docpost.schema.migrate import alembic_config
from tests.conftest import PG_URL, unavailable

ALL = [
    "correct_serial_numbers",
    "maintain_master_data",
    "maintain_sales_orders",
    "manage_actors",
    "post_sales_documents",
    "recognize_revenue",
    "register_non_readable_serials",
]

At = Callable[[str], Engine]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def at_revision(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[At]:
    """at_revision(rev): an engine on a new database migrated to `rev`; `migrate(engine,
    rev)` moves it on."""
    engines: list[Engine] = []
    schemas: list[str] = []
    admin = make_engine(PG_URL) if request.param == "postgres" else None

    def make(revision: str) -> Engine:
        if admin is None:
            url = f"sqlite:///{tmp_path / 'old.db'}"
        else:
            name = f"docpost_m{uuid.uuid4().hex[:10]}"
            try:
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{name}"'))
            except Exception as exc:
                unavailable("PostgreSQL", exc)
            schemas.append(name)
            separator = "&" if "?" in PG_URL else "?"
            url = f"{PG_URL}{separator}options=-csearch_path%3D{name}"
        engine = make_engine(url)
        engines.append(engine)
        migrate(engine, revision)
        return engine

    yield make
    for engine in engines:
        engine.dispose()
    if admin is not None:
        with admin.begin() as conn:
            for name in schemas:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def migrate(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def add_actors(engine: Engine, actors: dict[str, list[str]]) -> None:
    with engine.begin() as conn:
        for actor, duties in actors.items():
            conn.execute(text("INSERT INTO actors (actor) VALUES (:a)"), {"a": actor})
            for duty in duties:
                conn.execute(
                    text("INSERT INTO actor_duties (actor, duty) VALUES (:a, :d)"),
                    {"a": actor, "d": duty},
                )


def duties(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, duty FROM actor_duties ORDER BY actor, duty"))
        found: dict[str, list[str]] = {}
        for actor, duty in rows:
            found.setdefault(actor, []).append(duty)
        return found


OLD_USMF = {
    "erp": ["post_sales_documents"],
    "warehouse-1": ["post_sales_documents", "register_non_readable_serials"],
    "supervisor": [
        "correct_serial_numbers",
        "post_sales_documents",
        "register_non_readable_serials",
    ],
    "auditor": [],
}


def test_0004_grants_the_new_duties_so_existing_actors_keep_working(at_revision: At) -> None:
    engine = at_revision("0003")
    add_actors(engine, OLD_USMF)
    migrate(engine, "0004")
    assert duties(engine) == {
        "erp": ALL,  # the system actor administers the catalog
        "warehouse-1": [
            "maintain_sales_orders",
            "post_sales_documents",
            "recognize_revenue",
            "register_non_readable_serials",
        ],
        "supervisor": [
            "correct_serial_numbers",
            "maintain_sales_orders",
            "post_sales_documents",
            "recognize_revenue",
            "register_non_readable_serials",
        ],
        # auditor, without a duty, entered orders only through the hole: it gets nothing.
    }


def test_0004_without_the_system_actor_earlier_catalog_loaders_administer(
    at_revision: At, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "system_actor", "scheduler")
    engine = at_revision("0003")
    add_actors(engine, {"ops": ["post_sales_documents"], "clerk": ["post_sales_documents"]})
    with engine.begin() as conn:
        for request_id, actor, status in (
            ("load-1", "ops", "succeeded"),
            ("load-2", "clerk", "rejected"),
            ("load-3", "admin", "succeeded"),  # no such actor: the old `docpost load` default
        ):
            conn.execute(
                text(
                    "INSERT INTO requests (request_id, kind, actor, body_sha256, body, status, "
                    "attempts, created_at) VALUES (:r, 'upsert_catalog', :a, 'x', '{}', :s, 1, "
                    ":t)"
                ),
                {"r": request_id, "a": actor, "s": status, "t": dt.datetime(2026, 1, 1)},
            )
    migrate(engine, "0004")
    found = duties(engine)
    assert found["ops"] == ALL
    assert found["clerk"] == ["maintain_sales_orders", "post_sales_documents", "recognize_revenue"]


def test_0004_on_an_empty_database_grants_nothing_and_downgrades(at_revision: At) -> None:
    engine = at_revision("0004")
    assert duties(engine) == {}
    add_actors(engine, {"erp": ALL})
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    assert duties(engine) == {
        "erp": ["correct_serial_numbers", "post_sales_documents", "register_non_readable_serials"]
    }
