"""Foreign currency (T7) with deferred revenue (B11) and credit notes (B10, T5), on SQLite and
PostgreSQL: a USD order at 10.5 NOK per USD (the Norwegian example, company currency NOK) whose
course (KURS-1, 25 %) is deferred over three months, credited in parts before and after a
release, then in full.

What must hold throughout (L1 with B11 and T7): every voucher balances in NOK; deferred revenue
(2900) holds in NOK exactly what the schedule has still to release, so nothing is released
twice and nothing stays behind; no period of the schedule ever goes below zero; once an
invoice is fully credited its deferred revenue and its revenue are 0 in NOK.

The ledger keeps no document-currency amount per entry (ledger_entries has no such column):
T7's "each entry keeping its document-currency amount too" is not asserted here.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from docpost.pipeline import clock
from docpost.pipeline.queries import show_journal
from docpost.pipeline.rules.revenue import monthly_periods
from docpost.pipeline.rules.tax import rounding_bound, to_company_currency
from docpost.schema import Journal, LedgerEntry, RevenueScheduleLine
from tests.conftest import Runner, norway_catalog

D = Decimal
RATE = D("10.5")
DEFERRED, REVENUE, RECEIVABLES, VAT_25, VAT_15 = "2900", "3000", "1200", "2700", "2701"


def catalog(occurrences: int = 3) -> dict[str, Any]:
    """The Norwegian example with its course (KURS-1, code 3, 25 %) on a revenue schedule."""
    data = norway_catalog()
    data["revenue_schedules"] = [{"code": "S", "name": "Spread", "occurrences": occurrences}]
    next(i for i in data["items"] if i["item"] == "KURS-1")["revenue_schedule"] = "S"
    return data


class Today:
    """The company's today (clock.company_today, the one clock), moved by the tests so that a
    release may be run as of a later month (B11 refuses a date after today)."""

    def __init__(self) -> None:
        self.day = clock.company_today()


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Today:
    held = Today()
    monkeypatch.setattr(clock, "company_today", lambda zone=None: held.day)
    return held


@pytest.fixture
def shop(run: Runner, today: Today) -> Runner:
    run.ok("upsert_catalog", catalog())
    return run


def month(offset: int, start: dt.date | None = None) -> dt.date:
    """The first day of the month `offset` months after `start` (default today)."""
    return monthly_periods(start or clock.company_today(), offset + 1)[-1]


def release(run: Runner, today: Today, as_of: dt.date) -> dict[str, Any]:
    """recognize_revenue as of `as_of`, run on that day (never ahead of it, B11)."""
    before, today.day = today.day, max(today.day, as_of)
    try:
        return run.ok("recognize_revenue", {"as_of": as_of.isoformat()})
    finally:
        today.day = before


def sell_usd(run: Runner, order: str, *lines: tuple[str, str, str], rate: str = "10.5") -> str:
    """A confirmed USD order of NO-1001 at `rate` NOK per USD, invoiced whole."""
    run.ok(
        "upsert_order",
        {
            "order": order,
            "customer": "NO-1001",
            "currency": "USD",
            "exchange_rate": rate,
            "lines": [
                {"line": n, "item": item, "quantity": qty, "unit_price": price}
                for n, (item, qty, price) in enumerate(lines, start=1)
            ],
        },
    )
    run.ok("confirm_order", {"order": order})
    return str(run.ok("post_invoice", {"order": order})["journal"])


def credit(run: Runner, invoice: str, *lines: tuple[int, str]) -> str:
    """A credit note of (line, quantity) of `invoice`, or of all that is left."""
    payload: dict[str, Any] = {"invoice": invoice}
    if lines:
        payload["lines"] = [{"line": n, "quantity": q} for n, q in lines]
    return str(run.ok("post_credit_note", payload)["journal"])


# --- the ledger and the schedule as the assertions see them --------------------------------------


def balances(run: Runner, invoice: str | None = None) -> dict[str, Decimal]:
    """Account -> balance (debit positive) in NOK: the whole ledger, or what `invoice`, its
    credit notes and the releases of its schedule posted."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with run.sessions() as session:
        query = select(LedgerEntry)
        if invoice is not None:
            ids = session.scalars(
                select(Journal.id).where(
                    (Journal.number == invoice)
                    | Journal.reverses_id.in_(
                        select(Journal.id).where(Journal.number == invoice).scalar_subquery()
                    )
                )
            ).all()
            query = query.where(
                LedgerEntry.journal_id.in_(ids)
                | LedgerEntry.text.startswith(f"{invoice} released to ")
            )
        for entry in session.scalars(query):
            sums[entry.account] += entry.amount
    return sums


def voucher_sums(run: Runner) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with run.sessions() as session:
        for entry in session.scalars(select(LedgerEntry)):
            sums[entry.voucher] += entry.amount
    return sums


def schedule_rows(run: Runner, invoice: str | None) -> list[RevenueScheduleLine]:
    with run.sessions() as session:
        query = select(RevenueScheduleLine)
        if invoice is not None:
            query = query.join(Journal, Journal.id == RevenueScheduleLine.invoice_id).where(
                Journal.number == invoice
            )
        return list(session.scalars(query))


def periods(run: Runner, invoice: str | None = None) -> dict[tuple[int, int], tuple[Decimal, bool]]:
    """(invoice line id, occurrence) -> (what the period holds net of credits, released)."""
    held: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    released: dict[tuple[int, int], bool] = {}
    for line in schedule_rows(run, invoice):
        key = (line.invoice_line_id, line.occurrence)
        held[key] += line.amount
        if line.credit_line_id is None:
            released[key] = line.released_voucher is not None
    return {key: (held[key], released[key]) for key in held}


def still_to_release(run: Runner, invoice: str | None = None) -> Decimal:
    rows = schedule_rows(run, invoice)
    return sum((r.amount for r in rows if r.released_voucher is None), D(0))


def assert_consistent(run: Runner, invoice: str | None = None) -> None:
    """L1: every voucher balances (in NOK, the company currency). B11 with T7: deferred
    revenue in the ledger is what the schedule has still to release, to the cent, and no
    period holds less than nothing (it would release more than was deferred in it); of the
    whole ledger, or of `invoice`'s postings and schedule."""
    sums = voucher_sums(run)
    assert sums and all(total == 0 for total in sums.values()), sums
    assert -balances(run, invoice)[DEFERRED] == still_to_release(run, invoice)
    held = periods(run, invoice)
    assert held and all(amount >= 0 for amount, _ in held.values()), held


def journal(run: Runner, number: str) -> dict[str, Any]:
    with run.sessions() as session:
        return show_journal(session, number)


def entries_of(run: Runner, number: str) -> dict[str, Decimal]:
    """A journal's voucher, account -> amount (NOK)."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with run.sessions() as session:
        journal_id = session.scalars(select(Journal.id).where(Journal.number == number)).one()
        for entry in session.scalars(
            select(LedgerEntry).where(LedgerEntry.journal_id == journal_id)
        ):
            sums[entry.account] += entry.amount
    return dict(sums)


def company_vat(shown: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            v["tax_code"],
            v["taxable_amount"],
            v["vat_amount"],
            v["company_taxable_amount"],
            v["company_vat_amount"],
        )
        for v in shown["vat"]
    ]


# --- the worked example ------------------------------------------------------------------------


def test_t7_b11_usd_invoice_defers_its_net_amount_in_nok(shop: Runner) -> None:
    """B11 with T7: 3 courses at 333.33 USD (999.99 USD, 10,499.90 NOK at 10.5) are deferred
    net of VAT in NOK, over three periods of the schedule in NOK (3,499.96 twice and 3,499.98:
    the last absorbs the rounding); two knives at 23.71 USD are revenue at once (497.91 NOK).
    VAT 261.85 USD on 1,047.41 USD, stated as 2,749.43 NOK (T7); receivables take the sum."""
    invoice = sell_usd(shop, "SO-1", ("KURS-1", "3", "333.33"), ("KNIV-1", "2", "23.71"))
    shown = journal(shop, invoice)
    assert company_vat(shown) == [("3", "1047.41", "261.85", "10997.81", "2749.43")]
    assert entries_of(shop, invoice) == {
        RECEIVABLES: D("13747.24"),
        DEFERRED: D("-10499.90"),
        REVENUE: D("-497.91"),
        VAT_25: D("-2749.43"),
    }
    assert sorted(held for held, _ in periods(shop).values()) == [
        D("3499.96"),
        D("3499.96"),
        D("3499.98"),
    ]
    assert_consistent(shop)


def test_t7_b11_b10_partial_credits_before_and_after_a_release_then_in_full(
    shop: Runner, today: Today
) -> None:
    """A course credited before any release (all of its 3,499.97 NOK comes out of deferred
    revenue and out of the schedule, a third from each period), a release of the first
    month, a course credited after it (a third of what it credits was recognised: revenue
    is debited back, the rest comes out of the two periods still to come), then the rest in
    full: deferred revenue and revenue end at 0 in NOK, and later releases move nothing."""
    invoice = sell_usd(shop, "SO-1", ("KURS-1", "3", "333.33"), ("KNIV-1", "2", "23.71"))
    first = credit(shop, invoice, (1, "1"))
    assert entries_of(shop, first)[DEFERRED] == D("3499.97")  # 333.33 USD's share of 10,499.90
    assert REVENUE not in entries_of(shop, first)  # nothing was recognised yet
    assert_consistent(shop)

    released = release(shop, today, month(0))
    assert D(released["amount"]) == D("3499.96") - D("1166.65")  # the first period, less its share
    assert_consistent(shop)

    second = credit(shop, invoice, (1, "1"))
    second_entries = entries_of(shop, second)
    # 3,499.96 NOK of what is left (6,999.93): of it, 1/3 was released in month 0
    assert second_entries[DEFERRED] + second_entries[REVENUE] == D("3499.96")
    assert second_entries[REVENUE] == D("1166.65")
    assert_consistent(shop)

    last = credit(shop, invoice)
    assert_consistent(shop)
    totals = balances(shop)
    assert (totals[DEFERRED], totals[REVENUE]) == (0, 0)
    assert still_to_release(shop) == 0
    assert all(held == 0 for held, released in periods(shop).values() if not released)
    # VAT: each credit note's on its own lines (T5); here they add up to the invoice's in USD
    shown = [journal(shop, n) for n in (first, second, last)]
    assert sum(D(s["vat_total"]) for s in shown) == D(journal(shop, invoice)["vat_total"])

    for offset in (1, 2):
        later = release(shop, today, month(offset))
        assert D(later["amount"]) == 0
    assert_consistent(shop)
    assert (balances(shop)[DEFERRED], balances(shop)[REVENUE]) == (0, 0)


def test_t5_t7_b11_a_whole_credit_after_a_release_reverses_everything(
    shop: Runner, today: Today
) -> None:
    """T5 with T7: a credit note of the whole invoice gives back exactly its VAT in USD and in
    NOK and its receivable in NOK; B11: what the release recognised is debited to revenue,
    the rest to deferred revenue; afterwards every account is 0."""
    invoice = sell_usd(shop, "SO-1", ("KURS-1", "3", "333.33"), ("KNIV-1", "2", "23.71"))
    release(shop, today, month(0))
    whole = credit(shop, invoice)
    assert company_vat(journal(shop, whole)) == company_vat(journal(shop, invoice))
    invoice_entries, credit_entries = entries_of(shop, invoice), entries_of(shop, whole)
    for account in (RECEIVABLES, VAT_25):
        assert credit_entries[account] == -invoice_entries[account]
    assert credit_entries[REVENUE] == D("497.91") + D("3499.96")  # knives + the released period
    assert credit_entries[DEFERRED] == D("3499.96") + D("3499.98")
    assert_consistent(shop)
    assert all(total == 0 for total in balances(shop).values()), balances(shop)


def test_b11_domestic_nok_defers_net_of_vat_and_credits_stay_consistent(
    shop: Runner, today: Today
) -> None:
    """B11 in the company currency: the deferral is the net amount (4,500.00, not 5,625.00
    incl. VAT), and partial credits before and after a release keep the ledger and the
    schedule together, ending at 0 (the same code path without an exchange rate)."""
    shop.ok(
        "upsert_order",
        {
            "order": "SO-N",
            "customer": "NO-1001",
            "lines": [{"line": 1, "item": "KURS-1", "quantity": "3", "unit_price": "1500.01"}],
        },
    )
    shop.ok("confirm_order", {"order": "SO-N"})
    invoice = shop.ok("post_invoice", {"order": "SO-N"})["journal"]
    assert entries_of(shop, invoice) == {
        RECEIVABLES: D("5625.04"),
        DEFERRED: D("-4500.03"),
        VAT_25: D("-1125.01"),
    }
    assert sum(held for held, _ in periods(shop).values()) == D("4500.03")
    credit(shop, invoice, (1, "1"))
    release(shop, today, month(0))
    credit(shop, invoice, (1, "1"))
    assert_consistent(shop)
    credit(shop, invoice)
    assert_consistent(shop)
    assert (balances(shop)[DEFERRED], balances(shop)[REVENUE]) == (0, 0)


# --- property: foreign currency, partial credits and releases in any order ---------------------

_orders = itertools.count(1)


def vat_groups(shown: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """Rate -> (taxable, VAT, VAT in NOK) of a journal's breakdown."""
    groups: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    for v in shown["vat"]:
        taxable, vat, company = groups.get(v["rate"], (D(0), D(0), D(0)))
        groups[v["rate"]] = (
            taxable + D(v["taxable_amount"]),
            vat + D(v["vat_amount"]),
            company + D(v["company_vat_amount"]),
        )
    return groups


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rate=st.sampled_from(["10.5", "0.0937", "11.23456", "1"]),
    courses=st.integers(min_value=1, max_value=5),
    price=st.sampled_from(["333.33", "0.07", "1499.99", "12.34"]),
    baskets=st.integers(min_value=0, max_value=3),
    steps=st.lists(st.sampled_from(["credit", "release"]), max_size=4),
)
def test_t3_t5_t7_b11_property_usd_credits_and_releases(
    shop: Runner,
    today: Today,
    rate: str,
    courses: int,
    price: str,
    baskets: int,
    steps: list[str],
) -> None:
    """The foreign-currency variant of test_tax_postings' property, with deferral: for random
    exchange rates, courses (deferred, 25 %) and gift baskets (a bundle of a cheese at 15 % and
    a knife at 25 %, T4), partial credits of one course and releases in any order, then a
    credit of the rest: per VAT group the credit notes' taxable amounts add up to the
    invoice's exactly (B8) and their VAT within rules.tax.rounding_bound (T5), in USD; in NOK
    each group's VAT is its USD VAT converted (T7), so the NOK difference is the USD one
    converted within half an øre per document; every voucher balances (L1); deferred revenue
    always equals what the schedule has left to release (B11); at the end deferred revenue and
    revenue of the invoice are 0 in NOK, output VAT per code's account is what the documents
    state in NOK (L1, D4), and later releases move nothing."""
    order = f"SO-P{next(_orders)}"
    lines = [("KURS-1", str(courses), price)]
    if baskets:
        lines.append(("GAVE-1", str(baskets), "43.80"))
    invoice = sell_usd(shop, order, *lines, rate=rate)
    numbers, credited, offset = [], 0, 0
    for step in steps:
        if step == "credit" and credited + 1 < courses:
            numbers.append(credit(shop, invoice, (1, "1")))
            credited += 1
        elif step == "release":
            release(shop, today, month(offset))
            offset += 1
        assert_consistent(shop, invoice)
    numbers.append(credit(shop, invoice))
    assert_consistent(shop, invoice)

    invoiced = vat_groups(journal(shop, invoice))
    credits = [vat_groups(journal(shop, n)) for n in numbers]
    assert set(invoiced) == ({"25.00", "15.00"} if baskets else {"25.00"})
    for group, (taxable, vat, company) in invoiced.items():
        assert company == to_company_currency(vat, D(rate))  # T7: VAT stated in NOK
        parts = [c[group] for c in credits if group in c]
        assert sum(p[0] for p in parts) == taxable
        usd_difference = sum(p[1] for p in parts) - vat
        assert abs(usd_difference) <= rounding_bound(len(parts))
        nok_difference = sum(p[2] for p in parts) - company
        assert abs(nok_difference - usd_difference * D(rate)) <= D("0.005") * (len(parts) + 1)
    totals = balances(shop, invoice)
    assert (totals[DEFERRED], totals[REVENUE]) == (0, 0), totals
    for group, account in (("25.00", VAT_25), ("15.00", VAT_15)):  # L1, D4: as stated in NOK
        stated = sum((c[group][2] for c in credits if group in c), D(0))
        assert totals[account] == stated - invoiced.get(group, (0, 0, D(0)))[2]
    for later in range(offset, 5):
        assert D(release(shop, today, month(later))["amount"]) >= 0
    assert_consistent(shop, invoice)
    assert (balances(shop, invoice)[DEFERRED], balances(shop, invoice)[REVENUE]) == (0, 0)
