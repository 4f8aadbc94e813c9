"""Documents: the list, one document by id, and a journal's latest rendered PDF or e-invoice.

A document is a PDF (`application/pdf`) or an EHF / Peppol BIS 3.0 e-invoice (E1,
`application/xml`). An e-invoice the official rules found fatal faults in (status `invalid`,
DOCPOST_EINVOICE_RULES) is never served as one to send: 409 with its rule ids and messages;
the list shows its findings.

A document's bytes never change once rendered (D6), so its sha256 is a strong ETag: a client
that has it sends `If-None-Match` and gets 304 without the bytes. `Cache-Control: private,
no-cache` lets a browser keep the file but ask each time, so a key that lost its duty stops
seeing it, and shared caches never store it.

A document is sent as an attachment (a browser saves it); with `?inline=1` as `inline`, so a
browser opens the PDF in its viewer (a link from a page, a PDF shown in a tab). Only the
Content-Disposition differs: the bytes and the ETag are the same.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.documents import DocumentNotFound, StoredPdf, list_documents, stored_pdf
from docpost.pipeline.entrypoints.http.auth import SalesReader, Sessions
from docpost.pipeline.entrypoints.http.errors import ApiError, not_found
from docpost.pipeline.entrypoints.http.routes_read import READ_ERRORS, text_param
from docpost.pipeline.entrypoints.http.routes_requests import absolute
from docpost.pipeline.entrypoints.http.schemas import DocumentList, errors
from docpost.schema import Journal

router = APIRouter(tags=["documents"])

MAX_LISTED = 1000
DEFAULT_LISTED = 100
# Document ids are PostgreSQL integers: a larger id is refused (422), not a database error.
MAX_ID = 2**31 - 1
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {}, "application/xml": {}},
        "description": "the PDF (or the e-invoice's UBL XML): Content-Disposition attachment, "
        "or inline with ?inline=1",
        "headers": {
            "Content-Disposition": {
                "description": "attachment (default) or inline (?inline=1), with the filename",
                "schema": {"type": "string"},
            },
            "ETag": {"description": "the document's sha256", "schema": {"type": "string"}},
        },
    },
    304: {"description": "not modified: the If-None-Match ETag is the document's sha256"},
    **errors(401, 403, 404, 409, 422, 503),
}
Inline = Annotated[
    bool,
    Query(
        description="true (1): Content-Disposition inline, to open the document in the "
        "browser; default: attachment, to save it"
    ),
]


@router.get(
    "/documents",
    summary="Stored documents, oldest first, a page at a time (?after=<id>&limit=): id, kind, "
    "journal, revision, status, sha256, size",
    response_model=DocumentList,
    responses={
        **READ_ERRORS,
        200: {
            "description": "a page of documents; `next` is the next page's address (null on "
            'the last page), also sent as `Link: <...>; rel="next"`',
            "headers": {
                "Link": {
                    "description": 'the next page: `<URL>; rel="next"` (absent on the last)',
                    "schema": {"type": "string"},
                }
            },
        },
    },
)
def get_documents(
    request: Request,
    caller: SalesReader,
    sessions: Sessions,
    journal: Annotated[str | None, Query(max_length=30)] = None,
    after: Annotated[
        int,
        Query(ge=0, le=MAX_ID, description="the last id of the previous page (0: from the start)"),
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LISTED, description=f"at most this many (1 to {MAX_LISTED})")
    ] = DEFAULT_LISTED,
) -> JSONResponse:
    """Keyset paging by id: each page starts after the last id of the one before, so a
    document stored meanwhile is never seen twice and none is skipped, and the database reads
    no more than one page (plus one row, to know whether there is another)."""
    with sessions() as session:
        number = None if journal is None else text_param(journal, "journal")
        documents = list_documents(session, number, after=after, limit=limit + 1)
        if number is not None and not documents and not _journal_exists(session, number):
            raise not_found(f"journal {number!r} does not exist")
    shown = documents[:limit]
    for document in shown:
        document["links"] = document_links(document)
    next_page = None
    if len(documents) > limit:
        query = {"after": shown[-1]["id"], "limit": limit}
        if number is not None:
            query = {"journal": number, **query}
        next_page = f"/documents?{urlencode(query)}"
    headers = {"Link": f'<{absolute(request, next_page)}>; rel="next"'} if next_page else None
    return JSONResponse({"documents": shown, "next": next_page}, headers=headers)


def document_links(document: dict[str, Any]) -> dict[str, str]:
    """Where a listed document's bytes are: {"pdf": ...} or, an e-invoice, {"xml": ...}."""
    return {"xml" if document["format"] == "ubl" else "pdf": f"/documents/{document['id']}"}


def _journal_exists(session: Any, number: str) -> bool:
    return session.scalar(select(Journal.id).where(Journal.number == number)) is not None


@router.get(
    "/documents/{document_id}",
    summary="A stored PDF or e-invoice (Content-Disposition attachment, or inline with "
    "?inline=1; ETag = sha256, If-None-Match → 304)",
    response_class=Response,
    responses=PDF_RESPONSES,
)
def get_document(
    document_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    caller: SalesReader,
    sessions: Sessions,
    if_none_match: Annotated[str | None, Header()] = None,
    inline: Inline = False,
) -> Response:
    with sessions() as session:
        try:
            pdf = stored_pdf(session, document_id)
        except DocumentNotFound as exc:
            raise not_found(str(exc)) from None
    return pdf_response(pdf, if_none_match, inline=inline)


@router.get(
    "/journals/{number}/pdf",
    summary="A journal's latest rendered PDF (a corrected packing slip has several revisions)",
    response_class=Response,
    responses=PDF_RESPONSES,
)
def get_journal_pdf(
    number: str,
    caller: SalesReader,
    sessions: Sessions,
    if_none_match: Annotated[str | None, Header()] = None,
    inline: Inline = False,
) -> Response:
    return _journal_document(sessions, number, "pdf", if_none_match, inline)


@router.get(
    "/journals/{number}/xml",
    summary="A journal's e-invoice (EHF / Peppol BIS 3.0 UBL, E1): invoices and credit notes "
    "of a seller with a Peppol endpoint",
    response_class=Response,
    responses=PDF_RESPONSES,
)
def get_journal_xml(
    number: str,
    caller: SalesReader,
    sessions: Sessions,
    if_none_match: Annotated[str | None, Header()] = None,
    inline: Inline = False,
) -> Response:
    return _journal_document(sessions, number, "ubl", if_none_match, inline)


def _journal_document(
    sessions: sessionmaker[Session],
    number: str,
    format: str,
    if_none_match: str | None,
    inline: bool = False,
) -> Response:
    """The newest rendered revision of a journal's documents of one format."""
    what = "e-invoice" if format == "ubl" else "document"
    with sessions() as session:
        number = text_param(number, "journal")
        listed = list_documents(session, number)
        documents = [d for d in listed if d["format"] == format]
        if not documents:
            if not listed and not _journal_exists(session, number):
                raise not_found(f"journal {number!r} does not exist")
            raise not_found(f"journal {number!r} has no {what}")
        rendered = [d for d in documents if d["status"] == "rendered"]
        if not rendered:
            latest = documents[-1]
            raise _not_rendered(latest["id"], latest["status"], latest["error"], latest["findings"])
        newest = max(rendered, key=lambda d: d["revision"])
        pdf = stored_pdf(session, newest["id"])
    return pdf_response(pdf, if_none_match, inline=inline)


def _not_rendered(
    document_id: int,
    status: str,
    error: str | None,
    findings: list[dict[str, Any]] | None = None,
) -> ApiError:
    if status == "invalid":
        fatal = "; ".join(
            f"{f['rule']}: {f['message']}" for f in findings or [] if f.get("flag") != "warning"
        )
        return ApiError(
            409,
            "document.invalid",
            f"e-invoice {document_id} fails the official rules (E2), not to be sent: {fatal}",
        )
    if status == "failed":
        return ApiError(
            409,
            "document.failed",
            f"document {document_id} could not be rendered: {error}",
        )
    return ApiError(
        409,
        "document.pending",
        f"document {document_id} is not rendered yet (status {status}); try again shortly",
        headers={"Retry-After": "2"},
    )


def pdf_response(pdf: StoredPdf, if_none_match: str | None, *, inline: bool = False) -> Response:
    if pdf.status != "rendered" or pdf.content is None:
        raise _not_rendered(pdf.document_id, pdf.status, pdf.error, pdf.findings)
    if not pdf.intact:
        # D6: the stored checksum is the document's identity; never hand out other bytes.
        raise ApiError(
            500,
            "document.checksum_mismatch",
            f"document {pdf.document_id}: stored content does not match its sha256",
        )
    etag = f'"{pdf.sha256}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if if_none_match is not None and etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = content_disposition(pdf.filename, inline=inline)
    return Response(pdf.content, media_type=pdf.media_type, headers=headers)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or a list of tags compared weakly (W/ ignored)."""
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in tags


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment` (or `inline`) with an ASCII fallback name and the exact name in RFC 5987
    form (RFC 6266)."""
    name = filename.rsplit("/", 1)[-1] or "document.pdf"
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
