"""The ledger voucher of a posted document (DOMAIN.md L1 with T3, T6, T7) as a pure function.

A service gives the document's net entries (revenue per line, or deferred revenue, B11: it
decides the account and the note) and its VAT plan (T3, or a receipt's, T6); this builds the
voucher's lines the way pipeline/services/journal.py's post_voucher writes them: amounts
signed, debit positive, credit negative, texts naming the document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import CENT, ZERO
from docpost.pipeline.rules.tax import (
    VatPlan,
    in_company_currency,
    percent_text,
    to_company_currency,
)


@dataclass(frozen=True)
class NetEntry:
    """A document line's net amount (document currency) credited to `account`: revenue, or
    deferred revenue (B11). `note` is added to the text ("deferred 12M", "recognised").
    `company_amount`: the same in the company currency when the caller has decided it (a credit
    note's share of its invoice line, T7); else the amount is converted at the rate."""

    account: str
    amount: Decimal
    line_no: int
    item: str
    note: str = ""
    company_amount: Decimal | None = None


@dataclass(frozen=True)
class LedgerLine:
    """One entry: `amount` in the company currency, signed (debit positive); `document_amount`
    the same in the document's currency (T7; equal to amount when they are the same)."""

    account: str
    amount: Decimal
    text: str
    document_amount: Decimal


@dataclass(frozen=True)
class VoucherSide:
    """Whose voucher: the document number, the party the debit text names (the customer), the
    account debited with the total (receivables, or the store's cash for a POS sale, T6), and
    whether it is reversed (a credit note, L1)."""

    number: str
    party: str
    debit_account: str
    reverse: bool = False


def voucher_lines(
    side: VoucherSide,
    net_entries: Sequence[NetEntry],
    vat: VatPlan,
    exchange_rate: Decimal | None = None,
    quantum: Decimal = CENT,
) -> tuple[LedgerLine, ...]:
    """L1: debit `side.debit_account` with the total including VAT, credit each net entry, and
    output VAT per tax code part of each VAT group on its code's account; a credit note the
    reverse. Zero amounts make no entry, except the debit, which is always there.

    T7: with an exchange rate, every credit entry is converted on its own (VAT exactly as
    in_company_currency states it on the document; a net entry with a company_amount takes
    that instead: a credit note's share of its invoice line), and the debit is their sum, so
    the voucher balances in the company currency by construction; it may differ from the
    document total converted at once by the rounding of its parts (a few minor units).
    """
    net_sum = sum((entry.amount for entry in net_entries), ZERO)
    if net_sum != vat.net_total:
        raise AssertionError(
            f"{side.number}: net entries sum to {net_sum}, its VAT plan to {vat.net_total}"
        )
    company_vat = in_company_currency(vat, exchange_rate, quantum) if exchange_rate else vat
    credits = [
        *(_net_line(side.number, entry, exchange_rate, quantum) for entry in net_entries),
        *_vat_lines(side.number, vat, company_vat),
    ]
    credits = [line for line in credits if line.document_amount or line.amount]
    debit = LedgerLine(
        side.debit_account,
        -sum((line.amount for line in credits), ZERO),
        f"{side.number} {side.party}",
        vat.total,
    )
    lines = (debit, *credits)
    if side.reverse:
        lines = tuple(
            LedgerLine(ln.account, -ln.amount, ln.text, -ln.document_amount) for ln in lines
        )
    check_balanced(lines)
    return lines


def _net_line(
    number: str, entry: NetEntry, exchange_rate: Decimal | None, quantum: Decimal
) -> LedgerLine:
    text = f"{number} line {entry.line_no} {entry.item}"
    if entry.note:
        text = f"{text} {entry.note}"
    amount = entry.amount
    if exchange_rate:
        amount = entry.company_amount
        if amount is None:
            amount = to_company_currency(entry.amount, exchange_rate, quantum)
    return LedgerLine(entry.account, -amount, text, -entry.amount)


def _vat_lines(number: str, vat: VatPlan, company_vat: VatPlan) -> list[LedgerLine]:
    lines = []
    for group, company_group in zip(vat.groups, company_vat.groups, strict=True):
        for part, company_part in zip(group.parts, company_group.parts, strict=True):
            if not part.vat and not company_part.vat:
                continue
            if part.account is None:
                raise Rejection(
                    "tax.no_account",
                    f"{number}: tax code {part.tax_code} carries VAT {part.vat} but has no "
                    "output VAT account; give the tax code its account (M8)",
                    rule="L1",
                    tax_code=part.tax_code,
                )
            text = f"{number} VAT {part.tax_code} {percent_text(group.rate)}%"
            lines.append(LedgerLine(part.account, -company_part.vat, text, -part.vat))
    return lines


def check_balanced(lines: Sequence[LedgerLine]) -> None:
    """L1: a voucher's debits and credits cancel out, in the company currency and in the
    document's. One that does not is a bug, not a request's fault."""
    if sum((line.amount for line in lines), ZERO) != 0:
        raise AssertionError(f"voucher does not balance: {lines}")
    if sum((line.document_amount for line in lines), ZERO) != 0:
        raise AssertionError(f"voucher does not balance in the document currency: {lines}")


def as_entries(lines: Sequence[LedgerLine]) -> list[tuple[str, Decimal, str]]:
    """The (account, amount, text) entries post_voucher takes today."""
    return [(line.account, line.amount, line.text) for line in lines]


def as_document_entries(lines: Sequence[LedgerLine]) -> list[tuple[str, Decimal, str, Decimal]]:
    """post_voucher's entries with each one's amount in the document currency (T7)."""
    return [(line.account, line.amount, line.text, line.document_amount) for line in lines]
