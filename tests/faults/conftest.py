"""Fixtures of the fault tests: an installation (database, broker, workers) per test, on the
shared servers (PostgreSQL schema of the test session, Redis database 12 under a key prefix of
the test's own) or on private servers the test may stop and start."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from docpost.pipeline.config import get_settings
from tests.conftest import unavailable
from tests.faults.harness import (
    FAULTS_REDIS_URL,
    PrivatePostgres,
    PrivateRedis,
    Stack,
    TlsFiles,
    new_engine,
)
from tests.integration.conftest import Broker

MakeStack = Callable[..., Stack]


@pytest.fixture
def make_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MakeStack]:
    """make_stack(database_url, broker_url, visibility_timeout=10, max_attempts=5,
    republish_after=None) -> a Stack whose DOCPOST_* settings hold in this process
    (tasks.client, tasks.app) and for its workers. With `republish_after` (seconds,
    DOCPOST_REPUBLISH_AFTER) the stack's `beat()` runs the recovery sweep too. Workers are
    stopped and the broker keys removed after the test."""
    from docpost.tasks.app import configure
    from docpost.tasks.config import get_queue_settings

    stacks: list[Stack] = []

    def make(
        database_url: str,
        broker_url: str,
        *,
        visibility_timeout: int = 10,
        max_attempts: int = 5,
        republish_after: float | None = None,
    ) -> Stack:
        prefix = f"docpost-faults-{uuid.uuid4().hex[:12]}:"
        env = {
            "DOCPOST_DATABASE_URL": database_url,
            "DOCPOST_BROKER_URL": broker_url,
            "DOCPOST_BROKER_KEY_PREFIX": prefix,
            "DOCPOST_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "DOCPOST_MAX_ATTEMPTS": str(max_attempts),
            "DOCPOST_DOCUMENTS_DIR": str(tmp_path / "documents"),
        }
        if republish_after is not None:
            env["DOCPOST_REPUBLISH_AFTER"] = str(republish_after)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        get_queue_settings.cache_clear()
        configure()
        broker = Broker.open(broker_url, prefix)
        stack = Stack(env, broker, tmp_path, new_engine(database_url))
        stack.republish_after, stack.visibility_timeout = republish_after, visibility_timeout
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.close()
    monkeypatch.undo()
    get_settings.cache_clear()
    get_queue_settings.cache_clear()
    configure()


@pytest.fixture
def stack(pg_url: str, make_stack: MakeStack) -> Stack:
    """The shared PostgreSQL (this test's emptied schema) and the shared Redis (database 12).
    A visibility timeout of a minute (so time limits of 24/30 s, never met by a busy but
    healthy machine); tests that kill workers want theirs short and use make_stack."""
    return make_stack(pg_url, FAULTS_REDIS_URL, visibility_timeout=60)


@pytest.fixture
def killable_stack(pg_url: str, make_stack: MakeStack) -> Stack:
    """As `stack`, with a visibility timeout of 10 s: the messages of a killed worker come back
    within about 11 s (time limits 4/5 s)."""
    return make_stack(pg_url, FAULTS_REDIS_URL, visibility_timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Callable[..., PrivateRedis]]:
    """private_redis(appendonly=..., password=..., tls=...) -> a started redis-server of this
    test's own; killed after the test."""
    servers: list[PrivateRedis] = []

    def start(**options: object) -> PrivateRedis:
        try:
            server = PrivateRedis(tmp_path / f"redis-{len(servers)}", **options)  # type: ignore[arg-type]
        except FileNotFoundError as exc:
            unavailable("redis-server", exc)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def tls_files(tmp_path: Path) -> TlsFiles:
    return TlsFiles.create(tmp_path / "tls")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started PostgreSQL cluster of this test's own, migrated to head; removed after."""
    from docpost.schema.migrate import upgrade

    try:
        server = PrivatePostgres()
    except FileNotFoundError as exc:
        unavailable("PostgreSQL binaries (initdb, pg_ctl)", exc)
    try:
        server.start()
        engine = new_engine(server.url)
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.close()
