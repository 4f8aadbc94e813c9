"""The seller and buyer blocks of the pure view builder (pipeline.documents.view; DOMAIN.md M6,
M7, P3): no database, no PDF. The catalog-backed cases are in
tests/services/test_company_from_catalog.py."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from docpost.pipeline.documents.snapshot import CompanySnapshot, JournalSnapshot, PartySnapshot
from docpost.pipeline.documents.view import company_view, customer_view, document_view

NORWEGIAN = CompanySnapshot(
    address_lines=("Karl Johans gate 12",),
    postcode="0154",
    city="OSLO",
    country="NO",
    organisation_number="923609016",
    name="Fjellost og Stål AS",
    vat_registered=True,
    foretaksregisteret=True,
    bank_account="12345678903",
    iban="NO7112345678903",
    bic="DNBANOKKXXX",
)


def journal(party: PartySnapshot | None, address: str = "Old style 1\nTown") -> JournalSnapshot:
    return JournalSnapshot(
        kind="packing_slip",
        number="PS-000001",
        revision=1,
        posting_date=datetime.date(2026, 12, 1),
        currency="NOK",
        order_no="SO-1",
        customer_code="C-1",
        customer_name="Kunde AS",
        customer_address=address,
        total_amount=None,
        reverses=None,
        packing_slips=(),
        bundle_units={},
        bundle_prices={},
        lines=(),
        customer_party=party,
    )


@pytest.mark.parametrize(("locale", "country"), [("nb_NO", "Norge"), ("en_US", "Norway")])
def test_m6_p3_the_norwegian_company_as_printed(locale: str, country: str) -> None:
    assert company_view(NORWEGIAN, locale) == {
        "name": "Fjellost og Stål AS",
        "address": ["Karl Johans gate 12", "0154 OSLO", country],
        "org_number": "NO 923 609 016 MVA",
        "foretaksregisteret": True,
        "bank_account": "1234.56.78903",
        "iban": "NO71 1234 5678 903",
        "bic": "DNBANOKKXXX",
    }


def test_m6_p3_not_vat_registered_prints_the_number_without_mva() -> None:
    company = CompanySnapshot(
        address_lines=(), country="NO", organisation_number="923609016", name="Liten AS"
    )
    view = company_view(company, "nb_NO")
    assert (view["org_number"], view["foretaksregisteret"], view["address"]) == (
        "923 609 016",
        False,
        ["Norge"],
    )
    assert "bank_account" not in view and "iban" not in view


def test_m6_a_company_elsewhere_prints_its_numbers_as_stored() -> None:
    """Only Norwegian numbers have a Norwegian print form: a Swedish company's organisation
    number and bank account print as the catalog gave them (the negative control of the
    MVA and dotted account forms above)."""
    company = dataclasses.replace(
        NORWEGIAN,
        address_lines=("Avenyn 1",),
        postcode="411 36",
        city="GÖTEBORG",
        country="SE",
        organisation_number="5561234567",
        bank_account="5000-1234567",
    )
    view = company_view(company, "en_US")
    assert (view["org_number"], view["bank_account"]) == ("5561234567", "5000-1234567")
    assert view["address"] == ["Avenyn 1", "411 36 GÖTEBORG", "Sweden"]


def test_m7_p3_a_customer_in_parts_at_home_prints_no_country() -> None:
    party = PartySnapshot(
        address_lines=("Storgata 5", "Leilighet H0201"),
        postcode="9008",
        city="TROMSØ",
        country="NO",
        organisation_number="912345602",
    )
    view = customer_view(journal(party), "nb_NO", "NO")
    assert view == {
        "customer": "C-1",
        "name": "Kunde AS",
        "address": ["Storgata 5", "Leilighet H0201", "9008 TROMSØ"],
        "org_number": "912 345 602",
    }


def test_m7_p3_a_customer_abroad_prints_its_country_in_the_document_language() -> None:
    party = PartySnapshot(
        address_lines=("Avenyn 1",), postcode="411 36", city="GÖTEBORG", country="SE", vat_id="SE1"
    )
    assert customer_view(journal(party), "nb_NO", "NO")["address"][-1] == "Sverige"
    assert customer_view(journal(party), "en_US", "NO")["vat_id"] == "SE1"


def test_m7_a_customer_without_parts_prints_its_address_as_before() -> None:
    """USMF customers (address lines only, no numbers) and a snapshot without the party
    print exactly the old block: the customer's address as stored."""
    old: dict[str, Any] = {"customer": "C-1", "name": "Kunde AS", "address": "Old style 1\nTown"}
    assert customer_view(journal(None), "en_US") == old
    assert customer_view(
        journal(PartySnapshot(address_lines=("Old style 1", "Town"))), "en_US"
    ) == (old)


def test_m7_the_document_view_carries_the_customer_block() -> None:
    party = PartySnapshot(address_lines=("Strandkaien 2",), postcode="5013", city="BERGEN")
    view = document_view(journal(party), {"name": "X", "address": []}, "nb_NO", "NO")
    assert view["customer"]["address"] == ["Strandkaien 2", "5013 BERGEN"]
