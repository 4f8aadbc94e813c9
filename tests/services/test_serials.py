"""Serial numbers in the sales process (DOMAIN.md S1-S13) through the posting services,
on SQLite and PostgreSQL."""

from __future__ import annotations

from docpost.pipeline import queries
from tests.conftest import Runner
from tests.services.helpers import counts, order, ship, unchanged_but_outcome


def test_s1_invoice_without_packing_slip_registers_serials(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "2", "1900.00"))
    result = usmf.ok(
        "post_invoice",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "2", "serials": ["A1", "A2"]}]},
    )
    with usmf.sessions() as session:
        journal = queries.show_journal(session, result["journal"])
        assert journal["lines"][0]["serials"] == ["A1", "A2"]
        assert queries.trace(session, "A1")["sales"][0]["invoice"] == result["journal"]
        assert queries.trace(session, "A1")["sales"][0]["packing_slip"] is None


def test_s2_registrations_must_equal_quantity_message(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "3", "1900.00"))
    before = counts(usmf)
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "3", "serials": ["A1", "A2"]}]},
        actor="warehouse-1",
    )
    assert error["code"] == "serial.count_mismatch"
    assert error["rule"] == "S2"
    assert error["message"] == (
        "order SO-1 line 1 (item 1000): 2 serial registrations for quantity 3; register one "
        "serial or a not-readable blank per unit"
    )
    assert unchanged_but_outcome(before, counts(usmf))


def test_s2_blank_issue_allowed_posts_fewer_registrations(usmf: Runner) -> None:
    order(usmf, "SO-1", ("M0001", "3", "300.00"))
    number = ship(usmf, "SO-1", {"line": 1, "quantity": "3", "serials": ["MP-1"]})
    with usmf.sessions() as session:
        assert queries.show_journal(session, number)["lines"][0]["serials"] == ["MP-1"]


def test_s3_more_registrations_than_quantity_is_rejected_even_with_blank_issue(
    usmf: Runner,
) -> None:
    order(usmf, "SO-1", ("M0001", "1", "300.00"))
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "serials": ["A", "B"]}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.too_many", "S3")
    # Refused while the request is parsed (before the order is read): the line has no item yet.
    assert error["message"] == (
        "order SO-1 line 1: 2 serial registrations for quantity 1; more "
        "registrations than units can never be posted"
    )


def test_s4_scanner_stream_and_scans_give_the_final_set(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "4", "1900.00"))
    number = ship(
        usmf,
        "SO-1",
        {
            "line": 1,
            "quantity": "4",
            "scan_stream": " SP-1\r\nSP-2\tSP-3\n",
            "scans": [
                {"value": "SP-3", "mode": "remove"},
                {"value": "SP-4", "mode": "add"},
                {"value": "SP-5", "mode": "add"},
            ],
        },
    )
    with usmf.sessions() as session:
        assert queries.show_journal(session, number)["lines"][0]["serials"] == [
            "SP-1",
            "SP-2",
            "SP-4",
            "SP-5",
        ]


def test_s4_empty_serial_and_unknown_removal_are_rejected(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "serials": ["  "]}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.empty", "S4")
    assert "order SO-1 line 1 (item 1000): an empty serial number was given" in error["message"]
    error = usmf.rejected(
        "post_packing_slip",
        {
            "order": "SO-1",
            "lines": [
                {
                    "line": 1,
                    "quantity": "1",
                    "serials": ["A"],
                    "scans": [{"value": "B", "mode": "remove"}],
                }
            ],
        },
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.remove_unknown", "S4")
    assert error["message"] == (
        "order SO-1 line 1 (item 1000): cannot remove serial 'B': it was not scanned on this line"
    )


def test_s5_same_serial_twice_on_a_line_or_on_two_lines_for_one_item(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "2", "1900.00"), ("1000", "1", "1900.00"))
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "2", "serials": ["A", "A"]}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.duplicate", "S5")
    assert error["message"] == (
        "order SO-1 line 1 (item 1000): serial 'A' is registered twice; each unit needs its own serial"
    )
    error = usmf.rejected(
        "post_packing_slip",
        {
            "order": "SO-1",
            "lines": [
                {"line": 1, "quantity": "2", "serials": ["A", "B"]},
                {"line": 2, "quantity": "1", "serials": ["B"]},
            ],
        },
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.duplicate", "S5")
    assert error["message"] == (
        "serial 'B' of item 1000 is on both order SO-1 line 1 (item 1000) and order SO-1 line 2 "
        "(item 1000)"
    )


def test_s5_serial_on_another_posted_document_is_rejected_naming_it(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    order(usmf, "SO-2", ("1000", "1", "1900.00"))
    first = ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["SP-9"]})
    before = counts(usmf)
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-2", "lines": [{"line": 1, "quantity": "1", "serials": ["SP-9"]}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.in_use", "S5")
    assert error["message"] == (
        f"order SO-2 line 1 (item 1000): serial 'SP-9' of item 1000 is already on packing slip "
        f"{first} (order SO-1); a serial can be sold only once"
    )
    assert unchanged_but_outcome(before, counts(usmf))


def test_s5_credited_serial_is_free_again(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    order(usmf, "SO-2", ("1000", "1", "1900.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["SP-9"]})
    invoice = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    usmf.ok("post_credit_note", {"invoice": invoice})
    ship(usmf, "SO-2", {"line": 1, "quantity": "1", "serials": ["SP-9"]})
    with usmf.sessions() as session:
        sales = queries.trace(session, "SP-9")["sales"]
    assert [(s["order"], s["credited"]) for s in sales] == [("SO-1", True), ("SO-2", False)]


def test_s6_not_readable_needs_the_duty(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "2", "1900.00"))
    error = usmf.rejected(
        "post_packing_slip",
        {
            "order": "SO-1",
            "lines": [{"line": 1, "quantity": "2", "serials": ["A"], "not_readable": 1}],
        },
        actor="pos-1",
    )
    assert (error["code"], error["rule"]) == ("serial.blank_not_allowed", "S6")
    assert error["message"] == (
        "order SO-1 line 1 (item 1000): actor 'pos-1' may not register not-readable serials; "
        "that needs the duty register_non_readable_serials"
    )
    number = ship(usmf, "SO-1", {"line": 1, "quantity": "2", "serials": ["A"], "not_readable": 1})
    with usmf.sessions() as session:
        assert queries.show_journal(session, number)["lines"][0]["serials"] == ["A", None]


def test_s7_invoice_selects_serials_from_the_packing_slip(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "3", "1900.00"))
    ps = ship(usmf, "SO-1", {"line": 1, "quantity": "3", "serials": ["A", "B", "C"]})
    invoice = usmf.ok(
        "post_invoice",
        {
            "order": "SO-1",
            "packing_slips": [ps],
            "lines": [{"line": 1, "quantity": "2", "serials": ["C", "A"]}],
        },
    )["journal"]
    with usmf.sessions() as session:
        assert sorted(queries.show_journal(session, invoice)["lines"][0]["serials"]) == ["A", "C"]
        states = {
            s["serial"]: s["state"]
            for s in queries.show_order(session, "SO-1")["lines"][0]["serials"]
        }
    assert states == {"A": "invoiced", "B": "shipped", "C": "invoiced"}


def test_s7_serial_not_on_the_packing_slips_or_already_invoiced_is_rejected(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "3", "1900.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "3", "serials": ["A", "B", "C"]})
    usmf.ok(
        "post_invoice", {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "serials": ["A"]}]}
    )
    for serial in ("Z", "A"):
        error = usmf.rejected(
            "post_invoice",
            {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "serials": [serial]}]},
        )
        assert (error["code"], error["rule"]) == ("serial.not_on_packing_slip", "S7")
        assert error["message"] == (
            f"order SO-1 line 1 (item 1000): serial '{serial}' is not on a packing slip of this "
            "line waiting to be invoiced; select serials the packing slips registered and not yet "
            "invoiced"
        )


def test_s7_invoice_quantity_may_not_exceed_shipped_not_invoiced(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "3", "1900.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "2", "serials": ["A", "B"]})
    error = usmf.rejected(
        "post_invoice", {"order": "SO-1", "lines": [{"line": 1, "quantity": "3"}]}
    )
    assert (error["code"], error["rule"]) == ("invoice.quantity_exceeds_shipped", "S7")
    assert error["message"] == (
        "order SO-1 line 1 (item 1000): invoice quantity 3 exceeds the 2 shipped on packing "
        "slips and not yet invoiced"
    )


def test_s7_partial_invoice_may_select_fewer_serials_than_registered(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "3", "1900.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "3", "serials": ["A", "B", "C"]})
    first = usmf.ok(
        "post_invoice", {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "serials": ["B"]}]}
    )
    second = usmf.ok("post_invoice", {"order": "SO-1"})
    with usmf.sessions() as session:
        assert queries.show_journal(session, first["journal"])["lines"][0]["serials"] == ["B"]
        assert queries.show_journal(session, second["journal"])["lines"][0]["serials"] == ["A", "C"]


def test_s8_seed_example_three_packing_slips_of_two(usmf: Runner) -> None:
    """Three packing slips of two serialized units each: one unit from each is rejected; both
    units of the first and one of the second is accepted."""
    order(usmf, "SO-1", ("1000", "6", "1900.00"))
    slips = [
        ship(usmf, "SO-1", {"line": 1, "quantity": "2", "serials": [f"S{n}a", f"S{n}b"]})
        for n in (1, 2, 3)
    ]
    error = usmf.rejected(
        "post_invoice",
        {
            "order": "SO-1",
            "lines": [{"line": 1, "quantity": "3", "serials": ["S1a", "S2a", "S3a"]}],
        },
    )
    assert (error["code"], error["rule"]) == ("serial.partial_packing_slips", "S8")
    assert error["message"] == (
        f"the invoice takes part of the serials of packing slips {', '.join(slips)}; only one "
        "packing slip may be partly invoiced, invoice the others in full (serialized units left "
        f"out: {slips[0]} 1 of line 1 (item 1000); {slips[1]} 1 of line 1 (item 1000); "
        f"{slips[2]} 1 of line 1 (item 1000))"
    )
    invoice = usmf.ok(
        "post_invoice",
        {
            "order": "SO-1",
            "lines": [{"line": 1, "quantity": "3", "serials": ["S1a", "S1b", "S2a"]}],
        },
    )
    with usmf.sessions() as session:
        assert queries.show_journal(session, invoice["journal"])["lines"][0]["serials"] == [
            "S1a",
            "S1b",
            "S2a",
        ]


def test_s9_correct_a_serial_not_yet_invoiced_updates_the_packing_slip(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "2", "1900.00"))
    ps = ship(usmf, "SO-1", {"line": 1, "quantity": "2", "serials": ["A"], "not_readable": 1})
    result = usmf.ok(
        "change_serial", {"order": "SO-1", "line": 1, "old": None, "new": "B"}, actor="supervisor"
    )
    assert result["packing_slip"] == ps
    usmf.ok(
        "change_serial", {"order": "SO-1", "line": 1, "old": "A", "new": "A2"}, actor="supervisor"
    )
    with usmf.sessions() as session:
        assert queries.show_journal(session, ps)["lines"][0]["serials"] == ["A2", "B"]
        corrections = queries.trace(session, "B")["sales"][0]["corrections"]
    assert [(c["old"], c["new"], c["actor"]) for c in corrections] == [(None, "B", "supervisor")]


def test_s9_invoiced_units_cannot_be_changed(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["A"]})
    usmf.ok("post_invoice", {"order": "SO-1"})
    error = usmf.rejected(
        "change_serial", {"order": "SO-1", "line": 1, "old": "A", "new": "B"}, actor="supervisor"
    )
    assert (error["code"], error["rule"]) == ("serial.invoiced", "S9")
    assert error["message"] == (
        "order SO-1 line 1 (item 1000): serial 'A' is invoiced; invoiced units cannot be changed"
    )


def test_s9_line_corrected_by_negative_quantity_cannot_change_serials(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    ps = ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["A"]})
    usmf.ok("cancel_packing_slip", {"packing_slip": ps}, actor="warehouse-1")
    error = usmf.rejected(
        "change_serial", {"order": "SO-1", "line": 1, "old": "A", "new": "B"}, actor="supervisor"
    )
    assert (error["code"], error["rule"]) == ("serial.line_corrected", "S9")
    assert error["message"] == (
        "order SO-1 line 1 (item 1000) was corrected by a negative quantity (a canceled packing "
        "slip); its serials can no longer be changed"
    )


def test_s9_unknown_serial_and_duty(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["A"]})
    error = usmf.rejected(
        "change_serial", {"order": "SO-1", "line": 1, "old": "Q", "new": "B"}, actor="supervisor"
    )
    assert (error["code"], error["rule"]) == ("serial.not_found", "S9")
    assert (
        error["message"] == "order SO-1 line 1 (item 1000): no registration of serial 'Q' to change"
    )


def test_s10_canceled_packing_slip_serials_are_reused_by_the_next(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "2", "1900.00"))
    ps = ship(usmf, "SO-1", {"line": 1, "quantity": "2", "serials": ["A", "B"]})
    reversal = usmf.ok("cancel_packing_slip", {"packing_slip": ps}, actor="warehouse-1")
    with usmf.sessions() as session:
        reversed_journal = queries.show_journal(session, reversal["journal"])
        assert reversed_journal["reverses"] == ps
        assert reversed_journal["lines"][0]["quantity"] == "-2"
        line = queries.show_order(session, "SO-1")["lines"][0]
        assert line["delivered"] == "0"
        assert [s["state"] for s in line["serials"]] == ["registered", "registered"]
    again = ship(usmf, "SO-1")  # no serials in the request: the registered ones are reused
    with usmf.sessions() as session:
        assert queries.show_journal(session, again)["lines"][0]["serials"] == ["A", "B"]


def test_s10_canceled_twice_or_after_invoicing_is_rejected(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "2", "1900.00"))
    ps = ship(usmf, "SO-1", {"line": 1, "quantity": "2", "serials": ["A", "B"]})
    reversal = usmf.ok("cancel_packing_slip", {"packing_slip": ps}, actor="warehouse-1")["journal"]
    error = usmf.rejected("cancel_packing_slip", {"packing_slip": ps}, actor="warehouse-1")
    assert (error["code"], error["rule"]) == ("packing_slip.already_canceled", "S10")
    assert error["message"] == f"packing slip {ps} was already canceled by {reversal}"
    ps2 = ship(usmf, "SO-1")
    usmf.ok("post_invoice", {"order": "SO-1", "lines": [{"line": 1, "quantity": "1"}]})
    error = usmf.rejected("cancel_packing_slip", {"packing_slip": ps2}, actor="warehouse-1")
    assert (error["code"], error["rule"]) == ("packing_slip.invoiced", "S10")
    assert error["message"] == (
        f"packing slip {ps2} is already invoiced; it can no longer be canceled, credit the invoice instead"
    )


def test_s11_inquiry_and_trace(usmf: Runner) -> None:
    order(usmf, "SO-1", ("1000", "2", "1900.00"))
    ps = ship(usmf, "SO-1", {"line": 1, "quantity": "2", "serials": ["A"], "not_readable": 1})
    invoice = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    with usmf.sessions() as session:
        assert queries.show_journal(session, ps)["lines"][0]["serials"] == ["A", None]
        assert queries.show_journal(session, invoice)["lines"][0]["serials"] == ["A", None]
        found = queries.trace(session, "A", item="1000")
    sale = found["sales"][0]
    assert (
        sale["item"],
        sale["customer"],
        sale["order"],
        sale["packing_slip"],
        sale["invoice"],
    ) == ("1000", "US-004", "SO-1", ps, invoice)
    assert sale["credited"] is False
    assert sale["date"]


def test_s12_catch_weight_items_never_get_serials(usmf: Runner) -> None:
    order(usmf, "SO-1", ("CW-0001", "2.5", "12.50"))
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "2.5", "serials": ["X"]}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.catch_weight", "S12")
    assert error["message"] == (
        "order SO-1 line 1 (item CW-0001): catch-weight items never get serial numbers in the sales process"
    )
    ship(usmf, "SO-1")


def test_s13_pos_sale_needs_a_serial_per_serialized_unit(usmf: Runner) -> None:
    error = usmf.rejected(
        "post_pos_sale",
        {"lines": [{"item": "M0001", "quantity": "2", "unit_price": "299.00"}]},
        actor="pos-1",
    )
    assert (error["code"], error["rule"]) == ("serial.pos_quantity", "S13")
    error = usmf.rejected(
        "post_pos_sale",
        {"lines": [{"item": "M0001", "quantity": "1", "unit_price": "299.00"}]},
        actor="pos-1",
    )
    assert (error["code"], error["rule"]) == ("serial.pos_missing", "S13")
    assert error["message"] == (
        "order POS-000001 line 1 (item M0001): the item is serialized; scan its serial (or mark "
        "it not readable) before the sale is posted"
    )
    result = usmf.ok(
        "post_pos_sale",
        {
            "store": "HOUSTON",
            "lines": [
                {"item": "M0001", "quantity": "1", "unit_price": "299.00", "serial": "MP-200"},
                {"item": "S0021", "quantity": "2", "unit_price": "150.00"},
            ],
        },
        actor="pos-1",
    )
    # The rejected attempts took no number (L2): this is the first POS order.
    assert result["order"] == "POS-000001"
    with usmf.sessions() as session:
        invoice = queries.show_journal(session, result["journal"])
        assert invoice["total_amount"] == "599.00"
        assert invoice["lines"][0]["serials"] == ["MP-200"]
        assert (
            queries.trace(session, "MP-200")["sales"][0]["packing_slip"] == result["packing_slip"]
        )


# --- S4 extended: serials that print alike are one serial ------------------------------------


def test_s4_a_zero_width_space_does_not_make_another_serial(usmf: Runner) -> None:
    """S4/S5: "SP-0002\u200b" prints as SP-0002. It used to be posted while SP-0002 was active,
    and the trace missed one of the two sales; it is refused, naming the code point."""
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    order(usmf, "SO-2", ("1000", "1", "1900.00"))
    ship(usmf, "SO-1", {"line": 1, "quantity": "1", "serials": ["SP-0002"]})
    before = counts(usmf)
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-2", "lines": [{"line": 1, "quantity": "1", "serials": ["SP-0002\u200b"]}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.invalid_character", "S4")
    assert error["message"] == (
        "order SO-2 line 1 (item 1000): serial 'SP-0002\\u200b' holds U+200B ZERO WIDTH SPACE "
        "(a format character) at position 8; a serial may not hold control or format "
        "characters: they print as nothing or reorder what follows, so two serials would print "
        "alike. Scan it again or type it without that character"
    )
    assert error["details"] == {"serial": "SP-0002\u200b", "code_point": "U+200B ZERO WIDTH SPACE"}
    assert unchanged_but_outcome(before, counts(usmf))


def test_s4_a_bidi_override_is_refused(usmf: Runner) -> None:
    """S4: "\u202eLAIRES" prints as SERIAL."""
    order(usmf, "SO-1", ("1000", "1", "1900.00"))
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-1", "lines": [{"line": 1, "quantity": "1", "serials": ["\u202eLAIRES"]}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.invalid_character", "S4")
    assert error["message"].startswith(
        "order SO-1 line 1 (item 1000): serial '\\u202eLAIRES' holds U+202E RIGHT-TO-LEFT "
        "OVERRIDE (a format character) at position 1;"
    )


def test_s4_every_way_a_serial_arrives_is_checked(usmf: Runner) -> None:
    """S4 for scans, the scan stream (whose CR, LF and TAB stay separators), change_serial and
    the point of sale."""
    order(usmf, "SO-1", ("1000", "2", "1900.00"))
    for line in (
        {"line": 1, "quantity": "2", "scan_stream": "A1\r\nA2\u200b\r\n"},
        {"line": 1, "quantity": "2", "scans": [{"value": "A1", "mode": "add"},
                                               {"value": "\u2066A2", "mode": "add"}]},
    ):  # fmt: skip
        error = usmf.rejected(
            "post_packing_slip", {"order": "SO-1", "lines": [line]}, actor="warehouse-1"
        )
        assert (error["code"], error["rule"]) == ("serial.invalid_character", "S4"), error
        assert error["message"].startswith("order SO-1 line 1 (item 1000): serial '")
    ps = ship(usmf, "SO-1", {"line": 1, "quantity": "2", "scan_stream": "A1\tA2\n"})
    error = usmf.rejected(
        "change_serial",
        {"order": "SO-1", "line": 1, "old": "A1", "new": "A1\u00ad"},
        actor="supervisor",
    )
    assert (error["code"], error["rule"]) == ("serial.invalid_character", "S4")
    assert "holds U+00AD SOFT HYPHEN (a format character) at position 3" in error["message"]
    error = usmf.rejected(
        "post_pos_sale",
        {"lines": [{"item": "M0001", "quantity": "1", "unit_price": "299.00",
                    "serial": "MP-1\u200b"}]},
        actor="pos-1",
    )  # fmt: skip
    assert (error["code"], error["rule"]) == ("serial.invalid_character", "S4")
    assert error["message"].startswith("order POS-000001 line 1 (item M0001): serial 'MP-1\\u200b'")
    with usmf.sessions() as session:
        assert queries.show_journal(session, ps)["lines"][0]["serials"] == ["A1", "A2"]


def test_s4_s5_a_full_width_serial_is_the_same_serial(usmf: Runner) -> None:
    """S4 (NFKC): full-width "\uff33\uff30-0002" is SP-0002, so S5 finds it in use, and the
    trace, the credit note and change_serial find it by either spelling."""
    full_width = "\uff33\uff30\uff0d\uff10\uff10\uff10\uff12"
    order(usmf, "SO-1", ("1000", "2", "1900.00"))
    order(usmf, "SO-2", ("1000", "1", "1900.00"))
    first = ship(usmf, "SO-1", {"line": 1, "quantity": "2", "serials": ["SP-0002", "SP-0003"]})
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "SO-2", "lines": [{"line": 1, "quantity": "1", "serials": [full_width]}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.in_use", "S5")
    assert f"serial 'SP-0002' of item 1000 is already on packing slip {first}" in error["message"]
    with usmf.sessions() as session:
        assert queries.trace(session, f" {full_width} ")["sales"][0]["packing_slip"] == first
    usmf.ok(
        "change_serial",
        {"order": "SO-1", "line": 1, "old": "\uff33\uff30-0003", "new": "\uff33\uff30-0004"},
        actor="supervisor",
    )
    invoice = usmf.ok("post_invoice", {"order": "SO-1"})["journal"]
    usmf.ok(
        "post_credit_note",
        {"invoice": invoice, "lines": [{"line": 1, "quantity": "1", "serials": [full_width]}]},
    )
    with usmf.sessions() as session:
        assert queries.show_journal(session, first)["lines"][0]["serials"] == [
            "SP-0002",
            "SP-0004",
        ]
        assert queries.trace(session, full_width)["sales"][0]["credited"] is True


def test_s3_too_many_registrations_are_refused_before_the_order_is_read(usmf: Runner) -> None:
    """S3 before any work: the count is checked while the request is parsed, so an order that
    does not even exist is not looked up (the rejection is S3, not order.unknown), and no
    serial of a 100,000-serial line is normalised or looked up."""
    serials = [f"SN-{n:06d}" for n in range(100_000)]
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "NO-SUCH", "lines": [{"line": 1, "quantity": "99999", "serials": serials}]},
        actor="warehouse-1",
    )
    assert (error["code"], error["rule"]) == ("serial.too_many", "S3")
    assert error["message"] == (
        "order NO-SUCH line 1: 100000 serial registrations for quantity 99999; more "
        "registrations than units can never be posted"
    )
    # Negative control: within its quantity, the same line gets as far as the order.
    error = usmf.rejected(
        "post_packing_slip",
        {"order": "NO-SUCH", "lines": [{"line": 1, "quantity": "2", "serials": ["A"],
                                        "scans": [{"value": "B", "mode": "add"},
                                                  {"value": "A", "mode": "remove"}]}]},
        actor="warehouse-1",
    )  # fmt: skip
    assert error["code"] == "order.unknown", error


def test_s2_many_serials_on_one_line_post(usmf: Runner) -> None:
    """Serial collection is linear (a set, not a list, answers "seen before?"): 5,000 serials
    from the list, the stream and the scans post in one line."""
    order(usmf, "SO-1", ("1000", "5000", "1900.00"))
    stream = "\r\n".join(f"ST-{n:05d}" for n in range(2000))
    number = ship(
        usmf,
        "SO-1",
        {
            "line": 1,
            "quantity": "5000",
            "serials": [f"SL-{n:05d}" for n in range(2000)],
            "scan_stream": stream,
            "scans": [{"value": f"SC-{n:05d}", "mode": "add"} for n in range(1001)]
            + [{"value": "SL-00000", "mode": "remove"}],
        },
    )
    with usmf.sessions() as session:
        serials = queries.show_journal(session, number)["lines"][0]["serials"]
    assert len(serials) == len(set(serials)) == 5000
    assert "SL-00000" not in serials
