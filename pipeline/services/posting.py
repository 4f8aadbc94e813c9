"""What packing slips, invoices and credit notes share: the journal a request names, targets,
full bundles (B7), and the serial registrations a posting line brings with it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.contract import PostingLineIn
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import BundleOnOrder, check_whole_bundles
from docpost.pipeline.rules.packing_slips import check_within_open
from docpost.pipeline.rules.serials import check_unique_in_document
from docpost.pipeline.services.lines import line_label, reject_repeats, resolve_line
from docpost.pipeline.services.registrations import (
    SerialEntry,
    guarded_activation,
    link_to_journal_line,
    read_serial_input,
    reject_serials_on_plain_item,
)
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import Company, Journal, JournalLine, SalesLine, SalesOrder, SerialRegistration

ZERO = Decimal(0)


@dataclass
class Target:
    """One order line to post, with its quantity and the serials the request gave for it."""

    line: SalesLine
    quantity: Decimal
    entry: SerialEntry | None = None
    registrations: list[SerialRegistration] = field(default_factory=list)


def requested_targets(order: SalesOrder, lines: Sequence[PostingLineIn]) -> list[Target]:
    targets = []
    for line_in in lines:
        line = resolve_line(order, line_in.line, line_in.item)
        entry = read_serial_input(line, line_in) if line_in.has_serial_input else None
        if entry is not None and not line.item.serialized_in_sales:
            reject_serials_on_plain_item(line, entry)
        targets.append(Target(line, line_in.quantity, entry))
    reject_repeats(t.line for t in targets)
    check_unique_in_document(
        (line_label(t.line), t.line.item_code, t.entry.serials)
        for t in targets
        if t.entry is not None
    )
    return targets


def check_full_bundles(order: SalesOrder, targets: Sequence[Target], document: str) -> None:
    """B7: for each bundle on the document, every component's quantity / BOM quantity is the
    same whole number."""
    check_whole_bundles(bundles_on(order), {t.line.id: t.quantity for t in targets}, document)


def bundles_on(order: SalesOrder) -> list[BundleOnOrder]:
    """The order's bundles with their components, in the order's line order (B7's input)."""
    components: dict[int, list[tuple[int, str, Decimal]]] = defaultdict(list)
    for line in order.lines:
        if line.bundle_parent_id is not None:
            components[line.bundle_parent_id].append(
                (line.id, line.item_code, line.bom_quantity or Decimal(1))
            )
    return [
        BundleOnOrder(
            f"order {order.order_no} line {parent.line_no} (bundle {parent.item_code})",
            tuple(components[parent.id]),
        )
        for parent in order.lines
        if parent.id in components
    ]


def open_targets(order: SalesOrder, document: str) -> list[Target]:
    """Without lines in the request: every open line's quantity not yet shipped or invoiced."""
    targets = [
        Target(ln, ln.open_to_deliver)
        for ln in order.lines
        if ln.status == "open" and ln.open_to_deliver > 0
    ]
    if not targets:
        raise nothing_to_post(order, document)
    return targets


def check_open_to_deliver(target: Target, document: str) -> None:
    check_within_open(
        line_label(target.line), document, target.quantity, target.line.open_to_deliver
    )


def nothing_to_post(order: SalesOrder, document: str) -> Rejection:
    return Rejection(
        "order.nothing_to_post",
        f"order {order.order_no} has no open quantity for a {document}",
    )


def posted_journal(uow: UnitOfWork, kind: str, number: str) -> Journal:
    """The journal a request names, which must be of `kind` ("invoice", "packing_slip")."""
    journal = uow.session.scalars(select(Journal).where(Journal.number == number)).one_or_none()
    if journal is None or journal.kind != kind:
        raise Rejection(f"{kind}.unknown", f"there is no {kind.replace('_', ' ')} {number!r}")
    return journal


def lock_order_of(uow: UnitOfWork, journal: Journal) -> SalesOrder:
    """The order a posted journal belongs to, locked as every posting locks its order."""
    order_no = uow.session.scalar(
        select(SalesOrder.order_no).where(SalesOrder.id == journal.order_id)
    )
    return uow.lock_order(order_no or "")


def activate_registrations(
    uow: UnitOfWork,
    targets: Sequence[Target],
    journal_lines: Sequence[JournalLine],
    attach: Callable[[SerialRegistration, int], None],
    guarded: Sequence[Target],
) -> None:
    """The registrations of each target become active on its journal line (lines with ids
    already); `guarded`: the targets whose serials are new to the order, checked once more
    against concurrent sales (S5) while they become active."""
    serials = [(t.line, [r.serial for r in t.registrations if r.serial]) for t in guarded]
    with guarded_activation(uow, serials):
        for target, journal_line in zip(targets, journal_lines, strict=True):
            for registration in target.registrations:
                attach(registration, journal_line.id)
                registration.active = True
            # New registrations join the session only now, so they are written once, active.
            uow.session.add_all(target.registrations)
    for target, journal_line in zip(targets, journal_lines, strict=True):
        link_to_journal_line(uow, journal_line, target.registrations)


def company_of(session: Session) -> Company | None:
    """The company (M6) row, or None in a catalog without one (documents carry no VAT)."""
    return session.scalars(select(Company)).one_or_none()
