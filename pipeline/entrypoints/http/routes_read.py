"""Reads: orders, journals (with their serials, S11), the warranty trace (S11).

Thin: each route calls `docpost.pipeline.queries` and returns its dict as JSON, so the HTTP answer
is exactly `docpost show ... --json` (the journal adds its links); the response models of
pipeline.entrypoints.http.schemas describe it in OpenAPI. All need the read duty (see
pipeline.entrypoints.http.auth).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline import queries
from docpost.pipeline.entrypoints.http.auth import SalesReader, Sessions
from docpost.pipeline.entrypoints.http.errors import ApiError, not_found
from docpost.pipeline.entrypoints.http.schemas import JournalView, OrderView, TraceView, errors

router = APIRouter(tags=["reads"])

READ_ERRORS = errors(401, 403, 404, 422, 503)


def text_param(value: str, what: str) -> str:
    """A path or query value as a lookup key. NUL can be in no stored key (PostgreSQL text
    cannot hold it), so such a value is simply not found rather than a database error."""
    if "\x00" in value:
        raise not_found(f"{what} {value[:100]!r} does not exist")
    return value


def found(
    sessions: sessionmaker[Session], query: Callable[[Session], dict[str, Any]]
) -> dict[str, Any]:
    """What `query` reads, in a session of its own; what it does not find is a 404 with the
    query's own message, as `docpost show` prints it."""
    with sessions() as session:
        try:
            return query(session)
        except queries.NotFound as exc:
            raise not_found(str(exc)) from None


def journal_links(number: str, *, einvoice: bool = False) -> dict[str, str]:
    """The journal's PDF, its documents and, when it has one (E1), its e-invoice."""
    path = quote(number, safe="")
    links = {"pdf": f"/journals/{path}/pdf", "documents": f"/documents?journal={path}"}
    if einvoice:
        links["xml"] = f"/journals/{path}/xml"
    return links


@router.get(
    "/orders/{order:path}",
    summary="An order: lines, bundle parents, delivered, invoiced, serial registrations",
    response_model=OrderView,
    responses=READ_ERRORS,
)
def get_order(order: str, caller: SalesReader, sessions: Sessions) -> JSONResponse:
    view = found(sessions, lambda session: queries.show_order(session, text_param(order, "order")))
    return JSONResponse(view)


@router.get(
    "/journals/{number}",
    summary="A posted journal and, per line, the serials it included (S11 inquiry)",
    response_model=JournalView,
    responses=READ_ERRORS,
)
def get_journal(number: str, caller: SalesReader, sessions: Sessions) -> JSONResponse:
    journal = found(
        sessions, lambda session: queries.show_journal(session, text_param(number, "journal"))
    )
    einvoice = False
    for document in journal["documents"]:
        # show_journal names each document by its file: INV-000001.pdf, INV-000001.xml (E1)
        key = "xml" if document["filename"].endswith(".xml") else "pdf"
        einvoice = einvoice or key == "xml"
        document["links"] = {key: f"/documents/{document['id']}"}
    return JSONResponse({**journal, "links": journal_links(journal["journal"], einvoice=einvoice)})


@router.get(
    "/trace/{serial:path}",
    summary="The warranty trace of a serial (S11): item, customer, order, packing slip, "
    "invoice, date, credited, and its warranty on a day (S15): warranty_until, warranty_valid",
    response_model=TraceView,
    responses=READ_ERRORS,
)
def get_trace(
    serial: str,
    caller: SalesReader,
    sessions: Sessions,
    item: Annotated[str | None, Query(max_length=50)] = None,
    on: Annotated[
        str | None,
        Query(
            max_length=10,
            description="S15: the day to judge the warranty on, YYYY-MM-DD (default: today "
            "in the company's time zone)",
        ),
    ] = None,
) -> JSONResponse:
    text_param(serial, "serial")
    if item is not None:
        text_param(item, "item")
    day = _day(on)
    with sessions() as session:
        sales = queries.trace(session, serial, item, day)
    if not sales["sales"]:
        of_item = f" of item {item!r}" if item is not None else ""
        raise not_found(f"serial {serial.strip()[:100]!r}{of_item} was never sold")
    return JSONResponse(sales)


def _day(on: str | None) -> dt.date | None:
    """The `on` of a trace (S15), refused in the error shape as `docpost trace --on` is."""
    if on is None:
        return None
    try:
        return queries.warranty_day(on)
    except ValueError as exc:
        message = f"on {exc}"
        raise ApiError(
            422,
            "request.invalid",
            f"invalid call: query.on: {message}",
            problems=[{"field": "query.on", "message": message}],
        ) from None
