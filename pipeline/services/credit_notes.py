"""post_credit_note: credit an invoice journal's component lines and free their serials
(B10, S5, L1)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from docpost.pipeline.contract import PostCreditNote
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import quantity_text, share_of_amount
from docpost.pipeline.rules.serials import check_registration_count, clean_serial
from docpost.pipeline.services.journal import (
    add_line,
    new_journal,
    post_voucher,
    snapshot_line,
)
from docpost.pipeline.services.lines import line_label, reject_repeats, resolve_line
from docpost.pipeline.services.posting import Target, check_full_bundles
from docpost.pipeline.services.registrations import link_to_journal_line
from docpost.pipeline.services.revenue import credit_note_entries
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import Journal, JournalLine, SalesOrder, SerialRegistration

ZERO = Decimal(0)


def post_credit_note(uow: UnitOfWork, cmd: PostCreditNote) -> dict[str, Any]:
    uow.require_duties_of("post_credit_note")
    invoice = uow.session.scalars(
        select(Journal).where(Journal.number == cmd.invoice)
    ).one_or_none()
    if invoice is None or invoice.kind != "invoice":
        raise Rejection("invoice.unknown", f"there is no invoice {cmd.invoice!r}")
    order_no = uow.session.scalar(
        select(SalesOrder.order_no).where(SalesOrder.id == invoice.order_id)
    )
    order = uow.lock_order(order_no or "")
    credited_qty, credited_amount = _already_credited(uow, invoice)
    by_sales_line = {ln.sales_line_id: ln for ln in invoice.lines}

    targets: list[Target] = []
    requested: dict[int, list[str]] = {}  # order line id -> serials the request names
    if cmd.lines is None:
        for invoice_line in invoice.lines:
            remaining = invoice_line.quantity - credited_qty[invoice_line.id]
            if remaining > 0:
                line = next(ln for ln in order.lines if ln.id == invoice_line.sales_line_id)
                targets.append(Target(line, remaining))
        if not targets:
            raise Rejection(
                "credit.nothing_to_credit", f"invoice {invoice.number} is already fully credited"
            )
    else:
        for line_in in cmd.lines:
            line = resolve_line(order, line_in.line, line_in.item)
            if line.id not in by_sales_line:
                raise Rejection(
                    "credit.line_not_invoiced",
                    f"{line_label(line)} is not on invoice {invoice.number}",
                    rule="B10",
                )
            targets.append(Target(line, line_in.quantity))
            requested[line.id] = [clean_serial(s, line_label(line)) for s in line_in.serials]
        reject_repeats(t.line for t in targets)

    for target in targets:
        invoice_line = by_sales_line[target.line.id]
        remaining = invoice_line.quantity - credited_qty[invoice_line.id]
        if target.quantity > remaining:
            raise Rejection(
                "credit.quantity_exceeds_invoiced",
                f"{line_label(target.line)}: credit quantity {quantity_text(target.quantity)} "
                "exceeds the "
                f"{quantity_text(remaining)} invoiced on {invoice.number} and not yet credited",
            )
        if target.line.item.serialized_in_sales:
            target.registrations = _credited_registrations(
                uow, target, invoice_line, requested.get(target.line.id, [])
            )
        elif requested.get(target.line.id):
            raise Rejection(
                "serial.not_serialized",
                f"{line_label(target.line)}: item {target.line.item_code} has no serials in the "
                "sales process; send the line without serials",
                rule="S2",
            )
    check_full_bundles(order, targets, "credit note")

    journal = new_journal(uow, "credit_note", "CN", order, reverses=invoice)
    for target in targets:
        invoice_line = by_sales_line[target.line.id]
        amount = share_of_amount(
            invoice_line.amount or ZERO,
            invoice_line.quantity,
            target.quantity,
            credited_qty[invoice_line.id],
            credited_amount[invoice_line.id],
        )
        credit_line = snapshot_line(
            target.line, target.quantity, amount=amount, reverses=invoice_line
        )
        add_line(journal, credit_line)
        target.line.credited_qty += target.quantity
    journal.total_amount = sum((ln.amount or ZERO for ln in journal.lines), ZERO)
    uow.session.flush()
    for target, credit_line in zip(targets, journal.lines, strict=True):
        for registration in target.registrations:
            registration.active = False  # B10: a credited serial is free again (S5)
            registration.credit_line_id = credit_line.id
        link_to_journal_line(uow, credit_line, target.registrations)
    post_voucher(uow, journal, credit_note_entries(uow, journal))
    return {
        "journal": journal.number,
        "credits": invoice.number,
        "documents": [uow.add_document(journal)],
    }


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


def _credited_registrations(
    uow: UnitOfWork, target: Target, invoice_line: JournalLine, serials: list[str]
) -> list[SerialRegistration]:
    """The invoiced units the credit note takes back: the serials named, then the rest in the
    order they were invoiced."""
    label = line_label(target.line)
    open_registrations = list(
        uow.session.scalars(
            select(SerialRegistration)
            .where(
                SerialRegistration.invoice_line_id == invoice_line.id,
                SerialRegistration.credit_line_id.is_(None),
            )
            .order_by(SerialRegistration.id)
        )
    )
    by_serial = {r.serial: r for r in open_registrations if r.serial}
    chosen: list[SerialRegistration] = []
    chosen_ids: set[int] = set()  # "named before?" in constant time: linear in the serials
    for serial in serials:
        registration = by_serial.get(serial)
        if registration is None:
            raise Rejection(
                "serial.not_on_invoice",
                f"{label}: serial {serial!r} is not on invoice line {invoice_line.line_no} of "
                "this invoice, or is already credited",
                rule="B10",
                serial=serial,
            )
        if registration.id in chosen_ids:
            raise Rejection(
                "serial.duplicate",
                f"{label}: serial {serial!r} is given twice",
                rule="S5",
                serial=serial,
            )
        chosen.append(registration)
        chosen_ids.add(registration.id)
    check_registration_count(target.quantity, len(chosen), True, label)
    rest = [r for r in open_registrations if r.id not in chosen_ids]
    needed = int(target.quantity) - len(chosen)
    return chosen + rest[:needed]
