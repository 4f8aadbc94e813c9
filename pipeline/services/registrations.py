"""Serial registrations: gathering them from a posting line and guarding S5 across orders."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from docpost.pipeline.contract import PostingLineIn
from docpost.pipeline.errors import ClashRejection, Rejection
from docpost.pipeline.rules.serials import (
    BlankPermission,
    ScanStep,
    SerialEntry,
    check_line_registrations,
    check_no_registrations,
    clean_serial,
    collect_serials,
)
from docpost.pipeline.rules.text import normalize_serial
from docpost.pipeline.services.lines import line_label
from docpost.pipeline.uow import REGISTER_NON_READABLE, UnitOfWork
from docpost.schema import (
    Journal,
    JournalLine,
    JournalLineSerial,
    SalesLine,
    SalesOrder,
    SerialRegistration,
)

ACTIVE_SERIAL_INDEX = "uq_serial_registrations_active_serial"


def read_serial_input(line: SalesLine, line_in: PostingLineIn) -> SerialEntry:
    """S4: serials, scan stream and scans of one request line, cleaned and applied."""
    label = line_label(line)
    serials = collect_serials(
        line_in.serials,
        line_in.scan_stream,
        (ScanStep(s.value, s.mode) for s in line_in.scans),
        label,
    )
    return SerialEntry(serials, line_in.not_readable)


def pos_serials(raw: str | None, label: str) -> list[str]:
    """S4 at the point of sale: the line's one serial, normalised and checked; none when the
    field is left out or blank (S13 then asks for the serial or a not-readable blank)."""
    if raw is None or not normalize_serial(raw):
        return []
    return [clean_serial(raw, label)]


def reject_serials_on_plain_item(line: SalesLine, entry: SerialEntry) -> None:
    """S12 and S2 (rules.serials) for a line whose item has no sales serials."""
    if entry.count:  # the label only for a line that is refused: most lines have no serials
        check_no_registrations(
            entry.count, line.item.catch_weight, line.item_code, line_label(line)
        )


def check_new_registrations(
    uow: UnitOfWork, line: SalesLine, quantity: Decimal, entry: SerialEntry
) -> None:
    """S2, S3, S6 (rules.serials) for serials registered by this posting line."""
    permission = BlankPermission(uow.actor_name, uow.has_duty(REGISTER_NON_READABLE))
    check_line_registrations(
        quantity, entry, line.item.blank_issue_allowed, permission, line_label(line)
    )


def holder_of(session: Session, item: str, serial: str) -> str | None:
    """The document a serial of an item is active on, if any (S5)."""
    registration = session.scalars(
        select(SerialRegistration).where(
            SerialRegistration.item_code == item,
            SerialRegistration.serial == serial,
            SerialRegistration.active.is_(True),
        )
    ).first()
    if registration is None:
        return None
    line_id = registration.invoice_line_id or registration.packing_slip_line_id
    journal = session.scalar(
        select(Journal)
        .join(JournalLine, JournalLine.journal_id == Journal.id)
        .where(JournalLine.id == line_id)
    )
    if journal is None:
        return None
    order_no = session.scalar(select(SalesOrder.order_no).where(SalesOrder.id == journal.order_id))
    kind = journal.kind.replace("_", " ")
    return f"{kind} {journal.number} (order {order_no})"


@dataclass(frozen=True)
class WantedSerials:
    """Serials one posting line wants to activate, as plain values (they outlive the session's
    objects when a clash rolls the transaction back)."""

    label: str
    item_code: str
    serials: Sequence[str]


def taken_serial(
    session: Session, wanted: WantedSerials, own: Sequence[int] = ()
) -> Rejection | None:
    """S5: the first of the wanted serials already active elsewhere, as its rejection."""
    if not wanted.serials:
        return None
    taken = session.scalars(
        select(SerialRegistration).where(
            SerialRegistration.item_code == wanted.item_code,
            SerialRegistration.serial.in_(list(wanted.serials)),
            SerialRegistration.active.is_(True),
        )
    ).all()
    for registration in taken:
        if registration.id in own:
            continue
        assert registration.serial is not None
        return in_use(session, wanted.label, wanted.item_code, registration.serial)
    return None


def check_not_in_use(
    uow: UnitOfWork, line: SalesLine, serials: Iterable[str], own: Sequence[int] = ()
) -> None:
    """S5 (beyond): a serial already on another posted, not reversed, not credited packing
    slip or invoice line is rejected, naming that document. `own` are registration ids this
    posting carries forward (a packing slip's serials on its invoice)."""
    wanted = WantedSerials(line_label(line), line.item_code, list(serials))
    rejection = taken_serial(uow.session, wanted, own)
    if rejection is not None:
        raise rejection


def in_use(session: Session, label: str, item_code: str, serial: str) -> Rejection:
    holder = holder_of(session, item_code, serial) or "another document"
    return Rejection(
        "serial.in_use",
        f"{label}: serial {serial!r} of item {item_code} is already on "
        f"{holder}; a serial can be sold only once",
        rule="S5",
        serial=serial,
    )


def link_to_journal_line(
    uow: UnitOfWork, journal_line: JournalLine, registrations: Iterable[SerialRegistration]
) -> None:
    """Record that a journal line included these registrations (the S11 inquiry reads it)."""
    uow.session.add_all(
        JournalLineSerial(journal_line_id=journal_line.id, registration_id=registration.id)
        for registration in registrations
    )


@contextmanager
def guarded_activation(
    uow: UnitOfWork, lines_serials: Sequence[tuple[SalesLine, Sequence[str]]]
) -> Iterator[None]:
    """Activate registrations inside this block; it ends by writing them. The database's unique
    index has the last word when another order took the same serial at the same moment (S5):
    the clash aborts this transaction, and the rejection that names the document that won is
    worked out once it has rolled back (no savepoint on the way of every posting)."""
    wanted = [
        WantedSerials(line_label(line), line.item_code, list(serials))
        for line, serials in lines_serials
    ]
    try:
        yield  # the block may write them itself (journal_rows): its clash is caught too
        uow.session.flush()
    except IntegrityError as exc:
        if ACTIVE_SERIAL_INDEX not in str(exc.orig):
            raise
        raise ClashRejection(
            "serial.in_use",
            "a serial of this posting was sold by another posting at the same moment",
            partial(_the_winner, wanted),
            rule="S5",
        ) from None


def _the_winner(wanted: Sequence[WantedSerials], session: Session) -> Rejection | None:
    for serials in wanted:
        rejection = taken_serial(session, serials)
        if rejection is not None:
            return rejection
    return None
