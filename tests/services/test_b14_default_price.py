"""B14 through real requests, on SQLite and PostgreSQL: a bundle parent line entered without a
unit price takes the bundle item's base sales price, and is then allocated to its components
(B4) and posted exactly as its twin priced by hand. Any other line still needs a price
(CONTRACT.md), and a bundle with no base sales price to take is refused naming line and item.
The HTTP service's OpenAPI document says which line may leave the price out."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import sessionmaker

from docpost.pipeline.contract import parse_request
from docpost.pipeline.entrypoints.http import create_app
from docpost.pipeline.queries import show_journal, show_order
from tests.conftest import Runner
from tests.services.helpers import counts, unchanged_but_outcome
from tests.services.test_tax_postings import catalog

BUNDLE = {"line": 1, "item": "LaptopBundle", "quantity": "2"}
# What differs between two orders' journals whatever their prices: names, numbers, serials
# (and their registrations, S11).
DIFFERENT = {"journal", "order", "request_id", "documents", "kid", "posted_at"}


def upsert(run: Runner, number: str, *lines: dict[str, Any], customer: str = "US-004") -> None:
    run.ok("upsert_order", {"order": number, "customer": customer, "lines": list(lines)})


def order_lines(run: Runner, number: str) -> list[dict[str, Any]]:
    with run.sessions() as session:
        return [
            {k: v for k, v in line.items() if k not in ("serials", "registrations")}
            for line in show_order(session, number)["lines"]
        ]


def comparable(run: Runner, number: str) -> dict[str, Any]:
    """A journal as shown, without what names it (number, order, request, documents, KID)."""
    with run.sessions() as session:
        shown = show_journal(session, number)
    kept = {k: v for k, v in shown.items() if k not in DIFFERENT}
    kept["lines"] = [
        {k: v for k, v in ln.items() if k not in ("serials", "registrations")}
        for ln in shown["lines"]
    ]
    return kept


def confirm_and_invoice(run: Runner, number: str, serials: list[str]) -> tuple[str, str]:
    """Confirm (B1, B4), ship the two bundles with serials for item 1000, invoice: the
    confirmation's and the invoice's numbers."""
    confirmation = run.ok("confirm_order", {"order": number})["journal"]
    run.ok(
        "post_packing_slip",
        {
            "order": number,
            "lines": [
                {"line": 1, "item": "1000", "quantity": "2", "serials": serials},
                {"line": 1, "item": "Support", "quantity": "2"},
                {"line": 1, "item": "S0021", "quantity": "2"},
            ],
        },
        actor="warehouse-1",
    )
    return confirmation, run.ok("post_invoice", {"order": number})["journal"]


def test_b14_bundle_line_without_price_posts_as_its_explicitly_priced_twin(usmf: Runner) -> None:
    """SO-1 leaves the price out, SO-2 gives LaptopBundle's base sales price 2,300.00: the same
    order lines (parent 2,300.00 each, components 1,713.73 / 450.98 / 135.29, B4), the same
    confirmation and the same invoice, amount for amount."""
    upsert(usmf, "SO-1", BUNDLE)
    upsert(usmf, "SO-2", {**BUNDLE, "unit_price": "2300.00"})
    [parent] = order_lines(usmf, "SO-1")
    assert (parent["unit_price"], parent["net_amount"]) == ("2300.00", "4600.00")

    first = confirm_and_invoice(usmf, "SO-1", ["A-1", "A-2"])
    second = confirm_and_invoice(usmf, "SO-2", ["B-1", "B-2"])
    lines = order_lines(usmf, "SO-1")
    assert lines == order_lines(usmf, "SO-2")
    assert [(ln["item"], ln["unit_price"]) for ln in lines[1:]] == [
        ("1000", "1713.73"),
        ("Support", "450.98"),
        ("S0021", "135.29"),
    ]
    for mine, twin in zip(first, second, strict=True):
        assert comparable(usmf, mine) == comparable(usmf, twin)
    assert comparable(usmf, first[1])["total_amount"] == "4600.00"


def test_b14_with_vat_the_defaulted_bundle_invoices_as_its_twin(run: Runner) -> None:
    """The Norwegian catalog (T3, T4): the gift basket GAVE-1 (base 438.00) at mixed rates,
    with and without its price: equal confirmations and invoices, VAT included."""
    run.ok("upsert_catalog", catalog())
    line = {"line": 1, "item": "GAVE-1", "quantity": "3"}
    upsert(run, "SO-1", line, customer="NO-1001")
    upsert(run, "SO-2", {**line, "unit_price": "438.00"}, customer="NO-1001")
    numbers = []
    for order in ("SO-1", "SO-2"):
        confirmation = run.ok("confirm_order", {"order": order})["journal"]
        numbers.append((confirmation, run.ok("post_invoice", {"order": order})["journal"]))
    for mine, twin in zip(*numbers, strict=True):
        assert comparable(run, mine) == comparable(run, twin)
    invoice = comparable(run, numbers[0][1])
    assert invoice["net_total"] == "1314.00"
    assert invoice["vat"] and invoice["vat_total"] != "0.00"


def test_b14_the_base_price_is_read_when_the_line_is_entered(usmf: Runner) -> None:
    """Sent again without a price, a line keeps the price it was entered with: a changed base
    sales price (B12) does not reprice it, and the same request after confirmation changes
    nothing (an exploded bundle could not be changed, B6). Another quantity is repriced from
    the line's price (2,000.00 given), not from the base price."""
    upsert(usmf, "SO-1", {**BUNDLE, "unit_price": "2000.00"})
    upsert(usmf, "SO-1", {**BUNDLE, "quantity": "3"})
    [parent] = order_lines(usmf, "SO-1")
    assert (parent["unit_price"], parent["net_amount"]) == ("2000.00", "6000.00")

    upsert(usmf, "SO-2", BUNDLE)
    usmf.ok("confirm_order", {"order": "SO-2"})
    bundle_item = {"item": "LaptopBundle", "name": "Laptop bundle", "unit": "ea"}
    usmf.ok("upsert_catalog", {"items": [{**bundle_item, "base_sales_price": "2500.00", "bundle": True}]})  # fmt: skip
    upsert(usmf, "SO-2", BUNDLE)
    assert order_lines(usmf, "SO-2")[0]["unit_price"] == "2300.00"
    # A new bundle line takes the new base price.
    upsert(usmf, "SO-3", BUNDLE)
    assert order_lines(usmf, "SO-3")[0]["unit_price"] == "2500.00"


def test_b14_a_plain_line_without_price_is_refused_naming_line_and_item(usmf: Runner) -> None:
    """Only a bundle parent line may leave its price out; nothing of the request is kept,
    not even its bundle line that could have been priced."""
    before = counts(usmf)
    error = usmf.rejected(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [BUNDLE, {"line": 2, "item": "S0021", "quantity": "1"}],
        },
    )
    assert (error["code"], error["rule"]) == ("order.unit_price_missing", "B14")
    assert error["message"] == (
        "order SO-1 line 2 (item S0021): unit_price is required; only a bundle parent line may "
        "leave it out (B14), and S0021 is not a bundle"
    )
    assert error["details"] == {"field": "unit_price"}
    assert unchanged_but_outcome(before, counts(usmf))
    # Negative control: the same request with the plain line priced is taken.
    upsert(usmf, "SO-1", BUNDLE, {"line": 2, "item": "S0021", "quantity": "1", "unit_price": "150"})
    assert [ln["unit_price"] for ln in order_lines(usmf, "SO-1")] == ["2300.00", "150.00"]


def test_b14_a_bundle_without_base_sales_price_is_refused(usmf: Runner) -> None:
    """A bundle whose base sales price is zero has no price set up to take: refused naming the
    line and item, and taken with a price given on the line."""
    usmf.ok(
        "upsert_catalog",
        {
            "items": [
                {"item": "FreeBundle", "name": "Unpriced bundle", "unit": "ea",
                 "base_sales_price": "0", "bundle": True},
            ],
            "boms": [{"bundle": "FreeBundle", "components": [{"item": "S0021", "quantity": "1"}]}],
        },
    )  # fmt: skip
    before = counts(usmf)
    line = {"line": 4, "item": "FreeBundle", "quantity": "1"}
    error = usmf.rejected("upsert_order", {"order": "SO-1", "customer": "US-004", "lines": [line]})
    assert (error["code"], error["rule"]) == ("bundle.no_base_price", "B14")
    assert error["message"] == (
        "order SO-1 line 4 (item FreeBundle): bundle FreeBundle has no base sales price for the "
        "line to take (B14); give the line a unit_price, or the item a base sales price"
    )
    assert unchanged_but_outcome(before, counts(usmf))
    upsert(usmf, "SO-1", {**line, "unit_price": "99.00"})
    usmf.ok("confirm_order", {"order": "SO-1"})
    assert order_lines(usmf, "SO-1")[1]["unit_price"] == "99.00"


def test_b14_the_http_request_schema_lets_only_order_lines_leave_the_price_out() -> None:
    """The OpenAPI document of `docpost serve` (the contract's models): an order line requires
    no unit_price and says why; a point-of-sale line still requires it (CONTRACT.md). The
    body the route hands to the contract is accepted there too."""
    document = create_app(sessionmaker()).openapi()
    schemas = document["components"]["schemas"]
    order_line, pos_line = schemas["OrderLineIn"], schemas["PosLineIn"]
    assert "unit_price" in order_line["properties"]
    assert "unit_price" not in order_line["required"]
    assert "B14" in order_line["properties"]["unit_price"]["description"]
    assert "unit_price" in pos_line["required"]
    parsed = parse_request(
        {
            "request_id": "b14",
            "kind": "upsert_order",
            "actor": "erp",
            "payload": {"order": "SO-1", "customer": "US-004", "lines": [BUNDLE]},
        }
    )
    assert parsed.command.lines[0].unit_price is None  # type: ignore[attr-defined]
