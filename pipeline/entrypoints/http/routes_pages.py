"""The back-office pages under /office (issue 18): search, the warranty trace of a serial
(S11, S15), an order, a journal (the S11 inquiry), the requests that were rejected or failed
and the dead letters, and a document's download. And /docs and /redoc served offline.

Each route builds plain dicts from pipeline.queries (and adds links) for its template; lists
read one page at a time (`?offset=`). Access is the JSON API's (pipeline.entrypoints.http.auth):
PAGE_DUTIES says which duty each page needs; requests an actor sent are always its own to see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import fastapi_offline
from fastapi import APIRouter, Header, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from docpost.pipeline import queries
from docpost.pipeline.documents import DocumentNotFound, stored_pdf
from docpost.pipeline.entrypoints.http.auth import READ_DUTY, Sessions
from docpost.pipeline.entrypoints.http.errors import ApiError
from docpost.pipeline.entrypoints.http.pages import (
    Visitor,
    link,
    message,
    offset_of,
    render,
    signed_in,
)
from docpost.pipeline.entrypoints.http.routes_documents import MAX_ID, pdf_response

router = APIRouter(prefix="/office", tags=["pages"], include_in_schema=False)
docs_router = APIRouter(include_in_schema=False)

# Which duty each page needs (None: any signed-in actor; what it shows is then its own).
PAGE_DUTIES: dict[str, str | None] = {
    "search": READ_DUTY,
    "trace": READ_DUTY,
    "order": READ_DUTY,
    "journal": READ_DUTY,
    "document": READ_DUTY,
    "requests": None,  # every request of all actors with READ_DUTY, else the actor's own
    "dead_letters": READ_DUTY,
}
MAX_TEXT = 100


def _not_found(request: Request, who: Visitor, text: str) -> HTMLResponse:
    return message(request, who, 404, who.labels["not_found"], text)


def _text(value: str) -> str | None:
    """A searched or looked-up value; None when no stored key can be it (NUL, too long)."""
    value = value.strip()
    return value if value and "\x00" not in value and len(value) <= MAX_TEXT else None


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, sessions: Sessions, q: str = "", kind: str = "serial") -> Response:
    who = signed_in(request, sessions, PAGE_DUTIES["search"])
    if isinstance(who, Response):
        return who
    if kind not in queries.SEARCH_KINDS:
        kind = "serial"
    text = _text(q)
    page = queries.Page(offset_of(request))
    if text is None:
        hits = {"rows": [], "offset": 0, "limit": page.limit, "has_more": False}
    else:
        with sessions() as session:
            hits = queries.search(session, text, kind, page)
    for hit in hits["rows"]:
        if hit["kind"] == "serial":
            hit["link"] = link("trace", hit["key"])
            hit["order_link"] = link("orders", hit["detail"].rsplit(", ", 1)[-1])
        else:
            hit["link"] = link(f"{hit['kind']}s", hit["key"])
            hit["order_link"] = None
    base = f"/office/search?kind={kind}&q={_quoted(q)}&"
    return render(request, who, "search.html", title="search", q=q, kind=kind, hits=hits, base=base)


def _quoted(value: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(value[:MAX_TEXT])


@router.get("/trace/{serial:path}", response_class=HTMLResponse)
def trace(request: Request, serial: str, sessions: Sessions, on: str = "") -> Response:
    """S11, S15: the sale(s) of a serial and its warranty on a day (default today)."""
    who = signed_in(request, sessions, PAGE_DUTIES["trace"])
    if isinstance(who, Response):
        return who
    text = _text(serial)
    try:
        day = queries.warranty_day(on) if on else None
    except ValueError as exc:
        return message(request, who, 422, "on", f"on {exc}")
    found = None
    if text is not None:
        with sessions() as session:
            found = queries.trace(session, text, None, day)
    if found is None or not found["sales"]:
        return _not_found(request, who, f"serial {serial.strip()[:MAX_TEXT]!r} was never sold")
    for sale in found["sales"]:
        sale["order_link"] = link("orders", sale["order"])
        for kind in ("packing_slip", "invoice", "credit_note"):
            sale[f"{kind}_link"] = link("journals", sale[kind]) if sale[kind] else None
    return render(request, who, "trace.html", title=f"trace {found['serial']}", trace=found)


@router.get("/orders/{order:path}", response_class=HTMLResponse)
def order(request: Request, order: str, sessions: Sessions) -> Response:
    """An order: lines, bundle parents and components, delivered, invoiced, serials, and its
    journals (newest first, a page at a time) with their PDFs and e-invoices."""
    who = signed_in(request, sessions, PAGE_DUTIES["order"])
    if isinstance(who, Response):
        return who
    text = _text(order)
    page = queries.Page(offset_of(request))
    with sessions() as session:
        try:
            if text is None:
                raise queries.NotFound(f"order {order[:MAX_TEXT]!r} does not exist")
            shown = queries.show_order(session, text)
        except queries.NotFound as exc:
            return _not_found(request, who, str(exc))
        journals = queries.journals_page(session, page, order_no=text)
    for line in shown["lines"]:
        for registration in line["serials"]:
            serial = registration["serial"]
            registration["link"] = link("trace", serial) if serial else None
    for journal in journals["rows"]:
        journal["journal_link"] = link("journals", journal["journal"])
    return render(
        request,
        who,
        "order.html",
        title=f"order {shown['order']}",
        order=shown,
        journals=journals,
        base=link("orders", shown["order"]) + "?",
    )


@router.get("/journals/{number}", response_class=HTMLResponse)
def journal(request: Request, number: str, sessions: Sessions) -> Response:
    """A journal and the serials each line included, as they read now (S11 inquiry)."""
    who = signed_in(request, sessions, PAGE_DUTIES["journal"])
    if isinstance(who, Response):
        return who
    text = _text(number)
    with sessions() as session:
        try:
            if text is None:
                raise queries.NotFound(f"journal {number[:MAX_TEXT]!r} does not exist")
            shown = queries.show_journal(session, text)
        except queries.NotFound as exc:
            return _not_found(request, who, str(exc))
    shown["order_link"] = link("orders", shown["order"]) if shown["order"] else None
    for key in ("reverses", "reversed_by"):
        shown[f"{key}_link"] = link("journals", shown[key]) if shown[key] else None
    for line in shown["lines"]:
        for registration in line["registrations"]:
            serial = registration["serial"]
            registration["link"] = link("trace", serial) if serial else None
    return render(request, who, "journal.html", title=shown["journal"], journal=shown)


@router.get("/requests", response_class=HTMLResponse)
def problems(request: Request, sessions: Sessions) -> Response:
    """The operator's view: requests that were rejected or failed, with their messages, and
    the dead letters. Without READ_DUTY an actor sees only its own requests (as GET
    /requests/{id} shows an outcome to its own actor) and no dead letters."""
    who = signed_in(request, sessions, PAGE_DUTIES["requests"])
    if isinstance(who, Response):
        return who
    assert who.caller is not None
    sees_all = who.caller.has(READ_DUTY)
    dead_duty = PAGE_DUTIES["dead_letters"]
    with sessions() as session:
        requests = queries.problem_requests(
            session,
            queries.Page(offset_of(request)),
            actor=None if sees_all else who.caller.actor,
        )
        dead_letters = (
            queries.dead_letters_page(session, queries.Page(offset_of(request, "dl_offset")))
            if dead_duty is None or who.caller.has(dead_duty)
            else None
        )
    return render(
        request,
        who,
        "requests.html",
        title="rejected and failed requests",
        requests=requests,
        dead_letters=dead_letters,
        only_own=not sees_all,
    )


@router.get("/documents/{document_id}")
def document(
    request: Request,
    document_id: int,
    sessions: Sessions,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """A document's bytes (PDF or e-invoice) for a signed-in person: the JSON API's own
    response (ETag, attachment, refusals of an invalid e-invoice)."""
    who = signed_in(request, sessions, PAGE_DUTIES["document"])
    if isinstance(who, Response):
        return who
    if not 1 <= document_id <= MAX_ID:
        return _not_found(request, who, f"document {document_id} does not exist")
    with sessions() as session:
        try:
            pdf = stored_pdf(session, document_id)
        except DocumentNotFound as exc:
            return _not_found(request, who, str(exc))
    try:
        return pdf_response(pdf, if_none_match)
    except ApiError as exc:
        return message(request, who, exc.status, exc.code, exc.message)


# --- /docs and /redoc with no internet: the assets come from the fastapi-offline package ----

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSET_NAMES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
# Nothing off this server, even what the bundles would fetch by themselves (ReDoc's footer
# logo is on cdn.redoc.ly): the browser refuses it. Their inline start-up script is allowed.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'"
)


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


@docs_router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="docpost: API",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/docs-assets/favicon.png",
        # No call to validator.swagger.io either.
        swagger_ui_parameters={"validatorUrl": None},
    )
    return _offline(page)


@docs_router.get("/redoc", response_class=HTMLResponse)
def redoc() -> HTMLResponse:
    page = get_redoc_html(
        openapi_url="/openapi.json",
        title="docpost: API",
        redoc_js_url="/docs-assets/redoc.standalone.js",
        redoc_favicon_url="/docs-assets/favicon.png",
        with_google_fonts=False,
    )
    return _offline(page)


@docs_router.get("/docs-assets/{name}")
def docs_asset(name: str) -> Response:
    if name not in ASSET_NAMES:
        return Response(status_code=404)
    return FileResponse(ASSETS / name, headers={"Cache-Control": "public, max-age=86400"})


def add_to(app: Any) -> None:
    """Register the pages and the offline API docs (create_app passes docs_url=None)."""
    app.include_router(router)
    app.include_router(docs_router)
