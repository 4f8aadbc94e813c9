"""GET /health with everything up, and a server whose database is down."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.http.conftest import HTTP_REDIS_URL, Server, Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Nothing listens on port 1: connecting is refused at once.
DEAD_DATABASE = "postgresql+psycopg2://postgres@127.0.0.1:1/test"


def test_health_reports_database_broker_and_worker(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/health", timeout=10)
    assert response.status_code == 200
    health = response.json()
    assert health["status"] == "ok", health
    assert health["database"] == {"ok": True}
    assert health["broker"] == {"ok": True}
    assert health["workers"] == {"ok": True, "detail": "a worker answered"}
    # Public: the worker's name (`http@<hostname>`) is not told to anyone who asks.
    assert "http@" not in response.text
    assert socket.gethostname() not in response.text


def test_openapi_and_its_page(stack: Stack) -> None:
    schema = httpx.get(f"{stack.base_url}/openapi.json", timeout=10).json()
    page = httpx.get(f"{stack.base_url}/docs", timeout=10)
    assert page.status_code == 200
    assert "swagger" in page.text.lower()
    body = schema["paths"]["/requests"]["post"]["requestBody"]["content"]["application/json"]
    kinds = body["schema"]["anyOf"][0]["discriminator"]["mapping"]
    assert "post_packing_slip" in kinds
    assert schema["components"]["schemas"]["PostingLineIn"]["properties"]["scan_stream"]


@pytest.fixture
def dead_database_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(
        # Not emptied: the package's worker keeps its queue bindings in this database.
        {"DOCPOST_DATABASE_URL": DEAD_DATABASE, "DOCPOST_BROKER_URL": HTTP_REDIS_URL},
        tmp_path / "server.log",
    )
    try:
        yield server.start()
    finally:
        server.stop()


def test_a_lost_database_is_503(dead_database_server: Server) -> None:
    base = dead_database_server.base_url
    health = httpx.get(f"{base}/health", timeout=20)
    read = httpx.get(
        f"{base}/orders/SO-1001", headers={"Authorization": "Bearer dpk_x"}, timeout=20
    )
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert health.json()["database"] == {"ok": False, "detail": "OperationalError"}
    assert health.json()["broker"] == {"ok": True}
    assert read.status_code == 503
    assert read.json()["error"]["code"] == "database.unavailable"
    assert read.headers["retry-after"] == "5"
