"""Pure point-of-sale rules (DOMAIN.md S13, and the product's "no bundles at the till"): the
order lines a sale plans, without a database. The serial checks a sale applies (S4, S13, S6,
S5) are tested in test_serial_rules.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import line_net_amount
from docpost.pipeline.rules.pos import PosLine, PosOrderLine, plan_pos_lines


def line(item: str, quantity: str = "1", price: str = "10.00", **discounts: str) -> PosLine:
    return PosLine(
        item,
        Decimal(quantity),
        Decimal(price),
        Decimal(discounts.get("percent", "0")),
        Decimal(discounts.get("amount", "0")),
    )


def test_s13_lines_are_numbered_from_one_with_their_net_amounts() -> None:
    first = line("1000", "2", "150.00", percent="10")
    second = line("2000", "1", "9.99", amount="1.99")
    plan = plan_pos_lines([first, second], {"1000": False, "2000": False})
    assert plan == (
        PosOrderLine(1, first, Decimal("270.00")),
        PosOrderLine(2, second, Decimal("8.00")),
    )


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value="0.001", max_value="1000", places=3),
            st.decimals(min_value="0", max_value="10000", places=2),
            st.decimals(min_value="0", max_value="100", places=2),
            st.decimals(min_value="0", max_value="1", places=2),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_s13_each_line_takes_the_order_line_net_amount(
    values: list[tuple[Decimal, Decimal, Decimal, Decimal]],
) -> None:
    """The till's lines are priced by the order line formula (rules.money), each discount
    passed as what it is (a percent, and an amount off the unit price)."""
    lines = [
        PosLine(f"I{n}", quantity, price, percent, (price * share).quantize(Decimal("0.01")))
        for n, (quantity, price, percent, share) in enumerate(values)
    ]
    plan = plan_pos_lines(lines, {ln.item: False for ln in lines})
    assert plan == tuple(
        PosOrderLine(
            line_no,
            ln,
            line_net_amount(ln.quantity, ln.unit_price, ln.discount_percent, ln.discount_amount),
        )
        for line_no, ln in enumerate(lines, start=1)
    )


def test_s13_an_unknown_item_is_refused_naming_its_line() -> None:
    with pytest.raises(Rejection) as info:
        plan_pos_lines([line("1000"), line("GHOST")], {"1000": False})
    assert (info.value.code, info.value.rule) == ("order.unknown_item", None)
    assert info.value.message == "point-of-sale line 2: item 'GHOST' does not exist"


def test_s13_a_bundle_is_not_sold_at_the_point_of_sale() -> None:
    with pytest.raises(Rejection) as info:
        plan_pos_lines([line("1000"), line("BUNDLE")], {"1000": False, "BUNDLE": True})
    assert info.value.code == "pos.bundle_not_supported"
    assert info.value.message == (
        "point-of-sale line 2: BUNDLE is a bundle; bundles are sold on sales orders, not at the "
        "point of sale"
    )


def test_s13_the_first_bad_line_decides_the_refusal() -> None:
    with pytest.raises(Rejection) as info:
        plan_pos_lines([line("BUNDLE"), line("GHOST")], {"BUNDLE": True})
    assert info.value.code == "pos.bundle_not_supported"


def test_s13_known_items_that_are_not_bundles_pass() -> None:
    """Negative control for the refusals above: the same lines, every item known and plain."""
    plan = plan_pos_lines([line("1000"), line("BUNDLE")], {"1000": False, "BUNDLE": False})
    assert [p.line.item for p in plan] == ["1000", "BUNDLE"]
