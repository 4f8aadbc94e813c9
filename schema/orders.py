"""Sales orders and their lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docpost.schema.base import Base
from docpost.schema.masterdata import Customer, Item
from docpost.schema.types import ExactDecimal, Money, Quantity, UnitPrice, UtcDateTime, utcnow

ZERO = Decimal(0)


class SalesOrder(Base):
    __tablename__ = "sales_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(100), unique=True)
    customer_code: Mapped[str] = mapped_column(ForeignKey("customers.customer"))
    currency: Mapped[str] = mapped_column(String(3))
    origin: Mapped[str] = mapped_column(String(20), default="order")  # "order" or "pos"
    store: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # P3: the buyer's reference, printed on its invoices. T7: company currency per unit of
    # `currency`, required when that is not the company's (none in a catalog without company).
    buyer_reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    exchange_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(20, 10), nullable=True)

    customer: Mapped[Customer] = relationship(lazy="joined")
    lines: Mapped[list[SalesLine]] = relationship(
        back_populates="order",
        order_by="SalesLine.line_no",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    def line(self, line_no: int) -> SalesLine | None:
        return next((ln for ln in self.lines if ln.line_no == line_no), None)


class SalesLine(Base):
    """An order line. Bundle parents become `canceled` at confirmation (B3); their components
    are lines of their own pointing at the parent through `bundle_parent_id`."""

    __tablename__ = "sales_lines"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str] = mapped_column(ForeignKey("items.item"))
    quantity: Mapped[Decimal] = mapped_column(Quantity())
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice())
    discount_percent: Mapped[Decimal] = mapped_column(Money(), default=ZERO)
    discount_amount: Mapped[Decimal] = mapped_column(UnitPrice(), default=ZERO)
    site: Mapped[str | None] = mapped_column(String(50), nullable=True)
    warehouse: Mapped[str | None] = mapped_column(String(50), nullable=True)
    net_amount: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | canceled
    bundle_parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_lines.id"), nullable=True
    )
    bom_quantity: Mapped[Decimal | None] = mapped_column(Quantity(), nullable=True)
    bundle_net_amount: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    delivered_qty: Mapped[Decimal] = mapped_column(Quantity(), default=ZERO)
    invoiced_qty: Mapped[Decimal] = mapped_column(Quantity(), default=ZERO)
    invoiced_amount: Mapped[Decimal] = mapped_column(Money(), default=ZERO)
    credited_qty: Mapped[Decimal] = mapped_column(Quantity(), default=ZERO)
    # S9: once a packing slip line of this sales line was reversed (a negative quantity),
    # its serials can no longer be corrected.
    corrected_by_negative_quantity: Mapped[bool] = mapped_column(default=False)

    order: Mapped[SalesOrder] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship(lazy="joined")

    @property
    def is_component(self) -> bool:
        return self.bundle_parent_id is not None

    @property
    def open_to_deliver(self) -> Decimal:
        return self.quantity - self.delivered_qty

    @property
    def shipped_not_invoiced(self) -> Decimal:
        return self.delivered_qty - self.invoiced_qty
