"""A request whose execution kills its worker process ends `failed` after DOCPOST_MAX_ATTEMPTS
deliveries instead of being redelivered forever; other requests go on, the worker lives on."""

from __future__ import annotations

import re

import pytest

from docpost.pipeline.config import get_settings
from docpost.schema import RequestRecord
from docpost.tasks.client import outcomes_of, submit
from tests.faults.conftest import MakeStack
from tests.faults.harness import (
    FAULTS_REDIS_URL,
    assert_clean,
    audit,
    pos_sale,
    wait_final,
    wait_idle,
    wait_rendered,
)
from tests.faults.poison_app import POISON_PREFIX

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_a_request_that_kills_its_worker_ends_failed_after_its_attempts(
    pg_url: str, make_stack: MakeStack
) -> None:
    # Three attempts (DOCPOST_MAX_ATTEMPTS) instead of five: each lost process is noticed at
    # the hard time limit (5 s here), so two attempts fewer save ten seconds.
    stack = make_stack(pg_url, FAULTS_REDIS_URL, visibility_timeout=10, max_attempts=3)
    max_attempts = get_settings().max_attempts
    stack.load_catalog()
    worker = stack.worker("poison", concurrency=2, app="tests.faults.poison_app")
    pid = worker.pid
    poison = pos_sale(f"{POISON_PREFIX}1", "PZ-1")
    healthy = [pos_sale(f"healthy-{n}", f"HZ-{n}") for n in range(10)]
    requests = [poison, *healthy]

    for request in requests:
        submit(request, stack.sessions)
    ids = [r["request_id"] for r in requests]
    wait_final(stack.sessions, ids, timeout=120.0)
    wait_rendered(stack.sessions, timeout=120.0)
    wait_idle(stack.broker)

    outcome = outcomes_of(stack.sessions, [poison["request_id"]])[poison["request_id"]]
    with stack.sessions() as session:
        record = session.get(RequestRecord, poison["request_id"])
        assert record is not None
        deliveries = record.attempts
    log = worker.text()
    lost_processes = len(re.findall(r"Process '\S+' pid:\d+ exited with 'exitcode 1'", log))
    result = audit(stack.sessions, {r["request_id"]: 2 for r in requests})
    print(
        f"\nfaults: poison max_attempts={max_attempts} poison_status={outcome['status']} "
        f"code={outcome['error']['code']} deliveries={deliveries} "
        f"pool_processes_lost={lost_processes} worker_pid_unchanged={worker.pid == pid} "
        f"{result.line()}"
    )
    assert outcome["status"] == "failed", outcome
    assert outcome["error"]["code"] == "internal.worker_lost"
    assert outcome["error"]["details"] == {"attempts": max_attempts}
    assert f"delivered {max_attempts} times without finishing" in outcome["error"]["message"]
    # max_attempts runs, each killing its process, and the delivery that gave up.
    assert deliveries == max_attempts + 1
    assert lost_processes == max_attempts, log[-3000:]
    assert result.statuses == {"failed": 1, "succeeded": len(healthy)}
    assert_clean(result, journals=2 * len(healthy))
    assert worker.alive() and worker.pid == pid and worker.ping()


def test_the_poison_stays_out_of_a_worker_started_in_the_test_process() -> None:
    """The poison worker's hook runs on worker_init, which an embedded worker started inside
    the test process sends too. There it must leave run_request alone: poisoned, a later test's
    request named poison-... ended the whole pytest run with exit 1 and no summary."""
    from celery.signals import worker_init

    import docpost.pipeline.runner.execute as runner
    import docpost.tasks.execute as request_task
    import tests.integration.slow_app  # noqa: F401  (its hook too: the time-limit test's app)

    before, services = request_task.run_request, dict(runner.SERVICES)
    worker_init.send(sender=None)
    assert request_task.run_request is before
    assert dict(runner.SERVICES) == services
