"""Data for the back-office page's tests (test_pages_office, test_browser_office): the
Norwegian example catalog plus a serialized item, one order sold through to an invoice with
its PDF and e-invoice (the customer has a Peppol endpoint, E1), and one rejected request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.documents import render_pending
from docpost.pipeline.entrypoints.http.auth import create_key
from tests.conftest import Runner, norway_catalog

ORDER = "SO-3001"
SERIAL = "SAG-7001"
REJECTED = "office-rejected"


@dataclass
class Office:
    sessions: sessionmaker[Session]
    keys: dict[str, str]
    invoice: str


def office_data(sessions: sessionmaker[Session]) -> Office:
    run = Runner(sessions)
    catalog: dict[str, Any] = norway_catalog()
    catalog["tracking_groups"] = [
        {
            "code": "SN",
            "name": "Serials in sales process",
            "serial_active_in_sales_process": True,
            "serial_number_control": True,
            "blank_issue_allowed": False,
        }
    ]
    catalog["items"].append(
        {
            "item": "SAG-1",
            "name": "Ostehøvel med serienummer",
            "unit": "ea",
            "base_sales_price": "899.00",
            "tax_code": "3",
            "tracking_group": "SN",
            "warranty_months": 24,
        }
    )
    catalog["actors"].append({"actor": "auditor", "duties": []})
    run.ok("upsert_catalog", catalog)
    lines = [
        {"line": 1, "item": "SAG-1", "quantity": "1", "unit_price": "899.00"},
        {"line": 2, "item": "GAVE-1", "quantity": "2"},
    ]
    run.ok("upsert_order", {"order": ORDER, "customer": "NO-1001", "lines": lines})
    run.ok("confirm_order", {"order": ORDER})
    slip = run.ok(
        "post_packing_slip",
        {"order": ORDER, "lines": [{"line": 1, "quantity": "1", "serials": [SERIAL]}]},
        actor="warehouse-1",
    )
    invoice = run.ok("post_invoice", {"order": ORDER, "packing_slips": [slip["journal"]]})
    run.rejected("post_invoice", {"order": "SO-NONE"}, request_id=REJECTED)
    render_pending(sessions)
    keys = {}
    with sessions() as session, session.begin():
        for actor in ("erp", "auditor", "warehouse-1"):
            keys[actor] = create_key(session, actor)
    return Office(sessions, keys, invoice["journal"])
