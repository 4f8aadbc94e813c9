"""Payment and parties on invoices (DOMAIN.md P1-P3): pipeline/rules/payment.py."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.no import kontonr, orgnr

from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.payment import (
    bank_account_text,
    bic_text,
    document_date,
    due_date,
    iban_text,
    is_valid_kid,
    kid,
    kid_digits,
    legal_form_text,
    mod11_check_digit,
    organisation_number_text,
    payment_terms_days,
)

TODAY = dt.date(2026, 11, 30)


# --- P1: dates ---------------------------------------------------------------------------------


def test_p1_document_date_is_the_requests_else_today() -> None:
    assert document_date(dt.date(2026, 1, 15), TODAY) == dt.date(2026, 1, 15)
    assert document_date(None, TODAY) == TODAY


def test_p1_due_date_takes_the_customers_terms_over_the_companys() -> None:
    assert due_date(TODAY, 10, 30) == dt.date(2026, 12, 10)
    assert due_date(TODAY, None, 30) == dt.date(2026, 12, 30)
    assert due_date(TODAY, 0, 30) == TODAY  # "due at once" is a customer's terms, not a gap
    assert payment_terms_days(None, 14) == 14
    assert payment_terms_days(0, 14) == 0


def test_p1_due_date_crosses_months_and_leap_days() -> None:
    assert due_date(dt.date(2028, 2, 15), 14, 30) == dt.date(2028, 2, 29)
    assert due_date(dt.date(2026, 12, 20), None, 30) == dt.date(2027, 1, 19)


def test_p1_negative_terms_are_refused() -> None:
    with pytest.raises(Rejection) as caught:
        due_date(TODAY, -1, 30)
    assert (caught.value.code, caught.value.rule) == ("payment.negative_terms", "P1")
    assert caught.value.message == (
        "payment terms of -1 days would make the invoice due before its date 2026-11-30; "
        "terms are 0 days or more"
    )


# --- P2: KID -----------------------------------------------------------------------------------


def test_p2_kid_is_the_invoice_numbers_digits_with_a_check_digit() -> None:
    assert kid_digits("INV-000123") == "000123"
    assert kid("INV-000123", "MOD10") == "0001230"
    assert kid("INV-000123", "MOD11") == "0001236"  # 3x2 + 2x3 + 1x4 = 16; 11 - 5 = 6
    assert kid("INV-000001", "MOD10") == "0000018"  # reports/viewmodel.py's example


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("1234567890", "3"),  # 195 mod 11 = 8: 11 - 8
        ("31", "0"),  # 1x2 + 3x3 = 11: remainder 0 is written 0
        ("2", "7"),
        ("5", "1"),
        ("11", "6"),
        ("0000", "0"),
        ("6", "-"),  # 12 mod 11 = 1: 11 - 1 = 10 is written '-'
    ],
)
def test_p2_mod11_known_check_digits(digits: str, check: str) -> None:
    assert mod11_check_digit(digits) == check


@pytest.mark.parametrize(
    "number",
    [
        "923609016",  # organisation numbers are MOD11 with weights 2..7 from the right
        "988077917",
        "86011117947",  # and so are 11-digit bank accounts
        "12345678903",
    ],
)
def test_p2_mod11_agrees_with_stdnums_norwegian_numbers(number: str) -> None:
    assert orgnr.is_valid(number) or kontonr.is_valid(number)
    assert mod11_check_digit(number[:-1]) == number[-1]
    assert is_valid_kid(number, "MOD11")


@given(st.from_regex(r"[1-9][0-9]{9}", fullmatch=True))
def test_p2_property_mod11_is_the_bank_accounts_check_digit(base: str) -> None:
    """stdnum.no.kontonr as the oracle: a 10-digit base with our check digit is a valid
    account number exactly when the digit is not '-' (remainder 10 has no account)."""
    check = mod11_check_digit(base)
    assert kontonr.is_valid(base + check) == (check != "-")


@given(st.from_regex(r"[89][0-9]{7}", fullmatch=True))
def test_p2_property_mod11_is_the_organisation_numbers_check_digit(base: str) -> None:
    check = mod11_check_digit(base)
    assert orgnr.is_valid(base + check) == (check != "-")


@given(st.from_regex(r"[0-9]{1,24}", fullmatch=True), st.sampled_from(["MOD10", "MOD11"]))
def test_p2_property_every_kid_made_is_valid_and_one_changed_digit_is_not(
    digits: str, scheme: str
) -> None:
    value = kid(f"INV-{digits}", scheme)
    assert value.startswith(digits)
    assert is_valid_kid(value, scheme)
    changed = str((int(digits[-1]) + 1) % 10)
    assert not is_valid_kid(digits[:-1] + changed + value[-1], scheme)


def test_p2_mod10_is_stdnums_luhn() -> None:
    assert kid("INV-1234567890", "MOD10") == "12345678903"
    assert luhn.is_valid("12345678903")
    assert is_valid_kid("12345678903", "MOD10")
    assert not is_valid_kid("12345678904", "MOD10")


def test_p2_schemes_differ() -> None:
    """Negative control: a MOD11 KID is not a MOD10 one in general."""
    assert kid("INV-000123", "MOD10") != kid("INV-000123", "MOD11")
    assert not is_valid_kid("0001236", "MOD10")
    assert not is_valid_kid("0001230", "MOD11")


def test_p2_kid_validity_checks_form() -> None:
    assert is_valid_kid("6-", "MOD11")
    assert not is_valid_kid("6-", "MOD10")
    assert not is_valid_kid("7", "MOD11")  # too short
    assert not is_valid_kid("1" * 25 + "2", "MOD11")  # too long
    assert not is_valid_kid("12a3", "MOD11")
    assert not is_valid_kid("١٢", "MOD10")  # Arabic-Indic digits are not KID digits
    assert not is_valid_kid("12345678903", "MOD97")


def test_p2_invoice_number_without_digits_is_refused() -> None:
    with pytest.raises(Rejection) as caught:
        kid("INV-ABC", "MOD10")
    assert (caught.value.code, caught.value.rule) == ("payment.kid_no_digits", "P2")
    assert caught.value.message == "invoice number 'INV-ABC' holds no digits to build a KID from"


def test_p2_too_many_digits_are_refused() -> None:
    number = "INV-" + "1" * 25
    with pytest.raises(Rejection) as caught:
        kid(number, "MOD11")
    assert caught.value.code == "payment.kid_too_long"
    assert caught.value.message == (
        f"invoice number {number!r} has 25 digits; a KID holds at most 24 before its check digit"
    )
    assert len(kid("INV-" + "1" * 24, "MOD11")) == 25


def test_p2_unknown_scheme_is_refused() -> None:
    with pytest.raises(Rejection) as caught:
        kid("INV-000123", "MOD97")
    assert caught.value.code == "payment.unknown_kid_scheme"
    assert caught.value.message == "KID scheme 'MOD97' is not one of MOD10, MOD11"


# --- P3: numbers as printed --------------------------------------------------------------------


def test_p3_vat_registered_organisation_number_prints_with_mva() -> None:
    assert organisation_number_text("923609016", "NO", vat_registered=True) == "NO 923 609 016 MVA"
    assert organisation_number_text("923 609 016", None, vat_registered=True) == (
        "NO 923 609 016 MVA"
    )


def test_p3_not_vat_registered_prints_the_plain_number() -> None:
    assert organisation_number_text("923609016", "NO", vat_registered=False) == "923 609 016"


def test_p3_foretaksregisteret_is_printed_when_registered() -> None:
    assert legal_form_text(True) == "Foretaksregisteret"
    assert legal_form_text(False) is None


def test_p3_other_countries_print_the_number_as_stored() -> None:
    assert organisation_number_text("5560125790", "SE", vat_registered=True) == "5560125790"


def test_p3_bank_account_iban_and_bic() -> None:
    assert bank_account_text("12345678903") == "1234.56.78903"
    assert bank_account_text("8601 11 17947") == "8601.11.17947"
    assert iban_text("NO9386011117947") == "NO93 8601 1117 947"
    assert iban_text("de89 3704 0044 0532 0130 00") == "DE89 3704 0044 0532 0130 00"
    assert bic_text("dnba nokk xxx") == "DNBANOKKXXX"
