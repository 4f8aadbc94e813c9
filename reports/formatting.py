"""Locale-aware number, money and date formatting for the templates (babel).

babel's ``format_decimal``/``format_currency``/``format_percent``/``format_date`` look the
locale up and parse their pattern again on every call, and a 200-line invoice makes about a
thousand calls (37 ms of its render). Here the patterns are parsed once per locale (and
currency) and applied as those functions apply them, with the same arguments, so the text is
the same (tests/reports/test_reports_formatting.py).
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.dates import DateTimePattern, get_date_format
from babel.dates import parse_pattern as parse_date_pattern
from babel.numbers import NumberPattern, get_currency_precision, parse_pattern

from docpost.reports.labels import normalize_locale

# Unit prices may carry up to 6 decimals (DOMAIN.md); show them, but no trailing zeros past the
# currency's minor unit.
_MAX_PRICE_DECIMALS = 6


@dataclass(frozen=True)
class _LocalePatterns:
    locale: Locale
    decimal: NumberPattern  # the locale's decimal format (quantities)
    percent: NumberPattern
    currency: NumberPattern  # the locale's standard currency format
    date: DateTimePattern  # the locale's long date format


@dataclass(frozen=True)
class _CurrencyPatterns:
    amount: NumberPattern  # exactly the currency's decimals
    price: NumberPattern  # at least the currency's decimals, up to six


@functools.cache
def _locale_patterns(locale: str) -> _LocalePatterns:
    parsed = Locale.parse(locale)
    return _LocalePatterns(
        locale=parsed,
        decimal=parse_pattern(parsed.decimal_formats[None]),
        percent=parse_pattern(parsed.percent_formats[None]),
        currency=parse_pattern(parsed.currency_formats["standard"]),
        date=parse_date_pattern(get_date_format("long", locale=parsed)),
    )


@functools.lru_cache(maxsize=512)  # currency codes are ISO 4217: bounded
def _currency_patterns(currency: str) -> _CurrencyPatterns:
    digits = get_currency_precision(currency)
    return _CurrencyPatterns(
        amount=parse_pattern(_pattern(digits, digits)),
        price=parse_pattern(_pattern(digits, max(digits, _MAX_PRICE_DECIMALS))),
    )


@dataclass(frozen=True)
class Formatter:
    """Formats values for one document: its locale and its currency.

    Exposed to the sandboxed templates as ``fmt``; every method takes ``None`` and returns ""
    so a template never prints "None".
    """

    locale: str
    currency: str

    def amount(self, value: Decimal | None) -> str:
        """A money amount without currency sign, with exactly the currency's decimals."""
        if value is None:
            return ""
        # = format_decimal(value, format=pattern, locale=locale)
        return _currency_patterns(self.currency).amount.apply(
            value, _locale_patterns(self.locale).locale
        )

    def price(self, value: Decimal | None) -> str:
        """A unit price: at least the currency's decimals, up to six when it has them."""
        if value is None:
            return ""
        return _currency_patterns(self.currency).price.apply(
            value, _locale_patterns(self.locale).locale
        )

    def money(self, value: Decimal | None) -> str:
        """A total with the currency sign placed as the locale does it."""
        if value is None:
            return ""
        # = format_currency(value, currency, locale=locale)
        patterns = _locale_patterns(self.locale)
        return patterns.currency.apply(value, patterns.locale, currency=self.currency)

    def amount_in(self, value: Decimal | None, currency: str) -> str:
        """An amount in another currency than the document's (T7: VAT in the company's)."""
        return Formatter(self.locale, currency).amount(value)

    def money_in(self, value: Decimal | None, currency: str) -> str:
        """A total in another currency than the document's, with that currency's sign."""
        return Formatter(self.locale, currency).money(value)

    def quantity(self, value: Decimal | None) -> str:
        # Quantities print as entered: "3", "2.5", never "3.00".
        if value is None:
            return ""
        # = format_decimal(value, locale=locale, decimal_quantization=False)
        patterns = _locale_patterns(self.locale)
        return patterns.decimal.apply(value, patterns.locale, decimal_quantization=False)

    def percent(self, value: Decimal | None) -> str:
        """``value`` is in percent (10 means 10 %)."""
        if value is None:
            return ""
        return percent_text(value, self.locale)

    def date(self, value: datetime.date | None) -> str:
        if value is None:
            return ""
        # = format_date(value, format="long", locale=locale)
        patterns = _locale_patterns(self.locale)
        return patterns.date.apply(value, patterns.locale)


def percent_text(value: Decimal, locale: str) -> str:
    """``value`` percent as ``locale`` writes it: "15 %" in nb_NO, "15%" in en_US."""
    # = format_percent(value / 100, locale=locale, decimal_quantization=False)
    patterns = _locale_patterns(locale)
    return patterns.percent.apply(Decimal(value) / 100, patterns.locale, decimal_quantization=False)


def rate_label(name: str, rate: Decimal, locale: str) -> str:
    """The name of a bundle's share at one VAT rate (T4): "Gavekurv (15 %)".

    An external document shows a bundle whose components have different rates as one line per
    rate, labelled with the parent and the rate; the caller names those lines with this.
    """
    return f"{name} ({percent_text(rate, normalize_locale(locale))})"


def _pattern(min_decimals: int, max_decimals: int) -> str:
    if max_decimals == 0:
        return "#,##0"
    return "#,##0." + "0" * min_decimals + "#" * (max_decimals - min_decimals)
