"""post_invoice: from packing slips (S7, S8), selecting serials, or directly (S1); B7, B8, L1."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.contract import PostInvoice
from docpost.pipeline.errors import Rejection
from docpost.pipeline.journal_rows import insert_rows, update_by_id
from docpost.pipeline.rules.invoice_coverage import SlipUnits, Taken, allocate, check_coverage
from docpost.pipeline.rules.money import quantity_text, share_of_amount
from docpost.pipeline.rules.packing_slips import standing_ids
from docpost.pipeline.rules.payment import document_date
from docpost.pipeline.rules.serials import check_registration_count, require_whole_quantity
from docpost.pipeline.rules.tax import LineTax, ReceiptPlan, VatPlan
from docpost.pipeline.services.journal import (
    Entry,
    add_line,
    draft_journal,
    insert_voucher,
    snapshot_line,
)
from docpost.pipeline.services.lines import line_label, require_exploded
from docpost.pipeline.services.posting import (
    Target,
    TaxSetup,
    check_full_bundles,
    check_open_to_deliver,
    freeze_receipt,
    freeze_tax,
    insert_registrations,
    line_taxes,
    open_targets,
    order_exchange_rate,
    payment_details,
    requested_targets,
    tax_setup,
)
from docpost.pipeline.services.registrations import (
    SerialEntry,
    check_new_registrations,
    check_not_in_use,
)
from docpost.pipeline.services.revenue import invoice_entries, pos_entries
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import (
    Journal,
    JournalLine,
    PackingSlipInvoicing,
    SalesLine,
    SalesOrder,
    SerialRegistration,
)

ZERO = Decimal(0)


@dataclass
class Portion:
    """The part of one packing slip line that is shipped and not yet invoiced."""

    packing_slip: str
    line: JournalLine
    open_quantity: Decimal
    open_registrations: list[SerialRegistration]
    taken: Decimal = ZERO


@dataclass
class InvoicePlan:
    target: Target
    portions: list[Portion] = field(default_factory=list)  # from packing slips
    direct: bool = False


def post_invoice(uow: UnitOfWork, cmd: PostInvoice) -> dict[str, Any]:
    uow.require_duties_of("post_invoice")
    order = uow.lock_order(cmd.order)
    require_exploded(order, "invoice")
    journal = invoice_order(uow, order, cmd)
    return {"journal": journal.number, "documents": uow.add_documents(journal, order.origin)}


def invoice_order(uow: UnitOfWork, order: SalesOrder, cmd: PostInvoice) -> Journal:
    standing = standing_packing_slips(uow, order)
    slips = named_packing_slips(uow, order, cmd.packing_slips, standing)
    shipped = open_shipments(uow, standing, slips)
    plans = plan_invoice(uow, order, cmd, shipped, slips)
    tax = plan_invoice_tax(tax_setup(uow), order, plans, cmd, uow.posting_date)
    return _write_invoice(uow, order, plans, tax)


@dataclass(frozen=True)
class InvoiceTax:
    """What an invoice takes of the company and tax codes, decided before anything is written
    (a batch leaves out an invoice refused here): its date (P1), the exchange rate (T7) and
    each line's tax (T1; None where no VAT is charged)."""

    setup: TaxSetup | None
    date: dt.date
    exchange_rate: Decimal | None
    taxes: list[LineTax] | None
    gross: bool = False  # a point-of-sale sale: prices include VAT (T6)


def plan_invoice_tax(
    setup: TaxSetup | None,
    order: SalesOrder,
    plans: Sequence[InvoicePlan],
    cmd: PostInvoice,
    today: dt.date,
) -> InvoiceTax:
    date = document_date(cmd.document_date, today)
    lines = [plan.target.line for plan in plans]
    return InvoiceTax(
        setup,
        date,
        order_exchange_rate(setup, order),
        line_taxes(setup, order, lines, date),
        gross=order.origin == "pos",
    )


def write_invoice_tax(
    journal: Journal, order: SalesOrder, tax: InvoiceTax
) -> VatPlan | ReceiptPlan | None:
    """T1, T3 and T7 frozen on the invoice just built, P1 and P2 on its header; the VAT plan
    its voucher posts (L1). None without VAT: then its voucher is as before issue 15, but in
    the company currency where the order has an exchange rate (T7)."""
    journal.buyer_reference = order.buyer_reference
    payment_details(tax.setup, journal, order.customer)
    if tax.taxes is not None and tax.gross:
        return freeze_receipt(journal, tax.taxes, tax.exchange_rate)
    if tax.taxes is not None:
        return freeze_tax(journal, tax.taxes, tax.exchange_rate)
    journal.exchange_rate = tax.exchange_rate
    if tax.exchange_rate is None:
        return None
    net = journal.total_amount or ZERO
    return VatPlan((), net, ZERO, net)


def plan_invoice(
    uow: UnitOfWork,
    order: SalesOrder,
    cmd: PostInvoice,
    shipped: dict[int, list[Portion]],
    slips: set[int] | None,
) -> list[InvoicePlan]:
    """What each line of the invoice takes, from which packing slips and registrations, with
    every rule checked (S1, S7, S8, B7). Reads nothing more when packing slips are named."""
    if cmd.lines is not None:
        targets = requested_targets(order, cmd.lines)
    elif shipped:
        by_id = {ln.id: ln for ln in order.lines}
        targets = [
            Target(by_id[line_id], sum((p.open_quantity for p in portions), ZERO))
            for line_id, portions in shipped.items()
        ]
    elif slips is not None:
        raise Rejection(
            "invoice.nothing_shipped",
            f"packing slips {', '.join(cmd.packing_slips or [])} of order {order.order_no} "
            "have nothing left to invoice",
            rule="S7",
        )
    else:
        targets = open_targets(order, "invoice")

    plans = _plan_targets(uow, order, targets, shipped, slips)
    check_full_bundles(order, targets, "invoice")
    return plans


def _plan_targets(
    uow: UnitOfWork,
    order: SalesOrder,
    targets: Sequence[Target],
    shipped: dict[int, list[Portion]],
    slips: set[int] | None,
) -> list[InvoicePlan]:
    """Lines whose serials the request selects are planned first; then the units of serialized
    lines it names no serials for are chosen across the packing slips so that S8 holds
    (rules.invoice_coverage.allocate), and S8 is checked over every line of every packing
    slip the invoice takes serials from."""
    planned: dict[int, InvoicePlan] = {}
    chosen: list[Target] = []
    for target in targets:
        portions = shipped.get(target.line.id, [])
        if not (portions or slips is not None or target.line.shipped_not_invoiced > 0):
            planned[target.line.id] = _plan_direct(uow, target)
        elif target.line.item.serialized_in_sales and target.entry is None:
            _check_shipped(target, portions)
            chosen.append(target)
        else:
            planned[target.line.id] = _plan_from_packing_slips(target, portions)
    coverage = slip_units(order, shipped)
    taken = allocate(coverage, {_line_key(t.line): int(t.quantity) for t in chosen})
    for target in chosen:
        planned[target.line.id] = _plan_chosen(target, shipped.get(target.line.id, []), taken)
    # Checked on what the plans actually take, every line of every packing slip counted.
    check_coverage(slip_units(order, shipped), {})
    return [planned[t.line.id] for t in targets]


def standing_packing_slips(uow: UnitOfWork, order: SalesOrder) -> list[Journal]:
    """The order's packing slips that are neither cancellations nor canceled, oldest first."""
    journals = list(
        uow.session.scalars(
            select(Journal)
            .where(Journal.order_id == order.id, Journal.kind == "packing_slip")
            .order_by(Journal.id)
        )
    )
    return standing_of(journals)


def standing_of(packing_slips: Sequence[Journal]) -> list[Journal]:
    """Of an order's packing slip journals, those that are neither cancellations (S10) nor
    canceled by one (rules.packing_slips.standing_ids), in the order given."""
    standing = standing_ids((j.id, j.reverses_id) for j in packing_slips)
    return [j for j in packing_slips if j.id in standing]


def named_packing_slips(
    uow: UnitOfWork, order: SalesOrder, numbers: Sequence[str] | None, standing: list[Journal]
) -> set[int] | None:
    """The ids of the packing slips a request names, each checked to be one of the order's
    standing packing slips (S7, S10); None when it names none."""
    if numbers is None:
        return None
    by_number = {j.number: j for j in standing}
    for number in numbers:
        if number not in by_number:
            raise _not_invoiceable(uow, order, number)
    return {by_number[number].id for number in numbers}


def _not_invoiceable(uow: UnitOfWork, order: SalesOrder, number: str) -> Rejection:
    """Why a packing slip named in the request is not one of the order's standing ones."""
    journal = uow.session.scalars(select(Journal).where(Journal.number == number)).one_or_none()
    if journal is None or journal.kind != "packing_slip" or journal.reverses_id is not None:
        return Rejection("packing_slip.unknown", f"there is no packing slip {number!r}")
    if journal.order_id != order.id:
        return Rejection(
            "packing_slip.other_order",
            f"packing slip {number} belongs to another order than {order.order_no}",
            rule="S7",
        )
    return Rejection(
        "packing_slip.canceled",
        f"packing slip {number} of order {order.order_no} is canceled",
        rule="S10",
    )


def open_shipments(
    uow: UnitOfWork, standing: list[Journal], only: set[int] | None = None
) -> dict[int, list[Portion]]:
    """Per order line, the packing slip lines shipped and not yet invoiced, oldest first."""
    slips = [s for s in standing if only is None or s.id in only]
    line_ids = [ln.id for s in slips for ln in s.lines]
    return shipments_from(
        slips,
        invoiced_quantities(uow.session, line_ids),
        open_registrations(uow.session, line_ids),
    )


def invoiced_quantities(session: Session, ps_line_ids: Sequence[int]) -> dict[int, Decimal]:
    """Packing slip line id -> the quantity invoices have taken from it."""
    invoiced: dict[int, Decimal] = defaultdict(Decimal)
    for row in session.scalars(
        select(PackingSlipInvoicing).where(
            PackingSlipInvoicing.packing_slip_line_id.in_(list(ps_line_ids))
        )
    ):
        invoiced[row.packing_slip_line_id] += row.quantity
    return invoiced


def open_registrations(
    session: Session, ps_line_ids: Sequence[int]
) -> dict[int, list[SerialRegistration]]:
    """Packing slip line id -> its registrations no invoice has taken yet, oldest first."""
    registrations: dict[int, list[SerialRegistration]] = defaultdict(list)
    for registration in session.scalars(
        select(SerialRegistration)
        .where(
            SerialRegistration.packing_slip_line_id.in_(list(ps_line_ids)),
            SerialRegistration.invoice_line_id.is_(None),
        )
        .order_by(SerialRegistration.id)
    ):
        registrations[registration.packing_slip_line_id].append(registration)  # type: ignore[index]
    return registrations


def shipments_from(
    slips: Sequence[Journal],
    invoiced: dict[int, Decimal],
    registrations: dict[int, list[SerialRegistration]],
) -> dict[int, list[Portion]]:
    """Per order line, the portions of `slips` (oldest first) not yet invoiced."""
    shipped: dict[int, list[Portion]] = defaultdict(list)
    for slip in slips:
        for ps_line in slip.lines:
            open_quantity = ps_line.quantity - invoiced.get(ps_line.id, ZERO)
            if open_quantity > 0:
                shipped[ps_line.sales_line_id].append(  # type: ignore[index]
                    Portion(slip.number, ps_line, open_quantity, registrations.get(ps_line.id, []))
                )
    return dict(shipped)


def _check_shipped(target: Target, portions: Sequence[Portion]) -> None:
    """S7: no more than is shipped on packing slips and not yet invoiced."""
    line = target.line
    available = sum((p.open_quantity for p in portions), ZERO)
    if target.quantity > available:
        raise Rejection(
            "invoice.quantity_exceeds_shipped",
            f"{line_label(line)}: invoice quantity {quantity_text(target.quantity)} exceeds the "
            f"{quantity_text(available)} shipped on packing slips and not yet invoiced",
            rule="S7",
        )
    if line.item.serialized_in_sales:
        require_whole_quantity(target.quantity, line_label(line))


def _plan_from_packing_slips(target: Target, portions: list[Portion]) -> InvoicePlan:
    """S7: invoice shipped units, selecting which registered serials the invoice takes (a
    serialized line without serials in the request is _plan_chosen's)."""
    line = target.line
    _check_shipped(target, portions)
    if line.item.serialized_in_sales and target.entry is not None:
        selected = _select(line_label(line), target.entry, portions)
        check_registration_count(
            target.quantity, len(selected), line.item.blank_issue_allowed, line_label(line)
        )
        target.registrations = selected
        chosen = {r.id for r in selected}
        for portion in portions:
            portion.taken = Decimal(sum(1 for r in portion.open_registrations if r.id in chosen))
    _take_remaining(target.quantity, portions)
    return InvoicePlan(target, portions)


def _plan_chosen(target: Target, portions: list[Portion], taken: Taken) -> InvoicePlan:
    """A serialized line the request names no serials for: the units `taken` (S8's choice)
    from each packing slip, with their registrations oldest first."""
    line = target.line
    units = dict(taken)
    selected: list[SerialRegistration] = []
    for portion in portions:
        key = (portion.packing_slip, _line_key(line))
        take = min(units.get(key, 0), int(portion.open_quantity))
        units[key] = units.get(key, 0) - take
        portion.taken = Decimal(take)
        selected.extend(portion.open_registrations[:take])
    check_registration_count(
        target.quantity, len(selected), line.item.blank_issue_allowed, line_label(line)
    )
    target.registrations = selected
    _take_remaining(target.quantity, portions)
    return InvoicePlan(target, portions)


def _line_key(line: SalesLine) -> str:
    """How S8's messages name an order line."""
    return f"line {line.line_no} (item {line.item_code})"


def slip_units(order: SalesOrder, shipped: dict[int, list[Portion]]) -> list[SlipUnits]:
    """S8's view of the packing slips in `shipped` (oldest first): per packing slip, every
    serialized line's units not yet invoiced, and those the plans take so far."""
    lines = {ln.id: ln for ln in order.lines}
    open_units: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    fixed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    age: dict[str, int] = {}
    for line_id, portions in shipped.items():
        line = lines[line_id]
        if not line.item.serialized_in_sales:
            continue
        for portion in portions:
            key = _line_key(line)
            open_units[portion.packing_slip][key] += int(portion.open_quantity)
            fixed[portion.packing_slip][key] += int(portion.taken)
            age[portion.packing_slip] = portion.line.journal_id
    return [
        SlipUnits(slip, dict(open_units[slip]), dict(fixed[slip]))
        for slip in sorted(age, key=age.__getitem__)
    ]


def _select(label: str, entry: SerialEntry, portions: list[Portion]) -> list[SerialRegistration]:
    open_by_serial = {r.serial: r for p in portions for r in p.open_registrations if r.serial}
    selected = []
    for serial in entry.serials:
        registration = open_by_serial.get(serial)
        if registration is None:
            raise Rejection(
                "serial.not_on_packing_slip",
                f"{label}: serial {serial!r} is not on a packing slip of this line waiting to "
                "be invoiced; select serials the packing slips registered and not yet invoiced",
                rule="S7",
                serial=serial,
            )
        selected.append(registration)
    blanks = [r for p in portions for r in p.open_registrations if r.serial is None]
    if entry.blanks > len(blanks):
        raise Rejection(
            "serial.not_on_packing_slip",
            f"{label}: {entry.blanks} not-readable units selected, but the packing slips hold "
            f"{len(blanks)} not yet invoiced",
            rule="S7",
        )
    return selected + blanks[: entry.blanks]


def _take_remaining(quantity: Decimal, portions: list[Portion]) -> None:
    """Units without a selected registration come from the oldest packing slips first."""
    remaining = quantity - sum((p.taken for p in portions), ZERO)
    for portion in portions:
        extra = min(remaining, portion.open_quantity - portion.taken)
        if extra > 0:
            portion.taken += extra
            remaining -= extra


def _plan_direct(uow: UnitOfWork, target: Target) -> InvoicePlan:
    """S1: an invoice without a packing slip ships and registers serials itself."""
    line = target.line
    check_open_to_deliver(target, "invoice")
    if line.item.serialized_in_sales:
        entry = target.entry or SerialEntry([], 0)
        check_new_registrations(uow, line, target.quantity, entry)
        check_not_in_use(uow, line, entry.serials)
        target.registrations = [
            SerialRegistration(sales_line_id=line.id, item_code=line.item_code, serial=serial)
            for serial in [*entry.serials, *([None] * entry.blanks)]
        ]  # added to the session once active (_write_invoice): one INSERT each, no UPDATE
    return InvoicePlan(target, direct=True)


def invoice_lines(plans: Sequence[InvoicePlan]) -> list[JournalLine]:
    """The invoice's journal lines (B8 amounts), booked on their order lines as invoiced."""
    lines = []
    for plan in plans:
        line, quantity = plan.target.line, plan.target.quantity
        amount = share_of_amount(
            line.net_amount, line.quantity, quantity, line.invoiced_qty, line.invoiced_amount
        )
        lines.append(snapshot_line(line, quantity, amount=amount))
        line.invoiced_qty += quantity
        line.invoiced_amount += amount
        if plan.direct:
            line.delivered_qty += quantity
    return lines


def packing_slip_portions(
    plans: Sequence[InvoicePlan], journal_lines: Sequence[JournalLine]
) -> list[PackingSlipInvoicing]:
    """How much each invoice line took from which packing slip line (S7, S8), for lines with
    ids already."""
    return [
        PackingSlipInvoicing(
            invoice_line_id=journal_line.id,
            packing_slip_line_id=portion.line.id,
            quantity=portion.taken,
        )
        for plan, journal_line in zip(plans, journal_lines, strict=True)
        for portion in plan.portions
        if portion.taken > 0
    ]


def _write_invoice(
    uow: UnitOfWork, order: SalesOrder, plans: Sequence[InvoicePlan], tax: InvoiceTax
) -> Journal:
    """Decided in memory, then written one statement per table (pipeline.journal_rows): the
    order lines' quantities, the journal (its INV number taken just before: its KID is made
    of it, P2), its lines and VAT breakdown, the packing slip portions, the registrations and
    the voucher (its VOU number taken just before its rows)."""
    journal = draft_journal(uow, "invoice", order, document_date=tax.date)
    for journal_line in invoice_lines(plans):
        add_line(journal, journal_line)
    journal.total_amount = sum((ln.amount or ZERO for ln in journal.lines), ZERO)
    lines = [plan.target.line for plan in plans]
    update_by_id(
        uow.session,
        lines,
        {
            "invoiced_qty": [line.invoiced_qty for line in lines],
            "invoiced_amount": [line.invoiced_amount for line in lines],
            "delivered_qty": [line.delivered_qty for line in lines],
        },
    )
    journal.number = uow.next_number("INV")
    vat = write_invoice_tax(journal, order, tax)
    uow.insert_journal(journal, "INV")
    for part in journal.vat:
        part.journal_id = journal.id
    insert_rows(uow.session, journal.vat)
    insert_rows(uow.session, packing_slip_portions(plans, journal.lines))
    insert_registrations(
        uow,
        [p.target for p in plans],
        journal.lines,
        "invoice_line_id",
        guarded=[p.target for p in plans if p.direct],
    )
    insert_voucher(uow, journal, voucher_entries(uow, journal, vat))
    return journal


def voucher_entries(
    uow: UnitOfWork, journal: Journal, vat: VatPlan | ReceiptPlan | None
) -> list[Entry]:
    """The invoice's voucher (L1): a point-of-sale sale's with T6, else with T3 (or none)."""
    if isinstance(vat, ReceiptPlan):
        return pos_entries(journal, vat)
    return invoice_entries(uow, journal, vat)
