"""Issue 18 item 4: every lookup that finds nothing exits 1 and says what it looked for
(CONTRACT.md: 1 "a request was rejected or failed (or a lookup found nothing)"). `trace
UNKNOWN` and `ledger --voucher VOU-999` exited 0 before."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import docpost
from tests.conftest import Runner

NOT_FOUND = [
    (["trace", "UNKNOWN"], "serial 'UNKNOWN' was never registered on a sale"),
    (["trace", "SP-0001", "--item", "M0001"], "serial 'SP-0001' of item 'M0001' was never registered on a sale"),
    (["ledger", "--voucher", "VOU-999"], "no ledger entries of voucher 'VOU-999'"),
    (["ledger", "--account", "9999"], "no ledger entries of account '9999'"),
    (["ledger", "--voucher", "VOU-000001", "--from", "2001-01-01", "--to", "2001-01-31"],
     "no ledger entries of voucher 'VOU-000001' from 2001-01-01 to 2001-01-31"),
    (["show", "order", "SO-404"], "order 'SO-404' does not exist"),
    (["show", "journal", "INV-404"], "journal 'INV-404' does not exist"),
    (["show", "request", "r-404"], "request 'r-404' is not known"),
    (["show", "schedule", "INV-404"], "invoice 'INV-404' does not exist"),
    (["documents", "--journal", "INV-404"], "journal 'INV-404' does not exist"),
    (["download", "404"], "document 404 does not exist"),
    (["download", "--journal", "INV-404"], "journal 'INV-404' does not exist"),
    (["download", "--journal", "INV-000001", "--format", "xml"],
     "journal INV-000001 has no xml document (no e-invoice was made for it, E1)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "message"), NOT_FOUND, ids=lambda v: " ".join(v) if isinstance(v, list) else ""
)
def test_a_lookup_that_finds_nothing_exits_1_and_says_what(
    cli: Runner, capsys: pytest.CaptureFixture[str], command: list[str], message: str
) -> None:
    code, out, err = docpost(capsys, *command)
    assert (code, out, err) == (1, "", f"docpost: {message}\n")
    code, out, _ = docpost(capsys, *command, "--json")
    assert code == 1
    assert json.loads(out)["error"]["message"] == message


@pytest.mark.parametrize(
    "command",
    [
        ["trace", "SP-0001"],
        ["ledger", "--voucher", "VOU-000001"],
        ["ledger", "--account", "1200"],
        ["ledger", "--from", "2001-01-01", "--to", "2001-01-31"],  # a listing, empty: not a lookup
        ["documents"],
        ["dead-letters"],
    ],
    ids=" ".join,
)
def test_lookups_negative_control_what_is_there_exits_0(
    cli: Runner, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code, out, err = docpost(capsys, *command)
    assert code == 0, err
    assert out and not err
