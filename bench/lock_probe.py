"""How long a transaction holds a number series' row lock (L2), measured inside the worker.

A gapless number is taken by `UPDATE number_series SET next_value = next_value + n WHERE
code = :series RETURNING next_value` (pipeline/uow.py `next_numbers`); the row stays locked
until the transaction commits, so the postings of one series run one after another through
that window. The probe times it without touching production code, with SQLAlchemy events on
every engine of the process:

- before/after_cursor_execute of a statement updating number_series: the time the UPDATE
  took, which is the time it waited for the row lock (plus one index update, a fraction of a
  millisecond); the first such UPDATE returning starts the hold;
- the engine's `commit` event: the commit starts (WAL written and flushed);
- the Session's `after_commit` event: the commit is done and the lock released: the hold ends.

Beside the hold's wall time, the worker process's own CPU during it (time.process_time): on
a shared machine the hold stretches while the holder waits for a core, its CPU much less.

One `Hold` per committed transaction that took a number; none for one that took none (a
rollback gives the lock back and is counted apart). Transactions are told apart by thread,
as a prefork pool process runs one task at a time in one thread. Only ORM transactions end
a hold (every posting runs in a Session; a Core `engine.begin()` block taking a number
would be reported with the next Session's commit: nothing in docpost does that).

Loaded into a bench worker with `--include bench.lock_probe` (bench.scaling) and switched on
by DOCPOST_BENCH_LOCK_PROBE=1 in the worker's environment: each pool process installs the
probe when it starts and pushes every hold as a JSON line to the Redis list
`<DOCPOST_BROKER_KEY_PREFIX>bench:holds` (one RPUSH after the commit, outside the lock).
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

ENABLE = "DOCPOST_BENCH_LOCK_PROBE"
HOLDS_KEY = "bench:holds"
_SERIES_UPDATE = re.compile(r"^\s*UPDATE\s+number_series\b", re.IGNORECASE)
_LITERAL_CODE = re.compile(r"\bcode\s*=\s*'([^']*)'", re.IGNORECASE)


@dataclass
class Hold:
    """One committed transaction that took numbers. Durations in seconds."""

    series: list[str]  # the series it took, in the order taken
    hold_s: float  # first series UPDATE returned -> commit done: the row lock held
    wait_s: float  # the series UPDATEs' own time: waiting for the row lock (and the update)
    commit_s: float  # the commit itself (part of hold_s)
    before_s: float  # the transaction's begin -> the first series UPDATE sent (not locked)
    statements: int  # statements run while holding the lock (the UPDATEs excluded)
    hold_cpu_s: float  # this process's CPU during the hold: the worker's own work under lock
    ended_at: float  # epoch seconds (time.time()) the commit was done
    pid: int = field(default_factory=os.getpid)


@dataclass
class _Open:
    """The current thread's transaction, from its first series UPDATE on."""

    series: list[str] = field(default_factory=list)
    update_started: float | None = None
    first_returned: float | None = None
    cpu_at_first: float = 0.0
    waited: float = 0.0
    commit_started: float | None = None
    began: float | None = None
    first_sent: float | None = None
    statements: int = 0


def is_series_update(statement: str) -> bool:
    return bool(_SERIES_UPDATE.match(statement))


def series_code(statement: str, parameters: Any) -> str:
    """The series an UPDATE takes from: its bound string parameter (the ORM's `code_1` on
    psycopg2, positional on SQLite), else a literal `code = '...'` (raw SQL such as
    bench.db_floor's)."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    if isinstance(values, Iterable) and not isinstance(values, str | bytes):
        codes = [v for v in values if isinstance(v, str)]
        if codes:
            return codes[0]
    found = _LITERAL_CODE.search(statement)
    return found.group(1) if found else "?"


class Probe:
    """The listeners; `sink` gets each Hold as it ends (in the committing thread)."""

    def __init__(self, sink: Callable[[Hold], None]) -> None:
        self.sink = sink
        self.rolled_back = 0
        self._local = threading.local()
        self._listeners: list[tuple[Any, str, Callable[..., None]]] = [
            (Engine, "begin", self._begin),
            (Engine, "before_cursor_execute", self._before),
            (Engine, "after_cursor_execute", self._after),
            (Engine, "commit", self._commit),
            (Engine, "rollback", self._rollback),
            (Session, "after_commit", self._after_commit),
        ]

    def install(self) -> Probe:
        for target, name, listener in self._listeners:
            event.listen(target, name, listener)
        return self

    def remove(self) -> None:
        for target, name, listener in self._listeners:
            if event.contains(target, name, listener):
                event.remove(target, name, listener)

    def _open(self, create: bool = False) -> _Open | None:
        current: _Open | None = getattr(self._local, "open", None)
        if current is None and create:
            current = self._local.open = _Open()
        return current

    def _begin(self, _conn: Any) -> None:
        self._local.began = time.perf_counter()

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if is_series_update(statement):
            opened = self._open(create=True)
            assert opened is not None
            opened.update_started = time.perf_counter()
            if opened.first_sent is None:
                opened.first_sent = opened.update_started
                opened.began = getattr(self._local, "began", None)

    def _after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not is_series_update(statement):
            opened = self._open()
            if opened is not None and opened.first_returned is not None:
                opened.statements += 1
            return
        now = time.perf_counter()
        opened = self._open()
        if opened is None or opened.update_started is None:
            return
        opened.waited += now - opened.update_started
        opened.update_started = None
        if opened.first_returned is None:
            opened.first_returned = now
            opened.cpu_at_first = time.process_time()
        opened.series.append(series_code(statement, parameters))

    def _commit(self, _conn: Any) -> None:
        opened = self._open()
        if opened is not None and opened.first_returned is not None:
            opened.commit_started = time.perf_counter()

    def _rollback(self, _conn: Any) -> None:
        opened = self._open()
        if opened is not None and opened.first_returned is not None:
            self.rolled_back += 1
        self._local.open = None

    def _after_commit(self, _session: Session) -> None:
        opened = self._open()
        if opened is None or opened.first_returned is None:
            return
        self._local.open = None
        now = time.perf_counter()
        started = opened.commit_started if opened.commit_started is not None else now
        self.sink(
            Hold(
                series=opened.series,
                hold_s=now - opened.first_returned,
                wait_s=opened.waited,
                commit_s=now - started,
                before_s=(opened.first_sent or now) - (opened.began or opened.first_sent or now),
                statements=opened.statements,
                hold_cpu_s=time.process_time() - opened.cpu_at_first,
                ended_at=time.time(),
            )
        )


# --- in a bench worker -----------------------------------------------------------------------


def _redis_sink() -> Callable[[Hold], None]:
    import redis

    client = redis.Redis.from_url(os.environ["DOCPOST_BROKER_URL"])
    key = os.environ.get("DOCPOST_BROKER_KEY_PREFIX", "") + HOLDS_KEY

    def push(hold: Hold) -> None:
        client.rpush(key, json.dumps(asdict(hold)))

    return push


def _install_in_pool_process(**_: Any) -> None:
    if os.environ.get(ENABLE) == "1":
        Probe(_redis_sink()).install()


def _connect() -> None:
    # Only in a worker that was asked for it: importing this module elsewhere (tests) installs
    # nothing. Each pool process makes its own Redis client after the fork.
    from celery.signals import worker_process_init

    worker_process_init.connect(_install_in_pool_process, weak=False)


if os.environ.get(ENABLE) == "1":
    _connect()


def read_holds(client: Any, prefix: str) -> list[Hold]:
    """The holds the worker's processes pushed under `prefix`."""
    return [Hold(**json.loads(raw)) for raw in client.lrange(prefix + HOLDS_KEY, 0, -1)]


def clear_holds(client: Any, prefix: str) -> None:
    client.delete(prefix + HOLDS_KEY)


# --- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def summary(holds: Iterable[Hold], seconds: float) -> dict[str, Any]:
    """Median, p95 and mean of the hold, wait and commit in ms, and the series' utilisation:
    the hold time summed over `seconds` of wall time (1.0: the series never free, the ceiling;
    the transactions of one series hold one row, so their holds never overlap)."""
    taken = list(holds)
    if not taken:
        return {"holds": 0}
    hold = [h.hold_s * 1000 for h in taken]
    wait = [h.wait_s * 1000 for h in taken]
    commit = [h.commit_s * 1000 for h in taken]
    before = [h.before_s * 1000 for h in taken]
    hold_cpu = [h.hold_cpu_s * 1000 for h in taken]
    first = sorted({h.series[0] for h in taken if h.series})
    return {
        "holds": len(taken),
        "series_first": ",".join(first),
        "hold_median_ms": round(statistics.median(hold), 2),
        "hold_p95_ms": round(percentile(hold, 0.95), 2),
        "hold_mean_ms": round(statistics.fmean(hold), 2),
        "wait_median_ms": round(statistics.median(wait), 2),
        "wait_p95_ms": round(percentile(wait, 0.95), 2),
        "wait_mean_ms": round(statistics.fmean(wait), 2),
        "commit_median_ms": round(statistics.median(commit), 2),
        "hold_cpu_median_ms": round(statistics.median(hold_cpu), 2),
        "hold_cpu_mean_ms": round(statistics.fmean(hold_cpu), 2),
        "before_median_ms": round(statistics.median(before), 2),
        "statements_median": statistics.median(h.statements for h in taken),
        "utilisation": round(sum(hold) / 1000 / seconds, 3) if seconds > 0 else None,
    }
