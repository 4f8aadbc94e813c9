"""The page for people: `/` lists recent journals with links to their PDFs.

Browsers send no Bearer header, so a person signs in once with the page's own form: it POSTs
the key to `/`, the key is checked, kept in an HttpOnly cookie (JavaScript cannot read it;
SameSite=Lax: other sites cannot make the browser send it along with a form post) and the
browser is sent on to `/`. PDF links then authenticate with the cookie. `/logout` forgets it.
The cookie is `Secure` whenever the page was reached over HTTPS.

A key is never taken from the address (`/?key=...`, however spelled): it would stay in the
browser's history and the server's access log, and a link from another site could sign a
victim in as the attacker (login CSRF). The form's POST is accepted only from the page itself:
a token in a SameSite=Strict cookie must match the form's hidden field, and a browser's
Origin and Sec-Fetch-Site headers, when sent, must name this site.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal
from urllib.parse import parse_qs, unquote_plus, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.entrypoints.http.auth import (
    COOKIE_NAME,
    KEY_PREFIX,
    READ_DUTY,
    Caller,
    Sessions,
    caller_for_key,
)
from docpost.schema import Document, Journal, SalesOrder
from docpost.schema.documents import PICKING_LIST

router = APIRouter(tags=["pages"], include_in_schema=False)

RECENT = 50
COOKIE_MAX_AGE = 7 * 24 * 3600
# The sign-in form's token (double submit): set with the form, sent back with its POST.
CSRF_COOKIE = "docpost_csrf"
CSRF_MAX_AGE = 3600
# A sign-in form holds a key (47 characters) and a token: far below this.
MAX_FORM_BYTES = 4096
# The page has no script and no external resource; nothing else may load or run.
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    # same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the
    # sign-in form's POST, and the Origin check could not tell our form from a sandboxed one.
    # Other sites still get no referrer.
    "Referrer-Policy": "same-origin",
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
<form method="post" action="/">
<input type="hidden" name="csrf" value="{{ csrf }}">
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
        .where(Document.kind != PICKING_LIST)  # the journal's own PDF; not its picking list (D2)
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


def _sign_in(
    request: Request, message: str, status: int = 401, forget: bool = True, title: str = "sign in"
) -> Response:
    """The sign-in form, with this browser's CSRF token (kept while it is valid, so that two
    tabs can both sign in). `forget`: drop the key cookie (it did not work)."""
    token = request.cookies.get(CSRF_COOKIE) or ""
    if len(token) != 43:  # token_urlsafe(32); anything else was not set by us
        token = secrets.token_urlsafe(32)
    response = _html(SIGN_IN.render(title=title, message=message, csrf=token), status)
    _set_cookie(response, request, CSRF_COOKIE, token, CSRF_MAX_AGE, "strict")
    if forget:
        response.delete_cookie(COOKIE_NAME, path="/")
    return response


def _set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    max_age: int,
    samesite: Literal["lax", "strict"],
) -> None:
    """The page's cookies, the key's and the form token's alike: for the whole site, out of
    JavaScript's reach, and `Secure` whenever the page was reached over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite=samesite,
        secure=request.url.scheme == "https",
    )


def names_a_key(query: str) -> bool:
    """Whether a raw query string carries a parameter named key in any spelling (`%6Bey`,
    `KEY`, `key[]`...) or a value that looks like one of our keys."""
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if "key" in unquote_plus(name).lower() or KEY_PREFIX in unquote_plus(value):
            return True
    return False


@router.get("/", response_class=HTMLResponse)
def home(request: Request, sessions: Sessions) -> Response:
    if names_a_key(request.url.query):
        # Not taken, and the cookie of whoever is signed in is left alone: a link from another
        # site must neither sign a victim in as the attacker nor sign them out.
        return _sign_in(
            request,
            "An API key in the address is never accepted (it would stay in the browser's "
            "history and the server's logs): enter it in the form below.",
            400,
            forget=False,
        )
    caller = _page_caller(request, sessions)
    if caller is None:
        return _sign_in(request, "Sign in with your API key.")
    if not caller.has(READ_DUTY):
        return _sign_in(
            request,
            f"{caller.actor} may not read journals; that needs the duty {READ_DUTY}. "
            "Sign in with another key.",
            403,
            forget=False,
            title="not allowed",
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


@router.post("/", response_class=HTMLResponse)
async def sign_in(request: Request, sessions: Sessions) -> Response:
    """The sign-in form's POST: the key, from this site's own form only."""
    refusal = _cross_site(request)
    if refusal is not None:
        return _sign_in(request, refusal, 403, forget=False)
    form = await _read_form(request)
    if form is None:
        return _sign_in(request, "Sign in with the form below.", 400, forget=False)
    token, cookie = form.get("csrf", ""), request.cookies.get(CSRF_COOKIE, "")
    if not (token and cookie and secrets.compare_digest(token, cookie)):
        return _sign_in(
            request,
            "The sign-in form has expired or did not come from this site: sign in again.",
            403,
            forget=False,
        )
    key = form.get("key", "").strip()
    with sessions() as session:
        caller = None if "\x00" in key else caller_for_key(session, key)
    if caller is None:
        return _sign_in(request, "That key is not known.")
    # 303: the next request is a plain GET of `/`.
    response = RedirectResponse("/", status_code=303, headers={"Referrer-Policy": "same-origin"})
    _set_cookie(response, request, COOKIE_NAME, key, COOKIE_MAX_AGE, "lax")
    response.delete_cookie(CSRF_COOKIE, path="/")  # used up
    return response


def _cross_site(request: Request) -> str | None:
    """Why a browser's POST came from another site (its Origin or Sec-Fetch-Site header),
    or None. Clients that send neither header still need the form's token."""
    refused = "A sign-in from another site is refused: open this page and sign in here."
    origin = request.headers.get("origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != request.url.netloc):
        return refused
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return refused
    return None


async def _read_form(request: Request) -> dict[str, str] | None:
    """The urlencoded form's fields (one value each), or None when it is no such form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=False, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    if any(len(values) != 1 for values in fields.values()):
        return None
    return {name: values[0] for name, values in fields.items()}


@router.get("/logout")
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response
