"""Shipping rules (DOMAIN.md S1, S10) as pure functions: how much a line may still ship, and
when and how a packing slip is canceled."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.money import quantity_text


def check_within_open(label: str, document: str, quantity: Decimal, open_quantity: Decimal) -> None:
    """A packing slip, or an invoice that ships itself (S1), ships at most what the order line
    has neither shipped nor invoiced yet."""
    if quantity > open_quantity:
        raise Rejection(
            "order.quantity_exceeds_open",
            f"{label}: {document} quantity {quantity_text(quantity)} exceeds the "
            f"{quantity_text(open_quantity)} not yet shipped or invoiced",
        )


def standing_ids(packing_slips: Iterable[tuple[int, int | None]]) -> frozenset[int]:
    """S10: the packing slips that stand, of (journal id, id of the packing slip it cancels or
    None): neither a cancellation nor canceled by one. Invoices take only from these (S7).
    Post_invoice, bulk invoicing and its batches all ask this one rule."""
    slips = list(packing_slips)
    canceled = {reverses for _, reverses in slips if reverses is not None}
    return frozenset(id_ for id_, reverses in slips if reverses is None and id_ not in canceled)


def check_cancelable(
    number: str, is_reversal: bool, canceled_by: str | None, invoiced: bool
) -> None:
    """S10: only a standing packing slip that no invoice has taken from can be canceled.

    `canceled_by`: the number of the packing slip that already canceled it, if one did;
    `invoiced`: whether an invoice took any of its lines, even in part.
    """
    if is_reversal:
        raise Rejection(
            "packing_slip.is_reversal",
            f"{number} is itself the cancellation of a packing slip",
        )
    if canceled_by is not None:
        raise Rejection(
            "packing_slip.already_canceled",
            f"packing slip {number} was already canceled by {canceled_by}",
            rule="S10",
        )
    if invoiced:
        raise Rejection(
            "packing_slip.invoiced",
            f"packing slip {number} is already invoiced; it can no longer be canceled, "
            "credit the invoice instead",
            rule="S10",
        )


@dataclass(frozen=True)
class ShippedLine:
    """One line of the packing slip to cancel."""

    journal_line_id: int
    sales_line_id: int
    quantity: Decimal


@dataclass(frozen=True)
class ReversalLine:
    """One line of the canceling packing slip: the shipped line it reverses, in full."""

    reverses_line_id: int
    sales_line_id: int
    quantity: Decimal  # negative: the shipped quantity taken back


def plan_cancellation(lines: Sequence[ShippedLine]) -> tuple[ReversalLine, ...]:
    """S10: every line reversed with its full quantity, never a part of it, in the same order
    (serials cannot be split between a kept and a reversed part of one line)."""
    return tuple(
        ReversalLine(line.journal_line_id, line.sales_line_id, -line.quantity) for line in lines
    )
