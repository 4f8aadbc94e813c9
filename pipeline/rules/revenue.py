"""Revenue schedules (DOMAIN.md B11, beyond): how a deferred amount spreads over periods."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from docpost.pipeline.rules.bundles import allocate
from docpost.pipeline.rules.money import CENT, ZERO


def schedule_amounts(amount: Decimal, occurrences: int) -> list[Decimal]:
    """Equal amounts per period, the last absorbing the rounding.

    The equal part is rounded toward zero, so the last line is never smaller in size than the
    others and never changes sign (rounding 0.18 / 12 half up to 0.02 would leave -0.04).
    """
    equal = (amount / occurrences).quantize(CENT, rounding=ROUND_DOWN)
    return [equal] * (occurrences - 1) + [amount - equal * (occurrences - 1)]


def monthly_periods(start: dt.date, occurrences: int) -> list[dt.date]:
    """The first day of each month, starting with the month of `start`."""
    periods = []
    year, month = start.year, start.month
    for _ in range(occurrences):
        periods.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


@dataclass(frozen=True)
class CreditSplit:
    """How a credited amount of a deferred invoice line divides over its schedule (B11)."""

    recognised: Decimal  # what released periods already posted to revenue
    deferred: Decimal  # what is still deferred: amount - recognised
    shares: tuple[Decimal, ...]  # the credit's share of each period, in the schedule's order


def split_credit(amount: Decimal, periods: Sequence[tuple[Decimal, bool]]) -> CreditSplit:
    """B11: a credit is split over the invoice line's periods in proportion to what each holds
    (`periods`: (amount, released) in schedule order), to the cent, the shares summing to
    `amount`; the shares of released periods are revenue already recognised."""
    shares = allocate(amount, [period_amount for period_amount, _ in periods])
    recognised = sum(
        (share for (_, released), share in zip(periods, shares, strict=True) if released), ZERO
    )
    return CreditSplit(recognised, amount - recognised, tuple(shares))
