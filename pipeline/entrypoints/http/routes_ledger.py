"""The ledger (L1) and revenue schedules (B11) over HTTP: what `docpost ledger` and `docpost show
schedule` print with `--json`, for the same reader as the other reads (the duty
post_sales_documents: they show customers and amounts).

`GET /ledger` takes the CLI's filters: `voucher`, `account`, and the period `from`/`to`
(YYYY-MM-DD, both days included). As with the CLI, a voucher or account that picks no entry is
a lookup that found nothing (404); the whole ledger of an empty period is a listing (200).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from docpost.pipeline import queries
from docpost.pipeline.entrypoints.http.auth import SalesReader, Sessions
from docpost.pipeline.entrypoints.http.errors import ApiError, not_found
from docpost.pipeline.entrypoints.http.routes_read import READ_ERRORS, found, text_param
from docpost.pipeline.entrypoints.http.schemas import LedgerView, ScheduleList, ScheduleView

router = APIRouter(tags=["ledger"])

DAY = "YYYY-MM-DD, e.g. 2026-01-31"


@router.get(
    "/ledger",
    summary="Ledger entries, their trial balance and the VAT summary (L1), as `docpost ledger`",
    response_model=LedgerView,
    responses=READ_ERRORS,
)
def get_ledger(
    caller: SalesReader,
    sessions: Sessions,
    voucher: Annotated[str | None, Query(max_length=30)] = None,
    account: Annotated[str | None, Query(max_length=20)] = None,
    date_from: Annotated[
        str | None,
        Query(alias="from", max_length=10, description=f"the period's first day, {DAY}"),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(alias="to", max_length=10, description=f"the period's last day, {DAY}"),
    ] = None,
) -> JSONResponse:
    period = _period(date_from, date_to)
    if voucher is not None:
        text_param(voucher, "voucher")
    if account is not None:
        text_param(account, "account")
    with sessions() as session:
        ledger = queries.ledger(session, voucher, account, period)
    if not ledger["entries"] and (voucher is not None or account is not None):
        raise not_found(queries.no_ledger_entries(voucher, account, period))
    return JSONResponse(ledger)


def _period(date_from: str | None, date_to: str | None) -> queries.Period | None:
    """The period asked for, refused in the error shape as the trace's `on` is."""
    try:
        return queries.period_asked(date_from, date_to)
    except queries.PeriodError as exc:
        raise _invalid(f"query.{exc.end}", str(exc)) from None


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(
        422,
        "request.invalid",
        f"invalid call: {field}: {message}",
        problems=[{"field": field, "message": message}],
    )


def schedule_link(invoice: str) -> str:
    return "/revenue-schedules/" + quote(invoice, safe="")


@router.get(
    "/revenue-schedules",
    summary="The invoices with deferred revenue (B11): deferred, released, remaining and the "
    "next period to release",
    response_model=ScheduleList,
    responses=READ_ERRORS,
)
def list_revenue_schedules(
    caller: SalesReader,
    sessions: Sessions,
    remaining: Annotated[
        bool, Query(description="only the invoices with revenue still to release")
    ] = False,
) -> JSONResponse:
    with sessions() as session:
        schedules = queries.revenue_schedules(session, remaining_only=remaining)
    for schedule in schedules:
        schedule["links"] = {"schedule": schedule_link(schedule["invoice"])}
    return JSONResponse({"schedules": schedules})


@router.get(
    "/revenue-schedules/{invoice}",
    summary="An invoice's revenue schedule (B11): its lines, what each released and what "
    "credits took, as `docpost show schedule`",
    response_model=ScheduleView,
    responses=READ_ERRORS,
)
def get_revenue_schedule(invoice: str, caller: SalesReader, sessions: Sessions) -> JSONResponse:
    schedule: dict[str, Any] = found(
        sessions, lambda session: queries.show_schedule(session, text_param(invoice, "invoice"))
    )
    return JSONResponse(schedule)
