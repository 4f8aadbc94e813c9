"""A request that runs past the soft time limit, on a real worker with Redis and PostgreSQL:
the request's fault (issue 13, item 6), so it ends `rejected` with a message, once, and the
worker goes on with the next request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from docpost.pipeline.db import session_factory
from docpost.pipeline.runner.execute import execute
from docpost.pipeline.runner.request_record import record_queued
from docpost.schema import RequestRecord
from docpost.tasks.app import app
from docpost.tasks.client import Handle, submit
from docpost.tasks.routing import EXECUTE_REQUEST, POSTING
from tests.conftest import usmf_catalog
from tests.integration.conftest import Worker
from tests.integration.slow_app import SLOW_PREFIX

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

WAIT = 45.0


def order_request(number: str) -> dict[str, Any]:
    return {
        "request_id": f"order-{number}",
        "kind": "upsert_order",
        "actor": "erp",
        "payload": {
            "order": number,
            "customer": "US-004",
            "lines": [{"line": 1, "item": "S0021", "quantity": "1", "unit_price": "150.00"}],
        },
    }


def test_a_request_past_the_soft_time_limit_is_rejected_once(
    queue_env: dict[str, str], tmp_path: Path
) -> None:
    sessions = session_factory(queue_env["DOCPOST_DATABASE_URL"])
    for request in (
        {"request_id": "catalog", "kind": "upsert_catalog", "actor": "erp",
         "payload": usmf_catalog()},
        order_request(f"{SLOW_PREFIX}1"),
        order_request("SO-2"),
    ):  # fmt: skip
        assert execute(request, sessions)["status"] == "succeeded"
    worker = Worker("slow", queue_env, tmp_path / "slow.log", 1, app="tests.integration.slow_app")
    try:
        worker.wait_ready()
        slow = {"request_id": "confirm-slow", "kind": "confirm_order", "actor": "erp",
                "payload": {"order": f"{SLOW_PREFIX}1"}}  # fmt: skip
        record_queued(slow, sessions)
        # A soft limit of 1 s for this message only (Celery's per-message limits, which a
        # publisher stamps from its DOCPOST_TASK_TIME_LIMIT), and 9 s more before the hard
        # one: storing the rejection never races the hard limit on a busy machine, and the
        # next request runs under the worker's usual limits.
        app.send_task(EXECUTE_REQUEST, args=[slow], queue=POSTING, time_limit=10, soft_time_limit=1)
        outcome = Handle("confirm-slow", sessions).wait(timeout=WAIT)
        # The same worker process goes on with the next request.
        quick = submit(
            {"request_id": "confirm-quick", "kind": "confirm_order", "actor": "erp",
             "payload": {"order": "SO-2"}}
        )  # fmt: skip
        assert quick.wait(timeout=WAIT)["status"] == "succeeded"
    finally:
        worker.stop()
    assert outcome["status"] == "rejected", (outcome, worker.text()[-3000:])
    assert outcome["error"]["code"] == "request.time_limit"
    assert outcome["error"]["message"].startswith(
        "the request took longer than 1 s, the time one request may take (set by "
        "DOCPOST_TASK_TIME_LIMIT), and was stopped; nothing of it was kept. Split it into "
        "smaller requests"
    )
    with sessions() as session:
        record = session.get(RequestRecord, "confirm-slow")
        assert record is not None
        assert record.attempts == 1  # run once: not retried as a passing fault
    retries = [line for line in worker.text().splitlines() if "retry:" in line]
    assert retries == []
