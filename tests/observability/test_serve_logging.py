"""`docpost serve` logs through pipeline.logs: uvicorn's lines and the outcome lines of the
requests its embedded worker runs, in JSON when DOCPOST_LOG_FORMAT=json (issue 18 item 3).

The embedded worker asks Celery for WARNING; the service's INFO lines (request outcomes among
them) must survive it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_writes_json_lines_with_the_outcome_of_each_request(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCPOST_")}
    env |= {"DOCPOST_DATABASE_URL": f"sqlite:///{tmp_path / 'docpost.db'}"}
    cli = [sys.executable, "-m", "docpost.pipeline.entrypoints.cli.main"]
    subprocess.run([*cli, "load", str(EXAMPLES / "catalog.json")], env=env, check=True,
                   cwd=tmp_path, capture_output=True, timeout=120)  # fmt: skip
    key = subprocess.run([*cli, "actor-key", "erp"], env=env, check=True, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60).stdout.strip()  # fmt: skip
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "docpost.pipeline.entrypoints.cli.serve", "serve",
             "--port", str(port)],
            env={**env, "DOCPOST_LOG_FORMAT": "json"}, cwd=tmp_path, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {key}"}
        body = {"request_id": "serve-1", "kind": "confirm_order", "payload": {"order": "SO-9"}}
        assert httpx.post(f"{base}/requests", json=body, headers=headers).status_code == 202
        outcome = httpx.get(f"{base}/requests/serve-1?wait=20", headers=headers, timeout=30)
        assert outcome.json()["status"] == "rejected"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)

    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    outcomes = [e for e in lines if e["logger"] == "docpost.outcome"]
    assert [(e["request_id"], e["status"], e["code"]) for e in outcomes] == [
        ("serve-1", "rejected", "order.unknown")
    ]
    assert outcomes[0]["actor"] == "erp" and outcomes[0]["order"] == "SO-9"
    # uvicorn's own lines go through the same formatter (log_config=None).
    assert any(e["logger"] == "uvicorn.access" and "/requests" in e["message"] for e in lines)
