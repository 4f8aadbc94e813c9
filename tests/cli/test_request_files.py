"""Issue 18 item 4: a request file the CLI cannot read says which file, line and column; an
empty file says so (exit 2, nothing run). A JSON-lines file with one broken line still runs
the others and gives the broken line its own `rejected` outcome (CONTRACT.md), now naming the
file and line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import docpost
from tests.conftest import Runner

GOOD = json.dumps(
    {"request_id": "f-1", "kind": "confirm_order", "actor": "erp", "payload": {"order": "SO-1001"}}
)


def test_a_malformed_json_line_is_named_by_file_and_line(
    cli: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text(f"{GOOD}\n\n{{bad json\n")
    code, out, err = docpost(capsys, "run", "--json", str(path))
    assert code == 1
    assert err == (
        f"docpost: {path} line 3: not JSON (Expecting property name enclosed in double quotes "
        "at column 2); sent as it is, it is rejected\n"
    )
    good, bad = json.loads(out)
    assert good["status"] == "succeeded"  # the other lines run
    assert bad["status"] == "rejected" and bad["error"]["code"] == "request.invalid"


@pytest.mark.parametrize("command", ["run", "submit"])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "{path} is empty: no requests in it"),
        ("  \n\n", "{path} is empty: no requests in it"),
        ("[]", "{path} holds an empty array: no requests in it"),
        (
            '{\n  "request_id": "x",\n  "kind": "confirm_order"\n  "actor": "erp"\n}\n',
            "{path} line 4 column 3: not JSON (Expecting ',' delimiter); a request file holds "
            "one JSON object, an array of them, or one object per line",
        ),
    ],
    ids=["empty", "blank", "empty-array", "pretty-printed-with-a-typo"],
)
def test_a_file_with_no_request_in_it_is_a_usage_error_naming_it(
    cli: Runner,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: str,
    text: str,
    message: str,
) -> None:
    path = tmp_path / "requests.json"
    path.write_text(text)
    code, out, err = docpost(capsys, command, str(path))
    assert (code, out, err) == (2, "", f"docpost: {message.format(path=path)}\n")


def test_load_names_the_catalog_files_json_error(
    cli: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "catalog.json"
    path.write_text('{"items": [\n  {"item": "X",}\n]}\n')
    code, out, err = docpost(capsys, "load", str(path))
    assert (code, out) == (2, "")
    assert (
        err
        == f"docpost: {path} line 2 column 16: not JSON (Expecting property name enclosed in double quotes)\n"
    )
    path.write_text("")
    code, _, err = docpost(capsys, "load", str(path), "--json")
    assert code == 2
    assert err == ""  # --json: the error is the JSON document on stdout


def test_request_files_negative_control_a_whole_pretty_file_runs(
    cli: Runner, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(json.loads(GOOD), indent=2))
    code, out, err = docpost(capsys, "run", str(path))
    assert code == 0 and err == "" and out.startswith("f-1: succeeded")
