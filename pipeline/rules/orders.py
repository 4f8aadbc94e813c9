"""Order entry rules (DOMAIN.md B5, B6, B14, S2, and beyond), as pure functions."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import line_net_amount
from docpost.pipeline.rules.serials import require_whole_quantity


@dataclass(frozen=True)
class LineValues:
    """What a caller sets on an order line; the fields in the order a B5 message names them."""

    item_code: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    discount_amount: Decimal
    site: str | None
    warehouse: str | None


@dataclass(frozen=True)
class StoredLine:
    """An order line as entered before, and what may keep it from changing."""

    label: str
    values: LineValues
    is_component: bool
    exploded: bool  # a bundle parent canceled by confirmation (B3)
    posted: bool  # something of it is on a packing slip or invoice


@dataclass(frozen=True)
class LinePlan:
    """What an upsert writes on an order line."""

    values: LineValues
    net_amount: Decimal


@dataclass(frozen=True)
class EnteredItem:
    """What an order line's item tells about its price when the line gives none (B14)."""

    item: str
    bundle: bool
    base_sales_price: Decimal


def entered_unit_price(
    label: str, given: Decimal | None, item: EnteredItem, stored: LineValues | None
) -> Decimal:
    """The unit price an order line is entered with (B14). A price given is taken as it is.
    Left out, a bundle parent line takes its bundle item's base sales price; a line that
    already holds this bundle keeps the price it was entered with (the base price is read
    when the item is entered, as B12 freezes it at confirmation: a request sent again after
    the catalog changed does not change the line). Any other line needs a price (CONTRACT.md),
    and so does a bundle whose base sales price is zero: nothing is set up to take."""
    if given is not None:
        return given
    if not item.bundle:
        raise Rejection(
            "order.unit_price_missing",
            f"{label}: unit_price is required; only a bundle parent line may leave it out "
            f"(B14), and {item.item} is not a bundle",
            rule="B14",
            field="unit_price",
        )
    if stored is not None and stored.item_code == item.item:
        return stored.unit_price
    if item.base_sales_price <= 0:
        raise Rejection(
            "bundle.no_base_price",
            f"{label}: bundle {item.item} has no base sales price for the line to take "
            "(B14); give the line a unit_price, or the item a base sales price",
            rule="B14",
            field="unit_price",
        )
    return item.base_sales_price


def plan_order_line(
    label: str, wanted: LineValues, serialized: bool, stored: StoredLine | None
) -> LinePlan | None:
    """The line as entered (`stored` None: a new line), or None when nothing changes.

    The values are checked first, even when they change nothing: a serialized item is counted
    in whole units (S2), and a discount amount per unit may not exceed the unit price."""
    if serialized:
        require_whole_quantity(wanted.quantity, label)
    if wanted.discount_amount > wanted.unit_price:
        raise Rejection(
            "order.discount_too_large",
            f"{label}: discount amount {wanted.discount_amount} per unit exceeds the unit "
            f"price {wanted.unit_price}",
        )
    if stored is not None:
        changed = changed_fields(stored.values, wanted)
        if not changed:
            return None
        check_line_changeable(stored, changed[0])
    net_amount = line_net_amount(
        wanted.quantity, wanted.unit_price, wanted.discount_percent, wanted.discount_amount
    )
    return LinePlan(wanted, net_amount)


def changed_fields(stored: LineValues, wanted: LineValues) -> list[str]:
    """The fields whose values differ, in LineValues' order (Decimal equality: 5 == 5.000)."""
    return [
        f.name for f in fields(LineValues) if getattr(stored, f.name) != getattr(wanted, f.name)
    ]


def check_line_changeable(stored: StoredLine, first_changed: str) -> None:
    """B5: a component's values come from its bundle; B6: an exploded bundle is removed and
    added again to change it; and a line with posted quantity keeps what was posted."""
    if stored.is_component:
        field = first_changed.removesuffix("_code")
        raise Rejection(
            "bundle.component_locked",
            f"{stored.label}: {field} cannot be changed on a bundle component; its price is "
            "allocated from the bundle (remove and re-add the bundle line to change it)",
            rule="B5",
            field=field,
        )
    if stored.exploded:
        raise Rejection(
            "bundle.parent_exploded",
            f"{stored.label} is an exploded bundle; remove the line (its components go with it) "
            "and add it again to change it",
            rule="B6",
        )
    if stored.posted:
        raise Rejection(
            "order.line_posted",
            f"{stored.label} has posted packing slips or invoices and cannot be changed",
        )


def check_line_removable(label: str, is_component: bool, posted: bool) -> None:
    """B5: a component goes only with its bundle's parent line; B6: nothing posted goes.
    `posted`: the line or one of its components is on a packing slip or invoice."""
    if is_component:
        raise Rejection(
            "bundle.component_locked",
            f"{label} is a bundle component and cannot be removed alone; remove the bundle's "
            "parent line, which removes its components (B6)",
            rule="B5",
            field="line",
        )
    if posted:
        raise Rejection(
            "order.line_posted",
            f"{label} has posted packing slips or invoices and cannot be removed",
            rule="B6",
        )


def check_header_change(order_no: str, changes: bool, posted: bool) -> None:
    """Beyond: an order's customer and currency are what its posted documents were made for."""
    if changes and posted:
        raise Rejection(
            "order.header_locked",
            f"order {order_no}: customer and currency cannot change once something is posted",
        )
