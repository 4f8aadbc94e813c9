"""Follow-up requests (runner.follow_ups), without a database: bulk invoicing's batch runs as
one, or each request on its own when the batch fails; the queue may retry the batch first;
`docpost run` drains the outbox's request messages through the same policy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from docpost.pipeline.runner import follow_ups
from docpost.pipeline.runner.execute import BatchExecuted
from docpost.pipeline.runner.follow_ups import invoice_batch_or_each, run_follow_ups

BODIES = [{"request_id": f"child-{n}"} for n in (1, 2, 3)]
SESSIONS: Any = object()  # never opened: every piece that would use it is replaced


class Broken(Exception):
    pass


def batch_of(outcomes: list[dict[str, Any]]) -> Any:
    def run_batch(bodies: Sequence[dict[str, Any]], sessions: Any) -> BatchExecuted:
        assert sessions is SESSIONS
        return BatchExecuted(outcomes=outcomes)

    return run_batch


def broken_batch(bodies: Sequence[dict[str, Any]], sessions: Any) -> BatchExecuted:
    raise Broken("the batch failed")


def test_a_batch_that_runs_is_the_answer_and_nothing_runs_one_by_one() -> None:
    each: list[Any] = []
    ran = [{"request_id": "child-1", "status": "succeeded"}]
    done = invoice_batch_or_each(BODIES, SESSIONS, each.append, run_batch=batch_of(ran))
    assert done is not None and done.outcomes == ran
    assert each == []


def test_a_batch_that_fails_sends_each_request_on_its_own_in_order() -> None:
    each: list[Any] = []
    done = invoice_batch_or_each(BODIES, SESSIONS, each.append, run_batch=broken_batch)
    assert done is None
    assert each == BODIES


def test_the_queue_may_retry_the_batch_instead_of_splitting_it() -> None:
    """A passing fault: the task's retry raises, and no request has been sent on its own."""
    each: list[Any] = []
    seen: list[Exception] = []

    def retry(exc: Exception) -> None:
        seen.append(exc)
        raise RuntimeError("retry later")

    with pytest.raises(RuntimeError, match="retry later"):
        invoice_batch_or_each(BODIES, SESSIONS, each.append, run_batch=broken_batch, retry=retry)
    assert [type(e) for e in seen] == [Broken] and each == []
    # Negative control: a retry that declines (not a passing fault) lets the split happen.
    invoice_batch_or_each(BODIES, SESSIONS, each.append, run_batch=broken_batch, retry=seen.append)
    assert each == BODIES


@pytest.mark.parametrize("batch_fails", [False, True])
def test_docpost_run_drains_request_messages_through_the_same_policy(
    monkeypatch: pytest.MonkeyPatch, batch_fails: bool
) -> None:
    messages = [
        ("execute_request", {"body": {"request_id": "released-1"}, "fan_out": False}),
        ("invoice_batch", {"bodies": BODIES}),
    ]

    def drain(sessions: Any, handlers: Mapping[str, Any]) -> int:
        assert set(handlers) == {"execute_request", "invoice_batch"}  # renders are not requests
        for task, payload in messages:
            handlers[task](payload)
        return len(messages)

    def execute_or_fail(body: dict[str, Any], sessions: Any) -> dict[str, Any]:
        return {"request_id": body["request_id"], "status": "succeeded", "alone": True}

    batched = [{"request_id": b["request_id"], "status": "succeeded"} for b in BODIES]
    monkeypatch.setattr(follow_ups, "drain_inline", drain)
    monkeypatch.setattr(follow_ups, "execute_or_fail", execute_or_fail)
    monkeypatch.setattr(
        follow_ups, "run_invoice_batch", broken_batch if batch_fails else batch_of(batched)
    )
    seen: list[dict[str, Any]] = []
    run_follow_ups(SESSIONS, seen.append)
    alone = [execute_or_fail(b, SESSIONS) for b in BODIES]
    assert seen == [execute_or_fail({"request_id": "released-1"}, SESSIONS)] + (
        alone if batch_fails else batched
    )
