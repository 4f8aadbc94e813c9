"""Loaded into bench workers with `celery -A docpost.tasks.app worker --include bench.noop`.

- `bench.noop`: the queue floor's task. It does nothing but count itself (INCR) in Redis, and
  the task that brings the count to `total` notes the wall-clock time it finished.
- `bench.raw_posting`: the queue ceiling's task: one posting's writes by raw SQL (the
  database floor's transaction, bench.db_floor), then counted as `bench.noop` counts.
- On `worker_ready` the worker notes the wall-clock time it became ready, so every figure
  is timed from the moment the worker could take its first message, not from when the
  parent noticed it.

Keys live under DOCPOST_BROKER_KEY_PREFIX in the broker's Redis database (bench.broker).
"""

from __future__ import annotations

import os
import time
from functools import lru_cache
from typing import Any

import redis
from celery.signals import worker_ready

from bench.db_floor import post_by_raw_sql
from docpost.tasks.app import app

NOOP_TASK = "bench.noop"
RAW_POSTING_TASK = "bench.raw_posting"
RAW_DSN, RAW_SCHEMA = "DOCPOST_BENCH_RAW_DSN", "DOCPOST_BENCH_RAW_SCHEMA"
READY_KEY, DONE_KEY, FINISHED_KEY = "bench:ready", "bench:done", "bench:finished"


def _prefix() -> str:
    return os.environ.get("DOCPOST_BROKER_KEY_PREFIX", "")


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    """One client per process, created in the pool process on first use (never forked)."""
    return redis.Redis.from_url(os.environ["DOCPOST_BROKER_URL"])


@app.task(name=NOOP_TASK)
def noop(total: int) -> None:
    _count(total)


def _count(total: int) -> None:
    client = _redis()
    if client.incr(_prefix() + DONE_KEY) == total:
        client.set(_prefix() + FINISHED_KEY, repr(time.time()))


@lru_cache(maxsize=1)
def _raw_connection() -> Any:
    import psycopg2

    return psycopg2.connect(os.environ[RAW_DSN], options=f"-csearch_path={os.environ[RAW_SCHEMA]}")


@app.task(name=RAW_POSTING_TASK)
def raw_posting(number: str, total: int) -> None:
    post_by_raw_sql(_raw_connection(), number)
    _count(total)


@worker_ready.connect
def _note_ready(**_: Any) -> None:
    # Several workers of one measurement: the first ready one starts the clock. A client of
    # its own, closed at once: pool processes forked later must not inherit a connection.
    client = redis.Redis.from_url(os.environ["DOCPOST_BROKER_URL"])
    try:
        client.setnx(_prefix() + READY_KEY, repr(time.time()))
    finally:
        client.close()
