"""Text that prints and numbers as text, through the services on SQLite and PostgreSQL: a
control or format character in a name, address or code (S4 extended to every printed text),
and a quantity or amount that is not ASCII decimal text, are refused with the field and
nothing changes."""

from __future__ import annotations

from typing import Any

from docpost.pipeline import queries
from docpost.schema import Customer
from tests.conftest import Runner
from tests.services.helpers import counts, order, unchanged_but_outcome


def customer(**fields: Any) -> dict[str, Any]:
    return {"customers": [{"customer": "US-004", "name": "Cave Wholesales", **fields}]}


def test_a_bidi_override_in_a_customer_name_is_refused(usmf: Runner) -> None:
    """The name would print "Cave Wholesales" reversed after the override: refused, naming the
    field and the code point; the customer keeps its name."""
    before = counts(usmf)
    error = usmf.rejected("upsert_catalog", customer(name="Cave \u202eselaselohW"))
    assert error["code"] == "request.invalid"
    assert error["message"] == (
        "invalid upsert_catalog request: payload.customers[0].name: holds U+202E RIGHT-TO-LEFT "
        "OVERRIDE (a format character) at position 6; text that prints may not hold control "
        "or format characters (only spaces are allowed), as they print as nothing or reorder "
        "what follows: remove it"
    )
    assert unchanged_but_outcome(before, counts(usmf))
    with usmf.sessions() as session:
        stored = session.get(Customer, "US-004")
        assert stored is not None and "\u202e" not in stored.name


def test_an_address_keeps_line_breaks_and_refuses_format_characters(usmf: Runner) -> None:
    usmf.ok("upsert_catalog", customer(address="123 Coffee Street\r\nRedmond, WA 98052"))
    with usmf.sessions() as session:
        stored = session.get(Customer, "US-004")
        assert stored is not None
        assert stored.address == "123 Coffee Street\nRedmond, WA 98052"
    error = usmf.rejected("upsert_catalog", customer(address="123 Coffee Street\n\u200bRedmond"))
    assert error["message"].startswith(
        "invalid upsert_catalog request: payload.customers[0].address: holds U+200B ZERO WIDTH "
        "SPACE (a format character) at position 19; text that prints may not hold control or "
        "format characters (only line breaks and spaces are allowed)"
    )


def test_an_order_number_that_prints_like_another_is_refused(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    before = counts(usmf)
    error = usmf.rejected(
        "upsert_order",
        {
            "order": "SO-1\u200b",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "1000", "quantity": "1", "unit_price": "1.00"}],
        },
    )
    assert error["code"] == "request.invalid"
    assert error["message"].startswith(
        "invalid upsert_order request: payload.order: holds U+200B ZERO WIDTH SPACE (a format "
        "character) at position 5;"
    )
    assert unchanged_but_outcome(before, counts(usmf))


def test_item_name_and_unit_are_checked(usmf: Runner) -> None:
    item = {"item": "NEW-1", "name": "Dock", "unit": "ea", "base_sales_price": "10.00"}
    error = usmf.rejected("upsert_catalog", {"items": [{**item, "name": "Do\u00adck"}]})
    assert "payload.items[0].name: holds U+00AD SOFT HYPHEN" in error["message"]
    error = usmf.rejected("upsert_catalog", {"items": [{**item, "unit": "e\x1ba"}]})
    assert "payload.items[0].unit: holds U+001B ESCAPE (a control character)" in error["message"]
    usmf.ok("upsert_catalog", {"items": [{**item, "name": "Dockingstation Ærø"}]})


def test_quantities_are_ascii_decimal_text(usmf: Runner) -> None:
    """ "1_000" and "\u0665" (ARABIC-INDIC DIGIT FIVE) used to be read as 1000 and 5."""
    before = counts(usmf)
    for text in ("1_000", "\u0665", "1e3", " NaN"):
        error = usmf.rejected(
            "upsert_order",
            {
                "order": "SO-1",
                "customer": "US-004",
                "lines": [{"line": 1, "item": "1000", "quantity": text, "unit_price": "1.00"}],
            },
        )
        assert error["code"] == "request.invalid"
        assert error["message"] == (
            "invalid upsert_order request: payload.lines[0].quantity: must be a decimal number "
            f'such as "5" or "2300.00", got {text!r}: only the digits 0-9 with an optional sign '
            "and decimal point (no spaces, exponents or digit separators)"
        )
    assert counts(usmf)["journals"] == before["journals"]
    # JSON numbers stay accepted; a float as its decimal text.
    usmf.ok(
        "upsert_order",
        {
            "order": "SO-1",
            "customer": "US-004",
            "lines": [{"line": 1, "item": "1000", "quantity": 2, "unit_price": 1900.5}],
        },
    )
    with usmf.sessions() as session:
        line = queries.show_order(session, "SO-1")["lines"][0]
    assert (line["quantity"], line["unit_price"]) == ("2", "1900.50")
