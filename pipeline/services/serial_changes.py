"""change_serial: correct a registered serial while the unit is not invoiced (S9, D6).

The rules are rules.serials.plan_serial_change; this module loads what it reads and writes
what it plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.contract import ChangeSerial
from docpost.pipeline.rules.serials import (
    BlankPermission,
    RegisteredSerial,
    SerialChangePlan,
    SerialLine,
    plan_serial_change,
)
from docpost.pipeline.services.lines import line_label, resolve_line
from docpost.pipeline.services.registrations import check_not_in_use, guarded_activation
from docpost.pipeline.uow import REGISTER_NON_READABLE, UnitOfWork
from docpost.schema import Journal, JournalLine, SalesLine, SerialChange, SerialRegistration


def change_serial(uow: UnitOfWork, cmd: ChangeSerial) -> dict[str, Any]:
    uow.require_duties_of("change_serial")
    order = uow.lock_order(cmd.order)
    line = resolve_line(order, cmd.line, cmd.item)
    on_line = registrations_on(uow.session, line)
    plan = plan_serial_change(
        SerialLine(
            line_label(line),
            line.item_code,
            line.item.serialized_in_sales,
            line.corrected_by_negative_quantity,
        ),
        cmd.old,
        cmd.new,
        [RegisteredSerial(r.id, r.serial, r.invoice_line_id is not None) for r in on_line],
        BlankPermission(uow.actor_name, uow.has_duty(REGISTER_NON_READABLE)),
    )
    if plan.new is not None:
        check_not_in_use(uow, line, [plan.new])
    registration = next(r for r in on_line if r.id == plan.registration_id)
    write_change(uow, line, registration, plan)
    packing_slip = shipped_on(uow.session, registration)
    return {
        "order": order.order_no,
        "line": line.line_no,
        "old": plan.old,
        "new": plan.new,
        "packing_slip": packing_slip.number if packing_slip else None,
        # D6: the packing slip's journal stays as it is; its PDF gets a new revision.
        "documents": [uow.add_document(packing_slip)] if packing_slip else [],
    }


def registrations_on(session: Session, line: SalesLine) -> Sequence[SerialRegistration]:
    """The line's registrations that are not credited, oldest first (S9 changes the first
    that matches)."""
    return session.scalars(
        select(SerialRegistration)
        .where(
            SerialRegistration.sales_line_id == line.id,
            SerialRegistration.credit_line_id.is_(None),
        )
        .order_by(SerialRegistration.id)
    ).all()


def write_change(
    uow: UnitOfWork, line: SalesLine, registration: SerialRegistration, plan: SerialChangePlan
) -> None:
    """The new serial, guarded by the active-serial index (S5), and its audit trail (S9)."""
    with guarded_activation(uow, [(line, [plan.new] if plan.new else [])]):
        registration.serial = plan.new
    uow.session.add(
        SerialChange(
            registration_id=registration.id,
            old_serial=plan.old,
            new_serial=plan.new,
            actor=uow.actor_name,
            request_id=uow.request_id,
        )
    )


def shipped_on(session: Session, registration: SerialRegistration) -> Journal | None:
    """The packing slip the unit was shipped on, if it was (S9 updates its printout)."""
    if registration.packing_slip_line_id is None:
        return None
    packing_slip = session.scalar(
        select(Journal)
        .join(JournalLine, JournalLine.journal_id == Journal.id)
        .where(JournalLine.id == registration.packing_slip_line_id)
    )
    assert packing_slip is not None
    return packing_slip
