"""Which posted journals get an EHF / Peppol BIS 3.0 e-invoice beside their PDF (DOMAIN.md E1).

Decided at posting, from the journal as posted (D6: the seller and buyer it froze), so the
request's outcome can name the e-invoice (CONTRACT: ``"documents": ["INV-000001.pdf",
"INV-000001.xml"]``) and its row is written in the same transaction as the journal:

- an invoice or a credit note (not a confirmation or packing slip),
- not of a point-of-sale sale: a till receipt (T6) is paid on the spot, mostly by an
  anonymous walk-in customer with no electronic address; its credit notes neither,
- by a seller with a Peppol endpoint (E1),
- posted with VAT, or by a seller that is not VAT registered (M6: its e-invoice says "not
  subject to VAT", category O); a VAT-registered seller's journal without VAT has no VAT
  breakdown to send,
- to a buyer that can be addressed: its Peppol endpoint, else its organisation number under
  its country's scheme (a Norwegian buyer's EHF address is its organisation number, 0192).

The generator (``pipeline.documents.einvoice_view``) refuses the same journals (NoEInvoice);
tests/einvoice/test_stored_einvoices.py checks that the two agree on every journal it posts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Countries whose organisation numbers address a Peppol participant (ISO 6523 ICD), as
# pipeline.documents.einvoice_view.ORGANISATION_SCHEMES.
ORGANISATION_SCHEME_COUNTRIES = frozenset({"NO", "SE", "DK"})
EINVOICE_KINDS = frozenset({"invoice", "credit_note"})


def gets_einvoice(
    kind: str,
    origin: str,
    seller: Mapping[str, Any] | None,
    buyer: Mapping[str, Any] | None,
    *,
    with_vat: bool,
) -> bool:
    """E1: whether a journal posted as given gets an e-invoice (see the module)."""
    if kind not in EINVOICE_KINDS or origin == "pos":
        return False
    if not seller or not seller.get("peppol_endpoint"):
        return False
    if not with_vat and seller.get("vat_registered"):
        return False
    return buyer_addressable(buyer or {}, seller.get("country"))


def buyer_addressable(buyer: Mapping[str, Any], seller_country: str | None) -> bool:
    """The buyer has an electronic address (PEPPOL-EN16931-R010): an endpoint, else an
    organisation number in a country whose numbers are Peppol identifiers (the buyer's
    country, else the seller's, else Norway)."""
    if buyer.get("peppol_endpoint"):
        return True
    country = buyer.get("country") or seller_country or "NO"
    return bool(buyer.get("organisation_number")) and country in ORGANISATION_SCHEME_COUNTRIES
