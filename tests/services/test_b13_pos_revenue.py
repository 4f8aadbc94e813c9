"""B13 through real requests, on SQLite and PostgreSQL: commerce channels (the point of sale)
don't support revenue recognition, so a POS sale of a bundle, or of an item with a revenue
schedule, is rejected naming the item, and nothing of it is written. The same item on a sales
order is invoiced with its revenue deferred (B11): the negative control that the refusal is the
till's, not the item's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from docpost.schema import RevenueScheduleLine
from tests.conftest import Runner
from tests.services.helpers import counts, order, unchanged_but_outcome
from tests.services.test_tax_postings import by_account, catalog, vouchers

D = Decimal
REVENUE, DEFERRED, RECEIVABLES, CASH = "3000", "2900", "1200", "1900"


def sale(*lines: tuple[str, str]) -> dict[str, Any]:
    """A walk-in sale of (item, unit price) lines, one unit each."""
    return {
        "lines": [{"item": item, "quantity": "1", "unit_price": price} for item, price in lines]
    }


def schedule_lines(run: Runner) -> int:
    with run.sessions() as session:
        return session.scalar(select(func.count()).select_from(RevenueScheduleLine)) or 0


def test_b13_pos_sale_of_an_item_with_a_revenue_schedule_is_rejected(usmf: Runner) -> None:
    """Support has revenue schedule 12M (USMF, no VAT): the till refuses it, naming the line,
    the item and its schedule; no order, journal, voucher or schedule line is written."""
    before = counts(usmf)
    error = usmf.rejected("post_pos_sale", sale(("Support", "500.00")), actor="pos-1")
    assert (error["code"], error["rule"]) == ("pos.revenue_recognition_not_supported", "B13")
    assert error["message"] == (
        "point-of-sale line 1: Support has revenue schedule 12M; the point of sale does not "
        "support revenue recognition, so it is sold on a sales order, whose invoice defers its "
        "revenue"
    )
    assert error["details"] == {"item": "Support", "revenue_schedule": "12M"}
    assert unchanged_but_outcome(before, counts(usmf))
    assert schedule_lines(usmf) == 0


def test_b13_one_scheduled_line_refuses_the_whole_sale(usmf: Runner) -> None:
    """A sale is all or nothing: the docking station beside Support is not sold either."""
    before = counts(usmf)
    error = usmf.rejected(
        "post_pos_sale", sale(("S0021", "150.00"), ("Support", "500.00")), actor="pos-1"
    )
    assert error["code"] == "pos.revenue_recognition_not_supported"
    assert error["message"].startswith("point-of-sale line 2: Support has revenue schedule 12M")
    assert unchanged_but_outcome(before, counts(usmf))


def test_b13_pos_sale_of_a_bundle_with_a_scheduled_component_is_rejected(usmf: Runner) -> None:
    """LaptopBundle's component Support has a revenue schedule; the bundle itself is what the
    till refuses (bundles are part of revenue recognition), naming it."""
    before = counts(usmf)
    error = usmf.rejected("post_pos_sale", sale(("LaptopBundle", "2300.00")), actor="pos-1")
    assert (error["code"], error["rule"]) == ("pos.bundle_not_supported", "B13")
    assert error["message"] == (
        "point-of-sale line 1: LaptopBundle is a bundle; bundles are sold on sales orders, not "
        "at the point of sale"
    )
    assert error["details"] == {"item": "LaptopBundle"}
    assert unchanged_but_outcome(before, counts(usmf))
    assert schedule_lines(usmf) == 0


def test_b13_negative_control_the_same_item_on_an_invoice_is_deferred(usmf: Runner) -> None:
    """B11: Support on a sales order is invoiced, its 500.00 to deferred revenue with a
    twelve-month schedule; and the till still sells an item without a schedule, its revenue
    at once (so the refusals above are B13's, not a till that sells nothing)."""
    order(usmf, "SO-1", ("Support", "1", "500.00"), confirm=True)
    invoice = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    [entries] = vouchers(usmf, invoice).values()
    assert by_account(entries) == {RECEIVABLES: D("500.00"), DEFERRED: D("-500.00")}
    assert schedule_lines(usmf) == 12

    sold = usmf.ok("post_pos_sale", sale(("S0021", "150.00")), actor="pos-1")["journal"]
    [entries] = vouchers(usmf, sold).values()
    assert DEFERRED not in by_account(entries)
    assert by_account(entries)[REVENUE] == D("-150.00")
    assert schedule_lines(usmf) == 12


def test_b13_with_vat_the_till_refuses_a_scheduled_item_too(run: Runner) -> None:
    """With VAT (T6: a receipt debiting cash) the till used to post such an item's revenue at
    once, without its schedule; now it refuses it, and the same item invoiced defers its net
    amount (B11), while an item without a schedule is sold at the till as before."""
    data = catalog()
    data["revenue_schedules"] = [{"code": "12M", "name": "Twelve months", "occurrences": 12}]
    next(i for i in data["items"] if i["item"] == "KURS-1")["revenue_schedule"] = "12M"
    run.ok("upsert_catalog", data)
    before = counts(run)
    error = run.rejected("post_pos_sale", sale(("KURS-1", "5625.00")), actor="pos-1")
    assert (error["code"], error["rule"]) == ("pos.revenue_recognition_not_supported", "B13")
    assert "KURS-1 has revenue schedule 12M" in error["message"]
    assert unchanged_but_outcome(before, counts(run))

    sold = run.ok("post_pos_sale", sale(("KNIV-1", "499.00")), actor="pos-1")["journal"]
    [entries] = vouchers(run, sold).values()
    assert by_account(entries) == {CASH: D("499.00"), REVENUE: D("-399.20"), "2700": D("-99.80")}

    run.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "NO-1001",
            "lines": [{"line": 1, "item": "KURS-1", "quantity": "1", "unit_price": "4500.00"}],
        },
    )
    run.ok("confirm_order", {"order": "SO-1"})
    invoice = run.ok("post_invoice", {"order": "SO-1"})["journal"]
    [entries] = vouchers(run, invoice).values()
    assert by_account(entries)[DEFERRED] == D("-4500.00")
    assert schedule_lines(run) == 12
