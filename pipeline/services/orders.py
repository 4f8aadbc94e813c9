"""upsert_order and confirm_order (B1, B3-B6, B12, B14; with VAT: T1, T3, T4, T7, P1, D6).

The rules are in rules.orders (order entry) and rules.bundles (the explosion); this module
loads what they read and writes what they plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.contract import ConfirmOrder, OrderLineIn, UpsertOrder
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import BundleLine, Component, ComponentLine, plan_explosion
from docpost.pipeline.rules.orders import (
    EnteredItem,
    LineValues,
    StoredLine,
    check_header_change,
    check_line_removable,
    entered_unit_price,
    plan_order_line,
)
from docpost.pipeline.rules.payment import document_date
from docpost.pipeline.rules.tax import LineTax, exchange_rate_for
from docpost.pipeline.services.journal import add_line, new_journal, snapshot_line
from docpost.pipeline.services.lines import components_of, line_label
from docpost.pipeline.services.posting import (
    freeze_tax,
    line_taxes,
    order_exchange_rate,
    tax_setup,
)
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import Customer, Item, Journal, SalesLine, SalesOrder
from docpost.schema.documents import PICKING_LIST


def upsert_order(uow: UnitOfWork, cmd: UpsertOrder) -> dict[str, Any]:
    uow.require_duties_of("upsert_order")
    session = uow.session
    customer = session.get(Customer, cmd.customer)
    if customer is None:
        raise Rejection(
            "order.unknown_customer",
            f"order {cmd.order}: customer {cmd.customer!r} does not exist",
        )
    order, created = _order_for(uow, cmd, customer)
    _set_header(uow, order, cmd)
    for line_no in cmd.remove_lines:
        _remove_line(session, order, line_no)
    session.flush()
    for line_in in cmd.lines:
        _upsert_line(uow, order, line_in)
    session.flush()
    return {"order": order.order_no, "created": created, "lines": len(order.lines)}


def _order_for(uow: UnitOfWork, cmd: UpsertOrder, customer: Customer) -> tuple[SalesOrder, bool]:
    """The order to upsert, locked, or a new one; and whether it is new."""
    existing = uow.session.scalars(
        select(SalesOrder.id).where(SalesOrder.order_no == cmd.order)
    ).one_or_none()
    if existing is None:
        order = SalesOrder(
            order_no=cmd.order,
            customer_code=customer.customer,
            currency=cmd.currency or customer.currency,
            lines=[],
        )
        uow.session.add(order)
        return order, True
    order = uow.lock_order(cmd.order)
    # A currency left out keeps the order's, even where the customer's differs.
    changes = order.customer_code != customer.customer or bool(
        cmd.currency and cmd.currency != order.currency
    )
    check_header_change(cmd.order, changes, _posted(order.lines))
    if changes:
        order.customer_code = customer.customer
        order.currency = cmd.currency or customer.currency
    return order, False


def _set_header(uow: UnitOfWork, order: SalesOrder, cmd: UpsertOrder) -> None:
    """P3's buyer's reference and T7's exchange rate: given ones replace the order's; an order
    in another currency than the company's must have a rate (rules.tax.exchange_rate_for).
    Without a company (a catalog of before issue 15) a rate is kept as given, never needed."""
    if cmd.buyer_reference is not None:
        order.buyer_reference = cmd.buyer_reference
    rate = cmd.exchange_rate if cmd.exchange_rate is not None else order.exchange_rate
    company = uow.company
    if company is not None:
        rate = exchange_rate_for(order.currency, company.currency, rate)
    order.exchange_rate = rate


def _posted(lines: Iterable[SalesLine]) -> bool:
    return any(ln.delivered_qty or ln.invoiced_qty for ln in lines)


def _remove_line(session: Session, order: SalesOrder, line_no: int) -> None:
    line = order.line(line_no)
    if line is None:
        raise Rejection("order.line_unknown", f"order {order.order_no} has no line {line_no}")
    removed = [line, *components_of(order, line)]
    check_line_removable(line_label(line), line.is_component, _posted(removed))
    # Components first: they refer to their parent.
    for ln in reversed(removed):
        order.lines.remove(ln)
        session.flush()


def _upsert_line(uow: UnitOfWork, order: SalesOrder, line_in: OrderLineIn) -> None:
    item = uow.session.get(Item, line_in.item)
    if item is None:
        raise Rejection(
            "order.unknown_item",
            f"order {order.order_no} line {line_in.line}: item {line_in.item!r} does not exist",
        )
    line = order.line(line_in.line)
    label = f"order {order.order_no} line {line_in.line} (item {line_in.item})"
    stored = _stored(line) if line is not None else None
    unit_price = entered_unit_price(
        label,
        line_in.unit_price,
        EnteredItem(item.item, item.bundle, item.base_sales_price),
        stored.values if stored is not None else None,
    )
    plan = plan_order_line(
        label,
        LineValues(
            line_in.item,
            line_in.quantity,
            unit_price,
            line_in.discount_percent,
            line_in.discount_amount,
            line_in.site,
            line_in.warehouse,
        ),
        item.serialized_in_sales,
        stored,
    )
    if plan is None:
        return
    if line is None:
        line = SalesLine(line_no=line_in.line)
        order.lines.append(line)
    for field in fields(LineValues):
        setattr(line, field.name, getattr(plan.values, field.name))
    line.net_amount = plan.net_amount


def _stored(line: SalesLine) -> StoredLine:
    return StoredLine(
        label=line_label(line),
        values=LineValues(
            line.item_code,
            line.quantity,
            line.unit_price,
            line.discount_percent,
            line.discount_amount,
            line.site,
            line.warehouse,
        ),
        is_component=line.is_component,
        exploded=line.status == "canceled",
        posted=_posted([line]),
    )


def confirm_order(uow: UnitOfWork, cmd: ConfirmOrder) -> dict[str, Any]:
    uow.require_duties_of("confirm_order")
    order = uow.lock_order(cmd.order)
    if not order.lines:
        raise Rejection("order.empty", f"order {order.order_no} has no lines to confirm")
    exploded = []
    for parent in [ln for ln in order.lines if ln.item.bundle and ln.status != "canceled"]:
        exploded.append(_explode(uow, order, parent))
    uow.session.flush()
    tax = _plan_confirmation_tax(uow, order, cmd)
    journal = new_journal(uow, "confirmation", "CONF", order, document_date=tax.date)
    for line in order.lines:
        # Unlinked: a confirmed line may still be removed and added again (B6).
        add_line(
            journal,
            snapshot_line(line, line.quantity, amount=_confirmed_amount(line), linked=False),
        )
    journal.total_amount = sum(
        (ln.net_amount for ln in order.lines if not ln.is_component), Decimal(0)
    )
    _freeze_confirmation_tax(journal, order, tax)
    uow.session.flush()
    order.confirmed_at = journal.posted_at
    # D2: the warehouse's picking list beside the customer's confirmation (CONTRACT.md).
    documents = [uow.add_document(journal), uow.add_document(journal, PICKING_LIST)]
    return {"journal": journal.number, "exploded": exploded, "documents": documents}


@dataclass(frozen=True)
class ConfirmationTax:
    """What a confirmation takes of the company and tax codes, decided before it is written:
    its date (P1) and, where VAT is charged, the exchange rate (T7) and the tax (T1) of each
    line that carries one. `taxes` None: no VAT (no company, not VAT registered, or no tax
    codes), as before issue 15."""

    date: dt.date
    exchange_rate: Decimal | None = None
    taxes: list[LineTax] | None = None


def _plan_confirmation_tax(
    uow: UnitOfWork, order: SalesOrder, cmd: ConfirmOrder
) -> ConfirmationTax:
    """As an invoice decides its tax (services.invoices.plan_invoice_tax), on the confirmation's
    own date: the request's, else today in the company's time zone (P1). Every line is taxed
    but an exploded bundle's parent, whose components carry their own codes (T4)."""
    date = document_date(cmd.document_date, uow.posting_date)
    setup = tax_setup(uow)
    taxes = line_taxes(setup, order, _taxed(order.lines), date)
    if taxes is None:
        return ConfirmationTax(date)
    return ConfirmationTax(date, order_exchange_rate(setup, order), taxes)


def _taxed(lines: Iterable[SalesLine]) -> list[SalesLine]:
    """The lines whose amounts the VAT is computed on: all but exploded bundle parents (their
    amount is their components', B4); in the order's line order, as the journal has them."""
    return [ln for ln in lines if ln.status != "canceled"]


def _freeze_confirmation_tax(journal: Journal, order: SalesOrder, tax: ConfirmationTax) -> None:
    """T1 on the journal's lines, T3's breakdown and totals on the journal, frozen as an
    invoice's are (services.posting.freeze_tax), so its document prints what was decided now
    and never reads tax codes again (D6). Nothing else of an invoice: a confirmation has no
    due date nor KID, and it posts no voucher (it is not in the ledger)."""
    journal.buyer_reference = order.buyer_reference  # P3: printed when VAT is (the view)
    if tax.taxes is None:
        return
    taxed = [ln for ln in journal.lines if not ln.is_bundle_parent]
    freeze_tax(journal, tax.taxes, tax.exchange_rate, lines=taxed)


def _confirmed_amount(line: SalesLine) -> Decimal:
    return line.bundle_net_amount if line.status == "canceled" else line.net_amount


def _explode(uow: UnitOfWork, order: SalesOrder, parent: SalesLine) -> dict[str, Any]:
    """B1/B3/B4: cancel the parent, keep its net amount, add one line per BOM component with
    the allocated price. The BOM and base prices are copied now and never read again (B12)."""
    bom = [(b, _item(uow.session, b.component_item)) for b in parent.item.bom]
    planned = plan_explosion(
        BundleLine(
            label=line_label(parent),
            order_no=order.order_no,
            line_no=parent.line_no,
            item=parent.item_code,
            quantity=parent.quantity,
            unit_price=parent.unit_price,
            discount_percent=parent.discount_percent,
            discount_amount=parent.discount_amount,
            net_amount=parent.net_amount,
        ),
        [Component(b.component_item, b.quantity, item.base_sales_price) for b, item in bom],
        {item.item for _, item in bom if item.serialized_in_sales},
    )
    components = _add_components(order, parent, planned)
    parent.status = "canceled"
    parent.bundle_net_amount = parent.net_amount
    return {"line": parent.line_no, "item": parent.item_code, "components": components}


def _item(session: Session, code: str) -> Item:
    item = session.get(Item, code)
    assert item is not None  # a BOM line's component is a foreign key to items
    return item


def _add_components(
    order: SalesOrder, parent: SalesLine, planned: list[ComponentLine]
) -> list[dict[str, Any]]:
    """The component lines after the order's last line, each on the parent's site and
    warehouse; what the result reports of each."""
    next_no = max(ln.line_no for ln in order.lines) + 1
    added = []
    for offset, comp in enumerate(planned):
        line = SalesLine(
            line_no=next_no + offset,
            item_code=comp.item,
            quantity=comp.quantity,
            unit_price=comp.unit_price,
            discount_percent=comp.discount_percent,
            discount_amount=comp.discount_amount,
            site=parent.site,
            warehouse=parent.warehouse,
            net_amount=comp.net_amount,
            bundle_parent_id=parent.id,
            bom_quantity=comp.bom_quantity,
        )
        order.lines.append(line)
        added.append({"line": line.line_no, "item": comp.item, "net_amount": str(comp.net_amount)})
    return added
