"""The queue's commands: `submit` without a broker, and the arguments `worker`/`beat` hand to
Celery. `docpost demo` is in test_demo.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from docpost.pipeline.entrypoints.cli.main import build_parser, parse_arguments

ROOT = Path(__file__).resolve().parents[2]


def docpost(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`docpost ARGS` in `cwd` with no DOCPOST_* variable set: the embedded defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCPOST_")}
    return subprocess.run(
        [sys.executable, "-m", "docpost.pipeline.entrypoints.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_submit_without_a_broker_runs_in_process(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    confirm = {"request_id": "cli-1", "kind": "confirm_order", "actor": "erp",
               "payload": {"order": "SO-404"}}  # fmt: skip
    requests.write_text(json.dumps(confirm) + "\n{not json\n")
    result = docpost(["submit", str(requests)], tmp_path)

    assert result.returncode == 1  # both are rejected
    assert "no broker configured" in result.stderr
    assert "cli-1: rejected actor.unknown" in result.stdout
    assert "rejected request.invalid" in result.stdout


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_pass_their_arguments_to_celery(command: str) -> None:
    extra = ["--concurrency", "2", "-Q", "posting,bulk", "--loglevel=INFO", "-n", "w1@%h"]
    args = parse_arguments(build_parser(), [command, *extra])
    assert args.passthrough == extra
    assert parse_arguments(build_parser(), [command]).passthrough == []
    with pytest.raises(SystemExit) as refused:
        parse_arguments(build_parser(), ["ledger", "--concurrency", "2"])
    assert refused.value.code == 2


def test_worker_without_a_broker_says_so(tmp_path: Path) -> None:
    result = docpost(["worker"], tmp_path)
    assert result.returncode == 2
    assert "DOCPOST_BROKER_URL" in result.stderr
