"""post_packing_slip and cancel_packing_slip (S1-S6, S10, B2, B7, P1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from docpost.pipeline.contract import CancelPackingSlip, PostPackingSlip
from docpost.pipeline.journal_rows import update_by_id
from docpost.pipeline.rules.packing_slips import (
    ReversalLine,
    ShippedLine,
    check_cancelable,
    plan_cancellation,
)
from docpost.pipeline.services.journal import add_line, draft_journal, new_journal, snapshot_line
from docpost.pipeline.services.lines import require_exploded
from docpost.pipeline.services.posting import (
    Target,
    check_full_bundles,
    check_open_to_deliver,
    insert_registrations,
    lock_order_of,
    open_targets,
    posted_journal,
    requested_targets,
)
from docpost.pipeline.services.registrations import (
    SerialEntry,
    check_new_registrations,
    check_not_in_use,
    link_to_journal_line,
)
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import (
    Journal,
    PackingSlipInvoicing,
    SalesLine,
    SalesOrder,
    SerialRegistration,
)


def post_packing_slip(uow: UnitOfWork, cmd: PostPackingSlip) -> dict[str, Any]:
    uow.require_duties_of("post_packing_slip")
    order = uow.lock_order(cmd.order)
    require_exploded(order, "packing slip")
    if cmd.lines is None:
        targets = open_targets(order, "packing slip")
    else:
        targets = requested_targets(order, cmd.lines)
    journal = ship(uow, order, targets, cmd.document_date)
    return {"journal": journal.number, "documents": [uow.add_document(journal)]}


def ship(
    uow: UnitOfWork,
    order: SalesOrder,
    targets: Sequence[Target],
    document_date: dt.date | None = None,
) -> Journal:
    """Validate and post one packing slip for `targets`, dated `document_date` (P1: the
    request's, else today in the company's time zone). Its date is the delivery date the
    invoice of these lines prints (P3), so a back-dated delivery must keep its date."""
    for target in targets:
        check_open_to_deliver(target, "packing slip")
        if target.line.item.serialized_in_sales:
            _prepare_registrations(uow, target)
    check_full_bundles(order, targets, "packing slip")

    # Everything decided in memory first; then the writes, one statement per table
    # (pipeline.journal_rows), the journal's number taken just before its row (L2).
    journal = draft_journal(uow, "packing_slip", order, document_date=document_date)
    for target in targets:
        add_line(journal, snapshot_line(target.line, target.quantity, amount=None))
    update_by_id(
        uow.session,
        [target.line for target in targets],
        {"delivered_qty": [target.line.delivered_qty + target.quantity for target in targets]},
    )
    uow.insert_journal(journal, "PS")
    insert_registrations(uow, targets, journal.lines, "packing_slip_line_id", guarded=targets)
    return journal


def _prepare_registrations(uow: UnitOfWork, target: Target) -> None:
    """S2-S6 and S10: the registrations a serialized packing slip line carries. Without serials
    in the request, the line's registrations left by a canceled packing slip are reused."""
    line = target.line
    pending = list(
        uow.session.scalars(
            select(SerialRegistration)
            .where(
                SerialRegistration.sales_line_id == line.id,
                SerialRegistration.active.is_(False),
                SerialRegistration.packing_slip_line_id.is_(None),
                SerialRegistration.invoice_line_id.is_(None),
                SerialRegistration.credit_line_id.is_(None),
            )
            .order_by(SerialRegistration.id)
        )
    )
    if target.entry is None:
        registrations = pending[: int(target.quantity)]
        entry = SerialEntry(
            [r.serial for r in registrations if r.serial],
            sum(1 for r in registrations if r.serial is None),
        )
    else:
        # A serial scanned again that the line still holds from a canceled packing slip is
        # that same registration, not a second one.
        entry = target.entry
        by_serial = {r.serial: r for r in pending if r.serial is not None}
        registrations = [
            by_serial.get(serial)
            or SerialRegistration(sales_line_id=line.id, item_code=line.item_code, serial=serial)
            for serial in entry.serials
        ] + [
            SerialRegistration(sales_line_id=line.id, item_code=line.item_code, serial=None)
            for _ in range(entry.blanks)
        ]
    check_new_registrations(uow, line, target.quantity, entry)
    check_not_in_use(uow, line, entry.serials)
    target.registrations = registrations


def cancel_packing_slip(uow: UnitOfWork, cmd: CancelPackingSlip) -> dict[str, Any]:
    """S10: reverse every line of a packing slip with a new packing slip of negative
    quantities. The serials stay registered on the order lines for the next packing slip."""
    uow.require_duties_of("cancel_packing_slip")
    original = posted_journal(uow, "packing_slip", cmd.packing_slip)
    order = lock_order_of(uow, original)
    check_cancelable(
        original.number,
        is_reversal=original.reverses_id is not None,
        canceled_by=_canceled_by(uow, original),
        invoiced=_is_invoiced(uow, original),
    )
    shipped = [
        ShippedLine(ln.id, ln.sales_line_id, ln.quantity)  # type: ignore[arg-type]
        for ln in original.lines
    ]
    journal = _write_cancellation(uow, order, original, plan_cancellation(shipped))
    return {
        "journal": journal.number,
        "reverses": original.number,
        "documents": [uow.add_document(journal)],
    }


def _canceled_by(uow: UnitOfWork, original: Journal) -> str | None:
    """The number of the packing slip that canceled `original`, if one did."""
    return uow.session.scalars(
        select(Journal.number).where(Journal.reverses_id == original.id)
    ).first()


def _is_invoiced(uow: UnitOfWork, original: Journal) -> bool:
    """Whether an invoice took any of its lines, even in part (S7)."""
    taken = uow.session.scalars(
        select(PackingSlipInvoicing.invoice_line_id).where(
            PackingSlipInvoicing.packing_slip_line_id.in_([ln.id for ln in original.lines])
        )
    ).first()
    return taken is not None


def _write_cancellation(
    uow: UnitOfWork, order: SalesOrder, original: Journal, plan: Sequence[ReversalLine]
) -> Journal:
    """The reversing packing slip; its order lines ship again what it takes back, and the
    reversed registrations wait on their order lines, inactive, for the next packing slip."""
    journal = new_journal(uow, "packing_slip", "PS", order, reverses=original)
    lines_by_id = {ln.id: ln for ln in order.lines}
    shipped = {ln.id: ln for ln in original.lines}
    for reversal in plan:
        line: SalesLine = lines_by_id[reversal.sales_line_id]
        add_line(
            journal,
            snapshot_line(
                line,
                reversal.quantity,
                amount=None,
                reverses=shipped[reversal.reverses_line_id],
            ),
        )
        line.delivered_qty += reversal.quantity
        line.corrected_by_negative_quantity = True
    uow.session.flush()
    for reversal, reversal_line in zip(plan, journal.lines, strict=True):
        registrations = _registrations_on(uow, reversal.reverses_line_id)
        for registration in registrations:
            registration.active = False
            registration.packing_slip_line_id = None
        link_to_journal_line(uow, reversal_line, registrations)
    return journal


def _registrations_on(uow: UnitOfWork, journal_line_id: int) -> list[SerialRegistration]:
    return list(
        uow.session.scalars(
            select(SerialRegistration).where(
                SerialRegistration.packing_slip_line_id == journal_line_id
            )
        )
    )
