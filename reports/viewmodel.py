"""The view model: the plain data a document template prints.

The pipeline builds one ``DocumentView`` per posted journal and hands it to
``docpost.reports.render.render_pdf``. It holds only dicts, lists, ``str``, ``int``, ``bool``,
``Decimal``, ``datetime.date`` and ``None`` — never ORM objects — so a template cannot trigger a
lazy load, and a stored view could be re-rendered without a database.

The pipeline decides *what* is printed, the templates only decide *how*:

- D1/D2/D3: bundle collapsing is done by the caller. An external document (confirmation,
  invoice) gets the bundle parent as one line with ``is_bundle=True`` and no component lines; a
  packing slip gets the component lines; a credit note gets the component lines it credits.
- D5/S14: ``serials`` of a line are printed under it, in order. ``None`` is a blank
  registration and prints as the localised "not readable". On an invoice the caller puts the
  serials of a bundle's serialized components on the bundle parent line.
- D4: ``totals`` are printed as given; the renderer never adds anything up.
- Packing slips are internal documents without prices: ``unit_price``, ``discount_*``,
  ``amount`` and ``totals`` are ``None`` there, and the packing slip layout has no price columns
  at all (even if a caller passed prices, they are not printed).

Example::

    {
        "kind": "invoice",
        "number": "INV-000001",
        "revision": 1,
        "date": datetime.date(2024, 3, 5),
        "currency": "USD",
        "company": {"name": "Contoso Entertainment", "address": "1 Main St\\nSeattle",
                    "vat": "US-123"},
        "customer": {"customer": "US-004", "name": "Cave Wholesales", "address": "..."},
        "order": "SO-1001",
        "references": [{"label": "packing_slip", "value": "PS-000001"}],
        "lines": [{
            "line": "1", "item": "LaptopBundle", "name": "Laptop bundle", "unit": "ea",
            "quantity": Decimal("3"), "unit_price": Decimal("2300.00"),
            "discount_percent": None, "discount_amount": None,
            "amount": Decimal("6900.00"),
            "serials": ["SP-0001", None, "SP-0003"], "is_bundle": True,
        }],
        "totals": {"net": Decimal("6900.00"), "total": Decimal("6900.00")},
        "notes": [],
    }

Addresses are multi-line strings (lines separated by ``\\n``). Amounts and quantities are
printed in the currency's and locale's number format (babel); nothing is pre-formatted.
``NotRequired`` keys get a default when missing (``revision`` 1, ``references``/``notes``/
``serials`` empty, ``vat``/prices ``None``, ``is_bundle`` false).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal, NotRequired, TypedDict

Kind = Literal["confirmation", "packing_slip", "invoice", "credit_note"]
ReferenceLabel = Literal["packing_slip", "invoice", "order", "confirmation", "credit_note"]

KINDS: tuple[Kind, ...] = ("confirmation", "packing_slip", "invoice", "credit_note")


class CompanyView(TypedDict):
    name: str
    address: str
    vat: NotRequired[str | None]


class CustomerView(TypedDict):
    customer: str  # the customer account number, e.g. "US-004"
    name: str
    address: str


class ReferenceView(TypedDict):
    label: ReferenceLabel  # printed as the localised document name
    value: str  # e.g. "PS-000001"


class LineView(TypedDict):
    line: str  # order line number as text: "1", or "1.2" for a component
    item: str
    name: str
    unit: str
    quantity: Decimal
    unit_price: NotRequired[Decimal | None]  # None on packing slips
    discount_percent: NotRequired[Decimal | None]  # 10 means 10 %
    discount_amount: NotRequired[Decimal | None]  # per line, in the document currency
    amount: NotRequired[Decimal | None]  # line net amount; None on packing slips
    serials: NotRequired[list[str | None]]  # None = blank registration ("not readable")
    is_bundle: NotRequired[bool]  # the line stands for a whole bundle (D1)


class TotalsView(TypedDict):
    net: Decimal
    total: Decimal


class DocumentView(TypedDict):
    kind: Kind
    number: str  # journal number, e.g. "INV-000001"
    revision: NotRequired[int]  # PDF revision; a serial correction (S9, D6) adds one
    date: datetime.date  # posting date
    currency: str  # ISO 4217 code
    company: CompanyView
    customer: CustomerView
    order: str
    references: NotRequired[list[ReferenceView]]
    lines: list[LineView]
    totals: TotalsView | None  # None on packing slips
    notes: NotRequired[list[str]]  # free text lines, printed as given
