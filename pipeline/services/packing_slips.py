"""post_packing_slip and cancel_packing_slip (S1-S6, S10, B2, B7)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from docpost.pipeline.contract import CancelPackingSlip, PostPackingSlip
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import quantity_text
from docpost.pipeline.services.journal import add_line, new_journal, snapshot_line
from docpost.pipeline.services.lines import line_label, require_exploded
from docpost.pipeline.services.posting import (
    Target,
    check_full_bundles,
    nothing_to_post,
    requested_targets,
)
from docpost.pipeline.services.registrations import (
    SerialEntry,
    check_new_registrations,
    check_not_in_use,
    guarded_activation,
    link_to_journal_line,
)
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import (
    Journal,
    JournalLine,
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
        targets = [
            Target(ln, ln.open_to_deliver)
            for ln in order.lines
            if ln.status == "open" and ln.open_to_deliver > 0
        ]
        if not targets:
            raise nothing_to_post(order, "packing slip")
    else:
        targets = requested_targets(order, cmd.lines)
    journal = ship(uow, order, targets)
    return {"journal": journal.number, "documents": [uow.add_document(journal)]}


def ship(uow: UnitOfWork, order: SalesOrder, targets: Sequence[Target]) -> Journal:
    """Validate and post one packing slip for `targets`."""
    for target in targets:
        line = target.line
        if target.quantity > line.open_to_deliver:
            raise Rejection(
                "order.quantity_exceeds_open",
                f"{line_label(line)}: packing slip quantity {quantity_text(target.quantity)} "
                "exceeds the "
                f"{quantity_text(line.open_to_deliver)} not yet shipped or invoiced",
            )
        if line.item.serialized_in_sales:
            _prepare_registrations(uow, target)
    check_full_bundles(order, targets, "packing slip")

    journal = new_journal(uow, "packing_slip", "PS", order)
    for target in targets:
        add_line(journal, snapshot_line(target.line, target.quantity, amount=None))
        target.line.delivered_qty += target.quantity
    serials = [(t.line, [r.serial for r in t.registrations if r.serial]) for t in targets]
    uow.session.flush()  # the journal lines' ids, for their registrations
    with guarded_activation(uow, serials):
        for target, journal_line in zip(targets, journal.lines, strict=True):
            for registration in target.registrations:
                registration.active = True
                registration.packing_slip_line_id = journal_line.id
            # New registrations join the session only now, so they are written once, active.
            uow.session.add_all(target.registrations)
    for target, journal_line in zip(targets, journal.lines, strict=True):
        link_to_journal_line(uow, journal_line, target.registrations)
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
    original = uow.session.scalars(
        select(Journal).where(Journal.number == cmd.packing_slip)
    ).one_or_none()
    if original is None or original.kind != "packing_slip":
        raise Rejection("packing_slip.unknown", f"there is no packing slip {cmd.packing_slip!r}")
    order = uow.lock_order(
        uow.session.scalar(select(SalesOrder.order_no).where(SalesOrder.id == original.order_id))
        or ""
    )
    if original.reverses_id is not None:
        raise Rejection(
            "packing_slip.is_reversal",
            f"{original.number} is itself the cancellation of a packing slip",
        )
    reversal = uow.session.scalars(
        select(Journal).where(Journal.reverses_id == original.id)
    ).first()
    if reversal is not None:
        raise Rejection(
            "packing_slip.already_canceled",
            f"packing slip {original.number} was already canceled by {reversal.number}",
            rule="S10",
        )
    invoiced = uow.session.scalars(
        select(PackingSlipInvoicing).where(
            PackingSlipInvoicing.packing_slip_line_id.in_([ln.id for ln in original.lines])
        )
    ).first()
    if invoiced is not None:
        raise Rejection(
            "packing_slip.invoiced",
            f"packing slip {original.number} is already invoiced; it can no longer be canceled, "
            "credit the invoice instead",
            rule="S10",
        )

    journal = new_journal(uow, "packing_slip", "PS", order, reverses=original)
    lines_by_id = {ln.id: ln for ln in order.lines}
    for original_line in original.lines:
        line: SalesLine = lines_by_id[original_line.sales_line_id]  # type: ignore[index]
        add_line(
            journal,
            snapshot_line(line, -original_line.quantity, amount=None, reverses=original_line),
        )
        line.delivered_qty -= original_line.quantity
        line.corrected_by_negative_quantity = True
    uow.session.flush()
    for original_line, reversal_line in zip(original.lines, journal.lines, strict=True):
        registrations = _registrations_on(uow, original_line)
        for registration in registrations:
            registration.active = False
            registration.packing_slip_line_id = None
        link_to_journal_line(uow, reversal_line, registrations)
    return {
        "journal": journal.number,
        "reverses": original.number,
        "documents": [uow.add_document(journal)],
    }


def _registrations_on(uow: UnitOfWork, journal_line: JournalLine) -> list[SerialRegistration]:
    return list(
        uow.session.scalars(
            select(SerialRegistration).where(
                SerialRegistration.packing_slip_line_id == journal_line.id
            )
        )
    )
