"""What the benchmarks post: a catalog and the orders and packing slips made against it.

- `usmf`: the USMF example catalog, no company and no tax codes, so no VAT; an order of three
  lines (a serialized laptop x 2 with 2 serials, docking stations x 2 and x 1). The bench's
  figures before issue 15, kept for the sections that compare with raw SQL of that posting
  (db floor, queue ceiling) and for ordering, recovery and serials.
- `tax`: the Norwegian example catalog (company M6, SAF-T tax codes M8) with the USMF tracking
  groups and a serialized laptop at 25 %; an order of three lines at mixed rates: the laptop x 2
  (2 serials, code 3, 25 %), cheese x 2 (code 31, 15 %) and a gift basket whose components are
  a cheese (15 %) and a knife (25 %) (T4), so confirmed before posting (B1, B2). The packing
  slip carries 4 lines; its invoice two VAT groups (T3), a due date, a KID (P1, P2) and an
  output VAT voucher per code (L1): the posting and bulk-invoicing figures are measured on it.
- `no_tax`: the same catalog without the company and the tax codes (and the items' codes),
  the same orders and packing slips: the peer that makes the cost of tax a ratio in one run.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bench.common import CATALOG, order_request, packing_slip_request, request

NORWAY = (
    Path(__file__).resolve().parent.parent / "pipeline" / "examples" / "norway" / "catalog.json"
)
# The tax scenario's invoice: VAT groups 25 % (the laptops, the knife) and 15 % (the cheeses)
TAX_VAT_GROUPS = 2
TAX_CUSTOMER = "NO-1001"  # domestic, NOK, 30 days' payment terms (M7)
LAPTOP = {
    "item": "1000",
    "name": "Surface Pro 128 GB",
    "unit": "ea",
    "base_sales_price": "1900.00",
    "tracking_group": "SN-SALES",
    "tax_code": "3",
}


@dataclass(frozen=True)
class Scenario:
    name: str
    catalog: Callable[[], dict[str, Any]]
    order: Callable[[str], dict[str, Any]]
    packing_slip: Callable[[str], dict[str, Any]]
    # B2: an order holding a bundle is confirmed before anything is posted for it (set-up)
    confirm: bool


@cache
def _usmf_catalog() -> dict[str, Any]:
    catalog: dict[str, Any] = json.loads(CATALOG.read_text())
    return catalog


def usmf_catalog() -> dict[str, Any]:
    return copy.deepcopy(_usmf_catalog())


def tax_catalog() -> dict[str, Any]:
    """The Norwegian example plus the USMF tracking groups and a serialized laptop at 25 %, so
    the benchmark posting keeps its 2 serials."""
    catalog: dict[str, Any] = json.loads(NORWAY.read_text(encoding="utf-8"))
    catalog["tracking_groups"] = usmf_catalog()["tracking_groups"]
    catalog["items"].append(dict(LAPTOP))
    return catalog


def no_tax_catalog() -> dict[str, Any]:
    """The tax catalog without what turns VAT on: no company, no tax codes, items uncoded."""
    catalog = tax_catalog()
    del catalog["company"], catalog["tax_codes"]
    for item in catalog["items"]:
        item.pop("tax_code", None)
    return catalog


def confirm_request(number: str) -> dict[str, Any]:
    return request(f"confirm-{number}", "confirm_order", {"order": number})


def tax_order_request(number: str) -> dict[str, Any]:
    """Three lines at mixed rates: the laptop x 2 (25 %), cheese x 2 (15 %) and a gift basket
    of a cheese (15 %) and a knife (25 %), exploded by confirmation into lines 4 and 5."""
    return request(
        f"order-{number}",
        "upsert_order",
        {
            "order": number,
            "customer": TAX_CUSTOMER,
            "lines": [
                {"line": 1, "item": "1000", "quantity": "2", "unit_price": "1900.00"},
                {"line": 2, "item": "OST-1", "quantity": "2", "unit_price": "189.00"},
                {"line": 3, "item": "GAVE-1", "quantity": "1", "unit_price": "438.00"},
            ],
        },
    )


def tax_packing_slip_request(number: str) -> dict[str, Any]:
    """The whole order: the laptops with 2 serials, the cheese, the basket's two components
    (B7: a full bundle)."""
    return request(
        f"ps-{number}",
        "post_packing_slip",
        {
            "order": number,
            "lines": [
                {"line": 1, "quantity": "2", "serials": [f"{number}-A", f"{number}-B"]},
                {"line": 2, "quantity": "2"},
                {"line": 4, "quantity": "1"},
                {"line": 5, "quantity": "1"},
            ],
        },
        actor="warehouse-1",
    )


USMF = Scenario("usmf", usmf_catalog, order_request, packing_slip_request, confirm=False)
TAX = Scenario("tax", tax_catalog, tax_order_request, tax_packing_slip_request, confirm=True)
NO_TAX = Scenario("no_tax", no_tax_catalog, tax_order_request, tax_packing_slip_request, True)
SCENARIOS = {s.name: s for s in (USMF, TAX, NO_TAX)}
