"""HTTP errors in the contract's error shape: `{"error": {code, rule, message, details}}`.

The same four fields as a rejected outcome's `error` (CONTRACT.md), so a client handles a
refused HTTP call and a rejected request with one piece of code.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from docpost.pipeline.errors import Rejection

log = logging.getLogger(__name__)


class ApiError(Rejection):
    """Ends a call with `status` and an error body. Raised by routes and dependencies: a
    Rejection (code, rule, message, details) with the HTTP status and headers to send."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        rule: str | None = None,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(code, message, rule=rule, **details)
        self.status = status
        self.headers = headers


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def known_query_only(request: Request) -> None:
    """A JSON API call names only the query parameters its operation declares. FastAPI
    ignores any other silently, so a misspelt `?limt=5` would quietly answer with the default
    page: refused instead, 422 naming the unknown ones and what the call takes."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise ApiError(
            422,
            "request.invalid",
            f"invalid call: unknown query parameter(s) {', '.join(map(repr, unknown))}; "
            f"this call takes: {takes}",
            problems=[
                {"field": f"query.{name}", "message": "unknown query parameter"} for name in unknown
            ],
        )


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters an operation takes, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def error_response(
    status: int, error: dict[str, Any], headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": error, **extra}, status_code=status, headers=headers)


def _problems(exc: RequestValidationError) -> list[dict[str, str]]:
    problems = []
    for item in exc.errors():
        field = ".".join(str(part) for part in item.get("loc", ()))
        problems.append({"field": field, "message": str(item.get("msg", "invalid"))})
    return problems


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as the error shape above, including FastAPI's own (a bad query
    parameter, an unknown path), the database and the broker being down."""
    import kombu.exceptions
    from sqlalchemy.exc import DBAPIError

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.as_error(), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _problems(exc)
        shown = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
        error = ApiError(422, "request.invalid", f"invalid call: {shown}", problems=problems)
        return error_response(422, error.as_error())

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http.error")
        error = ApiError(exc.status_code, code, str(exc.detail))
        return error_response(exc.status_code, error.as_error(), exc.headers)

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        # A lost connection is the common case; anything else is logged in full for us.
        log.error("database error: %s", exc)
        error = ApiError(
            503,
            "database.unavailable",
            "the database could not be reached or refused the query; try again shortly",
        )
        return error_response(503, error.as_error(), {"Retry-After": "5"})

    @app.exception_handler(kombu.exceptions.OperationalError)
    async def _broker(_: Request, exc: Exception) -> JSONResponse:
        log.error("broker error: %s", exc)
        error = ApiError(
            503,
            "broker.unavailable",
            "the message broker could not be reached; requests already accepted stay queued "
            "and sending the same requests again is safe",
        )
        return error_response(503, error.as_error(), {"Retry-After": "5"})
