"""What packing slips, invoices and credit notes share: the journal a request names, targets,
full bundles (B7), and the serial registrations a posting line brings with it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from docpost.pipeline.contract import PostingLineIn
from docpost.pipeline.errors import Rejection
from docpost.pipeline.journal_rows import insert_rows, update_by_id
from docpost.pipeline.rules.bundles import BundleOnOrder, check_whole_bundles
from docpost.pipeline.rules.packing_slips import check_within_open
from docpost.pipeline.rules.payment import due_date, kid
from docpost.pipeline.rules.serials import check_unique_in_document
from docpost.pipeline.rules.tax import (
    GrossLine,
    LineTax,
    ReceiptPlan,
    TaxCode,
    TaxedLine,
    TaxRate,
    TaxTable,
    VatPlan,
    determine_tax,
    exchange_rate_for,
    in_company_currency,
    receipt_plan,
    vat_plan,
)
from docpost.pipeline.services.lines import line_label, reject_repeats, resolve_line
from docpost.pipeline.services.registrations import (
    SerialEntry,
    guarded_activation,
    read_serial_input,
    reject_serials_on_plain_item,
)
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import (
    Company,
    Customer,
    Journal,
    JournalLine,
    JournalLineSerial,
    JournalVat,
    SalesLine,
    SalesOrder,
    SerialRegistration,
)
from docpost.schema import TaxCode as TaxCodeRow

ZERO = Decimal(0)


@dataclass
class Target:
    """One order line to post, with its quantity and the serials the request gave for it."""

    line: SalesLine
    quantity: Decimal
    entry: SerialEntry | None = None
    registrations: list[SerialRegistration] = field(default_factory=list)


def requested_targets(order: SalesOrder, lines: Sequence[PostingLineIn]) -> list[Target]:
    targets = []
    for line_in in lines:
        line = resolve_line(order, line_in.line, line_in.item)
        entry = read_serial_input(line, line_in) if line_in.has_serial_input else None
        if entry is not None and not line.item.serialized_in_sales:
            reject_serials_on_plain_item(line, entry)
        targets.append(Target(line, line_in.quantity, entry))
    reject_repeats(t.line for t in targets)
    check_unique_in_document(
        (line_label(t.line), t.line.item_code, t.entry.serials)
        for t in targets
        if t.entry is not None
    )
    return targets


def check_full_bundles(order: SalesOrder, targets: Sequence[Target], document: str) -> None:
    """B7: for each bundle on the document, every component's quantity / BOM quantity is the
    same whole number."""
    check_whole_bundles(bundles_on(order), {t.line.id: t.quantity for t in targets}, document)


def bundles_on(order: SalesOrder) -> list[BundleOnOrder]:
    """The order's bundles with their components, in the order's line order (B7's input)."""
    components: dict[int, list[tuple[int, str, Decimal]]] = defaultdict(list)
    for line in order.lines:
        if line.bundle_parent_id is not None:
            components[line.bundle_parent_id].append(
                (line.id, line.item_code, line.bom_quantity or Decimal(1))
            )
    return [
        BundleOnOrder(
            f"order {order.order_no} line {parent.line_no} (bundle {parent.item_code})",
            tuple(components[parent.id]),
        )
        for parent in order.lines
        if parent.id in components
    ]


def open_targets(order: SalesOrder, document: str) -> list[Target]:
    """Without lines in the request: every open line's quantity not yet shipped or invoiced."""
    targets = [
        Target(ln, ln.open_to_deliver)
        for ln in order.lines
        if ln.status == "open" and ln.open_to_deliver > 0
    ]
    if not targets:
        raise nothing_to_post(order, document)
    return targets


def check_open_to_deliver(target: Target, document: str) -> None:
    check_within_open(
        line_label(target.line), document, target.quantity, target.line.open_to_deliver
    )


def nothing_to_post(order: SalesOrder, document: str) -> Rejection:
    return Rejection(
        "order.nothing_to_post",
        f"order {order.order_no} has no open quantity for a {document}",
    )


def posted_journal(uow: UnitOfWork, kind: str, number: str) -> Journal:
    """The journal a request names, which must be of `kind` ("invoice", "packing_slip")."""
    journal = uow.session.scalars(select(Journal).where(Journal.number == number)).one_or_none()
    if journal is None or journal.kind != kind:
        raise Rejection(f"{kind}.unknown", f"there is no {kind.replace('_', ' ')} {number!r}")
    return journal


def lock_order_of(uow: UnitOfWork, journal: Journal) -> SalesOrder:
    """The order a posted journal belongs to, locked as every posting locks its order."""
    order_no = uow.session.scalar(
        select(SalesOrder.order_no).where(SalesOrder.id == journal.order_id)
    )
    return uow.lock_order(order_no or "")


def insert_registrations(
    uow: UnitOfWork,
    targets: Sequence[Target],
    journal_lines: Sequence[JournalLine],
    line_column: str,
    guarded: Sequence[Target],
) -> None:
    """The registrations of each target become active on its journal line (`line_column`;
    lines written by `uow.insert_journal`), one statement per table (pipeline.journal_rows):
    new ones inserted so, those already stored (a canceled packing slip's, a packing slip's
    on its invoice) updated, then the journal lines' links to them (the S11 inquiry).
    `guarded`: the targets whose serials are new to the order, checked once more against
    concurrent sales (S5) while they become active: the unique index on active serials has
    the last word (guarded_activation)."""
    serials = [(t.line, [r.serial for r in t.registrations if r.serial]) for t in guarded]
    new: list[SerialRegistration] = []
    kept: list[SerialRegistration] = []
    kept_on: list[int] = []
    for target, journal_line in zip(targets, journal_lines, strict=True):
        for registration in target.registrations:
            if registration.id is None:
                setattr(registration, line_column, journal_line.id)
                registration.active = True
                new.append(registration)
            else:
                kept.append(registration)
                kept_on.append(journal_line.id)
    with guarded_activation(uow, serials):
        insert_rows(uow.session, new)
        update_by_id(uow.session, kept, {"active": [True] * len(kept), line_column: kept_on})
    insert_rows(
        uow.session,
        [
            JournalLineSerial(journal_line_id=journal_line.id, registration_id=registration.id)
            for target, journal_line in zip(targets, journal_lines, strict=True)
            for registration in target.registrations
        ],
    )


# --- tax and payment on invoices and credit notes (T1, T3, T7, P1, P2) -------------------------


@dataclass(frozen=True)
class TaxSetup:
    """What a posting reads of the company (M6) and tax codes (M8), once (a batch: once for
    all its invoices). `table` is None where no VAT is charged: a company not VAT registered,
    or a catalog without tax codes; its documents carry no VAT, as before issue 15."""

    company: Company
    table: TaxTable | None


def tax_setup(uow: UnitOfWork) -> TaxSetup | None:
    """None in a catalog without a company: documents carry no VAT, dates, KID nor due date.
    The company is the unit of work's: read once per request, and remembered when there is
    none too (a session forgets a row it did not find, and asked again)."""
    company = uow.company
    if company is None:
        return None
    codes = list(uow.session.scalars(select(TaxCodeRow).order_by(TaxCodeRow.code)))
    if not company.vat_registered or not codes:
        return TaxSetup(company, None)
    table = TaxTable(
        tuple(
            TaxCode(
                code.code,
                code.category,
                tuple(TaxRate(r.rate, r.valid_from) for r in code.rates),
                code.account,
                code.name,
            )
            for code in codes
        )
    )
    return TaxSetup(company, table)


def order_exchange_rate(setup: TaxSetup | None, order: SalesOrder) -> Decimal | None:
    """T7: the order's exchange rate where its currency is not the company's (refused when it
    has none: an order entered before the company was loaded)."""
    if setup is None:
        return None
    return exchange_rate_for(order.currency, setup.company.currency, order.exchange_rate)


def line_taxes(
    setup: TaxSetup | None, order: SalesOrder, lines: Sequence[SalesLine], date: dt.date
) -> list[LineTax] | None:
    """T1 for each order line a document posts: its own item's tax code (a bundle component's
    too, T4), mapped by the customer's treatment, at the rate on the document date. None
    where no VAT is charged."""
    if setup is None or setup.table is None:
        return None
    treatment = order.customer.tax_treatment
    return [
        determine_tax(setup.table, line.item_code, line.item.tax_code, treatment, date)
        for line in lines
    ]


def freeze_tax(
    journal: Journal,
    taxes: Sequence[LineTax],
    exchange_rate: Decimal | None,
    lines: Sequence[JournalLine] | None = None,
) -> VatPlan:
    """T1 frozen on the journal's lines, T3's breakdown and totals on the journal (in the
    company currency too, T7). Returns the plan the voucher posts (L1). `lines`: the lines
    `taxes` are for, when not all of them: a confirmation's bundle parent lines carry no tax,
    their components do (T4), so the parent's amount is not taxed twice."""
    taxed = journal.lines if lines is None else lines
    plan = vat_plan(
        TaxedLine(line.amount or ZERO, tax) for line, tax in zip(taxed, taxes, strict=True)
    )
    _record(journal, taxed, taxes, plan, exchange_rate)
    return plan


def freeze_receipt(
    journal: Journal, taxes: Sequence[LineTax], exchange_rate: Decimal | None
) -> ReceiptPlan:
    """T6: a point-of-sale journal's lines are gross (prices include VAT): each is split into
    net and VAT, the VAT per rate is the sum of its lines'; frozen as freeze_tax does."""
    receipt = receipt_plan(
        [
            GrossLine(line.amount or ZERO, tax)
            for line, tax in zip(journal.lines, taxes, strict=True)
        ]
    )
    _record(journal, journal.lines, taxes, receipt.vat, exchange_rate)
    return receipt


def _record(
    journal: Journal,
    lines: Sequence[JournalLine],
    taxes: Sequence[LineTax],
    plan: VatPlan,
    exchange_rate: Decimal | None,
) -> None:
    for line, tax in zip(lines, taxes, strict=True):
        line.tax_code, line.vat_category, line.vat_rate = tax.tax_code, tax.category, tax.rate
    company = in_company_currency(plan, exchange_rate) if exchange_rate else plan
    journal.exchange_rate = exchange_rate
    journal.vat_total, journal.total = plan.vat_total, plan.total
    parts = [
        (group, part, company_part)
        for group, company_group in zip(plan.groups, company.groups, strict=True)
        for part, company_part in zip(group.parts, company_group.parts, strict=True)
    ]
    journal.vat = [
        JournalVat(
            position=position,
            tax_code=part.tax_code,
            category=group.category,
            rate=group.rate,
            account=part.account,
            taxable_amount=part.taxable,
            vat_amount=part.vat,
            company_taxable_amount=company_part.taxable,
            company_vat_amount=company_part.vat,
        )
        for position, (group, part, company_part) in enumerate(parts, start=1)
    ]


def frozen_taxes(journal: Journal, lines: Sequence[JournalLine]) -> list[LineTax] | None:
    """The tax (T1) frozen on `lines` of `journal`, with the output VAT account each code's
    VAT went to on it (its VAT breakdown): what a credit note of them takes back (T5). None
    when the journal was posted without VAT."""
    account_of = {part.tax_code: part.account for part in journal.vat}
    taxes = []
    for line in lines:
        if line.tax_code is None or line.vat_category is None or line.vat_rate is None:
            return None
        taxes.append(
            LineTax(line.tax_code, line.vat_category, line.vat_rate, account_of.get(line.tax_code))
        )
    return taxes


def payment_details(setup: TaxSetup | None, journal: Journal, customer: Customer) -> None:
    """P1 and P2 on an invoice: its due date (the customer's terms, else the company's) and
    its KID by the company's scheme. Nothing without a company."""
    if setup is None or journal.document_date is None:
        return
    company = setup.company
    journal.due_date = due_date(
        journal.document_date, customer.payment_terms_days, company.payment_terms_days
    )
    journal.kid = kid(journal.number, company.kid_scheme)
