"""post_pos_sale: a point-of-sale sale posts order, packing slip and invoice at once (S13).

Load (customer, items), plan the order's lines (pipeline/rules/pos.py: no bundle and no item
with a revenue schedule, B13), write the order, then ship and invoice it as post_packing_slip
and post_invoice do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docpost.pipeline.contract import PosLineIn, PostInvoice, PostPosSale
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.pos import WALK_IN_CUSTOMER, PosLine, PosOrderLine, plan_pos_lines
from docpost.pipeline.rules.serials import (
    check_blank_duty,
    check_pos_line,
    check_unique_in_document,
)
from docpost.pipeline.services.invoices import invoice_order
from docpost.pipeline.services.lines import line_label
from docpost.pipeline.services.packing_slips import ship
from docpost.pipeline.services.posting import Target
from docpost.pipeline.services.registrations import (
    SerialEntry,
    pos_serials,
    reject_serials_on_plain_item,
)
from docpost.pipeline.uow import REGISTER_NON_READABLE, UnitOfWork
from docpost.schema import Customer, Item, SalesLine, SalesOrder


def post_pos_sale(uow: UnitOfWork, cmd: PostPosSale) -> dict[str, Any]:
    uow.require_duties_of("post_pos_sale")
    customer = _customer(uow, cmd.customer)
    items = _items(uow, cmd.lines)
    plan = plan_pos_lines(
        [
            PosLine(ln.item, ln.quantity, ln.unit_price, ln.discount_percent, ln.discount_amount)
            for ln in cmd.lines
        ],
        {code: item.bundle for code, item in items.items()},
        {
            code: item.revenue_schedule_code
            for code, item in items.items()
            if item.revenue_schedule_code is not None
        },
    )
    order = _write_order(uow, cmd, customer, plan, items)
    targets = _targets(order, cmd.lines, uow.has_duty(REGISTER_NON_READABLE), uow.actor_name)
    packing_slip = ship(uow, order, targets, cmd.document_date)
    invoice = invoice_order(
        uow, order, PostInvoice(order=order.order_no, document_date=cmd.document_date)
    )
    return {
        "order": order.order_no,
        "packing_slip": packing_slip.number,
        "journal": invoice.number,
        "documents": [uow.add_document(packing_slip), uow.add_document(invoice)],
    }


def _items(uow: UnitOfWork, lines: Sequence[PosLineIn]) -> dict[str, Item]:
    """The sale's items that exist, by item number."""
    found: dict[str, Item] = {}
    for line_in in lines:
        item = uow.session.get(Item, line_in.item)
        if item is not None:
            found[line_in.item] = item
    return found


def _write_order(
    uow: UnitOfWork,
    cmd: PostPosSale,
    customer: Customer,
    plan: Sequence[PosOrderLine],
    items: dict[str, Item],
) -> SalesOrder:
    order = SalesOrder(
        order_no=uow.next_number("POS"),
        customer_code=customer.customer,
        currency=cmd.currency or customer.currency,
        origin="pos",
        store=cmd.store,
        lines=[],
    )
    uow.session.add(order)
    order.lines.extend(
        SalesLine(
            line_no=planned.line_no,
            item_code=planned.line.item,
            item=items[planned.line.item],
            quantity=planned.line.quantity,
            unit_price=planned.line.unit_price,
            discount_percent=planned.line.discount_percent,
            discount_amount=planned.line.discount_amount,
            net_amount=planned.net_amount,
        )
        for planned in plan
    )
    uow.session.flush()
    return order


def _targets(
    order: SalesOrder, lines: Sequence[PosLineIn], blanks_allowed: bool, actor: str
) -> list[Target]:
    """What each line ships and invoices, with its serial (S4) checked against S13 and S6, or
    refused on an item without sales serials (S2, S12); then S5 over the whole sale."""
    targets = []
    for line, line_in in zip(order.lines, lines, strict=True):
        label = line_label(line)
        entry = SerialEntry(pos_serials(line_in.serial, label), 1 if line_in.not_readable else 0)
        if line.item.serialized_in_sales:
            check_pos_line(line_in.quantity, bool(entry.serials), line_in.not_readable, label)
            check_blank_duty(entry.blanks, blanks_allowed, actor, label)
        else:
            reject_serials_on_plain_item(line, entry)
        targets.append(Target(line, line_in.quantity, entry))
    check_unique_in_document(
        (line_label(t.line), t.line.item_code, t.entry.serials) for t in targets if t.entry
    )
    return targets


def _customer(uow: UnitOfWork, code: str | None) -> Customer:
    if code is not None:
        customer = uow.session.get(Customer, code)
        if customer is None:
            raise Rejection("order.unknown_customer", f"customer {code!r} does not exist")
        return customer
    customer = uow.session.get(Customer, WALK_IN_CUSTOMER)
    if customer is None:
        # The company's currency where a catalog gives one (a NOK till sells in NOK, T7).
        company = uow.company
        currency = company.currency if company is not None else "USD"
        customer = Customer(customer=WALK_IN_CUSTOMER, name="Walk-in customer", currency=currency)
        uow.session.add(customer)
    return customer
