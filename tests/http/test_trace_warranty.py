"""GET /trace/{serial}?on=DATE (S11, S15): the trace answers with `warranty_until` and
`warranty_valid` as `docpost trace --json` does; a bad `on` is refused in the error shape. In
process (the app over this test's database, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from docpost.pipeline import clock, queries
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.pipeline.entrypoints.http.auth import create_key
from tests.conftest import Runner
from tests.services.test_s15_warranty import shop, sold, with_warranty

__all__ = ["shop"]  # the fixture: USMF with 24 months on item 1000


@pytest.fixture
def client(shop: Runner) -> Iterator[TestClient]:
    """erp's key on the app; SN-1 shipped on 15 January 2026 and invoiced, then credited on
    1 June 2026; SN-2 shipped on 31 January 2026."""
    sold(shop, "SO-1", "SN-1", shipped="2026-01-15", invoiced="2026-01-20")
    sold(shop, "SO-2", "SN-2", shipped="2026-01-31")
    with shop.sessions() as session, session.begin():
        key = create_key(session, "erp")
    with TestClient(create_app(shop.sessions)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def test_s15_the_http_trace_says_until_when_and_whether_valid(
    shop: Runner, client: TestClient
) -> None:
    """S15: valid on the last day, not on the day after; the answer is the query's, exactly
    what `docpost trace --json` prints."""
    answer = client.get("/trace/SN-2", params={"on": "2028-01-31"})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["on"], found["warranty_until"], found["warranty_valid"]) == (
        "2028-01-31",
        "2028-01-31",
        True,
    )
    with shop.sessions() as session:
        assert found == queries.trace(session, "SN-2", None, dt.date(2028, 1, 31))
    after = client.get("/trace/SN-2", params={"on": "2028-02-01", "item": "1000"}).json()
    assert (after["warranty_until"], after["warranty_valid"]) == ("2028-01-31", False)
    assert after["sales"][0]["warranty_valid"] is False


def test_s15_s11_the_http_trace_of_a_credited_unit(shop: Runner, client: TestClient) -> None:
    invoice = client.get("/trace/SN-1").json()["sales"][0]["invoice"]
    shop.ok("post_credit_note", {"invoice": invoice, "document_date": "2026-06-01"})
    before = client.get("/trace/SN-1", params={"on": "2026-05-31"}).json()
    on_the_day = client.get("/trace/SN-1", params={"on": "2026-06-01"}).json()
    assert (before["warranty_valid"], on_the_day["warranty_valid"]) == (True, False)
    assert on_the_day["sales"][0]["credited"] is True
    assert on_the_day["warranty_until"] == "2028-01-15"


def test_s15_the_http_trace_without_on_judges_today(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `on`: today (the catalog has no company: the DOCPOST_COMPANY_TIME_ZONE's)."""
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2028, 1, 16, 12, tzinfo=dt.UTC))
    found = client.get("/trace/SN-1").json()
    assert (found["on"], found["warranty_until"], found["warranty_valid"]) == (
        "2028-01-16",
        "2028-01-15",
        False,
    )


def test_s15_an_item_without_warranty_answers_null_over_http(
    shop: Runner, client: TestClient
) -> None:
    """S15: null, not false, for an item without a period (the mouse M0001, its month taken
    away)."""
    with_warranty(shop, "M0001", None)
    shop.ok(
        "post_pos_sale",
        {"lines": [{"item": "M0001", "quantity": "1", "unit_price": "29.00", "serial": "MP-1"}]},
        actor="pos-1",
    )
    found = client.get("/trace/MP-1", params={"on": "2026-01-01"}).json()
    assert (found["warranty_until"], found["warranty_valid"]) == (None, None)
    assert found["sales"][0]["warranty_valid"] is None


@pytest.mark.parametrize("bad", ["2026-02-30", "31.01.2026", "20260131", "tomorrow"])
def test_s15_a_bad_on_is_refused_in_the_error_shape(client: TestClient, bad: str) -> None:
    answer = client.get("/trace/SN-1", params={"on": bad})
    assert answer.status_code == 422
    message = f"on {bad!r} is not a date; write it YYYY-MM-DD, e.g. 2026-01-31"
    assert answer.json() == {
        "error": {
            "code": "request.invalid",
            "rule": None,
            "message": f"invalid call: query.on: {message}",
            "details": {"problems": [{"field": "query.on", "message": message}]},
        }
    }


def test_s15_an_over_long_on_is_refused_by_its_bound(client: TestClient) -> None:
    answer = client.get("/trace/SN-1", params={"on": "2026-01-311"})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "request.invalid"
    assert "query.on" in answer.json()["error"]["message"]


def test_s15_a_serial_never_sold_is_still_404(client: TestClient) -> None:
    answer = client.get("/trace/NOPE", params={"on": "2026-01-01"})
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "serial 'NOPE' was never sold"
