"""The parties on a document (DOMAIN.md M6 the company, M7 a customer) as pure rules: the
values a catalog gives in, their checked and compacted forms out, or a Rejection naming the
field and the value.

Identifiers are checked with python-stdnum wherever it has a checker for the party's country:
organisation numbers (Norway: `stdnum.no.orgnr`, 9 digits, MOD11), VAT ids (`stdnum.eu.vat`
for EU prefixes, else the country's own `vat` module, e.g. `stdnum.no.mva`), Norwegian bank
accounts (`stdnum.no.kontonr`, 11 digits, MOD11), IBAN and BIC. They are stored compact
("923609016"); documents format them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.numbers import is_currency
from stdnum import bic, iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.no import kontonr
from stdnum.util import get_cc_module

from docpost.pipeline.errors import Rejection

KID_SCHEMES = ("MOD10", "MOD11")
TAX_TREATMENTS = ("domestic", "export", "reverse_charge")
LANGUAGES = ("nb_NO", "en_US")
# Two-letter territory codes babel knows that are no country (ISO 3166 reserves them).
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"})
# "scheme:identifier", the scheme a 4-digit ISO 6523 ICD or EAS code (Peppol policy 1).
PEPPOL_ENDPOINT = re.compile(r"(?P<scheme>[0-9]{4}):(?P<identifier>[A-Za-z0-9._\-]{1,50})")
# Schemes whose identifier is a Norwegian organisation number: 0192 (Enhetsregisteret).
ORGANISATION_NUMBER_SCHEMES = frozenset({"0192"})
_ALL_COUNTRIES: frozenset[str] = frozenset(
    code for code in Locale("en").territories if len(code) == 2 and code.isalpha()
)


@dataclass(frozen=True)
class Party:
    """Who the values belong to, as refusals name it: the company (M6) or a customer (M7)."""

    who: str  # "company", "customer US-004"
    prefix: str  # the error codes' first part: "company", "customer"
    rule: str  # "M6", "M7"

    def refuse(self, what: str, field: str, value: Any, why: str, **details: Any) -> Rejection:
        return Rejection(
            f"{self.prefix}.{what}",
            f"{self.who}: {field} {value!r} {why} ({self.rule})",
            rule=self.rule,
            field=field,
            value=str(value),
            **details,
        )


COMPANY = Party("company", "company", "M6")


def _why(error: ValidationError) -> str:
    """stdnum's reason, to follow a colon: "the number's checksum ... is invalid"."""
    text = str(error).rstrip(".")
    return text[:1].lower() + text[1:]


def customer(code: str) -> Party:
    return Party(f"customer {code}", "customer", "M7")


# --- address ----------------------------------------------------------------------------------


def country(party: Party, code: str | None) -> str | None:
    """An ISO 3166 alpha-2 country code, upper case ("no" is read as "NO")."""
    if code is None:
        return None
    upper = code.upper()
    if len(upper) != 2 or upper not in _ALL_COUNTRIES or upper in NOT_COUNTRIES:
        raise party.refuse(
            "invalid_country",
            "address.country",
            code,
            "is not an ISO 3166 two-letter country code (e.g. NO, SE, US)",
        )
    return upper


# --- identifiers ------------------------------------------------------------------------------


def _checker(country_code: str | None, kind: str) -> ModuleType | None:
    if country_code is None:
        return None
    module: ModuleType | None = get_cc_module(country_code.lower(), kind)
    return module


def _validated(
    party: Party, module: Any, value: str, what: str, field: str, reason: str, **details: Any
) -> str:
    """`value` checked by a stdnum module and compacted, or refused with stdnum's reason."""
    try:
        compact: str = module.validate(value)
    except ValidationError as exc:
        raise party.refuse(what, field, value, f"{reason}: {_why(exc)}", **details) from None
    return compact


def organisation_number(party: Party, number: str | None, country_code: str | None) -> str | None:
    """The organisation number, checked by its country's checker where stdnum has one
    (Norway: 9 digits with a MOD11 check digit), compact."""
    if number is None:
        return None
    checker = _checker(country_code, "orgnr")
    if checker is None:
        return number
    return _validated(
        party,
        checker,
        number,
        "invalid_organisation_number",
        "organisation_number",
        f"is not a valid organisation number for {country_code}",
        country=country_code,
    )


def vat_id(party: Party, number: str | None) -> str | None:
    """A VAT id starts with its country's two-letter prefix and is checked where stdnum has a
    checker for that country (EU: stdnum.eu.vat); compact."""
    if number is None:
        return None
    prefix = number[:2].lower()
    if not prefix.isalpha():
        raise party.refuse(
            "invalid_vat_id",
            "vat_id",
            number,
            "does not start with its two-letter country code (e.g. SE556036079301)",
        )
    checker: Any = eu_vat if prefix in eu_vat.MEMBER_STATES or prefix == "el" else None
    checker = checker or _checker(prefix, "vat")
    if checker is None:
        return number.replace(" ", "").upper()
    compact = _validated(
        party, checker, number, "invalid_vat_id", "vat_id", "is not a valid VAT id"
    )
    # A country's own module drops the prefix (no.mva keeps the MVA suffix): keep it.
    return compact if compact[:2].lower() == prefix else prefix.upper() + compact


def peppol_endpoint(party: Party, endpoint: str | None, organisation: str | None) -> str | None:
    """A Peppol endpoint "scheme:identifier"; under scheme 0192 the identifier is a Norwegian
    organisation number, the party's own when it has one."""
    if endpoint is None:
        return None
    match = PEPPOL_ENDPOINT.fullmatch(endpoint)
    if match is None:
        raise party.refuse(
            "invalid_peppol_endpoint",
            "peppol_endpoint",
            endpoint,
            'is not written "scheme:identifier", a 4-digit scheme and the identifier '
            '(e.g. "0192:923609016")',
        )
    scheme, identifier = match["scheme"], match["identifier"]
    if scheme in ORGANISATION_NUMBER_SCHEMES:
        number = organisation_number(party, identifier, "NO")
        if organisation is not None and number != organisation:
            raise party.refuse(
                "peppol_endpoint_mismatch",
                "peppol_endpoint",
                endpoint,
                f"names organisation number {number}, not the party's own {organisation}",
            )
        return f"{scheme}:{number}"
    return endpoint


def bank_account(number: str | None, country_code: str | None) -> str | None:
    """M6: a Norwegian company's bank account is 11 digits with a MOD11 check digit."""
    if number is None or country_code != "NO":
        return number
    return _validated(
        COMPANY,
        kontonr,
        number,
        "invalid_bank_account",
        "bank_account",
        "is not a Norwegian bank account number (11 digits, MOD11)",
    )


def iban_and_bic(number: str | None, code: str | None) -> tuple[str | None, str | None]:
    checked: list[str | None] = [
        None
        if value is None
        else _validated(
            COMPANY, module, value, f"invalid_{field}", field, f"is not a valid {field.upper()}"
        )
        for field, module, value in (("iban", iban, number), ("bic", bic, code))
    ]
    return checked[0], checked[1]


# --- settings ---------------------------------------------------------------------------------


def currency(code: str) -> str:
    """M6: the company currency, an ISO 4217 code of 3 letters."""
    if not (len(code) == 3 and code.isascii() and code.isupper() and is_currency(code)):
        raise COMPANY.refuse(
            "invalid_currency",
            "currency",
            code,
            "is not an ISO 4217 currency code of 3 capital letters (e.g. NOK, EUR, USD)",
        )
    return code


def time_zone(name: str) -> str:
    """M6: documents are dated in the company's IANA time zone."""
    if name == "UTC":
        return name
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise COMPANY.refuse(
            "invalid_time_zone",
            "time_zone",
            name,
            "is not an IANA time zone (e.g. UTC, Europe/Oslo, America/New_York)",
        ) from None
    return name


def one_of(party: Party, field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise party.refuse(
            f"unknown_{field}", field, value, f"is none of {', '.join(allowed)}", allowed=allowed
        )
    return value


# --- the company (M6) and a customer (M7) ----------------------------------------------------


def address_values(party: Party, address: Mapping[str, Any]) -> dict[str, Any]:
    """The address columns: lines joined by line feeds, postcode, city, country."""
    return {
        "postcode": address.get("postcode"),
        "city": address.get("city"),
        "country": country(party, address.get("country")),
    }


def company_values(company: Mapping[str, Any]) -> dict[str, Any]:
    """M6: the company's columns, checked and compact. Its country (of its address) decides
    which checkers its organisation number and bank account get, so it must be given."""
    address = address_values(COMPANY, company["address"])
    land = address["country"]
    if land is None:
        raise COMPANY.refuse(
            "missing_country", "address.country", None, "is missing: give the ISO country code"
        )
    number = organisation_number(COMPANY, company.get("organisation_number"), land)
    _check_registrations(company, number)
    account_iban, account_bic = iban_and_bic(company.get("iban"), company.get("bic"))
    return {
        "name": company["name"],
        "address_lines": "\n".join(company["address"].get("lines", ())),
        **address,
        "organisation_number": number,
        "vat_registered": company["vat_registered"],
        "foretaksregisteret": company["foretaksregisteret"],
        "currency": currency(company["currency"]),
        "bank_account": bank_account(company.get("bank_account"), land),
        "iban": account_iban,
        "bic": account_bic,
        "peppol_endpoint": peppol_endpoint(COMPANY, company.get("peppol_endpoint"), number),
        "time_zone": time_zone(company["time_zone"]),
        "payment_terms_days": company["payment_terms_days"],
        "kid_scheme": one_of(COMPANY, "kid_scheme", company["kid_scheme"], KID_SCHEMES),
    }


def _check_registrations(company: Mapping[str, Any], number: str | None) -> None:
    """M6: "MVA" and "Foretaksregisteret" print after the organisation number: neither
    without one."""
    for flag in ("vat_registered", "foretaksregisteret"):
        if company[flag] and number is None:
            raise COMPANY.refuse(
                "missing_organisation_number",
                flag,
                True,
                "needs the organisation number it prints after: give organisation_number",
            )


def customer_values(
    code: str, values: Mapping[str, Any], company_country: str | None
) -> dict[str, Any]:
    """M7: a customer's new columns, checked and compact. Its organisation number is checked
    by its address's country, else the company's (a domestic customer's address may leave the
    country out)."""
    party = customer(code)
    address = address_values(party, values["address"])
    land = address["country"] or company_country
    number = organisation_number(party, values.get("organisation_number"), land)
    language = values.get("language")
    treatment = one_of(party, "tax_treatment", values["tax_treatment"], TAX_TREATMENTS)
    vat = vat_id(party, values.get("vat_id"))
    if treatment == "reverse_charge" and number is None and vat is None:
        # EN 16931 BR-AE-02: a reverse-charge invoice names the buyer's VAT or legal id.
        raise party.refuse(
            "reverse_charge_without_id",
            "tax_treatment",
            treatment,
            "needs the buyer's organisation_number or vat_id, which its invoices must name",
        )
    return {
        **address,
        "organisation_number": number,
        "vat_id": vat,
        "peppol_endpoint": peppol_endpoint(party, values.get("peppol_endpoint"), number),
        "payment_terms_days": values.get("payment_terms_days"),
        "tax_treatment": treatment,
        "language": None if language is None else one_of(party, "language", language, LANGUAGES),
    }
