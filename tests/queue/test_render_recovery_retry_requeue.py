"""A retry that cannot be published puts the message back instead of dropping it
(docpost.tasks.retry.retry_later).

Celery answers a retry whose publish failed (the broker down longer than the publish retries)
with Reject(requeue=False): the worker deletes the message, and when the broker is back by
then the delete succeeds. A render retried on its soft time limit during a Redis restart was
lost that way and its document stayed `pending` until the recovery sweep. The negative
control shows Celery's own answer; the tasks' retries now requeue.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kombu.exceptions
import pytest
from billiard.exceptions import SoftTimeLimitExceeded
from celery import Task
from celery.canvas import Signature
from celery.exceptions import Reject, Retry

import docpost.tasks.render as render_task
from docpost.tasks.execute import execute_request, handle_fault
from docpost.tasks.retry import retry_later

BROKER_DOWN = kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379.")


def in_a_worker(task: Task, args: list[Any]) -> Iterator[Task]:
    """The task as a worker runs it (not eagerly): a retry publishes a new message."""
    task.push_request(
        id="retry-requeue-1", args=args, kwargs={}, retries=1, is_eager=False, called_directly=False,
        delivery_info={"exchange": "", "routing_key": "documents", "redelivered": False},
    )  # fmt: skip
    try:
        yield task
    finally:
        task.pop_request()


@pytest.fixture
def render() -> Iterator[Task]:
    yield from in_a_worker(render_task.render_document, [7])


@pytest.fixture
def publishing(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Publishing a retry: recorded while the broker is up; raising once it is `down`."""
    sent: list[Any] = []

    def apply_async(signature: Signature, *args: Any, **kwargs: Any) -> None:
        if "down" in sent:
            raise BROKER_DOWN
        sent.append(signature)

    monkeypatch.setattr(Signature, "apply_async", apply_async)
    return sent


def test_negative_control_celerys_retry_drops_the_message_when_it_cannot_publish(
    render: Task, publishing: list[Any]
) -> None:
    publishing.append("down")
    with pytest.raises(Reject) as rejected:
        render.retry(exc=SoftTimeLimitExceeded(), countdown=1)
    assert rejected.value.requeue is False
    assert rejected.value.reason is BROKER_DOWN


def test_retry_later_puts_the_message_back_when_the_retry_cannot_be_published(
    render: Task, publishing: list[Any]
) -> None:
    publishing.append("down")
    with pytest.raises(Reject) as rejected:
        raise retry_later(render, SoftTimeLimitExceeded(), 1)
    assert rejected.value.requeue is True
    assert rejected.value.reason is BROKER_DOWN


def test_retry_later_retries_as_celery_does_while_the_broker_answers(
    render: Task, publishing: list[Any]
) -> None:
    with pytest.raises(Retry):
        raise retry_later(render, SoftTimeLimitExceeded(), 1.5)
    (retry,) = publishing
    assert retry.args == (7,) and retry.options["countdown"] == 1.5


def test_a_render_retried_on_its_soft_time_limit_during_an_outage_is_requeued(
    render: Task, publishing: list[Any]
) -> None:
    publishing.append("down")
    with pytest.raises(Reject) as rejected:
        render_task.retry_or_fail(render, SoftTimeLimitExceeded(), 7, 2, 5, sessions=None)  # type: ignore[arg-type]
    assert rejected.value.requeue is True


def test_a_request_retried_on_a_passing_fault_during_an_outage_is_requeued(
    publishing: list[Any],
) -> None:
    from docpost.tasks.execute import Attempt

    publishing.append("down")
    body = {"request_id": "retry-requeue-r1", "kind": "confirm_order", "actor": "erp"}
    for task in in_a_worker(execute_request, [body]):
        with pytest.raises(Reject) as rejected:
            handle_fault(task, BROKER_DOWN, body, Attempt("retry-requeue-r1", 1), None, 5)  # type: ignore[arg-type]
    assert rejected.value.requeue is True
