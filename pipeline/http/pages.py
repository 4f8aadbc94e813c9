"""The page for people: `/` lists recent journals with links to their PDFs.

Browsers send no Bearer header, so `/?key=<key>` signs in once: the key is checked, kept in
an HttpOnly cookie (JavaScript cannot read it; SameSite=Lax: other sites cannot make the
browser send it along with a form post) and the browser is sent on to `/`, which takes the
key out of the address bar. PDF links then authenticate with the cookie. `/logout` forgets
it. The cookie is `Secure` whenever the page was reached over HTTPS.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.http.auth import COOKIE_NAME, READ_DUTY, Caller, Sessions, caller_for_key
from schema import Document, Journal, SalesOrder

router = APIRouter(tags=["pages"], include_in_schema=False)

RECENT = 50
COOKIE_MAX_AGE = 7 * 24 * 3600
# The page has no script and no external resource; nothing else may load or run.
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

# Autoescaping on: order numbers, customers and actors come from upstream systems.
_templates = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)

_LAYOUT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>docpost{% if title %}: {{ title }}{% endif %}</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; } th, td { padding: .3rem .8rem; text-align: left; }
tr:nth-child(even) { background: #f4f4f4; } .num { text-align: right; }
.muted { color: #777; }
</style></head><body>
{% block body %}{% endblock %}
</body></html>"""

PAGE = _templates.from_string(
    _LAYOUT.replace(
        "{% block body %}{% endblock %}",
        """<h1>Recent journals</h1>
<p class="muted">Signed in as {{ actor }}. <a href="/logout">Sign out</a>
· <a href="/docs">API</a></p>
{% if journals %}
<table>
<thead><tr><th>Journal</th><th>Kind</th><th>Order</th><th>Customer</th><th>Date</th>
<th class="num">Total</th><th>PDF</th></tr></thead>
<tbody>
{% for j in journals %}
<tr><td>{{ j.number }}</td><td>{{ j.kind }}</td><td>{{ j.order or "" }}</td>
<td>{{ j.customer }}</td><td>{{ j.date }}</td><td class="num">{{ j.total or "" }}</td>
<td>{% if j.pdf %}<a class="pdf" href="{{ j.pdf }}">{{ j.filename }}</a>
{% else %}<span class="muted">{{ j.document_status }}</span>{% endif %}</td></tr>
{% endfor %}
</tbody></table>
{% else %}
<p>No journals yet.</p>
{% endif %}""",
    )
)

SIGN_IN = _templates.from_string(
    _LAYOUT.replace(
        "{% block body %}{% endblock %}",
        """<h1>docpost</h1>
<p>{{ message }}</p>
<form method="get" action="/">
<label>API key <input type="password" name="key" autocomplete="off" size="50"></label>
<button type="submit">Sign in</button></form>
<p class="muted">Keys are made by an operator with <code>docpost actor-key ACTOR</code>.</p>""",
    )
)


def recent_journals(session: Session, limit: int = RECENT) -> list[dict[str, Any]]:
    """The newest journals, each with its newest rendered PDF (or why there is none)."""
    journals = session.execute(
        select(
            Journal.id,
            Journal.number,
            Journal.kind,
            Journal.customer_code,
            Journal.posting_date,
            Journal.total_amount,
            SalesOrder.order_no,
        )
        .outerjoin(SalesOrder, SalesOrder.id == Journal.order_id)
        .order_by(Journal.id.desc())
        .limit(limit)
    ).all()
    documents: dict[int, list[Any]] = {}
    for row in session.execute(
        select(
            Document.journal_id, Document.id, Document.revision, Document.filename, Document.status
        )
        .where(Document.journal_id.in_([j.id for j in journals]))
        .order_by(Document.revision)
    ):
        documents.setdefault(row.journal_id, []).append(row)
    listed = []
    for journal in journals:
        revisions = documents.get(journal.id, [])
        rendered = [d for d in revisions if d.status == "rendered"]
        newest = rendered[-1] if rendered else None
        listed.append(
            {
                "number": journal.number,
                "kind": journal.kind,
                "order": journal.order_no,
                "customer": journal.customer_code,
                "date": journal.posting_date.isoformat(),
                "total": None if journal.total_amount is None else str(journal.total_amount),
                "pdf": f"/documents/{newest.id}" if newest else None,
                "filename": newest.filename if newest else None,
                "document_status": revisions[-1].status if revisions else "no document",
            }
        )
    return listed


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=HTML_HEADERS)


def _sign_in(message: str, status: int = 401) -> HTMLResponse:
    response = _html(SIGN_IN.render(title="sign in", message=message), status)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    sessions: Sessions,
    key: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    if key is not None:
        return _sign_in_with(request, sessions, key)
    caller = _page_caller(request, sessions)
    if caller is None:
        return _sign_in("Sign in with your API key.")
    if not caller.has(READ_DUTY):
        return _html(
            SIGN_IN.render(
                title="not allowed",
                message=f"{caller.actor} may not read journals; that needs the duty "
                f"{READ_DUTY}. Sign in with another key.",
            ),
            403,
        )
    with sessions() as session:
        journals = recent_journals(session)
    return _html(PAGE.render(title="recent journals", actor=caller.actor, journals=journals))


def _page_caller(request: Request, sessions: Any) -> Caller | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    key = credentials.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE_NAME)
    if not key or "\x00" in key:
        return None
    with sessions() as session:
        return caller_for_key(session, key)


def _sign_in_with(request: Request, sessions: Any, key: str) -> Response:
    with sessions() as session:
        caller = None if "\x00" in key else caller_for_key(session, key.strip())
    if caller is None:
        return _sign_in("That key is not known.")
    # 303: the next request is a plain GET of `/`, without the key in the address.
    response = RedirectResponse("/", status_code=303, headers={"Referrer-Policy": "no-referrer"})
    response.set_cookie(
        COOKIE_NAME,
        key.strip(),
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/logout")
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response
