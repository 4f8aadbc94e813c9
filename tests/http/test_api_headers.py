"""The HTTP API as its users expect (issue 18 item 2): readable operation ids; `Location` on a
202; documents inline when asked (`?inline=1`), attachments by default; proxy headers honoured
only from the proxies DOCPOST_FORWARDED_ALLOW_IPS names.

In process (the app over this test's database, SQLite and PostgreSQL), except the proxy
headers, which uvicorn itself applies: `docpost serve` in a subprocess, on SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

import docpost.reports.render
from docpost.pipeline.config import ConfigurationError, Settings, get_settings
from docpost.pipeline.documents import render_pending
from docpost.pipeline.entrypoints.cli.serve import proxy_options
from docpost.pipeline.entrypoints.http import (
    routes_documents,
    routes_ledger,
    routes_read,
    routes_requests,
)
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.pipeline.entrypoints.http.auth import create_key
from docpost.pipeline.entrypoints.http.schemas import OPERATION_ID
from tests.conftest import Runner
from tests.einvoice.conftest import shop
from tests.http.conftest import Server

__all__ = ["shop"]  # the fixture: the Norwegian example with e-invoices (E1)

FAKE_PDF = b"%PDF-1.7 not rendered by WeasyPrint in these tests\n"


# --- operation ids ---------------------------------------------------------------------------


def id_problems(ids: list[str]) -> list[str]:
    """What is wrong with a document's operation ids: repeats, and ids that are not plain
    snake_case words or that carry FastAPI's path and method junk (`__`, `_get`)."""
    problems = [f"{i} repeats" for i in sorted(set(ids)) if ids.count(i) > 1]
    for operation_id in ids:
        if not OPERATION_ID.match(operation_id):
            problems.append(f"{operation_id} is not snake_case")
        elif re.search(r"_(get|post|put|patch|delete|head)$", operation_id):
            problems.append(f"{operation_id} ends in its method")
    return problems


def served_ids() -> list[str]:
    document = create_app(sessionmaker()).openapi()
    return [op["operationId"] for ops in document["paths"].values() for op in ops.values()]


def test_operation_ids_are_unique_readable_snake_case() -> None:
    ids = served_ids()
    assert id_problems(ids) == []
    assert {
        "submit_requests",
        "get_request",
        "get_order",
        "get_journal",
        "get_trace",
        "get_documents",
        "get_document",
        "get_journal_pdf",
        "get_ledger",
        "list_revenue_schedules",
        "get_revenue_schedule",
    } <= set(ids)


def test_negative_control_fastapis_generated_ids_fail_the_check() -> None:
    """FastAPI's own ids (`get_journal_journals__number__get`) are refused by the check above,
    and repeats are found."""
    plain = FastAPI()  # FastAPI's default generate_unique_id_function
    for module in (routes_requests, routes_read, routes_documents, routes_ledger):
        plain.include_router(module.router)
    document = plain.openapi()
    generated = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert "get_journal_journals__number__get" in generated
    assert len(id_problems(generated)) == len(generated)
    assert id_problems(["get_order", "get_order"]) == ["get_order repeats"]


# --- the app over a database -----------------------------------------------------------------


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What POST /requests publishes to the broker (none runs here)."""
    sent: list[Any] = []
    monkeypatch.setattr("docpost.tasks.client.publish_request", sent.append)
    return sent


@pytest.fixture
def invoiced(shop: Runner, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """The Norwegian shop with an invoice (its PDF and e-invoice, E1), rendered."""
    monkeypatch.setattr(docpost.reports.render, "render_pdf", lambda view, locale: FAKE_PDF)
    shop.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [{"line": 1, "item": "KNIV-1", "quantity": "2", "unit_price": "249.00"}],
        },
    )
    shop.ok("confirm_order", {"order": "SO-1"})
    shop.ok("post_invoice", {"order": "SO-1"})
    render_pending(shop.sessions)
    return shop


def app_client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with sessions() as session, session.begin():
        key = create_key(session, "erp")
    with TestClient(create_app(sessions)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


@pytest.fixture
def client(invoiced: Runner) -> Iterator[TestClient]:
    yield from app_client(invoiced.sessions)


# --- Location on 202 -------------------------------------------------------------------------


def confirm(request_id: str, order: str = "SO-NOPE") -> dict[str, Any]:
    return {"request_id": request_id, "kind": "confirm_order", "payload": {"order": order}}


@pytest.mark.parametrize("request_id", ["h-location-1", "erp/7f3a?x=1 #2"])
def test_a_202_says_where_the_outcome_is_in_location(
    client: TestClient, published: list[Any], request_id: str
) -> None:
    """RFC 9110: the status URL of the accepted request, absolute, its id quoted as in
    `links.outcome`; following it gives the outcome."""
    accepted = client.post("/requests", json=confirm(request_id))
    assert accepted.status_code == 202, accepted.text
    link = "/requests/" + quote(request_id, safe="")
    assert accepted.json()["links"] == {"outcome": link}
    assert accepted.headers["location"] == f"http://testserver{link}"
    followed = client.get(accepted.headers["location"])
    assert followed.status_code == 200
    assert followed.json() == {"request_id": request_id, "status": "queued"}
    assert len(published) == 1


def test_a_repeat_is_202_with_the_same_location(client: TestClient, published: list[Any]) -> None:
    """Idempotency: the request seen before answers its stored state, at the same place."""
    first = client.post("/requests", json=confirm("h-again"))
    again = client.post("/requests", json=confirm("h-again"))
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["location"].endswith("/requests/h-again")


def test_an_array_has_no_single_location(client: TestClient, published: list[Any]) -> None:
    """An array is several requests: each says its outcome in `links.outcome`, and there is
    no one status URL to put in Location."""
    accepted = client.post("/requests", json=[confirm("h-array-1"), confirm("h-array-2")])
    assert accepted.status_code == 202, accepted.text
    assert "location" not in accepted.headers
    assert [a["links"]["outcome"] for a in accepted.json()] == [
        "/requests/h-array-1",
        "/requests/h-array-2",
    ]


def test_a_refused_request_has_no_location(client: TestClient, published: list[Any]) -> None:
    refused = client.post("/requests", json={"request_id": "h-bad", "kind": "confirm_order"})
    assert refused.status_code == 422
    assert "location" not in refused.headers
    assert published == []


# --- inline or attachment --------------------------------------------------------------------


def disposition(client: TestClient, path: str, **params: str) -> tuple[str, httpx.Response]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.headers["content-disposition"], response


def test_a_pdf_is_an_attachment_by_default_and_inline_when_asked(client: TestClient) -> None:
    """Default: saved (attachment); `?inline=1` (or true): opened in the browser. The bytes and
    the ETag are the same either way."""
    (pdf,) = [
        d
        for d in client.get("/documents", params={"journal": "INV-000001"}).json()["documents"]
        if d["format"] == "pdf"
    ]
    name = pdf["filename"]
    saved, whole = disposition(client, f"/documents/{pdf['id']}")
    assert saved == f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    for flag in ("1", "true"):
        shown, opened = disposition(client, f"/documents/{pdf['id']}", inline=flag)
        assert shown == f"inline; filename=\"{name}\"; filename*=UTF-8''{name}"
        assert opened.content == whole.content == FAKE_PDF
        assert opened.headers["etag"] == whole.headers["etag"]
        assert opened.headers["content-type"] == "application/pdf"
    explicit, _ = disposition(client, f"/documents/{pdf['id']}", inline="0")
    assert explicit.startswith("attachment;")


def test_a_journals_pdf_and_einvoice_open_inline_when_asked(client: TestClient) -> None:
    pdf, _ = disposition(client, "/journals/INV-000001/pdf", inline="1")
    xml, answer = disposition(client, "/journals/INV-000001/xml", inline="1")
    assert pdf.startswith('inline; filename="INV-000001.pdf"')
    assert xml.startswith('inline; filename="INV-000001.xml"')
    assert answer.headers["content-type"].startswith("application/xml")
    attached, _ = disposition(client, "/journals/INV-000001/xml")
    assert attached.startswith('attachment; filename="INV-000001.xml"')


def test_inline_that_is_not_true_or_false_is_refused(client: TestClient) -> None:
    answer = client.get("/journals/INV-000001/pdf", params={"inline": "maybe"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "request.invalid"
    assert error["details"]["problems"][0]["field"] == "query.inline"


def test_the_document_says_attachment_or_inline(client: TestClient) -> None:
    document = client.app.openapi()  # type: ignore[attr-defined]
    operation = document["paths"]["/documents/{document_id}"]["get"]
    names = [p["name"] for p in operation["parameters"]]
    assert "inline" in names
    headers = operation["responses"]["200"]["headers"]
    assert "Content-Disposition" in headers
    accepted = document["paths"]["/requests"]["post"]["responses"]["202"]
    assert "Location" in accepted["headers"]


# --- proxy headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", {"proxy_headers": False}),
        ("127.0.0.1", {"proxy_headers": True, "forwarded_allow_ips": "127.0.0.1"}),
        (" 10.0.0.0/8 , ::1", {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.0/8,::1"}),
        ("*", {"proxy_headers": True, "forwarded_allow_ips": "*"}),
    ],
)
def test_the_setting_gives_uvicorns_proxy_options(value: str, expected: dict[str, Any]) -> None:
    """Unset: proxy headers off altogether (not uvicorn's default of trusting 127.0.0.1)."""
    assert proxy_options(Settings(forwarded_allow_ips=value).forwarded_allow_ips) == expected


def test_a_proxy_address_that_is_not_one_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCPOST_FORWARDED_ALLOW_IPS", "127.0.0.1,proxy.example")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError) as refused:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert str(refused.value) == (
        "DOCPOST_FORWARDED_ALLOW_IPS: 'proxy.example' is not an IP address or network; write "
        "the proxies' addresses comma separated (e.g. 127.0.0.1,10.0.0.0/8), or * for any"
    )


def served(sessions: sessionmaker[Session], log: Path, allow: str | None) -> Server:
    url = str(sessions.kw["bind"].url)
    env = {"DOCPOST_DATABASE_URL": url, "DOCPOST_BROKER_URL": ""}
    if allow is not None:
        env["DOCPOST_FORWARDED_ALLOW_IPS"] = allow
    return Server(env, log).start()


PROXIED = {"Host": "docpost.example.com", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}  # fmt: skip


@pytest.mark.parametrize(
    ("allow", "location"),
    [
        # The proxy (here: this test, on 127.0.0.1) is trusted: its scheme is the call's.
        ("127.0.0.1", "https://docpost.example.com/requests/h-proxy"),
        ("127.0.0.0/8,10.0.0.0/8", "https://docpost.example.com/requests/h-proxy"),
        # Not named, or no setting: any client could send the header; it is ignored.
        ("10.0.0.0/8", "http://docpost.example.com/requests/h-proxy"),
        (None, "http://docpost.example.com/requests/h-proxy"),
    ],
)
def test_location_follows_the_public_scheme_only_behind_a_trusted_proxy(
    usmf_sqlite: sessionmaker[Session], tmp_path: Path, allow: str | None, location: str
) -> None:
    """`docpost serve` behind a reverse proxy that passes the public Host and says
    X-Forwarded-Proto: https. The Location of a 202 is on the public address when the proxy
    is among DOCPOST_FORWARDED_ALLOW_IPS, and on the scheme the server saw otherwise."""
    with usmf_sqlite() as session, session.begin():
        key = create_key(session, "erp")
    server = served(usmf_sqlite, tmp_path / "server.log", allow)
    try:
        headers = {"Authorization": f"Bearer {key}", **PROXIED}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
            accepted = client.post("/requests", json=confirm("h-proxy"))
    finally:
        server.stop()
    assert accepted.status_code == 202, accepted.text + server.text()[-2000:]
    assert accepted.headers["location"] == location
    # The body's links stay relative: they resolve against whatever address was used.
    assert accepted.json()["links"] == {"outcome": "/requests/h-proxy"}
