"""The back-office page for people: `/` (search and recent journals), sign-in and sign-out;
the other pages are in routes_pages. Templates are in ./templates (Jinja2, autoescaped) and get
plain dicts from pipeline.queries, never ORM objects; labels come from LABELS, per locale.

Browsers send no Bearer header, so a person signs in once with the page's own form: it POSTs
the key to `/`, the key is checked and the browser gets a session cookie that holds no key
(pipeline.entrypoints.http.session: the key's id, signed with a server secret; HttpOnly,
SameSite=Strict), then is sent on to `/`. Sign-out is a POST with the session's CSRF token.

A key is never taken from the address (`/?key=...`, however spelled): it would stay in the
browser's history and the server's access log, and a link from another site could sign a
victim in as the attacker (login CSRF). The form's POST is accepted only from the page itself:
a token in a SameSite=Strict cookie must match the form's hidden field, and a browser's
Origin and Sec-Fetch-Site headers, when sent, must name this site.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote_plus, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from docpost.pipeline import queries
from docpost.pipeline.entrypoints.http import session as page_session
from docpost.pipeline.entrypoints.http.auth import (
    KEY_PREFIX,
    READ_DUTY,
    Caller,
    Sessions,
    caller_for_key,
)

router = APIRouter(tags=["pages"], include_in_schema=False)

# The sign-in form's token (double submit): set with the form, sent back with its POST.
CSRF_COOKIE = "docpost_csrf"
CSRF_MAX_AGE = 3600
LANG_COOKIE = "docpost_lang"
# A sign-in form holds a key (47 characters) and a token: far below this.
MAX_FORM_BYTES = 4096
MAX_OFFSET = 1_000_000
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
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=StrictUndefined,
)


def when(value: str | None) -> str:
    """A stored timestamp (ISO 8601, UTC) as people read it: `2026-11-30 09:52 UTC`."""
    if not value:
        return "–"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


templates.filters["when"] = when

_EN = {
    "html_lang": "en",
    "home": "Home",
    "search": "Search",
    "search_in": "Search in",
    "search_placeholder": "serial, order, journal or customer",
    "kind_serial": "Serial",
    "kind_order": "Order",
    "kind_journal": "Journal",
    "kind_customer": "Customer",
    "results": "Results",
    "no_results": "Nothing found.",
    "recent_journals": "Recent journals",
    "no_journals": "No journals yet.",
    "journal": "Journal",
    "journals": "Journals",
    "kind": "Kind",
    "order": "Order",
    "customer": "Customer",
    "date": "Date",
    "posting_date": "Posting date",
    "total": "Total",
    "vat": "VAT",
    "due_date": "Due date",
    "documents": "Documents",
    "document": "Document",
    "revision": "Revision",
    "signed_in_as": "Signed in as",
    "sign_in": "Sign in",
    "sign_out": "Sign out",
    "api_key": "API key",
    "key_hint": "Keys are made by an operator with",
    "api_docs": "API",
    "problems": "Rejected and failed requests",
    "rejected_failed": "Requests that were rejected or failed",
    "only_own": "Only your own requests are shown: all requests need the duty "
    "post_sales_documents.",
    "no_problems": "No request was rejected or failed.",
    "dead_letters": "Dead letters",
    "no_dead_letters": "No dead letters.",
    "received": "Received",
    "queue": "Queue",
    "reason": "Reason",
    "size": "Bytes",
    "content": "Start of the message",
    "request": "Request",
    "actor": "Actor",
    "code": "Code",
    "message": "Message",
    "status": "Status",
    "next": "Next page",
    "previous": "Previous page",
    "currency": "Currency",
    "confirmed_at": "Confirmed",
    "store": "Store",
    "lines": "Lines",
    "line": "Line",
    "item": "Item",
    "quantity": "Quantity",
    "unit_price": "Unit price",
    "net_amount": "Net amount",
    "amount": "Amount",
    "delivered": "Delivered",
    "invoiced": "Invoiced",
    "credited": "Credited",
    "serials": "Serials",
    "not_readable": "not readable",
    "bundle": "bundle",
    "component_of": "component of",
    "per_bundle": "per bundle",
    "trace_title": "Warranty trace of",
    "warranty": "Warranty",
    "warranty_on": "Warranty on",
    "warranty_from": "Warranty from",
    "warranty_until": "valid until",
    "warranty_per_sale": "The serial is on several items: each sale below says its warranty.",
    "valid_yes": "valid",
    "valid_no": "not valid",
    "on_day": "On",
    "check": "Check",
    "current": "current",
    "corrections": "Corrections",
    "packing_slip": "Packing slip",
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "reverses": "Reverses",
    "reversed_by": "Reversed by",
    "picking_list": "picking list",
    "state": "State",
    "doc_pdf": "PDF",
    "doc_ubl": "e-invoice (EHF)",
    "status_rendered": "rendered",
    "status_pending": "pending",
    "status_failed": "failed",
    "status_invalid": "invalid",
    "status_rejected": "rejected",
    "status_succeeded": "succeeded",
    "status_queued": "queued",
    "status_running": "running",
    "state_registered": "registered",
    "state_shipped": "shipped",
    "state_invoiced": "invoiced",
    "state_credited": "credited",
    "line_open": "open",
    "line_canceled": "canceled",
    "line_closed": "closed",
    "line_invoiced": "invoiced",
    "line_delivered": "delivered",
    "journal_confirmation": "Confirmation",
    "journal_packing_slip": "Packing slip",
    "journal_invoice": "Invoice",
    "journal_credit_note": "Credit note",
    "journal_packing_slip_cancel": "Packing slip cancellation",
    "journal_pos_sale": "POS sale",
    "not_found": "Not found",
    "not_allowed": "Not allowed",
    "sign_in_prompt": "Sign in with your API key.",
}

_NB = {
    **_EN,
    "html_lang": "nb",
    "home": "Forside",
    "search": "Søk",
    "search_in": "Søk i",
    "search_placeholder": "serienummer, ordre, bilag eller kunde",
    "kind_serial": "Serienummer",
    "kind_order": "Ordre",
    "kind_journal": "Bilag",
    "kind_customer": "Kunde",
    "results": "Treff",
    "no_results": "Fant ingenting.",
    "recent_journals": "Siste bilag",
    "no_journals": "Ingen bilag ennå.",
    "journal": "Bilag",
    "journals": "Bilag",
    "kind": "Type",
    "order": "Ordre",
    "customer": "Kunde",
    "date": "Dato",
    "posting_date": "Bokføringsdato",
    "total": "Sum",
    "vat": "MVA",
    "due_date": "Forfallsdato",
    "documents": "Dokumenter",
    "document": "Dokument",
    "revision": "Versjon",
    "signed_in_as": "Logget inn som",
    "sign_in": "Logg inn",
    "sign_out": "Logg ut",
    "api_key": "API-nøkkel",
    "key_hint": "Nøkler lages av en driftsansvarlig med",
    "problems": "Avviste og feilede forespørsler",
    "rejected_failed": "Forespørsler som ble avvist eller feilet",
    "only_own": "Bare dine egne forespørsler vises: alle krever plikten post_sales_documents.",
    "no_problems": "Ingen forespørsel er avvist eller feilet.",
    "dead_letters": "Døde meldinger",
    "no_dead_letters": "Ingen døde meldinger.",
    "received": "Mottatt",
    "queue": "Kø",
    "reason": "Årsak",
    "size": "Byte",
    "content": "Starten av meldingen",
    "request": "Forespørsel",
    "actor": "Aktør",
    "code": "Kode",
    "message": "Melding",
    "status": "Status",
    "next": "Neste side",
    "previous": "Forrige side",
    "currency": "Valuta",
    "confirmed_at": "Bekreftet",
    "store": "Butikk",
    "lines": "Linjer",
    "line": "Linje",
    "item": "Vare",
    "quantity": "Antall",
    "unit_price": "Enhetspris",
    "net_amount": "Nettobeløp",
    "amount": "Beløp",
    "delivered": "Levert",
    "invoiced": "Fakturert",
    "credited": "Kreditert",
    "serials": "Serienumre",
    "not_readable": "uleselig",
    "bundle": "pakke",
    "component_of": "del av",
    "per_bundle": "per pakke",
    "trace_title": "Garantisporing for",
    "warranty": "Garanti",
    "warranty_on": "Garanti per",
    "warranty_from": "Garanti fra",
    "warranty_until": "gyldig til",
    "warranty_per_sale": "Serienummeret finnes på flere varer: hvert salg under viser sin garanti.",
    "valid_yes": "gyldig",
    "valid_no": "ikke gyldig",
    "on_day": "Per",
    "check": "Sjekk",
    "current": "gjeldende",
    "corrections": "Rettelser",
    "packing_slip": "Følgeseddel",
    "invoice": "Faktura",
    "credit_note": "Kreditnota",
    "reverses": "Reverserer",
    "reversed_by": "Reversert av",
    "picking_list": "plukkliste",
    "state": "Tilstand",
    "doc_ubl": "e-faktura (EHF)",
    "status_rendered": "laget",
    "status_pending": "venter",
    "status_failed": "feilet",
    "status_invalid": "ugyldig",
    "status_rejected": "avvist",
    "status_succeeded": "utført",
    "status_queued": "i kø",
    "status_running": "kjører",
    "state_registered": "registrert",
    "state_shipped": "sendt",
    "state_invoiced": "fakturert",
    "state_credited": "kreditert",
    "line_open": "åpen",
    "line_canceled": "kansellert",
    "line_closed": "lukket",
    "line_invoiced": "fakturert",
    "line_delivered": "levert",
    "journal_confirmation": "Ordrebekreftelse",
    "journal_packing_slip": "Følgeseddel",
    "journal_invoice": "Faktura",
    "journal_credit_note": "Kreditnota",
    "journal_packing_slip_cancel": "Kansellert følgeseddel",
    "journal_pos_sale": "Kassesalg",
    "not_found": "Finnes ikke",
    "not_allowed": "Ikke tillatt",
    "sign_in_prompt": "Logg inn med API-nøkkelen din.",
}

LABELS: dict[str, dict[str, str]] = {"en_US": _EN, "nb_NO": _NB}
DEFAULT_LOCALE = "en_US"


class Labels(dict[str, str]):
    """A locale's labels; a label missing (a new status, say) shows its own key, not an
    error page."""

    def __missing__(self, key: str) -> str:
        return key.rsplit("_", 1)[-1] if "_" in key else key


def locale_of(request: Request) -> str:
    """`?lang=` (remembered in a cookie), else the cookie, else Accept-Language; en_US."""
    for asked in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if asked in LABELS:
            return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith(("nb", "no", "nn")):
            return "nb_NO"
        if tag.startswith("en"):
            return "en_US"
    return DEFAULT_LOCALE


@dataclass(frozen=True)
class Visitor:
    """Who is looking at a page: the caller (None: not signed in), the session (None: a
    Bearer client) and the locale."""

    caller: Caller | None
    session: page_session.PageSession | None
    locale: str

    @property
    def labels(self) -> Labels:
        return Labels(LABELS[self.locale])


def visitor(request: Request, sessions: Any) -> Visitor:
    locale = locale_of(request)
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    with sessions() as session:
        if scheme.lower() == "bearer" and credentials.strip():
            key = credentials.strip()
            caller = None if "\x00" in key else caller_for_key(session, key)
            return Visitor(caller, None, locale)
        sealed = page_session.unseal(request.cookies.get(page_session.SESSION_COOKIE))
        if sealed is None:
            return Visitor(None, None, locale)
        return Visitor(page_session.caller_of(session, sealed), sealed, locale)


def render(
    request: Request, who: Visitor, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page for a signed-in visitor (or the sign-in form, with no actor)."""
    body = templates.get_template(template).render(
        t=who.labels,
        actor=who.caller.actor if who.caller else None,
        csrf=who.session.csrf if who.session else "",
        title=context.pop("title", ""),
        **context,
    )
    response = HTMLResponse(body, status_code=status, headers=HTML_HEADERS)
    if request.query_params.get("lang") in LABELS:
        response.set_cookie(
            LANG_COOKIE, who.locale, max_age=365 * 24 * 3600, path="/", samesite="lax"
        )
    return response


def message(request: Request, who: Visitor, status: int, title: str, text: str) -> HTMLResponse:
    return render(request, who, "message.html", status, title=title, message=text)


def offset_of(request: Request, name: str = "offset") -> int:
    """A page's `offset` query parameter; anything but a small whole number is 0."""
    raw = request.query_params.get(name, "0")
    return int(raw) if raw.isdigit() and int(raw) <= MAX_OFFSET else 0


def link(kind: str, key: str) -> str:
    return f"/office/{kind}/{quote(key, safe='')}"


def _sign_in(
    request: Request,
    who: Visitor,
    text: str,
    status: int = 401,
    forget: bool = True,
) -> Response:
    """The sign-in form, with this browser's CSRF token (kept while it is valid, so that two
    tabs can both sign in). `forget`: drop the session cookie (it did not work)."""
    token = request.cookies.get(CSRF_COOKIE) or ""
    if len(token) != 43:  # token_urlsafe(32); anything else was not set by us
        token = secrets.token_urlsafe(32)
    anonymous = Visitor(None, None, who.locale)
    response = HTMLResponse(
        templates.get_template("sign_in.html").render(
            t=anonymous.labels, actor=None, csrf=token, title="sign in", message=text
        ),
        status_code=status,
        headers=HTML_HEADERS,
    )
    response.set_cookie(
        CSRF_COOKIE,
        token,
        max_age=CSRF_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    if forget:
        page_session.forget(response)
    return response


def signed_in(request: Request, sessions: Any, duty: str | None = READ_DUTY) -> Visitor | Response:
    """The visitor of a page that needs a signed-in actor (holding `duty`, when given); or
    the response to send instead: the sign-in form, or a refusal naming the duty."""
    who = visitor(request, sessions)
    if who.caller is None:
        return _sign_in(request, who, who.labels["sign_in_prompt"])
    if duty is not None and not who.caller.has(duty):
        return _sign_in(
            request,
            who,
            f"{who.caller.actor} may not read journals; that needs the duty {duty}. "
            "Sign in with another key.",
            403,
            forget=False,
        )
    return who


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
        # Not taken, and the session of whoever is signed in is left alone: a link from
        # another site must neither sign a victim in as the attacker nor sign them out.
        return _sign_in(
            request,
            visitor(request, sessions),
            "An API key in the address is never accepted (it would stay in the browser's "
            "history and the server's logs): enter it in the form below.",
            400,
            forget=False,
        )
    who = signed_in(request, sessions)
    if isinstance(who, Response):
        return who
    page = queries.Page(offset_of(request))
    with sessions() as session:
        journals = queries.journals_page(session, page)
    for journal in journals["rows"]:
        journal["journal_link"] = link("journals", journal["journal"])
        journal["order_link"] = link("orders", journal["order"]) if journal["order"] else None
    return render(request, who, "home.html", title="recent journals", journals=journals)


@router.post("/", response_class=HTMLResponse)
async def sign_in(request: Request, sessions: Sessions) -> Response:
    """The sign-in form's POST: the key, from this site's own form only."""
    who = Visitor(None, None, locale_of(request))
    refusal = _cross_site(request)
    if refusal is not None:
        return _sign_in(request, who, refusal, 403, forget=False)
    form = await read_form(request)
    if form is None:
        return _sign_in(request, who, "Sign in with the form below.", 400, forget=False)
    token, cookie = form.get("csrf", ""), request.cookies.get(CSRF_COOKIE, "")
    if not (token and cookie and secrets.compare_digest(token, cookie)):
        return _sign_in(
            request,
            who,
            "The sign-in form has expired or did not come from this site: sign in again.",
            403,
            forget=False,
        )
    with sessions() as session:
        started = page_session.start(session, form.get("key", "").strip())
    if started is None:
        return _sign_in(request, who, "That key is not known.")
    # 303: the next request is a plain GET of `/`.
    response = RedirectResponse("/", status_code=303, headers={"Referrer-Policy": "same-origin"})
    page_session.set_cookie(response, request, started)
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


async def read_form(request: Request) -> dict[str, str] | None:
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


@router.post("/logout")
async def logout(request: Request, sessions: Sessions) -> Response:
    """Sign-out: a POST with the session's CSRF token (another site cannot sign anyone out)."""
    who = visitor(request, sessions)
    form = await read_form(request) or {}
    if who.session is None or not page_session.csrf_matches(who.session, form.get("csrf", "")):
        return message(
            request, who, 403, who.labels["not_allowed"], "Sign out with the button on the page."
        )
    response = RedirectResponse("/", status_code=303)
    page_session.forget(response)
    return response
