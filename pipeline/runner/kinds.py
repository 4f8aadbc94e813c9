"""The request kinds, in one table: the service each runs, and the duties it needs (M5).

The runner dispatches by it (`SERVICES`), the services check duties by it (the runner hands
`needs_of` to the unit of work, whose module sits below this one and cannot import it), and
the HTTP service checks a request against it before it queues one (entrypoints.http.auth):
the three cannot disagree, and a new kind is one row here (and its payload in the contract).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docpost.pipeline.duties import (
    CORRECT_SERIALS,
    MAINTAIN_SALES_ORDERS,
    POST_SALES_DOCUMENTS,
    RECOGNIZE_REVENUE,
    Need,
    catalog_needs,
)
from docpost.pipeline.services.bulk import bulk_invoice
from docpost.pipeline.services.catalog import upsert_catalog
from docpost.pipeline.services.credit_notes import post_credit_note
from docpost.pipeline.services.invoices import post_invoice
from docpost.pipeline.services.orders import confirm_order, upsert_order
from docpost.pipeline.services.packing_slips import cancel_packing_slip, post_packing_slip
from docpost.pipeline.services.pos import post_pos_sale
from docpost.pipeline.services.revenue import recognize_revenue
from docpost.pipeline.services.serial_changes import change_serial
from docpost.pipeline.uow import UnitOfWork

Service = Callable[[UnitOfWork, Any], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    service: Service
    # One duty, or (upsert_catalog) the duties worked out from the parsed command: a catalog
    # needs what the parts it loads need.
    needs: Need | Callable[[Any], tuple[Need, ...]]


KINDS: dict[str, Kind] = {
    "upsert_catalog": Kind(upsert_catalog, catalog_needs),
    "upsert_order": Kind(upsert_order, Need(MAINTAIN_SALES_ORDERS, "enter sales orders")),
    "confirm_order": Kind(confirm_order, Need(MAINTAIN_SALES_ORDERS, "confirm sales orders")),
    "post_packing_slip": Kind(post_packing_slip, Need(POST_SALES_DOCUMENTS, "post packing slips")),
    "post_invoice": Kind(post_invoice, Need(POST_SALES_DOCUMENTS, "post invoices")),
    "post_credit_note": Kind(post_credit_note, Need(POST_SALES_DOCUMENTS, "post credit notes")),
    "cancel_packing_slip": Kind(
        cancel_packing_slip, Need(POST_SALES_DOCUMENTS, "cancel packing slips")
    ),
    "change_serial": Kind(change_serial, Need(CORRECT_SERIALS, "correct serial numbers")),
    "post_pos_sale": Kind(post_pos_sale, Need(POST_SALES_DOCUMENTS, "post point-of-sale sales")),
    "bulk_invoice": Kind(bulk_invoice, Need(POST_SALES_DOCUMENTS, "run bulk invoicing")),
    "recognize_revenue": Kind(recognize_revenue, Need(RECOGNIZE_REVENUE, "recognise revenue")),
}

# The table's service column, which the runner dispatches by.
SERVICES: dict[str, Service] = {name: kind.service for name, kind in KINDS.items()}


def needs_of(kind: str, command: Any = None) -> tuple[Need, ...]:
    """The duties a request of `kind` with this parsed payload needs."""
    needs = KINDS[kind].needs
    return (needs,) if isinstance(needs, Need) else needs(command)
