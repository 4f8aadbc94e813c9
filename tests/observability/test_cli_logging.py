"""`docpost run` with DOCPOST_LOG_FORMAT=json: the JSON log lines of a whole run, read back
from its stderr as a log collector would (issue 18 item 3). The CLI configures logging where
every docpost process does (pipeline.logs).

The USMF example's file: twelve requests, bulk invoicing among them, whose invoices are
requests of their own; every request that ends in an outcome gets exactly one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from docpost.pipeline.db import session_factory
from docpost.schema import RequestRecord
from tests.conftest import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"request_id", "kind", "actor", "order", "status", "code", "journal", "duration_ms"}


def docpost(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCPOST_")}
    return subprocess.run(
        [sys.executable, "-m", "docpost.pipeline.entrypoints.cli.main", *args],
        cwd=cwd,
        env={**clean, "DOCPOST_DATABASE_URL": f"sqlite:///{cwd / 'docpost.db'}", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_docpost_run_writes_one_json_line_per_outcome(tmp_path: Path) -> None:
    loaded = docpost(["load", str(EXAMPLES / "catalog.json")], tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    # Negative control: by default the CLI's stderr is for its own messages, no outcome lines.
    assert "docpost.outcome" not in loaded.stderr

    run = docpost(
        ["run", str(EXAMPLES / "requests.jsonl")],
        tmp_path,
        DOCPOST_LOG_FORMAT="json",
        DOCPOST_LOG_LEVEL="INFO",
    )
    assert run.returncode in (0, 1), run.stderr  # 1: the example holds a rejected request
    assert not json_lines(run.stdout)  # stdout keeps the outcomes' own text
    outcomes = [e for e in json_lines(run.stderr) if e["logger"] == "docpost.outcome"]

    sessions = session_factory(f"sqlite:///{tmp_path / 'docpost.db'}")
    with sessions() as session:
        stored = {r.request_id: r for r in session.scalars(select(RequestRecord))}
    ran = {rid for rid, r in stored.items() if not rid.startswith("load-") and r.is_final}
    logged = [e["request_id"] for e in outcomes]
    assert len(logged) == len(set(logged)), logged  # one line each
    assert set(logged) == ran
    assert len(ran) > 12  # the file's twelve and bulk invoicing's invoices
    for entry in outcomes:
        assert entry.keys() >= FIELDS, entry
        record = stored[entry["request_id"]]
        assert (entry["kind"], entry["status"], entry["actor"]) == (
            record.kind,
            record.status,
            record.actor,
        )
        assert entry["code"] == (record.error or {}).get("code")
