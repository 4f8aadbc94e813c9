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
    # totals and footer
    "net": "Net amount",
    "total": "Total",
    "notes": "Notes",
    "no_lines": "No lines.",
    # {page} and {pages} become CSS counters
    "page_of": "Page {page} of {pages}",
}

_NB_NO: dict[str, str] = {
    "confirmation": "Ordrebekreftelse",
    "packing_slip": "Følgeseddel",
    "invoice": "Faktura",
    "credit_note": "Kreditnota",
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
    "not_readable": "ikke lesbar",
    "bundle": "Pakke",
    "net": "Nettobeløp",
    "total": "Totalt",
    "notes": "Merknader",
    "no_lines": "Ingen linjer.",
    "page_of": "Side {page} av {pages}",
}

LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"en_US": MappingProxyType(_EN_US), "nb_NO": MappingProxyType(_NB_NO)}
)

SUPPORTED_LOCALES: tuple[str, ...] = tuple(LABELS)


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
