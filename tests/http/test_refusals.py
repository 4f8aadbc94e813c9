"""Every refusal: 400 not JSON, 401 no or unknown key, 403 duty or actor, 404 unknown,
409 request_id reused, 422 contract. Each in the error shape, and nothing queued."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from docpost.pipeline.contract import parse_request
from docpost.pipeline.errors import Rejection
from tests.http.conftest import Posted, post_and_wait

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

READS = [
    "/orders/SO-1001",
    "/journals/PS-000001",
    "/journals/PS-000001/pdf",
    "/trace/SP-0001",
    "/documents",
    "/documents/1",
]


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert set(error) == {"code", "rule", "message", "details"}
    return error


def a_request(request_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "kind": "confirm_order",
        "payload": {"order": "SO-1001"},
        **overrides,
    }


# --- 401 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*READS, "/requests/usmf-001"])
def test_reads_without_a_key_are_401(posted: Posted, path: str) -> None:
    with posted.stack.client() as anonymous:
        response = anonymous.get(path)
    error = error_of(response, 401, "auth.missing")
    assert "Authorization: Bearer" in error["message"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer dpk_not-a-key", "Bearer " + "x" * 5000, "Bearer \u00e9t\u00e9"],
)
def test_an_unknown_key_is_401(posted: Posted, authorization: str) -> None:
    with posted.stack.client() as client:
        response = client.get(
            "/orders/SO-1001", headers={"Authorization": authorization.encode("utf-8")}
        )
        posted = client.post(
            "/requests",
            json=a_request("http-401"),
            headers={"Authorization": authorization.encode("utf-8")},
        )
    error_of(response, 401, "auth.invalid")
    error_of(posted, 401, "auth.invalid")


def test_basic_auth_is_not_a_key(posted: Posted) -> None:
    with posted.stack.client() as client:
        response = client.get("/orders/SO-1001", auth=("erp", posted.stack.keys["erp"]))
    error_of(response, 401, "auth.missing")


def test_the_browser_cookie_cannot_post(posted: Posted) -> None:
    """The cookie works for reads only: a page elsewhere cannot make a browser post."""
    cookies = {"docpost_key": posted.stack.keys["erp"]}
    with posted.stack.client(cookies=cookies) as browser:
        read = browser.get("/orders/SO-1001")
        posted = browser.post("/requests", json=a_request("http-cookie-post"))
        outcome = browser.get("/requests/http-cookie-post")
    assert read.status_code == 200
    error_of(posted, 401, "auth.missing")
    error_of(outcome, 404, "not_found")


# --- 403 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", READS)
def test_reads_need_post_sales_documents(posted: Posted, path: str) -> None:
    with posted.stack.client("auditor") as auditor:
        response = auditor.get(path)
    error = error_of(response, 403, "actor.missing_duty")
    assert error["rule"] == "M5"
    assert error["details"] == {"duty": "post_sales_documents"}


@pytest.mark.parametrize(
    ("actor", "kind", "payload", "duty"),
    [
        ("auditor", "post_packing_slip", {"order": "SO-1001"}, "post_sales_documents"),
        ("auditor", "bulk_invoice", {}, "post_sales_documents"),
        ("warehouse-1", "change_serial",
         {"order": "SO-1002", "line": 1, "old": "MP-100", "new": "X"}, "correct_serial_numbers"),
        ("auditor", "upsert_order", {"order": "SO-AUDIT", "customer": "US-004", "lines": []},
         "maintain_sales_orders"),
        ("warehouse-1", "confirm_order", {"order": "SO-1001"}, "maintain_sales_orders"),
        ("warehouse-1", "recognize_revenue", {"as_of": "2026-01-01"}, "recognize_revenue"),
        ("warehouse-1", "upsert_catalog", {"customers": [{"customer": "US-004", "name": "X"}]},
         "maintain_master_data"),
        ("warehouse-1", "upsert_catalog", {"actors": [{"actor": "warehouse-1"}]},
         "manage_actors"),
    ],
)  # fmt: skip
def test_posting_kinds_need_their_duty(
    posted: Posted, actor: str, kind: str, payload: dict[str, Any], duty: str
) -> None:
    request_id = f"http-403-{kind}-{duty}"
    body = {"request_id": request_id, "kind": kind, "payload": payload}
    with posted.stack.client(actor) as client:
        response = client.post("/requests", json=body)
        outcome = client.get(f"/requests/{request_id}")
    error = error_of(response, 403, "actor.missing_duty")
    assert error["message"] == (
        f"request {request_id!r}: actor {actor!r} may not send {kind} requests; "
        f"that needs the duty {duty}"
    )
    error_of(outcome, 404, "not_found")  # nothing was queued


def test_a_body_naming_another_actor_is_refused(posted: Posted) -> None:
    with posted.stack.client("pos-1") as pos:
        response = pos.post("/requests", json=a_request("http-impostor", actor="erp"))
    error = error_of(response, 403, "actor.mismatch")
    assert error["message"] == (
        "request 'http-impostor' names actor 'erp', but the API key belongs to actor 'pos-1'; "
        "leave actor out, or send it with that actor's key"
    )


def test_an_actor_without_the_read_duty_reads_its_own_outcome_only(posted: Posted) -> None:
    """An order clerk (maintain_sales_orders, M5, but not post_sales_documents) enters an
    order and sees its own outcome, but not another actor's."""
    clerk = {"actor": "order-clerk", "duties": ["maintain_sales_orders"]}
    with posted.stack.client("erp") as erp:
        loaded = post_and_wait(
            erp,
            {"request_id": "http-clerk", "kind": "upsert_catalog", "payload": {"actors": [clerk]}},
        )
    assert loaded["status"] == "succeeded", loaded
    posted.stack.keys["order-clerk"] = posted.stack.new_key("order-clerk")
    body = {
        "request_id": "http-clerk-order",
        "kind": "upsert_order",
        "payload": {"order": "SO-CLERK", "customer": "US-004", "lines": []},
    }
    with posted.stack.client("order-clerk") as client:
        accepted = client.post("/requests", json=body)
        own = client.get("/requests/http-clerk-order", params={"wait": 20})
        others = client.get("/requests/usmf-001")
    assert accepted.status_code == 202, accepted.text
    assert own.status_code == 200
    assert own.json()["status"] == "succeeded", own.json()
    error_of(others, 404, "not_found")


# --- 404 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/orders/SO-NOPE", "order 'SO-NOPE' does not exist"),
        ("/orders/a%2Fb%00c", "order 'a/b\\x00c' does not exist"),
        ("/journals/PS-999999", "journal 'PS-999999' does not exist"),
        ("/journals/PS-999999/pdf", "journal 'PS-999999' does not exist"),
        ("/documents?journal=PS-999999", "journal 'PS-999999' does not exist"),
        ("/documents/999999", "document 999999 does not exist"),
        ("/trace/NO-SUCH-SERIAL", "serial 'NO-SUCH-SERIAL' was never sold"),
        ("/trace/SP-0001?item=M0001", "serial 'SP-0001' of item 'M0001' was never sold"),
        ("/requests/no-such-request", "request 'no-such-request' is not known"),
        ("/no/such/path", "Not Found"),
    ],
)
def test_unknown_things_are_404(posted: Posted, path: str, message: str) -> None:
    with posted.stack.client("erp") as erp:
        response = erp.get(path)
    assert error_of(response, 404, "not_found")["message"] == message


# --- 409 and 400 -----------------------------------------------------------------------------


def test_a_request_id_reused_for_another_body_is_409(posted: Posted) -> None:
    changed = a_request("usmf-002", payload={"order": "SO-1002"})
    with posted.stack.client("erp") as erp:
        response = erp.post("/requests", json=changed)
        twice = erp.post(
            "/requests", json=[a_request("http-twice"), changed | {"request_id": "http-twice"}]
        )
        first = erp.get("/requests/http-twice")
    error = error_of(response, 409, "request.conflict")
    assert "'usmf-002' was already used for a different request" in error["message"]
    error_of(twice, 409, "request.conflict")
    error_of(first, 404, "not_found")


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b""])
def test_a_body_that_is_not_json_is_400(posted: Posted, body: bytes) -> None:
    with posted.stack.client("erp") as erp:
        response = erp.post("/requests", content=body)
    assert error_of(response, 400, "request.not_json")["message"].startswith("the body is not JSON")


# --- 422 -------------------------------------------------------------------------------------

CONTRACT_BREAKING = [
    a_request("http-422-a", kind="post_packing_slip",
              payload={"order": "SO-1001", "lines": [{"line": 1, "quantity": "-1"}]}),
    a_request("http-422-b", kind="ship_it"),
    {"kind": "confirm_order", "payload": {"order": "SO-1001"}},
    a_request("http-422-c", payload={"order": "SO-1001", "colour": "red"}),
    a_request("http-422-d", kind="upsert_order",
              payload={"order": "SO-1", "customer": "US-004",
                       "lines": [{"line": 1, "item": "A", "quantity": "1.1234567",
                                  "unit_price": "abc"}]}),
    a_request("http-422-e", payload={"order": "SO-\u0000"}),
    a_request("", payload={"order": "SO-1001"}),
]  # fmt: skip


@pytest.mark.parametrize("body", CONTRACT_BREAKING)
def test_a_body_breaking_the_contract_is_422_with_its_message(
    posted: Posted, body: dict[str, Any]
) -> None:
    with posted.stack.client("erp") as erp:
        response = erp.post("/requests", json=body)
    try:
        parse_request({**body, "actor": "erp"})
    except Rejection as rejection:
        expected = rejection.as_error()
    error = error_of(response, 422, expected["code"])
    assert error["message"] == expected["message"]
    assert error["details"] == {"index": 0, **expected["details"]}


def test_the_contract_messages_are_specific(posted: Posted) -> None:
    with posted.stack.client("erp") as erp:
        quantity = erp.post("/requests", json=CONTRACT_BREAKING[0]).json()["error"]
        kind = erp.post("/requests", json=CONTRACT_BREAKING[1]).json()["error"]
    assert quantity["message"] == (
        "invalid post_packing_slip request: payload.lines[0].quantity: must be greater than 0"
    )
    assert quantity["details"]["problems"] == [
        {"field": "payload.lines[0].quantity", "message": "must be greater than 0"}
    ]
    assert kind["code"] == "request.unknown_kind"
    assert kind["message"].startswith("unknown request kind 'ship_it'; expected one of: ")


def test_one_bad_request_in_an_array_refuses_the_whole_array(posted: Posted) -> None:
    good = a_request("http-array-good")
    with posted.stack.client("erp") as erp:
        response = erp.post("/requests", json=[good, CONTRACT_BREAKING[0]])
        never_queued = erp.get("/requests/http-array-good")
    error = error_of(response, 422, "request.invalid")
    assert error["details"]["index"] == 1
    error_of(never_queued, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "the array holds no requests"),
        (["{}"], "request #0: a request is one JSON object, got a string"),
        ([a_request("http-x"), 5], "request #1: a request is one JSON object, got a number"),
        (None, "request #0: a request is one JSON object, got null"),
    ],
)
def test_what_is_not_a_request_is_422(posted: Posted, body: Any, message: str) -> None:
    with posted.stack.client("erp") as erp:
        response = erp.post("/requests", content=json.dumps(body))
    assert error_of(response, 422, "request.invalid")["message"] == message


@pytest.mark.parametrize(
    "path",
    [
        "/requests/usmf-001?wait=-1",
        "/requests/usmf-001?wait=soon",
        "/requests/usmf-001?wait=nan",
        "/documents/abc",
        "/documents/0",
        "/documents/99999999999",
        "/documents?limit=0",
    ],
)
def test_bad_parameters_are_422(posted: Posted, path: str) -> None:
    with posted.stack.client("erp") as erp:
        response = erp.get(path)
    error = error_of(response, 422, "request.invalid")
    assert error["message"].startswith("invalid call: ")
    assert error["details"]["problems"]
