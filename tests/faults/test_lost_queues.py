"""The broker's queues deleted under load (what a Redis restart without persistence or a
flushed database does), three times while requests are submitted and executed, with
undecodable messages among them: beat's recovery sweep publishes what was lost again, and
every request ends with exactly one outcome, one journal per posting, gapless series, a
balanced ledger and every PDF; the undecodable messages are counted as dead letters.

By default 200 POS sales; DOCPOST_LONG_FAULTS=1 runs 1,000. Only this test's keys (its prefix
in Redis database 12) are deleted.
"""

from __future__ import annotations

import time

import pytest

from docpost.pipeline.dead_letters import count_dead_letters
from docpost.schema.requests import FINAL_STATUSES
from docpost.tasks.app import app
from docpost.tasks.schedule import RECOVER_LOST
from tests.faults.harness import (
    LONG,
    QUEUES,
    Stack,
    Submitter,
    assert_clean,
    audit,
    document_statuses,
    pos_sale,
    statuses_of,
    wait_idle,
)
from tests.integration.test_dead_letters import BAD_BODIES, publish_raw

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REQUESTS = 1000 if LONG else 200
DELETIONS = 3
SWEEP_EVERY = 2.0


def test_queues_deleted_under_load_lose_and_double_nothing(stack: Stack) -> None:
    stack.load_catalog()
    stack.env["DOCPOST_REPUBLISH_AFTER"] = "2"
    stack.workers_ready("lost-a", "lost-b")
    requests = [pos_sale(f"lostq-{n}", f"SN-LQ-{n}") for n in range(REQUESTS)]
    ids = [r["request_id"] for r in requests]
    keys = [stack.broker.prefix + key for key in (*QUEUES, "unacked", "unacked_index")]

    submitter = Submitter(requests, stack.sessions, pace=0.01)
    submitter.start()
    deleted_messages = 0
    for n in range(1, DELETIONS + 1):
        while submitter.submitted < n * REQUESTS // (DELETIONS + 1) and submitter.is_alive():
            time.sleep(0.01)
        deleted_messages += stack.broker.waiting(*QUEUES)
        stack.broker.client.delete(*keys)
    publish_raw(stack.env, list(BAD_BODIES.values()))  # after the last deletion: kept
    submitter.finish()

    # Beat's recovery sweep, until everything is final and rendered.
    deadline = time.monotonic() + 120.0 + REQUESTS * 0.3
    sweeps = 0
    while time.monotonic() < deadline:
        statuses = statuses_of(stack.sessions, ids)
        documents = document_statuses(stack.sessions)
        open_requests = sum(1 for i in ids if statuses.get(i) not in FINAL_STATUSES)
        if not open_requests and documents and not documents["pending"]:
            break
        app.send_task(RECOVER_LOST)
        sweeps += 1
        time.sleep(SWEEP_EVERY)
    wait_idle(stack.broker)

    result = audit(stack.sessions, {request_id: 2 for request_id in ids})
    with stack.sessions() as session:
        dead_letters = count_dead_letters(session)
    print(
        f"\nfaults: lost-queues requests={REQUESTS} deletions={DELETIONS} "
        f"messages_deleted={deleted_messages} sweeps={sweeps} dead_letters={dead_letters} "
        f"{result.line()}"
    )
    assert deleted_messages > 0, "the deletions found nothing to delete"
    assert result.statuses == {"succeeded": REQUESTS}, result
    assert_clean(result, journals=2 * REQUESTS)
    assert dead_letters == len(BAD_BODIES)
