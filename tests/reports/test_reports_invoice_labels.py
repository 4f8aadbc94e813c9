"""The words and units of real invoices (issue 15; DOMAIN.md P4, T4)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from docpost.reports.formatting import Formatter, rate_label
from docpost.reports.labels import LABELS, SUPPORTED_LOCALES, UNITS, labels_for, unit_label

NBSP = "\u00a0"


def test_p4_norwegian_labels_of_a_real_invoice():
    """P4: the words DOMAIN.md and issue 15 name, exactly."""
    nb = labels_for("nb_NO")
    assert nb["invoice"] == "Faktura"
    assert nb["credit_note"] == "Kreditnota"
    assert nb["confirmation"] == "Ordrebekreftelse"
    assert nb["due_date"] == "Forfallsdato"
    assert nb["invoice_date"] == "Fakturadato"
    assert nb["delivery_date"] == "Leveringsdato"
    assert nb["kid"] == "KID"
    assert nb["bank_account"] == "Kontonummer"
    assert nb["net_excl_vat"] == "Sum eks. mva."
    assert nb["vat_total"] == "Merverdiavgift"
    assert nb["total_incl_vat"] == "Sum inkl. mva."
    assert nb["amount_due"] == "Å betale"
    assert nb["payment_terms"] == "Betalingsbetingelser"
    assert nb["org_number"] == "Organisasjonsnummer"
    assert nb["reference"] == "Deres referanse"
    assert nb["reverse_charge"] == "Omvendt avgiftsplikt"
    assert nb["foretaksregisteret"] == "Foretaksregisteret"


def test_p4_english_labels_of_a_real_invoice():
    en = labels_for("en_US")
    assert en["reverse_charge"] == "Reverse charge"
    assert en["amount_due"] == "Amount due"
    assert en["total_incl_vat"] == "Total incl. VAT"


def test_placeholders_are_the_same_in_every_locale():
    # a template fills {days}, {number}, {date}, {currency} by name: a locale that dropped one
    # would print a blank.
    for key, text in LABELS["en_US"].items():
        wanted = {part.split("}")[0] for part in text.split("{")[1:]}
        for locale in SUPPORTED_LOCALES:
            got = {part.split("}")[0] for part in LABELS[locale][key].split("{")[1:]}
            assert got == wanted, (locale, key)


def test_every_vat_category_has_a_name_in_every_locale():
    for locale in SUPPORTED_LOCALES:
        for category in ("Z", "E", "G", "O", "AE", "K"):
            assert labels_for(locale)[f"vat_category_{category}"]


@pytest.mark.parametrize(
    ("unit", "locale", "printed"),
    [
        ("ea", "nb_NO", "stk"),
        ("ea", "nb-NO", "stk"),
        ("pcs", "nb_NO", "stk"),
        ("h", "nb_NO", "t"),
        ("ea", "en_US", "ea"),
        ("kg", "nb_NO", "kg"),  # not in the map: printed as the item has it
        ("Tonne", "en_US", "Tonne"),
    ],
)
def test_p4_unit_label(unit, locale, printed):
    """P4: units are Norwegian in nb_NO ("stk" for "ea"); others print as given."""
    assert unit_label(unit, locale) == printed


def test_every_locale_has_a_unit_map_and_unknown_locales_fail():
    assert set(UNITS) == set(SUPPORTED_LOCALES)
    with pytest.raises(ValueError, match="supported locales are en_US, nb_NO"):
        unit_label("ea", "sv_SE")


@pytest.mark.parametrize(
    ("locale", "label"),
    [
        ("nb_NO", f"Gavekurv (15{NBSP}%)"),
        ("nb-NO", f"Gavekurv (15{NBSP}%)"),
        ("en_US", "Gavekurv (15%)"),
    ],
)
def test_t4_rate_label_names_a_bundle_share_by_its_rate(locale, label):
    """T4: a bundle at mixed rates prints one line per rate, "labelled with the parent and the rate"."""
    assert rate_label("Gavekurv", Decimal("15"), locale) == label


def test_t4_rate_label_keeps_a_fractional_rate():
    assert rate_label("Kurv", Decimal("11.11"), "en_US") == "Kurv (11.11%)"


def test_t7_amounts_in_the_company_currency_use_its_minor_unit():
    fmt = Formatter("en_US", "USD")
    assert fmt.amount_in(Decimal("7324.6"), "NOK") == "7,324.60"
    assert fmt.amount_in(Decimal("7324"), "JPY") == "7,324"
    assert fmt.money_in(Decimal("7324.6"), "NOK") == "NOK7,324.60"
    assert Formatter("nb_NO", "USD").money_in(Decimal("7324.6"), "NOK") == f"7{NBSP}324,60{NBSP}kr"
    assert fmt.amount_in(None, "NOK") == fmt.money_in(None, "NOK") == ""
