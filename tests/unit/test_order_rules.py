"""Order entry, bundle explosion and posting through components (DOMAIN.md B1-B6, B9, M4,
S2): rules.orders and rules.bundles, no database."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import (
    BundleLine,
    Component,
    check_exploded,
    parent_line_refused,
    plan_explosion,
)
from docpost.pipeline.rules.money import line_net_amount
from docpost.pipeline.rules.orders import (
    LinePlan,
    LineValues,
    StoredLine,
    check_header_change,
    check_line_removable,
    plan_order_line,
)

D = Decimal
LABEL = "order SO-1 line 1 (item 1000)"
WANTED = LineValues("1000", D(2), D("100.00"), D(10), D("5.00"), "1", "11")
STORED = StoredLine(
    "order SO-1 line 1 (item 1000)", WANTED, is_component=False, exploded=False, posted=False
)
COMPONENT = replace(
    STORED, label="order SO-1 line 3 (item 1000 of bundle LaptopBundle, line 1)", is_component=True
)


def refused(call, *args) -> Rejection:  # type: ignore[no-untyped-def]
    with pytest.raises(Rejection) as caught:
        call(*args)
    return caught.value


# --- order lines -----------------------------------------------------------------------------


def test_new_line_is_planned_with_its_net_amount() -> None:
    plan = plan_order_line(LABEL, WANTED, False, None)
    assert plan == LinePlan(WANTED, D("171.00"))  # (100 - 5) x 2, less 10 %


def test_unchanged_line_plans_nothing() -> None:
    """Decimal equality: a stored 2.000000 is the 2 asked for."""
    stored = replace(STORED, values=replace(WANTED, quantity=D("2.000000")))
    assert plan_order_line(LABEL, WANTED, False, stored) is None
    # Negative control: one value changed, and the line is planned again.
    assert plan_order_line(LABEL, replace(WANTED, site="2"), False, stored) is not None


def test_s2_serialized_item_is_ordered_in_whole_units() -> None:
    error = refused(plan_order_line, LABEL, replace(WANTED, quantity=D("1.5")), True, None)
    assert (error.code, error.rule) == ("serial.quantity_not_whole", "S2")
    assert error.message == (
        f"{LABEL}: quantity 1.5 is not whole; a serialized item is counted in whole units"
    )
    # Negative control: the same quantity of an item without sales serials is fine.
    assert plan_order_line(LABEL, replace(WANTED, quantity=D("1.5")), False, None) is not None


def test_discount_amount_may_not_exceed_the_unit_price() -> None:
    wanted = replace(WANTED, discount_amount=D("100.01"))
    error = refused(plan_order_line, LABEL, wanted, False, None)
    assert error.code == "order.discount_too_large"
    assert error.message == (
        f"{LABEL}: discount amount 100.01 per unit exceeds the unit price 100.00"
    )
    assert plan_order_line(LABEL, replace(WANTED, discount_amount=D("100.00")), False, None)


def test_values_are_checked_even_when_nothing_changes() -> None:
    stored = replace(STORED, values=replace(WANTED, quantity=D("1.5")))
    error = refused(plan_order_line, LABEL, replace(WANTED, quantity=D("1.5")), True, stored)
    assert error.code == "serial.quantity_not_whole"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"item_code": "1001"}, "item"),
        ({"unit_price": D("99.00")}, "unit_price"),
        ({"site": "2", "warehouse": "21"}, "site"),
        ({"warehouse": "21"}, "warehouse"),
    ],
)
def test_b5_component_line_is_locked_naming_the_first_field(
    change: dict[str, object], field: str
) -> None:
    error = refused(plan_order_line, LABEL, replace(WANTED, **change), False, COMPONENT)
    assert (error.code, error.rule) == ("bundle.component_locked", "B5")
    assert error.details == {"field": field}
    assert error.message == (
        f"{COMPONENT.label}: {field} cannot be changed on a bundle component; its price is "
        "allocated from the bundle (remove and re-add the bundle line to change it)"
    )


def test_b5_unchanged_component_line_is_no_change() -> None:
    """Sending the order again as it is touches no component (and refuses nothing)."""
    assert plan_order_line(LABEL, WANTED, False, COMPONENT) is None


def test_b6_exploded_bundle_is_removed_and_added_again_to_change() -> None:
    stored = replace(STORED, label="order SO-1 line 1 (item LaptopBundle)", exploded=True)
    error = refused(plan_order_line, LABEL, replace(WANTED, quantity=D(3)), False, stored)
    assert (error.code, error.rule) == ("bundle.parent_exploded", "B6")
    assert error.message == (
        "order SO-1 line 1 (item LaptopBundle) is an exploded bundle; remove the line (its "
        "components go with it) and add it again to change it"
    )


def test_posted_line_cannot_be_changed() -> None:
    error = refused(
        plan_order_line, LABEL, replace(WANTED, quantity=D(3)), False, replace(STORED, posted=True)
    )
    assert (error.code, error.rule) == ("order.line_posted", None)
    assert error.message == f"{LABEL} has posted packing slips or invoices and cannot be changed"


def test_b5_b6_component_removed_only_with_its_bundle() -> None:
    error = refused(check_line_removable, COMPONENT.label, True, False)
    assert (error.code, error.rule) == ("bundle.component_locked", "B5")
    assert error.details == {"field": "line"}
    assert error.message == (
        f"{COMPONENT.label} is a bundle component and cannot be removed alone; remove the "
        "bundle's parent line, which removes its components (B6)"
    )
    error = refused(check_line_removable, LABEL, False, True)
    assert (error.code, error.rule) == ("order.line_posted", "B6")
    assert error.message == f"{LABEL} has posted packing slips or invoices and cannot be removed"
    check_line_removable(LABEL, False, False)


def test_order_header_is_locked_once_something_is_posted() -> None:
    error = refused(check_header_change, "SO-1", True, True)
    assert error.code == "order.header_locked"
    assert error.message == (
        "order SO-1: customer and currency cannot change once something is posted"
    )
    check_header_change("SO-1", True, False)
    check_header_change("SO-1", False, True)  # sending the same header again is no change


# --- bundle explosion ------------------------------------------------------------------------

SEED = [
    Component("1000", D(1), D("1900.00")),
    Component("Support", D(1), D("500.00")),
    Component("S0021", D(1), D("150.00")),
]


ONE = D(1)
NONE = D(0)
SEED_PRICE = D("2300.00")


def bundle_line(
    quantity: Decimal = ONE,
    unit_price: Decimal = SEED_PRICE,
    percent: Decimal = NONE,
    discount: Decimal = NONE,
) -> BundleLine:
    return BundleLine(
        label="order SO-1 line 1 (item LaptopBundle)",
        order_no="SO-1",
        line_no=1,
        item="LaptopBundle",
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=percent,
        discount_amount=discount,
        net_amount=line_net_amount(quantity, unit_price, percent, discount),
    )


def test_b1_b4_seed_bundle_explodes_into_its_components() -> None:
    lines = plan_explosion(bundle_line(), SEED, {"1000"})
    assert [(ln.item, ln.quantity, ln.net_amount) for ln in lines] == [
        ("1000", D(1), D("1713.73")),
        ("Support", D(1), D("450.98")),
        ("S0021", D(1), D("135.29")),
    ]


def test_m4_bundle_without_bill_of_materials_is_refused() -> None:
    error = refused(plan_explosion, bundle_line(), [], set())
    assert (error.code, error.rule) == ("bundle.no_bom", "M4")
    assert error.message == (
        "order SO-1 line 1 (item LaptopBundle): bundle LaptopBundle has no bill of materials"
    )


def test_m4_components_without_base_prices_are_refused() -> None:
    error = refused(plan_explosion, bundle_line(), [Component("A", D(1), D(0))], set())
    assert (error.code, error.rule) == ("bundle.zero_weight", "M4")


def test_s2_serialized_component_needs_a_whole_quantity() -> None:
    """Half a unit of the serialized 1000 per bundle: 3 bundles are 1.5 units."""
    bom = [Component("1000", D("0.5"), D("1900.00")), Component("Support", D(1), D("500.00"))]
    error = refused(plan_explosion, bundle_line(quantity=D(3)), bom, {"1000"})
    assert (error.code, error.rule) == ("serial.quantity_not_whole", "S2")
    assert error.message == (
        "order SO-1 bundle line 1 component 1000: quantity 1.5 is not whole; a serialized "
        "item is counted in whole units"
    )
    # Negative controls: 4 bundles are 2 units; 3 bundles of an unserialized 1000 are fine.
    assert plan_explosion(bundle_line(quantity=D(4)), bom, {"1000"})[0].quantity == D(2)
    assert plan_explosion(bundle_line(quantity=D(3)), bom, set())[0].quantity == D("1.5")


@st.composite
def bundle_parents(draw: st.DrawFn) -> BundleLine:
    """A bundle line as entered: any whole quantity, price, discount percent, and a discount
    amount of none to all of the price."""
    unit_price = draw(st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2))
    share = draw(st.sampled_from([NONE, D("0.1"), D("0.5"), ONE]))
    return bundle_line(
        quantity=D(draw(st.integers(min_value=1, max_value=500))),
        unit_price=unit_price,
        percent=draw(st.decimals(min_value=0, max_value=100, places=2)),
        discount=(unit_price * share).quantize(D("0.01")),
    )


@st.composite
def boms(draw: st.DrawFn) -> tuple[list[Component], set[str]]:
    """A bill of materials (base price, BOM quantity, some of them fractions) and the
    components serialized in sales."""
    size = draw(st.integers(min_value=1, max_value=6))
    bom = [
        Component(
            f"C{i}",
            draw(st.sampled_from([ONE, D(2), D(3), D("0.5"), D("0.25")])),
            draw(st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)),
        )
        for i in range(size)
    ]
    return bom, {c.item for c in bom if draw(st.booleans())}


@settings(max_examples=300)
@given(bundle_parents(), boms())
def test_b1_b4_property_explosion_sums_to_the_bundle_and_scales_quantities(
    parent: BundleLine, bom_and_serialized: tuple[list[Component], set[str]]
) -> None:
    """Whatever the bundle: one line per component, in BOM order, quantity = parent x BOM
    quantity (B1), net amounts summing exactly to the Bundle net amount (B4), none negative;
    refused (S2) exactly when a serialized component's quantity is not whole."""
    bom, serialized = bom_and_serialized
    fractional = [
        c.item for c in bom if c.item in serialized and (parent.quantity * c.bom_quantity) % 1
    ]
    try:
        lines = plan_explosion(parent, bom, serialized)
    except Rejection as rejection:
        assert rejection.code == "serial.quantity_not_whole"
        assert f"component {fractional[0]}:" in rejection.message
        return
    assert not fractional
    assert [ln.item for ln in lines] == [c.item for c in bom]
    assert [ln.quantity for ln in lines] == [parent.quantity * c.bom_quantity for c in bom]
    assert sum(ln.net_amount for ln in lines) == parent.net_amount
    assert all(ln.net_amount >= 0 for ln in lines)
    assert all(ln.discount_percent == parent.discount_percent for ln in lines)


# --- posting an order that holds bundles -----------------------------------------------------


def test_b2_order_with_a_bundle_not_exploded_is_confirmed_first() -> None:
    error = refused(
        check_exploded,
        "SO-1",
        [(1, "LaptopBundle", True), (4, "PhoneBundle", False)],
        "packing slip",
    )
    assert (error.code, error.rule) == ("order.not_confirmed", "B2")
    assert error.message == (
        "order SO-1 holds bundle PhoneBundle on line 4; confirm the order before posting a "
        "packing slip"
    )
    # Negative controls: every bundle exploded, or none on the order.
    check_exploded("SO-1", [(1, "LaptopBundle", True), (4, "PhoneBundle", True)], "invoice")
    check_exploded("SO-1", [], "invoice")


def test_b9_parent_line_is_posted_through_its_components() -> None:
    error = parent_line_refused("SO-1", 1, "LaptopBundle", [3, 4, 5])
    assert (error.code, error.rule) == ("bundle.parent_line", "B9")
    assert error.message == (
        "order SO-1 line 1 is bundle LaptopBundle, posted through its components: lines 3, 4, 5, "
        'or {"line": 1, "item": <component>}'
    )
