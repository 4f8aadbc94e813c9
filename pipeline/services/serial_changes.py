"""change_serial: correct a registered serial while the unit is not invoiced (S9, D6)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from docpost.pipeline.contract import ChangeSerial
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.serials import check_blank_duty, clean_serial, duplicate_on_line
from docpost.pipeline.services.lines import line_label, resolve_line
from docpost.pipeline.services.registrations import check_not_in_use, guarded_activation
from docpost.pipeline.uow import REGISTER_NON_READABLE, UnitOfWork
from docpost.schema import Journal, JournalLine, SerialChange, SerialRegistration


def change_serial(uow: UnitOfWork, cmd: ChangeSerial) -> dict[str, Any]:
    uow.require_duties_of("change_serial")
    order = uow.lock_order(cmd.order)
    line = resolve_line(order, cmd.line, cmd.item)
    label = line_label(line)
    if not line.item.serialized_in_sales:
        raise Rejection(
            "serial.not_serialized",
            f"{label}: item {line.item_code} has no serials in the sales process",
            rule="S9",
        )
    if line.corrected_by_negative_quantity:
        raise Rejection(
            "serial.line_corrected",
            f"{label} was corrected by a negative quantity (a canceled packing slip); its "
            "serials can no longer be changed",
            rule="S9",
        )
    old = clean_serial(cmd.old, label) if cmd.old is not None else None
    new = clean_serial(cmd.new, label) if cmd.new is not None else None
    shown_old = repr(old) if old else "not readable"
    if old == new:
        raise Rejection(
            "serial.unchanged", f"{label}: old and new serial are the same ({shown_old})", rule="S9"
        )
    if new is None:
        check_blank_duty(1, uow.has_duty(REGISTER_NON_READABLE), uow.actor_name, label)

    on_line = list(
        uow.session.scalars(
            select(SerialRegistration)
            .where(
                SerialRegistration.sales_line_id == line.id,
                SerialRegistration.credit_line_id.is_(None),
            )
            .order_by(SerialRegistration.id)
        )
    )
    matching = [r for r in on_line if r.serial == old]
    if not matching:
        raise Rejection(
            "serial.not_found",
            f"{label}: no registration of serial {shown_old} to change",
            rule="S9",
        )
    changeable = [r for r in matching if r.invoice_line_id is None]
    if not changeable:
        raise Rejection(
            "serial.invoiced",
            f"{label}: serial {shown_old} is invoiced; invoiced units cannot be changed",
            rule="S9",
        )
    registration = changeable[0]
    if new is not None:
        if any(r.serial == new for r in on_line):
            raise duplicate_on_line(new, label)
        check_not_in_use(uow, line, [new])

    with guarded_activation(uow, [(line, [new] if new else [])]):
        registration.serial = new
    uow.session.add(
        SerialChange(
            registration_id=registration.id,
            old_serial=old,
            new_serial=new,
            actor=uow.actor_name,
            request_id=uow.request_id,
        )
    )

    packing_slip = None
    documents = []
    if registration.packing_slip_line_id is not None:
        # D6: the packing slip's journal stays as it is; its PDF gets a new revision.
        packing_slip = uow.session.scalar(
            select(Journal)
            .join(JournalLine, JournalLine.journal_id == Journal.id)
            .where(JournalLine.id == registration.packing_slip_line_id)
        )
        assert packing_slip is not None
        documents.append(uow.add_document(packing_slip))
    return {
        "order": order.order_no,
        "line": line.line_no,
        "old": old,
        "new": new,
        "packing_slip": packing_slip.number if packing_slip else None,
        "documents": documents,
    }
