"""Issue 18 item 4: `--json` before or after the command, for every command, gives the same
one JSON document on stdout (CONTRACT.md: "Every command takes --json"). Before, `docpost
--json show order X` silently printed text: the subcommand's own `--json` default (False)
overwrote what the top parser had read."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from docpost.pipeline.entrypoints.cli.main import build_parser
from tests.cli.conftest import ROOT, docpost
from tests.conftest import Runner

# Every command with arguments that make it answer (or fail) without a broker or a server.
COMMANDS = [
    ["show", "order", "SO-1001"],
    ["show", "journal", "INV-000001"],
    ["show", "request", "inv-1"],
    ["show", "schedule", "INV-000001"],
    ["trace", "SP-0001"],
    ["ledger"],
    ["documents"],
    ["dead-letters"],
    ["download", "1"],  # pending: an error document, still JSON
    ["init"],
    ["db", "current"],
    ["db", "history"],
    ["example", "examples"],
    ["load", str(ROOT / "pipeline" / "examples" / "usmf" / "catalog.json")],
    [
        "run",
        str(ROOT / "pipeline" / "examples" / "usmf" / "requests.jsonl"),
    ],  # repeats: same outcomes
    ["recognize", "--as-of", "2026-01-01"],
    ["bulk-invoice", "--customer", "NOBODY"],  # the embedded queue: no invoice to make
    ["trace", "NO-SUCH-SERIAL"],  # a lookup that finds nothing: the error as JSON
    ["actor-key", "--list"],
]


def _with_json(command: list[str], where: str) -> list[str]:
    return ["--json", *command] if where == "before" else [*command, "--json"]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_json_before_or_after_the_command_prints_the_same_json(
    cli: Runner, capsys: pytest.CaptureFixture[str], command: list[str], tmp_path: Path
) -> None:
    code_before, before, _ = docpost(capsys, *_with_json(command, "before"))
    if command[0] == "example":  # it refuses to overwrite: a second folder for the second run
        command = ["example", "other"]
    code_after, after, _ = docpost(capsys, *_with_json(command, "after"))
    assert code_before == code_after
    first, second = json.loads(before), json.loads(after)
    if command[0] == "example":
        assert [p.replace("examples", "other") for p in first["written"]] == second["written"]
    elif command[0] == "run":
        # Sent again, each request gets its first outcome; bulk invoicing's follow-ups (and
        # what they then made impossible) ran in the first run only.
        assert [o for o in second if o["request_id"].startswith("usmf-0")][:10] == first[:10]
    elif command[0] == "bulk-invoice":  # each run is a new request, with an id of its own
        assert first["run"].pop("request_id") != second["run"].pop("request_id")
        assert first == second
    else:
        assert first == second


def test_json_negative_control_without_it_the_output_is_text(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = docpost(capsys, "show", "order", "SO-1001")
    assert code == 0 and out.startswith("Order SO-1001")
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def _parsers(
    parser: argparse.ArgumentParser, path: str = "docpost"
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _parsers(sub, f"{path} {name}")
    return found


def test_every_command_takes_json_and_every_argument_has_help() -> None:
    """`--json` on every (sub)command, and a help text on every argument and option (issue
    18: `docpost trace -h` said nothing of SERIAL or --item)."""
    missing_json, missing_help = [], []
    for path, parser in _parsers(build_parser()):
        options = {o for a in parser._actions for o in a.option_strings}
        if "--json" not in options:
            missing_json.append(path)
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                missing_help.append(f"{path} {action.dest}")
    assert missing_json == [] and missing_help == []
    assert len(_parsers(build_parser())) > 20  # negative control: the walk found the commands
