"""One request_id, two bodies, posted at the same moment: every loser gets 409
`request.conflict` (CONTRACT.md: the same request_id with a different body is rejected),
never a 202 whose link then shows the winner's outcome (issue 13). Real threads against the
real service on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.http.conftest import Posted

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

POSTERS = 20
ROUNDS = 3


def _race(posted: Posted, request_id: str) -> list[tuple[str, httpx.Response]]:
    """POSTERS posts of request_id at once, alternating between two bodies."""
    bodies = {
        order: {"request_id": request_id, "kind": "confirm_order", "payload": {"order": order}}
        for order in ("SO-RACE-A", "SO-RACE-B")
    }
    orders = [("SO-RACE-A", "SO-RACE-B")[i % 2] for i in range(POSTERS)]
    clients = [posted.stack.client("erp") for _ in orders]
    start = threading.Barrier(POSTERS)

    def post(client: httpx.Client, order: str) -> tuple[str, httpx.Response]:
        client.get("/health")  # connected before the barrier: the posts leave together
        start.wait(timeout=30)
        return order, client.post("/requests", json=bodies[order])

    try:
        with ThreadPoolExecutor(POSTERS) as pool:
            return list(pool.map(post, clients, orders))
    finally:
        for client in clients:
            client.close()


def test_concurrent_posts_of_one_request_id_with_two_bodies_give_every_loser_409(
    posted: Posted,
) -> None:
    for _ in range(ROUNDS):
        request_id = f"http-race-{uuid.uuid4().hex[:8]}"
        answers = _race(posted, request_id)

        accepted = {order for order, response in answers if response.status_code == 202}
        assert len(accepted) == 1, [(o, r.status_code, r.text) for o, r in answers]
        for order, response in answers:
            body: Any = response.json()
            if order in accepted:
                assert response.status_code == 202, response.text
                assert body.get("error", {}).get("code") != "request.conflict", body
            else:
                assert response.status_code == 409, response.text
                assert body["error"]["code"] == "request.conflict"
                assert body["error"]["message"] == (
                    f"request_id {request_id!r} was already used for a different request; "
                    "use a new request_id for a new request"
                )
        # Negative control: the outcome behind the link is the winner's own request.
        with posted.stack.client("erp") as erp:
            outcome = erp.get(f"/requests/{request_id}").json()
        assert outcome["request_id"] == request_id
        assert outcome.get("error", {}).get("code") != "request.conflict", outcome
