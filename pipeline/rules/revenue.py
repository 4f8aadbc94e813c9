"""Revenue schedules (DOMAIN.md B11, beyond): how a deferred amount spreads over periods."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from docpost.pipeline.rules.money import CENT


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
