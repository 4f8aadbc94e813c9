"""What packing slips, invoices and credit notes share: targets, full bundles (B7), and the
serial registrations a posting line brings with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from docpost.pipeline.contract import PostingLineIn
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import full_bundles
from docpost.pipeline.rules.serials import check_unique_in_document
from docpost.pipeline.services.lines import components_of, line_label, reject_repeats, resolve_line
from docpost.pipeline.services.registrations import (
    SerialEntry,
    read_serial_input,
    reject_serials_on_plain_item,
)
from docpost.schema import SalesLine, SalesOrder, SerialRegistration

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
    posted = {t.line.id: t.quantity for t in targets}
    parents = {t.line.bundle_parent_id for t in targets if t.line.bundle_parent_id is not None}
    for parent in (ln for ln in order.lines if ln.id in parents):
        components = components_of(order, parent)
        full_bundles(
            f"order {order.order_no} line {parent.line_no} (bundle {parent.item_code})",
            [
                (c.item_code, posted.get(c.id, ZERO), c.bom_quantity or Decimal(1))
                for c in components
            ],
            document,
        )


def nothing_to_post(order: SalesOrder, document: str) -> Rejection:
    return Rejection(
        "order.nothing_to_post",
        f"order {order.order_no} has no open quantity for a {document}",
    )
