"""Bundle allocation (DOMAIN.md B4, B8) and money rules, as pure functions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import Component, allocate, explode_bundle, full_bundles
from docpost.pipeline.rules.money import line_net_amount, share_of_amount

D = Decimal
SEED = [
    Component("1000", D(1), D("1900.00")),
    Component("Support", D(1), D("500.00")),
    Component("S0021", D(1), D("150.00")),
]


def test_b4_seed_example() -> None:
    """2,300.00 over base prices 1,900 / 500 / 150 gives 1,713.73 / 450.98 / 135.29."""
    lines = explode_bundle("LaptopBundle", D(1), D("2300.00"), D(0), D(0), D("2300.00"), SEED)
    assert [ln.unit_price for ln in lines] == [D("1713.73"), D("450.98"), D("135.29")]
    assert [ln.net_amount for ln in lines] == [D("1713.73"), D("450.98"), D("135.29")]


def test_b4_seed_example_quantity_5_sums_to_11500() -> None:
    net = line_net_amount(D(5), D("2300.00"))
    lines = explode_bundle("LaptopBundle", D(5), D("2300.00"), D(0), D(0), net, SEED)
    assert net == D("11500.00")
    assert sum(ln.net_amount for ln in lines) == D("11500.00")
    assert [ln.quantity for ln in lines] == [D(5), D(5), D(5)]


def test_b1_component_quantity_is_parent_quantity_times_bom_quantity() -> None:
    components = [Component("A", D(2), D("10")), Component("B", D("0.5"), D("4"))]
    lines = explode_bundle("X", D(3), D("30.00"), D(0), D(0), D("90.00"), components)
    assert [ln.quantity for ln in lines] == [D(6), D("1.5")]


def test_b4_remainder_goes_to_the_last_component() -> None:
    assert allocate(D("100.00"), [D(1), D(1), D(1)]) == [D("33.33"), D("33.33"), D("33.34")]


def test_b4_last_share_never_negative_where_rounding_each_share_would_make_it_so() -> None:
    """Rounded alone the first three shares are 0.02 each, leaving -0.01 for the last."""
    shares = allocate(D("0.05"), [D(1), D(1), D(1), D("0.0001")])
    assert shares == [D("0.02"), D("0.02"), D("0.01"), D("0.00")]


def test_m4_zero_weights_are_rejected() -> None:
    with pytest.raises(Rejection) as caught:
        explode_bundle("X", D(1), D("10"), D(0), D(0), D("10.00"), [Component("A", D(1), D(0))])
    assert caught.value.code == "bundle.zero_weight"
    assert caught.value.rule == "M4"
    assert "components' base sales prices sum to zero" in caught.value.message


def test_b7_full_bundles_returns_the_bundle_count() -> None:
    assert full_bundles("bundle", [("A", D(6), D(2)), ("B", D(3), D(1))], "invoice") == D(3)


def test_b7_uneven_components_name_the_components_and_quantities() -> None:
    with pytest.raises(Rejection) as caught:
        full_bundles(
            "order SO-1 line 1 (bundle LaptopBundle)",
            [("1000", D(4), D(1)), ("Support", D(5), D(1)), ("S0021", D(5), D(1))],
            "packing slip",
        )
    assert caught.value.rule == "B7"
    assert caught.value.message == (
        "order SO-1 line 1 (bundle LaptopBundle): all products in the bundle must be shipped "
        "together, in full bundles; the packing slip has 1000 4, Support 5, S0021 5"
    )


def test_b7_a_fraction_of_a_bundle_is_not_full() -> None:
    with pytest.raises(Rejection) as caught:
        full_bundles("b", [("A", D(1), D(2)), ("B", D("0.5"), D(1))], "invoice")
    assert "must be invoiced together" in caught.value.message


def test_line_net_amount_applies_discount_amount_per_unit_then_percent() -> None:
    assert line_net_amount(D(3), D("300.00"), D(10)) == D("810.00")
    assert line_net_amount(D(2), D("100.00"), D(10), D("5.00")) == D("171.00")


money = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2)
price = st.decimals(min_value=D("0.000001"), max_value=D("100000"), places=6)
bom_quantity = st.sampled_from([D(1), D(2), D(3), D("0.5"), D("1.25"), D(10)])


@settings(max_examples=400)
@given(
    unit_price=money,
    quantity=st.integers(min_value=1, max_value=1000).map(D),
    percent=st.decimals(min_value=0, max_value=100, places=2),
    discount_fraction=st.sampled_from([D(0), D("0.1"), D("0.5"), D(1)]),
    components=st.lists(st.tuples(price, bom_quantity), min_size=1, max_size=6),
    split=st.lists(st.integers(min_value=1, max_value=5), max_size=6),
)
def test_b4_b8_property_components_sum_exactly_and_partial_invoices_too(
    unit_price: Decimal,
    quantity: Decimal,
    percent: Decimal,
    discount_fraction: Decimal,
    components: list[tuple[Decimal, Decimal]],
    split: list[int],
) -> None:
    discount_amount = (unit_price * discount_fraction).quantize(D("0.01"))
    net = line_net_amount(quantity, unit_price, percent, discount_amount)
    bom = [Component(f"C{i}", q, p) for i, (p, q) in enumerate(components)]
    lines = explode_bundle("B", quantity, unit_price, percent, discount_amount, net, bom)
    # B4: components sum exactly to the Bundle net amount, none negative.
    assert sum(ln.net_amount for ln in lines) == net
    assert all(ln.net_amount >= 0 for ln in lines)
    assert all(ln.unit_price >= 0 and ln.discount_amount >= 0 for ln in lines)
    # Unit prices are the allocated per-bundle shares (B4) spread over the BOM quantity.
    per_bundle = sum(ln.unit_price * ln.bom_quantity for ln in lines)
    assert abs(per_bundle - unit_price) <= D("0.000001") * sum(ln.bom_quantity for ln in lines)
    # B8: invoice n of N bundles at a time, in any split; the last takes what remains.
    invoiced = {ln.item: (D(0), D(0)) for ln in lines}
    remaining = quantity
    steps = [D(n) for n in split] + [quantity]
    total = D(0)
    for step in steps:
        n = min(step, remaining)
        if n <= 0:
            break
        for ln in lines:
            done_qty, done_amount = invoiced[ln.item]
            amount = share_of_amount(
                ln.net_amount, ln.quantity, n * ln.bom_quantity, done_qty, done_amount
            )
            assert amount >= 0
            invoiced[ln.item] = (done_qty + n * ln.bom_quantity, done_amount + amount)
            total += amount
        remaining -= n
    assert total == net
