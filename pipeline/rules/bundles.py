"""Bundle rules (DOMAIN.md B1-B4, B7, B9, M4) as pure functions."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import CENT, ZERO
from docpost.pipeline.rules.serials import require_whole_quantity

PRICE_QUANTUM = Decimal("0.000001")


def allocate(total: Decimal, weights: Sequence[Decimal], quantum: Decimal = CENT) -> list[Decimal]:
    """B4: split `total` by `weights`: each share rounded to `quantum`, the rounding remainder
    on the last, so the shares sum exactly to `total` (the seed's 1,713.73 / 450.98 / 135.29).

    Beyond B4: when the others rounding up would leave the last share negative (possible only
    when the last weight is tiny: 0.05 over 1 : 1 : 1 : 0.0001 rounds to 0.02 three times),
    the excess cents are taken back from the shares that were rounded up, latest first, so no
    share of a non-negative total is ever negative.
    """
    weight_sum = sum(weights, ZERO)
    if weight_sum <= 0:
        raise ValueError("weights must sum to more than zero")
    exact = [total * weight / weight_sum for weight in weights[:-1]]
    shares = [value.quantize(quantum, rounding=ROUND_HALF_UP) for value in exact]
    last = total - sum(shares, ZERO)
    for index in reversed(range(len(shares))):
        while last < 0 and shares[index] > exact[index]:
            shares[index] -= quantum
            last += quantum
    return [*shares, last]


@dataclass(frozen=True)
class Component:
    item: str
    bom_quantity: Decimal
    base_sales_price: Decimal


@dataclass(frozen=True)
class ComponentLine:
    """What confirmation writes for one component (B1, B3, B4)."""

    item: str
    bom_quantity: Decimal
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    discount_amount: Decimal
    net_amount: Decimal


def explode_bundle(
    bundle_item: str,
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal,
    discount_amount: Decimal,
    bundle_net_amount: Decimal,
    components: Sequence[Component],
) -> list[ComponentLine]:
    """B1/B4: one line per BOM line, quantity = parent quantity x BOM quantity, the parent's
    unit price, discount amount and net amount allocated by weight = base price x BOM quantity.

    The net amounts are allocated from the parent's net amount (the Bundle net amount) itself,
    so they sum to it exactly for every quantity. Unit prices and discount amounts are the
    allocated per-bundle shares divided by the BOM quantity (up to 6 decimals); a discount
    percent applies to every component alike.
    """
    weights = [c.base_sales_price * c.bom_quantity for c in components]
    if sum(weights, ZERO) <= 0:
        raise Rejection(
            "bundle.zero_weight",
            f"bundle {bundle_item}: its components' base sales prices sum to zero, so its "
            "price cannot be allocated; give the components base sales prices",
            rule="M4",
        )
    price_quantum = CENT if unit_price == unit_price.quantize(CENT) else PRICE_QUANTUM
    price_shares = allocate(unit_price, weights, price_quantum)
    discount_shares = allocate(discount_amount, weights, PRICE_QUANTUM)
    net_shares = allocate(bundle_net_amount, weights, CENT)
    return [
        ComponentLine(
            item=c.item,
            bom_quantity=c.bom_quantity,
            quantity=quantity * c.bom_quantity,
            unit_price=_per_unit(price, c.bom_quantity),
            discount_percent=discount_percent,
            discount_amount=_per_unit(discount, c.bom_quantity),
            net_amount=net,
        )
        for c, price, discount, net in zip(
            components, price_shares, discount_shares, net_shares, strict=True
        )
    ]


def _per_unit(share: Decimal, bom_quantity: Decimal) -> Decimal:
    value = (share / bom_quantity).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_UP)
    # Keep cents-only prices at two decimals (1713.73, not 1713.730000).
    return value.quantize(CENT) if value == value.quantize(CENT) else value


def full_bundles(
    bundle_label: str, posted: Sequence[tuple[str, Decimal, Decimal]], document: str
) -> Decimal:
    """B7: every component's posted quantity / BOM quantity must be the same whole number n.

    `posted` holds (component item, posted quantity, BOM quantity) for every component of the
    bundle, 0 for one left out. Returns n.
    """
    counts = {item: quantity / bom for item, quantity, bom in posted}
    values = set(counts.values())
    n = next(iter(values)) if len(values) == 1 else None
    if n is None or n != n.to_integral_value():
        shown = ", ".join(f"{item} {quantity.normalize():f}" for item, quantity, _ in posted)
        verb = {"packing slip": "shipped", "invoice": "invoiced", "credit note": "credited"}[
            document
        ]
        raise Rejection(
            "bundle.not_full",
            f"{bundle_label}: all products in the bundle must be {verb} together, in full "
            f"bundles; the {document} has {shown}",
            rule="B7",
            components={item: f"{quantity.normalize():f}" for item, quantity, _ in posted},
        )
    return n


@dataclass(frozen=True)
class BundleOnOrder:
    """A bundle parent on an order with its components: (order line id, item, BOM quantity)."""

    label: str
    components: tuple[tuple[int, str, Decimal], ...]


def check_whole_bundles(
    bundles: Sequence[BundleOnOrder], posted: Mapping[int, Decimal], document: str
) -> None:
    """B7 for one document: each bundle it posts a component of is posted in full bundles.

    `posted`: order line id -> quantity on the document; a component left out counts as 0.
    """
    for bundle in bundles:
        if any(line_id in posted for line_id, _, _ in bundle.components):
            quantities = [
                (item, posted.get(line_id, ZERO), bom) for line_id, item, bom in bundle.components
            ]
            full_bundles(bundle.label, quantities, document)


@dataclass(frozen=True)
class BundleLine:
    """A bundle parent line as confirmation explodes it (B1, B3)."""

    label: str  # how messages name the line
    order_no: str
    line_no: int
    item: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    discount_amount: Decimal
    net_amount: Decimal


def plan_explosion(
    parent: BundleLine, components: Sequence[Component], serialized: Collection[str]
) -> list[ComponentLine]:
    """B1/B3/B4: the component lines confirmation writes for a bundle parent line, its BOM
    and base prices copied now (B12). M4: a bundle without a bill of materials has nothing to
    explode; S2: a component serialized in sales (its item in `serialized`) needs a whole
    quantity, parent quantity x BOM quantity."""
    if not components:
        raise Rejection(
            "bundle.no_bom",
            f"{parent.label}: bundle {parent.item} has no bill of materials",
            rule="M4",
        )
    lines = explode_bundle(
        parent.item,
        parent.quantity,
        parent.unit_price,
        parent.discount_percent,
        parent.discount_amount,
        parent.net_amount,
        components,
    )
    for line in lines:
        if line.item in serialized:
            label = f"order {parent.order_no} bundle line {parent.line_no} component {line.item}"
            require_whole_quantity(line.quantity, label)
    return lines


def check_exploded(
    order_no: str, bundle_lines: Iterable[tuple[int, str, bool]], document: str
) -> None:
    """B2: an order holding a bundle is confirmed (its bundles exploded) before a packing slip
    or invoice is posted for it. `bundle_lines`: (line number, bundle item, exploded) of each
    order line whose item is a bundle, in line order."""
    for line_no, item, exploded in bundle_lines:
        if not exploded:
            raise Rejection(
                "order.not_confirmed",
                f"order {order_no} holds bundle {item} on line {line_no}; confirm the order "
                f"before posting a {document}",
                rule="B2",
            )


def parent_line_refused(
    order_no: str, line_no: int, item: str, component_lines: Sequence[int]
) -> Rejection:
    """B9: an exploded bundle's parent line is posted through its components, never itself;
    the refusal names them and how to address one."""
    numbers = ", ".join(str(n) for n in component_lines)
    return Rejection(
        "bundle.parent_line",
        f"order {order_no} line {line_no} is bundle {item}, posted through its components: "
        f'lines {numbers}, or {{"line": {line_no}, "item": <component>}}',
        rule="B9",
    )
