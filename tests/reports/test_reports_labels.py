"""Locales: the same words exist in each, unknown ones fail clearly, babel formats numbers."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from docpost.reports.formatting import Formatter
from docpost.reports.labels import (
    LABELS,
    SUPPORTED_LOCALES,
    labels_for,
    locale_from_env,
    normalize_locale,
)
from docpost.reports.viewmodel import KINDS

NBSP = "\u00a0"


def test_every_locale_has_the_same_labels():
    reference = set(LABELS["en_US"])
    for locale in SUPPORTED_LOCALES:
        assert set(LABELS[locale]) == reference, locale
        assert all(LABELS[locale].values()), locale


def test_every_kind_and_reference_has_a_title():
    for locale in SUPPORTED_LOCALES:
        for key in [*KINDS, "order"]:
            assert labels_for(locale)[key]


def test_norwegian_words():
    nb = labels_for("nb_NO")
    assert nb["invoice"] == "Faktura"
    assert nb["packing_slip"] == "Følgeseddel"
    assert nb["confirmation"] == "Ordrebekreftelse"
    assert nb["credit_note"] == "Kreditnota"
    assert nb["not_readable"] == "Ikke lesbart"  # D5: the documents' own term
    assert nb["bundle"] == "Bunt"
    assert nb["page_of"] == "Side {page} av {pages}"


@pytest.mark.parametrize("bad", ["de_DE", "nb", "", "en_GB", None])
def test_unknown_locale_is_a_value_error_naming_the_supported_ones(bad):
    with pytest.raises(ValueError, match=r"supported locales are en_US, nb_NO"):
        normalize_locale(bad)  # type: ignore[arg-type]


def test_locale_from_env():
    assert locale_from_env({}) == "en_US"
    assert locale_from_env({"DOCPOST_LOCALE": "nb-NO"}) == "nb_NO"
    with pytest.raises(ValueError, match="'sv_SE'"):
        locale_from_env({"DOCPOST_LOCALE": "sv_SE"})


def test_formatter_en_us():
    fmt = Formatter("en_US", "USD")
    assert fmt.amount(Decimal("2300")) == "2,300.00"
    assert fmt.price(Decimal("2300.125")) == "2,300.125"
    assert fmt.price(Decimal("2300.1")) == "2,300.10"
    assert fmt.quantity(Decimal("3")) == "3"
    assert fmt.quantity(Decimal("2.50")) == "2.5"
    assert fmt.quantity(Decimal("1.2345")) == "1.2345"
    assert fmt.percent(Decimal("12.5")) == "12.5%"
    assert fmt.money(Decimal("-6900")) == "-$6,900.00"
    assert fmt.date(datetime.date(2024, 3, 5)) == "March 5, 2024"
    assert fmt.amount(None) == fmt.date(None) == ""


def test_formatter_nb_no_as_babel_gives_it():
    fmt = Formatter("nb_NO", "NOK")
    assert fmt.amount(Decimal("2300")) == f"2{NBSP}300,00"
    assert fmt.percent(Decimal("10")) == f"10{NBSP}%"
    assert fmt.money(Decimal("6900")) == f"6{NBSP}900,00{NBSP}kr"
    assert fmt.date(datetime.date(2024, 3, 5)) == "5. mars 2024"


def test_formatter_uses_the_currency_minor_unit():
    assert Formatter("en_US", "JPY").amount(Decimal("6900")) == "6,900"
    assert Formatter("en_US", "JPY").price(Decimal("12.5")) == "12.5"
