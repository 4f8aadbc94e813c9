"""The Formatter's cached patterns print exactly what babel's format_* functions print."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from docpost.reports.formatting import Formatter, _pattern, percent_text
from docpost.reports.labels import LABELS

LOCALES = sorted(LABELS)
CURRENCIES = ["USD", "NOK", "EUR", "JPY", "KWD", "SEK"]
VALUES = [
    Decimal("0"),
    Decimal("-0.5"),
    Decimal("1"),
    Decimal("2.5"),
    Decimal("1234.5"),
    Decimal("-98765.4321"),
    Decimal("1234567.891234"),
    Decimal("0.005"),
    Decimal("19.999999"),
]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("currency", CURRENCIES)
def test_numbers_as_babels_format_functions_print_them(locale, currency):
    from babel.numbers import get_currency_precision

    fmt = Formatter(locale, currency)
    digits = get_currency_precision(currency)
    for value in VALUES:
        assert fmt.amount(value) == format_decimal(
            value, format=_pattern(digits, digits), locale=locale
        )
        assert fmt.price(value) == format_decimal(
            value, format=_pattern(digits, max(digits, 6)), locale=locale
        )
        assert fmt.money(value) == format_currency(value, currency, locale=locale)
        assert fmt.quantity(value) == format_decimal(
            value, locale=locale, decimal_quantization=False
        )
        assert fmt.percent(value) == format_percent(
            value / 100, locale=locale, decimal_quantization=False
        )
        assert percent_text(value, locale) == fmt.percent(value)


@pytest.mark.parametrize("locale", LOCALES)
def test_dates_as_babels_format_date_prints_them(locale):
    fmt = Formatter(locale, "USD")
    for day in (datetime.date(2024, 3, 5), datetime.date(2026, 12, 30), datetime.date(1999, 1, 1)):
        assert fmt.date(day) == format_date(day, format="long", locale=locale)


def test_none_prints_nothing():
    fmt = Formatter("en_US", "USD")
    for method in (fmt.amount, fmt.price, fmt.money, fmt.quantity, fmt.percent, fmt.date):
        assert method(None) == ""
