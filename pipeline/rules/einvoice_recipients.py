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

One decision: posting asks ``gets_einvoice`` and the generator
(``pipeline.documents.einvoice_view``) asks ``einvoice_refusal`` of the same journal as
posted, and words the refusal its own way (NoEInvoice); the generator may still refuse what
the e-invoice cannot express (an endpoint that is not scheme:identifier, a line without VAT).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

# ISO 6523 ICD of an organisation number per country: the Peppol EAS of the endpoint of a
# party addressed by its organisation number, and the scheme of its legal id (BT-30, BT-47).
ORGANISATION_SCHEMES = {"NO": "0192", "SE": "0007", "DK": "0184"}
EINVOICE_KINDS = frozenset({"invoice", "credit_note"})


class Refusal(Enum):
    """Why a journal gets no e-invoice (the module's list, in the order it is checked)."""

    POINT_OF_SALE = "point_of_sale"
    KIND = "kind"
    SELLER_WITHOUT_ENDPOINT = "seller_without_endpoint"
    WITHOUT_VAT = "without_vat"
    BUYER_NOT_ADDRESSABLE = "buyer_not_addressable"


def gets_einvoice(
    kind: str,
    origin: str,
    seller: Mapping[str, Any] | None,
    buyer: Mapping[str, Any] | None,
    *,
    with_vat: bool,
) -> bool:
    """E1: whether a journal posted as given gets an e-invoice (see the module)."""
    return einvoice_refusal(kind, origin, seller, buyer, with_vat=with_vat) is None


def einvoice_refusal(
    kind: str,
    origin: str,
    seller: Mapping[str, Any] | None,
    buyer: Mapping[str, Any] | None,
    *,
    with_vat: bool,
) -> Refusal | None:
    """E1: why a journal posted as given gets no e-invoice; None: it gets one. The seller and
    buyer have the keys of their frozen columns (peppol_endpoint, vat_registered, country,
    organisation_number); missing keys read as empty."""
    if origin == "pos":
        return Refusal.POINT_OF_SALE
    if kind not in EINVOICE_KINDS:
        return Refusal.KIND
    if not seller or not seller.get("peppol_endpoint"):
        return Refusal.SELLER_WITHOUT_ENDPOINT
    if not with_vat and seller.get("vat_registered"):
        return Refusal.WITHOUT_VAT
    if not buyer_addressable(buyer or {}, seller.get("country")):
        return Refusal.BUYER_NOT_ADDRESSABLE
    return None


def buyer_scheme(buyer: Mapping[str, Any], seller_country: str | None) -> str | None:
    """The scheme of the buyer's organisation number: its country's (the buyer's country,
    else the seller's, else Norway); None without a number or in a country whose numbers are
    not Peppol identifiers."""
    if not buyer.get("organisation_number"):
        return None
    return ORGANISATION_SCHEMES.get(buyer.get("country") or seller_country or "NO")


def buyer_addressable(buyer: Mapping[str, Any], seller_country: str | None) -> bool:
    """The buyer has an electronic address (PEPPOL-EN16931-R010): an endpoint, else an
    organisation number under its country's scheme (``buyer_scheme``)."""
    return bool(buyer.get("peppol_endpoint")) or buyer_scheme(buyer, seller_country) is not None
