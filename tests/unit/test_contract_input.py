"""The contract's parsing of decimals, printed text and S3 counts (pipeline.contract), no
database: what a request is refused for before anything is read or written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.contract import parse_request
from docpost.pipeline.errors import Rejection


def body(kind: str, payload: dict[str, Any], actor: str = "erp") -> str:
    return json.dumps({"request_id": "r-1", "kind": kind, "actor": actor, "payload": payload})


def order_with(quantity: Any, unit_price: Any = "10.00") -> str:
    line = {"line": 1, "item": "1000", "quantity": quantity, "unit_price": unit_price}
    return body("upsert_order", {"order": "SO-1", "customer": "US-004", "lines": [line]})


def refused(raw: str) -> Rejection:
    with pytest.raises(Rejection) as error:
        parse_request(raw)
    return error.value


# --- decimals: ASCII decimal text only -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1_000",  # Python's Decimal() reads digit separators
        "\u0665",  # ARABIC-INDIC DIGIT FIVE: Decimal() reads it as 5
        "\uff15",  # FULLWIDTH DIGIT FIVE
        "NaN",
        " Infinity ",
        "1e3",  # exponents: a quantity is written out
        "1E+3",
        " 5",
        "5 ",
        "5.",
        ".5",
        "0x10",
        "5,00",
        "",
    ],
)
def test_a_decimal_string_is_ascii_digits_sign_and_point_only(text: str) -> None:
    error = refused(order_with(text))
    assert error.code == "request.invalid"
    assert error.message == (
        "invalid upsert_order request: payload.lines[0].quantity: must be a decimal number "
        f'such as "5" or "2300.00", got {text!r}: only the digits 0-9 with an optional sign and '
        "decimal point (no spaces, exponents or digit separators)"
    )
    assert error.details["problems"][0]["field"] == "payload.lines[0].quantity"


def test_a_bad_amount_names_its_field() -> None:
    error = refused(order_with("1", unit_price="1_900.00"))
    assert "payload.lines[0].unit_price: must be a decimal number" in error.message


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        ("5", Decimal("5")),
        ("+5", Decimal("5")),
        ("2300.00", Decimal("2300.00")),
        ("0.000001", Decimal("0.000001")),
        ("007", Decimal("7")),
    ],
)
def test_ascii_decimal_strings_are_accepted(quantity: str, expected: Decimal) -> None:
    """Negative control: the ordinary forms still parse."""
    command: Any = parse_request(order_with(quantity)).command
    assert command.lines[0].quantity == expected


def test_json_numbers_stay_accepted_floats_as_their_decimal_text() -> None:
    raw = '{"request_id": "r", "kind": "upsert_order", "actor": "erp", "payload": {"order": '
    raw += '"SO-1", "customer": "US-004", "lines": [{"line": 1, "item": "1000", "quantity": 3, '
    raw += '"unit_price": 1900.1, "discount_percent": 2.5, "discount_amount": 1e1}]}}'
    command: Any = parse_request(raw).command
    line = command.lines[0]
    assert (line.quantity, line.unit_price) == (Decimal(3), Decimal("1900.1"))
    assert (line.discount_percent, line.discount_amount) == (Decimal("2.5"), Decimal("10"))
    # A dict with Python floats (the HTTP service's JSON) reads them as their shortest text.
    payload = {"order": "SO-1", "customer": "US-004", "lines": [{"line": 1, "item": "1000"}]}
    payload["lines"][0].update(quantity=0.1, unit_price=2)
    request = {"request_id": "r", "kind": "upsert_order", "actor": "erp", "payload": payload}
    assert parse_request(request).command.lines[0].quantity == Decimal("0.1")  # type: ignore[attr-defined]


@given(st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**9), places=6))
def test_every_decimal_written_out_parses_to_itself(number: Decimal) -> None:
    text = f"{number:f}"
    command: Any = parse_request(order_with(text)).command
    assert command.lines[0].quantity == number


# --- text that prints -------------------------------------------------------------------------


def catalog(**customer: Any) -> str:
    return body(
        "upsert_catalog",
        {"customers": [{"customer": "US-004", "name": "Cave Wholesales", **customer}]},
    )


@pytest.mark.parametrize(
    ("raw", "field", "code_point"),
    [
        (
            catalog(name="Cave \u202eselaselohW"),
            "payload.customers[0].name",
            "U+202E RIGHT-TO-LEFT OVERRIDE (a format character) at position 6",
        ),
        (
            catalog(customer="US-004\u200b"),
            "payload.customers[0].customer",
            "U+200B ZERO WIDTH SPACE (a format character) at position 7",
        ),
        (
            catalog(address="1 Main St\n\u2067Seattle"),
            "payload.customers[0].address",
            "U+2067 RIGHT-TO-LEFT ISOLATE (a format character) at position 11",
        ),
        (
            catalog(address="1 Main St\tSeattle"),
            "payload.customers[0].address",
            "U+0009 CHARACTER TABULATION (a control character) at position 10",
        ),
        (
            body(
                "upsert_catalog",
                {
                    "items": [
                        {
                            "item": "1000",
                            "name": "Lap\u00adtop",
                            "unit": "ea",
                            "base_sales_price": "1",
                        }
                    ]
                },
            ),
            "payload.items[0].name",
            "U+00AD SOFT HYPHEN (a format character) at position 4",
        ),
        (
            body(
                "upsert_catalog",
                {
                    "items": [
                        {
                            "item": "1000",
                            "name": "Laptop",
                            "unit": "e\u200ba",
                            "base_sales_price": "1",
                        }
                    ]
                },
            ),
            "payload.items[0].unit",
            "U+200B ZERO WIDTH SPACE (a format character) at position 2",
        ),
        (
            body("upsert_catalog", {"actors": [{"actor": "erp\u2060", "duties": []}]}),
            "payload.actors[0].actor",
            "U+2060 WORD JOINER (a format character) at position 4",
        ),
        (
            body("confirm_order", {"order": "SO-1\u200e"}),
            "payload.order",
            "U+200E LEFT-TO-RIGHT MARK (a format character) at position 5",
        ),
        (
            order_with("1").replace('"line": 1,', '"line": 1, "site": "1\\u20282",'),
            "payload.lines[0].site",
            "U+2028 LINE SEPARATOR (a line separator) at position 2",
        ),
        (
            body("cancel_packing_slip", {"packing_slip": "PS-000001\u202c"}),
            "payload.packing_slip",
            "U+202C POP DIRECTIONAL FORMATTING (a format character) at position 10",
        ),
        (
            body("confirm_order", {"order": "SO-1"}, actor="\u202eerp"),
            "actor",
            "U+202E RIGHT-TO-LEFT OVERRIDE (a format character) at position 1",
        ),
    ],
)
def test_text_that_prints_refuses_control_and_format_characters(
    raw: str, field: str, code_point: str
) -> None:
    error = refused(raw)
    assert error.code == "request.invalid"
    assert f"{field}: holds {code_point}; text that prints may not hold control or format " in (
        error.message
    )
    assert error.details["problems"][0]["field"] == field


def test_an_address_keeps_its_line_breaks() -> None:
    command: Any = parse_request(catalog(address="1 Main St\r\nSeattle\rWA\n98101")).command
    assert command.customers[0].address == "1 Main St\nSeattle\nWA\n98101"


def test_names_beyond_ascii_are_not_refused() -> None:
    """Negative control: letters, accents and spaces of any script print as themselves."""
    command: Any = parse_request(catalog(name="Ærlig Åse Øvrebø\u00a0AS \u00e9\u0301")).command
    assert command.customers[0].name == "Ærlig Åse Øvrebø\u00a0AS \u00e9\u0301"


# --- S3 before any work ----------------------------------------------------------------------


def slip(*lines: dict[str, Any], kind: str = "post_packing_slip") -> str:
    return body(kind, {"order": "SO-1", "lines": list(lines)})


def test_s3_a_line_with_more_registrations_than_units_is_refused_at_parse_time() -> None:
    error = refused(slip({"line": 2, "quantity": "3", "serials": ["A", "B"], "not_readable": 2}))
    assert (error.code, error.rule) == ("serial.too_many", "S3")
    assert error.message == (
        "order SO-1 line 2: 4 serial registrations for quantity 3; more registrations than "
        "units can never be posted"
    )
    assert error.details == {"registrations": 4, "quantity": "3"}


def test_s3_parse_time_count_adds_the_list_the_stream_the_scans_and_blanks() -> None:
    line = {
        "line": 1,
        "item": "1000",
        "quantity": "4",
        "serials": ["A"],
        "scan_stream": "B\r\nC\t\r\n",
        "scans": [{"value": "D", "mode": "add"}, {"value": "E", "mode": "add"}],
    }
    error = refused(slip(line, kind="post_invoice"))
    assert error.message.startswith("order SO-1 line 1 (item 1000): 5 serial registrations for")
    # A remove scan takes one away: exactly the quantity is not refused here.
    line["scans"].append({"value": "A", "mode": "remove"})  # type: ignore[attr-defined]
    parse_request(slip(line, kind="post_invoice"))


def test_s3_credit_note_serials_beyond_its_quantity_are_refused_at_parse_time() -> None:
    raw = body(
        "post_credit_note",
        {"invoice": "INV-000001", "lines": [{"line": 1, "quantity": "1", "serials": ["A", "B"]}]},
    )
    error = refused(raw)
    assert (error.code, error.rule) == ("serial.too_many", "S3")
    assert error.message.startswith("invoice INV-000001 line 1: 2 serial registrations for")


def test_s3_parse_time_check_leaves_lines_within_their_quantity_alone() -> None:
    """Negative control: as many registrations as units, or fewer, parse."""
    parse_request(slip({"line": 1, "quantity": "2", "serials": ["A"], "not_readable": 1}))
    parse_request(slip({"line": 1, "quantity": "5", "serials": ["A"]}))
    parse_request(slip({"line": 1, "quantity": "1"}))
