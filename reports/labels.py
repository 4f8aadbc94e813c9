"""Printed words of the documents, per locale.

Only the fixed words live here; numbers, money and dates are formatted by babel in
``reports.formatting``. Every locale must define the same keys (a test checks it), so a missing
translation fails in CI rather than on a customer's invoice.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import MappingProxyType

DEFAULT_LOCALE = "en_US"

_EN_US: dict[str, str] = {
    # document titles, also used for references to other documents
    "confirmation": "Order confirmation",
    "packing_slip": "Packing slip",
    "invoice": "Invoice",
    "credit_note": "Credit note",
    "receipt": "Receipt",  # a point-of-sale sale (T6)
    "picking_list": "Picking list",  # a confirmation's, for the warehouse (D2)
    "order": "Sales order",
    # header block
    "number": "Number",
    "date": "Date",
    "customer_number": "Customer no.",
    "currency": "Currency",
    "revision": "Revision",
    "references": "References",
    "vat": "VAT no.",
    "bill_to": "Bill to",
    "ship_to": "Ship to",
    "customer": "Customer",
    # line table
    "line": "Line",
    "item": "Item",
    "description": "Description",
    "quantity": "Quantity",
    "unit": "Unit",
    "unit_price": "Unit price",
    "discount": "Discount",
    "amount": "Amount",
    "serials": "Serial numbers",
    "not_readable": "not readable",
    "bundle": "Bundle",
    "scan_serials": "Serial numbers to scan",  # a picking list's serialized line (D2)
    # totals and footer
    "net": "Net amount",
    "total": "Total",
    "notes": "Notes",
    "no_lines": "No lines.",
    # {page} and {pages} become CSS counters
    "page_of": "Page {page} of {pages}",
    # real invoices (DOMAIN.md P3, T3, T7): dates, parties, VAT and payment
    "invoice_date": "Invoice date",
    "delivery_date": "Delivery date",
    "due_date": "Due date",
    "payment_terms": "Payment terms",
    "payment_terms_days": "{days} days net",  # {days} becomes the number
    "reference": "Your reference",
    "org_number": "Org. no.",
    # the register's own name, printed as the law says it (P3)
    "foretaksregisteret": "Foretaksregisteret",
    "credits_invoice": "Credits invoice",
    "invoice_of": "{number} of {date}",  # the credited invoice's number and date
    "exchange_rate": "Exchange rate",
    "vat_rate": "VAT",
    "unit_price_incl_vat": "Unit price incl. VAT",
    "amount_incl_vat": "Amount incl. VAT",
    "vat_breakdown": "VAT breakdown",
    "vat_rate_group": "Rate",
    "taxable_amount": "Taxable amount",
    "vat_amount": "VAT",
    "vat_in": "VAT in {currency}",
    "vat_category_Z": "zero rated",
    "vat_category_E": "exempt",
    "vat_category_G": "export",
    "vat_category_O": "outside the scope of VAT",
    "vat_category_AE": "reverse charge",
    "vat_category_K": "intra-community supply",
    "reverse_charge": "Reverse charge",
    "net_excl_vat": "Total excl. VAT",
    "vat_total": "VAT",
    "total_incl_vat": "Total incl. VAT",
    "amount_due": "Amount due",
    "amount_credited": "Amount credited",
    "payment_details": "Payment details",
    "kid": "Payment ref. (KID)",
    "bank_account": "Bank account",
    "iban": "IBAN",
    "bic": "BIC",
}

_NB_NO: dict[str, str] = {
    "confirmation": "Ordrebekreftelse",
    "packing_slip": "Følgeseddel",
    "invoice": "Faktura",
    "credit_note": "Kreditnota",
    "receipt": "Kvittering",
    "picking_list": "Plukkliste",
    "order": "Salgsordre",
    "number": "Nummer",
    "date": "Dato",
    "customer_number": "Kundenr.",
    "currency": "Valuta",
    "revision": "Revisjon",
    "references": "Referanser",
    "vat": "MVA-nr.",
    "bill_to": "Fakturamottaker",
    "ship_to": "Leveringsadresse",
    "customer": "Kunde",
    "line": "Linje",
    "item": "Varenr.",
    "description": "Beskrivelse",
    "quantity": "Antall",
    "unit": "Enhet",
    "unit_price": "Enhetspris",
    "discount": "Rabatt",
    "amount": "Beløp",
    "serials": "Serienumre",
    # The product documents' own words (D5): the button for a blank registration is "Ikke
    # lesbart" (et serienummer, neuter), and a bundle is a "bunt" ("Nettobeløp for bunt").
    "not_readable": "Ikke lesbart",
    "bundle": "Bunt",
    "scan_serials": "Serienumre skal skannes",
    "net": "Nettobeløp",
    "total": "Totalt",
    "notes": "Merknader",
    "no_lines": "Ingen linjer.",
    "page_of": "Side {page} av {pages}",
    "invoice_date": "Fakturadato",
    "delivery_date": "Leveringsdato",
    "due_date": "Forfallsdato",
    "payment_terms": "Betalingsbetingelser",
    "payment_terms_days": "{days} dager netto",
    "reference": "Deres referanse",
    "org_number": "Organisasjonsnummer",
    "foretaksregisteret": "Foretaksregisteret",
    "credits_invoice": "Krediterer faktura",
    "invoice_of": "{number} av {date}",
    "exchange_rate": "Valutakurs",
    "vat_rate": "Mva.",
    "unit_price_incl_vat": "Enhetspris inkl. mva.",
    "amount_incl_vat": "Beløp inkl. mva.",
    "vat_breakdown": "Spesifikasjon av merverdiavgift",
    "vat_rate_group": "Sats",
    "taxable_amount": "Grunnlag",
    "vat_amount": "Mva.",
    "vat_in": "Mva. i {currency}",
    "vat_category_Z": "nullsats",
    "vat_category_E": "fritatt",
    "vat_category_G": "eksport",
    "vat_category_O": "utenfor merverdiavgiftsområdet",
    "vat_category_AE": "omvendt avgiftsplikt",
    "vat_category_K": "levering innen EØS",
    "reverse_charge": "Omvendt avgiftsplikt",
    "net_excl_vat": "Sum eks. mva.",
    "vat_total": "Merverdiavgift",
    "total_incl_vat": "Sum inkl. mva.",
    "amount_due": "Å betale",
    "amount_credited": "Til gode",
    "payment_details": "Betalingsinformasjon",
    "kid": "KID",
    "bank_account": "Kontonummer",
    "iban": "IBAN",
    "bic": "BIC",
}

LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"en_US": MappingProxyType(_EN_US), "nb_NO": MappingProxyType(_NB_NO)}
)

SUPPORTED_LOCALES: tuple[str, ...] = tuple(LABELS)

# Printed units per locale (P4: nb_NO is Norwegian throughout, "stk" for "ea"). A unit not listed
# prints as the item has it. The view model prints units as given, so the caller maps them with
# ``unit_label`` when it builds a view (the document's language is known there).
UNITS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en_US": MappingProxyType({"pcs": "ea"}),
        "nb_NO": MappingProxyType(
            {
                "ea": "stk",
                "pcs": "stk",
                "h": "t",
                "hr": "t",
                "hour": "t",
                "day": "dag",
                "month": "mnd.",
                "box": "eske",
                "pack": "pakke",
                "set": "sett",
            }
        ),
    }
)


def normalize_locale(locale: str) -> str:
    """Return the supported locale id for ``locale`` ("nb-NO" and "nb_no" mean nb_NO).

    Raises ``ValueError`` naming the supported locales for anything else.
    """
    if isinstance(locale, str):
        language, _, territory = locale.replace("-", "_").partition("_")
        candidate = f"{language.lower()}_{territory.upper()}"
        if candidate in LABELS:
            return candidate
    supported = ", ".join(SUPPORTED_LOCALES)
    raise ValueError(f"unsupported locale {locale!r}: supported locales are {supported}")


def labels_for(locale: str) -> Mapping[str, str]:
    """The printed words for ``locale`` (see ``normalize_locale``)."""
    return LABELS[normalize_locale(locale)]


def locale_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The document locale configured by ``DOCPOST_LOCALE`` (CONTRACT.md), default en_US.

    Validates eagerly so a misconfigured worker fails at start-up, not on its first document.
    """
    env = os.environ if environ is None else environ
    return normalize_locale(env.get("DOCPOST_LOCALE") or DEFAULT_LOCALE)


def unit_label(unit: str, locale: str) -> str:
    """The printed unit for the item unit ``unit`` in ``locale``: "ea" is "stk" in nb_NO (P4)."""
    return UNITS[normalize_locale(locale)].get(unit, unit)
