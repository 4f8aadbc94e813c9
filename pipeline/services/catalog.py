"""upsert_catalog: load master data and actors (M1-M8), one part of the catalog at a time.

Each part is loaded from the database, planned or checked by the pure rules in
pipeline/rules/masterdata.py and pipeline/rules/parties.py, then written. The parts go in the
order the later ones need: the company (M6) before the customers whose organisation numbers
its country decides, tax codes (M8), tracking groups and revenue schedules before the items
that name them, items before the bills of materials that name them. Actors are checked first
(M5) so a refused catalog reads nothing else, and written last. What invoicing will need of
the items' and customers' tax (M7, M8, T1) is checked on the database as the rest of the
catalog leaves it, so it is refused at load, naming the item or customer, not at invoicing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from docpost.pipeline.contract import (
    ActorIn,
    BomIn,
    CompanyIn,
    CustomerIn,
    ItemIn,
    RevenueScheduleIn,
    TaxCodeIn,
    TrackingGroupIn,
    UpsertCatalog,
)
from docpost.pipeline.duties import check_duty_change
from docpost.pipeline.rules import masterdata, parties
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import (
    Actor,
    ActorDuty,
    BomLine,
    Company,
    Customer,
    Item,
    RevenueSchedule,
    TaxCode,
    TaxRate,
    TrackingGroup,
)
from docpost.schema.base import Base
from docpost.schema.company import COMPANY_ROW

Row = TypeVar("Row", bound=Base)


def upsert_catalog(uow: UnitOfWork, cmd: UpsertCatalog) -> dict[str, Any]:
    session = uow.session
    _check_catalog_actor(uow, cmd)
    if cmd.company is not None:
        _write_company(session, cmd.company)
    _write_tax_codes(session, cmd.tax_codes)
    normalised = _write_tracking_groups(session, cmd.tracking_groups)
    _write_revenue_schedules(session, cmd.revenue_schedules)
    session.flush()
    _write_items(session, cmd.items)
    session.flush()
    _check_groups_against_catch_weight(session, cmd.tracking_groups)
    for bom_in in cmd.boms:
        _write_bom(session, bom_in)
    session.flush()
    _check_bundles_used_as_components(session)
    _write_customers(session, cmd.customers)
    session.flush()
    _check_tax_for_invoicing(session, cmd)
    _write_actors(session, cmd.actors)
    session.flush()
    return {
        "company": int(cmd.company is not None),
        "tax_codes": len(cmd.tax_codes),
        "tracking_groups": len(cmd.tracking_groups),
        "revenue_schedules": len(cmd.revenue_schedules),
        "items": len(cmd.items),
        "boms": len(cmd.boms),
        "customers": len(cmd.customers),
        "actors": len(cmd.actors),
        "normalised": normalised,
    }


# --- actors: who may load this catalog (M5) ---------------------------------------------------


def _check_catalog_actor(uow: UnitOfWork, cmd: UpsertCatalog) -> None:
    """M5: the very first load into an empty database (no actor yet) is taken without an
    actor, and must create an actor who can manage actors from then on. Every later load
    needs maintain_master_data for its master data and manage_actors for its actors, and
    may grant or take away only duties its actor holds. Checked before anything is loaded."""
    session = uow.session
    if session.scalars(select(Actor.actor).limit(1)).first() is None:
        masterdata.check_first_load(a.duties for a in cmd.actors)
        return
    uow.require_duties_of("upsert_catalog", cmd)
    # What the loader holds now, before this catalog changes anyone (itself included).
    held = frozenset(uow.actor.duty_names)
    existing: dict[str, set[str]] = {}
    for name in dict.fromkeys(a.actor for a in cmd.actors):
        actor = session.get(Actor, name)
        if actor is not None:
            existing[name] = actor.duty_names
    for change in masterdata.duty_changes(existing, [(a.actor, a.duties) for a in cmd.actors]):
        check_duty_change(uow.actor_name, held, change.actor, change.before, change.after)


def _write_actors(session: Session, actors: Sequence[ActorIn]) -> None:
    for actor_in in actors:
        duties = [ActorDuty(duty=d) for d in sorted(set(actor_in.duties))]
        _upsert(session, Actor, actor_in.actor, duties=duties)


# --- the company (M6) and tax codes (M8) -------------------------------------------------------


def _write_company(session: Session, company_in: CompanyIn) -> None:
    """M6: the company given replaces the one row (a posted document keeps its own copy, D6)."""
    values = parties.company_values(company_in.model_dump())
    _upsert(session, Company, COMPANY_ROW, **values)
    session.flush()


def _write_tax_codes(session: Session, tax_codes: Sequence[TaxCodeIn]) -> None:
    """M8: each tax code given replaces the stored one and its rates (a posted line keeps the
    rate it was posted at, T1)."""
    masterdata.check_tax_codes_unique([code_in.code for code_in in tax_codes])
    for code_in in tax_codes:
        plan = masterdata.plan_tax_code(
            code_in.code,
            code_in.category,
            [(r.rate, r.valid_from) for r in code_in.rates],
            code_in.account,
        )
        tax_code = _upsert(
            session,
            TaxCode,
            code_in.code,
            name=code_in.name,
            category=code_in.category,
            account=code_in.account,
        )
        tax_code.rates.clear()
        # The old rates go first: the new ones may reuse their (code, valid_from) keys.
        session.flush()
        tax_code.rates.extend(TaxRate(valid_from=r.valid_from, rate=r.rate) for r in plan)
    session.flush()


# --- tracking groups and revenue schedules (M2) ------------------------------------------------


def _write_tracking_groups(
    session: Session, groups: Sequence[TrackingGroupIn]
) -> list[dict[str, Any]]:
    """The groups as M2 normalises them; returns what it changed, per group."""
    normalised: list[dict[str, Any]] = []
    for group_in in groups:
        options, changes = masterdata.normalise_tracking_group(
            group_in.model_dump(exclude={"code", "name"})
        )
        if changes:
            normalised.append({"tracking_group": group_in.code, "changes": changes})
        _upsert(session, TrackingGroup, group_in.code, name=group_in.name, **options)
    return normalised


def _write_revenue_schedules(session: Session, schedules: Sequence[RevenueScheduleIn]) -> None:
    for s in schedules:
        _upsert(session, RevenueSchedule, s.code, name=s.name, occurrences=s.occurrences)


def _check_groups_against_catch_weight(session: Session, groups: Sequence[TrackingGroupIn]) -> None:
    """M3 from the group's side: a group this catalog makes active in sales must not catch an
    existing catch-weight item (the items' side is checked as each item is written)."""
    for group_in in groups:
        group = session.get(TrackingGroup, group_in.code)
        if group is not None and group.serial_active_in_sales_process:
            clash = session.scalars(
                select(Item).where(
                    Item.tracking_group_code == group.code, Item.catch_weight.is_(True)
                )
            ).first()
            if clash is not None:
                masterdata.check_catch_weight_tracking(clash.item, True, group.code, True)


# --- items (M1, M3) -------------------------------------------------------------------------


def _write_items(session: Session, items: Sequence[ItemIn]) -> None:
    for item_in in items:
        _check_item(session, item_in)
        _upsert(
            session,
            Item,
            item_in.item,
            name=item_in.name,
            unit=item_in.unit,
            base_sales_price=item_in.base_sales_price,
            tracking_group_code=item_in.tracking_group,
            catch_weight=item_in.catch_weight,
            bundle=item_in.bundle,
            revenue_schedule_code=item_in.revenue_schedule,
            tax_code=item_in.tax_code,
            warranty_months=item_in.warranty_months,  # S15
        )


def _check_item(session: Session, item_in: ItemIn) -> None:
    """M1: what the item names exists; M3: a catch-weight item's group is not active in
    sales."""
    group = None
    if item_in.tracking_group is not None:
        group = session.get(TrackingGroup, item_in.tracking_group)
    schedule_exists = bool(item_in.revenue_schedule) and (
        session.get(RevenueSchedule, item_in.revenue_schedule) is not None
    )
    masterdata.check_item_references(
        item_in.item,
        item_in.tracking_group,
        group is not None,
        item_in.revenue_schedule,
        schedule_exists,
    )
    masterdata.check_catch_weight_tracking(
        item_in.item,
        item_in.catch_weight,
        item_in.tracking_group,
        bool(group and group.serial_active_in_sales_process),
    )
    if item_in.tax_code is not None:
        exists = session.get(TaxCode, item_in.tax_code) is not None
        masterdata.check_item_tax_code(item_in.item, item_in.tax_code, exists)


# --- bills of materials (M4) ------------------------------------------------------------------


def _write_bom(session: Session, bom_in: BomIn) -> None:
    """A bundle's bill of materials replaced by the one given (M4)."""
    bundle = session.get(Item, bom_in.bundle)
    components = []
    for component_in in bom_in.components:
        item = session.get(Item, component_in.item)
        is_bundle = None if item is None else item.bundle
        components.append(
            masterdata.BomComponent(component_in.item, component_in.quantity, is_bundle)
        )
    plan = masterdata.plan_bom(bom_in.bundle, None if bundle is None else bundle.bundle, components)
    assert bundle is not None  # plan_bom refuses a missing bundle
    bundle.bom.clear()
    # The old lines go first: the new ones reuse their (bundle, position) keys.
    session.flush()
    bundle.bom.extend(
        BomLine(position=line.position, component_item=line.component, quantity=line.quantity)
        for line in plan
    )


def _check_bundles_used_as_components(session: Session) -> None:
    """An item turned into a bundle must not already be some bundle's component (M4)."""
    row = session.execute(
        select(BomLine.bundle_item, BomLine.component_item)
        .join(Item, Item.item == BomLine.component_item)
        .where(Item.bundle.is_(True))
    ).first()
    if row is not None:
        masterdata.check_bom_component(row.bundle_item, row.component_item, True)


# --- customers (M7) ---------------------------------------------------------------------------


def _write_customers(session: Session, customers: Sequence[CustomerIn]) -> None:
    """M7: each customer given replaces the stored one. Its organisation number is checked
    by its address's country, else the company's (written before the customers)."""
    company = session.get(Company, COMPANY_ROW) if customers else None
    company_country = None if company is None else company.country
    for c in customers:
        address = c.address_parts
        given = c.model_dump(exclude={"customer", "name", "currency", "address"})
        values = parties.customer_values(
            c.customer, {**given, "address": address.model_dump()}, company_country
        )
        _upsert(
            session,
            Customer,
            c.customer,
            name=c.name,
            currency=c.currency,
            address="\n".join(address.lines),
            **values,
        )


# --- what invoicing will need (M7, M8, T1) ----------------------------------------------------


def _check_tax_for_invoicing(session: Session, cmd: UpsertCatalog) -> None:
    """M8/T1: with tax codes loaded, every item but a bundle has one; M7/M8: each export or
    reverse-charge treatment a customer has finds its one tax code. Checked on the database
    as this catalog leaves it, and only when the catalog gives what these depend on (so a
    catalog of actors alone reads none of it)."""
    if not (cmd.tax_codes or cmd.items or cmd.customers):
        return
    codes_by_category: dict[str, list[str]] = {}
    for code, category in session.execute(select(TaxCode.code, TaxCode.category)):
        codes_by_category.setdefault(category, []).append(code)
    loaded = bool(codes_by_category)
    if cmd.tax_codes or cmd.items:
        untaxed = select(Item.item).where(Item.tax_code.is_(None), Item.bundle.is_(False))
        masterdata.check_items_taxed(loaded, *_first_and_count(session, untaxed, Item.item))
    if cmd.tax_codes or cmd.customers:
        treated = {
            treatment: _first_and_count(
                session,
                select(Customer.customer).where(Customer.tax_treatment == treatment),
                Customer.customer,
            )
            for treatment in masterdata.TREATMENT_CATEGORIES
        }
        masterdata.check_treatment_tax_codes(loaded, treated, codes_by_category)


def _first_and_count(
    session: Session, query: Select[tuple[str]], key: InstrumentedAttribute[str]
) -> tuple[list[str], int]:
    """The first keys `query` selects (as many as a refusal names), and how many in all."""
    first = list(session.scalars(query.order_by(key).limit(masterdata.SHOWN)))
    if len(first) < masterdata.SHOWN:
        return first, len(first)
    return first, session.scalar(select(func.count()).select_from(query.subquery())) or 0


# ----------------------------------------------------------------------------------------------


def _upsert(session: Session, model: type[Row], key: str | int, **values: Any) -> Row:
    """The row of `model` whose primary key is `key`, created when there is none, with
    `values` set: every part of a catalog replaces what it names and leaves the rest."""
    [key_column] = inspect(model).primary_key
    row = session.get(model, key) or model(**{key_column.key: key})
    for column, value in values.items():
        setattr(row, column, value)
    session.add(row)
    return row
