"""Master data (DOMAIN.md M1-M5, M7): tracking groups, items, bills of materials, customers,
actors. The company (M6) and tax codes (M8) are in schema.company and schema.tax."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from docpost.schema.base import Base
from docpost.schema.company import PartyColumns
from docpost.schema.types import Quantity, UnitPrice


class TrackingGroup(Base):
    """Serial options of a tracking dimension group (M2)."""

    __tablename__ = "tracking_groups"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    serial_active_in_sales_process: Mapped[bool] = mapped_column(Boolean, default=False)
    serial_number_control: Mapped[bool] = mapped_column(Boolean, default=False)
    blank_issue_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Inventory-side serial selections; M2 clears them when serials are active in sales.
    serial_primary_stocking: Mapped[bool] = mapped_column(Boolean, default=False)
    serial_physical_inventory: Mapped[bool] = mapped_column(Boolean, default=False)
    serial_financial_inventory: Mapped[bool] = mapped_column(Boolean, default=False)


class RevenueSchedule(Base):
    __tablename__ = "revenue_schedules"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    occurrences: Mapped[int] = mapped_column(Integer)


class Item(Base):
    __tablename__ = "items"

    item: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    base_sales_price: Mapped[Decimal] = mapped_column(UnitPrice())
    tracking_group_code: Mapped[str | None] = mapped_column(
        ForeignKey("tracking_groups.code"), nullable=True
    )
    catch_weight: Mapped[bool] = mapped_column(Boolean, default=False)
    bundle: Mapped[bool] = mapped_column(Boolean, default=False)
    revenue_schedule_code: Mapped[str | None] = mapped_column(
        ForeignKey("revenue_schedules.code"), nullable=True
    )
    # M8: the tax code of its sales lines; none in a catalog without tax codes (no VAT).
    tax_code: Mapped[str | None] = mapped_column(ForeignKey("tax_codes.code"), nullable=True)
    # S15: the warranty period in whole months; None: the item carries no warranty. Packing
    # slip and invoice lines freeze it at posting (JournalLine.warranty_months, D6).
    warranty_months: Mapped[int | None] = mapped_column(Integer, nullable=True)

    tracking_group: Mapped[TrackingGroup | None] = relationship(lazy="joined")
    bom: Mapped[list[BomLine]] = relationship(
        foreign_keys="BomLine.bundle_item",
        order_by="BomLine.position",
        cascade="all, delete-orphan",
    )

    @property
    def serialized_in_sales(self) -> bool:
        group = self.tracking_group
        return bool(group and group.serial_active_in_sales_process)

    @property
    def blank_issue_allowed(self) -> bool:
        group = self.tracking_group
        return bool(group and group.blank_issue_allowed)


class BomLine(Base):
    """One component of a bundle (M4)."""

    __tablename__ = "bom_lines"

    bundle_item: Mapped[str] = mapped_column(ForeignKey("items.item"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_item: Mapped[str] = mapped_column(ForeignKey("items.item"))
    quantity: Mapped[Decimal] = mapped_column(Quantity())


class Customer(PartyColumns, Base):
    __tablename__ = "customers"

    customer: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    # The address lines, joined by line feeds (a string given for the address is its lines).
    address: Mapped[str] = mapped_column(String(500), default="")
    # M7, besides PartyColumns: the VAT id (compact, "SE556036079301") and the terms.
    vat_id: Mapped[str | None] = mapped_column(String(50), nullable=True)
    # None: the company's terms (P1).
    payment_terms_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tax_treatment: Mapped[str] = mapped_column(
        String(20), default="domestic", server_default="domestic"
    )
    # None: the configured locale (P4).
    language: Mapped[str | None] = mapped_column(String(10), nullable=True)


class Actor(Base):
    __tablename__ = "actors"

    actor: Mapped[str] = mapped_column(String(100), primary_key=True)
    duties: Mapped[list[ActorDuty]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def duty_names(self) -> set[str]:
        return {d.duty for d in self.duties}


class ActorDuty(Base):
    __tablename__ = "actor_duties"

    actor: Mapped[str] = mapped_column(ForeignKey("actors.actor"), primary_key=True)
    duty: Mapped[str] = mapped_column(String(100), primary_key=True)
