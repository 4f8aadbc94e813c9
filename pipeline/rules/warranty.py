"""S15: until when a sold unit's warranty runs, and whether it is valid on a given day.

Pure: the trace (pipeline.queries.trace, S11) gathers a unit's dates and its frozen period and
asks these functions.

- The warranty runs from the day the unit was delivered: the document date of the packing slip
  it was shipped on (the delivery date the invoice prints, P3), or the invoice's when that
  invoice shipped it itself (posted without a packing slip: shipped and invoiced at once, S1).
  A point-of-sale sale posts both on one date (S13).
- A period of N months ends on the day of the N-th month after that bears the start's number,
  or that month's last day when it has none (31 January + 1 month = 28 or 29 February), and
  that last day is still covered: how Norwegian law counts a period in months (domstolloven
  § 148), and how a customer reads "24 months from delivery".
- A credited unit came back to the company (S11's "whether it was credited"): its warranty
  ends the day the credit note is dated; it was valid before that day.
- An item without a period has no warranty: both answers are None (not False), so a script
  can tell "no warranty" from "expired".
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

# A longer period is a typing error, not a warranty (100 years).
MAX_WARRANTY_MONTHS = 1200


@dataclass(frozen=True)
class Warranty:
    """`until`: the last day covered, None without a period or without a delivery; `valid`:
    covered on the day asked, None when the item has no warranty period."""

    until: dt.date | None
    valid: bool | None


NO_WARRANTY = Warranty(until=None, valid=None)


def add_months(start: dt.date, months: int) -> dt.date:
    """The day `months` calendar months after `start`, bearing its number, else the last day
    of that month (31 January + 1 month = 28 February, or 29 in a leap year)."""
    if months < 0:
        raise ValueError(f"a period of months is not negative: {months}")
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(start.day, last_day))


@dataclass(frozen=True)
class Posted:
    """A unit on a posted packing slip or invoice line: the document's date and the warranty
    period the line froze (D6; None: the item had none then)."""

    on: dt.date
    months: int | None


def delivery(shipped: Posted | None, invoiced: Posted | None) -> Posted | None:
    """S15: the line the warranty runs from: the packing slip that shipped the unit (its date
    is the delivery date), else the invoice that shipped it itself; None while the unit is on
    neither (its packing slip canceled, S10)."""
    return shipped if shipped is not None else invoiced


def warranty_of(
    months: int | None,
    start: dt.date | None,
    on: dt.date,
    credited_on: dt.date | None = None,
) -> Warranty:
    """S15: the warranty of a unit delivered on `start` with a period of `months`, on the day
    `on`. Valid from the delivery through `until`, both days included, and, for a credited
    unit, only before the credit note's date."""
    if months is None:
        return NO_WARRANTY
    if start is None:
        return Warranty(until=None, valid=False)  # not delivered: nothing runs
    until = add_months(start, months)
    valid = start <= on <= until and (credited_on is None or on < credited_on)
    return Warranty(until=until, valid=valid)


def day_asked(text: str) -> dt.date:
    """The day a warranty is judged on, as an operator writes it (`docpost trace --on`, the
    HTTP trace's `on`): YYYY-MM-DD only (fromisoformat alone also takes 20260131 and
    2026-W05-1, which nobody means). Raises ValueError saying what would be right."""
    try:
        if len(text) != len("YYYY-MM-DD") or text[4] != "-" or text[7] != "-":
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; write it YYYY-MM-DD, e.g. 2026-01-31") from None
