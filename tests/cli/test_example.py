"""Issue 18 item 4: the demo catalog reachable after a non-editable install. `docpost example
DIR` writes the examples shipped inside the package (package data, read through
importlib.resources, as an installed wheel holds them) into DIR, byte for byte, and the
README's next commands work on what it wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import ROOT, docpost
from tests.conftest import Runner

SHIPPED = ROOT / "pipeline" / "examples"


def test_example_writes_the_shipped_examples(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = docpost(capsys, "example", str(tmp_path / "ex"))
    assert code == 0, err
    expected = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob("*") if p.is_file())
    written = sorted(
        p.relative_to(tmp_path / "ex") for p in (tmp_path / "ex").rglob("*") if p.is_file()
    )
    assert written == expected and len(expected) == 4
    for name in expected:
        assert (tmp_path / "ex" / name).read_bytes() == (SHIPPED / name).read_bytes()
    assert out.splitlines()[-1] == (
        f"next: docpost load {tmp_path}/ex/usmf/catalog.json && docpost run "
        f"{tmp_path}/ex/usmf/requests.jsonl"
    )


def test_example_refuses_to_overwrite_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "usmf" / "catalog.json"
    target.parent.mkdir()
    target.write_text("mine")
    code, out, err = docpost(capsys, "example", str(tmp_path), "--name", "usmf")
    assert (code, out) == (2, "")
    assert err == f"docpost: would overwrite {target}; give --force, or another folder\n"
    assert target.read_text() == "mine" and not (tmp_path / "usmf" / "requests.jsonl").exists()
    assert docpost(capsys, "example", str(tmp_path), "--name", "usmf", "--force")[0] == 0
    assert target.read_bytes() == (SHIPPED / "usmf" / "catalog.json").read_bytes()
    assert not (tmp_path / "norway").exists()  # --name: only that one


def test_the_written_example_loads_and_runs(
    run: Runner, db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from docpost.pipeline.config import get_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    assert docpost(capsys, "example", "ex", "--name", "usmf")[0] == 0
    code, out, err = docpost(capsys, "load", "ex/usmf/catalog.json", "--json")
    assert code == 0, err
    assert json.loads(out)[0]["status"] == "succeeded"
    # The first requests of the file (the whole run renders every PDF; one order is enough).
    lines = (tmp_path / "ex" / "usmf" / "requests.jsonl").read_text().splitlines()[:2]
    (tmp_path / "first.jsonl").write_text("\n".join(lines) + "\n")
    code, out, err = docpost(capsys, "run", "first.jsonl")
    assert code == 0, out + err
    get_settings.cache_clear()
