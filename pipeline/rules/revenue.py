"""Revenue schedules (DOMAIN.md B11, beyond): how a deferred amount spreads over periods."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

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
    `amount`; the shares of released periods are revenue already recognised.

    The shares are rounded cumulatively (each is the rounded share of the periods up to it,
    less that of the periods before), so none is below zero, none is above what its period
    holds when `amount` is at most their sum, and a credit of all of it takes each period
    exactly: B4's allocate, with its remainder on the last, could take a cent more from the
    last period than it held (0.08 over 0.03, 0.03, 0.03, 0.01: 0.02 from the 0.01).
    """
    shares = cumulative_shares(amount, [period_amount for period_amount, _ in periods])
    recognised = sum(
        (share for (_, released), share in zip(periods, shares, strict=True) if released), ZERO
    )
    return CreditSplit(recognised, amount - recognised, tuple(shares))


def cumulative_shares(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`total` split by non-negative `weights` summing to more than zero, to the cent: share i
    = round(total x (w1 + .. + wi) / sum) - round(total x (w1 + .. + wi-1) / sum). Rounding
    is monotone and commutes with adding whole cents, so for whole-cent weights and 0 <= total
    <= their sum, 0 <= share i <= wi; with total = the sum, share i = wi exactly."""
    weight_sum = sum(weights, ZERO)
    if weight_sum <= 0:
        raise ValueError("weights must sum to more than zero")
    shares, running, before = [], ZERO, ZERO
    for weight in weights:
        running += weight
        reached = (total * running / weight_sum).quantize(CENT, rounding=ROUND_HALF_UP)
        shares.append(reached - before)
        before = reached
    shares[-1] += total - before  # a total finer than cents: the last takes what is left
    return shares


@dataclass(frozen=True)
class DeferredLine:
    """A deferred invoice line as a credit note finds it (B11), in the company currency (T7:
    the currency of the schedule and the ledger)."""

    open_amount: Decimal  # what earlier credit notes did not take back of the line
    pending: tuple[Decimal, ...]  # what each period not yet released still holds, in order

    @property
    def recognised(self) -> Decimal:
        """Revenue released for the line and not credited yet: the rest of what is open."""
        return max(self.open_amount - sum(self.pending, ZERO), ZERO)


def split_deferred_credit(amount: Decimal, line: DeferredLine) -> CreditSplit:
    """B11: a credit of `amount` (company currency, at most `line.open_amount`) is taken from
    the line's recognised revenue and from its pending periods in proportion to what each
    still holds, so that partial credits before and after releases never take more from a
    period than it holds, and the credit of all that is open takes exactly what each holds:
    deferred revenue and revenue of a fully credited line end at zero. `shares` are the
    pending periods' shares (the deferred part), in their order."""
    if not amount:
        return CreditSplit(ZERO, ZERO, tuple(ZERO for _ in line.pending))
    split = split_credit(amount, [(line.recognised, True), *((p, False) for p in line.pending)])
    return CreditSplit(split.recognised, split.deferred, split.shares[1:])


def document_split(document_amount: Decimal, company: CreditSplit) -> tuple[Decimal, Decimal]:
    """T7: (recognised, deferred) of a credited line in the document's currency, in proportion
    to the company-currency split, summing to `document_amount` (the ledger's document side
    balances by it). With nothing in the company currency, all of it is deferred."""
    company_amount = company.recognised + company.deferred
    if not company_amount:
        return ZERO, document_amount
    recognised = (document_amount * company.recognised / company_amount).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    return recognised, document_amount - recognised
