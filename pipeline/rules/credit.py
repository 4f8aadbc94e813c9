"""Credit note rules (DOMAIN.md B10 with B7, B8, S2-S5) as pure functions: what a credit note
takes back from an invoice, line by line, with its amounts and its serials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import BundleOnOrder, check_whole_bundles
from docpost.pipeline.rules.money import CENT, ZERO, quantity_text, share_of_amount
from docpost.pipeline.rules.serials import check_registration_count, clean_serial
from docpost.pipeline.rules.tax import round_to


@dataclass(frozen=True)
class Registration:
    """An invoiced unit not credited yet: its registration, and its serial (None: a blank)."""

    id: int
    serial: str | None


@dataclass(frozen=True)
class InvoicedLine:
    """One invoice line as a credit note sees it: what was invoiced, what credit notes took
    back before, and the serialized units still open, in the order they were invoiced."""

    invoice_line_id: int
    sales_line_id: int
    line_no: int
    label: str
    item_code: str
    serialized: bool
    quantity: Decimal
    amount: Decimal
    credited_quantity: Decimal = ZERO
    credited_amount: Decimal = ZERO
    open_registrations: tuple[Registration, ...] = ()

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.credited_quantity


@dataclass(frozen=True)
class InvoiceToCredit:
    number: str
    lines: tuple[InvoicedLine, ...]

    @cached_property
    def by_order_line(self) -> Mapping[int, InvoicedLine]:
        # Looked up once per requested line: a dict keeps a 10,000-line request linear.
        return {line.sales_line_id: line for line in self.lines}


@dataclass(frozen=True)
class CreditRequest:
    """One line a credit note is asked to credit, with the serials it names (cleaned, S4)."""

    sales_line_id: int
    quantity: Decimal
    serials: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreditLine:
    """One line of the credit note: the invoice line it reverses, its B8 amount and the
    registrations it frees (S5)."""

    invoice_line_id: int
    sales_line_id: int
    quantity: Decimal
    amount: Decimal
    registration_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CreditPlan:
    lines: tuple[CreditLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


def requested_line(
    invoice: InvoiceToCredit,
    sales_line_id: int,
    label: str,
    quantity: Decimal,
    serials: Sequence[str],
) -> CreditRequest:
    """B10: a credit note credits only lines of its invoice; the serials it names are cleaned
    as scanned (S4). `label` names the order line the request addressed."""
    if sales_line_id not in invoice.by_order_line:
        raise Rejection(
            "credit.line_not_invoiced",
            f"{label} is not on invoice {invoice.number}",
            rule="B10",
        )
    return CreditRequest(sales_line_id, quantity, tuple(clean_serial(s, label) for s in serials))


def remaining_lines(invoice: InvoiceToCredit) -> tuple[CreditRequest, ...]:
    """A credit note without lines credits whatever of each invoice line is not credited yet."""
    requests = tuple(
        CreditRequest(line.sales_line_id, line.remaining)
        for line in invoice.lines
        if line.remaining > 0
    )
    if not requests:
        raise Rejection(
            "credit.nothing_to_credit", f"invoice {invoice.number} is already fully credited"
        )
    return requests


def plan_credit(
    invoice: InvoiceToCredit,
    requests: Sequence[CreditRequest],
    bundles: Sequence[BundleOnOrder],
) -> CreditPlan:
    """B10: the credit note's lines, each checked in the request's order, then B7 over the
    bundles whose components it credits (a bundle is credited whole, as it was invoiced)."""
    lines = tuple(
        credit_line(invoice.number, invoice.by_order_line[request.sales_line_id], request)
        for request in requests
    )
    check_whole_bundles(
        bundles, {line.sales_line_id: line.quantity for line in lines}, "credit note"
    )
    return CreditPlan(lines)


def credit_line(number: str, invoiced: InvoicedLine, request: CreditRequest) -> CreditLine:
    """One line: at most what the invoice line holds and earlier credit notes left (B10), its
    share of the invoiced amount, the last credit taking what remains (B8), and its serials."""
    if request.quantity > invoiced.remaining:
        raise Rejection(
            "credit.quantity_exceeds_invoiced",
            f"{invoiced.label}: credit quantity {quantity_text(request.quantity)} exceeds the "
            f"{quantity_text(invoiced.remaining)} invoiced on {number} and not yet credited",
        )
    registrations: tuple[int, ...] = ()
    if invoiced.serialized:
        registrations = credited_registrations(invoiced, request.quantity, request.serials)
    elif request.serials:
        raise Rejection(
            "serial.not_serialized",
            f"{invoiced.label}: item {invoiced.item_code} has no serials in the sales process; "
            "send the line without serials",
            rule="S2",
        )
    amount = share_of_amount(
        invoiced.amount,
        invoiced.quantity,
        request.quantity,
        invoiced.credited_quantity,
        invoiced.credited_amount,
    )
    return CreditLine(
        invoiced.invoice_line_id, invoiced.sales_line_id, request.quantity, amount, registrations
    )


def company_part(document_total: Decimal, company_total: Decimal, credited: Decimal) -> Decimal:
    """T7: what `credited` of an invoice line's `document_total` (document currency) is in the
    company currency, the line being `company_total` there (as its invoice posted it):
    proportional and rounded, all of it when all is credited. A credit note's company amount
    is company_part(after it) - company_part(before it), so credit notes adding up to the line
    in its currency add up to it in the company's too, and a line fully credited leaves
    nothing in the ledger (converting each credit on its own could miss it by a few øre)."""
    if credited == document_total:
        return company_total
    if not document_total:
        return ZERO
    return round_to(company_total * credited / document_total, CENT)


def credited_registrations(
    invoiced: InvoicedLine, quantity: Decimal, serials: Sequence[str]
) -> tuple[int, ...]:
    """The invoiced units a credit note takes back: the serials named (each on this invoice
    line and not credited yet, B10; none twice, S5), then the rest in the order they were
    invoiced. Fewer serials than units is fine: the credit note fills up, never more (S3)."""
    label = invoiced.label
    by_serial = {r.serial: r.id for r in invoiced.open_registrations if r.serial}
    chosen: list[int] = []
    chosen_ids: set[int] = set()  # "named before?" in constant time: linear in the serials
    for serial in serials:
        registration = by_serial.get(serial)
        if registration is None:
            raise Rejection(
                "serial.not_on_invoice",
                f"{label}: serial {serial!r} is not on invoice line {invoiced.line_no} of "
                "this invoice, or is already credited",
                rule="B10",
                serial=serial,
            )
        if registration in chosen_ids:
            raise Rejection(
                "serial.duplicate",
                f"{label}: serial {serial!r} is given twice",
                rule="S5",
                serial=serial,
            )
        chosen.append(registration)
        chosen_ids.add(registration)
    check_registration_count(quantity, len(chosen), True, label)
    rest = [r.id for r in invoiced.open_registrations if r.id not in chosen_ids]
    return (*chosen, *rest[: int(quantity) - len(chosen)])
