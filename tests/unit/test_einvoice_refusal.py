"""E1, one decision (rules.einvoice_recipients): posting asks ``gets_einvoice`` and the
generator (documents.einvoice_view) ``einvoice_refusal`` of the same journal, which says which
condition refuses it; the generator words each refusal and keeps no rule of its own (the
organisation number schemes are the rule's). No database: the messages per journal are tested
in tests/einvoice/test_einvoice_matrix.py.
"""

from __future__ import annotations

import pytest

import docpost.pipeline.documents.einvoice_view as einvoice_view_module
from docpost.pipeline.rules import einvoice_recipients
from docpost.pipeline.rules.einvoice_recipients import Refusal, einvoice_refusal


def test_e1_einvoice_view_words_every_refusal_of_the_rule() -> None:
    """One decision: einvoice_view refuses through rules.einvoice_recipients and has a message
    for each of its refusals; the organisation number schemes are the rule's, not a copy."""
    assert set(einvoice_view_module.REFUSALS) == set(Refusal)
    assert einvoice_view_module.ORGANISATION_SCHEMES is einvoice_recipients.ORGANISATION_SCHEMES
    assert not hasattr(einvoice_view_module, "_seller_of")


@pytest.mark.parametrize(
    ("kind", "origin", "seller", "buyer", "with_vat", "expected"),
    [
        ("invoice", "pos", {"peppol_endpoint": "0192:1"}, {"peppol_endpoint": "0192:2"}, True,
         Refusal.POINT_OF_SALE),
        ("packing_slip", "order", {"peppol_endpoint": "0192:1"}, {"peppol_endpoint": "0192:2"},
         True, Refusal.KIND),
        ("invoice", "order", None, {"peppol_endpoint": "0192:2"}, True,
         Refusal.SELLER_WITHOUT_ENDPOINT),
        ("invoice", "order", {"peppol_endpoint": "0192:1", "vat_registered": True},
         {"peppol_endpoint": "0192:2"}, False, Refusal.WITHOUT_VAT),
        ("invoice", "order", {"peppol_endpoint": "0192:1"},
         {"organisation_number": "123", "country": "US"}, True, Refusal.BUYER_NOT_ADDRESSABLE),
        ("invoice", "order", {"peppol_endpoint": "0192:1", "country": "SE"},
         {"organisation_number": "5561234567"}, True, None),  # the seller's country: SE, 0007
    ],
)  # fmt: skip
def test_e1_einvoice_refusal_names_the_reason(
    kind: str,
    origin: str,
    seller: dict[str, object] | None,
    buyer: dict[str, object] | None,
    with_vat: bool,
    expected: Refusal | None,
) -> None:
    """E1: the rule says which condition refuses a journal (posting only asks whether)."""
    assert einvoice_refusal(kind, origin, seller, buyer, with_vat=with_vat) is expected
    assert einvoice_recipients.gets_einvoice(kind, origin, seller, buyer, with_vat=with_vat) is (
        expected is None
    )


def test_e1_buyer_scheme_is_its_countrys() -> None:
    assert einvoice_recipients.buyer_scheme(
        {"organisation_number": "1", "country": "DK"}, "NO"
    ) == ("0184")
    assert einvoice_recipients.buyer_scheme({"organisation_number": "1"}, None) == "0192"
    assert einvoice_recipients.buyer_scheme({"country": "NO"}, "NO") is None
