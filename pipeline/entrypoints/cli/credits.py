"""How much of an invoice its credit notes credit, for `docpost show journal`: an invoice
credited for one unit of three is "partly credited by CN-000001", not "reversed by" it
(issue 18 item 4). A query of the journals' own lines: no rule is involved, credit notes are
posted as they are."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.schema import Journal, JournalLine

Quantities = dict[int, Decimal]


def credit_state(invoiced: Quantities, credited: Quantities) -> str | None:
    """'fully' when every invoiced order line is credited in its whole quantity, 'partly' when
    something but not all is, None when nothing is."""
    if not any(q for q in credited.values()):
        return None
    whole = all(credited.get(line, Decimal(0)) >= q for line, q in invoiced.items())
    return "fully" if whole else "partly"


def _per_line(rows: Iterable[Any]) -> Quantities:
    quantities: Quantities = defaultdict(Decimal)
    for line, quantity in rows:
        quantities[line] += abs(quantity)
    return dict(quantities)


def credits_of(session: Session, number: str) -> dict[str, Any]:
    """An invoice's credit notes, oldest first, and how much they credit: `credit_notes` and
    `credited` ('fully', 'partly' or None). Empty for a journal that is not an invoice."""
    invoice = session.scalars(
        select(Journal).where(Journal.number == number, Journal.kind == "invoice")
    ).one_or_none()
    if invoice is None:
        return {}
    notes = session.scalars(
        select(Journal).where(Journal.reverses_id == invoice.id).order_by(Journal.id)
    ).all()
    invoiced = _per_line(
        session.execute(
            select(JournalLine.line_no, JournalLine.quantity).where(
                JournalLine.journal_id == invoice.id
            )
        ).all()
    )
    credited = _per_line(
        session.execute(
            select(JournalLine.line_no, JournalLine.quantity).where(
                JournalLine.journal_id.in_([n.id for n in notes])
            )
        ).all()
    )
    return {
        "credit_notes": [n.number for n in notes],
        "credited": credit_state(invoiced, credited),
    }


def credit_text(journal: dict[str, Any]) -> str | None:
    """The header's words for an invoice's credit notes: 'partly credited by CN-000001' or
    'credited in full by CN-000001, CN-000002'; None where `reversed by` is right."""
    if not journal.get("credited"):
        return None
    notes = ", ".join(journal["credit_notes"])
    if journal["credited"] == "partly":
        return f"partly credited by {notes}"
    return f"credited in full by {notes}"
