"""Pure rules of B13 (the point of sale sells no bundle and no item with a revenue schedule)
and B14 (a bundle parent line without a unit price takes the bundle's base sales price),
without a database. The requests through the services are in tests/services/test_b13_*.py and
tests/services/test_b14_*.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from docpost.pipeline.contract import OrderLineIn, parse_request
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.orders import EnteredItem, LineValues, entered_unit_price
from docpost.pipeline.rules.pos import PosLine, plan_pos_lines

D = Decimal
LABEL = "order SO-1 line 1 (item LaptopBundle)"
BUNDLE = EnteredItem("LaptopBundle", bundle=True, base_sales_price=D("2300.00"))


def pos_line(item: str) -> PosLine:
    return PosLine(item, D(1), D("10.00"), D(0), D(0))


# --- B13 ---------------------------------------------------------------------------------------


def test_b13_an_item_with_a_revenue_schedule_is_not_sold_at_the_till() -> None:
    with pytest.raises(Rejection) as info:
        plan_pos_lines(
            [pos_line("S0021"), pos_line("Support")],
            {"S0021": False, "Support": False},
            {"Support": "12M"},
        )
    assert (info.value.code, info.value.rule) == ("pos.revenue_recognition_not_supported", "B13")
    assert info.value.message == (
        "point-of-sale line 2: Support has revenue schedule 12M; the point of sale does not "
        "support revenue recognition, so it is sold on a sales order, whose invoice defers its "
        "revenue"
    )
    assert info.value.details == {"item": "Support", "revenue_schedule": "12M"}


def test_b13_a_bundle_is_refused_citing_b13() -> None:
    """A bundle is refused by B13 too (bundles are part of revenue recognition), whatever
    its components' schedules: the bundle itself is named."""
    with pytest.raises(Rejection) as info:
        plan_pos_lines([pos_line("LaptopBundle")], {"LaptopBundle": True}, {"Support": "12M"})
    assert (info.value.code, info.value.rule) == ("pos.bundle_not_supported", "B13")
    assert info.value.details == {"item": "LaptopBundle"}
    assert "LaptopBundle is a bundle" in info.value.message


def test_b13_the_first_bad_line_decides() -> None:
    with pytest.raises(Rejection) as info:
        plan_pos_lines(
            [pos_line("Support"), pos_line("LaptopBundle")],
            {"Support": False, "LaptopBundle": True},
            {"Support": "12M"},
        )
    assert info.value.code == "pos.revenue_recognition_not_supported"
    assert info.value.message.startswith("point-of-sale line 1: Support")


def test_b13_negative_control_items_without_a_schedule_are_sold() -> None:
    """The same sale without the schedule: planned, so the refusal above is the schedule's."""
    plan = plan_pos_lines(
        [pos_line("S0021"), pos_line("Support")], {"S0021": False, "Support": False}, {}
    )
    assert [p.line.item for p in plan] == ["S0021", "Support"]


# --- B14 ---------------------------------------------------------------------------------------


def stored(item: str, price: str) -> LineValues:
    return LineValues(item, D(1), D(price), D(0), D(0), None, None)


def test_b14_a_bundle_line_without_price_takes_the_base_sales_price() -> None:
    assert entered_unit_price(LABEL, None, BUNDLE, None) == D("2300.00")


def test_b14_a_price_given_is_taken_as_it_is() -> None:
    """Negative control: a given price (even zero) is never replaced by the base price."""
    assert entered_unit_price(LABEL, D("1999.00"), BUNDLE, None) == D("1999.00")
    assert entered_unit_price(LABEL, D(0), BUNDLE, None) == D(0)


def test_b14_an_entered_bundle_line_keeps_its_price() -> None:
    """Sent again without a price, a line holding the bundle keeps the price it was entered
    with (given or defaulted); a line that held another item takes the base price."""
    assert entered_unit_price(LABEL, None, BUNDLE, stored("LaptopBundle", "2000.00")) == D(
        "2000.00"
    )
    assert entered_unit_price(LABEL, None, BUNDLE, stored("S0021", "150.00")) == D("2300.00")


def test_b14_a_plain_line_without_price_is_refused_naming_line_and_item() -> None:
    plain = EnteredItem("S0021", bundle=False, base_sales_price=D("150.00"))
    label = "order SO-1 line 2 (item S0021)"
    with pytest.raises(Rejection) as info:
        entered_unit_price(label, None, plain, stored("S0021", "150.00"))
    assert (info.value.code, info.value.rule) == ("order.unit_price_missing", "B14")
    assert info.value.message == (
        "order SO-1 line 2 (item S0021): unit_price is required; only a bundle parent line "
        "may leave it out (B14), and S0021 is not a bundle"
    )


def test_b14_a_bundle_without_base_sales_price_is_refused_naming_line_and_item() -> None:
    free = EnteredItem("LaptopBundle", bundle=True, base_sales_price=D("0.00"))
    with pytest.raises(Rejection) as info:
        entered_unit_price(LABEL, None, free, None)
    assert (info.value.code, info.value.rule) == ("bundle.no_base_price", "B14")
    assert info.value.message == (
        "order SO-1 line 1 (item LaptopBundle): bundle LaptopBundle has no base sales price "
        "for the line to take (B14); give the line a unit_price, or the item a base sales price"
    )


def test_b14_the_contract_lets_an_order_line_leave_its_price_out() -> None:
    """The request parses without `unit_price` (or with null); the point of sale still needs
    one (CONTRACT.md lists it as required there)."""
    line = OrderLineIn.model_validate({"line": 1, "item": "LaptopBundle", "quantity": "1"})
    assert line.unit_price is None
    assert "unit_price" not in OrderLineIn.model_json_schema()["required"]
    pos = {
        "request_id": "p",
        "kind": "post_pos_sale",
        "actor": "pos-1",
        "payload": {"lines": [{"item": "S0021", "quantity": "1"}]},
    }
    with pytest.raises(Rejection) as info:
        parse_request(pos)
    assert info.value.code == "request.invalid"
    assert "payload.lines[0].unit_price: required field is missing" in info.value.message
