"""Schemathesis against the service's own OpenAPI document: generated calls, valid and not,
to every operation; none may end in a server error, and answers must match the document.

A server of its own (a private PostgreSQL schema, the embedded broker with its worker in the
server process): generated requests that are valid get executed, and whatever they do to
the catalog stays away from the other tests. Examples are few, so this takes seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from docpost.pipeline.db import session_factory
from docpost.pipeline.duties import ALL_DUTIES
from docpost.pipeline.entrypoints.http.auth import create_key
from docpost.pipeline.runner.execute import execute
from tests.conftest import usmf_catalog
from tests.http.conftest import Server, private_schema, wait_outcome

pytestmark = [pytest.mark.postgres]

# More for a deeper run: DOCPOST_FUZZ_EXAMPLES=500 pytest tests/http/test_openapi_fuzz.py
EXAMPLES_PER_OPERATION = int(os.environ.get("DOCPOST_FUZZ_EXAMPLES", "30"))


@dataclass
class Fuzzed:
    server: Server
    key: str


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    with private_schema() as database_url:
        sessions = session_factory(database_url)
        catalog = usmf_catalog()
        catalog["actors"].append({"actor": "fuzz", "duties": list(ALL_DUTIES)})
        request = {"request_id": "c", "kind": "upsert_catalog", "actor": "fuzz", "payload": catalog}
        assert execute(request, sessions)["status"] == "succeeded"
        with sessions() as session, session.begin():
            key = create_key(session, "fuzz")
        sessions.kw["bind"].dispose()
        # An empty broker URL: the embedded broker, whatever the environment says.
        env = {"DOCPOST_DATABASE_URL": database_url, "DOCPOST_BROKER_URL": ""}
        server = Server(env, tmp_path_factory.mktemp("fuzz") / "server.log").start()
        try:
            yield Fuzzed(server, key)
        finally:
            server.stop()


def test_without_a_broker_the_server_runs_the_embedded_worker(fuzzed: Fuzzed) -> None:
    """`docpost serve` with no DOCPOST_BROKER_URL executes what it queues, in its process."""
    headers = {"Authorization": f"Bearer {fuzzed.key}"}
    with httpx.Client(base_url=fuzzed.server.base_url, headers=headers, timeout=45) as client:
        health = client.get("/health").json()
        accepted = client.post(
            "/requests",
            json={"request_id": "embedded-1", "kind": "confirm_order", "payload": {"order": "NO"}},
        )
        outcome = wait_outcome(client, accepted.json()["links"]["outcome"])
    assert health["status"] == "ok"
    assert health["broker"] == {"ok": True, "detail": "embedded (in this process)"}
    assert outcome["status"] == "rejected"
    assert outcome["error"]["code"] == "order.unknown"


def _operations() -> list[Any]:
    """The operations of the app's OpenAPI document, built in this process (the same
    document the server serves: test_health checks it is there)."""
    from sqlalchemy.orm import sessionmaker

    from docpost.pipeline.entrypoints.http import create_app

    document = create_app(sessionmaker()).openapi()
    loaded = schemathesis.openapi.from_dict(document)
    return [result.ok() for result in loaded.get_all_operations()]


def _cases() -> list[Any]:
    """Each operation with calls that fit the document, and with calls that break it where
    it has an input to break (GET /health has none)."""
    cases = []
    for operation in _operations():
        has_input = bool(operation.definition.raw.get("parameters")) or (
            "requestBody" in operation.definition.raw
        )
        for mode in GenerationMode:
            if mode is GenerationMode.POSITIVE or has_input:
                cases.append(pytest.param(operation, mode, id=f"{operation.label} {mode.value}"))
    return cases


@pytest.mark.parametrize(("operation", "mode"), _cases())
def test_generated_calls_get_no_server_error(
    fuzzed: Fuzzed, operation: Any, mode: GenerationMode
) -> None:
    """Calls that fit the document (positive) and calls that break it (negative)."""
    headers = {"Authorization": f"Bearer {fuzzed.key}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        # No shrinking: the failing call is reported as it was, which is enough here.
        phases=[Phase.explicit, Phase.generate],
        database=None,
    )
    def call(case: Any) -> None:
        case.call_and_validate(
            base_url=fuzzed.server.base_url,
            headers=headers,
            # The contract checks more than JSON Schema can say (decimal text, at most 6
            # decimals, line numbers that exist), so a call that fits the document may still
            # be refused, with 422: that is not a failure.
            excluded_checks=[positive_data_acceptance],
            timeout=30,
        )

    call()
