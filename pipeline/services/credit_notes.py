"""post_credit_note: credit an invoice journal's component lines and free their serials
(B10, S5, L1). The rules live in rules/credit.py: this reads the invoice, asks them for a
plan and writes it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from docpost.pipeline.contract import CreditLineIn, PostCreditNote
from docpost.pipeline.rules.credit import (
    CreditPlan,
    CreditRequest,
    InvoicedLine,
    InvoiceToCredit,
    Registration,
    plan_credit,
    remaining_lines,
    requested_line,
)
from docpost.pipeline.rules.tax import VatPlan
from docpost.pipeline.services.journal import add_line, new_journal, post_voucher, snapshot_line
from docpost.pipeline.services.lines import line_label, reject_repeats, resolve_line
from docpost.pipeline.services.posting import (
    bundles_on,
    freeze_tax,
    frozen_taxes,
    lock_order_of,
    posted_journal,
)
from docpost.pipeline.services.registrations import link_to_journal_line
from docpost.pipeline.services.revenue import credit_note_entries
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import Journal, JournalLine, SalesLine, SalesOrder, SerialRegistration

ZERO = Decimal(0)


def post_credit_note(uow: UnitOfWork, cmd: PostCreditNote) -> dict[str, Any]:
    uow.require_duties_of("post_credit_note")
    invoice = posted_journal(uow, "invoice", cmd.invoice)
    order = lock_order_of(uow, invoice)
    units = _open_registrations(uow, invoice)
    facts = _invoice_to_credit(uow, order, invoice, units)
    if cmd.lines is None:
        requests = remaining_lines(facts)
    else:
        requests = _requested_lines(order, facts, cmd.lines)
    plan = plan_credit(facts, requests, bundles_on(order))
    journal = _write_credit_note(uow, order, invoice, facts, plan, units, cmd.document_date)
    return {
        "journal": journal.number,
        "credits": invoice.number,
        "documents": uow.add_documents(journal, order.origin),
    }


def _requested_lines(
    order: SalesOrder, invoice: InvoiceToCredit, lines: Sequence[CreditLineIn]
) -> list[CreditRequest]:
    """Each line of the request resolved on the order and checked against the invoice, one
    after the other, so the first wrong line is the one the rejection names."""
    requests = []
    resolved: list[SalesLine] = []
    for line_in in lines:
        line = resolve_line(order, line_in.line, line_in.item)
        requests.append(
            requested_line(invoice, line.id, line_label(line), line_in.quantity, line_in.serials)
        )
        resolved.append(line)
    reject_repeats(resolved)
    return requests


def _invoice_to_credit(
    uow: UnitOfWork,
    order: SalesOrder,
    invoice: Journal,
    units: Mapping[int, Sequence[SerialRegistration]],
) -> InvoiceToCredit:
    """What the rules need of the invoice: per line, what it invoiced, what credit notes took
    back before, and its serialized units not credited yet."""
    quantities, amounts = _already_credited(uow, invoice)
    lines_by_id = {ln.id: ln for ln in order.lines}
    invoiced = []
    for invoice_line in invoice.lines:
        line = lines_by_id[invoice_line.sales_line_id]  # type: ignore[index]
        invoiced.append(
            InvoicedLine(
                invoice_line_id=invoice_line.id,
                sales_line_id=line.id,
                line_no=invoice_line.line_no,
                label=line_label(line),
                item_code=line.item_code,
                serialized=line.item.serialized_in_sales,
                quantity=invoice_line.quantity,
                amount=invoice_line.amount or ZERO,
                credited_quantity=quantities[invoice_line.id],
                credited_amount=amounts[invoice_line.id],
                open_registrations=tuple(
                    Registration(r.id, r.serial) for r in units.get(invoice_line.id, ())
                ),
            )
        )
    return InvoiceToCredit(invoice.number, tuple(invoiced))


def _already_credited(
    uow: UnitOfWork, invoice: Journal
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    quantities: dict[int, Decimal] = defaultdict(Decimal)
    amounts: dict[int, Decimal] = defaultdict(Decimal)
    for line in uow.session.scalars(
        select(JournalLine).where(JournalLine.reverses_line_id.in_([ln.id for ln in invoice.lines]))
    ):
        quantities[line.reverses_line_id] += line.quantity  # type: ignore[index]
        amounts[line.reverses_line_id] += line.amount or ZERO  # type: ignore[index]
    return quantities, amounts


def _open_registrations(uow: UnitOfWork, invoice: Journal) -> dict[int, list[SerialRegistration]]:
    """Invoice line id -> its registrations no credit note has taken yet, oldest first."""
    units: dict[int, list[SerialRegistration]] = defaultdict(list)
    for registration in uow.session.scalars(
        select(SerialRegistration)
        .where(
            SerialRegistration.invoice_line_id.in_([ln.id for ln in invoice.lines]),
            SerialRegistration.credit_line_id.is_(None),
        )
        .order_by(SerialRegistration.id)
    ):
        units[registration.invoice_line_id].append(registration)  # type: ignore[index]
    return units


def _write_credit_note(
    uow: UnitOfWork,
    order: SalesOrder,
    invoice: Journal,
    facts: InvoiceToCredit,
    plan: CreditPlan,
    units: Mapping[int, Sequence[SerialRegistration]],
    document_date: dt.date | None,
) -> Journal:
    """The credit note as planned, its serials freed and its voucher; `facts`: the invoice as
    it was before it (what earlier credit notes took), for the voucher's company amounts."""
    journal = new_journal(
        uow, "credit_note", "CN", order, reverses=invoice, document_date=document_date
    )
    lines_by_id = {ln.id: ln for ln in order.lines}
    invoice_lines = {ln.id: ln for ln in invoice.lines}
    for credit in plan.lines:
        line = lines_by_id[credit.sales_line_id]
        reverses = invoice_lines[credit.invoice_line_id]
        add_line(
            journal, snapshot_line(line, credit.quantity, amount=credit.amount, reverses=reverses)
        )
        line.credited_qty += credit.quantity
    journal.total_amount = plan.total
    vat = _credit_tax(journal, invoice, [invoice_lines[c.invoice_line_id] for c in plan.lines])
    uow.session.flush()
    for credit, credit_line in zip(plan.lines, journal.lines, strict=True):
        by_id = {r.id: r for r in units.get(credit.invoice_line_id, ())}
        registrations = [by_id[i] for i in credit.registration_ids]
        for registration in registrations:
            registration.active = False  # B10: a credited serial is free again (S5)
            registration.credit_line_id = credit_line.id
        link_to_journal_line(uow, credit_line, registrations)
    post_voucher(uow, journal, credit_note_entries(uow, journal, facts, vat))
    return journal


def _credit_tax(
    journal: Journal, invoice: Journal, credited: Sequence[JournalLine]
) -> VatPlan | None:
    """T5: each line keeps the tax its invoice line was posted with (T1, frozen there), and the
    credit note's VAT is computed on its own lines (T3): crediting a whole invoice gives its
    lines back, so its VAT in every group exactly. At the invoice's exchange rate (T7)."""
    journal.buyer_reference = invoice.buyer_reference
    taxes = frozen_taxes(invoice, credited)
    if taxes is not None:
        return freeze_tax(journal, taxes, invoice.exchange_rate)
    journal.exchange_rate = invoice.exchange_rate
    if invoice.exchange_rate is None:
        return None
    net = journal.total_amount or ZERO
    return VatPlan((), net, ZERO, net)
