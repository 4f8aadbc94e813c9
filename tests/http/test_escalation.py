"""Issue 13, item 1 (M5 as extended), over real HTTP: a key cannot raise its own actor's duties,
create actors, strip the system actor, rewrite a customer, or enter and confirm orders."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from docpost.pipeline.db import session_factory
from docpost.pipeline.duties import ALL_DUTIES
from docpost.schema import Actor, Customer, SalesOrder
from tests.http.conftest import Posted, Stack, post_and_wait

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


def state(stack: Stack) -> dict[str, Any]:
    sessions = session_factory(stack.database_url)
    try:
        with sessions() as session:
            return {
                "actors": {a.actor: sorted(a.duty_names) for a in session.scalars(select(Actor))},
                "customers": sorted(
                    (c.customer, c.name, c.address) for c in session.scalars(select(Customer))
                ),
                "orders": sorted(
                    (o.order_no, o.confirmed_at is not None, len(o.lines))
                    for o in session.scalars(select(SalesOrder))
                ),
            }
    finally:
        sessions.kw["bind"].dispose()


def add_actor(posted: Posted, actor: str, duties: list[str]) -> None:
    with posted.stack.client("erp") as erp:
        body = {
            "request_id": f"http-add-{actor}",
            "kind": "upsert_catalog",
            "payload": {"actors": [{"actor": actor, "duties": duties}]},
        }
        assert post_and_wait(erp, body)["status"] == "succeeded"
    posted.stack.keys[actor] = posted.stack.new_key(actor)


ATTACKS: list[tuple[str, dict[str, Any], str]] = [
    ("upsert_catalog", {"actors": [{"actor": "intruder", "duties": list(ALL_DUTIES)}]},
     "manage_actors"),
    ("upsert_catalog", {"actors": [{"actor": "sock-puppet", "duties": ["manage_actors"]}]},
     "manage_actors"),
    ("upsert_catalog", {"actors": [{"actor": "erp", "duties": []}]}, "manage_actors"),
    ("upsert_catalog",
     {"customers": [{"customer": "US-004", "name": "Cave", "address": "Attacker Road 1"}]},
     "maintain_master_data"),
    ("upsert_order", {"order": "SO-EVIL", "customer": "US-004", "lines": [
        {"line": 1, "item": "S0021", "quantity": "1", "unit_price": "0.01"}]},
     "maintain_sales_orders"),
    ("confirm_order", {"order": "SO-1001"}, "maintain_sales_orders"),
]  # fmt: skip


def test_m5_a_key_without_duties_escalates_nothing(posted: Posted) -> None:
    """The attack of issue 13: every attempt is refused with 403 before it is queued, names
    the duty it lacks, and the database is as it was."""
    add_actor(posted, "intruder", [])
    before = state(posted.stack)
    with posted.stack.client("intruder") as intruder:
        for index, (kind, payload, duty) in enumerate(ATTACKS):
            request_id = f"http-escalate-{index}"
            body = {"request_id": request_id, "kind": kind, "payload": payload}
            response = intruder.post("/requests", json=body)
            error = error_of(response, 403, "actor.missing_duty")
            assert error["details"]["duty"] == duty, error
            assert error["message"] == (
                f"request {request_id!r}: actor 'intruder' may not send {kind} requests; "
                f"that needs the duty {duty}"
            )
            error_of(intruder.get(f"/requests/{request_id}"), 404, "not_found")  # not queued
    assert state(posted.stack) == before
    assert before["actors"]["intruder"] == []


def test_m5_an_actor_manager_grants_only_duties_it_holds(posted: Posted) -> None:
    """manage_actors gets a catalog of actors past the service's check; the pipeline then
    refuses a grant of a duty the manager lacks, and a strip of the system actor, changing
    nothing. Granting a duty it holds works (the negative control)."""
    add_actor(posted, "hr", ["manage_actors"])
    before = state(posted.stack)
    refused = [
        ({"actors": [{"actor": "hr", "duties": list(ALL_DUTIES)}]}, "actor.grant_not_held"),
        ({"actors": [{"actor": "erp", "duties": ["manage_actors"]}]}, "actor.revoke_not_held"),
    ]
    with posted.stack.client("hr") as hr:
        for index, (payload, code) in enumerate(refused):
            body = {"request_id": f"http-hr-{index}", "kind": "upsert_catalog", "payload": payload}
            outcome = post_and_wait(hr, body)
            assert outcome["status"] == "rejected", outcome
            assert (outcome["error"]["code"], outcome["error"]["rule"]) == (code, "M5")
            assert "actor 'hr' may not " in outcome["error"]["message"]
        assert state(posted.stack) == before
        body = {
            "request_id": "http-hr-ok",
            "kind": "upsert_catalog",
            "payload": {"actors": [{"actor": "hr-deputy", "duties": ["manage_actors"]}]},
        }
        assert post_and_wait(hr, body)["status"] == "succeeded"
    assert state(posted.stack)["actors"]["hr-deputy"] == ["manage_actors"]
