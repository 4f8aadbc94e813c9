"""A confirmation freezes VAT as an invoice does (issue 15: "confirmations show VAT too"), on
SQLite and PostgreSQL, through the Norwegian example catalog (pipeline/examples/norway).

- T1: every line but an exploded bundle's parent carries its item's tax code, category and
  rate on the confirmation's document date, frozen in the journal line; the parent carries
  none, its components carry their own (T4).
- T3: the VAT breakdown per code (its category and rate), the net total, the VAT total and
  the total incl. VAT on the journal, by the same rule as the invoice of the same lines.
- T7: an order in another currency states its VAT in the company currency too.
- P1: the rate is the one in force on the confirmation's date: the request's document_date,
  else today in the company's time zone (Europe/Oslo).
- D6: what was frozen stays: a later rate change in the catalog does not reach the journal.
- A confirmation is not an invoice: no due date, no KID, no voucher (nothing in the ledger,
  nor in the VAT summary a VAT return reads, L1).
- A catalog without tax codes (USMF), or a company not VAT registered, confirms with no VAT.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, update

from docpost.pipeline import clock, queries
from docpost.pipeline.config import get_settings
from docpost.schema import Item, Journal, LedgerEntry
from tests.conftest import Runner, norway_catalog

BASKET_VAT = [
    # (tax code, category, rate, taxable, VAT): 3 baskets of cheese (15 %) and knife (25 %)
    ("3", "S", "25.00", "747.00", "186.75"),
    ("31", "S", "15.00", "567.00", "85.05"),
]


HEADER = (
    "customer",
    "currency",
    "exchange_rate",
    "buyer_reference",
)  # the order's, not the request's


def confirm(run: Runner, *lines: tuple[str, str, str], **request: Any) -> str:
    """SO-1 for NO-1001 (or `customer`) of (item, quantity, unit price) lines, confirmed with
    the request's `document_date` when given; the confirmation's number."""
    header = {k: request.pop(k) for k in HEADER if k in request}
    run.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": header.pop("customer", "NO-1001"),
            "lines": [
                {"line": n, "item": item, "quantity": quantity, "unit_price": price}
                for n, (item, quantity, price) in enumerate(lines, start=1)
            ],
            **header,
        },
    )
    number: str = run.ok("confirm_order", {"order": "SO-1", **request})["journal"]
    return number


def shown(run: Runner, number: str) -> dict[str, Any]:
    with run.sessions() as session:
        return queries.show_journal(session, number)


def vat_rows(journal: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [
        (v["tax_code"], v["category"], v["rate"], v["taxable_amount"], v["vat_amount"])
        for v in journal["vat"]
    ]


def line_taxes(journal: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(ln["item"], ln["tax_code"], ln["vat_rate"]) for ln in journal["lines"]]


def ledger_entries(run: Runner) -> int:
    with run.sessions() as session:
        return session.scalar(select(func.count()).select_from(LedgerEntry)) or 0


def with_rates(code: str, rates: list[dict[str, str]]) -> dict[str, Any]:
    """The Norwegian catalog with tax code `code`'s rates replaced."""
    catalog = copy.deepcopy(norway_catalog())
    next(c for c in catalog["tax_codes"] if c["code"] == code)["rates"] = rates
    return catalog


# --- T1, T3, T4: the gift basket ---------------------------------------------------------------


def test_t1_t3_t4_confirmation_freezes_the_gift_baskets_vat(norway: Runner) -> None:
    """T4: three gift baskets (438.00 each) explode into cheese 567.00 at 15 % (code 31) and
    knife 747.00 at 25 % (code 3); T1: the components carry their codes and rates, the parent
    none (its amount is theirs, B4, and is not taxed twice); T3: VAT 85.05 + 186.75 = 271.80,
    net 1,314.00, total incl. VAT 1,585.80; no due date or KID (not an invoice)."""
    number = confirm(norway, ("GAVE-1", "3", "438.00"))
    journal = shown(norway, number)
    assert journal["kind"] == "confirmation"
    assert line_taxes(journal) == [
        ("GAVE-1", None, None),
        ("OST-1", "31", "15.00"),
        ("KNIV-1", "3", "25.00"),
    ]
    assert [ln["vat_category"] for ln in journal["lines"]] == [None, "S", "S"]
    assert vat_rows(journal) == BASKET_VAT
    assert (journal["total_amount"], journal["net_total"]) == ("1314.00", "1314.00")
    assert (journal["vat_total"], journal["total"]) == ("271.80", "1585.80")
    assert (journal["due_date"], journal["kid"]) == (None, None)


def test_t3_the_confirmation_states_the_vat_its_invoice_will(norway: Runner) -> None:
    """T3: a basket (15 % and 25 %) and two books (zero rated, code 5) confirmed and then
    invoiced whole: the confirmation's VAT breakdown, a group per code with the 0 % one, and
    its totals are the invoice's, to the cent (one rule, the same lines)."""
    number = confirm(norway, ("GAVE-1", "1", "438.00"), ("BOK-1", "2", "349.00"))
    invoice = norway.ok("post_invoice", {"order": "SO-1"})["journal"]
    confirmation, invoiced = shown(norway, number), shown(norway, invoice)
    assert (
        vat_rows(confirmation)
        == vat_rows(invoiced)
        == [
            ("3", "S", "25.00", "249.00", "62.25"),
            ("31", "S", "15.00", "189.00", "28.35"),
            ("5", "Z", "0.00", "698.00", "0.00"),
        ]
    )
    for key in ("net_total", "vat_total", "total"):
        assert confirmation[key] == invoiced[key], key
    assert confirmation["total"] == "1226.60"


def test_p3_the_buyers_reference_is_frozen_on_the_confirmation(norway: Runner) -> None:
    """P3: the order's buyer's reference is frozen on its confirmation, as on its invoice."""
    number = confirm(norway, ("BOK-1", "1", "349.00"), buyer_reference="PO 4711")
    assert shown(norway, number)["buyer_reference"] == "PO 4711"


# --- a confirmation is not an invoice: nothing in the ledger (L1) ------------------------------


def test_l1_a_confirmation_posts_nothing_to_the_ledger_nor_the_vat_summary(
    norway: Runner,
) -> None:
    """A confirmation with VAT writes no voucher (no ledger entry at all) and its frozen VAT is
    not output VAT: the VAT summary a VAT return reads stays empty. Negative control: once the
    order is invoiced, the ledger and the summary hold the invoice's VAT, once."""
    confirm(norway, ("GAVE-1", "3", "438.00"))
    assert ledger_entries(norway) == 0
    with norway.sessions() as session:
        assert queries.ledger(session)["vat_summary"] == []
    norway.ok("post_invoice", {"order": "SO-1"})
    assert ledger_entries(norway) > 0
    with norway.sessions() as session:
        summary = queries.ledger(session)["vat_summary"]
    assert [(s["tax_code"], s["taxable_amount"], s["vat_amount"]) for s in summary] == [
        ("3", "747.00", "186.75"),
        ("31", "567.00", "85.05"),
    ]


# --- P1, T1: the rate in force on the confirmation's date --------------------------------------


@pytest.mark.parametrize(
    ("document_date", "rate", "vat"),
    [("2026-12-31", "25.00", "62.25"), ("2027-01-01", "27.00", "67.23")],
)
def test_p1_t1_the_rate_in_force_on_the_requests_document_date(
    run: Runner, document_date: str, rate: str, vat: str
) -> None:
    """P1/T1: code 3 goes from 25 % to 27 % on 2027-01-01 (a test rate): a confirmation dated
    the day before by its request carries 25 % on the knife (249.00), one dated that day 27 %."""
    rates = [{"rate": "25", "valid_from": "2005-01-01"}, {"rate": "27", "valid_from": "2027-01-01"}]
    run.ok("upsert_catalog", with_rates("3", rates))
    number = confirm(run, ("KNIV-1", "1", "249.00"), document_date=document_date)
    journal = shown(run, number)
    assert journal["document_date"] == document_date
    assert line_taxes(journal) == [("KNIV-1", "3", rate)]
    assert journal["vat_total"] == vat


MOMENT = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)  # 00:30 on 1 December in Oslo


def test_p1_t1_without_a_date_the_rate_of_today_in_the_companys_time_zone(
    run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P1: at 23:30 UTC on 30 November it is 1 December in Oslo (the company's zone), the day
    code 3 goes to 27 % (a test rate): a confirmation without document_date is dated
    1 December and carries 27 %, though the settings' zone (UTC) still says 30 November.
    Negative control: the same order confirmed for 30 November carries 25 %."""
    monkeypatch.setattr(clock, "now", lambda: MOMENT)
    monkeypatch.setattr(get_settings(), "company_time_zone", "UTC")
    rates = [{"rate": "25", "valid_from": "2005-01-01"}, {"rate": "27", "valid_from": "2026-12-01"}]
    run.ok("upsert_catalog", with_rates("3", rates))
    today = shown(run, confirm(run, ("KNIV-1", "1", "249.00")))
    assert today["document_date"] == "2026-12-01"
    assert (line_taxes(today), today["vat_total"]) == ([("KNIV-1", "3", "27.00")], "67.23")
    run.ok("upsert_order", {"order": "SO-1", "customer": "NO-1001"})
    before = shown(
        run, run.ok("confirm_order", {"order": "SO-1", "document_date": "2026-11-30"})["journal"]
    )
    assert (line_taxes(before), before["vat_total"]) == ([("KNIV-1", "3", "25.00")], "62.25")


def test_m8_a_confirmation_dated_before_a_codes_first_rate_is_refused(norway: Runner) -> None:
    """T1/M8: a confirmation dated 2004-12-31 finds no rate of code 3 (valid from 2005-01-01):
    refused naming the code and the date, and no confirmation is written (L3)."""
    norway.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [{"line": 1, "item": "KNIV-1", "quantity": "1", "unit_price": "249.00"}],
        },
    )
    error = norway.rejected("confirm_order", {"order": "SO-1", "document_date": "2004-12-31"})
    assert (error["code"], error["rule"]) == ("tax.no_rate_on_date", "M8")
    assert error["message"] == (
        "tax code 3 has no rate valid on 2004-12-31; its first rate is valid from 2005-01-01"
    )
    with norway.sessions() as session:
        assert session.scalars(select(Journal)).all() == []


def test_m8_t1_an_item_that_lost_its_tax_code_is_refused_at_confirmation(norway: Runner) -> None:
    """M8/T1: the catalog load refuses an item without a tax code; one that lost it around that
    check (written directly here) is refused at confirmation, naming the item, as an invoice
    would be: a confirmation cannot state VAT it cannot decide. Nothing is written (L3)."""
    norway.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [{"line": 1, "item": "GAVE-1", "quantity": "1", "unit_price": "438.00"}],
        },
    )
    with norway.sessions() as session, session.begin():
        session.execute(update(Item).where(Item.item == "OST-1").values(tax_code=None))
    error = norway.rejected("confirm_order", {"order": "SO-1"})
    assert (error["code"], error["rule"]) == ("tax.item_without_code", "M8")
    assert error["message"] == "item OST-1 has no tax code; every item needs one (M8)"
    with norway.sessions() as session:
        assert session.scalars(select(Journal)).all() == []


# --- D6: frozen at confirmation ----------------------------------------------------------------


def test_d6_a_later_rate_change_does_not_reach_the_confirmation(norway: Runner) -> None:
    """D6: after the confirmation, the catalog gives code 31 a rate of 16 % from 2012 (as if
    it had always been so); the confirmation keeps 15 % and its 85.05. Negative control: a new
    confirmation of the order takes 16 %."""
    number = confirm(norway, ("GAVE-1", "3", "438.00"))
    norway.ok("upsert_catalog", with_rates("31", [{"rate": "16", "valid_from": "2012-01-01"}]))
    journal = shown(norway, number)
    assert line_taxes(journal)[1] == ("OST-1", "31", "15.00")
    assert vat_rows(journal) == BASKET_VAT
    again = shown(norway, norway.ok("confirm_order", {"order": "SO-1"})["journal"])
    assert line_taxes(again)[1] == ("OST-1", "31", "16.00")
    assert vat_rows(again)[1] == ("31", "S", "16.00", "567.00", "90.72")


# --- T7 -------------------------------------------------------------------------------------------


def test_t7_a_confirmation_in_sek_states_its_vat_in_nok(norway: Runner) -> None:
    """T7: SE-2001 buys at home rates (domestic treatment for the test) in SEK at 0.98 NOK per
    SEK: 100.00 SEK at 25 % is 25.00 SEK VAT, stated as 24.50 NOK on 98.00 NOK."""
    catalog = norway_catalog()
    for customer in catalog["customers"]:
        if customer["customer"] == "SE-2001":
            customer["tax_treatment"] = "domestic"
    norway.ok("upsert_catalog", catalog)
    number = confirm(
        norway, ("KNIV-1", "1", "100.00"), customer="SE-2001", currency="SEK", exchange_rate="0.98"
    )
    journal = shown(norway, number)
    assert vat_rows(journal) == [("3", "S", "25.00", "100.00", "25.00")]
    vat = journal["vat"][0]
    assert (vat["company_taxable_amount"], vat["company_vat_amount"]) == ("98.00", "24.50")
    assert (journal["exchange_rate"], journal["total"]) == ("0.98", "125.00")


# --- catalogs without VAT: as before ----------------------------------------------------------


def test_a_catalog_without_tax_codes_confirms_with_no_vat(usmf: Runner) -> None:
    """The USMF example (no company, no tax codes): the confirmation carries no tax on its
    lines, an empty breakdown and no totals beyond its net total, as before issue 15."""
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "M0001", "quantity": "2", "unit_price": "10.00"}],
        },
    )
    journal = shown(usmf, usmf.ok("confirm_order", {"order": "SO-1"})["journal"])
    assert (journal["vat"], journal["vat_total"], journal["exchange_rate"]) == ([], None, None)
    assert (journal["net_total"], journal["total"]) == ("20.00", "20.00")
    assert line_taxes(journal) == [("M0001", None, None)]
    assert ledger_entries(usmf) == 0


def test_a_company_not_vat_registered_confirms_with_no_vat(run: Runner) -> None:
    """M6: a company not VAT registered charges no VAT: its confirmation neither."""
    catalog = norway_catalog()
    catalog["company"]["vat_registered"] = False
    run.ok("upsert_catalog", catalog)
    journal = shown(run, confirm(run, ("GAVE-1", "1", "438.00")))
    assert (journal["vat"], journal["vat_total"], journal["total"]) == ([], None, "438.00")
    assert [tax for _, tax, _ in line_taxes(journal)] == [None, None, None]
