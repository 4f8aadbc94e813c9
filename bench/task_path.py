"""The queue task's own path, in this process, without Celery: A/B of bench/prototype.py.

    python -m bench.task_path [--postings 300] [--patches attempt,ping,relay]

Calls the `execute_request` task function directly (as a pool process would) for packing
slips, alternating posting by posting between the code as it is and the code with the
prototype patches, and prints the median ms of each phase (count the delivery, execute,
relay the outbox) and the round trips to PostgreSQL per posting. One process taking turns:
load from elsewhere on the machine falls on both variants alike, and the medians of a few
hundred postings resolve differences of a few percent, which worker throughput does not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from bench.common import packing_slip_request, private_database
from bench.prepare import prepare_orders

PHASES = ("count delivery", "execute", "relay", "task total")


@contextmanager
def _round_trips(engines: Callable[[], list[Engine]], seen: Counter[str]) -> Iterator[None]:
    """Count statements, pings (a pool checkout with pool_pre_ping) and commits."""

    def statement(*_: Any) -> None:
        seen["statements"] += 1

    def commit(*_: Any) -> None:
        seen["commits"] += 1

    listened = engines()
    checkouts: dict[Engine, Callable[..., None]] = {}
    for engine in listened:
        pings = bool(getattr(engine.pool, "_pre_ping", False))

        def checkout(*_: Any, pings: bool = pings) -> None:
            seen["pings"] += int(pings)

        checkouts[engine] = checkout
        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine.pool, "checkout", checkout)
        event.listen(engine, "commit", commit)
    try:
        yield
    finally:
        for engine in listened:
            event.remove(engine, "before_cursor_execute", statement)
            event.remove(engine.pool, "checkout", checkouts[engine])
            event.remove(engine, "commit", commit)


def measure(postings: int = 300, patches: str = "attempt,ping,relay") -> dict[str, Any]:
    from bench import prototype
    from bench.__main__ import configure_client
    from bench.workers import Broker

    broker = Broker()
    try:
        with private_database() as db:
            configure_client({**broker.env(), "DOCPOST_DATABASE_URL": db.url})
            import tasks.execute as task
            from tasks.client import submit

            numbers = [f"PATH-{n}" for n in range(2 * postings + 20)]
            prepare_orders(db.url, numbers)
            names = {p for p in patches.split(",") if p}
            times: dict[str, dict[str, list[float]]] = {
                v: {p: [] for p in PHASES} for v in ("as is", "prototype")
            }
            trips: dict[str, Counter[str]] = {v: Counter() for v in times}

            def timed(variant: str, phase: str, function: Any) -> Any:
                def wrapper(*args: Any, **kwargs: Any) -> Any:
                    started = time.perf_counter()
                    try:
                        return function(*args, **kwargs)
                    finally:
                        times[variant][phase].append(time.perf_counter() - started)

                return wrapper

            def run(variant: str, number: str, record: bool) -> None:
                if variant == "prototype":
                    prototype.apply(names)
                wrapped = {
                    "begin_attempt": task.begin_attempt,
                    "execute": task.execute,
                    "relay_quietly": task.relay_quietly,
                }
                try:
                    if record:
                        task.begin_attempt = timed(variant, "count delivery", task.begin_attempt)
                        task.execute = timed(variant, "execute", task.execute)
                        task.relay_quietly = timed(variant, "relay", task.relay_quietly)
                    body = packing_slip_request(number)
                    submit(body, db.sessions)  # recorded `queued`, published: not timed
                    counter = trips[variant] if record else Counter()
                    with _round_trips(lambda: [task.worker_sessions().kw["bind"]], counter):
                        started = time.perf_counter()
                        task.execute_request(body)
                        if record:
                            times[variant]["task total"].append(time.perf_counter() - started)
                finally:
                    for name, original in wrapped.items():
                        setattr(task, name, original)
                    if variant == "prototype":
                        prototype.revert()

            for n in range(10):  # warm-up: imports, statement caches, connections
                run("as is" if n % 2 else "prototype", numbers[n], record=False)
            for n in range(postings):
                run("as is", numbers[10 + 2 * n], record=True)
                run("prototype", numbers[11 + 2 * n], record=True)
            broker.purge("documents")
            os.environ.pop("DOCPOST_DATABASE_URL", None)  # the schema is dropped next
    finally:
        broker.close()
    figures: dict[str, Any] = {"task_path_postings": postings, "task_path_patches": patches}
    for variant, phases in times.items():
        key = "as_is" if variant == "as is" else "prototype"
        for phase, spent in phases.items():
            figures[f"task_{key}_{phase.replace(' ', '_')}_ms"] = round(
                statistics.median(spent) * 1000, 2
            )
        for what, count in trips[variant].items():
            figures[f"task_{key}_{what}"] = round(count / postings, 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=300)
    parser.add_argument("--patches", default="attempt,ping,relay")
    args = parser.parse_args()
    figures = measure(args.postings, args.patches)
    print(f"median ms per posting, {args.postings} each, alternating ({args.patches})")
    print(f"{'phase':16s} {'as is':>8s} {'prototype':>10s}")
    for phase in PHASES:
        key = phase.replace(" ", "_")
        print(
            f"{phase:16s} {figures[f'task_as_is_{key}_ms']:8.2f} "
            f"{figures[f'task_prototype_{key}_ms']:10.2f}"
        )
    for what in ("statements", "pings", "commits"):
        print(
            f"{what + ' / posting':16s} {figures.get(f'task_as_is_{what}', 0):8.2f} "
            f"{figures.get(f'task_prototype_{what}', 0):10.2f}"
        )


if __name__ == "__main__":
    main()
