"""post_pos_sale: a point-of-sale sale posts order, packing slip and invoice at once (S13)."""

from __future__ import annotations

from typing import Any

from docpost.pipeline.contract import PostInvoice, PostPosSale
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import line_net_amount
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

WALK_IN_CUSTOMER = "POS"


def post_pos_sale(uow: UnitOfWork, cmd: PostPosSale) -> dict[str, Any]:
    uow.require_duties_of("post_pos_sale")
    customer = _customer(uow, cmd.customer)
    items = {}
    for index, line_in in enumerate(cmd.lines, start=1):
        item = uow.session.get(Item, line_in.item)
        if item is None:
            raise Rejection(
                "order.unknown_item",
                f"point-of-sale line {index}: item {line_in.item!r} does not exist",
            )
        if item.bundle:
            # The product documents: commerce channels do not support bundles.
            raise Rejection(
                "pos.bundle_not_supported",
                f"point-of-sale line {index}: {item.item} is a bundle; bundles are sold on "
                "sales orders, not at the point of sale",
            )
        items[index] = item

    order = SalesOrder(
        order_no=uow.next_number("POS"),
        customer_code=customer.customer,
        currency=cmd.currency or customer.currency,
        origin="pos",
        store=cmd.store,
        lines=[],
    )
    uow.session.add(order)
    for index, line_in in enumerate(cmd.lines, start=1):
        order.lines.append(
            SalesLine(
                line_no=index,
                item_code=line_in.item,
                item=items[index],
                quantity=line_in.quantity,
                unit_price=line_in.unit_price,
                discount_percent=line_in.discount_percent,
                discount_amount=line_in.discount_amount,
                net_amount=line_net_amount(
                    line_in.quantity,
                    line_in.unit_price,
                    line_in.discount_percent,
                    line_in.discount_amount,
                ),
            )
        )
    uow.session.flush()

    targets = []
    for line, line_in in zip(order.lines, cmd.lines, strict=True):
        label = line_label(line)
        entry = SerialEntry(pos_serials(line_in.serial, label), 1 if line_in.not_readable else 0)
        if line.item.serialized_in_sales:
            check_pos_line(line_in.quantity, bool(entry.serials), line_in.not_readable, label)
            check_blank_duty(
                entry.blanks, uow.has_duty(REGISTER_NON_READABLE), uow.actor_name, label
            )
        else:
            reject_serials_on_plain_item(line, entry)
        targets.append(Target(line, line_in.quantity, entry))
    check_unique_in_document(
        (line_label(t.line), t.line.item_code, t.entry.serials) for t in targets if t.entry
    )
    packing_slip = ship(uow, order, targets)
    invoice = invoice_order(uow, order, PostInvoice(order=order.order_no))
    return {
        "order": order.order_no,
        "packing_slip": packing_slip.number,
        "journal": invoice.number,
        "documents": [uow.add_document(packing_slip), uow.add_document(invoice)],
    }


def _customer(uow: UnitOfWork, code: str | None) -> Customer:
    if code is not None:
        customer = uow.session.get(Customer, code)
        if customer is None:
            raise Rejection("order.unknown_customer", f"customer {code!r} does not exist")
        return customer
    customer = uow.session.get(Customer, WALK_IN_CUSTOMER)
    if customer is None:
        customer = Customer(customer=WALK_IN_CUSTOMER, name="Walk-in customer", currency="USD")
        uow.session.add(customer)
    return customer
