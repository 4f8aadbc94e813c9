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
- D2: a picking list (kind ``picking_list``, made of a confirmation) is internal like a
  packing slip: component and other lines, never a bundle parent, no prices; a line whose
  serials are scanned at packing has ``scan_serials``.
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

Addresses are either a list of printed lines or (the older form) one string with lines
separated by ``\\n``; either way each line prints on its own line. Amounts and quantities are
printed in the currency's and locale's number format (babel); dates likewise. Identifiers are
printed as given: the caller formats them for print (``"NO 923 609 016 MVA"``,
``"1234.56.78903"``). ``NotRequired`` keys get a default when missing (``revision`` 1,
``references``/``notes``/``serials`` empty, ``vat``/prices ``None``, ``is_bundle`` false), and
every key below that a view leaves out prints nothing, so a view without them prints as before.

Real invoices (issue 15; DOMAIN.md P3, P4, T4, T6, T7, D4). All of these are ``NotRequired``:

- ``company``: ``org_number`` formatted for print with ``MVA`` when VAT registered (P3, M6),
  ``foretaksregisteret`` (prints "Foretaksregisteret"), ``bank_account``, ``iban``, ``bic``.
- ``customer``: ``org_number`` or ``vat_id``, ``reference`` (the buyer's reference).
- document: ``due_date``, ``delivery_date``, ``payment_terms_days``, ``kid`` (P2), the invoice
  a credit note credits (``credited_invoice``: number and date), ``reverse_charge`` (prints
  "Omvendt avgiftsplikt" / "Reverse charge", M8), ``prices_include_vat`` (a POS receipt whose
  line amounts are gross, T6: only the column headings say so).
- ``lines[].tax_rate``: the line's VAT rate in percent (T1); a VAT column is printed when any
  line has one. T4: a bundle whose components have different rates comes as one line per
  (bundle, rate), named by the caller with ``formatting.rate_label`` ("Gavekurv (15 %)").
- ``vat``: the VAT breakdown, one group per category and rate (T3), printed as given;
  ``vat_amount_company`` is the group's VAT in ``company_currency`` (T7), with
  ``exchange_rate`` (company currency per unit of ``currency``).
- ``totals``: ``vat``, ``due`` (the amount due) and ``vat_company`` besides ``net`` and
  ``total``. With ``vat`` given, the totals read "Sum eks. mva." / "Merverdiavgift" /
  "Sum inkl. mva." / "Å betale". D4: nothing is added up; each figure is the posted one.
- ``kind`` "receipt" (T6): a point-of-sale sale; prints the VAT per rate and its totals, and
  never the payment block. A confirmation may carry ``vat`` and ``totals`` (without ``due``):
  it prints the VAT breakdown and totals, and no payment block either (only an invoice does).
- ``lines[].unit`` is printed as given: P4 wants ``stk`` for ``ea`` in nb_NO, so the caller
  passes ``labels.unit_label(unit, locale)``.

A Norwegian invoice (``samples.norwegian_sample_view``) adds, for example::

    "company": {..., "address": ["Strandkaien 12", "5013 Bergen", "Norge"],
                "org_number": "NO 923 609 016 MVA", "foretaksregisteret": True,
                "bank_account": "1234.56.78903", "iban": "NO93 8601 1117 947",
                "bic": "DNBANOKK"},
    "customer": {..., "org_number": "987 654 325", "reference": "Kari Nordmann"},
    "due_date": datetime.date(2025, 2, 14), "delivery_date": datetime.date(2025, 1, 14),
    "payment_terms_days": 30, "kid": "0000018",
    "lines": [{..., "name": "Gavekurv (15 %)", "amount": Decimal("750.00"),
               "tax_rate": Decimal("15")}, ...],
    "vat": [{"category": "S", "rate": Decimal("15"), "taxable_amount": Decimal("1072.20"),
             "vat_amount": Decimal("160.83")}, ...],
    "totals": {"net": Decimal("3219.20"), "vat": Decimal("697.58"),
               "total": Decimal("3916.78"), "due": Decimal("3916.78")},
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal, NotRequired, TypedDict

# "receipt": a point-of-sale sale's invoice as printed (T6): paid at the till, so titled
# "Receipt" / "Kvittering" and never given the payment block.
# "picking_list": a confirmation's picking list (D2), the warehouse's internal document: the
# component and other lines to pick, no parent, no prices, each serialized line marked
# (``scan_serials``).
Kind = Literal["confirmation", "packing_slip", "invoice", "credit_note", "receipt", "picking_list"]
ReferenceLabel = Literal["packing_slip", "invoice", "order", "confirmation", "credit_note"]

KINDS: tuple[Kind, ...] = (
    "confirmation",
    "packing_slip",
    "invoice",
    "credit_note",
    "receipt",
    "picking_list",
)


# A printed address: one string per line, or (the older form) one string with "\n" between lines.
Address = str | list[str]

# EN 16931 VAT categories (M8): standard, zero rated, exempt, export, outside the scope,
# reverse charge, intra-community supply.
VatCategory = Literal["S", "Z", "E", "G", "O", "AE", "K"]


class CompanyView(TypedDict):
    name: str
    address: Address
    vat: NotRequired[str | None]  # a VAT number printed as "VAT no. ..." (as before)
    org_number: NotRequired[str | None]  # formatted for print: "NO 923 609 016 MVA" (P3)
    foretaksregisteret: NotRequired[bool]  # registered there: printed so (M6, P3)
    bank_account: NotRequired[str | None]  # formatted for print: "1234.56.78903"
    iban: NotRequired[str | None]  # "NO93 8601 1117 947"
    bic: NotRequired[str | None]


class CustomerView(TypedDict):
    customer: str  # the customer account number, e.g. "US-004"
    name: str
    address: Address
    org_number: NotRequired[str | None]  # the buyer's organisation number, formatted (P3)
    vat_id: NotRequired[str | None]  # or its VAT id, e.g. "SE556677889901"
    reference: NotRequired[str | None]  # the buyer's reference (P3)


class ReferenceView(TypedDict):
    label: ReferenceLabel  # printed as the localised document name
    value: str  # e.g. "PS-000001"


class LineView(TypedDict):
    line: str  # order line number as text: "1", or "1.2" for a component
    item: str
    name: str  # T4: "Gavekurv (15 %)" for a bundle's share at one rate (formatting.rate_label)
    unit: str  # printed as given (labels.unit_label: "stk" for "ea" in nb_NO, P4)
    quantity: Decimal
    unit_price: NotRequired[Decimal | None]  # None on packing slips
    discount_percent: NotRequired[Decimal | None]  # 10 means 10 %
    discount_amount: NotRequired[Decimal | None]  # per line, in the document currency
    amount: NotRequired[Decimal | None]  # line net amount; None on packing slips
    serials: NotRequired[list[str | None]]  # None = blank registration ("not readable")
    is_bundle: NotRequired[bool]  # the line stands for a whole bundle (D1)
    tax_rate: NotRequired[Decimal | None]  # VAT rate in percent: 25 means 25 % (T1)
    # Picking list (D2): the item is serialized in sales, so its serials are scanned when the
    # line is packed; printed as a tag on the line ("Serial numbers to scan").
    scan_serials: NotRequired[bool]


class VatGroupView(TypedDict):
    """One line of the VAT breakdown (T3): a VAT category and rate, printed as given."""

    category: VatCategory
    rate: Decimal  # percent
    taxable_amount: Decimal  # the sum of the group's net line amounts
    vat_amount: Decimal
    vat_amount_company: NotRequired[Decimal | None]  # in the company currency (T7)


class TotalsView(TypedDict):
    net: Decimal
    total: Decimal  # including VAT when ``vat`` is given
    vat: NotRequired[Decimal | None]  # the document's VAT (the sum of its groups, T3)
    due: NotRequired[Decimal | None]  # the amount due (to be credited, on a credit note)
    vat_company: NotRequired[Decimal | None]  # the VAT in the company currency (T7)


class CreditedInvoiceView(TypedDict):
    """The invoice a credit note credits (P3)."""

    number: str
    date: datetime.date


class DocumentView(TypedDict):
    kind: Kind
    number: str  # journal number, e.g. "INV-000001"
    revision: NotRequired[int]  # PDF revision; a serial correction (S9, D6) adds one
    date: datetime.date  # posting date (the invoice date, P1)
    currency: str  # ISO 4217 code
    company: CompanyView
    customer: CustomerView
    order: str
    references: NotRequired[list[ReferenceView]]
    lines: list[LineView]
    totals: TotalsView | None  # None on packing slips
    notes: NotRequired[list[str]]  # free text lines, printed as given
    # Real invoices (P1-P3, T3-T7): printed only when given.
    due_date: NotRequired[datetime.date | None]
    delivery_date: NotRequired[datetime.date | None]
    payment_terms_days: NotRequired[int | None]
    kid: NotRequired[str | None]  # payment reference (P2), digits (and "-" for MOD11)
    credited_invoice: NotRequired[CreditedInvoiceView | None]  # on a credit note
    reverse_charge: NotRequired[bool]  # prints "Omvendt avgiftsplikt" / "Reverse charge"
    prices_include_vat: NotRequired[bool]  # POS receipt: line prices and amounts are gross
    vat: NotRequired[list[VatGroupView] | None]  # the VAT breakdown per category and rate
    company_currency: NotRequired[str | None]  # T7: when it is not ``currency``
    exchange_rate: NotRequired[Decimal | None]  # company currency per unit of ``currency``
