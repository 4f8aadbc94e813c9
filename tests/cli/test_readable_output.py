"""Issue 18 item 4: what people read. Timestamps to the second with their zone named, not
ISO 8601 with microseconds (the JSON keeps ISO); an invoice credited for one unit of three is
"partly credited by CN-000001", not "reversed by CN-000001"; credited whole, "credited in
full by"; `--json` says `credit_notes` and `credited` beside `reversed_by`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from docpost.pipeline.entrypoints.cli.credits import credit_state
from docpost.pipeline.entrypoints.cli.output import readable_time
from tests.cli.conftest import docpost, one_of_three
from tests.conftest import Runner


def test_an_invoice_credited_for_one_unit_of_three_is_partly_credited(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = docpost(capsys, "show", "journal", "INV-000001")
    assert code == 0
    assert out.splitlines()[0].endswith("  partly credited by CN-000001")
    assert "reversed by" not in out
    code, out, _ = docpost(capsys, "show", "journal", "INV-000001", "--json")
    journal = json.loads(out)
    assert (journal["reversed_by"], journal["credit_notes"], journal["credited"]) == (
        "CN-000001",
        ["CN-000001"],
        "partly",
    )


def test_credited_in_full_by_two_credit_notes(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    rest = [{**line, "quantity": "2"} for line in one_of_three()]
    rest[0]["serials"] = ["SP-0001", "SP-0003"]
    cli.ok("post_credit_note", {"invoice": "INV-000001", "lines": rest})
    code, out, _ = docpost(capsys, "show", "journal", "INV-000001")
    assert code == 0
    assert out.splitlines()[0].endswith("  credited in full by CN-000001, CN-000002")
    journal = json.loads(docpost(capsys, "show", "journal", "INV-000001", "--json")[1])
    assert journal["credited"] == "fully"


def test_credit_negative_control_other_journals_keep_their_words(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """A credit note still says what it reverses; a journal nobody credited says nothing, and
    its JSON has no credit keys (they are an invoice's)."""
    out = docpost(capsys, "show", "journal", "CN-000001")[1]
    assert out.splitlines()[0].endswith("  reverses INV-000001")
    journal = json.loads(docpost(capsys, "show", "journal", "PS-000001", "--json")[1])
    assert "credited" not in journal and journal["reversed_by"] is None


def test_credit_state_rule() -> None:
    three = {1: Decimal(3), 2: Decimal(3)}
    assert credit_state(three, {}) is None
    assert credit_state(three, {1: Decimal(1), 2: Decimal(1)}) == "partly"
    assert credit_state(three, {1: Decimal(3)}) == "partly"  # a line left uncredited
    assert credit_state(three, {1: Decimal(3), 2: Decimal(3)}) == "fully"


def test_show_order_prints_its_confirmation_time_readably(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    confirmed = json.loads(docpost(capsys, "show", "order", "SO-1001", "--json")[1])["confirmed_at"]
    moment = dt.datetime.fromisoformat(confirmed)  # the JSON keeps ISO 8601
    out = docpost(capsys, "show", "order", "SO-1001")[1]
    assert f"confirmed {moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC" in out.splitlines()[0]
    assert confirmed not in out


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2026-11-30T09:28:13.109492+00:00", "2026-11-30 09:28:13 UTC"),
        ("2026-11-30T10:28:13+01:00", "2026-11-30 10:28:13 +0100"),
        ("2026-11-30T09:28:13.5", "2026-11-30 09:28:13"),
        ("not a time", "not a time"),
        (None, None),
    ],
)
def test_readable_time(stored: str | None, shown: str | None) -> None:
    assert readable_time(stored) == shown


def test_dead_letters_print_their_time_readably(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    from docpost.pipeline.dead_letters import store_dead_letter

    store_dead_letter(cli.sessions, queue="posting", reason="not JSON", raw=b"\xff")
    received = json.loads(docpost(capsys, "dead-letters", "--json")[1])["dead_letters"][0]
    moment = dt.datetime.fromisoformat(received["received_at"])
    out = docpost(capsys, "dead-letters")[1]
    assert f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC" in out.splitlines()[2]
