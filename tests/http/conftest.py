"""The HTTP service over real HTTP: `docpost serve` and a Celery worker as subprocesses.

One stack for the whole package (building it and posting the USMF example takes most of the
time): a private PostgreSQL schema, Redis database 14 under a key prefix of its own as the
broker, one worker (the integration tests' Worker), one server on a free localhost port. It is
stopped when the last test of this package has run, so that no worker of ours consumes another
package's queue.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import session_factory
from docpost.pipeline.entrypoints.http.auth import create_key
from docpost.pipeline.runner.execute import execute
from docpost.schema.requests import FINAL_STATUSES
from tests.conftest import (
    EXAMPLES,
    REDIS_URL,
    private_schema,
    usmf_catalog,
    usmf_requests,
)
from tests.integration.conftest import Broker, Worker

ROOT = Path(__file__).resolve().parents[2]
# Database 14, apart from tests/integration's 15, and a key prefix of this run's own: a run of
# these tests beside another (other sessions on the same machine) would otherwise take its
# messages and execute them against its own database, leaving ours `queued` for ever.
HTTP_REDIS_URL = os.environ.get(
    "DOCPOST_TEST_HTTP_REDIS_URL", urlsplit(REDIS_URL)._replace(path="/14").geturl()
)
READY_SECONDS = 30.0
OUTCOME_SECONDS = 60.0
RENDER_SECONDS = 90.0
# Longer than any long-poll the tests ask for.
CLIENT_TIMEOUT = httpx.Timeout(45.0)


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """`python -m docpost.pipeline.entrypoints.cli.serve serve` (what `docpost serve` runs), logging to a file."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        command = [
            sys.executable, "-m", "docpost.pipeline.entrypoints.cli.serve", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{self.base_url}/openapi.json", timeout=2.0)
                return self
            time.sleep(0.1)
        raise AssertionError(f"the server did not start:\n{self.text()[-3000:]}")

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def run_cli(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- the stack -------------------------------------------------------------------------------


@dataclass
class Stack:
    base_url: str
    database_url: str
    env: dict[str, str]
    server: Server
    worker: Worker
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, actor: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[actor]}"} if actor else {}
        return httpx.Client(
            base_url=self.base_url, headers=headers, timeout=CLIENT_TIMEOUT, **kwargs
        )

    def new_key(self, actor: str) -> str:
        sessions = session_factory(self.database_url)
        with sessions() as session, session.begin():
            return create_key(session, actor)

    def logs(self) -> str:
        return f"--- server\n{self.server.text()[-3000:]}\n--- worker\n{self.worker.text()[-3000:]}"


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("http")
    with private_schema() as database_url:
        broker = Broker.open(HTTP_REDIS_URL, f"docpost-http-{uuid.uuid4().hex[:12]}:")
        env = {
            "DOCPOST_DATABASE_URL": database_url,
            "DOCPOST_BROKER_URL": HTTP_REDIS_URL,
            "DOCPOST_BROKER_KEY_PREFIX": broker.prefix,
            # Rendering a PDF must fit in the task time limit (half of this).
            "DOCPOST_VISIBILITY_TIMEOUT": "120",
            "DOCPOST_MAX_ATTEMPTS": "5",
        }
        worker = Worker("http", env, folder / "worker.log", concurrency=2)
        server = Server(env, folder / "server.log")
        try:
            worker.wait_ready()
            server.start()
            yield Stack(server.base_url, database_url, env, server, worker)
        finally:
            server.stop()
            worker.stop()
            broker.flush()
            broker.client.close()


def wait_outcome(client: httpx.Client, link: str, timeout: float = OUTCOME_SECONDS) -> Any:
    """Long-poll an outcome link until the outcome is final."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(link, params={"wait": 10})
        assert response.status_code == 200, response.text
        outcome = response.json()
        if outcome["status"] in FINAL_STATUSES:
            return outcome
        if time.monotonic() > deadline:
            raise AssertionError(f"{link} not final after {timeout} s: {outcome}")


def post_and_wait(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/requests", json=body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["request_id"] == body["request_id"]
    assert accepted["links"] == {"outcome": "/requests/" + quote(body["request_id"], safe="")}
    outcome: dict[str, Any] = wait_outcome(client, accepted["links"]["outcome"])
    return outcome


@dataclass
class Posted:
    """The USMF example, posted through the service: outcome per request_id, in order."""

    stack: Stack
    outcomes: dict[str, dict[str, Any]]
    documents: list[dict[str, Any]]


@pytest.fixture(scope="package")
def posted(stack: Stack) -> Posted:
    """Bootstrap as an operator would (`docpost load`, `docpost actor-key`), then everything
    else over HTTP: the catalog again, an actor without duties, and the USMF requests, each
    with its own actor's key, each after the previous one is final (they build on each
    other); bulk invoicing's invoices too. Then wait until every PDF is rendered."""
    catalog = EXAMPLES / "catalog.json"
    loaded = run_cli(
        "docpost.pipeline.entrypoints.cli.main",
        "load",
        str(catalog),
        "--actor",
        "erp",
        env=stack.env,
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    made = run_cli(
        "docpost.pipeline.entrypoints.cli.serve", "actor-key", "erp", "--json", env=stack.env
    )
    assert made.returncode == 0, made.stdout + made.stderr
    stack.keys["erp"] = json.loads(made.stdout)["key"]

    outcomes: dict[str, dict[str, Any]] = {}
    with stack.client("erp") as erp:
        for body in (
            {
                "request_id": "http-catalog",
                "kind": "upsert_catalog",
                "payload": json.loads(catalog.read_text()),
            },
            {
                "request_id": "http-auditor",
                "kind": "upsert_catalog",
                "payload": {"actors": [{"actor": "auditor", "duties": []}]},
            },
        ):
            outcomes[body["request_id"]] = post_and_wait(erp, body)
            assert outcomes[body["request_id"]]["status"] == "succeeded", stack.logs()
    for actor in ("warehouse-1", "supervisor", "pos-1", "auditor"):
        stack.keys[actor] = stack.new_key(actor)

    for body in usmf_requests():
        with stack.client(body["actor"]) as client:
            outcome = post_and_wait(client, body)
            outcomes[body["request_id"]] = outcome
            for child in (outcome.get("result") or {}).get("requests", []):
                outcomes[child] = wait_outcome(client, "/requests/" + quote(child, safe=""))
    return Posted(stack, outcomes, wait_for_documents(stack))


def wait_for_documents(stack: Stack) -> list[dict[str, Any]]:
    """The documents list once no document is pending (the worker renders them on the
    documents queue)."""
    deadline = time.monotonic() + RENDER_SECONDS
    with stack.client("erp") as erp:
        while True:
            response = erp.get("/documents", params={"limit": 1000})
            documents: list[dict[str, Any]] = response.json()["documents"]
            if documents and all(d["status"] != "pending" for d in documents):
                return documents
            if time.monotonic() > deadline:
                raise AssertionError(f"documents still pending: {documents}\n{stack.logs()}")
            time.sleep(0.25)


@pytest.fixture
def usmf_sqlite(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[sessionmaker[Session]]:
    """A SQLite database with the USMF catalog, named by DOCPOST_DATABASE_URL: for the
    commands that manage keys (no server needed)."""
    url = f"sqlite:///{tmp_path / 'docpost.db'}"
    (tmp_path / "docpost.db").write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("DOCPOST_DATABASE_URL", url)
    get_settings.cache_clear()
    sessions = session_factory(url)
    outcome = execute(
        {"request_id": "c", "kind": "upsert_catalog", "actor": "erp", "payload": usmf_catalog()},
        sessions,
    )
    assert outcome["status"] == "succeeded", outcome
    yield sessions
    get_settings.cache_clear()
