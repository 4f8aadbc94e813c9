"""Correcting a registered serial (DOMAIN.md S9, with the S4, S5 and S6 checks it applies):
rules.serials.plan_serial_change, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.serials import (
    BlankPermission,
    RegisteredSerial,
    SerialChangePlan,
    SerialLine,
    plan_serial_change,
)

LABEL = "order SO-1 line 1 (item 1000)"
LINE = SerialLine(LABEL, "1000", serialized=True, corrected_by_negative_quantity=False)
MAY_BLANK = BlankPermission("warehouse-1", held=True)
NO_BLANK = BlankPermission("erp", held=False)
SHIPPED = [
    RegisteredSerial(1, "A", invoiced=True),
    RegisteredSerial(2, "B", invoiced=False),
    RegisteredSerial(3, None, invoiced=False),
]


def refused(
    old: str | None,
    new: str | None,
    registered: list[RegisteredSerial] = SHIPPED,
    line: SerialLine = LINE,
    permission: BlankPermission = MAY_BLANK,
) -> Rejection:
    with pytest.raises(Rejection) as caught:
        plan_serial_change(line, old, new, registered, permission)
    return caught.value


def test_s9_a_serial_of_a_unit_not_invoiced_is_changed() -> None:
    plan = plan_serial_change(LINE, "B", "C", SHIPPED, NO_BLANK)
    assert plan == SerialChangePlan(registration_id=2, old="B", new="C")


def test_s9_s6_a_blank_is_filled_in_once_readable() -> None:
    """S6: "If the number becomes readable later, S9 fills it in" (no duty needed for that)."""
    assert plan_serial_change(LINE, None, "C", SHIPPED, NO_BLANK) == SerialChangePlan(3, None, "C")


def test_s9_item_without_sales_serials_has_none_to_change() -> None:
    line = SerialLine(LABEL, "1000", serialized=False, corrected_by_negative_quantity=False)
    error = refused("B", "C", line=line)
    assert (error.code, error.rule) == ("serial.not_serialized", "S9")
    assert error.message == f"{LABEL}: item 1000 has no serials in the sales process"


def test_s9_line_corrected_by_negative_quantity_keeps_its_serials() -> None:
    line = SerialLine(LABEL, "1000", serialized=True, corrected_by_negative_quantity=True)
    error = refused("B", "C", line=line)
    assert (error.code, error.rule) == ("serial.line_corrected", "S9")
    assert error.message == (
        f"{LABEL} was corrected by a negative quantity (a canceled packing slip); its serials "
        "can no longer be changed"
    )


def test_s9_invoiced_unit_cannot_be_changed() -> None:
    error = refused("A", "C")
    assert (error.code, error.rule) == ("serial.invoiced", "S9")
    assert error.message == f"{LABEL}: serial 'A' is invoiced; invoiced units cannot be changed"


def test_s9_unknown_serial_is_not_found() -> None:
    error = refused("Z", "C")
    assert (error.code, error.rule) == ("serial.not_found", "S9")
    assert error.message == f"{LABEL}: no registration of serial 'Z' to change"
    blank = refused(None, "C", registered=SHIPPED[:2])
    assert blank.message == f"{LABEL}: no registration of serial not readable to change"


def test_s9_old_and_new_the_same_is_no_change() -> None:
    error = refused("B", "B")
    assert (error.code, error.rule) == ("serial.unchanged", "S9")
    assert error.message == f"{LABEL}: old and new serial are the same ('B')"
    assert refused(None, None).message == (
        f"{LABEL}: old and new serial are the same (not readable)"
    )


def test_s9_s4_serials_compared_as_normalised() -> None:
    """S4: full-width "\uff22" is B: it names the registered B, and B to "\uff22 " is no change."""
    assert plan_serial_change(LINE, "\uff22", "C", SHIPPED, NO_BLANK) == SerialChangePlan(
        2, "B", "C"
    )
    assert refused("B", "\uff22 ").code == "serial.unchanged"


def test_s9_s4_new_serial_is_checked_like_a_scanned_one() -> None:
    error = refused("B", "  ")
    assert (error.code, error.rule) == ("serial.empty", "S4")
    error = refused("B", "C\u200b")
    assert (error.code, error.rule) == ("serial.invalid_character", "S4")


def test_s9_s6_changing_to_a_blank_needs_the_duty() -> None:
    error = refused("B", None, permission=NO_BLANK)
    assert (error.code, error.rule) == ("serial.blank_not_allowed", "S6")
    assert "actor 'erp' may not register not-readable serials" in error.message
    # Negative control: the same change by an actor with the duty is planned.
    assert plan_serial_change(LINE, "B", None, SHIPPED, MAY_BLANK) == SerialChangePlan(2, "B", None)


def test_s9_s5_new_serial_already_on_the_line_is_a_duplicate() -> None:
    """S5: A is on the line (invoiced, but still its serial), so B cannot become A."""
    error = refused("B", "A")
    assert (error.code, error.rule) == ("serial.duplicate", "S5")
    assert error.details == {"serial": "A"}


def test_s9_the_first_unit_not_invoiced_is_changed() -> None:
    """Two blanks, the first invoiced: the second is the one filled in."""
    registered = [RegisteredSerial(7, None, True), RegisteredSerial(8, None, False)]
    assert plan_serial_change(LINE, None, "C", registered, NO_BLANK).registration_id == 8
    registered = [RegisteredSerial(7, None, False), RegisteredSerial(8, None, False)]
    assert plan_serial_change(LINE, None, "C", registered, NO_BLANK).registration_id == 7


def test_s9_checks_run_in_their_order() -> None:
    """A request that breaks several rules is refused for the first: the line (S9), the serials
    (S4), no change (S9), the blank duty (S6), the unit (S9), the duplicate (S5)."""
    corrected = SerialLine(LABEL, "1000", serialized=True, corrected_by_negative_quantity=True)
    assert refused(" ", " ", line=corrected).code == "serial.line_corrected"
    assert refused(" ", "Z").code == "serial.empty"
    assert refused("Z", "Z").code == "serial.unchanged"
    assert refused("Z", None, permission=NO_BLANK).code == "serial.blank_not_allowed"
    assert refused("Z", "A").code == "serial.not_found"
    assert refused("A", "B").code == "serial.invoiced"


serial = st.one_of(st.none(), st.sampled_from(["A", "B", "C"]))


@given(
    st.lists(st.tuples(serial, st.booleans()), max_size=6),
    serial,
    serial,
    st.booleans(),
)
def test_s9_property_plan_matches_a_model(
    registered: list[tuple[str | None, bool]], old: str | None, new: str | None, duty: bool
) -> None:
    """Whatever is registered: the plan changes the first matching unit not invoiced, and
    every refusal is the first rule the model finds broken."""
    units = [RegisteredSerial(i, s, invoiced) for i, (s, invoiced) in enumerate(registered)]
    matching = [u for u in units if u.serial == old]
    open_units = [u for u in matching if not u.invoiced]
    if old == new:
        expected = "serial.unchanged"
    elif new is None and not duty:
        expected = "serial.blank_not_allowed"
    elif not matching:
        expected = "serial.not_found"
    elif not open_units:
        expected = "serial.invoiced"
    elif new is not None and any(u.serial == new for u in units):
        expected = "serial.duplicate"
    else:
        expected = None
    try:
        plan = plan_serial_change(LINE, old, new, units, BlankPermission("a", duty))
    except Rejection as rejection:
        assert rejection.code == expected
    else:
        assert expected is None
        assert plan == SerialChangePlan(open_units[0].id, old, new)
