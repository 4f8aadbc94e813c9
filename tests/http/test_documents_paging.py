"""`GET /documents` a page at a time (issue 18 item 1: it read every row before): keyset paging
by id, `?after=<id>&limit=` (default 100, at most 1000), a `next` address in the body and a
`Link: <...>; rel="next"` header, and the database asked for one page plus one row, never all.

In process over this test's database (SQLite and PostgreSQL): the USMF example run through the
services; its documents stay pending (listing them needs no PDF).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.documents import list_documents
from docpost.pipeline.entrypoints.http import routes_documents
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.pipeline.entrypoints.http.auth import create_key
from tests.conftest import Runner
from tests.services.test_usmf_example import run_all


@dataclass
class Listing:
    client: TestClient
    sessions: sessionmaker[Session]
    ids: list[int]  # every document's id, as list_documents reads them all


@pytest.fixture
def listing(usmf: Runner) -> Iterator[Listing]:
    outcomes = run_all(usmf)
    assert {o["status"] for o in outcomes.values()} == {"succeeded"}, outcomes
    with usmf.sessions() as session, session.begin():
        key = create_key(session, "erp")
    with usmf.sessions() as session:
        ids = [d["id"] for d in list_documents(session)]
    assert len(ids) > 10, ids  # enough to page through in several steps
    with TestClient(create_app(usmf.sessions)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield Listing(client, usmf.sessions, ids)


def walk(client: TestClient, first: str) -> list[dict[str, Any]]:
    """Every page from `first` on, following `next` to the end; each page's Link header is
    checked against its `next`."""
    pages, address = [], first
    while address is not None:
        response = client.get(address)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body)
        address = body["next"]
        if address is None:
            assert "link" not in response.headers
        else:
            assert response.headers["link"] == f'<http://testserver{address}>; rel="next"'
        assert len(pages) <= 1000, "the pages never end"
    return pages


def test_pages_chain_to_the_end_with_no_duplicate_and_no_gap(listing: Listing) -> None:
    total = len(listing.ids)
    for limit in sorted({1, 2, 3, 7, total - 1, total, total + 1, 1000}):
        pages = walk(listing.client, f"/documents?limit={limit}")
        seen = [d["id"] for page in pages for d in page["documents"]]
        assert seen == listing.ids, limit  # ascending, each once, none left out
        assert all(len(page["documents"]) == limit for page in pages[:-1]), limit
        assert 1 <= len(pages[-1]["documents"]) <= limit, limit
        assert len(pages) == -(-total // limit), limit  # no empty page at the end


def test_next_names_the_last_id_shown_and_the_limit(listing: Listing) -> None:
    body = listing.client.get("/documents", params={"limit": 3}).json()
    assert [d["id"] for d in body["documents"]] == listing.ids[:3]
    assert body["next"] == f"/documents?after={listing.ids[2]}&limit=3"
    after = listing.client.get("/documents", params={"after": listing.ids[2], "limit": 3}).json()
    assert [d["id"] for d in after["documents"]] == listing.ids[3:6]


def test_the_journal_filter_is_kept_in_next(listing: Listing) -> None:
    """PS-000003 was reprinted after the serial correction (S9): two documents, one a page."""
    pages = walk(listing.client, "/documents?journal=PS-000003&limit=1")
    assert [(d["journal"], d["revision"]) for p in pages for d in p["documents"]] == [
        ("PS-000003", 1),
        ("PS-000003", 2),
    ]
    assert pages[0]["next"].startswith("/documents?journal=PS-000003&after=")


def test_a_document_stored_between_pages_is_neither_lost_nor_repeated(listing: Listing) -> None:
    """Keyset paging: pages start after an id, not at an offset, so rows stored meanwhile
    (ids only grow) cannot shift a page; the new one is on the last page."""
    first = listing.client.get("/documents", params={"limit": 5}).json()
    Runner(listing.sessions).ok(
        "upsert_order",
        {
            "order": "SO-PAGING",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "M0001", "quantity": "1", "unit_price": "10"}],
        },
    )
    Runner(listing.sessions).ok("confirm_order", {"order": "SO-PAGING"})
    rest = walk(listing.client, first["next"])
    seen = [d["id"] for d in first["documents"]] + [d["id"] for p in rest for d in p["documents"]]
    with listing.sessions() as session:
        now = [d["id"] for d in list_documents(session)]
    assert len(now) > len(listing.ids)  # negative control: something was stored
    assert seen == now


def test_without_after_a_small_database_answers_as_before(listing: Listing) -> None:
    """Today's clients (`GET /documents`, no parameters): every document of a database of
    fewer than 100, in the same `documents` list; `next` is null and no Link is sent."""
    response = listing.client.get("/documents")
    assert response.status_code == 200
    body = response.json()
    assert [d["id"] for d in body["documents"]] == listing.ids
    assert body["next"] is None
    assert "link" not in response.headers


def test_after_the_last_id_the_page_is_empty(listing: Listing) -> None:
    body = listing.client.get("/documents", params={"after": listing.ids[-1]}).json()
    assert body == {"documents": [], "next": None}
    # A journal that exists but has nothing after `after` is an empty page, not a 404 ...
    page = listing.client.get(
        "/documents", params={"journal": "PS-000003", "after": listing.ids[-1]}
    )
    assert page.status_code == 200 and page.json()["documents"] == []
    # ... one that does not exist still is.
    missing = listing.client.get("/documents", params={"journal": "PS-999999", "after": 5})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "journal 'PS-999999' does not exist"


BOUNDS = [
    ("limit=0", "query.limit: Input should be greater than or equal to 1"),
    ("limit=1001", "query.limit: Input should be less than or equal to 1000"),
    ("limit=-5", "query.limit: Input should be greater than or equal to 1"),
    ("limit=ten", "query.limit: Input should be a valid integer, unable to parse string as an "
     "integer"),
    ("after=-1", "query.after: Input should be greater than or equal to 0"),
    ("after=2147483648", "query.after: Input should be less than or equal to 2147483647"),
    ("after=first", "query.after: Input should be a valid integer, unable to parse string as an "
     "integer"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "message"), BOUNDS, ids=[q for q, _ in BOUNDS])
def test_limit_and_after_out_of_bounds_are_refused(
    listing: Listing, query: str, message: str
) -> None:
    response = listing.client.get(f"/documents?{query}")
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("request.invalid", f"invalid call: {message}")


def test_the_bounds_themselves_are_accepted(listing: Listing) -> None:
    """Negative control of the refusals above."""
    for query in ("limit=1", "limit=1000", "after=0", "after=2147483647"):
        assert listing.client.get(f"/documents?{query}").status_code == 200, query


def test_the_database_is_asked_for_at_most_limit_plus_one_rows(
    listing: Listing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows come back from SQL already cut to limit + 1 (the extra one tells whether there
    is a next page): the statement carries the LIMIT, and no more rows than that arrive."""
    statements: list[tuple[str, Any]] = []
    fetched: list[int] = []
    engine = listing.sessions.kw["bind"]

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if "FROM documents" in statement:
            statements.append((statement, parameters))

    def counting(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        rows = list_documents(*args, **kwargs)
        fetched.append(len(rows))
        return rows

    monkeypatch.setattr(routes_documents, "list_documents", counting)
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = listing.client.get("/documents", params={"limit": 2, "after": listing.ids[0]})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    assert [d["id"] for d in response.json()["documents"]] == listing.ids[1:3]
    assert fetched == [3]  # of more than 10 stored
    ((statement, parameters),) = statements
    assert "LIMIT" in statement.upper()
    values = parameters.values() if isinstance(parameters, dict) else parameters
    assert 3 in values and listing.ids[0] in values
