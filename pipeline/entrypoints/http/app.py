"""The ASGI app: `create_app()` for uvicorn (`docpost serve`), tests, or any ASGI server.

Requests go to the queue through `docpost.tasks.client.submit` like `docpost submit`; reads call
`pipeline.queries` and `pipeline.documents` like `docpost show`. Configuration is the same
DOCPOST_* settings (database, broker). OpenAPI is at /openapi.json, its page at /docs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import session_factory
from docpost.pipeline.entrypoints.http import (
    health,
    pages,
    routes_documents,
    routes_ledger,
    routes_metrics,
    routes_pages,
    routes_read,
    routes_requests,
)
from docpost.pipeline.entrypoints.http.errors import install_error_handlers, known_query_only
from docpost.pipeline.entrypoints.http.schemas import operation_id, request_body_schema

DESCRIPTION = """\
The docpost sales document posting pipeline over HTTP.

**Authentication.** API clients send `Authorization: Bearer <key>`; a key belongs to one actor
and is made with `docpost actor-key ACTOR`. The request's actor is always the key's: leave
`actor` out of a request, or give that same actor. This API takes the key in that header
only, never in a cookie. People sign in once with the form at `/` (never with a key in the
address); the browser then holds a signed HttpOnly session cookie that holds no key, honoured
by the back-office pages (and their document downloads) only, not by this API. A revoked key
(`docpost actor-key --revoke`) is refused (401), and the page sessions made with it end.

**Lists** come a page at a time: `GET /documents?after=<last id>&limit=` (oldest first, 100
by default, at most 1000); `next` (and the `Link` header, rel="next") is the next page.

**Duties (M5).** Posting kinds need `post_sales_documents`, `change_serial` needs
`correct_serial_numbers`; reading orders, journals, documents and traces needs
`post_sales_documents`; a request's outcome is visible to its own actor too.

**Errors** have the shape `{"error": {"code", "rule", "message", "details"}}`: 400 not JSON,
401 no or unknown key, 403 duty missing or another actor named, 404 unknown, 409 request_id
reused for another body or PDF not rendered yet, 422 the request breaks the contract (with
the contract's own messages), 503 database or broker down.
"""


def create_app(
    sessions: sessionmaker[Session] | None = None, *, embedded_worker: bool = False
) -> FastAPI:
    """The app. `embedded_worker`: with no DOCPOST_BROKER_URL, run the embedded Celery worker
    in this process while the app runs, as `docpost submit` does, so the queued requests
    are executed without any server."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _redact_keys_in_access_log()
        with contextlib.ExitStack() as stack:
            if embedded_worker:
                from docpost.tasks.app import broker_is_embedded
                from docpost.tasks.embedded import embedded_worker as worker

                if broker_is_embedded():
                    stack.enter_context(worker())
                    app.state.embedded_worker = True
            yield
            app.state.embedded_worker = False

    # Read (and checked) now, whatever the server: an unsupported DOCPOST_LOCALE is refused at
    # start-up (ConfigurationError), not after a posting committed.
    settings = get_settings()
    app = FastAPI(
        title="docpost",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by routes_pages from a package's assets: no CDN, so they work offline.
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.sessions = sessions or session_factory(settings.database_url)
    app.state.embedded_worker = False
    install_error_handlers(app)
    for module in (routes_requests, routes_read, routes_documents, routes_ledger):
        # The JSON API refuses query parameters an operation does not take (a misspelt one
        # would silently get the default); health, metrics and the pages ignore them.
        app.include_router(module.router, dependencies=[Depends(known_query_only)])
    for module in (health, routes_metrics, pages):
        app.include_router(module.router)
    routes_pages.add_to(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


class _RedactKeys(logging.Filter):
    """Access logs print the URL with its query. Keys are never taken from it (the sign-in is a
    form POST), but a person may still paste one there: every parameter named key in any
    spelling (`%6Bey=`, `KEY=`) or holding a value like a key is logged as `<redacted>`.
    uvicorn passes the path as the third argument of its access record."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def redact_query(path: str) -> str:
    """`path?query` with the value of each key-like parameter replaced by `<redacted>`."""
    base, question, query = path.partition("?")
    if not question:
        return path
    pairs = []
    for pair in query.split("&"):
        name = pair.partition("=")[0]
        pairs.append(f"{name}=<redacted>" if pages.names_a_key(pair) else pair)
    return f"{base}?{'&'.join(pairs)}"


def _redact_keys_in_access_log() -> None:
    # Added at start-up, after uvicorn has configured its loggers.
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactKeys) for f in access.filters):
        access.addFilter(_RedactKeys())


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the request body schema: that body is parsed by the contract
    itself (see routes_requests), so FastAPI cannot know it."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        body, components = request_body_schema()
        document.setdefault("components", {}).setdefault("schemas", {}).update(components)
        for path in document["paths"].values():
            for operation in path.values():
                if operation.pop("x-docpost-body", False):
                    operation["requestBody"] = {
                        "required": True,
                        "content": {"application/json": {"schema": body}},
                    }
        app.openapi_schema = document
    return app.openapi_schema
