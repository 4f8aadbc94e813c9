"""`docpost submit --wait` with no worker running used to print nothing for ever: it now says
on stderr what it waits for, and that no worker may be running when nothing moves."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from docpost.pipeline.entrypoints.cli import main as cli
from docpost.pipeline.entrypoints.cli.queue import WaitReport

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

HINT = (
    "is a worker running? Start one with `docpost worker` "
    "(same DOCPOST_BROKER_URL and DOCPOST_DATABASE_URL)"
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_wait_report_says_what_it_waits_for_and_when_nothing_moves() -> None:
    stream, clock = io.StringIO(), Clock()
    report = WaitReport(stream, clock)
    report({"queued": 3})  # at once: quick runs print nothing
    clock.now = 10.0
    report({"queued": 2, "running": 1})
    clock.now = 20.0
    report({"queued": 2, "running": 1})  # one runs: no hint, it may be slow
    clock.now = 50.0
    report({"queued": 2, "not recorded": 1})
    clock.now = 80.0
    report({"queued": 2, "not recorded": 1})
    assert stream.getvalue().splitlines() == [
        "docpost: waiting for 3 request(s): 2 queued, 1 running",
        "docpost: waiting for 3 request(s): 2 queued, 1 running",
        "docpost: waiting for 3 request(s): 1 not recorded, 2 queued",
        f"docpost: waiting for 3 request(s): 1 not recorded, 2 queued; nothing has moved for "
        f"30 s: {HINT}",
    ]


def test_submit_wait_without_a_worker_says_so_on_stderr(
    queue_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The real command on PostgreSQL and Redis (this test's key prefix), no worker: the
    requests stay queued; the report intervals are made short, --timeout ends the wait."""
    monkeypatch.setattr(WaitReport, "every", 0.05)
    monkeypatch.setattr(WaitReport, "stalled", 0.2)
    requests = tmp_path / "requests.jsonl"
    requests.write_text(
        "".join(
            json.dumps(
                {
                    "request_id": f"wait-{n}",
                    "kind": "confirm_order",
                    "actor": "erp",
                    "payload": {"order": f"SO-{n}"},
                }
            )
            + "\n"
            for n in (1, 2)
        )
    )
    assert cli.main(["submit", str(requests), "--wait", "--timeout", "3"]) == 1
    err = capsys.readouterr().err.splitlines()

    assert err[-1] == "docpost: 2 request(s) not final after 3.0 s: wait-1, wait-2"
    waiting = err[:-1]
    assert waiting, "nothing was said while waiting"
    assert all(line.startswith("docpost: waiting for 2 request(s): 2 queued") for line in waiting)
    assert any(line.endswith(HINT) for line in waiting), waiting
