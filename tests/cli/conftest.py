"""What the CLI tests of issue 18 (items 4 and 5) share: `docpost` on the test database
(SQLite and PostgreSQL) in a folder of the test's own, with the USMF order SO-1001 confirmed,
shipped (SP-0001..3), invoiced (INV-000001) and credited for one unit of three (CN-000001)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for
from docpost.pipeline.entrypoints.cli.main import main
from tests.conftest import Runner

ROOT = Path(__file__).resolve().parents[2]

SHIPPED = [
    {"line": 1, "item": "1000", "quantity": "3", "serials": ["SP-0001", "SP-0002", "SP-0003"]},
    {"line": 1, "item": "Support", "quantity": "3"},
    {"line": 1, "item": "S0021", "quantity": "3"},
]


def one_of_three() -> list[dict[str, Any]]:
    """The credit note's lines: one unit of the bundle's three."""
    return [
        {"line": 1, "item": "1000", "quantity": "1", "serials": ["SP-0002"]},
        {"line": 1, "item": "Support", "quantity": "1"},
        {"line": 1, "item": "S0021", "quantity": "1"},
    ]


@pytest.fixture
def cli(
    usmf: Runner, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runner]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-1001",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "LaptopBundle", "quantity": "3", "unit_price": "2300"}],
        },
    )
    usmf.ok("confirm_order", {"order": "SO-1001"})
    usmf.ok("post_packing_slip", {"order": "SO-1001", "lines": SHIPPED})
    usmf.ok("post_invoice", {"order": "SO-1001"}, request_id="inv-1")
    usmf.ok("post_credit_note", {"invoice": "INV-000001", "lines": one_of_three()})
    yield usmf
    get_settings.cache_clear()
    engine_for(db_url).dispose()


def docpost(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`docpost ARGV` in this process: exit code, stdout, stderr."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def subprocess_env(**settings: str) -> dict[str, str]:
    """The environment of a `docpost` subprocess: no DOCPOST_* of the caller but `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCPOST_")}
    env.update(settings)
    return env


DOCPOST = [sys.executable, "-m", "docpost.pipeline.entrypoints.cli.main"]
