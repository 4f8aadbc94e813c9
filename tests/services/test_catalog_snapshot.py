"""The catalog fixtures (usmf, norway, shop) copy a catalog posted once per session into a test's
database (tests/conftest.py CatalogSnapshots): the rows must be exactly those that posting the
catalog in the test makes, the request record included, and a database something touched first
must get the catalog posted, as before."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from docpost.pipeline.db import make_engine
from docpost.schema import Base
from tests.conftest import (
    _FRESH_SQLITE,
    CatalogSnapshots,
    Runner,
    _file_state,
    norway_catalog,
    reset_postgres,
    usmf_catalog,
)

# This moment's timestamps, the next accept number, the next request_id: compared below.
MASKED = {"created_at", "finished_at", "sequence", "request_id", "body"}


def fresh(db_url: str, sqlite_template: Path) -> Engine:
    """The test's database as db_url hands it out: the migrated template, or an emptied schema."""
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copy(sqlite_template, path)
        _FRESH_SQLITE[str(path)] = _file_state(path)
    else:
        engine = make_engine(db_url)
        reset_postgres(engine)
        engine.dispose()
    return make_engine(db_url)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted; the request records' timestamps and accept number masked."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            result = conn.execute(table.select())
            columns = list(result.keys())
            rows = [
                tuple(
                    "*" if c in MASKED and v is not None else v
                    for c, v in zip(columns, row, strict=True)
                )
                for row in result
            ]
            tables[table.name] = sorted(rows, key=repr)
    return tables


def requests_of(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        query = "SELECT request_id, body, created_at, finished_at, sequence FROM requests"
        return list(conn.execute(text(query)))


@pytest.mark.parametrize("name, catalog", [("usmf", usmf_catalog), ("norway", norway_catalog)])
def test_a_snapshot_gives_the_rows_posting_gives(
    db_url: str, sqlite_template: Path, catalogs: CatalogSnapshots, name: str, catalog: Any
) -> None:
    engine = fresh(db_url, sqlite_template)
    posted_run = Runner(sessionmaker(engine, expire_on_commit=False))
    posted_run.ok("upsert_catalog", catalog())
    posted, (posted_record,) = dump(engine), requests_of(engine)
    engine.dispose()

    engine = fresh(db_url, sqlite_template)
    run = Runner(sessionmaker(engine, expire_on_commit=False))
    catalogs.load(run, name, catalog)
    copied, (copied_record,) = dump(engine), requests_of(engine)
    engine.dispose()

    assert copied == posted
    # The Runner's next request_id, as posting would have taken it, and the body under it.
    number = int(posted_record.request_id.removeprefix("t-"))
    assert copied_record.request_id == f"t-{number + 1}"
    assert copied_record.body == posted_record.body.replace(
        f'"request_id":"{posted_record.request_id}"', f'"request_id":"{copied_record.request_id}"'
    )
    assert copied_record.created_at is not None and copied_record.finished_at is not None
    assert type(copied_record.created_at) is type(posted_record.created_at)
    assert copied_record.created_at >= posted_record.finished_at
    if db_url.startswith("sqlite"):
        assert copied_record.sequence == posted_record.sequence == 1
    else:
        assert copied_record.sequence > posted_record.sequence


def test_a_database_touched_first_gets_the_catalog_posted(
    run: Runner, catalogs: CatalogSnapshots
) -> None:
    run.rejected("upsert_catalog", {"actors": [{"actor": "auditor", "duties": []}]})  # M5
    catalogs.load(run, "usmf", usmf_catalog)
    engine = run.sessions.kw["bind"]
    with engine.connect() as conn:
        actors = set(conn.execute(text("SELECT actor FROM actors")).scalars())
        ids = list(conn.execute(text("SELECT request_id FROM requests")).scalars())
    assert "erp" in actors and "auditor" not in actors
    assert len(ids) == 2 and "catalog-snapshot" not in ids
