"""Read-only views for `docpost show`, `trace` and `ledger` (S11), as plain dicts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from docpost.pipeline import clock
from docpost.pipeline.rules.money import price_text, quantity_text
from docpost.pipeline.rules.text import normalize_serial
from docpost.pipeline.rules.warranty import Posted, day_asked, delivery, warranty_of
from docpost.pipeline.runner.request_record import outcome_of
from docpost.pipeline.services.journal import ACCOUNT_NAMES
from docpost.schema import (
    Company,
    Customer,
    DeadLetter,
    Document,
    Journal,
    JournalLine,
    JournalLineSerial,
    JournalVat,
    LedgerEntry,
    RequestRecord,
    RevenueScheduleLine,
    SalesLine,
    SalesOrder,
    SerialChange,
    SerialRegistration,
    TaxCode,
)
from docpost.schema.company import COMPANY_ROW
from docpost.schema.documents import MEDIA_TYPES


class NotFound(LookupError):
    pass


def _qty(value: Decimal | None) -> str | None:
    return None if value is None else quantity_text(value)


def _price(value: Decimal | None) -> str | None:
    return None if value is None else price_text(value)


def show_order(session: Session, order_no: str) -> dict[str, Any]:
    order = session.scalars(select(SalesOrder).where(SalesOrder.order_no == order_no)).one_or_none()
    if order is None:
        raise NotFound(f"order {order_no!r} does not exist")
    registrations: dict[int, list[SerialRegistration]] = defaultdict(list)
    for registration in session.scalars(
        select(SerialRegistration)
        .where(SerialRegistration.sales_line_id.in_([ln.id for ln in order.lines]))
        .order_by(SerialRegistration.id)
    ):
        registrations[registration.sales_line_id].append(registration)
    by_id = {ln.id: ln for ln in order.lines}
    return {
        "order": order.order_no,
        "customer": order.customer_code,
        "customer_name": order.customer.name,
        "currency": order.currency,
        "origin": order.origin,
        "store": order.store,
        "confirmed_at": order.confirmed_at.isoformat() if order.confirmed_at else None,
        "lines": [_order_line(ln, by_id, registrations[ln.id]) for ln in order.lines],
    }


def _order_line(
    line: SalesLine, by_id: dict[int, SalesLine], registrations: list[SerialRegistration]
) -> dict[str, Any]:
    parent = by_id.get(line.bundle_parent_id) if line.bundle_parent_id else None
    return {
        "line": line.line_no,
        "item": line.item_code,
        "name": line.item.name,
        "quantity": _qty(line.quantity),
        "unit_price": _price(line.unit_price),
        "discount_percent": _price(line.discount_percent),
        "discount_amount": _price(line.discount_amount),
        "net_amount": _price(line.net_amount),
        "status": line.status,
        "bundle_parent": parent.line_no if parent else None,
        "bom_quantity": _qty(line.bom_quantity),
        "bundle_net_amount": _price(line.bundle_net_amount),
        "delivered": _qty(line.delivered_qty),
        "invoiced": _qty(line.invoiced_qty),
        "invoiced_amount": _price(line.invoiced_amount),
        "credited": _qty(line.credited_qty),
        "serials": [_registration_state(r) for r in registrations],
    }


def _registration_state(registration: SerialRegistration) -> dict[str, Any]:
    if registration.credit_line_id is not None:
        state = "credited"
    elif registration.invoice_line_id is not None:
        state = "invoiced"
    elif registration.packing_slip_line_id is not None:
        state = "shipped"
    else:
        state = "registered"  # left by a canceled packing slip, reused by the next one (S10)
    return {
        "serial": registration.serial,
        "not_readable": registration.serial is None,
        "state": state,
    }


def show_journal(session: Session, number: str) -> dict[str, Any]:
    journal = session.scalars(select(Journal).where(Journal.number == number)).one_or_none()
    if journal is None:
        raise NotFound(f"journal {number!r} does not exist")
    serials = journal_serials(session, [ln.id for ln in journal.lines])
    order_no = session.scalar(select(SalesOrder.order_no).where(SalesOrder.id == journal.order_id))
    reversed_by = session.scalar(select(Journal.number).where(Journal.reverses_id == journal.id))
    documents = session.scalars(
        select(Document)
        .where(Document.journal_id == journal.id)
        .order_by(Document.revision, Document.id)
    ).all()
    return {
        "journal": journal.number,
        "kind": journal.kind,
        "order": order_no,
        "customer": journal.customer_code,
        "currency": journal.currency,
        "posting_date": journal.posting_date.isoformat(),
        "request_id": journal.request_id,
        "actor": journal.actor,
        "reverses": journal.reverses.number if journal.reverses else None,
        "reversed_by": reversed_by,
        "total_amount": _price(journal.total_amount),
        "document_date": _date(journal.document_date),
        **_tax_of(journal),
        "lines": [
            {
                "position": ln.position,
                "line": ln.line_no,
                "item": ln.item_code,
                "name": ln.item_name,
                "quantity": _qty(ln.quantity),
                "unit_price": _price(ln.unit_price),
                "discount_percent": _price(ln.discount_percent),
                "discount_amount": _price(ln.discount_amount),
                "amount": _price(ln.amount),
                "bundle_line": ln.bundle_line_no,
                "bundle_item": ln.bundle_item_code,
                "bundle_parent": ln.is_bundle_parent,
                "serials": serials.get(ln.id, []),
                "registrations": registrations(serials.get(ln.id, [])),
                "tax_code": ln.tax_code,
                "vat_category": ln.vat_category,
                "vat_rate": _price(ln.vat_rate),
            }
            for ln in journal.lines
        ],
        "documents": [
            {
                "id": d.id,
                "revision": d.revision,
                "filename": d.filename,
                "status": d.status,
                # E1/E2, as `docpost documents` says them: "ubl" is the e-invoice, its status
                # `invalid` with the findings of the official rules (None: not checked).
                "format": d.format,
                "media_type": MEDIA_TYPES[d.format],
                "findings": d.findings,
            }
            for d in documents
        ],
    }


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _tax_of(journal: Journal) -> dict[str, Any]:
    """CONTRACT.md, real invoices: an invoice's or credit note's VAT breakdown (T3, one entry
    per tax code), totals, due date and KID (P1, P2); and its exchange rate with the VAT in the
    company currency (T7). A confirmation froze the same VAT and totals (issue 15, without due
    date or KID). A journal posted without VAT has an empty breakdown and no totals beyond its
    net total."""
    if journal.kind not in ("confirmation", "invoice", "credit_note"):
        return {}
    net_total = journal.total_amount
    if journal.total is not None and journal.vat_total is not None:
        net_total = journal.total - journal.vat_total  # a POS sale's lines are gross (T6)
    return {
        "vat": [
            {
                "tax_code": v.tax_code,
                "category": v.category,
                "rate": _price(v.rate),
                "taxable_amount": _price(v.taxable_amount),
                "vat_amount": _price(v.vat_amount),
                "company_taxable_amount": _price(v.company_taxable_amount),
                "company_vat_amount": _price(v.company_vat_amount),
            }
            for v in journal.vat
        ],
        "net_total": _price(net_total),
        "vat_total": _price(journal.vat_total),
        "total": _price(journal.total if journal.total is not None else net_total),
        "due_date": _date(journal.due_date),
        "kid": journal.kid,
        "exchange_rate": _price(journal.exchange_rate),
        "buyer_reference": journal.buyer_reference,
    }


def journal_serials(session: Session, line_ids: list[int]) -> dict[int, list[str | None]]:
    """S11 inquiry: the serials each journal line included, as they read now (S9 corrections
    show); None is a not-readable blank."""
    result: dict[int, list[str | None]] = defaultdict(list)
    for line_id, serial in session.execute(
        select(JournalLineSerial.journal_line_id, SerialRegistration.serial)
        .join(SerialRegistration, SerialRegistration.id == JournalLineSerial.registration_id)
        .where(JournalLineSerial.journal_line_id.in_(line_ids))
        .order_by(JournalLineSerial.journal_line_id, SerialRegistration.id)
    ):
        result[line_id].append(serial)
    return dict(result)


def registrations(serials: list[str | None]) -> list[dict[str, Any]]:
    """S11 inquiry in JSON: each registration a line included, saying what it is. `serials`
    keeps its shape (a list, null for a blank, as before: scripts read it); beside it each
    registration is `{"serial": "SN-1", "not_readable": false}` or, for a blank, `{"serial":
    null, "not_readable": true}`, the shape `show order` gives its registrations, so a script
    cannot take a blank for a missing value."""
    return [{"serial": serial, "not_readable": serial is None} for serial in serials]


def show_request(session: Session, request_id: str) -> dict[str, Any]:
    record = session.get(RequestRecord, request_id)
    if record is None:
        raise NotFound(f"request {request_id!r} is not known")
    return outcome_of(record)


def trace(
    session: Session, serial: str, item: str | None = None, on: dt.date | None = None
) -> dict[str, Any]:
    """S11: the sale a serial belongs to, for service and warranty checks. A serial that was
    credited and sold again shows each sale, the current one last.

    S15: each sale says its warranty (`warranty_from`, `warranty_until`, `warranty_valid` on
    `on`, default today in the company's time zone), and the trace says the current sale's:
    the unit's standing sale (shipped or invoiced, not credited), else its latest. When the
    serial is on several items and no item was given, the trace's own warranty fields are None
    (which item's would it be?) and each sale's tell; `current` marks the sale they are of."""
    day = on if on is not None else _company_today(session)
    # S4: looked up as it was stored, so a serial typed full-width still finds its sale.
    query = select(SerialRegistration).where(SerialRegistration.serial == normalize_serial(serial))
    if item is not None:
        query = query.where(SerialRegistration.item_code == item)
    sales = []
    standing: list[dict[str, Any]] = []
    for registration in session.scalars(query.order_by(SerialRegistration.id)):
        sale = _sale(session, registration, day)
        sales.append(sale)
        if registration.active:
            standing.append(sale)
    current = _current_sale(sales, standing)
    for sale in sales:
        sale["current"] = sale is current
    return {
        "serial": serial.strip(),
        "item": item,
        "on": day.isoformat(),
        "warranty_until": current["warranty_until"] if current else None,
        "warranty_valid": current["warranty_valid"] if current else None,
        "sales": sales,
    }


def warranty_day(text: str) -> dt.date:
    """S15: the day `docpost trace --on` and the HTTP trace's `on` ask about, written
    YYYY-MM-DD; a ValueError says what would be right (entry points reach rules through here)."""
    return day_asked(text)


def _company_today(session: Session) -> dt.date:
    """P1: today in the catalog company's time zone (M6), else the setting's."""
    company = session.get(Company, COMPANY_ROW)
    if company is None:
        return clock.company_today()
    return clock.company_today(clock.zone_named(company.time_zone))


def _current_sale(
    sales: list[dict[str, Any]], standing: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """S15: the sale whose warranty the trace answers for; None when the serial is on several
    items (or on none)."""
    if len({sale["item"] for sale in sales}) != 1:
        return None
    return (standing or sales)[-1]


def _sale(session: Session, registration: SerialRegistration, day: dt.date) -> dict[str, Any]:
    line = session.get(SalesLine, registration.sales_line_id)
    assert line is not None
    unit = _documents_of(session, registration.id)
    documents = unit.documents
    changes = session.scalars(
        select(SerialChange)
        .where(SerialChange.registration_id == registration.id)
        .order_by(SerialChange.id)
    ).all()
    # S15: the period frozen on the line the warranty runs from (D6); a unit on no such line
    # (its packing slip canceled) answers with its item's, only to tell none from not valid.
    start = delivery(unit.shipped, unit.invoiced)
    months = start.months if start is not None else line.item.warranty_months
    warranty = warranty_of(
        months, start.on if start else None, on=day, credited_on=unit.credited_on
    )
    return {
        "serial": registration.serial,
        "item": registration.item_code,
        "item_name": line.item.name,
        "customer": line.order.customer_code,
        "customer_name": line.order.customer.name,
        "order": line.order.order_no,
        "line": line.line_no,
        "packing_slip": documents.get("packing_slip"),
        "invoice": documents.get("invoice"),
        "credit_note": documents.get("credit_note"),
        "date": documents.get("date"),
        "credited": registration.credit_line_id is not None,
        "state": _registration_state(registration)["state"],
        "corrections": [
            {
                "old": c.old_serial,
                "new": c.new_serial,
                "actor": c.actor,
                "at": c.changed_at.isoformat(),
            }
            for c in changes
        ],
        "warranty_months": months,
        "warranty_from": _date(start.on if start else None),
        "warranty_until": _date(warranty.until),
        "warranty_valid": warranty.valid,
    }


@dataclass
class _Unit:
    """One registration's journals: their numbers (`documents`) and, for S15, the standing
    packing slip and invoice that carry it, and the date it was credited."""

    documents: dict[str, str | None]
    shipped: Posted | None = None
    invoiced: Posted | None = None
    credited_on: dt.date | None = None


def _documents_of(session: Session, registration_id: int) -> _Unit:
    unit = _Unit(documents={})
    found = unit.documents
    for journal, months in session.execute(
        select(Journal, JournalLine.warranty_months)
        .join(JournalLine, JournalLine.journal_id == Journal.id)
        .join(JournalLineSerial, JournalLineSerial.journal_line_id == JournalLine.id)
        .where(JournalLineSerial.registration_id == registration_id)
        .order_by(Journal.id)
    ):
        found[journal.kind] = journal.number
        # Dated as the documents are (P1: the document date; the posting date on journals
        # from before it was kept), the sale's `date` and S15's delivery alike.
        posted = Posted(journal.document_date or journal.posting_date, months)
        if journal.kind in ("invoice", "packing_slip"):
            found["date"] = posted.on.isoformat()
        if journal.kind == "packing_slip":
            canceled = journal.reverses_id is not None
            unit.shipped = None if canceled else posted
            if canceled:
                found["packing_slip"] = None  # canceled: the unit is no longer shipped on it
        elif journal.kind == "invoice":
            unit.invoiced = posted
        elif journal.kind == "credit_note":
            unit.credited_on = posted.on
    return unit


# A period of dates, first and last day both included; None on a side leaves it open.
Period = tuple[dt.date | None, dt.date | None]


class PeriodError(ValueError):
    """A period the ledger cannot take; `end` names the end at fault as the caller wrote it."""

    def __init__(self, end: str, message: str) -> None:
        super().__init__(message)
        self.end = end


def period_asked(
    first: str | None, last: str | None, names: tuple[str, str] = ("from", "to")
) -> Period | None:
    """The period `docpost ledger --from --to` and `GET /ledger?from=&to=` ask for (both days
    included), None for all time: days written YYYY-MM-DD (as the trace's `on`), and a period
    that does not end before it begins. `names`: how the caller calls the two ends."""
    if first is None and last is None:
        return None
    first_day = _period_end(names[0], first)
    last_day = _period_end(names[1], last)
    if first_day is not None and last_day is not None and first_day > last_day:
        raise PeriodError(
            names[0],
            f"{names[0]} {first_day.isoformat()} is after {names[1]} {last_day.isoformat()}; "
            "the period runs from its first day to its last",
        )
    return first_day, last_day


def no_ledger_entries(voucher: str | None, account: str | None, period: Period | None) -> str:
    """Why a ledger narrowed to a voucher or account is empty, as `docpost ledger` and
    `GET /ledger` both say it: "no ledger entries of voucher 'VOU-9' from 2026-01-01"."""
    asked = " and ".join(
        f"{what} {value!r}"
        for what, value in (("voucher", voucher), ("account", account))
        if value is not None
    )
    first, last = period if period is not None else (None, None)
    if first and last:
        within = f" from {first.isoformat()} to {last.isoformat()}"
    elif first:
        within = f" from {first.isoformat()}"
    else:
        within = f" up to {last.isoformat()}" if last else ""
    return f"no ledger entries of {asked}{within}"


def _period_end(name: str, text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return day_asked(text)
    except ValueError as exc:
        raise PeriodError(name, f"{name} {exc}") from None


def ledger(
    session: Session,
    voucher: str | None = None,
    account: str | None = None,
    period: Period | None = None,
) -> dict[str, Any]:
    """`docpost ledger`: the entries, the trial balance of those entries and the VAT summary
    (L1). With `period`, only the vouchers dated in it (a journal's voucher is dated on its
    document date, P1) and the VAT of the invoices and credit notes of those document dates:
    the trial balance is then the period's movements, which balance like every voucher."""
    query = select(LedgerEntry).order_by(LedgerEntry.id)
    if voucher is not None:
        query = query.where(LedgerEntry.voucher == voucher)
    if account is not None:
        query = query.where(LedgerEntry.account == account)
    query = _within(query, LedgerEntry.posting_date, period)
    entries = session.scalars(query).all()
    journals = dict(session.execute(select(Journal.id, Journal.number)).all()) if entries else {}
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for entry in entries:
        balances[entry.account] += entry.amount
    total = sum(balances.values(), Decimal(0))
    summary = vat_summary(session, period)
    names = _account_names(session)
    return {
        "period": _period_of(period),
        # The VAT summary's and the vouchers' currency (T7); None in a catalog without company.
        "currency": session.scalar(select(Company.currency).where(Company.id == COMPANY_ROW)),
        "entries": [
            {
                "voucher": e.voucher,
                "journal": journals.get(e.journal_id),
                "date": e.posting_date.isoformat(),
                "account": e.account,
                "account_name": names.get(e.account, ""),
                "debit": str(e.amount) if e.amount > 0 else None,
                "credit": str(-e.amount) if e.amount < 0 else None,
                "text": e.text,
                # T7: the entry in its journal's currency, where that is not the company's.
                **(
                    {"currency": e.currency, "document_amount": str(e.document_amount)}
                    if e.document_amount is not None
                    else {}
                ),
            }
            for e in entries
        ],
        "trial_balance": {
            "accounts": [
                {"account": a, "name": names.get(a, ""), "balance": str(b)}
                for a, b in sorted(balances.items())
            ],
            "total": _price(total),
        },
        "vat_summary": summary,
        "vat_totals": {
            "taxable_amount": _price(_sum_of(summary, "taxable_amount")),
            "vat_amount": _price(_sum_of(summary, "vat_amount")),
        },
    }


def _account_names(session: Session) -> dict[str, str]:
    """The fixed accounts' names, and each output VAT account named by its tax codes (L1,
    M8: "Output VAT, code 3" for 2700), so the trial balance says what 2700 holds."""
    codes: dict[str, list[str]] = defaultdict(list)
    for code, account in session.execute(
        select(TaxCode.code, TaxCode.account)
        .where(TaxCode.account.is_not(None))
        .order_by(TaxCode.code)
    ):
        codes[account].append(code)
    vat = {a: f"Output VAT, code {', '.join(c)}" for a, c in codes.items()}
    return {**vat, **ACCOUNT_NAMES}


def _within(query: Select[Any], column: Any, period: Period | None) -> Select[Any]:
    """`query` restricted to rows whose `column` (a date) lies in `period`."""
    first, last = period if period is not None else (None, None)
    if first is not None:
        query = query.where(column >= first)
    if last is not None:
        query = query.where(column <= last)
    return query


def _period_of(period: Period | None) -> dict[str, str | None]:
    first, last = period if period is not None else (None, None)
    return {"from": _date(first), "to": _date(last)}


def _sum_of(rows: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(row[key]) for row in rows), Decimal(0))


def vat_summary(session: Session, period: Period | None = None) -> list[dict[str, Any]]:
    """What a VAT return needs (issue 15, L1, T7): per tax code, the taxable base and output
    VAT in the company currency of the invoices, less those of the credit notes, whose
    document date is in `period` (first and last day, both included; None: all)."""
    query = (
        select(Journal.kind, JournalVat)
        .join(Journal, Journal.id == JournalVat.journal_id)
        # A confirmation freezes VAT too (to print it) but posts nothing: not in a VAT return.
        .where(Journal.kind.in_(("invoice", "credit_note")))
    )
    query = _within(query, Journal.document_date, period)
    sums: dict[tuple[str, str, Decimal], list[Decimal]] = {}
    for kind, part in session.execute(query):
        sign = -1 if kind == "credit_note" else 1
        key = (part.tax_code, part.category, part.rate)
        base, vat = sums.setdefault(key, [Decimal(0), Decimal(0)])
        sums[key] = [
            base + sign * part.company_taxable_amount,
            vat + sign * part.company_vat_amount,
        ]
    return [
        {
            "tax_code": code,
            "category": category,
            "rate": _price(rate),
            "taxable_amount": str(base),
            "vat_amount": str(vat),
        }
        for (code, category, rate), (base, vat) in sorted(sums.items())
    ]


def revenue_schedules(session: Session, *, remaining_only: bool = False) -> list[dict[str, Any]]:
    """B11: the invoices with deferred revenue, oldest first: what each deferred, what has been
    released, what remains and the first period still to release (credits included, as
    `show_schedule` counts them). `remaining_only`: those with something left to release."""
    rows = session.execute(
        select(
            RevenueScheduleLine.invoice_id,
            RevenueScheduleLine.period,
            RevenueScheduleLine.amount,
            RevenueScheduleLine.released_voucher,
        ).order_by(RevenueScheduleLine.invoice_id, RevenueScheduleLine.period)
    ).all()
    deferred: dict[int, Decimal] = defaultdict(Decimal)
    released: dict[int, Decimal] = defaultdict(Decimal)
    unreleased: dict[int, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for invoice_id, period, amount, voucher in rows:
        deferred[invoice_id] += amount
        if voucher is not None:
            released[invoice_id] += amount
        else:
            unreleased[invoice_id][period] += amount  # a credit's negative lines net out
    invoices = session.execute(
        select(Journal.id, Journal.number, Journal.customer_code, SalesOrder.order_no)
        .outerjoin(SalesOrder, SalesOrder.id == Journal.order_id)
        .where(Journal.id.in_(list(deferred)))
        .order_by(Journal.id)
    ).all()
    found = []
    for invoice_id, number, customer, order_no in invoices:
        remaining = deferred[invoice_id] - released[invoice_id]
        if remaining_only and remaining == 0:
            continue
        due = sorted(p for p, a in unreleased[invoice_id].items() if a != 0)
        found.append(
            {
                "invoice": number,
                "order": order_no,
                "customer": customer,
                "deferred": str(deferred[invoice_id]),
                "released": str(released[invoice_id]),
                "remaining": str(remaining),
                "next_period": due[0].isoformat() if due else None,
            }
        )
    return found


def show_schedule(session: Session, invoice_number: str) -> dict[str, Any]:
    """B11: an invoice's revenue schedule lines, what each released, and what credits took."""
    from docpost.pipeline.services.revenue import schedule_of_invoice

    invoice = session.scalars(select(Journal).where(Journal.number == invoice_number)).one_or_none()
    if invoice is None or invoice.kind != "invoice":
        raise NotFound(f"invoice {invoice_number!r} does not exist")
    lines = schedule_of_invoice(session, invoice)
    deferred = sum((Decimal(ln["amount"]) for ln in lines), Decimal(0))
    released = sum((Decimal(ln["amount"]) for ln in lines if ln["released"]), Decimal(0))
    return {
        "invoice": invoice.number,
        "lines": lines,
        "deferred": str(deferred),
        "released": str(released),
        "remaining": str(deferred - released),
    }


# --- the back-office page's lists (issue 18): each reads one page, never every row -----------

PAGE_SIZE = 25
SEARCH_KINDS = ("order", "journal", "customer", "serial")


@dataclass(frozen=True)
class Page:
    """Which rows of a list: `limit` rows after skipping `offset`. A list reads limit + 1 rows
    to tell whether there is a next page without counting them all."""

    offset: int = 0
    limit: int = PAGE_SIZE


def _paged(rows: list[Any], page: Page) -> dict[str, Any]:
    return {
        "rows": rows[: page.limit],
        "offset": page.offset,
        "limit": page.limit,
        "has_more": len(rows) > page.limit,
    }


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, text: str, kind: str, page: Page = Page()) -> dict[str, Any]:
    """What the page's search box finds: orders, journals or customers whose number, code or
    name contains `text` (any case), or the serials that start with it (S4-normalised, any
    case), one page of them as {"kind", "key", "label", "detail"}."""
    text = text.strip()
    if kind == "serial":
        serial = normalize_serial(text)
        escaped = serial.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query: Select[Any] = (
            select(
                SerialRegistration.serial,
                SerialRegistration.item_code,
                SalesOrder.order_no,
            )
            .join(SalesLine, SalesLine.id == SerialRegistration.sales_line_id)
            .join(SalesOrder, SalesOrder.id == SalesLine.order_id)
            # Any case: a service desk types what a label shows; the trace it opens is exact (S4).
            .where(SerialRegistration.serial.ilike(f"{escaped}%", escape="\\"))
            .order_by(SerialRegistration.serial, SerialRegistration.id)
        )
    elif kind == "order":
        query = (
            select(SalesOrder.order_no, SalesOrder.customer_code, Customer.name)
            .join(Customer, Customer.customer == SalesOrder.customer_code)
            .where(SalesOrder.order_no.ilike(_like(text), escape="\\"))
            .order_by(SalesOrder.id.desc())
        )
    elif kind == "journal":
        query = (
            select(Journal.number, Journal.kind, Journal.posting_date)
            .where(Journal.number.ilike(_like(text), escape="\\"))
            .order_by(Journal.id.desc())
        )
    elif kind == "customer":
        # A customer's orders: the page opens orders, not customers.
        query = (
            select(SalesOrder.order_no, SalesOrder.customer_code, Customer.name)
            .join(Customer, Customer.customer == SalesOrder.customer_code)
            .where(
                Customer.customer.ilike(_like(text), escape="\\")
                | Customer.name.ilike(_like(text), escape="\\")
            )
            .order_by(SalesOrder.id.desc())
        )
    else:
        raise ValueError(f"search kind must be one of {', '.join(SEARCH_KINDS)}, not {kind!r}")
    rows = session.execute(query.offset(page.offset).limit(page.limit + 1)).all()
    return _paged([_hit(kind, row) for row in rows], page)


def _hit(kind: str, row: Any) -> dict[str, Any]:
    if kind == "serial":
        return {"kind": "serial", "key": row[0], "label": row[0], "detail": f"{row[1]}, {row[2]}"}
    if kind == "journal":
        return {"kind": "journal", "key": row[0], "label": row[0], "detail": f"{row[1]}, {row[2]}"}
    return {"kind": "order", "key": row[0], "label": row[0], "detail": f"{row[1]} {row[2]}"}


def journals_page(
    session: Session, page: Page = Page(), order_no: str | None = None
) -> dict[str, Any]:
    """Journals newest first (of one order, or all), one page, each with its documents: id,
    kind (the journal's or picking_list, D2), format (pdf | ubl, E1), revision, filename,
    status."""
    query = (
        select(
            Journal.id,
            Journal.number,
            Journal.kind,
            Journal.customer_code,
            Journal.posting_date,
            Journal.total_amount,
            SalesOrder.order_no,
        )
        .outerjoin(SalesOrder, SalesOrder.id == Journal.order_id)
        .order_by(Journal.id.desc())
    )
    if order_no is not None:
        query = query.where(SalesOrder.order_no == order_no)
    journals = session.execute(query.offset(page.offset).limit(page.limit + 1)).all()
    documents: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for d in session.execute(
        select(
            Document.journal_id,
            Document.id,
            Document.kind,
            Document.format,
            Document.revision,
            Document.filename,
            Document.status,
        )
        .where(Document.journal_id.in_([j.id for j in journals[: page.limit]]))
        .order_by(Document.id)
    ):
        documents[d.journal_id].append(
            {
                "id": d.id,
                "kind": d.kind,
                "format": d.format,
                "revision": d.revision,
                "filename": d.filename,
                "status": d.status,
            }
        )
    rows = [
        {
            "journal": j.number,
            "kind": j.kind,
            "order": j.order_no,
            "customer": j.customer_code,
            "posting_date": j.posting_date.isoformat(),
            "total_amount": _price(j.total_amount),
            "documents": documents.get(j.id, []),
        }
        for j in journals
    ]
    return _paged(rows, page)


PROBLEM_STATUSES = ("rejected", "failed")


def problem_requests(
    session: Session, page: Page = Page(), actor: str | None = None
) -> dict[str, Any]:
    """Requests that ended rejected or failed, newest first, with their error (code, rule,
    message); only `actor`'s when given. One page."""
    query = select(RequestRecord).where(RequestRecord.status.in_(PROBLEM_STATUSES))
    if actor is not None:
        query = query.where(RequestRecord.actor == actor)
    query = query.order_by(RequestRecord.created_at.desc(), RequestRecord.request_id)
    rows = [
        {
            "request_id": r.request_id,
            "kind": r.kind,
            "actor": r.actor,
            "status": r.status,
            "attempts": r.attempts,
            "created_at": r.created_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "code": (r.error or {}).get("code"),
            "rule": (r.error or {}).get("rule"),
            "message": (r.error or {}).get("message"),
        }
        for r in session.scalars(query.offset(page.offset).limit(page.limit + 1))
    ]
    return _paged(rows, page)


def dead_letters_page(session: Session, page: Page = Page()) -> dict[str, Any]:
    """Dead letters (undecodable or invalid messages), newest first, one page."""
    query = select(DeadLetter).order_by(DeadLetter.id.desc())
    rows = [
        {
            "id": d.id,
            "received_at": d.received_at.isoformat(),
            "queue": d.queue,
            "task": d.task,
            "reason": d.reason,
            "raw_head": d.raw_head,
            "size": d.size,
        }
        for d in session.scalars(query.offset(page.offset).limit(page.limit + 1))
    ]
    return _paged(rows, page)
