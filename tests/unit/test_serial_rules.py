"""Pure serial rules (DOMAIN.md S2-S8, S13): no database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.serials import (
    BlankPermission,
    ScanStep,
    SerialEntry,
    apply_scans,
    check_blank_duty,
    check_line_registrations,
    check_no_registrations,
    check_packing_slip_coverage,
    check_pos_line,
    check_registration_count,
    check_unique_in_document,
    clean_serial,
    collect_serials,
    registrations_given,
    require_whole_quantity,
    split_scan_stream,
)

LABEL = "order SO-1 line 1 (item 1000)"


def rejects(code: str, rule: str | None = None):  # type: ignore[no-untyped-def]
    class Check:
        def __enter__(self) -> Check:
            return self

        def __exit__(self, kind, exc, tb):  # type: ignore[no-untyped-def]
            assert isinstance(exc, Rejection), f"expected {code}, got {exc!r}"
            assert exc.code == code, exc.code
            if rule:
                assert exc.rule == rule
            self.message = exc.message
            return True

    return Check()


def test_s4_serial_is_trimmed_scan_text() -> None:
    assert clean_serial("  SP-0001 \t", LABEL) == "SP-0001"


def test_s4_empty_string_is_not_a_serial() -> None:
    with rejects("serial.empty", "S4") as check:
        clean_serial("   ", LABEL)
    assert check.message == (
        "order SO-1 line 1 (item 1000): an empty serial number was given; scan or type the "
        "serial, or register a not-readable blank instead"
    )


def test_s4_serial_is_nfkc_normalised() -> None:
    """S4: full-width "\uff33\uff30-0002" prints like SP-0002 and is SP-0002 (S5 then sees it)."""
    assert clean_serial("\uff33\uff30\uff0d\uff10\uff10\uff10\uff12", LABEL) == "SP-0002"


def test_s4_a_format_character_in_a_serial_is_refused_naming_it() -> None:
    """S4: "SP-0002\u200b" prints as SP-0002; it is refused, not stored as another serial."""
    with rejects("serial.invalid_character", "S4") as check:
        clean_serial("SP-0002\u200b", LABEL)
    assert check.message == (
        "order SO-1 line 1 (item 1000): serial 'SP-0002\\u200b' holds U+200B ZERO WIDTH SPACE "
        "(a format character) at position 8; a serial may not hold control or format "
        "characters: they print as nothing or reorder what follows, so two serials would print "
        "alike. Scan it again or type it without that character"
    )


@pytest.mark.parametrize(
    ("raw", "code_point"),
    [
        ("\u202eLAIRES", "U+202E RIGHT-TO-LEFT OVERRIDE"),  # prints as SERIAL
        ("SP\u200d0002", "U+200D ZERO WIDTH JOINER"),
        ("SP-\u00000002", "U+0000 NULL"),
        ("SP-0002\x1b", "U+001B ESCAPE"),
        ("SP\u20280002", "U+2028 LINE SEPARATOR"),
        ("SP-\ue0000002", "U+E000 <private use>"),
    ],
)
def test_s4_control_format_and_separator_characters_are_refused(raw: str, code_point: str) -> None:
    with rejects("serial.invalid_character", "S4") as check:
        clean_serial(raw, LABEL)
    assert f"holds {code_point}" in check.message


def test_s4_a_serial_longer_than_the_column_once_normalised_is_refused() -> None:
    # U+FDFA is one character that NFKC writes as 18.
    with rejects("serial.too_long", "S4") as check:
        clean_serial("\ufdfa" * 6, LABEL)
    assert "is 108 characters long once normalised; a serial has at most 100" in check.message
    assert len(clean_serial("\ufdfa" * 5, LABEL)) == 90


def test_s4_scan_stream_pieces_are_normalised_and_checked() -> None:
    assert collect_serials([], "\uff21\uff11\r\nB2\t", [], LABEL) == ["A1", "B2"]
    with rejects("serial.invalid_character", "S4") as check:
        collect_serials([], "A1\nA1\u200b\n", [], LABEL)
    assert "serial 'A1\\u200b' holds U+200B ZERO WIDTH SPACE" in check.message


def test_s5_serials_that_print_alike_are_one_serial() -> None:
    with rejects("serial.duplicate", "S5"):
        collect_serials(["SP-0002", "\uff33\uff30-0002"], "", [], LABEL)
    with rejects("serial.duplicate", "S5"):
        collect_serials(["SP-0002"], "", [ScanStep("SP\uff0d0002", "add")], LABEL)
    assert collect_serials(["SP-0002"], "", [ScanStep("\uff33P-0002", "remove")], LABEL) == []


def test_s4_scan_stream_splits_on_enter_and_tab() -> None:
    assert split_scan_stream("SP-0001\nSP-0002\tSP-0003\r\nSP-0004\rSP-0005\n") == [
        "SP-0001",
        "SP-0002",
        "SP-0003",
        "SP-0004",
        "SP-0005",
    ]


def test_s4_scans_add_and_remove_in_order() -> None:
    scans = [
        ScanStep("MP-100", "add"),
        ScanStep("MP-999", "add"),
        ScanStep("MP-999", "remove"),
        ScanStep("MP-101", "add"),
    ]
    assert apply_scans([], scans, LABEL) == ["MP-100", "MP-101"]


def test_s4_removing_a_serial_not_in_the_set_is_an_error() -> None:
    with rejects("serial.remove_unknown", "S4") as check:
        apply_scans(["A"], [ScanStep("B", "remove")], LABEL)
    assert "cannot remove serial 'B': it was not scanned on this line" in check.message


def test_s4_serials_stream_and_scans_add_up() -> None:
    assert collect_serials(
        ["A"], "B\tC\n", [ScanStep("C", "remove"), ScanStep("D", "add")], LABEL
    ) == [
        "A",
        "B",
        "D",
    ]


def test_s5_same_serial_twice_on_one_line() -> None:
    with rejects("serial.duplicate", "S5") as check:
        collect_serials(["A", " A "], "", [], LABEL)
    assert "serial 'A' is registered twice" in check.message
    with rejects("serial.duplicate", "S5"):
        collect_serials(["A"], "", [ScanStep("A", "add")], LABEL)


def test_s5_same_serial_on_two_lines_of_one_document_for_the_same_item() -> None:
    with rejects("serial.duplicate", "S5") as check:
        check_unique_in_document([("line 1", "1000", ["A"]), ("line 2", "1000", ["A"])])
    assert check.message == "serial 'A' of item 1000 is on both line 1 and line 2"
    # Another item may carry the same serial text.
    check_unique_in_document([("line 1", "1000", ["A"]), ("line 2", "M0001", ["A"])])


def test_s2_registrations_must_equal_the_quantity() -> None:
    with rejects("serial.count_mismatch", "S2") as check:
        check_registration_count(Decimal(3), 2, False, "line 1 (item 1000)")
    assert check.message == (
        "line 1 (item 1000): 2 serial registrations for quantity 3; register one serial or a "
        "not-readable blank per unit"
    )
    check_registration_count(Decimal(3), 3, False, LABEL)


def test_s2_blank_issue_allowed_accepts_fewer() -> None:
    check_registration_count(Decimal(3), 0, True, LABEL)
    check_registration_count(Decimal(3), 2, True, LABEL)


@pytest.mark.parametrize("blank_issue_allowed", [False, True])
def test_s3_more_registrations_than_quantity_never_post(blank_issue_allowed: bool) -> None:
    with rejects("serial.too_many", "S3") as check:
        check_registration_count(Decimal(2), 3, blank_issue_allowed, LABEL)
    assert "3 serial registrations for quantity 2; more registrations than units" in check.message


def test_s2_serialized_quantity_must_be_whole() -> None:
    with rejects("serial.quantity_not_whole", "S2") as check:
        require_whole_quantity(Decimal("1.5"), LABEL)
    assert "quantity 1.5 is not whole" in check.message
    require_whole_quantity(Decimal("2.000"), LABEL)


def test_s6_blank_needs_the_duty() -> None:
    with rejects("serial.blank_not_allowed", "S6") as check:
        check_blank_duty(1, False, "erp", LABEL)
    assert "actor 'erp' may not register not-readable serials" in check.message
    check_blank_duty(1, True, "warehouse-1", LABEL)
    check_blank_duty(0, False, "erp", LABEL)


def test_s2_s3_s6_line_registrations_are_checked_in_that_order() -> None:
    """A posting line that breaks several of S2 (whole), S3 (too many) and S6 (blank duty) is
    refused for the first."""
    no_duty = BlankPermission("erp", held=False)
    with rejects("serial.quantity_not_whole", "S2"):
        check_line_registrations(Decimal("1.5"), SerialEntry(["A", "B"], 1), False, no_duty, LABEL)
    with rejects("serial.too_many", "S3"):
        check_line_registrations(Decimal(2), SerialEntry(["A", "B"], 1), True, no_duty, LABEL)
    with rejects("serial.count_mismatch", "S2"):
        check_line_registrations(Decimal(3), SerialEntry(["A"], 1), False, no_duty, LABEL)
    with rejects("serial.blank_not_allowed", "S6") as check:
        check_line_registrations(Decimal(2), SerialEntry(["A"], 1), False, no_duty, LABEL)
    assert "actor 'erp' may not register" in check.message
    # Negative controls: the same lines with the duty, or without a blank, pass.
    may_blank = BlankPermission("warehouse-1", held=True)
    check_line_registrations(Decimal(2), SerialEntry(["A"], 1), False, may_blank, LABEL)
    check_line_registrations(Decimal(3), SerialEntry(["A"], 0), True, no_duty, LABEL)


def test_s12_s2_no_serials_on_an_item_without_sales_serials() -> None:
    with rejects("serial.catch_weight", "S12") as check:
        check_no_registrations(1, True, "M0001", LABEL)
    assert check.message == (
        f"{LABEL}: catch-weight items never get serial numbers in the sales process"
    )
    with rejects("serial.not_serialized", "S2") as check:
        check_no_registrations(2, False, "M0001", LABEL)
    assert check.message == (
        f"{LABEL}: item M0001 has no serials in the sales process; send the line without serials"
    )
    # Negative control: without serials or blanks either item is fine.
    check_no_registrations(0, True, "M0001", LABEL)
    check_no_registrations(0, False, "M0001", LABEL)


def test_s8_seed_example_one_from_each_of_three_packing_slips_is_rejected() -> None:
    with rejects("serial.partial_packing_slips", "S8") as check:
        check_packing_slip_coverage({"PS-1": (1, 2), "PS-2": (1, 2), "PS-3": (1, 2)})
    assert "packing slips PS-1, PS-2, PS-3" in check.message


def test_s8_seed_example_first_in_full_and_one_of_the_second_is_accepted() -> None:
    check_packing_slip_coverage({"PS-1": (2, 2), "PS-2": (1, 2), "PS-3": (0, 2)})


def test_s13_pos_serialized_line_is_one_unit_with_its_serial() -> None:
    with rejects("serial.pos_quantity", "S13"):
        check_pos_line(Decimal(2), True, False, LABEL)
    with rejects("serial.pos_missing", "S13") as check:
        check_pos_line(Decimal(1), False, False, LABEL)
    assert "scan its serial (or mark it not readable) before the sale is posted" in check.message
    with rejects("serial.pos_both", "S13"):
        check_pos_line(Decimal(1), True, True, LABEL)
    check_pos_line(Decimal(1), True, False, LABEL)
    check_pos_line(Decimal(1), False, True, LABEL)


serial_text = st.text(alphabet="ABC123-", min_size=1, max_size=4)


@given(st.lists(st.tuples(serial_text, st.sampled_from(["add", "remove"])), max_size=30))
def test_s4_scan_algebra_matches_a_set_model(steps: list[tuple[str, str]]) -> None:
    """Applying scans equals the set model: add inserts (twice is S5), remove deletes (a
    missing one is S4)."""
    model: list[str] = []
    expected_error = None
    for value, mode in steps:
        if mode == "add":
            if value in model:
                expected_error = "serial.duplicate"
                break
            model.append(value)
        else:
            if value not in model:
                expected_error = "serial.remove_unknown"
                break
            model.remove(value)
    try:
        result = apply_scans([], [ScanStep(v, m) for v, m in steps], LABEL)
    except Rejection as rejection:
        assert rejection.code == expected_error
    else:
        assert expected_error is None
        assert result == model


@given(
    st.lists(serial_text, max_size=8),
    st.lists(serial_text, max_size=8),
    st.lists(st.tuples(serial_text, st.sampled_from(["add", "remove"])), max_size=12),
    st.integers(min_value=0, max_value=3),
)
def test_s3_the_early_count_is_exact_for_every_valid_line(
    serials: list[str], stream: list[str], steps: list[tuple[str, str]], blanks: int
) -> None:
    """S3 before any work (pipeline.contract.refuse_too_many_registrations): whenever a
    line's serial input is valid, registrations_given is its number of registrations, so
    refusing on it never refuses a line that could have been posted."""
    text = "\r\n".join(stream) + ("\t" if stream else "")
    try:
        collected = collect_serials(serials, text, [ScanStep(v, m) for v, m in steps], LABEL)
    except Rejection:
        return
    adds = sum(1 for _, mode in steps if mode == "add")
    assert len(collected) + blanks == registrations_given(
        len(serials), text, adds, len(steps) - adds, blanks
    )


def test_s3_the_early_count_of_a_stream_skips_empty_pieces() -> None:
    assert registrations_given(0, "A\r\n\r\nB\t \t", 0, 0, 0) == 2
    assert registrations_given(2, "", 3, 1, 1) == 5
    assert registrations_given(0, "", 0, 0, 0) == 0
