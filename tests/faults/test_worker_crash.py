"""Workers SIGKILLed at random moments during a run, and started again: every request ends with
exactly one outcome, one journal per posting, gapless series, a balanced ledger, every PDF.

By default 300 requests and 3 kills; DOCPOST_LONG_FAULTS=1 runs 2,000 requests and 10 kills.
DOCPOST_FAULTS_SEED=N replays the kill moments of a run (its seed is printed).
"""

from __future__ import annotations

import pytest

from docpost.tasks.client import submit
from tests.faults.harness import (
    LONG,
    Killer,
    Stack,
    assert_clean,
    audit,
    count_final,
    journals_posted,
    order_waves,
    seeded_random,
    wait_final,
    wait_idle,
    wait_rendered,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# (requests, kills): five requests per order (order, confirmation, two packing slips, invoice).
REQUESTS, KILLS = (2000, 10) if LONG else (300, 3)
PREFIX = "crash-"


def test_worker_killed_at_random_moments_loses_and_doubles_nothing(killable_stack: Stack) -> None:
    stack = killable_stack
    rng, seed = seeded_random("worker-crash")
    orders = REQUESTS // 5
    stack.load_catalog()
    waves = order_waves(PREFIX.rstrip("-"), orders)
    requests = [request for wave in waves for request in wave]
    assert len(requests) == REQUESTS

    names = ("crash-a", "crash-b")
    workers = dict(zip(names, stack.workers_ready(*names), strict=True))
    thresholds = rng.sample(range(5, REQUESTS - 5), KILLS)
    killer = Killer(stack, workers, thresholds, lambda: count_final(stack.sessions, PREFIX), rng)
    killer.start()
    # Each kill strands the dead worker's messages for up to the visibility timeout (10 s).
    wave_timeout = 120.0 + 4 * REQUESTS / 50 + 15.0 * KILLS
    for wave in waves:
        for request in wave:
            submit(request, stack.sessions)
        wait_final(stack.sessions, [r["request_id"] for r in wave], wave_timeout)
    killer.finish()
    wait_rendered(stack.sessions, timeout=180.0 + REQUESTS * 0.5)
    wait_idle(stack.broker)

    result = audit(stack.sessions, {r["request_id"]: journals_posted(r) for r in requests})
    print(
        f"\nfaults: worker-crash requests={REQUESTS} kills={killer.kills} "
        f"running_at_kills={killer.running_at_kill} {result.line()} "
        f"series={result.numbers} seed={seed}"
    )
    assert killer.kills == KILLS
    assert result.statuses == {"succeeded": REQUESTS}, result
    assert_clean(result, journals=orders * 4)
    assert result.numbers["INV"] == orders and result.numbers["VOU"] == orders
    assert result.numbers["PS"] == 2 * orders and result.numbers["CONF"] == orders
