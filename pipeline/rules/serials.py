"""Serial number rules of the sales process (DOMAIN.md S2-S10, S13), as pure functions.

Inputs are plain values; every rejection names the line and item it concerns (`label`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.invoice_coverage import SlipUnits, check_coverage
from docpost.pipeline.rules.money import quantity_text
from docpost.pipeline.rules.text import find_unprintable, normalize_serial

MAX_SERIAL_LENGTH = 100  # the serial column's length

_STREAM_SEPARATORS = re.compile(r"[\r\n\t]")


def clean_serial(raw: str, label: str) -> str:
    """S4: a serial is the scanned text, NFKC-normalised and trimmed; an empty string is not a
    serial, and one holding a control or format character is refused, naming it, so two
    serials that print alike are always the same serial (S5)."""
    serial = normalize_serial(raw)
    if not serial:
        raise Rejection(
            "serial.empty",
            f"{label}: an empty serial number was given; scan or type the serial, "
            "or register a not-readable blank instead",
            rule="S4",
        )
    bad = find_unprintable(serial)
    if bad is not None:
        raise Rejection(
            "serial.invalid_character",
            f"{label}: serial {serial!r} {bad.describe()}; a serial may not hold control or "
            "format characters: they print as nothing or reorder what follows, so two "
            "serials would print alike. Scan it again or type it without that character",
            rule="S4",
            serial=serial,
            code_point=bad.code_point,
        )
    if len(serial) > MAX_SERIAL_LENGTH:
        # NFKC can lengthen a text (one ligature becomes several letters).
        raise Rejection(
            "serial.too_long",
            f"{label}: serial {serial[:20]!r}... is {len(serial)} characters long once "
            f"normalised; a serial has at most {MAX_SERIAL_LENGTH}",
            rule="S4",
        )
    return serial


def split_scan_stream(stream: str) -> list[str]:
    """S4: a scanner stream ends each serial with Enter (CR or LF) or TAB.

    CR LF and repeated separators produce empty pieces; those are not scans and are skipped.
    The pieces are raw: `clean_serial` normalises and checks each.
    """
    return [piece for piece in _STREAM_SEPARATORS.split(stream) if piece.strip()]


@dataclass(frozen=True)
class ScanStep:
    value: str
    mode: str  # "add" | "remove"


def apply_scans(current: Sequence[str], scans: Iterable[ScanStep], label: str) -> list[str]:
    """S4: apply add/remove scans in order to the serials collected so far.

    Linear in the serials and scans: a dict keeps the set in scan order (a removal is one
    deletion, not a search through a list)."""
    result = dict.fromkeys(current)
    for step in scans:
        serial = clean_serial(step.value, label)
        if step.mode == "add":
            if serial in result:
                raise duplicate_on_line(serial, label)
            result[serial] = None
        else:
            if serial not in result:
                raise Rejection(
                    "serial.remove_unknown",
                    f"{label}: cannot remove serial {serial!r}: it was not scanned on this line",
                    rule="S4",
                    serial=serial,
                )
            del result[serial]
    return list(result)


def duplicate_on_line(serial: str, label: str) -> Rejection:
    return Rejection(
        "serial.duplicate",
        f"{label}: serial {serial!r} is registered twice; each unit needs its own serial",
        rule="S5",
        serial=serial,
    )


def collect_serials(
    serials: Sequence[str], scan_stream: str, scans: Iterable[ScanStep], label: str
) -> list[str]:
    """All serials of one posting line, in the order given: the list, the stream, then the
    scans (which may remove what came before). S5: none twice. Linear: a set, not a list,
    answers "seen before?"."""
    collected: list[str] = []
    seen: set[str] = set()
    for raw in [*serials, *split_scan_stream(scan_stream)]:
        serial = clean_serial(raw, label)
        if serial in seen:
            raise duplicate_on_line(serial, label)
        seen.add(serial)
        collected.append(serial)
    return apply_scans(collected, scans, label)


def registrations_given(
    serials: int, stream: str, adds: int, removes: int, not_readable: int
) -> int:
    """S3 before any work: how many registrations a posting line holds if its serial input is
    valid at all. Each listed serial and stream piece is one, each add scan one more, each
    remove one less (an add of a serial already there, or a remove of one not there, is
    refused anyway), each not-readable blank one. Counts; nothing is normalised."""
    pieces = sum(1 for piece in _STREAM_SEPARATORS.split(stream) if piece.strip()) if stream else 0
    return serials + pieces + adds - removes + not_readable


def require_whole_quantity(quantity: Decimal, label: str) -> None:
    """Each serialized unit carries one registration, so the quantity must be whole."""
    if quantity != quantity.to_integral_value():
        raise Rejection(
            "serial.quantity_not_whole",
            f"{label}: quantity {quantity_text(quantity)} is not whole; a serialized item is "
            "counted in whole units",
            rule="S2",
        )


def check_registration_count(
    quantity: Decimal, registrations: int, blank_issue_allowed: bool, label: str
) -> None:
    """S2 and S3: one registration per unit; fewer only with Blank issue allowed, more never."""
    if registrations > quantity:
        raise Rejection(
            "serial.too_many",
            f"{label}: {registrations} serial registrations for quantity "
            f"{quantity_text(quantity)}; more registrations than units can never be posted",
            rule="S3",
            registrations=registrations,
            quantity=quantity_text(quantity),
        )
    if registrations < quantity and not blank_issue_allowed:
        raise Rejection(
            "serial.count_mismatch",
            f"{label}: {registrations} serial registrations for quantity "
            f"{quantity_text(quantity)}; register one serial or a not-readable blank per unit",
            rule="S2",
            registrations=registrations,
            quantity=quantity_text(quantity),
        )


def check_blank_duty(blanks: int, has_duty: bool, actor: str, label: str) -> None:
    """S6: a not-readable blank needs the duty register_non_readable_serials (M5)."""
    if blanks and not has_duty:
        raise Rejection(
            "serial.blank_not_allowed",
            f"{label}: actor {actor!r} may not register not-readable serials; that needs the "
            "duty register_non_readable_serials",
            rule="S6",
        )


@dataclass(frozen=True)
class SerialEntry:
    """The serials and blanks one posting line registers."""

    serials: list[str]
    blanks: int

    @property
    def count(self) -> int:
        return len(self.serials) + self.blanks


def check_no_registrations(registrations: int, catch_weight: bool, item: str, label: str) -> None:
    """S12 for catch-weight items; otherwise S2: serials on an item without sales serials."""
    if not registrations:
        return
    if catch_weight:
        raise Rejection(
            "serial.catch_weight",
            f"{label}: catch-weight items never get serial numbers in the sales process",
            rule="S12",
        )
    raise Rejection(
        "serial.not_serialized",
        f"{label}: item {item} has no serials in the sales process; send the line without serials",
        rule="S2",
    )


@dataclass(frozen=True)
class BlankPermission:
    """Whether the actor of a request may register not-readable blanks (S6, M5)."""

    actor: str
    held: bool


def check_line_registrations(
    quantity: Decimal,
    entry: SerialEntry,
    blank_issue_allowed: bool,
    permission: BlankPermission,
    label: str,
) -> None:
    """S2, S3, S6 for the serials and blanks a posting line registers, in that order."""
    require_whole_quantity(quantity, label)
    check_registration_count(quantity, entry.count, blank_issue_allowed, label)
    check_blank_duty(entry.blanks, permission.held, permission.actor, label)


def check_unique_in_document(lines: Iterable[tuple[str, str, Sequence[str]]]) -> None:
    """S5: the same serial on two lines of one document for the same item is rejected.

    `lines` holds (label, item, serials) per document line.
    """
    seen: dict[tuple[str, str], str] = {}
    for label, item, serials in lines:
        for serial in serials:
            first = seen.setdefault((item, serial), label)
            if first != label:
                raise Rejection(
                    "serial.duplicate",
                    f"serial {serial!r} of item {item} is on both {first} and {label}",
                    rule="S5",
                    serial=serial,
                )


def check_packing_slip_coverage(selection: dict[str, tuple[int, int]]) -> None:
    """S8 from per packing slip totals: `selection` maps packing slip -> (serialized units
    selected, serialized units not yet invoiced, counted over all its lines). The rule itself,
    with what each packing slip leaves out per line, is rules.invoice_coverage.check_coverage."""
    check_coverage(
        [
            SlipUnits(ps, {"its lines": open_units}, {"its lines": chosen})
            for ps, (chosen, open_units) in selection.items()
        ],
        {},
    )


def check_pos_line(quantity: Decimal, has_serial: bool, not_readable: bool, label: str) -> None:
    """S13: each serialized POS line is one unit and needs its serial (or a blank)."""
    if quantity != 1:
        raise Rejection(
            "serial.pos_quantity",
            f"{label}: a serialized item is sold at the point of sale one unit per line; "
            f"got quantity {quantity_text(quantity)}",
            rule="S13",
        )
    if has_serial and not_readable:
        raise Rejection(
            "serial.pos_both",
            f"{label}: give either the serial or not_readable, not both",
            rule="S13",
        )
    if not has_serial and not not_readable:
        raise Rejection(
            "serial.pos_missing",
            f"{label}: the item is serialized; scan its serial (or mark it not readable) "
            "before the sale is posted",
            rule="S13",
        )


# --- S9: correcting a registered serial ----------------------------------------------------


@dataclass(frozen=True)
class SerialLine:
    """The sales line whose serial is corrected, as S9 reads it."""

    label: str
    item: str
    serialized: bool
    corrected_by_negative_quantity: bool


@dataclass(frozen=True)
class RegisteredSerial:
    """One registration on the sales line that is not credited: its serial (None for a
    not-readable blank) and whether its unit is invoiced."""

    id: int
    serial: str | None
    invoiced: bool


@dataclass(frozen=True)
class SerialChangePlan:
    """Which registration a correction changes, from what to what (None: a blank)."""

    registration_id: int
    old: str | None
    new: str | None


def plan_serial_change(
    line: SerialLine,
    old: str | None,
    new: str | None,
    registered: Sequence[RegisteredSerial],
    permission: BlankPermission,
) -> SerialChangePlan:
    """S9: change the serial `old` (None: a blank) on a sales line to `new` (None: make it a
    blank), checked in this order: the line (S9), both serials (S4), that they differ (S9),
    the duty for a blank (S6), the unit to change (S9), no serial twice on the line (S5).
    Whether `new` is sold elsewhere (S5 beyond) the database answers afterwards."""
    check_line_correctable(line)
    old, new = clean_change(old, new, line.label)
    if new is None:
        check_blank_duty(1, permission.held, permission.actor, line.label)
    registration = changeable_registration(registered, old, line.label)
    if new is not None and any(r.serial == new for r in registered):
        raise duplicate_on_line(new, line.label)
    return SerialChangePlan(registration.id, old, new)


def check_line_correctable(line: SerialLine) -> None:
    """S9: only a line of an item serialized in sales, and not one corrected by a negative
    quantity, has serials to correct."""
    if not line.serialized:
        raise Rejection(
            "serial.not_serialized",
            f"{line.label}: item {line.item} has no serials in the sales process",
            rule="S9",
        )
    if line.corrected_by_negative_quantity:
        raise Rejection(
            "serial.line_corrected",
            f"{line.label} was corrected by a negative quantity (a canceled packing slip); its "
            "serials can no longer be changed",
            rule="S9",
        )


def clean_change(old: str | None, new: str | None, label: str) -> tuple[str | None, str | None]:
    """S4 for both serials (None stays None: a blank), then S9: a change changes something."""
    cleaned_old = clean_serial(old, label) if old is not None else None
    cleaned_new = clean_serial(new, label) if new is not None else None
    if cleaned_old == cleaned_new:
        raise Rejection(
            "serial.unchanged",
            f"{label}: old and new serial are the same ({shown_serial(cleaned_old)})",
            rule="S9",
        )
    return cleaned_old, cleaned_new


def changeable_registration(
    registered: Sequence[RegisteredSerial], old: str | None, label: str
) -> RegisteredSerial:
    """S9: the first registration of `old` on the line whose unit is not invoiced."""
    matching = [r for r in registered if r.serial == old]
    if not matching:
        raise Rejection(
            "serial.not_found",
            f"{label}: no registration of serial {shown_serial(old)} to change",
            rule="S9",
        )
    for registration in matching:
        if not registration.invoiced:
            return registration
    raise Rejection(
        "serial.invoiced",
        f"{label}: serial {shown_serial(old)} is invoiced; invoiced units cannot be changed",
        rule="S9",
    )


def shown_serial(serial: str | None) -> str:
    """How an S9 message names a serial: quoted, or "not readable" for a blank."""
    return repr(serial) if serial else "not readable"
