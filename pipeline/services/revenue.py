"""Revenue recognition (B11, beyond): deferral at invoicing, reversal by credit notes, and
the periodic release (`recognize_revenue`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.contract import RecognizeRevenue
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.credit import InvoiceToCredit, company_part
from docpost.pipeline.rules.ledger import (
    NetEntry,
    VoucherSide,
    as_document_entries,
    voucher_lines,
)
from docpost.pipeline.rules.revenue import (
    DeferredLine,
    document_split,
    monthly_periods,
    schedule_amounts,
    split_deferred_credit,
)
from docpost.pipeline.rules.tax import ReceiptPlan, VatPlan, to_company_currency
from docpost.pipeline.services.journal import (
    ACCOUNTS_RECEIVABLE,
    CASH,
    DEFERRED_REVENUE,
    REVENUE,
    Entry,
    post_voucher,
)
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import Item, Journal, JournalLine, RevenueSchedule, RevenueScheduleLine

ZERO = Decimal(0)


@dataclass(frozen=True)
class ScheduledAmount:
    """One period of a deferred invoice line (B11), for a RevenueScheduleLine."""

    line_index: int  # position in the invoice's lines, from 0
    schedule_code: str
    occurrence: int
    period: dt.date
    amount: Decimal


def invoice_entries(uow: UnitOfWork, invoice: Journal, vat: VatPlan | None = None) -> list[Entry]:
    """L1 with B11 for an invoice just written (its lines have ids): its voucher entries,
    and its schedule lines added to the session. With a VAT plan (T3), receivables take the
    total including VAT, revenue the net amounts and output VAT each code's part (rules.ledger);
    in the company currency where the invoice has an exchange rate (T7)."""
    credits, scheduled = invoice_voucher(
        invoice.number,
        invoice.posting_date,
        [(line.line_no, line.item_code, line.amount) for line in invoice.lines],
        lambda item_code: schedule_of(uow.session, item_code),
        invoice.exchange_rate,
    )
    uow.session.add_all(
        RevenueScheduleLine(
            invoice_id=invoice.id,
            invoice_line_id=invoice.lines[period.line_index].id,
            schedule_code=period.schedule_code,
            occurrence=period.occurrence,
            period=period.period,
            amount=period.amount,
        )
        for period in scheduled
    )
    side = VoucherSide(invoice.number, invoice.customer_code, ACCOUNTS_RECEIVABLE)
    return _voucher(side, credits, invoice.total_amount or ZERO, vat, invoice.exchange_rate)


def pos_entries(journal: Journal, receipt: ReceiptPlan) -> list[Entry]:
    """L1 with T6: a point-of-sale sale debits cash with what was paid (the gross), credits
    revenue each line's net and output VAT per code. Never deferred revenue: B13 refuses a
    sale of a bundle or of an item with a revenue schedule at the till (rules.pos), before
    anything is written, so no line of a sale has a schedule to defer by (B11)."""
    side = VoucherSide(journal.number, journal.customer_code, CASH)
    credits = [
        NetEntry(REVENUE, split.net, line.line_no, line.item_code)
        for line, split in zip(journal.lines, receipt.lines, strict=True)
    ]
    return as_document_entries(voucher_lines(side, credits, receipt.vat, journal.exchange_rate))


def _voucher(
    side: VoucherSide,
    credits: Sequence[NetEntry],
    net_total: Decimal,
    vat: VatPlan | None,
    exchange_rate: Decimal | None,
) -> list[Entry]:
    """Without VAT, the voucher as before issue 15 (receivables = the net total); with it,
    rules.ledger's (L1, T7). NetEntry amounts are credits (revenue); a credit note reverses."""
    if vat is not None:
        return as_document_entries(voucher_lines(side, credits, vat, exchange_rate))
    sign = -1 if side.reverse else 1
    entries: list[Entry] = [(side.debit_account, sign * net_total, f"{side.number} {side.party}")]
    for entry in credits:
        text = f"{side.number} line {entry.line_no} {entry.item}"
        entries.append(
            (entry.account, -sign * entry.amount, f"{text} {entry.note}" if entry.note else text)
        )
    return entries


def invoice_voucher(
    number: str,
    posting_date: dt.date,
    lines: Sequence[tuple[int, str, Decimal | None]],
    schedule_for: Callable[[str], RevenueSchedule | None],
    exchange_rate: Decimal | None = None,
) -> tuple[list[NetEntry], list[ScheduledAmount]]:
    """L1 with B11: revenue per line, or deferred revenue with a schedule line per period for
    lines whose item has a revenue schedule. `lines`: (line number, item, amount) of each
    invoice line. The schedule is in the company currency (T7: the ledger's), so its releases
    move exactly what was deferred there."""
    credits: list[NetEntry] = []
    scheduled: list[ScheduledAmount] = []
    for index, (line_no, item_code, amount) in enumerate(lines):
        if not amount:
            continue
        schedule = schedule_for(item_code)
        if schedule is None:
            credits.append(NetEntry(REVENUE, amount, line_no, item_code))
            continue
        credits.append(
            NetEntry(DEFERRED_REVENUE, amount, line_no, item_code, f"deferred {schedule.code}")
        )
        ledger_amount = to_company_currency(amount, exchange_rate) if exchange_rate else amount
        periods = monthly_periods(posting_date, schedule.occurrences)
        for occurrence, (period, share) in enumerate(
            zip(periods, schedule_amounts(ledger_amount, schedule.occurrences), strict=True),
            start=1,
        ):
            scheduled.append(ScheduledAmount(index, schedule.code, occurrence, period, share))
    return credits, scheduled


def credit_note_entries(
    uow: UnitOfWork,
    credit_note: Journal,
    invoice: InvoiceToCredit,
    vat: VatPlan | None = None,
) -> list[Entry]:
    """The reverse of the invoice's entries for what is credited: revenue already recognised
    is debited back to revenue; what is still deferred is debited to deferred revenue, and
    negative schedule lines take it out of the releases still to come. With a VAT plan (the
    credit note's own lines, T5), receivables are credited the total including VAT and output
    VAT debited per code (L1 reversed). `invoice`: its lines as they were before this credit
    note (what earlier ones credited).

    T7: each line's company-currency amount is its share of what its invoice line posted
    (rules.credit.company_part), and the split over the schedule is made in the company
    currency, the schedule's: a credit in USD compared with periods in NOK took USD amounts
    out of NOK periods."""
    rate = credit_note.exchange_rate
    invoiced = {line.invoice_line_id: line for line in invoice.lines}
    schedules = _schedules(uow.session, [ln.reverses_line_id for ln in credit_note.lines])
    credits: list[NetEntry] = []
    for line in credit_note.lines:
        if not line.amount:
            continue
        source = invoiced[line.reverses_line_id]  # type: ignore[index]
        company_total = to_company_currency(source.amount, rate) if rate else source.amount
        before = company_part(source.amount, company_total, source.credited_amount)
        after = company_part(source.amount, company_total, source.credited_amount + line.amount)
        schedule_lines = schedules.get(source.invoice_line_id)
        if not schedule_lines:
            credits.append(
                NetEntry(REVENUE, line.amount, line.line_no, line.item_code, "", after - before)
            )
            continue
        credits += _deferred_credit(
            uow.session, line, schedule_lines, after - before, company_total - before
        )
    side = VoucherSide(
        credit_note.number, credit_note.customer_code, ACCOUNTS_RECEIVABLE, reverse=True
    )
    return _voucher(side, credits, credit_note.total_amount or ZERO, vat, rate)


def _deferred_credit(
    session: Session,
    line: JournalLine,
    schedule_lines: Sequence[RevenueScheduleLine],
    company_amount: Decimal,
    open_amount: Decimal,
) -> list[NetEntry]:
    """B11 with T7: the credit line's company amount split into recognised revenue and what
    its pending periods still hold (rules.revenue.split_deferred_credit), taken out of those
    periods; its document amount split alike (the document side of the voucher)."""
    pending = _pending_periods(schedule_lines)
    split = split_deferred_credit(
        company_amount, DeferredLine(open_amount, tuple(held for _, held in pending))
    )
    recognised, deferred = document_split(line.amount or ZERO, split)
    entries = [
        NetEntry(account, amount, line.line_no, line.item_code, note, company)
        for account, amount, note, company in (
            (REVENUE, recognised, "recognised", split.recognised),
            (DEFERRED_REVENUE, deferred, "deferred", split.deferred),
        )
        if amount or company
    ]
    _take_out_of_releases(session, line, [period for period, _ in pending], split.shares)
    return entries


def _schedules(
    session: Session, invoice_line_ids: Sequence[int | None]
) -> dict[int, list[RevenueScheduleLine]]:
    """Invoice line id -> its schedule lines (B11), as invoiced and as credited, in the order
    of their periods; lines without a schedule are absent. Locked, so a release running at
    the same time (which locks the lines it releases) cannot release a period this credit
    takes as pending; in recognize_revenue's order (invoice, id), so neither waits for the
    other in a circle."""
    found: dict[int, list[RevenueScheduleLine]] = defaultdict(list)
    for row in session.scalars(
        select(RevenueScheduleLine)
        .where(RevenueScheduleLine.invoice_line_id.in_([i for i in invoice_line_ids if i]))
        .order_by(RevenueScheduleLine.invoice_id, RevenueScheduleLine.id)
        .with_for_update()
    ):
        found[row.invoice_line_id].append(row)
    for rows in found.values():
        rows.sort(key=lambda row: (row.occurrence, row.id))
    return found


def _pending_periods(
    schedule_lines: Sequence[RevenueScheduleLine],
) -> list[tuple[RevenueScheduleLine, Decimal]]:
    """The periods not released yet, each as its invoiced schedule line and what it still
    holds: that line less the negative lines earlier credit notes added to it. A period's
    lines are released together (same period date), so the invoiced line's mark says it."""
    held: dict[int, Decimal] = defaultdict(Decimal)
    invoiced: dict[int, RevenueScheduleLine] = {}
    for row in schedule_lines:
        held[row.occurrence] += row.amount
        if row.credit_line_id is None:
            invoiced[row.occurrence] = row
    return [
        (row, held[occurrence])
        for occurrence, row in sorted(invoiced.items())
        if row.released_voucher is None
    ]


def _take_out_of_releases(
    session: Session,
    credit_line: JournalLine,
    periods: Sequence[RevenueScheduleLine],
    shares: Sequence[Decimal],
) -> None:
    """A negative schedule line per pending period the credit takes a share of, so its
    release nets the credit out; released periods were reversed through revenue in the
    voucher."""
    for schedule_line, share in zip(periods, shares, strict=True):
        if share:
            session.add(
                RevenueScheduleLine(
                    invoice_id=schedule_line.invoice_id,
                    invoice_line_id=schedule_line.invoice_line_id,
                    credit_line_id=credit_line.id,
                    schedule_code=schedule_line.schedule_code,
                    occurrence=schedule_line.occurrence,
                    period=schedule_line.period,
                    amount=-share,
                )
            )


def recognize_revenue(uow: UnitOfWork, cmd: RecognizeRevenue) -> dict[str, Any]:
    """Release every schedule line due by `as_of` in one voucher. Lines are locked and marked
    with the voucher, so a second run for the same date finds nothing left to post."""
    uow.require_duties_of("recognize_revenue")
    check_not_in_future(cmd.as_of, uow.today())  # in the catalog company's zone (P1)
    due = list(
        uow.session.scalars(
            select(RevenueScheduleLine)
            .where(
                RevenueScheduleLine.released_voucher.is_(None),
                RevenueScheduleLine.period <= cmd.as_of,
            )
            .order_by(RevenueScheduleLine.invoice_id, RevenueScheduleLine.id)
            .with_for_update()
        )
    )
    if not due:
        return {"voucher": None, "released": 0, "amount": "0.00", "as_of": cmd.as_of.isoformat()}
    numbers = dict(
        uow.session.execute(
            select(Journal.id, Journal.number).where(
                Journal.id.in_({line.invoice_id for line in due})
            )
        ).all()
    )
    per_invoice: dict[int, Decimal] = defaultdict(Decimal)
    for line in due:
        per_invoice[line.invoice_id] += line.amount
    entries: list[Entry] = []
    for invoice_id, amount in per_invoice.items():
        if amount:
            text = f"{numbers[invoice_id]} released to {cmd.as_of.isoformat()}"
            entries += [(DEFERRED_REVENUE, amount, text), (REVENUE, -amount, text)]
    # A run whose invoices were all credited meanwhile nets to nothing, yet still takes a
    # voucher number: the lines must be marked as released by something.
    voucher = post_voucher(uow, None, entries, posting_date=cmd.as_of)
    for line in due:
        line.released_voucher = voucher
    total = sum(per_invoice.values(), ZERO)
    return {
        "voucher": voucher,
        "released": len(due),
        "amount": str(total),
        "as_of": cmd.as_of.isoformat(),
    }


def check_not_in_future(as_of: dt.date, today: dt.date) -> None:
    """B11: revenue is released for periods that have begun, never ahead of time: a release
    dated in the future would post revenue not yet earned."""
    if as_of > today:
        raise Rejection(
            "revenue.as_of_in_future",
            f"cannot release deferred revenue as of {as_of.isoformat()}: that is after today, "
            f"{today.isoformat()} in the company's time zone; give today's date or an "
            "earlier one",
            rule="B11",
            as_of=as_of.isoformat(),
            today=today.isoformat(),
        )


def schedule_of_invoice(session: Any, invoice: Journal) -> list[dict[str, Any]]:
    """`docpost show schedule INVOICE`: the schedule lines of an invoice, credits included."""
    lines = {ln.id: ln for ln in invoice.lines}
    rows: Sequence[RevenueScheduleLine] = session.scalars(
        select(RevenueScheduleLine)
        .where(RevenueScheduleLine.invoice_id == invoice.id)
        .order_by(
            RevenueScheduleLine.invoice_line_id,
            RevenueScheduleLine.occurrence,
            RevenueScheduleLine.id,
        )
    ).all()
    credit_numbers = dict(
        session.execute(
            select(JournalLine.id, Journal.number)
            .join(Journal, Journal.id == JournalLine.journal_id)
            .where(JournalLine.id.in_({r.credit_line_id for r in rows if r.credit_line_id}))
        ).all()
    )
    return [
        {
            "line": lines[r.invoice_line_id].line_no,
            "item": lines[r.invoice_line_id].item_code,
            "schedule": r.schedule_code,
            "occurrence": r.occurrence,
            "period": r.period.isoformat(),
            "amount": str(r.amount),
            "credit_note": credit_numbers.get(r.credit_line_id),
            "released": r.released_voucher,
        }
        for r in rows
    ]


def schedule_of(session: Session, item_code: str) -> RevenueSchedule | None:
    """The revenue schedule of an item, if it has one (B11)."""
    item = session.get(Item, item_code)
    if item is None or item.revenue_schedule_code is None:
        return None
    return session.get(RevenueSchedule, item.revenue_schedule_code)
