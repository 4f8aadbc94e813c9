"""POST /requests (queue one request or an array) and GET /requests/{id} (its outcome).

A body is all or nothing: every request in it is checked (contract, actor, duty, request_id
reuse) before any is queued, so a refused call leaves nothing behind. A request the contract
refuses is answered 422 here and never stored, unlike a malformed message arriving through
the queue, which gets a stored `rejected` outcome: an HTTP caller has the answer in hand.

A 202 for one request says where its outcome is in `Location` (RFC 9110), an absolute URL on
the address the caller used: behind a reverse proxy that is the public one when the proxy is
trusted (DOCPOST_FORWARDED_ALLOW_IPS, see `docpost serve`). An array has one outcome per
request and so no `Location`: each request's `links.outcome` says it.
"""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.contract import Request as ParsedRequest
from docpost.pipeline.contract import parse_request
from docpost.pipeline.entrypoints.http.auth import READ_DUTY, AnyReader, Caller, Poster, Sessions
from docpost.pipeline.entrypoints.http.errors import ApiError, not_found
from docpost.pipeline.entrypoints.http.schemas import MAX_BATCH, Accepted, Outcome, errors
from docpost.pipeline.errors import Rejection
from docpost.pipeline.runner.request_record import (
    conflict,
    is_conflict,
    outcome_of,
    poll_intervals,
)
from docpost.schema import RequestRecord
from docpost.schema.requests import FINAL_STATUSES

router = APIRouter(tags=["requests"])

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_WAIT_SECONDS = 30.0


def outcome_link(request_id: str) -> str:
    # Request ids may hold any printable ASCII, '/' and '?' included.
    return "/requests/" + quote(request_id, safe="")


@router.post(
    "/requests",
    status_code=202,
    summary="Queue one request, or an array of them",
    response_model=Accepted | list[Accepted],
    responses={
        202: {
            "description": "queued (or seen before: its stored outcome)",
            "headers": {
                "Location": {
                    "description": "one request: the URL of its outcome (none for an array)",
                    "schema": {"type": "string", "format": "uri"},
                }
            },
        },
        **errors(400, 401, 403, 409, 413, 422, 503),
    },
    openapi_extra={"x-docpost-body": True},  # the body schema is filled in by app.py
)
async def submit_requests(request: Request, caller: Poster, sessions: Sessions) -> Any:
    """Each request is queued for the workers and answered with a link to its outcome. The
    key's actor is the request's actor: leave `actor` out, or give that same actor (another
    is refused, 403). A request_id seen before returns its stored outcome (idempotency);
    reused for another body it is refused (409), also when a concurrent call takes the
    request_id first (the requests before it in an array are then already queued). Nothing
    else is queued unless all are accepted.
    The requests of an array are queued independently: to make one depend on another
    (confirm after upsert), wait for the first outcome before posting the next."""
    bodies, single = _load(await _read_body(request))
    parsed = [_check(index, body, caller) for index, body in enumerate(bodies)]
    accepted = await run_in_threadpool(_submit_all, sessions, bodies, parsed)
    # Returned as built: a stored outcome keeps its exact shape (`rule: null` included).
    if not single:
        return JSONResponse(accepted, status_code=202)
    location = absolute(request, accepted[0]["links"]["outcome"])
    return JSONResponse(accepted[0], status_code=202, headers={"Location": location})


def absolute(request: Request, path: str) -> str:
    """`path` (an absolute path of this app) as a URL on the scheme, host and root path the
    call came to (uvicorn has already applied trusted proxy headers to the scheme)."""
    return str(request.base_url).rstrip("/") + path


async def _read_body(request: Request) -> bytes:
    """The body, refused as soon as it passes the limit rather than after holding it all."""
    too_large = ApiError(413, "request.too_large", f"the body exceeds {MAX_BODY_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _load(raw: bytes) -> tuple[list[Any], bool]:
    try:
        document = json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "request.not_json", f"the body is not JSON: {str(exc)[:200]}") from None
    if isinstance(document, list):
        if not document:
            raise ApiError(422, "request.invalid", "the array holds no requests")
        if len(document) > MAX_BATCH:
            raise ApiError(
                422,
                "request.invalid",
                f"at most {MAX_BATCH} requests per call, got {len(document)}",
            )
        return document, False
    return [document], True


def _check(index: int, body: Any, caller: Caller) -> ParsedRequest:
    """The parsed request, with the caller's actor; ApiError when it may not be queued."""
    if not isinstance(body, dict):
        # parse_request would read a string as JSON text: only objects are requests here.
        raise ApiError(
            422,
            "request.invalid",
            f"request #{index}: a request is one JSON object, got {_json_type(body)}",
            index=index,
        )
    named = body.get("actor")
    if named is None:
        body["actor"] = caller.actor
    elif isinstance(named, str) and named != caller.actor:
        raise ApiError(
            403,
            "actor.mismatch",
            f"{_which(index, body)} names actor {named[:100]!r}, but the API key belongs "
            f"to actor {caller.actor!r}; leave actor out, or send it with that actor's key",
            rule="M5",
            index=index,
        )
    try:
        request = parse_request(body)
    except Rejection as rejection:
        raise _refused(422, rejection, index) from None
    need = caller.missing(request.kind, request.command)
    if need is not None:
        raise ApiError(
            403,
            "actor.missing_duty",
            f"{_which(index, body)}: actor {caller.actor!r} may not send {request.kind} "
            f"requests; that needs the duty {need.duty}",
            rule="M5",
            duty=need.duty,
            index=index,
        )
    return request


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"


def _which(index: int, body: dict[str, Any]) -> str:
    request_id = body.get("request_id")
    shown = repr(request_id[:100]) if isinstance(request_id, str) else f"#{index}"
    return f"request {shown}"


def _submit_all(
    sessions: sessionmaker[Session], bodies: list[Any], parsed: list[ParsedRequest]
) -> list[dict[str, Any]]:
    from docpost.tasks.client import submit

    _refuse_reused_ids(sessions, parsed)
    accepted = []
    for index, body in enumerate(bodies):
        handle = submit(body, sessions)
        if handle.settled is not None and is_conflict(handle.settled):
            # Another call recorded this request_id with another body after the check above
            # (concurrent posts): the same 409, never a 202 whose link shows the winner.
            raise _conflict(handle.request_id, index)
        current = handle.outcome() or {"request_id": handle.request_id, "status": "queued"}
        accepted.append({**current, "links": {"outcome": outcome_link(handle.request_id)}})
    return accepted


def _refuse_reused_ids(sessions: sessionmaker[Session], parsed: list[ParsedRequest]) -> None:
    seen: dict[str, str] = {}
    for index, request in enumerate(parsed):
        if seen.setdefault(request.request_id, request.body_sha256) != request.body_sha256:
            raise _conflict(request.request_id, index)
    with sessions() as session:
        stored = dict(
            session.execute(
                select(RequestRecord.request_id, RequestRecord.body_sha256).where(
                    RequestRecord.request_id.in_(list(seen))
                )
            ).all()
        )
    for index, request in enumerate(parsed):
        if stored.get(request.request_id, request.body_sha256) != request.body_sha256:
            raise _conflict(request.request_id, index)


def _conflict(request_id: str, index: int) -> ApiError:
    return _refused(409, conflict(request_id), index)


def _refused(status: int, rejection: Rejection, index: int) -> ApiError:
    """The rejection a request of the body would get, as the call's error (which names it)."""
    refused = ApiError(status, rejection.code, rejection.message, rule=rejection.rule, index=index)
    refused.details.update(rejection.details)
    return refused


# --- outcomes --------------------------------------------------------------------------------


def _visible_outcome(
    sessions: sessionmaker[Session], request_id: str, caller: Caller
) -> dict[str, Any]:
    with sessions() as session:
        record = session.get(RequestRecord, request_id) if "\x00" not in request_id else None
        # Another actor's request looks unknown to a key without the read duty: request ids
        # are the callers' own and may say more than they should.
        if record is None or (record.actor != caller.actor and not caller.has(READ_DUTY)):
            raise not_found(f"request {request_id[:200]!r} is not known")
        return outcome_of(record)


@router.get(
    "/requests/{request_id:path}",
    summary="A request's outcome; ?wait=S waits up to S seconds (at most 30) for it to be final",
    response_model=Outcome,
    responses=errors(401, 404, 422, 503),
)
async def get_request(
    request: Request,
    request_id: str,
    caller: AnyReader,
    sessions: Sessions,
    wait: Annotated[float, Query(ge=0, allow_inf_nan=False)] = 0,
) -> Any:
    deadline = time.monotonic() + min(wait, MAX_WAIT_SECONDS)
    polls = poll_intervals()
    while True:
        outcome = await run_in_threadpool(_visible_outcome, sessions, request_id, caller)
        final = outcome["status"] in FINAL_STATUSES
        if final or time.monotonic() >= deadline or await request.is_disconnected():
            break
        await asyncio.sleep(min(next(polls), max(0.0, deadline - time.monotonic())))
    headers = {} if final else {"Retry-After": "1"}
    return JSONResponse(outcome, headers=headers)
