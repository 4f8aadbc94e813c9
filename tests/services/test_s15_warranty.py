"""S15 (with S11's trace): an item's warranty period in months, frozen on the packing slip and
invoice lines at posting (D6), and the trace's `warranty_until` and `warranty_valid` on a day
(`docpost trace SERIAL [--on DATE]`), on SQLite and PostgreSQL.

The warranty runs from the delivery: the packing slip's document date, or the invoice's when
it shipped the unit itself; a credited unit's ends on its credit note's date; a serial sold
again answers with its current sale; an item without a period answers None, not False.
Migration 0013 adds `items.warranty_months` and `journal_lines.warranty_months`."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text

from docpost.pipeline import clock, queries
from docpost.pipeline.config import get_settings
from docpost.pipeline.db import engine_for
from docpost.pipeline.entrypoints.cli.common import EXIT_OK, EXIT_USAGE
from docpost.pipeline.entrypoints.cli.main import main
from docpost.schema import Base, Item, JournalLine
from docpost.schema.migrate import alembic_config
from tests.conftest import Runner, norway_catalog, usmf_catalog
from tests.services.helpers import order
from tests.services.test_migration_0004 import At, at_revision, migrate

__all__ = ["at_revision"]  # the fixture, used by the migration test below


def with_warranty(run: Runner, item: str, months: int | None) -> None:
    """The USMF item `item` loaded again with `months` of warranty (None: left out)."""
    entry = next(i for i in usmf_catalog()["items"] if i["item"] == item)
    if months is not None:
        entry = {**entry, "warranty_months": months}
    run.ok("upsert_catalog", {"items": [entry]})


@pytest.fixture
def shop(usmf: Runner) -> Runner:
    """USMF with 24 months on the Surface Pro (1000) and 1 month on the mouse (M0001)."""
    with_warranty(usmf, "1000", 24)
    with_warranty(usmf, "M0001", 1)
    return usmf


def ship_on(run: Runner, number: str, day: str, *lines: dict[str, Any]) -> str:
    payload: dict[str, Any] = {"order": number, "document_date": day}
    if lines:
        payload["lines"] = list(lines)
    return str(run.ok("post_packing_slip", payload, actor="warehouse-1")["journal"])


def invoice_on(run: Runner, number: str, day: str, *lines: dict[str, Any]) -> str:
    payload: dict[str, Any] = {"order": number, "document_date": day}
    if lines:
        payload["lines"] = list(lines)
    return str(run.ok("post_invoice", payload)["journal"])


def sold(run: Runner, number: str, serial: str, shipped: str, invoiced: str | None = None) -> None:
    """Order `number` for one Surface Pro, shipped with `serial` on `shipped` and, when
    given, invoiced on `invoiced`."""
    order(run, number, ("1000", "1", "1900.00"))
    ship_on(run, number, shipped, {"line": 1, "quantity": "1", "serials": [serial]})
    if invoiced is not None:
        invoice_on(run, number, invoiced)


def traced(run: Runner, serial: str, on: str | None, item: str | None = None) -> dict[str, Any]:
    with run.sessions() as session:
        day = None if on is None else dt.date.fromisoformat(on)
        return queries.trace(session, serial, item, day)


def warranty(found: dict[str, Any]) -> tuple[Any, Any]:
    return found["warranty_until"], found["warranty_valid"]


# --- the catalog -------------------------------------------------------------------------------


def test_s15_items_take_warranty_months_and_a_reload_without_it_clears_it(usmf: Runner) -> None:
    """S15: `warranty_months` is written on the item; a catalog that names the item again
    without it leaves it with none (every part of a catalog replaces what it names)."""
    with_warranty(usmf, "1000", 24)
    with usmf.sessions() as session:
        assert session.get(Item, "1000").warranty_months == 24  # type: ignore[union-attr]
        assert session.get(Item, "S0021").warranty_months is None  # type: ignore[union-attr]
    with_warranty(usmf, "1000", None)
    with usmf.sessions() as session:
        assert session.get(Item, "1000").warranty_months is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("months", "message"),
    [
        (0, "0 is no warranty period; give whole months from 1 to 1200, or leave "
            "warranty_months out for an item without warranty"),
        (1201, "1201 is no warranty period; give whole months from 1 to 1200, or leave "
               "warranty_months out for an item without warranty"),
        (-3, "-3 is no warranty period; give whole months from 1 to 1200, or leave "
             "warranty_months out for an item without warranty"),
        (True, "must be a whole number, not true/false"),
        (2.5, "Input should be a valid integer, got a number with a fractional part"),
    ],
)  # fmt: skip
def test_s15_a_warranty_period_that_is_none_is_refused_naming_the_field(
    usmf: Runner, months: Any, message: str
) -> None:
    entry = {**usmf_catalog()["items"][0], "warranty_months": months}
    error = usmf.rejected("upsert_catalog", {"items": [entry]})
    assert error["code"] == "request.invalid"
    assert error["message"] == (
        f"invalid upsert_catalog request: payload.items[0].warranty_months: {message}"
    )
    with usmf.sessions() as session:
        assert session.get(Item, "1000").warranty_months is None  # type: ignore[union-attr]


# --- valid on a day ------------------------------------------------------------------------------


def test_s15_s11_valid_on_the_last_day_and_not_the_day_after(shop: Runner) -> None:
    """S15: 24 months from the packing slip of 15 January 2026 run until 15 January 2028,
    that day included; on the 16th the warranty is over. The trace (S11) still shows the
    sale either way."""
    sold(shop, "SO-1", "SN-1", shipped="2026-01-15", invoiced="2026-01-20")
    last_day = traced(shop, "SN-1", "2028-01-15")
    assert warranty(last_day) == ("2028-01-15", True)
    assert last_day["on"] == "2028-01-15"
    sale = last_day["sales"][0]
    assert (sale["warranty_months"], sale["warranty_from"]) == (24, "2026-01-15")
    assert (sale["warranty_until"], sale["warranty_valid"], sale["current"]) == (
        "2028-01-15",
        True,
        True,
    )
    assert warranty(traced(shop, "SN-1", "2028-01-16")) == ("2028-01-15", False)
    assert warranty(traced(shop, "SN-1", "2026-01-15")) == ("2028-01-15", True)
    assert warranty(traced(shop, "SN-1", "2026-01-14")) == ("2028-01-15", False)  # before


def test_s15_the_warranty_runs_from_the_packing_slip_not_the_invoice(shop: Runner) -> None:
    """S15: "from the date it was shipped": invoiced a month after the delivery, the warranty
    still runs from the packing slip's date (negative control: the invoice's would end on
    20 February 2028)."""
    sold(shop, "SO-1", "SN-1", shipped="2026-01-15", invoiced="2026-02-20")
    found = traced(shop, "SN-1", "2028-02-01")
    assert found["sales"][0]["invoice"] is not None
    assert warranty(found) == ("2028-01-15", False)
    # S11's `date` of the sale is its documents' too (the invoice's), not the posting day.
    assert found["sales"][0]["date"] == "2026-02-20"


def test_s15_an_invoice_that_ships_itself_starts_the_warranty(shop: Runner) -> None:
    """S15 and S1: "or invoiced when shipped and invoiced at once": an invoice posted without
    a packing slip registers the serial, and the warranty runs from its date."""
    order(shop, "SO-1", ("1000", "1", "1900.00"))
    invoice_on(shop, "SO-1", "2026-03-10", {"line": 1, "quantity": "1", "serials": ["SN-1"]})
    found = traced(shop, "SN-1", "2028-03-10")
    assert found["sales"][0]["packing_slip"] is None
    assert found["sales"][0]["warranty_from"] == "2026-03-10"
    assert warranty(found) == ("2028-03-10", True)


def test_s15_s13_a_pos_sale_starts_the_warranty_on_its_date(shop: Runner) -> None:
    """S13/S15: a point-of-sale sale posts packing slip and invoice at once, on its date."""
    shop.ok(
        "post_pos_sale",
        {
            "document_date": "2026-01-31",
            "lines": [{"item": "M0001", "quantity": "1", "unit_price": "29.00", "serial": "MP-1"}],
        },
        actor="pos-1",
    )
    found = traced(shop, "MP-1", "2026-02-28")
    assert found["sales"][0]["warranty_from"] == "2026-01-31"
    assert warranty(found) == ("2026-02-28", True)  # 31 January + 1 month


def test_s15_a_month_end_start_ends_on_the_shorter_month_s_last_day(shop: Runner) -> None:
    """S15: 31 January + 1 month is 28 February 2026 (no 31st, no 29th): valid that day,
    not on 1 March; in a leap year it is the 29th."""
    order(shop, "SO-1", ("M0001", "2", "29.00"))
    ship_on(shop, "SO-1", "2026-01-31", {"line": 1, "quantity": "1", "serials": ["MP-1"]})
    ship_on(shop, "SO-1", "2028-01-31", {"line": 1, "quantity": "1", "serials": ["MP-2"]})
    assert warranty(traced(shop, "MP-1", "2026-02-28")) == ("2026-02-28", True)
    assert warranty(traced(shop, "MP-1", "2026-03-01")) == ("2026-02-28", False)
    assert warranty(traced(shop, "MP-2", "2028-02-29")) == ("2028-02-29", True)


# --- returned, resold, canceled ------------------------------------------------------------------


def test_s15_s11_a_credited_unit_s_warranty_ends_on_its_credit_note(shop: Runner) -> None:
    """S11/S15: a returned (credited) unit's warranty ends the day its credit note is dated:
    valid the day before, not on it nor later; the last day it would have run to is told."""
    sold(shop, "SO-1", "SN-1", shipped="2026-01-15", invoiced="2026-01-20")
    invoice = traced(shop, "SN-1", None)["sales"][0]["invoice"]
    shop.ok("post_credit_note", {"invoice": invoice, "document_date": "2026-06-01"})
    found = traced(shop, "SN-1", "2026-06-01")
    assert found["sales"][0]["credited"] is True
    assert warranty(found) == ("2028-01-15", False)
    assert warranty(traced(shop, "SN-1", "2026-05-31")) == ("2028-01-15", True)


def test_s15_s5_a_unit_sold_again_answers_with_its_latest_sale(shop: Runner) -> None:
    """S5/S15: credited, then sold to another order: the trace lists both sales, the current
    one last and marked, and answers with its warranty (from the resale's packing slip)."""
    sold(shop, "SO-1", "SN-1", shipped="2026-01-15", invoiced="2026-01-20")
    invoice = traced(shop, "SN-1", None)["sales"][0]["invoice"]
    shop.ok("post_credit_note", {"invoice": invoice, "document_date": "2026-03-01"})
    sold(shop, "SO-2", "SN-1", shipped="2026-04-10")
    found = traced(shop, "SN-1", "2028-03-01")
    first, resale = found["sales"]
    assert (first["order"], first["current"], first["warranty_valid"]) == ("SO-1", False, False)
    assert (resale["order"], resale["current"]) == ("SO-2", True)
    assert warranty(found) == ("2028-04-10", True)
    assert warranty(traced(shop, "SN-1", "2028-04-11")) == ("2028-04-10", False)


def test_s15_s10_a_canceled_packing_slip_delivers_nothing_until_shipped_again(
    shop: Runner,
) -> None:
    """S10/S15: while its packing slip is canceled the unit is not delivered (no last day,
    not valid); shipped again on the reused registration, the warranty runs from the new
    packing slip's date."""
    order(shop, "SO-1", ("1000", "1", "1900.00"))
    ps = ship_on(shop, "SO-1", "2026-01-15", {"line": 1, "quantity": "1", "serials": ["SN-1"]})
    shop.ok("cancel_packing_slip", {"packing_slip": ps}, actor="warehouse-1")
    assert warranty(traced(shop, "SN-1", "2026-02-01")) == (None, False)
    ship_on(shop, "SO-1", "2026-02-03")
    found = traced(shop, "SN-1", "2026-02-03")
    assert len(found["sales"]) == 1  # the same registration, shipped again
    assert warranty(found) == ("2028-02-03", True)


# --- no warranty, frozen, ambiguous --------------------------------------------------------------


def test_s15_an_item_without_warranty_months_answers_none_not_false(shop: Runner) -> None:
    """S15: no period, no warranty: the fields are null (a script tells "no warranty" from
    "expired"); a negative control with a period on the same day says True."""
    with_warranty(shop, "1000", None)
    sold(shop, "SO-1", "SN-1", shipped="2026-01-15")
    found = traced(shop, "SN-1", "2026-01-15")
    assert found["warranty_until"] is None and found["warranty_valid"] is None
    sale = found["sales"][0]
    assert (sale["warranty_months"], sale["warranty_until"], sale["warranty_valid"]) == (
        None,
        None,
        None,
    )
    with_warranty(shop, "1000", 24)
    sold(shop, "SO-2", "SN-2", shipped="2026-01-15")
    assert warranty(traced(shop, "SN-2", "2026-01-15")) == ("2028-01-15", True)


def test_s15_d6_the_period_is_frozen_on_the_lines_at_posting(shop: Runner) -> None:
    """D6/S15: a unit keeps the period its packing slip line froze; the item's new period
    reaches only units shipped after the change (negative control: SN-2 gets 36)."""
    sold(shop, "SO-1", "SN-1", shipped="2026-01-15")
    with_warranty(shop, "1000", 36)
    sold(shop, "SO-2", "SN-2", shipped="2026-01-15")
    with_warranty(shop, "1000", None)  # and gone from the item: sold units keep theirs
    assert warranty(traced(shop, "SN-1", "2028-06-01")) == ("2028-01-15", False)
    assert warranty(traced(shop, "SN-2", "2028-06-01")) == ("2029-01-15", True)
    with shop.sessions() as session:
        frozen = session.scalars(select(JournalLine.warranty_months).order_by(JournalLine.id)).all()
    assert list(frozen) == [24, 36]


def test_s15_a_serial_on_two_items_needs_the_item(shop: Runner) -> None:
    """S11/S15: serials are unique per item (S5): one on two items has two current sales, so
    the trace's own warranty fields are None until --item picks one; each sale tells its own."""
    sold(shop, "SO-1", "X-1", shipped="2026-01-15")
    order(shop, "SO-2", ("M0001", "1", "29.00"))
    ship_on(shop, "SO-2", "2026-01-15", {"line": 1, "quantity": "1", "serials": ["X-1"]})
    found = traced(shop, "X-1", "2026-02-01")
    assert warranty(found) == (None, None)
    assert [(s["item"], s["warranty_valid"], s["current"]) for s in found["sales"]] == [
        ("1000", True, False),
        ("M0001", True, False),
    ]
    assert warranty(traced(shop, "X-1", "2026-02-01", item="M0001")) == ("2026-02-15", True)
    assert warranty(traced(shop, "X-1", "2026-02-16", item="1000")) == ("2028-01-15", True)


def test_s15_a_serial_never_sold_answers_none(shop: Runner) -> None:
    found = traced(shop, "NOPE", "2026-01-01")
    assert (found["sales"], warranty(found)) == ([], (None, None))


# --- today, in the company's time zone -----------------------------------------------------------

# 23:30 UTC on 14 March 2025 is already the 15th in Oslo (UTC+1 before summer time).
LATE_EVENING_UTC = dt.datetime(2025, 3, 14, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def knives(norway: Runner) -> Runner:
    """The Norwegian example with its knife (KNIV-1) serialized and 12 months of warranty."""
    catalog = norway_catalog()
    knife = copy.deepcopy(next(i for i in catalog["items"] if i["item"] == "KNIV-1"))
    group = next(g for g in usmf_catalog()["tracking_groups"] if g["code"] == "SN-SALES")
    norway.ok(
        "upsert_catalog",
        {
            "tracking_groups": [group],
            "items": [{**knife, "tracking_group": "SN-SALES", "warranty_months": 12}],
        },
    )
    return norway


def test_s15_p1_without_on_the_day_is_today_in_the_company_s_zone(
    knives: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S15/P1: without a day, the warranty is judged today in the company's time zone
    (Europe/Oslo): at 23:30 UTC on 14 March 2025 that is the 15th, so a knife delivered on
    14 March 2024 (12 months: until 14 March 2025) is no longer covered; the UTC date, the
    14th, would say it is (the negative control)."""
    monkeypatch.setattr(clock, "now", lambda: LATE_EVENING_UTC)
    knives.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [{"line": 1, "item": "KNIV-1", "quantity": "1", "unit_price": "249.00"}],
        },
    )
    ship_on(knives, "SO-1", "2024-03-14", {"line": 1, "quantity": "1", "serials": ["K-1"]})
    found = traced(knives, "K-1", None)
    assert found["on"] == "2025-03-15"
    assert warranty(found) == ("2025-03-14", False)
    assert warranty(traced(knives, "K-1", LATE_EVENING_UTC.date().isoformat())) == (
        "2025-03-14",
        True,
    )


# --- docpost trace SERIAL [--on DATE] ------------------------------------------------------------


@pytest.fixture
def cli(shop: Runner, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runner]:
    """`docpost` on the test database: Surface Pros (24 months) SN-1, shipped on 15 January
    2026 and invoiced, and SN-2, shipped on 31 January 2026."""
    monkeypatch.setenv("DOCPOST_DATABASE_URL", db_url)
    get_settings.cache_clear()
    sold(shop, "SO-1", "SN-1", shipped="2026-01-15", invoiced="2026-01-20")
    sold(shop, "SO-2", "SN-2", shipped="2026-01-31")
    yield shop
    get_settings.cache_clear()
    engine_for(db_url).dispose()


def trace_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["trace", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_s15_cli_text_says_valid_until_the_last_day(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """`docpost trace SN-1 --on 2028-01-15`: the sale's row with its last day and "yes",
    and one line in words; the day after says it ran out."""
    code, out, err = trace_cli(capsys, "SN-1", "--on", "2028-01-15")
    assert (code, err) == (EXIT_OK, "")
    lines = out.splitlines()
    header = lines[0].split()
    assert header[-2:] == ["warranty_until", "valid"]
    assert lines[2].split()[-2:] == ["2028-01-15", "yes"]
    assert lines[-1] == "warranty on 2028-01-15: valid, from 2026-01-15 until 2028-01-15"
    _, out, _ = trace_cli(capsys, "SN-1", "--on", "2028-01-16")
    assert out.splitlines()[2].split()[-2:] == ["2028-01-15", "no"]
    assert out.splitlines()[-1] == (
        "warranty on 2028-01-16: not valid, it ran from 2026-01-15 until 2028-01-15"
    )
    _, out, _ = trace_cli(capsys, "SN-2", "--on", "2026-01-30")
    assert out.splitlines()[-1] == (
        "warranty on 2026-01-30: not valid, the unit was delivered on 2026-01-31; "
        "it runs until 2028-01-31"
    )


def test_s15_cli_text_of_a_credited_unit_and_of_no_warranty(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    invoice = traced(cli, "SN-1", None)["sales"][0]["invoice"]
    credit = cli.ok("post_credit_note", {"invoice": invoice, "document_date": "2026-06-01"})
    _, out, _ = trace_cli(capsys, "SN-1", "--on", "2026-06-01")
    assert out.splitlines()[-1] == (
        f"warranty on 2026-06-01: not valid, the unit was credited ({credit['journal']}); "
        "it would have run until 2028-01-15"
    )
    with_warranty(cli, "1000", None)
    sold(cli, "SO-9", "SN-9", shipped="2026-01-15")
    _, out, _ = trace_cli(capsys, "SN-9", "--on", "2026-06-01")
    assert out.splitlines()[2].split()[-1] == "no"  # credited "no", the warranty cells empty
    assert out.splitlines()[-1] == "warranty: none (item 1000 has no warranty period)"


def test_s15_cli_json_adds_the_warranty_fields(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    """`docpost trace SN-2 --on 2026-02-28 --json`: the CONTRACT's `warranty_until` and
    `warranty_valid`, the day judged on, and per sale its period and start."""
    code, out, _ = trace_cli(capsys, "SN-2", "--on", "2026-02-28", "--json")
    assert code == EXIT_OK
    found = json.loads(out)
    assert (found["on"], found["warranty_until"], found["warranty_valid"]) == (
        "2026-02-28",
        "2028-01-31",
        True,
    )
    sale = found["sales"][0]
    assert {k: sale[k] for k in ("warranty_months", "warranty_from", "current")} == {
        "warranty_months": 24,
        "warranty_from": "2026-01-31",
        "current": True,
    }


@pytest.mark.parametrize("bad", ["2026-02-30", "31.01.2026", "20260131", "2026-W05-1", ""])
def test_s15_cli_a_bad_on_is_a_usage_error(
    cli: Runner, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    """A day that is no YYYY-MM-DD date exits 2 with one line saying what would be right,
    in words or (with --json) as an error document; nothing on stdout in words."""
    message = f"trace: --on {bad!r} is not a date; write it YYYY-MM-DD, e.g. 2026-01-31"
    assert trace_cli(capsys, "SN-1", "--on", bad) == (EXIT_USAGE, "", f"docpost: {message}\n")
    code, out, _ = trace_cli(capsys, "SN-1", "--on", bad, "--json")
    assert code == EXIT_USAGE
    assert json.loads(out) == {"error": {"code": "usage", "message": message}}


def test_s15_cli_without_on_judges_today(
    cli: Runner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2027, 5, 1, 12, tzinfo=dt.UTC))
    code, out, _ = trace_cli(capsys, "SN-1", "--json")
    assert code == EXIT_OK
    assert (json.loads(out)["on"], json.loads(out)["warranty_valid"]) == ("2027-05-01", True)


def test_s15_cli_a_serial_never_sold(cli: Runner, capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 18 item 4: a lookup that finds nothing exits 1, saying so on stderr.
    code, out, err = trace_cli(capsys, "NOPE", "--on", "2026-01-01")
    assert (code, out, err) == (1, "", "docpost: serial 'NOPE' was never registered on a sale\n")


def test_s15_cli_a_serial_on_two_items_asks_for_the_item(
    cli: Runner, capsys: pytest.CaptureFixture[str]
) -> None:
    order(cli, "SO-3", ("M0001", "1", "29.00"))
    ship_on(cli, "SO-3", "2026-01-15", {"line": 1, "quantity": "1", "serials": ["SN-2"]})
    _, out, _ = trace_cli(capsys, "SN-2", "--on", "2026-02-01")
    assert out.splitlines()[-1] == (
        "warranty: the serial is on items 1000, M0001; give --item ITEM to judge its warranty"
    )
    _, out, _ = trace_cli(capsys, "SN-2", "--item", "M0001", "--on", "2026-02-01")
    assert out.splitlines()[-1] == "warranty on 2026-02-01: valid, from 2026-01-15 until 2026-02-15"


# --- migration 0013 ----------------------------------------------------------------------------


def _item_and_line_at_0012(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO items (item, name, unit, base_sales_price, catch_weight, bundle) "
                "VALUES ('1000', 'Surface Pro', 'ea', '1900.00', false, false)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO customers (customer, name, currency, address, tax_treatment) "
                "VALUES ('NO-1', 'Kunde', 'NOK', '', 'domestic')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sales_orders (id, order_no, customer_code, currency, origin, "
                "created_at) VALUES (1, 'SO-1', 'NO-1', 'NOK', 'order', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO journals (id, number, kind, order_id, customer_code, currency, "
                "posting_date, posted_at, request_id, actor) VALUES (1, 'PS-000001', "
                "'packing_slip', 1, 'NO-1', 'NOK', '2026-01-02', '2026-01-02 10:00:00', "
                "'r-1', 'erp')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO journal_lines (id, journal_id, position, line_no, item_code, "
                "item_name, unit, quantity, is_bundle_parent) VALUES (1, 1, 1, 1, '1000', "
                "'Surface Pro', 'ea', '1', false)"
            )
        )


def _warranties(engine: Engine) -> tuple[object, object]:
    with engine.connect() as conn:
        item = conn.execute(text("SELECT warranty_months FROM items")).scalar()
        line = conn.execute(text("SELECT warranty_months FROM journal_lines")).scalar()
    return item, line


def test_0013_upgrades_a_database_at_0012_with_data_and_downgrades(at_revision: At) -> None:
    """S15, D6: 0013 adds the nullable `warranty_months` to items and journal lines; an item and
    a line from before keep NULL (no warranty: none had one); the result is the models'
    exactly; it downgrades to 0012 with warranties in it, keeping the rows."""
    engine = at_revision("0012")
    _item_and_line_at_0012(engine)
    migrate(engine, "0013")
    assert _warranties(engine) == (None, None)
    migrate(engine, "head")  # the models are the latest revision's, 0013's and those after it
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    with engine.begin() as conn:
        conn.execute(text("UPDATE items SET warranty_months = 24"))
        conn.execute(text("UPDATE journal_lines SET warranty_months = 12"))
    assert _warranties(engine) == (24, 12)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT item FROM items")).scalar() == "1000"
        assert conn.execute(text("SELECT item_code FROM journal_lines")).scalar() == "1000"
        for table in ("items", "journal_lines"):
            columns = conn.execute(text(f"SELECT * FROM {table}")).keys()
            assert "warranty_months" not in columns
    migrate(engine, "0013")  # and up again: the chain is stable both ways
    assert _warranties(engine) == (None, None)
