"""S11 inquiry in JSON (issue 17 item 8): `docpost show journal --json` and GET /journals/{number}
say what a blank registration is, so a script cannot take it for a missing value.

CONTRACT.md names `serials` a list of serial strings and asks to extend, not bend: each
journal line keeps `serials` as it was (a blank is null there, as scripts already read it) and
gains `registrations`, one object per registration in the same order, in the shape `show
order` gives its registrations: `{"serial": "MP-7", "not_readable": false}`, and for a blank
`{"serial": null, "not_readable": true}`. The text output keeps "not readable". SQLite and
PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from docpost.pipeline.config import get_settings
from docpost.pipeline.entrypoints.cli.common import EXIT_OK
from docpost.pipeline.entrypoints.cli.main import main
from docpost.pipeline.entrypoints.http.app import create_app
from docpost.pipeline.entrypoints.http.auth import create_key
from tests.conftest import Runner

READABLE = {"serial": "MP-7", "not_readable": False}
BLANK = {"serial": None, "not_readable": True}


@pytest.fixture
def shipped(usmf: Runner, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """SO-1: 2 phones (line 1, serialized, blanks allowed), one shipped as MP-7 and one not
    readable, and 3 cables (line 2, no serials) on PS-000001; `docpost` on this database."""
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    usmf.ok(
        "upsert_catalog",
        {"items": [{"item": "CAB-01", "name": "Cable", "unit": "ea", "base_sales_price": "9"}]},
    )
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [
                {"line": 1, "item": "M0001", "quantity": "2", "unit_price": "300.00"},
                {"line": 2, "item": "CAB-01", "quantity": "3", "unit_price": "9.00"},
            ],
        },
    )
    usmf.ok("confirm_order", {"order": "SO-1"})
    slip = usmf.ok(
        "post_packing_slip",
        {
            "order": "SO-1",
            "lines": [
                {"line": 1, "quantity": "2", "serials": ["MP-7"], "not_readable": 1},
                {"line": 2, "quantity": "3"},
            ],
        },
    )
    assert slip["journal"] == "PS-000001"
    yield usmf
    get_settings.cache_clear()


def show_journal(capsys: pytest.CaptureFixture[str], number: str, *json_flag: str) -> Any:
    capsys.readouterr()
    assert main(["show", "journal", number, *json_flag]) == EXIT_OK
    out = capsys.readouterr().out
    return json.loads(out) if json_flag else out


def line(journal: dict[str, Any], number: int) -> dict[str, Any]:
    [found] = [ln for ln in journal["lines"] if ln["line"] == number]
    return found


def test_s11_json_a_blank_registration_says_it_is_not_readable(
    shipped: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """S11: the packing slip's and the invoice's lines list each registration with
    `not_readable`; `serials` is unchanged beside them (extended, not bent)."""
    invoice = shipped.ok("post_invoice", {"order": "SO-1"})["journal"]
    for number in ("PS-000001", invoice):
        phones = line(show_journal(capsys, number, "--json"), 1)
        assert phones["registrations"] == [READABLE, BLANK], number
        assert phones["serials"] == ["MP-7", None], number


def test_s11_json_negative_control_lines_without_blanks(
    shipped: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """A line without serials has no registrations (an empty list, not null), and a blank
    corrected into a serial (S9) reads as that serial, readable: `not_readable` follows the
    registration, it is not a constant."""
    journal = show_journal(capsys, "PS-000001", "--json")
    assert line(journal, 2)["registrations"] == [] and line(journal, 2)["serials"] == []
    shipped.ok("change_serial", {"order": "SO-1", "line": 1, "old": None, "new": "MP-8"})
    phones = line(show_journal(capsys, "PS-000001", "--json"), 1)
    assert phones["registrations"] == [READABLE, {"serial": "MP-8", "not_readable": False}]


def test_s11_text_output_keeps_not_readable(
    shipped: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """The text output shows the blank as "not readable", never "None"."""
    text = show_journal(capsys, "PS-000001")
    assert "MP-7, not readable" in text
    assert "None" not in text


def test_s11_http_journal_has_the_same_registrations(
    shipped: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """GET /journals/{number} shares show_journal: the same `registrations` and `serials`."""
    with shipped.sessions() as session, session.begin():
        key = create_key(session, "erp")
    with TestClient(create_app(shipped.sessions)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        answer = client.get("/journals/PS-000001")
    assert answer.status_code == 200, answer.text
    phones = line(answer.json(), 1)
    assert phones["registrations"] == [READABLE, BLANK]
    assert phones["serials"] == line(show_journal(capsys, "PS-000001", "--json"), 1)["serials"]
