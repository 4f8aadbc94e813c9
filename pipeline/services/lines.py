"""Finding and describing order lines, shared by the posting services; the bundle rules
they apply (B2, B9) are in rules.bundles."""

from __future__ import annotations

from collections.abc import Iterable

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.bundles import check_exploded, parent_line_refused
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
            raise parent_line_refused(
                order.order_no,
                line_no,
                line.item_code,
                [c.line_no for c in components_of(order, line)],
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
    """B2 (rules.bundles): an order holding a bundle must be confirmed before packing slip or
    invoice."""
    check_exploded(
        order.order_no,
        (
            (ln.line_no, ln.item_code, ln.status == "canceled")
            for ln in order.lines
            if ln.item.bundle
        ),
        document,
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
