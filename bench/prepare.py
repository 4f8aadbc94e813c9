"""Set-up that is not timed: orders (and their packing slips) through the services.

Every row is written by `pipeline/runner/execute.py`'s `execute`, as by the workers (no
bulk SQL: the data is what postings make). The work is split over processes, each with its
own engine, since set-up of 10,000 orders one at a time would take minutes.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Sequence

from bench.common import ok
from bench.scenarios import SCENARIOS, confirm_request


def _prepare_chunk(url: str, numbers: Sequence[str], packing_slips: bool, scenario: str) -> None:
    from docpost.pipeline.db import session_factory
    from docpost.pipeline.runner.execute import execute

    chosen = SCENARIOS[scenario]
    sessions = session_factory(url)
    for number in numbers:
        ok(execute(chosen.order(number), sessions))
        if chosen.confirm:
            ok(execute(confirm_request(number), sessions))
        if packing_slips:
            ok(execute(chosen.packing_slip(number), sessions))
    sessions.kw["bind"].dispose()


def prepare_orders(
    url: str,
    numbers: Sequence[str],
    packing_slips: bool = False,
    processes: int = 2,
    scenario: str = "usmf",
) -> None:
    """Create the orders of `scenario` (bench.scenarios; confirmed when it says so) and, with
    `packing_slips`, post the benchmark packing slip of each, on `processes` processes. The
    scenario goes by name: spawned processes look it up."""
    if len(numbers) < 50 or processes == 1:
        _prepare_chunk(url, numbers, packing_slips, scenario)
        return
    context = multiprocessing.get_context("spawn")
    chunks = [list(numbers[i::processes]) for i in range(processes)]
    workers = [
        context.Process(target=_prepare_chunk, args=(url, chunk, packing_slips, scenario))
        for chunk in chunks
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if any(w.exitcode for w in workers):
        raise RuntimeError("benchmark set-up failed in a child process (see its traceback above)")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
