"""Real Celery workers for the benchmarks: `celery -A docpost.tasks.app worker` on Redis.

The broker is Redis database 13 (DOCPOST_BENCH_REDIS_URL) under a key prefix of this run's
own (DOCPOST_BROKER_KEY_PREFIX), as tests/integration does on database 15: other test runs
on the machine never see these messages, and cleaning up deletes only this prefix's keys.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis

from bench.common import REDIS_URL
from bench.noop import DONE_KEY, FINISHED_KEY, READY_KEY

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0


class Broker:
    """This run's part of the Redis database: every key starts with `prefix`."""

    def __init__(self, url: str = REDIS_URL) -> None:
        self.url = url
        self.prefix = f"docpost-bench-{uuid.uuid4().hex[:12]}:"
        self.client = redis.Redis.from_url(url, socket_connect_timeout=5)
        self.client.ping()

    def env(self) -> dict[str, str]:
        return {"DOCPOST_BROKER_URL": self.url, "DOCPOST_BROKER_KEY_PREFIX": self.prefix}

    def reset_marks(self) -> None:
        """Forget the previous measurement's ready time and counters."""
        self.client.delete(*(self.prefix + k for k in (READY_KEY, DONE_KEY, FINISHED_KEY)))

    def ready_at(self) -> float | None:
        value = self.client.get(self.prefix + READY_KEY)
        return float(value) if value is not None else None

    def done(self) -> int:
        return int(self.client.get(self.prefix + DONE_KEY) or 0)

    def finished_at(self) -> float | None:
        value = self.client.get(self.prefix + FINISHED_KEY)
        return float(value) if value is not None else None

    def waiting(self, queue: str) -> int:
        return int(self.client.llen(self.prefix + queue))

    def purge(self, queue: str) -> int:
        """Drop the messages waiting in a queue (of this run's prefix only)."""
        waiting = self.waiting(queue)
        self.client.delete(self.prefix + queue)
        return waiting

    def flush(self) -> None:
        keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=1000))
        for start in range(0, len(keys), 1000):
            self.client.delete(*keys[start : start + 1000])

    def close(self) -> None:
        self.flush()
        self.client.close()


class Worker:
    """A `celery worker` subprocess in its own process group, logging to a temporary file."""

    def __init__(
        self,
        env: dict[str, str],
        queues: Sequence[str],
        concurrency: int,
        name: str = "bench",
        extra: Sequence[str] = (),
        includes: Sequence[str] = ("bench.noop",),
    ) -> None:
        self.name = f"{name}-{uuid.uuid4().hex[:6]}"
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix=f"docpost-{self.name}-", suffix=".log", delete=False
        )
        self.log_path = Path(self._log.name)
        command = [
            sys.executable, "-m", "celery", "-A", "docpost.tasks.app", "worker",
            "--include", ",".join(includes),
            "--hostname", f"{self.name}@%h",
            "--concurrency", str(concurrency),
            "--queues", ",".join(queues),
            "--loglevel", "WARNING",
            "--without-mingle", "--without-gossip", "--without-heartbeat",
            *extra,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # pool processes left behind, if any
        self._log.close()
        self.log_path.unlink(missing_ok=True)


@contextlib.contextmanager
def running_worker(
    broker: Broker,
    env: dict[str, str],
    queues: Sequence[str],
    concurrency: int,
    name: str = "bench",
    extra: Sequence[str] = (),
    profile: Path | None = None,
    includes: Sequence[str] = (),
) -> Iterator[tuple[Worker, float]]:
    """A started worker and the wall-clock time (time.time()) it reported itself ready.

    `includes`: bench modules loaded into the worker besides bench.noop (which notes it ready),
    e.g. bench.lock_probe.

    `profile`: sample the worker and its pool processes with py-spy (`pip install py-spy`)
    while the block runs, writing collapsed stacks there (bench.profile summarises them)."""
    broker.reset_marks()
    includes = ["bench.noop", *(m for m in includes if m != "bench.noop")]
    env = {**env, **broker.env()}
    worker = Worker(env, queues, concurrency, name, extra, includes)
    spy: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while (ready := broker.ready_at()) is None:
            if worker.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {worker.name} did not start:\n{worker.text()[-3000:]}")
            time.sleep(0.01)
        if profile is not None:
            spy = _py_spy(worker.process.pid, profile)
        yield worker, ready
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            spy.wait(60)
        worker.stop()


def _py_spy(pid: int, output: Path) -> subprocess.Popen[bytes]:
    spy = Path(sys.executable).with_name("py-spy")
    command = [
        str(spy), "record", "--pid", str(pid), "--subprocesses", "--rate", "250",
        "--format", "raw", "--output", str(output), "--nonblocking",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def configure_client(env: dict[str, str]) -> None:
    """Point this process's Celery app (tasks.client.submit) at the benchmark's broker."""
    os.environ.update(env)
    from docpost.pipeline.config import get_settings
    from docpost.tasks.app import configure
    from docpost.tasks.config import get_queue_settings

    get_settings.cache_clear()
    get_queue_settings.cache_clear()
    configure()
