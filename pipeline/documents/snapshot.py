"""What a document prints, read from the database into plain, frozen data.

This is the only part of the document code that talks to the database; ``view.py`` turns a
``JournalSnapshot`` into the reports view model without I/O.

Serials and revisions (S9, D6): a serial correction changes the registration in place and adds
a new revision of the packing slip PDF. To keep every revision showing the serials it was made
for, whenever it is rendered (a queue may render revision 1 after the correction happened, and
``docpost run`` renders everything at the end), revision r of a journal shows the serials as
posted plus the first r - 1 corrections made after the journal was posted; later corrections
are undone from the audit trail (``SerialChange``). Corrections made before the journal was
posted (a canceled packing slip's serial reused by the next one, S10) are part of what it
posted. Only packing slips ever get corrections after posting: invoiced and credited units
cannot be changed (S9) and a canceled packing slip's line is locked, so for every other
journal this rule simply prints the serials as they read now.

Parties (M6, M7, P3, P4, D6): every journal freezes the seller (the catalog's company) and the
buyer (its customer, with its document language) at posting (``journals.seller`` and ``buyer``,
written by services.journal.new_journal), so a document still pending when the catalog changes
them, and every later revision of a packing slip, prints the parties as they were posted.
Journals posted before they were kept (migration 0010: NULL) read the company and the customer
from master data as they are when rendered, as they always did. A seller frozen as {} was
posted by a catalog without a company: it prints the DOCPOST_COMPANY_* fallback, as then.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from docpost.schema import (
    Company,
    Customer,
    Document,
    Item,
    Journal,
    JournalLine,
    JournalLineSerial,
    PackingSlipInvoicing,
    SalesLine,
    SalesOrder,
    SerialChange,
    SerialRegistration,
)
from docpost.schema.company import COMPANY_ROW
from docpost.schema.journals import BUYER_FIELDS, SELLER_FIELDS


@dataclass(frozen=True)
class LineSnapshot:
    """One journal line as posted, with the serials it included (None = not readable)."""

    position: int
    line_no: int
    item_code: str
    item_name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal | None
    discount_percent: Decimal | None
    discount_amount: Decimal | None
    amount: Decimal | None
    bundle_line_no: int | None
    bundle_item_code: str | None
    bundle_item_name: str | None
    bom_quantity: Decimal | None
    is_bundle_parent: bool
    serials: tuple[str | None, ...]
    # T1: the tax the line was posted with (None on a journal posted without VAT).
    tax_code: str | None = None
    vat_category: str | None = None
    vat_rate: Decimal | None = None


@dataclass(frozen=True)
class PartySnapshot:
    """A party's address in parts and its numbers, compact as stored (M6, M7)."""

    address_lines: tuple[str, ...]
    postcode: str | None = None
    city: str | None = None
    country: str | None = None  # ISO 3166 alpha-2; None: the company's (M7)
    organisation_number: str | None = None
    vat_id: str | None = None
    peppol_endpoint: str | None = None  # M6, M7: scheme:identifier, for the e-invoice

    @property
    def has_parts(self) -> bool:
        """Loaded in parts (M7): an address that is only lines prints as it always did."""
        return any((self.postcode, self.city, self.country))


@dataclass(frozen=True)
class CompanySnapshot(PartySnapshot):
    """The catalog's company (M6), the seller printed on every document."""

    name: str = ""
    vat_registered: bool = False
    foretaksregisteret: bool = False
    bank_account: str | None = None
    iban: str | None = None
    bic: str | None = None
    currency: str | None = None  # the company currency (T7)


@dataclass(frozen=True)
class JournalSnapshot:
    kind: str
    number: str
    revision: int
    posting_date: dt.date
    currency: str
    order_no: str
    customer_code: str
    customer_name: str
    customer_address: str
    total_amount: Decimal | None
    reverses: str | None  # the journal a credit note or packing slip cancellation reverses
    packing_slips: tuple[str, ...]  # packing slips an invoice invoiced, oldest first
    bundle_units: dict[str, str]  # bundle item -> its unit (the journal keeps only the name)
    # bundle line -> the parent's (unit price, discount %, discount amount) as entered: the
    # parent line is frozen at confirmation (B3, B5), so the invoice prints what the
    # confirmation printed.
    bundle_prices: dict[int, tuple[Decimal, Decimal, Decimal]]
    lines: tuple[LineSnapshot, ...]
    # The customer's address in parts and numbers (M7); None: only `customer_address`.
    customer_party: PartySnapshot | None = None
    # Issue 15, what the journal froze at posting (D6): read from it, never from master data.
    tax: TaxSnapshot | None = None
    origin: str = "order"  # "pos": a point-of-sale receipt, its lines gross (T6)
    customer_language: str | None = None  # M7/P4: the document language when set
    # P3: the date of the invoice a credit note credits; the newest date of the packing slips
    # an invoice invoices (its delivery date).
    reverses_date: dt.date | None = None
    delivery_date: dt.date | None = None
    # M6/D6: the seller as posted (the company when rendered for a journal posted before
    # parties were frozen); None: no company, the DOCPOST_COMPANY_* fallback prints.
    company: CompanySnapshot | None = None


@dataclass(frozen=True)
class VatSnapshot:
    """One journal_vat row (T3, T7): a tax code's taxable amount and VAT, as posted."""

    tax_code: str
    category: str
    rate: Decimal
    taxable_amount: Decimal
    vat_amount: Decimal
    company_vat_amount: Decimal


@dataclass(frozen=True)
class TaxSnapshot:
    """The tax and payment fields of a journal (P1-P3, T3, T7), as posted."""

    document_date: dt.date | None
    vat_total: Decimal | None
    total: Decimal | None  # including VAT
    due_date: dt.date | None
    kid: str | None
    exchange_rate: Decimal | None
    buyer_reference: str | None
    vat: tuple[VatSnapshot, ...]


def load_company(session: Session) -> CompanySnapshot | None:
    """The catalog's company (M6) now, or None when the catalog has none (the USMF example)."""
    company = session.get(Company, COMPANY_ROW)
    return None if company is None else _company(_columns(company, SELLER_FIELDS))


def _company(seller: Mapping[str, Any]) -> CompanySnapshot | None:
    """The seller from its columns (schema.journals.SELLER_FIELDS): as frozen with a journal
    or as the company row has them, so both print alike; {}: no company."""
    if not seller:
        return None
    return CompanySnapshot(
        **_party_fields(seller, seller.get("address_lines") or ""),
        name=seller["name"],
        vat_registered=bool(seller.get("vat_registered")),
        foretaksregisteret=bool(seller.get("foretaksregisteret")),
        bank_account=seller.get("bank_account"),
        iban=seller.get("iban"),
        bic=seller.get("bic"),
        currency=seller.get("currency"),
    )


def _customer_party(buyer: Mapping[str, Any]) -> PartySnapshot:
    return PartySnapshot(
        **_party_fields(buyer, buyer.get("address") or ""), vat_id=buyer.get("vat_id")
    )


def _party_fields(party: Mapping[str, Any], address: str) -> dict[str, Any]:
    """What the company and a customer share (schema.company.PartyColumns), with the address
    lines as stored (joined by line feeds), blank ones left out."""
    return {
        "address_lines": tuple(line for line in address.splitlines() if line.strip()),
        "postcode": party.get("postcode"),
        "city": party.get("city"),
        "country": party.get("country"),
        "organisation_number": party.get("organisation_number"),
        "peppol_endpoint": party.get("peppol_endpoint"),
    }


def _columns(row: object, names: Sequence[str]) -> dict[str, Any]:
    """A master-data row's columns by name, as a journal freezes them (services.journal)."""
    return {name: getattr(row, name) for name in names}


def _parties(
    session: Session, journal: Journal
) -> tuple[CompanySnapshot | None, dict[str, Any] | None]:
    """D6: the seller and the buyer the journal froze at posting; for a journal posted before
    they were kept (NULL), master data as it is now (the module docstring). The buyer is None
    only for such a journal whose customer no longer exists (its code prints then)."""
    company = _company(journal.seller) if journal.seller is not None else load_company(session)
    if journal.buyer is not None:
        return company, journal.buyer
    customer = session.get(Customer, journal.customer_code)
    return company, None if customer is None else _columns(customer, BUYER_FIELDS)


def load_snapshot(session: Session, journal: Journal, revision: int = 1) -> JournalSnapshot:
    line_ids = [ln.id for ln in journal.lines]
    serials = _serials_at_revision(session, journal, line_ids, revision)
    order_no = session.scalar(select(SalesOrder.order_no).where(SalesOrder.id == journal.order_id))
    company, buyer = _parties(session, journal)
    reverses = (
        session.scalar(select(Journal.number).where(Journal.id == journal.reverses_id))
        if journal.reverses_id is not None
        else None
    )
    bundle_codes = {ln.bundle_item_code for ln in journal.lines if ln.bundle_item_code}
    bundle_units = (
        dict(session.execute(select(Item.item, Item.unit).where(Item.item.in_(bundle_codes))).all())
        if bundle_codes
        else {}
    )
    bundle_line_nos = {ln.bundle_line_no for ln in journal.lines if ln.bundle_line_no is not None}
    bundle_prices = (
        {
            row.line_no: (row.unit_price, row.discount_percent, row.discount_amount)
            for row in session.execute(
                select(
                    SalesLine.line_no,
                    SalesLine.unit_price,
                    SalesLine.discount_percent,
                    SalesLine.discount_amount,
                ).where(
                    SalesLine.order_id == journal.order_id, SalesLine.line_no.in_(bundle_line_nos)
                )
            )
        }
        if bundle_line_nos
        else {}
    )
    packing_slips, delivery_date = (
        _invoiced_packing_slips(session, line_ids) if journal.kind == "invoice" else ((), None)
    )
    return JournalSnapshot(
        kind=journal.kind,
        number=journal.number,
        revision=revision,
        posting_date=journal.posting_date,
        currency=journal.currency,
        order_no=order_no or "",
        customer_code=journal.customer_code,
        customer_name=buyer["name"] if buyer else journal.customer_code,
        customer_address=(buyer.get("address") or "") if buyer else "",
        total_amount=journal.total_amount,
        reverses=reverses,
        packing_slips=packing_slips,
        bundle_units=bundle_units,
        bundle_prices=bundle_prices,
        lines=tuple(_line(ln, tuple(serials.get(ln.id, ()))) for ln in journal.lines),
        customer_party=_customer_party(buyer) if buyer else None,
        tax=_tax(journal),
        origin=session.scalar(select(SalesOrder.origin).where(SalesOrder.id == journal.order_id))
        or "order",
        customer_language=buyer.get("language") if buyer else None,
        reverses_date=_journal_date(journal.reverses) if journal.reverses is not None else None,
        delivery_date=delivery_date,
        company=company,
    )


def _journal_date(journal: Journal) -> dt.date:
    """The document date (P1) a journal was posted with, else its posting date."""
    return journal.document_date or journal.posting_date


def _tax(journal: Journal) -> TaxSnapshot:
    """The journal's tax fields and VAT rows, as posted: the snapshots name them as the
    journal does, so they are copied by name."""
    return TaxSnapshot(
        **_copied(journal, TaxSnapshot, skip="vat"),
        vat=tuple(VatSnapshot(**_copied(row, VatSnapshot)) for row in journal.vat),
    )


def _copied(row: object, snapshot: type, skip: str = "") -> dict[str, Any]:
    return {f.name: getattr(row, f.name) for f in fields(snapshot) if f.name != skip}


def latest_revision(session: Session, journal: Journal) -> int:
    return (
        session.scalar(select(func.max(Document.revision)).where(Document.journal_id == journal.id))
        or 1
    )


def _line(line: JournalLine, serials: tuple[str | None, ...]) -> LineSnapshot:
    return LineSnapshot(
        position=line.position,
        line_no=line.line_no,
        item_code=line.item_code,
        item_name=line.item_name,
        unit=line.unit,
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        discount_amount=line.discount_amount,
        amount=line.amount,
        bundle_line_no=line.bundle_line_no,
        bundle_item_code=line.bundle_item_code,
        bundle_item_name=line.bundle_item_name,
        bom_quantity=line.bom_quantity,
        is_bundle_parent=line.is_bundle_parent,
        serials=serials,
        tax_code=line.tax_code,
        vat_category=line.vat_category,
        vat_rate=line.vat_rate,
    )


def _serials_at_revision(
    session: Session, journal: Journal, line_ids: list[int], revision: int
) -> dict[int, list[str | None]]:
    """Per journal line, its serials as revision `revision` shows them (module docstring)."""
    if not line_ids:
        return {}
    rows = session.execute(
        select(JournalLineSerial.journal_line_id, SerialRegistration.id, SerialRegistration.serial)
        .join(SerialRegistration, SerialRegistration.id == JournalLineSerial.registration_id)
        .where(JournalLineSerial.journal_line_id.in_(line_ids))
        .order_by(JournalLineSerial.journal_line_id, SerialRegistration.id)
    ).all()
    serial_of: dict[int, str | None] = {reg_id: serial for _, reg_id, serial in rows}
    if serial_of:
        changes = session.scalars(
            select(SerialChange)
            .where(SerialChange.registration_id.in_(list(serial_of)))
            .order_by(SerialChange.id)
        ).all()
        since_posting = [c for c in changes if c.changed_at >= journal.posted_at]
        for change in reversed(since_posting[max(revision - 1, 0) :]):
            serial_of[change.registration_id] = change.old_serial
    result: dict[int, list[str | None]] = defaultdict(list)
    for line_id, reg_id, _ in rows:
        result[line_id].append(serial_of[reg_id])
    return dict(result)


def _invoiced_packing_slips(
    session: Session, invoice_line_ids: list[int]
) -> tuple[tuple[str, ...], dt.date | None]:
    """The packing slips an invoice invoiced, oldest first, and its delivery date (P3): the
    newest of their dates (None when it invoices none: the invoice date is printed then)."""
    if not invoice_line_ids:
        return (), None
    rows = session.execute(
        select(Journal.id, Journal.number, Journal.document_date, Journal.posting_date)
        .join(JournalLine, JournalLine.journal_id == Journal.id)
        .join(PackingSlipInvoicing, PackingSlipInvoicing.packing_slip_line_id == JournalLine.id)
        .where(PackingSlipInvoicing.invoice_line_id.in_(invoice_line_ids))
        .distinct()
        .order_by(Journal.id)
    ).all()
    delivered = max((row.document_date or row.posting_date for row in rows), default=None)
    return tuple(row.number for row in rows), delivered
