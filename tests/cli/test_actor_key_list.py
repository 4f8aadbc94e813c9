"""`docpost actor-key --list` for people and scripts (issue 18 item 4): timestamps printed
readably (as every other command, cli.output.readable_time; --json keeps ISO 8601), and
`--list UNKNOWN` is a lookup that finds nothing: exit 1 and one line saying so."""

from __future__ import annotations

import json
import re

import pytest

from tests.cli.conftest import docpost
from tests.conftest import Runner

READABLE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def test_list_prints_readable_times_and_json_keeps_iso(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    assert docpost(capsys, "actor-key", "erp")[0] == 0
    assert docpost(capsys, "actor-key", "erp")[0] == 0
    assert docpost(capsys, "actor-key", "--revoke", "2")[0] == 0

    code, out, err = docpost(capsys, "actor-key", "--list")
    assert (code, err) == (0, "")
    rows = out.splitlines()[2:]
    assert len(rows) == 2
    assert len(READABLE.findall(rows[0])) == 1  # created; not revoked
    assert len(READABLE.findall(rows[1])) == 2  # created and revoked
    assert not ISO.search(out)

    code, out, _ = docpost(capsys, "actor-key", "--list", "--json")
    keys = json.loads(out)["keys"]
    assert code == 0 and all(ISO.match(k["created_at"]) for k in keys)
    assert ISO.match(keys[1]["revoked_at"])


def test_list_of_an_unknown_actor_exits_1_with_one_line(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    message = "actor 'ghost' does not exist; no keys can be listed for it"
    assert docpost(capsys, "actor-key", "--list", "ghost") == (1, "", f"docpost: {message}\n")
    code, out, err = docpost(capsys, "actor-key", "--list", "ghost", "--json")
    assert (code, err) == (1, "")
    assert json.loads(out) == {"error": {"code": "actor.unknown", "message": message}}


def test_list_of_an_actor_without_keys_is_an_empty_list_not_a_failure(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """Negative control: the actor exists (USMF's supervisor), it just has no key yet."""
    assert docpost(capsys, "actor-key", "--list", "supervisor") == (
        0,
        "no API keys for supervisor\n",
        "",
    )
    code, out, _ = docpost(capsys, "actor-key", "--list", "supervisor", "--json")
    assert (code, json.loads(out)) == (0, {"keys": []})
