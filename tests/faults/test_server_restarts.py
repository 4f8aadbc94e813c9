"""The broker and the database restarted in the middle of a run.

Private servers only (the shared ones serve other test runs): a redis-server with
`--appendonly yes` (as docker-compose runs it) stopped and started on the same port, and a
PostgreSQL cluster of the test's own stopped and started with pg_ctl. Submitters retry, workers
reconnect, tasks retry with backoff: nothing is lost, nothing doubled.

As in production, beat's sweeps run meanwhile (Stack.beat): the outbox relay, and the recovery
sweep with a republish delay of RECOVERY_GRACE. A message the broker loses outright is only
ever brought back by the latter; the worker's channel puts back the one kind of loss it can
see itself (a delivery popped but not recorded when Redis stopped, tasks.dead_letters), and
the Redis test checks that each one it held was put back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from tests.faults.conftest import MakeStack
from tests.faults.harness import (
    FAULTS_REDIS_URL,
    HELD_LINE,
    LONG,
    PUT_BACK_LINE,
    PrivatePostgres,
    PrivateRedis,
    Submitter,
    assert_clean,
    audit,
    count_final,
    journals_posted,
    pos_sale,
    wait_final,
    wait_idle,
    wait_rendered,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REQUESTS = 400 if LONG else 100
# Longer than a submitter's own publish retries (about 6 s, task_publish_retry_policy), so
# that submitters see the failure and submit again.
REDIS_OUTAGE_SECONDS = 8.0
POSTGRES_OUTAGE_SECONDS = 4.0
# DOCPOST_REPUBLISH_AFTER of these stacks: well above the time a message waits in the queue
# after the outage (a republished duplicate is harmless but counted as a render attempt),
# well below the waits for outcomes and documents.
RECOVERY_GRACE = 60.0


def test_redis_restarted_mid_run_loses_nothing(
    pg_url: str, private_redis: Callable[..., PrivateRedis], make_stack: MakeStack
) -> None:
    server = private_redis(appendonly=True)
    stack = make_stack(pg_url, server.url, republish_after=RECOVERY_GRACE)
    stack.load_catalog()
    workers = stack.workers_ready("redis-a", "redis-b")
    pids = [w.pid for w in workers]
    requests = [pos_sale(f"redis-{n:04d}", f"RR-{n:04d}") for n in range(REQUESTS)]

    submitter = Submitter(requests, stack.sessions, pace=0.04)
    submitter.start()
    wait_until(
        lambda: submitter.submitted >= REQUESTS // 3 and count_final(stack.sessions, "redis-") >= 5,
        60.0,
        "a third submitted and some done",
    )
    submitted_at_stop = submitter.submitted
    server.stop()
    time.sleep(REDIS_OUTAGE_SECONDS)
    server.start()
    submitter.finish()

    ids = [r["request_id"] for r in requests]
    wait_final(stack.sessions, ids, timeout=180.0, beat=stack.beat)
    rendered = wait_rendered(
        stack.sessions, timeout=240.0, beat=stack.beat, explain=stack.explain_pending
    )
    wait_idle(stack.broker)
    result = audit(stack.sessions, {r["request_id"]: journals_posted(r) for r in requests})
    log = stack.worker_log()
    reconnects = len(re.findall(r"Connection to broker lost", log))
    held = len(re.findall(HELD_LINE, log))
    put_back = sum(int(n) for n in re.findall(PUT_BACK_LINE, log))
    print(
        f"\nfaults: redis-restart requests={REQUESTS} restarts=1 outage={REDIS_OUTAGE_SECONDS}s "
        f"submitted_before_stop={submitted_at_stop} submit_retries={submitter.retries} "
        f"worker_reconnects={reconnects} held={held} put_back={put_back} "
        f"recovered={dict(stack.recovered)} {result.line()} documents={dict(rendered)}"
    )
    assert result.statuses == {"succeeded": REQUESTS}, result
    assert_clean(result, journals=2 * REQUESTS)
    assert submitter.retries > 0, "the outage did not reach the submitter"
    # The same worker processes, reconnected: alive and answering.
    assert [w.pid for w in workers] == pids and all(w.alive() for w in workers)
    assert all(w.ping() for w in workers)
    assert reconnects >= len(workers), log[-3000:]
    # Every delivery a worker held over the outage went back to its queue.
    assert put_back == held, log[-3000:]


def test_postgres_restarted_mid_run_loses_and_doubles_nothing(
    private_postgres: PrivatePostgres, make_stack: MakeStack
) -> None:
    # A long visibility timeout: retries wait in the worker (countdown) for up to 30 s
    # (tasks.retry), which must stay below it, or Redis would hand them out a second time.
    stack = make_stack(
        private_postgres.url,
        FAULTS_REDIS_URL,
        visibility_timeout=120,
        republish_after=RECOVERY_GRACE,
    )
    stack.load_catalog()
    workers = stack.workers_ready("pg-a", "pg-b")
    pids = [w.pid for w in workers]
    requests = [pos_sale(f"pg-{n:04d}", f"PG-{n:04d}") for n in range(REQUESTS)]

    submitter = Submitter(requests, stack.sessions, pace=0.06)
    submitter.start()
    wait_until(
        lambda: count_final(stack.sessions, "pg-") >= REQUESTS // 4,
        120.0,
        "a quarter of the requests done",
    )
    private_postgres.stop("fast")  # terminates every connection, mid-transaction or not
    time.sleep(POSTGRES_OUTAGE_SECONDS)
    private_postgres.start()
    submitter.finish()

    # A render whose delivery could not even be counted (the database was down) is left
    # pending for the recovery sweep (tasks.render.retry_or_fail): beat's sweeps run here.
    wait_final(stack.sessions, [r["request_id"] for r in requests], timeout=240.0, beat=stack.beat)
    rendered = wait_rendered(
        stack.sessions, timeout=240.0, beat=stack.beat, explain=stack.explain_pending
    )
    wait_idle(stack.broker, timeout=120.0)
    result = audit(stack.sessions, {r["request_id"]: journals_posted(r) for r in requests})
    log = stack.worker_log()
    retries = len(re.findall(r"; retrying", log))
    task_retries = len(re.findall(r"retry: Retry in", log))
    with stack.sessions() as session:
        from sqlalchemy import func, select

        from docpost.schema import RequestRecord

        attempts = dict(
            session.execute(
                select(RequestRecord.attempts, func.count())
                .where(RequestRecord.request_id.like("pg-%"))
                .group_by(RequestRecord.attempts)
            ).all()
        )
    print(
        f"\nfaults: postgres-restart requests={REQUESTS} restarts=1 "
        f"outage={POSTGRES_OUTAGE_SECONDS}s submit_retries={submitter.retries} "
        f"request_retries={retries} task_retries={task_retries} attempts={attempts} "
        f"recovered={dict(stack.recovered)} {result.line()} documents={dict(rendered)}"
    )
    assert result.statuses == {"succeeded": REQUESTS}, result
    assert_clean(result, journals=2 * REQUESTS)
    assert task_retries > 0, "no task met the outage"
    assert [w.pid for w in workers] == pids and all(w.alive() for w in workers)
