"""Pure rules for the parties on a document (DOMAIN.md M6 the company, M7 a customer): no
database. Every refusal's code and message; hypothesis where a checker is arithmetic (MOD11),
with a negative control so the check cannot pass vacuously.

The service tests (tests/services/test_company_and_tax_codes.py) load the same values through a
catalog on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.no import kontonr, orgnr

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules import parties
from docpost.pipeline.rules.parties import COMPANY, company_values, customer, customer_values

# The worked examples of the brief and CONTRACT.md: valid by MOD11.
ORGANISATION_NUMBER = "923609016"
BANK_ACCOUNT = "12345678903"


@contextmanager
def refused(code: str, rule: str, *words: str) -> Iterator[None]:
    """Expects a Rejection with this code and rule whose message holds every word."""
    with pytest.raises(Rejection) as info:
        yield
    error = info.value
    assert (error.code, error.rule) == (code, rule), error
    for word in words:
        assert word in error.message, (word, error.message)


def company(**overrides: Any) -> dict[str, Any]:
    """A company as the contract hands it to the rules (CompanyIn.model_dump())."""
    values: dict[str, Any] = {
        "name": "Fjellost og Stål AS",
        "address": {"lines": ["Karl Johans gate 12"], "postcode": "0154", "city": "OSLO",
                    "country": "NO"},
        "organisation_number": ORGANISATION_NUMBER,
        "vat_registered": True,
        "foretaksregisteret": True,
        "currency": "NOK",
        "bank_account": "1234.56.78903",
        "iban": "NO71 1234 5678 903",
        "bic": "DNBANOKK",
        "peppol_endpoint": f"0192:{ORGANISATION_NUMBER}",
        "time_zone": "Europe/Oslo",
        "payment_terms_days": 14,
        "kid_scheme": "MOD11",
    }  # fmt: skip
    values.update(overrides)
    return values


def customer_in(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "address": {"lines": ["Strandkaien 2"], "postcode": "5013", "city": "BERGEN",
                    "country": "NO"},
        "organisation_number": "912345602",
        "vat_id": None,
        "peppol_endpoint": None,
        "payment_terms_days": None,
        "tax_treatment": "domestic",
        "language": None,
    }  # fmt: skip
    values.update(overrides)
    return values


# --- M6: the company --------------------------------------------------------------------------


def test_m6_a_norwegian_company_is_stored_compact() -> None:
    assert company_values(company()) == {
        "name": "Fjellost og Stål AS",
        "address_lines": "Karl Johans gate 12",
        "postcode": "0154",
        "city": "OSLO",
        "country": "NO",
        "organisation_number": "923609016",
        "vat_registered": True,
        "foretaksregisteret": True,
        "currency": "NOK",
        "bank_account": "12345678903",  # "1234.56.78903" as printed (P3)
        "iban": "NO7112345678903",
        "bic": "DNBANOKK",
        "peppol_endpoint": "0192:923609016",
        "time_zone": "Europe/Oslo",
        "payment_terms_days": 14,
        "kid_scheme": "MOD11",
    }


def test_m6_address_lines_join_with_line_feeds_and_country_is_read_upper_case() -> None:
    values = company_values(company(address={"lines": ["a", "b"], "country": "no"}))
    assert (values["address_lines"], values["country"]) == ("a\nb", "NO")


def test_m6_a_company_without_identifiers_is_allowed() -> None:
    """Only the name, address country and currency are needed: a company that is not VAT
    registered may leave out its numbers (its documents carry no VAT)."""
    values = company_values(
        company(
            organisation_number=None, vat_registered=False, foretaksregisteret=False,
            bank_account=None, iban=None, bic=None, peppol_endpoint=None,
        )
    )  # fmt: skip
    assert values["organisation_number"] is None and values["bank_account"] is None


def test_m6_organisation_number_with_a_wrong_check_digit_is_refused() -> None:
    with refused(
        "company.invalid_organisation_number", "M6", "company: organisation_number '923609017'",
        "not a valid organisation number for NO", "checksum", "(M6)",
    ):  # fmt: skip
        company_values(company(organisation_number="923609017", peppol_endpoint=None))


def test_m6_organisation_number_of_the_wrong_length_is_refused() -> None:
    with refused("company.invalid_organisation_number", "M6", "'92360901'", "length"):
        company_values(company(organisation_number="92360901", peppol_endpoint=None))


@given(st.integers(10_000_000, 99_999_999))
def test_m6_exactly_one_check_digit_makes_an_organisation_number(base: int) -> None:
    """MOD11 (hypothesis): of the ten digits that may end 8 given digits, at most one makes a
    valid organisation number; each other one is refused (the negative control), so the
    check never passes vacuously."""
    valid = []
    for digit in range(10):
        number = f"{base}{digit}"
        try:
            parties.organisation_number(COMPANY, number, "NO")
        except Rejection as error:
            assert error.code == "company.invalid_organisation_number"
            assert not orgnr.is_valid(number)
        else:
            valid.append(number)
    assert len(valid) <= 1
    assert all(orgnr.is_valid(n) for n in valid)


def test_m6_a_foreign_company_number_without_a_checker_is_kept_as_given() -> None:
    """stdnum has no organisation number checker for the United States: nothing to check."""
    values = company_values(
        company(
            address={"country": "US"}, organisation_number="EIN 12-3456789", currency="USD",
            bank_account="000123456789", peppol_endpoint=None, vat_registered=False,
        )
    )  # fmt: skip
    assert values["organisation_number"] == "EIN 12-3456789"
    assert values["bank_account"] == "000123456789"  # only a Norwegian account is MOD11


def test_m6_the_company_needs_its_country() -> None:
    with refused("company.missing_country", "M6", "address.country", "is missing"):
        company_values(company(address={"lines": ["Karl Johans gate 12"]}))


@pytest.mark.parametrize("code", ["NOR", "XX", "EU", "1"])
def test_m6_country_is_an_iso_3166_code(code: str) -> None:
    with refused("company.invalid_country", "M6", f"address.country {code!r}", "ISO 3166"):
        company_values(company(address={"country": code}))


@pytest.mark.parametrize("flag", ["vat_registered", "foretaksregisteret"])
def test_m6_mva_and_foretaksregisteret_need_an_organisation_number(flag: str) -> None:
    others = {"vat_registered": False, "foretaksregisteret": False, flag: True}
    with refused(
        "company.missing_organisation_number", "M6", f"company: {flag} True", "organisation_number"
    ):
        company_values(company(organisation_number=None, peppol_endpoint=None, **others))


def test_m6_bank_account_with_a_wrong_check_digit_is_refused() -> None:
    with refused(
        "company.invalid_bank_account", "M6", "bank_account '1234.56.78904'", "11 digits, MOD11"
    ):
        company_values(company(bank_account="1234.56.78904"))


@given(st.integers(1_000_000_000, 9_999_999_999))
def test_m6_a_bank_account_is_accepted_exactly_when_mod11_holds(base: int) -> None:
    """MOD11 on the bank account (hypothesis), with the invalid ones as negative control."""
    for digit in range(10):
        number = f"{base}{digit}"
        try:
            assert parties.bank_account(number, "NO") == number
        except Rejection as error:
            assert error.code == "company.invalid_bank_account"
            assert not kontonr.is_valid(number)
        else:
            assert kontonr.is_valid(number)


def test_m6_the_worked_bank_account_is_valid() -> None:
    assert parties.bank_account(BANK_ACCOUNT, "NO") == BANK_ACCOUNT


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("iban", "NO7212345678903", ("iban 'NO7212345678903'", "not a valid IBAN", "checksum")),
        ("bic", "DNB", ("bic 'DNB'", "not a valid BIC")),
    ],
)
def test_m6_iban_and_bic_are_checked(field: str, value: str, words: tuple[str, ...]) -> None:
    with refused(f"company.invalid_{field}", "M6", *words):
        company_values(company(**{field: value}))


@pytest.mark.parametrize("code", ["nok", "NOKK", "XXY", "N0K"])
def test_m6_currency_is_an_iso_4217_code(code: str) -> None:
    with refused("company.invalid_currency", "M6", f"currency {code!r}", "ISO 4217"):
        company_values(company(currency=code))


@pytest.mark.parametrize("zone", ["Europe/Oslo", "UTC", "America/New_York"])
def test_m6_time_zone_is_an_iana_zone(zone: str) -> None:
    assert company_values(company(time_zone=zone))["time_zone"] == zone


@pytest.mark.parametrize("zone", ["Europe/Bergen", "CET+1", "../etc/passwd", ""])
def test_m6_an_unknown_time_zone_is_refused(zone: str) -> None:
    with refused("company.invalid_time_zone", "M6", f"time_zone {zone!r}", "IANA"):
        company_values(company(time_zone=zone))


def test_m6_kid_scheme_is_mod10_or_mod11() -> None:
    assert company_values(company(kid_scheme="MOD10"))["kid_scheme"] == "MOD10"
    with refused("company.unknown_kid_scheme", "M6", "kid_scheme 'LUHN'", "MOD10, MOD11"):
        company_values(company(kid_scheme="LUHN"))


# --- Peppol endpoints (M6, M7) ----------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["923609016", "192:923609016", "0192:", "0192:92 36"])
def test_m6_peppol_endpoint_is_scheme_colon_identifier(endpoint: str) -> None:
    with refused(
        "company.invalid_peppol_endpoint", "M6", f"peppol_endpoint {endpoint!r}",
        '"scheme:identifier"',
    ):  # fmt: skip
        company_values(company(peppol_endpoint=endpoint))


def test_m6_peppol_scheme_0192_names_a_valid_organisation_number() -> None:
    with refused("company.invalid_organisation_number", "M6", "'923609017'"):
        company_values(company(organisation_number=None, vat_registered=False,
                               foretaksregisteret=False, peppol_endpoint="0192:923609017"))  # fmt: skip


def test_m6_peppol_scheme_0192_names_the_company_itself() -> None:
    with refused(
        "company.peppol_endpoint_mismatch", "M6", "'0192:912345602'", "912345602",
        "not the party's own 923609016",
    ):  # fmt: skip
        company_values(company(peppol_endpoint="0192:912345602"))


def test_m7_peppol_endpoint_of_another_scheme_is_kept_as_given() -> None:
    values = customer_values("DK-1", customer_in(peppol_endpoint="0184:DK12345678",
                                                 organisation_number=None), None)  # fmt: skip
    assert values["peppol_endpoint"] == "0184:DK12345678"


# --- M7: a customer ---------------------------------------------------------------------------


def test_m7_a_norwegian_customer_in_parts() -> None:
    values = customer_values(
        "NO-1001",
        customer_in(peppol_endpoint="0192:912345602", payment_terms_days=30, language="nb_NO"),
        "NO",
    )
    assert values == {
        "postcode": "5013",
        "city": "BERGEN",
        "country": "NO",
        "organisation_number": "912345602",
        "vat_id": None,
        "peppol_endpoint": "0192:912345602",
        "payment_terms_days": 30,
        "tax_treatment": "domestic",
        "language": "nb_NO",
    }


def test_m7_organisation_number_is_checked_by_the_customers_country() -> None:
    with refused(
        "customer.invalid_organisation_number", "M7", "customer NO-1001: organisation_number",
        "'912345603'", "for NO", "(M7)",
    ):  # fmt: skip
        customer_values("NO-1001", customer_in(organisation_number="912345603"), None)


def test_m7_without_a_country_the_companys_decides_the_checker() -> None:
    """A domestic customer may leave the country out: the company's country decides; with no
    country anywhere there is no checker (negative control: the same number passes)."""
    given_in = customer_in(address={"lines": ["x"]}, organisation_number="912345603")
    with refused("customer.invalid_organisation_number", "M7", "for NO"):
        customer_values("NO-1", given_in, "NO")
    assert customer_values("NO-1", given_in, None)["organisation_number"] == "912345603"


def test_m7_a_swedish_organisation_number_is_checked_by_stdnum_se() -> None:
    swedish = customer_in(address={"country": "SE"}, organisation_number="556123-4567")
    assert customer_values("SE-1", swedish, "NO")["organisation_number"] == "5561234567"
    with refused("customer.invalid_organisation_number", "M7", "for SE"):
        customer_values("SE-1", customer_in(address={"country": "SE"},
                                            organisation_number="5561234568"), "NO")  # fmt: skip


@pytest.mark.parametrize(
    ("vat_id", "stored"),
    [
        ("SE556123456701", "SE556123456701"),
        ("DE 136 695 976", "DE136695976"),
        ("NO 923 609 016 MVA", "NO923609016MVA"),  # the country's own checker: no.mva
        ("US12-3456789", "US12-3456789"),  # no checker for the United States: kept
    ],
)
def test_m7_a_vat_id_is_checked_where_stdnum_has_a_checker(vat_id: str, stored: str) -> None:
    assert customer_values("C", customer_in(vat_id=vat_id), None)["vat_id"] == stored


@pytest.mark.parametrize(
    ("vat_id", "why"),
    [
        ("SE556123456702", "not a valid VAT id"),
        ("DE136695977", "not a valid VAT id"),
        ("NO923609017MVA", "not a valid VAT id"),
        ("556123456701", "two-letter country code"),
    ],
)
def test_m7_an_invalid_vat_id_is_refused(vat_id: str, why: str) -> None:
    with refused("customer.invalid_vat_id", "M7", f"customer C: vat_id {vat_id!r}", why):
        customer_values("C", customer_in(vat_id=vat_id), None)


@pytest.mark.parametrize("treatment", ["domestic", "export", "reverse_charge"])
def test_m7_tax_treatments(treatment: str) -> None:
    assert customer_values("C", customer_in(tax_treatment=treatment), None)["tax_treatment"] == (
        treatment
    )


def test_m7_reverse_charge_needs_the_buyers_organisation_number_or_vat_id() -> None:
    """EN 16931 BR-AE-02; either one suffices (the negative controls)."""
    with refused(
        "customer.reverse_charge_without_id", "M7", "customer C: tax_treatment 'reverse_charge'",
        "organisation_number or vat_id",
    ):  # fmt: skip
        customer_values(
            "C", customer_in(tax_treatment="reverse_charge", organisation_number=None), None
        )
    customer_values("C", customer_in(tax_treatment="reverse_charge"), None)
    customer_values(
        "C",
        customer_in(
            tax_treatment="reverse_charge", organisation_number=None, vat_id="SE556123456701"
        ),
        None,
    )


def test_m7_an_unknown_tax_treatment_is_refused() -> None:
    with refused(
        "customer.unknown_tax_treatment", "M7", "customer C: tax_treatment 'exempt'",
        "domestic, export, reverse_charge",
    ):  # fmt: skip
        customer_values("C", customer_in(tax_treatment="exempt"), None)


def test_m7_an_unknown_language_is_refused() -> None:
    assert customer_values("C", customer_in(language="en_US"), None)["language"] == "en_US"
    with refused("customer.unknown_language", "M7", "language 'nb-NO'", "nb_NO, en_US"):
        customer_values("C", customer_in(language="nb-NO"), None)


def test_m7_customer_country_is_checked() -> None:
    with refused("customer.invalid_country", "M7", "customer C: address.country 'Norway'"):
        customer_values("C", customer_in(address={"country": "Norway"}), None)


def test_m7_a_customer_peppol_endpoint_names_its_own_organisation_number() -> None:
    with refused("customer.peppol_endpoint_mismatch", "M7", "not the party's own 912345602"):
        customer_values("C", customer_in(peppol_endpoint=f"0192:{ORGANISATION_NUMBER}"), None)


def test_m7_party_names_the_customer() -> None:
    assert customer("US-004").who == "customer US-004"
