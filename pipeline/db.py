"""Engines and sessions for PostgreSQL and the embedded SQLite default."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _make_sqlite_transactional(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _make_sqlite_transactional(engine: Engine) -> None:
    """pysqlite starts transactions lazily and breaks SAVEPOINT; take control of BEGIN.

    BEGIN IMMEDIATE takes SQLite's write lock up front, which serialises postings the way
    the row lock does on PostgreSQL, instead of failing late on a lock upgrade.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=8)
def engine_for(url: str, pre_ping: bool = True) -> Engine:
    """One engine (and pool) per URL per process."""
    return make_engine(url, pool_pre_ping=pre_ping)


def session_factory(url: str, *, pre_ping: bool = True) -> sessionmaker[Session]:
    """`pre_ping`: test each pooled connection with a round trip before use. The queue's
    workers go without: a connection that broke meanwhile fails the task with an
    OperationalError, which the task retries as transient, and SQLAlchemy drops the pool."""
    return sessionmaker(engine_for(url, pre_ping), expire_on_commit=False)
