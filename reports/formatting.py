"""Locale-aware number, money and date formatting for the templates (babel)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision

from docpost.reports.labels import normalize_locale

# Unit prices may carry up to 6 decimals (DOMAIN.md); show them, but no trailing zeros past the
# currency's minor unit.
_MAX_PRICE_DECIMALS = 6


@dataclass(frozen=True)
class Formatter:
    """Formats values for one document: its locale and its currency.

    Exposed to the sandboxed templates as ``fmt``; every method takes ``None`` and returns ""
    so a template never prints "None".
    """

    locale: str
    currency: str

    @property
    def _digits(self) -> int:
        return get_currency_precision(self.currency)

    def amount(self, value: Decimal | None) -> str:
        """A money amount without currency sign, with exactly the currency's decimals."""
        if value is None:
            return ""
        return format_decimal(
            value, format=_pattern(self._digits, self._digits), locale=self.locale
        )

    def price(self, value: Decimal | None) -> str:
        """A unit price: at least the currency's decimals, up to six when it has them."""
        if value is None:
            return ""
        digits = self._digits
        pattern = _pattern(digits, max(digits, _MAX_PRICE_DECIMALS))
        return format_decimal(value, format=pattern, locale=self.locale)

    def money(self, value: Decimal | None) -> str:
        """A total with the currency sign placed as the locale does it."""
        if value is None:
            return ""
        return format_currency(value, self.currency, locale=self.locale)

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
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def percent(self, value: Decimal | None) -> str:
        """``value`` is in percent (10 means 10 %)."""
        if value is None:
            return ""
        return percent_text(value, self.locale)

    def date(self, value: datetime.date | None) -> str:
        if value is None:
            return ""
        return format_date(value, format="long", locale=self.locale)


def percent_text(value: Decimal, locale: str) -> str:
    """``value`` percent as ``locale`` writes it: "15 %" in nb_NO, "15%" in en_US."""
    return format_percent(Decimal(value) / 100, locale=locale, decimal_quantization=False)


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
