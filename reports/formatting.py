"""Locale-aware number, money and date formatting for the templates (babel)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_precision

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

    def quantity(self, value: Decimal | None) -> str:
        # Quantities print as entered: "3", "2.5", never "3.00".
        if value is None:
            return ""
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def percent(self, value: Decimal | None) -> str:
        """``value`` is in percent (10 means 10 %)."""
        if value is None:
            return ""
        return format_percent(Decimal(value) / 100, locale=self.locale, decimal_quantization=False)

    def date(self, value: datetime.date | None) -> str:
        if value is None:
            return ""
        return format_date(value, format="long", locale=self.locale)


def _pattern(min_decimals: int, max_decimals: int) -> str:
    if max_decimals == 0:
        return "#,##0"
    return "#,##0." + "0" * min_decimals + "#" * (max_decimals - min_decimals)
