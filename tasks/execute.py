"""The request task: count the delivery, execute, relay the outbox. Nothing else.

pipeline.runner.execute does the work, and pipeline.runner.request_record keeps the one
outcome per request_id. This task adds what only the queue needs: an attempt counter (so a
message that kills its worker ends as `failed` after DOCPOST_MAX_ATTEMPTS deliveries instead
of looping), retries with backoff on transient faults, and publishing the outbox rows the
request wrote once it has committed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline import clock
from docpost.pipeline.config import get_settings
from docpost.pipeline.runner.execute import run_invoice_batch, run_request
from docpost.pipeline.runner.follow_ups import invoice_batch_or_each
from docpost.pipeline.runner.ordering import Head, retry_countdown
from docpost.pipeline.runner.request_record import (
    CountedBefore,
    Executed,
    record_failure,
    record_queued,
    reject_request,
    start_attempt,
    time_limit_rejection,
    usable_request_id,
    waits_for,
)
from docpost.pipeline.uow import stored_company_zone
from docpost.tasks.app import app
from docpost.tasks.config import get_queue_settings, time_limits
from docpost.tasks.db import worker_sessions
from docpost.tasks.publish import publish_request, wire_body
from docpost.tasks.relay import relay_written
from docpost.tasks.retry import backoff, is_transient, retry_later
from docpost.tasks.routing import (
    EXECUTE_REQUEST,
    INVOICE_BATCH,
    SCHEDULED_BULK_INVOICE,
    SCHEDULED_REVENUE_RECOGNITION,
    queue_for_request,
)
from docpost.tasks.schedule import (
    bulk_invoice_request,
    latest_slot,
    parse_cron,
    revenue_recognition_request,
    slot_request_id,
)

log = logging.getLogger(__name__)


@dataclass
class Attempt:
    """One delivery of a request: its id and which delivery this is (None: not counted yet,
    e.g. the database could not be reached)."""

    request_id: str | None = None
    number: int | None = None


def begin_attempt(
    body: Any, sessions: sessionmaker[Session], attempt: Attempt, *, redelivered: bool = True
) -> bool:
    """Count this delivery. Returns False when there is nothing to run (the request is final,
    or was malformed and has just been rejected)."""
    request_id = usable_request_id(body)
    attempts, final = (0, False)
    if request_id is not None:
        attempts, final = start_attempt(request_id, sessions, redelivered=redelivered)
    if attempts == 0 and not final:
        # Not seen before: an upstream system or the outbox published it without
        # record_queued. Record it now (a malformed body is rejected right here).
        request_id = record_queued(body, sessions)
        attempts, final = start_attempt(request_id, sessions, redelivered=redelivered)
    attempt.request_id, attempt.number = request_id, attempts
    return not final


def failure(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "rule": None, "message": message, "details": details}


def is_redelivery(task: Task) -> bool:
    """Did an earlier delivery of this message happen? Redis marks the messages it restores
    (a lost worker's, via reject/requeue or the visibility timeout) as redelivered, and a
    Celery retry counts its retries."""
    delivery_info = task.request.delivery_info or {}
    return bool(delivery_info.get("redelivered")) or bool(task.request.retries)


@app.task(name=EXECUTE_REQUEST, bind=True, max_retries=None)
def execute_request(self: Task, body: dict[str, Any] | str, held: int = 0) -> None:
    """Execute one request (a JSON object, or the raw text of one).

    A first delivery runs in one transaction that also counts it: the usual case costs one
    commit. A redelivery is counted in a commit of its own before it runs, so a message that
    kills its worker every time ends `failed` after DOCPOST_MAX_ATTEMPTS deliveries.

    A request that must wait for an earlier request of its order (pipeline.runner.ordering) is
    handed back without being counted: parked (the earlier one publishes it when it is
    final) or sent again after a countdown; `held` counts those countdowns."""
    sessions = worker_sessions()
    max_attempts = get_settings().max_attempts
    attempt = Attempt(request_id=usable_request_id(body))
    try:
        run = first_delivery(self, body, sessions, attempt)
        if run is None:
            run = counted_delivery(self, body, sessions, attempt, held, max_attempts)
            if run is None:
                return
        if run.waits_for is not None:
            hand_back(self, body, run.waits_for, held)
            return
    except SoftTimeLimitExceeded:
        # The request's own fault (too large for one request), not a passing one: rejected
        # with a message, never retried (each retry would hold a worker as long again).
        try:
            run = reject_request(body, time_limit_rejection(soft_time_limit(self)), sessions)
        except Exception as exc:
            handle_fault(self, exc, body, attempt, sessions, max_attempts)
            return
    except Exception as exc:
        handle_fault(self, exc, body, attempt, sessions, max_attempts)
        return
    relay_written(sessions, run.outbox)


def first_delivery(
    task: Task, body: Any, sessions: sessionmaker[Session], attempt: Attempt
) -> Executed | None:
    """Run a first delivery, counted in the request's own transaction (or not at all). None
    when it must be counted on its own first: a redelivery, or one counted before after all."""
    if is_redelivery(task):
        return None
    attempt.number = 1
    with contextlib.suppress(CountedBefore):
        return run_request(body, sessions, first_delivery=True, hold=True)
    return None


def counted_delivery(
    task: Task,
    body: Any,
    sessions: sessionmaker[Session],
    attempt: Attempt,
    held: int,
    max_attempts: int,
) -> Executed | None:
    """Count this delivery in a commit of its own, then run it. None when it does not run:
    handed back, final already (or malformed, and rejected just now), or given up on."""
    head = waits_for(body, sessions)  # checked before this delivery is counted
    if head is not None:
        hand_back(task, body, head, held)
        return None
    if not begin_attempt(body, sessions, attempt):
        return None
    assert attempt.request_id is not None and attempt.number is not None
    if attempt.number > max_attempts:
        give_up(attempt.request_id, attempt.number, sessions)
        return None
    return run_request(body, sessions, hold=True)


def give_up(request_id: str, number: int, sessions: sessionmaker[Session]) -> None:
    """End as `failed` a request delivered once too often: its earlier deliveries never
    finished, so this one is not run either."""
    log.error("request %s: giving up after %d deliveries", request_id, number - 1)
    released: list[Any] = []  # what a failure releases (pipeline.runner.ordering)
    record_failure(
        request_id,
        failure(
            "internal.worker_lost",
            f"the request was delivered {number - 1} times without finishing (its worker "
            "died or timed out each time); it was not executed again",
            attempts=number - 1,
        ),
        sessions,
        released=released,
    )
    relay_written(sessions, released)


def hand_back(task: Task, body: Any, head: Head, held: int) -> None:
    """An earlier request of the order (`head`) must finish first. Parked: nothing to do, the
    head publishes this request when it is final. Otherwise (the head is running now, or its
    journal's order is not known yet): the same body again after a countdown, as a new
    message (a Celery retry would count as a redelivery)."""
    request_id = usable_request_id(body)
    if head.wait == "park":
        log.info("request %s parked behind %s", request_id, head.request_id)
        return
    countdown = retry_countdown(held)
    log.info("request %s waits %.2f s for %s", request_id, countdown, head.request_id)
    try:
        app.send_task(
            EXECUTE_REQUEST,
            args=[wire_body(body)],
            kwargs={"held": held + 1},
            queue=queue_for_request(body),
            countdown=countdown,
        )
    except Exception as exc:
        if not is_transient(exc):
            raise
        raise retry_later(task, exc, backoff(1)) from None


def soft_time_limit(task: Task) -> int:
    """The soft time limit this delivery ran under: the message's own (Celery stamps the
    publisher's settings into it), else this worker's (DOCPOST_TASK_TIME_LIMIT)."""
    _, soft = task.request.timelimit or (None, None)
    return int(soft or time_limits(get_queue_settings())[0])


def handle_fault(
    task: Task,
    exc: Exception,
    body: Any,
    attempt: Attempt,
    sessions: sessionmaker[Session],
    max_attempts: int,
) -> None:
    """Retry a transient fault with backoff while attempts remain; otherwise end the request
    as `failed`. If even that cannot be written (the database is down), retry: the next
    delivery counts and decides again."""
    transient = is_transient(exc)
    if transient and (attempt.number is None or attempt.number < max_attempts):
        number = attempt.number or task.request.retries + 1
        log.warning("request %s: %s; retrying", attempt.request_id, exc.__class__.__name__)
        raise retry_later(task, exc, backoff(number))
    if not transient:
        log.exception("request %s failed on an unexpected error", attempt.request_id)
    if attempt.request_id is None:
        raise exc  # not even recorded: nothing to mark; Celery logs it and acks
    error = failure(
        "internal.unavailable" if transient else "internal.error",
        f"the request could not be executed: {exc.__class__.__name__}: {str(exc)[:300]}"
        + (f" (after {attempt.number} attempts)" if transient else ""),
        attempts=attempt.number,
    )
    try:
        # A first delivery's own record may have rolled back with it: record it first.
        record_queued(body, sessions)
        released: list[Any] = []
        record_failure(
            attempt.request_id, error, sessions, attempts=attempt.number, released=released
        )
        relay_written(sessions, released)
    except Exception as write_error:
        if not is_transient(write_error):
            raise
        raise retry_later(task, write_error, backoff(attempt.number or 1)) from None


@app.task(name=INVOICE_BATCH, bind=True, max_retries=None)
def execute_invoice_batch(self: Task, bodies: list[dict[str, Any]]) -> None:
    """Bulk invoicing's invoice requests, invoiced together (runner.follow_ups).

    Only a first delivery runs the batch. A redelivery (its worker died), a batch that fails
    on something other than a passing fault, or one whose retries run out is sent on as one
    request per child instead: each is then counted, retried and ended by the request task,
    which can tell which child is the poison."""
    sessions = worker_sessions()
    if (self.request.delivery_info or {}).get("redelivered"):
        fan_out(bodies)
        return

    def retry_passing_fault(exc: Exception) -> None:
        if is_transient(exc) and self.request.retries < get_settings().max_attempts:
            raise retry_later(self, exc, backoff(self.request.retries + 1)) from None

    done = invoice_batch_or_each(
        bodies, sessions, fan_out_one, run_batch=run_invoice_batch, retry=retry_passing_fault
    )
    if done is not None:
        relay_written(sessions, done.outbox)


def fan_out(bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        fan_out_one(body)


def fan_out_one(body: dict[str, Any]) -> None:
    publish_request(body, fan_out=True)


@app.task(name=SCHEDULED_BULK_INVOICE)
def scheduled_bulk_invoice() -> str:
    """Beat's bulk invoicing. Beat sends fixed arguments, so the slot (and with it the
    request id) is worked out here; the run itself is an ordinary `bulk_invoice` request."""
    slot = latest_slot(parse_cron(get_settings().bulk_invoice_cron), dt.datetime.now(dt.UTC))
    request = bulk_invoice_request(slot_request_id(slot), get_settings().system_actor)
    sessions = worker_sessions()
    record_queued(request, sessions)
    publish_request(request)
    return request["request_id"]


@app.task(name=SCHEDULED_REVENUE_RECOGNITION)
def scheduled_revenue_recognition() -> str:
    """Beat's release of deferred revenue (B11) as of the latest slot's date: an ordinary
    `recognize_revenue` request, idempotent per date. The slot (a UTC time) is dated in the
    company's time zone (the catalog's, else DOCPOST_COMPANY_TIME_ZONE), so it is never after
    the company's today, which the release refuses."""
    slot = latest_slot(parse_cron(get_settings().revenue_recognition_cron), dt.datetime.now(dt.UTC))
    sessions = worker_sessions()
    with sessions() as session:
        zone = stored_company_zone(session)  # the catalog's company, else the setting
    request = revenue_recognition_request(
        clock.company_date(slot, zone), get_settings().system_actor
    )
    record_queued(request, sessions)
    publish_request(request)
    return request["request_id"]
