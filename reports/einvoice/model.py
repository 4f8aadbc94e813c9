"""The e-invoice model: what an EHF / Peppol BIS Billing 3.0 document says, as plain data.

``docpost.reports.einvoice.ubl`` writes it as UBL 2.1; the pipeline fills it
(``docpost.pipeline.documents.einvoice_view``) from the same view model the PDF prints (its
lines, VAT groups and totals: E3 by construction) and, for what a PDF never prints, from the
journal as posted: raw identifiers (organisation numbers, endpoints, accounts), ISO country
codes, UN/ECE unit codes and each line's EN 16931 VAT category (UNCL5305).

Frozen dataclasses of ``str``, ``Decimal``, ``datetime.date`` and tuples: no ORM object, no I/O.
Amounts are in the document currency with 2 decimals; quantities and credit note amounts are
positive (a CreditNote says "credit" by its type).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

EKind = Literal["invoice", "credit_note"]


@dataclass(frozen=True)
class Party:
    """A seller or buyer (BG-4, BG-7)."""

    name: str
    address_lines: tuple[str, ...] = ()  # BT-35/36/162 (at most three are written)
    postcode: str | None = None
    city: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2 (BT-40, BT-55)
    endpoint_scheme: str | None = None  # Peppol EAS, e.g. "0192" (BT-34, BT-49)
    endpoint_id: str | None = None  # e.g. "923609016"
    vat_id: str | None = None  # with its country prefix: "NO923609016MVA" (BT-31, BT-48)
    legal_id: str | None = None  # the organisation number (BT-30, BT-47)
    legal_id_scheme: str | None = None  # its ICD scheme, e.g. "0192"
    legal_form: str | None = None  # "Foretaksregisteret" (BT-33, NO-R-002)


@dataclass(frozen=True)
class Line:
    """One invoice or credit note line (BG-25) as the PDF prints it (D1, D3, T4)."""

    line_id: str  # the order line number as printed: "1"
    item: str  # the seller's item number (BT-155)
    name: str
    quantity: Decimal
    unit_code: str  # UN/ECE Recommendation 20 (BT-130): "EA", "KGM"
    amount: Decimal  # the line net amount (BT-131), as printed and posted
    category: str  # UNCL5305 VAT category (BT-151): S, Z, E, G, O, AE, K
    rate: Decimal  # percent (BT-152)
    unit_price: Decimal | None = None  # as entered, before discounts
    discount_percent: Decimal | None = None  # a line discount: 10 means 10 %
    discount_amount: Decimal | None = None  # a discount per unit (the ERP's formula)
    serials: tuple[str, ...] = ()  # registered serials (S14): cac:ItemInstance/cbc:SerialID
    blank_serials: int = 0  # blank registrations ("not readable", D5)
    note: str | None = None  # BT-127, e.g. the blank serials in the document's language


@dataclass(frozen=True)
class VatGroup:
    """One VAT breakdown group (BG-23): a category and rate (T3)."""

    category: str
    rate: Decimal
    taxable_amount: Decimal
    vat_amount: Decimal


@dataclass(frozen=True)
class EInvoice:
    kind: EKind
    number: str  # BT-1
    issue_date: dt.date  # BT-2: the document date (P1)
    currency: str  # ISO 4217 (BT-5)
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    vat: tuple[VatGroup, ...]
    net_total: Decimal  # the sum of the lines (BT-106 = BT-109: no document allowances)
    vat_total: Decimal  # BT-110
    total: Decimal  # incl. VAT (BT-112)
    payable: Decimal  # BT-115
    due_date: dt.date | None = None  # BT-9 (an invoice's)
    delivery_date: dt.date | None = None  # BT-72
    buyer_reference: str | None = None  # BT-10
    order_reference: str | None = None  # BT-13: the sales order number
    kid: str | None = None  # BT-83 (P2)
    bank_account: str | None = None  # a domestic account number, digits (BT-84)
    iban: str | None = None
    bic: str | None = None  # BT-86
    payment_terms: str | None = None  # BT-20, as text
    # T7: the VAT accounting currency (BT-6) and the VAT total in it (BT-111), when the
    # document currency is not the company's.
    tax_currency: str | None = None
    tax_currency_vat_total: Decimal | None = None
    credited_invoice: str | None = None  # BT-25: a credit note's invoice
    credited_invoice_date: dt.date | None = None  # BT-26
    notes: tuple[str, ...] = ()  # BT-22
