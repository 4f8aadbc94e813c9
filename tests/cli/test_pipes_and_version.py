"""Issue 18 item 4, in real processes: `docpost ... | head` ends quietly when the reader goes
away (no BrokenPipeError traceback; the status of a program killed by SIGPIPE, as `yes |
head`), and `docpost --version` says the installed version."""

from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.cli.conftest import DOCPOST, subprocess_env
from tests.conftest import Runner


def test_a_reader_that_goes_away_gets_no_traceback(
    cli: Runner, db_url: str, tmp_path: Path
) -> None:
    """The reader closes its end before docpost writes: every write fails with EPIPE."""
    env = subprocess_env(DOCPOST_DATABASE_URL=db_url)
    process = subprocess.Popen(
        [*DOCPOST, "ledger"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert err == ""


@pytest.mark.parametrize(
    "command", ["ledger", "show order SO-1001", "--json show journal INV-000001"]
)
def test_head_through_a_shell_pipe(cli: Runner, db_url: str, tmp_path: Path, command: str) -> None:
    """`docpost ... | head -1` as a user types it: three runs into one head, so that the later
    ones write after head has gone, and `| head -c 10`, which leaves mid-line."""
    env = subprocess_env(DOCPOST_DATABASE_URL=db_url)
    docpost = " ".join(DOCPOST)
    script = (
        f"for i in 1 2 3; do {docpost} {command}; done | head -1; {docpost} {command} | head -c 10"
    )
    result = subprocess.run(
        ["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    first = result.stdout.splitlines()[0]
    assert result.stdout.startswith(f"{first}\n") and len(result.stdout) == len(first) + 1 + 10


def test_version(tmp_path: Path) -> None:
    result = subprocess.run(
        [*DOCPOST, "--version"], env=subprocess_env(), cwd=tmp_path, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, f"docpost {version('docpost')}\n")
