"""Who may call what, as one table: (call, caller) -> allowed, or the refusal (401 no or
unknown key, 403 duty or actor, 404 unknown, 422 bad parameters), like indico's access_test.
Every refusal is in the error shape and queues nothing; an allowed request is accepted, and
its outcome shows it passed the duty check too. Then the refusals of a body, whoever sends
it: 400 not JSON, 409 request_id reused, 422 contract."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from docpost.pipeline.contract import parse_request
from docpost.pipeline.errors import Rejection
from tests.http.conftest import Posted, Stack, post_and_wait, wait_outcome
from tests.http.test_pages import sign_in

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


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


# --- the table's columns: the call, the caller, the answer ----------------------------------------


@dataclass(frozen=True)
class Read:
    path: str

    def ask(self, client: httpx.Client, headers: dict[str, bytes]) -> httpx.Response:
        return client.get(self.path, headers=headers)

    def __str__(self) -> str:
        return f"GET {self.path}"


@dataclass(frozen=True)
class Send:
    """POST /requests with one request; `actor`, when given, is named in the body."""

    request_id: str
    kind: str = "confirm_order"
    payload: dict[str, Any] = field(default_factory=lambda: {"order": "SO-1001"})
    actor: str | None = None

    def ask(self, client: httpx.Client, headers: dict[str, bytes]) -> httpx.Response:
        body = a_request(self.request_id, kind=self.kind, payload=self.payload)
        if self.actor is not None:
            body["actor"] = self.actor
        return client.post("/requests", json=body, headers=headers)

    def __str__(self) -> str:
        return f"POST {self.kind}" + (f" naming {self.actor}" if self.actor else "")


@dataclass(frozen=True)
class Caller:
    """Who calls, and how: an actor's key as Bearer, a key nobody holds, an actor's key sent
    as Basic auth or in the raw-key `docpost_key` cookie reads once took, a browser signed in
    to the page (its session cookie), or nothing at all."""

    name: str
    actor: str | None = None
    authorization: str | None = None
    basic: str | None = None
    cookie: str | None = None
    page_session: str | None = None

    def client(self, stack: Stack) -> httpx.Client:
        if self.basic is not None:
            return stack.client(auth=(self.basic, stack.keys[self.basic]))
        if self.cookie is not None:
            return stack.client(cookies={"docpost_key": stack.keys[self.cookie]})
        if self.page_session is not None:
            with stack.client() as browser:
                sign_in(browser, stack.keys[self.page_session])
                # Signed in (so a refusal below is the API's): the page answers the session.
                assert browser.get("/").status_code == 200
                cookie = browser.cookies["docpost_session"]
            return stack.client(cookies={"docpost_session": cookie})
        return stack.client(self.actor)

    @property
    def headers(self) -> dict[str, bytes]:
        if self.authorization is None:
            return {}
        return {"Authorization": self.authorization.encode("utf-8")}

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Allowed:
    """200 for a read, 202 for a request; `then` is the code its outcome ends with (a rule
    checked after the duties, so nothing is posted), None for succeeded."""

    then: str | None = None

    def __str__(self) -> str:
        return "allowed"


@dataclass(frozen=True)
class Refused:
    status: int
    code: str
    message: str | None = None  # the whole message
    starts: str | None = None  # or how it starts
    rule: str | None = None
    details: dict[str, Any] | None = None
    problems: bool = False  # details list the problems (422 on a call's parameters)

    def __str__(self) -> str:
        duty = (self.details or {}).get("duty")
        return f"{self.status} {self.code}" + (f" {duty}" if duty else "")


ANONYMOUS = Caller("anonymous")
ERP = Caller("erp", actor="erp")
AUDITOR = Caller("auditor", actor="auditor")  # a loaded actor without any duty
UNKNOWN_KEYS = [
    Caller("an unknown key", authorization="Bearer dpk_not-a-key"),
    Caller("a 5000-character key", authorization="Bearer " + "x" * 5000),
    Caller("a non-ASCII key", authorization="Bearer \u00e9t\u00e9"),
]
# A 401 names the scheme to use (RFC 6750); an unknown key is an invalid token.
CHALLENGE = {"auth.missing": "Bearer", "auth.invalid": 'Bearer error="invalid_token"'}
MISSING = Refused(
    401, "auth.missing",
    "this call needs an API key: send `Authorization: Bearer <key>` (keys are made with "
    "`docpost actor-key ACTOR`)",
)  # fmt: skip
INVALID = Refused(401, "auth.invalid", "the API key is not known; make one with `docpost actor-key ACTOR`")  # fmt: skip
NOT_A_READER = Refused(
    403, "actor.missing_duty",
    "actor 'auditor' may not read orders, journals, documents or traces; that needs the duty "
    "post_sales_documents",
    rule="M5", details={"duty": "post_sales_documents"},
)  # fmt: skip
BAD_PARAMETERS = Refused(422, "request.invalid", starts="invalid call: ", problems=True)

READS = [
    "/orders/SO-1001",
    "/journals/PS-000001",
    "/journals/PS-000001/pdf",
    "/trace/SP-0001",
    "/documents",
    "/documents/1",
]


def needs(actor: str, kind: str, payload: dict[str, Any], duty: str) -> tuple[Send, Caller, Refused]:  # fmt: skip
    """A request of a kind the actor may not send (M5): refused before it is queued."""
    send = Send(f"http-403-{kind}-{duty}", kind, payload)
    return send, Caller(actor, actor=actor), Refused(
        403, "actor.missing_duty",
        f"request {send.request_id!r}: actor {actor!r} may not send {kind} requests; that "
        f"needs the duty {duty}",
        rule="M5", details={"duty": duty, "index": 0},
    )  # fmt: skip


def not_found(path: str, message: str) -> tuple[Read, Caller, Refused]:
    return Read(path), ERP, Refused(404, "not_found", message)


ACCESS: list[tuple[Read | Send, Caller, Allowed | Refused]] = [
    # Reads: a key, and the duty post_sales_documents.
    *((Read(path), ANONYMOUS, MISSING) for path in [*READS, "/requests/usmf-001"]),
    *((Read(path), AUDITOR, NOT_A_READER) for path in READS),
    *((Read(path), ERP, Allowed()) for path in [*READS, "/requests/usmf-001"]),
    # An outcome is read by its own actor or a reader; to anyone else it does not exist.
    (Read("/requests/usmf-001"), AUDITOR, Refused(404, "not_found", "request 'usmf-001' is not known")),
    # A key nobody holds, and ways of sending a key that are not Bearer.
    *((Read("/orders/SO-1001"), caller, INVALID) for caller in UNKNOWN_KEYS),
    *((Send("http-401"), caller, INVALID) for caller in UNKNOWN_KEYS),
    (Read("/orders/SO-1001"), Caller("erp by Basic auth", basic="erp"), MISSING),
    # The JSON API takes Bearer only: no key in a cookie (the raw-key cookie reads once took
    # is refused), nor the page's session cookie (it serves the page's own routes).
    (Read("/orders/SO-1001"), Caller("erp's key in a docpost_key cookie", cookie="erp"), MISSING),
    (Send("http-cookie-post"), Caller("erp's key in a docpost_key cookie", cookie="erp"), MISSING),
    (Read("/orders/SO-1001"), Caller("erp's page session", page_session="erp"), MISSING),
    (Read("/documents/1"), Caller("erp's page session", page_session="erp"), MISSING),
    (Send("http-anonymous"), ANONYMOUS, MISSING),
    # Each kind needs its duty (M5), checked before anything is queued.
    needs("auditor", "post_packing_slip", {"order": "SO-1001"}, "post_sales_documents"),
    needs("auditor", "bulk_invoice", {}, "post_sales_documents"),
    needs("warehouse-1", "change_serial",
          {"order": "SO-1002", "line": 1, "old": "MP-100", "new": "X"}, "correct_serial_numbers"),
    needs("auditor", "upsert_order", {"order": "SO-AUDIT", "customer": "US-004", "lines": []},
          "maintain_sales_orders"),
    needs("warehouse-1", "confirm_order", {"order": "SO-1001"}, "maintain_sales_orders"),
    needs("warehouse-1", "recognize_revenue", {"as_of": "2026-01-01"}, "recognize_revenue"),
    needs("warehouse-1", "upsert_catalog", {"customers": [{"customer": "US-004", "name": "X"}]},
          "maintain_master_data"),
    needs("warehouse-1", "upsert_catalog", {"actors": [{"actor": "warehouse-1"}]},
          "manage_actors"),
    # ... and an actor that holds it gets past: accepted, then ended by the rules of the
    # order it names (one that does not exist, so nothing is posted).
    (Send("http-allowed-slip", "post_packing_slip", {"order": "SO-NOPE"}),
     Caller("warehouse-1", actor="warehouse-1"), Allowed(then="order.unknown")),
    (Send("http-allowed-serial", "change_serial",
          {"order": "SO-NOPE", "line": 1, "old": "MP-100", "new": "X"}),
     Caller("supervisor", actor="supervisor"), Allowed(then="order.unknown")),
    (Send("http-allowed-confirm", "confirm_order", {"order": "SO-NOPE"}), ERP,
     Allowed(then="order.unknown")),
    # Who sends a request is the key's actor: a body naming another is refused.
    (Send("http-impostor", actor="erp"), Caller("pos-1", actor="pos-1"), Refused(
        403, "actor.mismatch",
        "request 'http-impostor' names actor 'erp', but the API key belongs to actor 'pos-1'; "
        "leave actor out, or send it with that actor's key",
    )),
    # What does not exist, asked by a reader.
    not_found("/orders/SO-NOPE", "order 'SO-NOPE' does not exist"),
    not_found("/orders/a%2Fb%00c", "order 'a/b\\x00c' does not exist"),
    not_found("/journals/PS-999999", "journal 'PS-999999' does not exist"),
    not_found("/journals/PS-999999/pdf", "journal 'PS-999999' does not exist"),
    not_found("/documents?journal=PS-999999", "journal 'PS-999999' does not exist"),
    not_found("/documents/999999", "document 999999 does not exist"),
    not_found("/trace/NO-SUCH-SERIAL", "serial 'NO-SUCH-SERIAL' was never sold"),
    not_found("/trace/SP-0001?item=M0001", "serial 'SP-0001' of item 'M0001' was never sold"),
    not_found("/requests/no-such-request", "request 'no-such-request' is not known"),
    not_found("/no/such/path", "Not Found"),
    # Parameters a reader gets wrong.
    *((Read(path), ERP, BAD_PARAMETERS) for path in [
        "/requests/usmf-001?wait=-1",
        "/requests/usmf-001?wait=soon",
        "/requests/usmf-001?wait=nan",
        "/documents/abc",
        "/documents/0",
        "/documents/99999999999",
        "/documents?limit=0",
    ]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "caller", "answer"), ACCESS, ids=[f"{c} as {w} -> {a}" for c, w, a in ACCESS]
)
def test_the_access_table(
    posted: Posted, call: Read | Send, caller: Caller, answer: Allowed | Refused
) -> None:
    with caller.client(posted.stack) as client:
        response = call.ask(client, caller.headers)
    if isinstance(answer, Allowed):
        _assert_allowed(posted.stack, call, response, answer)
    else:
        _assert_refused(posted.stack, call, response, answer)


def _assert_allowed(stack: Stack, call: Read | Send, response: httpx.Response, answer: Allowed) -> None:  # fmt: skip
    if isinstance(call, Read):
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 202, response.text
    with stack.client("erp") as erp:
        outcome = wait_outcome(erp, response.json()["links"]["outcome"])
    if answer.then is None:
        assert outcome["status"] == "succeeded", outcome
    else:
        assert (outcome["status"], outcome["error"]["code"]) == ("rejected", answer.then), outcome


def _assert_refused(stack: Stack, call: Read | Send, response: httpx.Response, answer: Refused) -> None:  # fmt: skip
    error = error_of(response, answer.status, answer.code)
    if answer.message is not None:
        assert error["message"] == answer.message
    if answer.starts is not None:
        assert error["message"].startswith(answer.starts), error
    if answer.rule is not None:
        assert error["rule"] == answer.rule
    if answer.details is not None:
        assert error["details"] == answer.details
    if answer.problems:
        assert error["details"]["problems"], error
    if answer.status == 401:
        assert response.headers["www-authenticate"] == CHALLENGE[answer.code]
    if isinstance(call, Send):
        with stack.client("erp") as erp:  # erp reads every outcome: nothing was queued
            error_of(erp.get(f"/requests/{call.request_id}"), 404, "not_found")


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


def test_the_api_description_says_where_a_key_goes() -> None:
    """The OpenAPI description tells what is true (issue 18): the key in the Authorization
    header only; the page's session cookie holds no key and is not this API's."""
    from docpost.pipeline.entrypoints.http.app import DESCRIPTION

    text = " ".join(DESCRIPTION.split())
    assert "never in a cookie" in text
    assert "signed HttpOnly session cookie that holds no key" in text
    assert "not by this API" in text
    assert "the key is kept in" not in text  # what it said while a cookie held the key
