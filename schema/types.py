"""Column types shared by the models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String, TypeDecorator


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal column that never passes through float.

    PostgreSQL stores NUMERIC(precision, scale). SQLite has no decimal type and would
    store REAL, so there the value is kept as its canonical text. Because of that, code
    must not do arithmetic or ordering on these columns in SQL: sum in Python.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 2) -> None:
        # Passed on to Numeric so that migrations render the precision and scale.
        super().__init__(precision=precision, scale=scale)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"ExactDecimal needs a Decimal, got {type(value).__name__}")
        exponent = Decimal(1).scaleb(-self.scale)
        quantized = value.quantize(exponent)
        if quantized != value:
            raise ValueError(f"{value} has more than {self.scale} decimals")
        return str(quantized) if dialect.name == "sqlite" else quantized

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value)


def Money() -> ExactDecimal:
    """An amount in the currency's minor unit (2 decimals)."""
    return ExactDecimal(18, 2)


def UnitPrice() -> ExactDecimal:
    """A unit price: up to 6 decimals."""
    return ExactDecimal(20, 6)


def Quantity() -> ExactDecimal:
    """A quantity: up to 6 decimals."""
    return ExactDecimal(20, 6)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC timestamps on both PostgreSQL and SQLite."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use timezone-aware UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
