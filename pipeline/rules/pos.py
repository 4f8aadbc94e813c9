"""Point-of-sale rules (DOMAIN.md S13, B13) as pure functions: the order a sale at the till
posts, and what the till does not sell.

The serial checks of a sale (S4, S13, S6, S5) are in pipeline/rules/serials.py: they name the
order's lines, so post_pos_sale applies them once the order has its number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import line_net_amount

# The customer a sale without one is booked to; created on first use.
WALK_IN_CUSTOMER = "POS"


@dataclass(frozen=True)
class PosLine:
    """A point-of-sale line as the request gives it (its serial aside)."""

    item: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    discount_amount: Decimal


@dataclass(frozen=True)
class PosOrderLine:
    """One line of the sale's order, as it is written."""

    line_no: int
    line: PosLine
    net_amount: Decimal


def plan_pos_lines(
    lines: Sequence[PosLine],
    bundle_flags: Mapping[str, bool],
    revenue_schedules: Mapping[str, str] | None = None,
) -> tuple[PosOrderLine, ...]:
    """The order lines of a sale, numbered from 1, with their net amounts. `bundle_flags`
    holds each item of the sale that exists, and whether it is a bundle; `revenue_schedules`
    the revenue schedule of each item of the sale that has one. An unknown item is refused;
    so is, by B13, a bundle or an item with a revenue schedule: commerce channels don't
    support revenue recognition (bundles included), so such items are sold on sales orders,
    whose invoices defer their revenue (B11). The first bad line decides the refusal."""
    schedules = revenue_schedules or {}
    for line_no, line in enumerate(lines, start=1):
        check_sellable_at_till(line_no, line.item, bundle_flags, schedules)
    return tuple(
        PosOrderLine(
            line_no,
            line,
            line_net_amount(
                line.quantity, line.unit_price, line.discount_percent, line.discount_amount
            ),
        )
        for line_no, line in enumerate(lines, start=1)
    )


def check_sellable_at_till(
    line_no: int,
    item: str,
    bundle_flags: Mapping[str, bool],
    revenue_schedules: Mapping[str, str],
) -> None:
    """One line of a sale: its item exists, is no bundle and has no revenue schedule (B13)."""
    if item not in bundle_flags:
        raise Rejection(
            "order.unknown_item",
            f"point-of-sale line {line_no}: item {item!r} does not exist",
        )
    if bundle_flags[item]:
        raise Rejection(
            "pos.bundle_not_supported",
            f"point-of-sale line {line_no}: {item} is a bundle; bundles are sold on "
            "sales orders, not at the point of sale",
            rule="B13",
            item=item,
        )
    schedule = revenue_schedules.get(item)
    if schedule is not None:
        raise Rejection(
            "pos.revenue_recognition_not_supported",
            f"point-of-sale line {line_no}: {item} has revenue schedule {schedule}; the point "
            "of sale does not support revenue recognition, so it is sold on a sales order, "
            "whose invoice defers its revenue",
            rule="B13",
            item=item,
            revenue_schedule=schedule,
        )
