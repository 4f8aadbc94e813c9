"""Finding and describing order lines, shared by the posting services."""

from __future__ import annotations

from collections.abc import Iterable

from docpost.pipeline.errors import Rejection
from docpost.schema import SalesLine, SalesOrder


def line_label(line: SalesLine) -> str:
    """How messages name a line: order, line number, item, and its bundle if it has one."""
    order_no = line.order.order_no
    if line.bundle_parent_id is not None:
        parent = next(p for p in line.order.lines if p.id == line.bundle_parent_id)
        return (
            f"order {order_no} line {line.line_no} (item {line.item_code} of bundle "
            f"{parent.item_code}, line {parent.line_no})"
        )
    return f"order {order_no} line {line.line_no} (item {line.item_code})"


def components_of(order: SalesOrder, parent: SalesLine) -> list[SalesLine]:
    return [ln for ln in order.lines if ln.bundle_parent_id == parent.id]


def resolve_line(order: SalesOrder, line_no: int, item: str | None) -> SalesLine:
    """A posting line addresses an order line by its number, or a bundle component as
    {line: the parent's number, item: the component} (CONTRACT.md)."""
    line = order.line(line_no)
    if line is None:
        raise Rejection("order.line_unknown", f"order {order.order_no} has no line {line_no}")
    if item is None or (item == line.item_code and line.status != "canceled"):
        if line.status == "canceled":
            numbers = ", ".join(str(c.line_no) for c in components_of(order, line))
            raise Rejection(
                "bundle.parent_line",
                f"order {order.order_no} line {line_no} is bundle {line.item_code}, posted "
                f"through its components: lines {numbers}, or "
                f'{{"line": {line_no}, "item": <component>}}',
                rule="B9",
            )
        return line
    if line.status == "canceled":
        for component in components_of(order, line):
            if component.item_code == item:
                return component
        raise Rejection(
            "order.line_unknown",
            f"order {order.order_no} line {line_no} (bundle {line.item_code}) has no component "
            f"{item}",
        )
    raise Rejection(
        "order.line_unknown",
        f"order {order.order_no} line {line_no} is item {line.item_code}, not {item}",
    )


def require_exploded(order: SalesOrder, document: str) -> None:
    """B2: an order holding a bundle must be confirmed before packing slip or invoice."""
    for line in order.lines:
        if line.item.bundle and line.status != "canceled":
            raise Rejection(
                "order.not_confirmed",
                f"order {order.order_no} holds bundle {line.item_code} on line {line.line_no}; "
                f"confirm the order before posting a {document}",
                rule="B2",
            )


def reject_repeats(refs: Iterable[SalesLine]) -> None:
    seen: set[int] = set()
    for line in refs:
        if line.id in seen:
            raise Rejection(
                "order.line_repeated",
                f"{line_label(line)} is given twice; give each line once with its total quantity",
            )
        seen.add(line.id)
