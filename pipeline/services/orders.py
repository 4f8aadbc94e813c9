"""upsert_order and confirm_order (B1, B3-B6, B12)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.contract import ConfirmOrder, OrderLineIn, UpsertOrder
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import Component, explode_bundle
from docpost.pipeline.rules.money import line_net_amount
from docpost.pipeline.rules.serials import require_whole_quantity
from docpost.pipeline.services.journal import add_line, new_journal, snapshot_line
from docpost.pipeline.services.lines import components_of, line_label
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import Customer, Item, SalesLine, SalesOrder

# Fields a caller sets on an order line, in the order a B5 message names them.
LINE_FIELDS = (
    "item_code",
    "quantity",
    "unit_price",
    "discount_percent",
    "discount_amount",
    "site",
    "warehouse",
)


def upsert_order(uow: UnitOfWork, cmd: UpsertOrder) -> dict[str, Any]:
    uow.require_duties_of("upsert_order")
    session = uow.session
    customer = session.get(Customer, cmd.customer)
    if customer is None:
        raise Rejection(
            "order.unknown_customer",
            f"order {cmd.order}: customer {cmd.customer!r} does not exist",
        )
    existing = session.scalars(
        select(SalesOrder.id).where(SalesOrder.order_no == cmd.order)
    ).one_or_none()
    if existing is None:
        order = SalesOrder(
            order_no=cmd.order,
            customer_code=customer.customer,
            currency=cmd.currency or customer.currency,
            lines=[],
        )
        session.add(order)
        created = True
    else:
        order = uow.lock_order(cmd.order)
        created = False
        if order.customer_code != customer.customer or (
            cmd.currency and cmd.currency != order.currency
        ):
            if any(ln.delivered_qty or ln.invoiced_qty for ln in order.lines):
                raise Rejection(
                    "order.header_locked",
                    f"order {cmd.order}: customer and currency cannot change once something "
                    "is posted",
                )
            order.customer_code = customer.customer
            order.currency = cmd.currency or customer.currency

    for line_no in cmd.remove_lines:
        _remove_line(session, order, line_no)
    session.flush()
    for line_in in cmd.lines:
        _upsert_line(uow, order, line_in)
    session.flush()
    return {"order": order.order_no, "created": created, "lines": len(order.lines)}


def _remove_line(session: Session, order: SalesOrder, line_no: int) -> None:
    line = order.line(line_no)
    if line is None:
        raise Rejection("order.line_unknown", f"order {order.order_no} has no line {line_no}")
    if line.is_component:
        raise Rejection(
            "bundle.component_locked",
            f"{line_label(line)} is a bundle component and cannot be removed alone; remove "
            "the bundle's parent line, which removes its components (B6)",
            rule="B5",
            field="line",
        )
    removed = [line, *components_of(order, line)]
    if any(ln.delivered_qty or ln.invoiced_qty for ln in removed):
        raise Rejection(
            "order.line_posted",
            f"{line_label(line)} has posted packing slips or invoices and cannot be removed",
            rule="B6",
        )
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
    wanted = {
        "item_code": line_in.item,
        "quantity": line_in.quantity,
        "unit_price": line_in.unit_price,
        "discount_percent": line_in.discount_percent,
        "discount_amount": line_in.discount_amount,
        "site": line_in.site,
        "warehouse": line_in.warehouse,
    }
    label = f"order {order.order_no} line {line_in.line} (item {line_in.item})"
    if item.serialized_in_sales:
        require_whole_quantity(line_in.quantity, label)
    if line_in.discount_amount > line_in.unit_price:
        raise Rejection(
            "order.discount_too_large",
            f"{label}: discount amount {line_in.discount_amount} per unit exceeds the unit "
            f"price {line_in.unit_price}",
        )
    line = order.line(line_in.line)
    if line is not None:
        changed = [f for f in LINE_FIELDS if getattr(line, f) != wanted[f]]
        if not changed:
            return
        if line.is_component:
            raise Rejection(
                "bundle.component_locked",
                f"{line_label(line)}: {changed[0].removesuffix('_code')} cannot be changed on a "
                "bundle component; its price is allocated from the bundle (remove and re-add "
                "the bundle line to change it)",
                rule="B5",
                field=changed[0].removesuffix("_code"),
            )
        if line.status == "canceled":
            raise Rejection(
                "bundle.parent_exploded",
                f"{line_label(line)} is an exploded bundle; remove the line (its components go "
                "with it) and add it again to change it",
                rule="B6",
            )
        if line.delivered_qty or line.invoiced_qty:
            raise Rejection(
                "order.line_posted",
                f"{line_label(line)} has posted packing slips or invoices and cannot be changed",
            )
    else:
        line = SalesLine(line_no=line_in.line)
        order.lines.append(line)
    for field_name, value in wanted.items():
        setattr(line, field_name, value)
    line.net_amount = line_net_amount(
        line_in.quantity, line_in.unit_price, line_in.discount_percent, line_in.discount_amount
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
    journal = new_journal(uow, "confirmation", "CONF", order)
    for line in order.lines:
        # Unlinked: a confirmed line may still be removed and added again (B6).
        add_line(
            journal,
            snapshot_line(line, line.quantity, amount=_confirmed_amount(line), linked=False),
        )
    journal.total_amount = sum(
        (ln.net_amount for ln in order.lines if not ln.is_component), Decimal(0)
    )
    uow.session.flush()
    order.confirmed_at = journal.posted_at
    document = uow.add_document(journal)
    return {"journal": journal.number, "exploded": exploded, "documents": [document]}


def _confirmed_amount(line: SalesLine) -> Decimal:
    return line.bundle_net_amount if line.status == "canceled" else line.net_amount


def _explode(uow: UnitOfWork, order: SalesOrder, parent: SalesLine) -> dict[str, Any]:
    """B1/B3/B4: cancel the parent, keep its net amount, add one line per BOM component with
    the allocated price. The BOM and base prices are copied now and never read again (B12)."""
    bom = parent.item.bom
    if not bom:
        raise Rejection(
            "bundle.no_bom",
            f"{line_label(parent)}: bundle {parent.item_code} has no bill of materials",
            rule="M4",
        )
    components = [
        Component(
            item=b.component_item,
            bom_quantity=b.quantity,
            base_sales_price=uow.session.get(Item, b.component_item).base_sales_price,  # type: ignore[union-attr]
        )
        for b in bom
    ]
    allocated = explode_bundle(
        parent.item_code,
        parent.quantity,
        parent.unit_price,
        parent.discount_percent,
        parent.discount_amount,
        parent.net_amount,
        components,
    )
    next_no = max(ln.line_no for ln in order.lines) + 1
    numbers = []
    for offset, comp in enumerate(allocated):
        component_item = uow.session.get(Item, comp.item)
        assert component_item is not None
        label = f"order {order.order_no} bundle line {parent.line_no} component {comp.item}"
        if component_item.serialized_in_sales:
            require_whole_quantity(comp.quantity, label)
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
        numbers.append(
            {"line": line.line_no, "item": comp.item, "net_amount": str(comp.net_amount)}
        )
    parent.status = "canceled"
    parent.bundle_net_amount = parent.net_amount
    return {"line": parent.line_no, "item": parent.item_code, "components": numbers}
