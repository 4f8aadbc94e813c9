"""CPU time spent by a worker and by the PostgreSQL backends serving it, from /proc.

Wall-clock throughput on a shared 2-core machine moves with whatever else runs; the CPU
seconds a piece of work costs move much less. CPU per request also bounds throughput:
with C cores, no configuration does better than C / (worker + database CPU per request).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, text

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """utime + stime of a process (+ of its children it has waited for)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # fields from 3 (state) on: utime 14, stime 15, cutime 16, cstime 17 -> index 11..14
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def worker_cpu(pid: int) -> float:
    """A Celery worker: its main process, its pool processes alive now, and those it reaped
    (recycled render processes)."""
    return cpu_seconds(pid, reaped_children=True) + sum(cpu_seconds(c) for c in children(pid))


def backends(engine: Engine, application_name: str) -> list[int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": application_name},
        )
        return [int(r[0]) for r in rows]


def backends_cpu(pids: Iterable[int]) -> float:
    """The backends' CPU since they started (they are forked per connection, from zero)."""
    return sum(cpu_seconds(pid) for pid in pids)


def with_application_name(url: str, name: str) -> str:
    """The database URL with PostgreSQL's application_name set, to find its backends."""
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"
