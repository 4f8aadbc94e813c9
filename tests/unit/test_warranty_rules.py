"""S15 as a pure rule (pipeline.rules.warranty): the warranty's start, its last day at month
ends, its validity on a day, a credited unit, an item without a period. No database."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.rules.warranty import (
    NO_WARRANTY,
    Posted,
    Warranty,
    add_months,
    delivery,
    warranty_of,
)

D = dt.date.fromisoformat
days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2900, 12, 31))
periods = st.integers(min_value=0, max_value=1200)


# --- month arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "until"),
    [
        ("2026-01-31", 1, "2026-02-28"),  # no 31 February: the month's last day
        ("2028-01-31", 1, "2028-02-29"),  # a leap year
        ("2026-01-30", 1, "2026-02-28"),
        ("2026-02-28", 1, "2026-03-28"),  # the start's number, not "the last day" again
        ("2026-03-31", 1, "2026-04-30"),
        ("2026-08-31", 6, "2027-02-28"),
        ("2026-11-15", 2, "2027-01-15"),  # over a year end
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2026-05-10", 0, "2026-05-10"),
        ("2026-12-31", 1200, "2126-12-31"),
    ],
)
def test_s15_add_months_at_month_ends(start: str, months: int, until: str) -> None:
    """S15: a period of N months ends on the day of the N-th month bearing the start's number,
    else that month's last day (31 Jan + 1 month = 28 Feb, 29 in a leap year)."""
    assert add_months(D(start), months) == D(until)


@given(start=days, months=periods)
def test_s15_add_months_keeps_the_day_or_takes_the_months_last(start: dt.date, months: int) -> None:
    """S15, as a property: the result is exactly `months` calendar months on, bears the start's
    day number when that month has it, and otherwise is that month's last day."""
    until = add_months(start, months)
    assert (until.year * 12 + until.month) - (start.year * 12 + start.month) == months
    last_day = calendar.monthrange(until.year, until.month)[1]
    if start.day <= last_day:
        assert until.day == start.day
    else:
        assert until.day == last_day


@given(start=days, months=st.integers(min_value=0, max_value=600), more=st.integers(0, 600))
def test_s15_a_longer_period_never_ends_earlier(start: dt.date, months: int, more: int) -> None:
    """S15: monotone in the period, and never before the start (a negative control for the
    clamping: it must not pull an end back before a shorter period's)."""
    assert start <= add_months(start, months) <= add_months(start, months + more)


def test_s15_a_negative_period_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="a period of months is not negative: -1"):
        add_months(D("2026-01-31"), -1)


# --- the start -----------------------------------------------------------------------------


def test_s15_the_warranty_runs_from_the_packing_slip_else_the_invoice() -> None:
    """S15: from the date it was shipped (the packing slip's, with the period its line froze),
    or invoiced when shipped and invoiced at once (an invoice without packing slip)."""
    shipped, invoiced = Posted(D("2026-03-02"), 12), Posted(D("2026-03-20"), 24)
    assert delivery(shipped, invoiced) == shipped
    assert delivery(None, invoiced) == invoiced
    assert delivery(None, None) is None


# --- valid on a day ----------------------------------------------------------------------------


def test_s15_valid_on_the_last_day_and_not_the_day_after() -> None:
    w = warranty_of(24, D("2026-01-15"), on=D("2028-01-15"))
    assert w == Warranty(until=D("2028-01-15"), valid=True)
    assert warranty_of(24, D("2026-01-15"), on=D("2028-01-16")).valid is False


def test_s15_valid_from_the_delivery_day_not_before() -> None:
    assert warranty_of(12, D("2026-01-15"), on=D("2026-01-15")).valid is True
    assert warranty_of(12, D("2026-01-15"), on=D("2026-01-14")).valid is False


def test_s15_month_end_start_is_valid_through_february_s_last_day() -> None:
    assert warranty_of(1, D("2026-01-31"), on=D("2026-02-28")) == Warranty(D("2026-02-28"), True)
    assert warranty_of(1, D("2026-01-31"), on=D("2026-03-01")).valid is False


def test_s15_no_period_is_none_not_false() -> None:
    """S15: an item without warranty_months has no warranty: None, not an expired False."""
    assert warranty_of(None, D("2026-01-15"), on=D("2026-01-15")) == NO_WARRANTY
    assert NO_WARRANTY.until is None and NO_WARRANTY.valid is None
    assert warranty_of(None, None, on=D("2026-01-15")) == NO_WARRANTY


def test_s15_a_unit_not_delivered_has_no_running_warranty() -> None:
    """A period but no delivery (its packing slip canceled, S10): no last day, not valid."""
    assert warranty_of(12, None, on=D("2026-01-15")) == Warranty(until=None, valid=False)


def test_s15_s11_a_credited_unit_is_valid_only_before_its_credit_note() -> None:
    """S11/S15: a credited unit came back: its warranty ends on the credit note's date; the
    last day it would have run to is still told."""
    w = warranty_of(24, D("2026-01-15"), on=D("2026-06-01"), credited_on=D("2026-06-01"))
    assert w == Warranty(until=D("2028-01-15"), valid=False)
    before = warranty_of(24, D("2026-01-15"), on=D("2026-05-31"), credited_on=D("2026-06-01"))
    assert before.valid is True


@given(start=days, months=periods, on=days)
def test_s15_valid_exactly_between_delivery_and_the_last_day(
    start: dt.date, months: int, on: dt.date
) -> None:
    w = warranty_of(months, start, on=on)
    assert w.until == add_months(start, months)
    assert w.valid is (start <= on <= add_months(start, months))


@given(start=days, months=periods, on=days, credited_on=days)
def test_s15_a_credit_never_makes_a_warranty_valid(
    start: dt.date, months: int, on: dt.date, credited_on: dt.date
) -> None:
    credited = warranty_of(months, start, on=on, credited_on=credited_on)
    sold = warranty_of(months, start, on=on)
    assert credited.until == sold.until
    assert credited.valid is (sold.valid and on < credited_on)
