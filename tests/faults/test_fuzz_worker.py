"""Fuzzing through the queue: hostile requests (test_fuzz_requests' strategy) sent as Celery
messages to a real worker, as JSON objects and as raw strings (bodies that are not JSON
included). Each ends `rejected` with a specific message, nothing but outcomes is written, and
the worker process lives on (same pid, answers a ping)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.contract import fallback_request_id, parse_request
from docpost.pipeline.errors import Rejection
from docpost.pipeline.runner.execute import execute
from docpost.pipeline.runner.request_record import salvage_envelope as _salvage_envelope
from docpost.tasks.client import outcomes_of
from docpost.tasks.execute import Attempt, begin_attempt
from docpost.tasks.routing import EXECUTE_REQUEST, route_task
from tests.conftest import Runner
from tests.faults.harness import LONG, Stack, Upstream, wait_final, wait_idle
from tests.faults.test_fuzz_requests import hostile_requests, written_rows

CASES = 1000 if LONG else 200


def draw_cases(count: int) -> list[tuple[str, str | bytes]]:
    """`count` hostile requests from the strategy (generation only: nothing to shrink)."""
    cases: list[tuple[str, str | bytes]] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_requests())
    def collect(case: tuple[str, str | bytes]) -> None:
        cases.append(case)

    collect()
    return cases


def filed_under(body: str | dict[str, Any]) -> str:
    """The request id the outcome of `body` is filed under (pipeline.runner.execute's rules)."""
    try:
        return parse_request(body).request_id
    except Rejection:
        request_id, _, _ = _salvage_envelope(body)
        return request_id or fallback_request_id(body)


def as_message(n: int, body: str | bytes) -> str | dict[str, Any]:
    """What an upstream system would send: a JSON object when the body is one (every other
    case), else the raw text (bytes that are not UTF-8 as the characters of their bytes)."""
    text = body.decode("latin-1") if isinstance(body, bytes) else body
    text = text.replace("__ID__", f"wfuzz-{n}")
    if n % 2 == 0:
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        if isinstance(parsed, dict):
            return json.loads(json.dumps(parsed))  # as the worker will see it after the wire
    return text


@pytest.mark.postgres
@pytest.mark.redis
def test_hostile_requests_through_a_worker_are_rejected_and_the_worker_survives(
    stack: Stack,
) -> None:
    stack.load_catalog()
    stack.load(
        {
            "request_id": "wfuzz-order",
            "kind": "upsert_order",
            "actor": "erp",
            "payload": {
                "order": "SO-F",
                "customer": "US-004",
                "lines": [{"line": 1, "item": "1000", "quantity": "2", "unit_price": "1900.00"}],
            },
        }
    )
    cases = draw_cases(CASES)
    worker = stack.worker("fuzz", concurrency=2)
    pid = worker.pid
    before = written_rows(Runner(stack.sessions))

    expected: dict[str, str] = {}
    upstream = Upstream(stack)
    for n, (mutation, body) in enumerate(cases):
        message = as_message(n, body)
        upstream.send(message)
        expected[filed_under(message)] = mutation
    upstream.close()
    wait_final(stack.sessions, list(expected), timeout=180.0)
    wait_idle(stack.broker)

    outcomes = outcomes_of(stack.sessions, list(expected))
    not_rejected = {i: o for i, o in outcomes.items() if o["status"] != "rejected"}
    vague = {
        i: o["error"]
        for i, o in outcomes.items()
        if "." not in o.get("error", {}).get("code", "") or len(o["error"]["message"]) <= 15
    }
    codes = Counter(o["error"]["code"] for o in outcomes.values() if "error" in o)
    log = worker.text()
    print(
        f"\nfaults: fuzz-worker cases={len(cases)} distinct_requests={len(expected)} "
        f"outcomes={len(outcomes)} "
        f"rejected={len(outcomes) - len(not_rejected)} by_mutation={dict(Counter(expected.values()))} "
        f"codes={dict(codes)} worker_pid_unchanged={worker.pid == pid}"
    )
    assert len(cases) >= CASES * 0.9
    assert not_rejected == {}
    assert vague == {}
    assert written_rows(Runner(stack.sessions)) == before
    assert worker.alive() and worker.pid == pid and worker.ping()
    assert "ERROR/" not in log and "Traceback" not in log, log[-3000:]


# Lone UTF-16 surrogates ("\udcff") are legal in JSON text and in Python strings, but not in
# UTF-8: no database can store them. Such requests must be rejected like any malformed one.
SURROGATE_BODIES = [
    '{"request_id": "sur-actor", "kind": "upsert_order", "actor": "\\udcff", "payload": {}}',
    "\udcff{ not json",
    '{"request_id": "sur-kind", "kind": "\\ud800", "actor": "erp", "payload": {}}',
]


@pytest.mark.parametrize("body", SURROGATE_BODIES, ids=["actor", "raw-text", "kind"])
def test_lone_surrogates_are_rejected_with_an_outcome(
    body: str, sessions: sessionmaker[Session]
) -> None:
    outcome = execute(body, sessions)
    assert outcome["status"] == "rejected", outcome
    assert outcome["error"]["code"] == "request.invalid"


def test_a_lone_surrogate_request_id_is_rejected_by_the_request_task(
    sessions: sessionmaker[Session],
) -> None:
    body = {"request_id": "\udcff", "kind": "upsert_order", "actor": "erp", "payload": {}}
    attempt = Attempt()
    assert begin_attempt(body, sessions, attempt) is False
    assert attempt.request_id is not None
    outcome = outcomes_of(sessions, [attempt.request_id])[attempt.request_id]
    assert outcome["status"] == "rejected"


@pytest.mark.parametrize("kind", [[1, 2], {"a": 1}], ids=["list", "object"])
def test_routing_a_request_with_a_non_string_kind_names_the_posting_queue(kind: Any) -> None:
    body = {"request_id": "r", "kind": kind, "actor": "erp", "payload": {}}
    assert route_task(EXECUTE_REQUEST, [body], {}, {}) == {"queue": "posting"}
