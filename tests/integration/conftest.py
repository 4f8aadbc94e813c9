"""Real workers on real Redis and PostgreSQL: `celery -A docpost.tasks.app worker` subprocesses.

Each test gets an empty PostgreSQL schema (pg_url) and a broker of its own: Redis database
15 under a key prefix unique to the test. Other suites run workers on database 15 too (and
flush it), possibly at the same time: without the prefix their workers would take these
tests' messages and run them against another database. Workers run with a short visibility
timeout, so that the messages of a killed worker come back in seconds rather than an hour.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from docpost.pipeline.config import get_settings
from tests.conftest import REDIS_URL, unavailable

ROOT = Path(__file__).resolve().parents[2]
# The messages of a killed worker are handed out again after this many seconds.
VISIBILITY_TIMEOUT = "10"
READY_TIMEOUT = 30.0


class Broker:
    """This test's part of Redis database 15: its keys all start with `prefix`."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, prefix
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2)

    @classmethod
    def open(cls, url: str, prefix: str) -> Broker:
        """This test's keys emptied and marked; Redis down skips (fails with CI=true)."""
        broker = cls(url, prefix)
        try:
            broker.client.ping()
            broker.flush()
            broker.mark()
        except redis.exceptions.RedisError as exc:
            broker.client.close()
            unavailable("Redis", exc)
        return broker

    def flush(self) -> None:
        keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=1000))
        if keys:
            self.client.delete(*keys)

    def waiting(self, *queues: str) -> int:
        return sum(self.client.llen(self.prefix + q) for q in queues)

    def unacked(self) -> int:
        return int(self.client.hlen(self.prefix + "unacked"))

    def mark(self) -> None:
        self.client.set(self.prefix + "sentinel", "1")

    def flushed_by_someone_else(self) -> bool:
        return not self.client.exists(self.prefix + "sentinel")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test says so when another process emptied Redis database 15 meanwhile: other
    suites FLUSHDB it, and a concurrent run of them loses this test's messages."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    broker = getattr(item, "funcargs", {}).get("broker")
    failed = report.when == "call" and report.failed
    if failed and isinstance(broker, Broker) and broker.flushed_by_someone_else():
        report.sections.append(
            ("Redis", "database 15 was flushed by another process during this test "
             "(a concurrent test run?): its queued messages were lost")
        )  # fmt: skip


@pytest.fixture
def broker() -> Iterator[Broker]:
    """Redis database 15, this test's keys only, emptied before and after."""
    broker = Broker.open(REDIS_URL, f"docpost-test-{uuid.uuid4().hex[:12]}:")
    yield broker
    broker.flush()
    broker.client.close()


@pytest.fixture
def queue_env(
    pg_url: str, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """DOCPOST_* for this test's database and broker, in this process (tasks.client) and for
    the worker subprocesses."""
    from docpost.tasks.app import configure
    from docpost.tasks.config import get_queue_settings

    env = {
        "DOCPOST_DATABASE_URL": pg_url,
        "DOCPOST_BROKER_URL": broker.url,
        "DOCPOST_BROKER_KEY_PREFIX": broker.prefix,
        "DOCPOST_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT,
        "DOCPOST_MAX_ATTEMPTS": "5",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_queue_settings.cache_clear()
    configure()
    yield env
    monkeypatch.undo()
    get_settings.cache_clear()
    get_queue_settings.cache_clear()
    configure()


class Worker:
    """A `celery worker` subprocess in its own process group (so SIGKILL takes its pool
    processes too), logging to a file the test can show."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        log: Path,
        concurrency: int,
        app: str = "docpost.tasks.app",
    ) -> None:
        self.name, self.log = name, log
        command = [
            sys.executable, "-m", "celery", "-A", app, "worker",
            "--hostname", f"{name}@%h", "--concurrency", str(concurrency),
            "--loglevel", "INFO", "--without-mingle", "--without-gossip",
        ]  # fmt: skip
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if f"{self.name}@" in self.text() and " ready." in self.text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"worker {self.name} did not start:\n{self.text()[-3000:]}")

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no shutdown, no acks, no cleanup."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        # Pool processes that outlived their parent, if any.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log_file.close()


@pytest.fixture
def start_worker(queue_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """start_worker(name, concurrency=2) -> a ready Worker; all are stopped after the test."""
    started: list[Worker] = []

    def start(name: str, concurrency: int = 2, wait: bool = True) -> Worker:
        worker = Worker(name, queue_env, tmp_path / f"{name}.log", concurrency)
        started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    # The test has looked at everything it wanted: no warm shutdown (3-10 s a test, waiting
    # for the pool and the broker connection to close). A killed worker's unacked messages
    # are under this test's key prefix, which the broker fixture empties next. Tests that are
    # about a warm shutdown call worker.stop() themselves.
    for worker in started:
        worker.kill()
        worker.stop()
