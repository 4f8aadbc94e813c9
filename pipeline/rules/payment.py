"""Payment and parties on invoices (DOMAIN.md P1-P3) as pure functions: dates, the KID payment
reference, and the seller's numbers as an invoice prints them.

Check digits and formats come from python-stdnum wherever it has them (Luhn, Norwegian
organisation and MVA numbers, bank accounts, IBAN, BIC); see mod11_check_digit for the one
it does not have.
"""

from __future__ import annotations

import datetime as dt

from stdnum import bic, iban, luhn
from stdnum.no import kontonr, mva, orgnr

from docpost.pipeline.errors import Rejection

KID_SCHEMES = ("MOD10", "MOD11")
# A KID is 2 to 25 digits, its check digit included (Nets' OCR giro specification).
KID_MAX_LENGTH = 25


# --- P1: dates ---------------------------------------------------------------------------------


def document_date(requested: dt.date | None, today: dt.date) -> dt.date:
    """P1: the request's document_date, else `today` (the caller's today in the company's
    time zone, pipeline.clock.company_today)."""
    return requested if requested is not None else today


def due_date(
    invoice_date: dt.date, customer_terms_days: int | None, company_terms_days: int
) -> dt.date:
    """P1: the invoice date plus the customer's payment terms, else the company's."""
    days = company_terms_days if customer_terms_days is None else customer_terms_days
    if days < 0:
        raise Rejection(
            "payment.negative_terms",
            f"payment terms of {days} days would make the invoice due before its date "
            f"{invoice_date.isoformat()}; terms are 0 days or more",
            rule="P1",
        )
    return invoice_date + dt.timedelta(days=days)


def payment_terms_days(customer_terms_days: int | None, company_terms_days: int) -> int:
    """P1/P3: the terms an invoice prints: the customer's, else the company's."""
    return company_terms_days if customer_terms_days is None else customer_terms_days


# --- P2: KID -----------------------------------------------------------------------------------


def mod11_check_digit(digits: str) -> str:
    """The Norwegian MOD11 check digit: weights 2, 3, 4, 5, 6, 7, 2, 3, ... from the right;
    check = 11 - (weighted sum mod 11), 11 written 0 and 10 written '-' (P2).

    Written here because python-stdnum has no general one: stdnum.iso7064.mod_11_2 is ISO
    7064's (weights powers of 2, 'X' for 10), and the Norwegian modules' own MOD11 helpers
    (no.kontonr._calc_check_digit, no.orgnr.checksum) are private, fixed to 10 and 8 digits
    and do not write 10 as '-'. A KID has up to 24 digits before its check digit. The tests
    check this one against stdnum: an 11-digit bank account and a 9-digit organisation
    number are this MOD11 with weights 2..7 from the right.
    """
    weighted = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(digits)))
    check = (11 - weighted % 11) % 11
    return "-" if check == 10 else str(check)


def kid_digits(invoice_number: str) -> str:
    """P2: the digits a KID is built from: those of the invoice number, in order, leading
    zeros kept (INV-000123 -> 000123), so the KID names the invoice for anyone reading it."""
    digits = "".join(ch for ch in invoice_number if "0" <= ch <= "9")
    if not digits:
        raise Rejection(
            "payment.kid_no_digits",
            f"invoice number {invoice_number!r} holds no digits to build a KID from",
            rule="P2",
        )
    if len(digits) + 1 > KID_MAX_LENGTH:
        raise Rejection(
            "payment.kid_too_long",
            f"invoice number {invoice_number!r} has {len(digits)} digits; a KID holds at "
            f"most {KID_MAX_LENGTH - 1} before its check digit",
            rule="P2",
        )
    return digits


def kid(invoice_number: str, scheme: str) -> str:
    """P2: the invoice's KID: its digits and a MOD10 (Luhn) or MOD11 check digit, as the
    company's KID scheme says (INV-000123: MOD10 0001230, MOD11 0001236)."""
    digits = kid_digits(invoice_number)
    if scheme == "MOD10":
        return digits + luhn.calc_check_digit(digits)
    if scheme == "MOD11":
        return digits + mod11_check_digit(digits)
    raise Rejection(
        "payment.unknown_kid_scheme",
        f"KID scheme {scheme!r} is not one of {', '.join(KID_SCHEMES)}",
        rule="P2",
    )


def is_valid_kid(value: str, scheme: str) -> bool:
    """P2: whether `value` is a KID of the scheme: 2 to 25 characters, digits but for a MOD11
    check digit '-', the check digit right."""
    body, check = value[:-1], value[-1:]
    if not 2 <= len(value) <= KID_MAX_LENGTH or not body.isdigit() or not body.isascii():
        return False
    if scheme == "MOD10":
        return check.isdigit() and luhn.is_valid(value)
    return scheme == "MOD11" and mod11_check_digit(body) == check


# --- P3: numbers as an invoice prints them ------------------------------------------------------


def organisation_number_text(number: str, country: str | None, *, vat_registered: bool) -> str:
    """P3/M6: the seller's organisation number as printed. Norway: "923 609 016", and when VAT
    registered "NO 923 609 016 MVA" (bokføringsforskriften § 5-1-1). Elsewhere the number as
    stored. "Foretaksregisteret" is not part of it: see legal_form_text."""
    if country not in (None, "NO"):
        return number
    compact = orgnr.compact(number)
    return mva.format(f"NO{compact}MVA") if vat_registered else orgnr.format(compact)


def legal_form_text(foretaksregisteret: bool) -> str | None:
    """P3/M6: what a company registered in Foretaksregisteret prints beside its number
    ("NO 923 609 016 MVA Foretaksregisteret"); the EHF e-invoice carries the same text as the
    seller's legal form (BT-33). Kept apart from the number, which a document lays out itself
    (reports' viewmodel takes `org_number` and the `foretaksregisteret` flag separately)."""
    return "Foretaksregisteret" if foretaksregisteret else None


def bank_account_text(number: str) -> str:
    """P3: a Norwegian bank account as printed: 1234.56.78903."""
    return kontonr.format(number)


def iban_text(number: str) -> str:
    """P3: an IBAN in groups of four: NO93 8601 1117 947."""
    return iban.format(number)


def bic_text(code: str) -> str:
    """P3: a BIC in capitals without spaces: DNBANOKKXXX."""
    return bic.format(code)
