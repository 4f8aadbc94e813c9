"""Money arithmetic: Decimal only, rounded half up to the currency's 2 decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net_amount(
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal = ZERO,
    discount_amount: Decimal = ZERO,
) -> Decimal:
    """Net amount of an order line: (unit price - discount amount per unit) x quantity,
    less the discount percent, rounded to cents (the ERP's line amount formula)."""
    gross = (unit_price - discount_amount) * quantity
    return round_money(gross * (HUNDRED - discount_percent) / HUNDRED)


def share_of_amount(
    total_amount: Decimal,
    total_quantity: Decimal,
    quantity: Decimal,
    already_quantity: Decimal,
    already_amount: Decimal,
) -> Decimal:
    """The amount for `quantity` more of `total_quantity` units worth `total_amount`.

    Proportional and rounded, except that the posting which reaches the full quantity takes
    what remains, so all partial postings of a line sum exactly to its amount (B8).

    What is rounded is the share of everything posted so far, less what earlier postings took:
    rounding each part on its own let tiny amounts run ahead of the line and end below zero
    (0.02 over 4 units one at a time: 0.01, 0.01, 0.01, -0.01; now 0.01, 0.00, 0.01, 0.00).
    A part never leaves the range between nothing and what remains.
    """
    remaining = total_amount - already_amount
    if already_quantity + quantity >= total_quantity:
        return remaining
    if total_quantity == 0:
        return ZERO
    reached = round_money(total_amount * (already_quantity + quantity) / total_quantity)
    low, high = sorted((ZERO, remaining))
    return min(max(reached - already_amount, low), high)


def quantity_text(value: Decimal) -> str:
    """5.000000 -> "5", 1.500000 -> "1.5": quantities as people write them."""
    text = f"{value.normalize():f}"
    return text


def price_text(value: Decimal) -> str:
    """At least the cents, more only where the price has them: 1713.730000 -> "1713.73"."""
    cents = value.quantize(CENT)
    return str(cents) if cents == value else f"{value.normalize():f}"
