"""A confirmation's picking list (DOMAIN.md D2): what ``store`` renders for a document row of
kind PICKING_LIST. The lines are the confirmation's (its snapshot, D6); which of their items
are serialized in sales is read here, when the picking list is rendered, right after the
confirmation that wrote its row: the journal keeps no tracking setting, and the warehouse
scans what the item's tracking group asks for when it packs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.documents.snapshot import JournalSnapshot
from docpost.pipeline.documents.view import picking_list_view
from docpost.reports.viewmodel import CompanyView, DocumentView
from docpost.schema import Item, TrackingGroup


def serialized_items(session: Session, items: set[str]) -> set[str]:
    """Of `items`, those with serial number control in the sales process (S2)."""
    if not items:
        return set()
    return set(
        session.scalars(
            select(Item.item)
            .join(TrackingGroup, TrackingGroup.code == Item.tracking_group_code)
            .where(Item.item.in_(items), TrackingGroup.serial_active_in_sales_process)
        )
    )


def view(
    session: Session,
    snapshot: JournalSnapshot,
    company: CompanyView,
    locale: str,
    company_country: str | None = None,
) -> DocumentView:
    """The picking list's view model (view.picking_list_view)."""
    serialized = serialized_items(session, {ln.item_code for ln in snapshot.lines})
    return picking_list_view(snapshot, company, locale, serialized, company_country)
