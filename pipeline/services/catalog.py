"""upsert_catalog: load master data and actors (M1-M5)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from docpost.pipeline.contract import UpsertCatalog
from docpost.pipeline.duties import MAINTAIN_MASTER_DATA, MANAGE_ACTORS, check_duty_change
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.masterdata import (
    check_bom_component,
    check_catch_weight_tracking,
    normalise_tracking_group,
)
from docpost.pipeline.uow import UnitOfWork
from docpost.schema import (
    Actor,
    ActorDuty,
    BomLine,
    Customer,
    Item,
    RevenueSchedule,
    TrackingGroup,
)


def upsert_catalog(uow: UnitOfWork, cmd: UpsertCatalog) -> dict[str, Any]:
    session = uow.session
    _check_catalog_actor(uow, cmd)
    normalised: list[dict[str, Any]] = []

    for group_in in cmd.tracking_groups:
        options, changes = normalise_tracking_group(group_in.model_dump(exclude={"code", "name"}))
        if changes:
            normalised.append({"tracking_group": group_in.code, "changes": changes})
        group = session.get(TrackingGroup, group_in.code) or TrackingGroup(code=group_in.code)
        group.name = group_in.name
        for key, value in options.items():
            setattr(group, key, value)
        session.add(group)

    for schedule_in in cmd.revenue_schedules:
        schedule = session.get(RevenueSchedule, schedule_in.code) or RevenueSchedule(
            code=schedule_in.code
        )
        schedule.name = schedule_in.name
        schedule.occurrences = schedule_in.occurrences
        session.add(schedule)
    session.flush()

    for item_in in cmd.items:
        group = None
        if item_in.tracking_group is not None:
            group = session.get(TrackingGroup, item_in.tracking_group)
            if group is None:
                raise Rejection(
                    "catalog.unknown_tracking_group",
                    f"item {item_in.item}: tracking group {item_in.tracking_group!r} "
                    "does not exist",
                )
        if item_in.revenue_schedule and not session.get(RevenueSchedule, item_in.revenue_schedule):
            raise Rejection(
                "catalog.unknown_revenue_schedule",
                f"item {item_in.item}: revenue schedule {item_in.revenue_schedule!r} "
                "does not exist",
            )
        check_catch_weight_tracking(
            item_in.item,
            item_in.catch_weight,
            item_in.tracking_group,
            bool(group and group.serial_active_in_sales_process),
        )
        item = session.get(Item, item_in.item) or Item(item=item_in.item)
        item.name = item_in.name
        item.unit = item_in.unit
        item.base_sales_price = item_in.base_sales_price
        item.tracking_group_code = item_in.tracking_group
        item.catch_weight = item_in.catch_weight
        item.bundle = item_in.bundle
        item.revenue_schedule_code = item_in.revenue_schedule
        session.add(item)
    session.flush()

    # A tracking group changed to "active in sales" must not catch an existing catch-weight item.
    for group_in in cmd.tracking_groups:
        group = session.get(TrackingGroup, group_in.code)
        if group is not None and group.serial_active_in_sales_process:
            clash = session.scalars(
                select(Item).where(
                    Item.tracking_group_code == group.code, Item.catch_weight.is_(True)
                )
            ).first()
            if clash is not None:
                check_catch_weight_tracking(clash.item, True, group.code, True)

    for bom_in in cmd.boms:
        bundle = session.get(Item, bom_in.bundle)
        if bundle is None or not bundle.bundle:
            raise Rejection(
                "catalog.not_a_bundle",
                f"bill of materials for {bom_in.bundle!r}: the item does not exist or is not "
                "flagged as a bundle",
                rule="M4",
            )
        seen: set[str] = set()
        for component_in in bom_in.components:
            component = session.get(Item, component_in.item)
            if component is None:
                raise Rejection(
                    "catalog.unknown_item",
                    f"bundle {bom_in.bundle}: component item {component_in.item!r} does not exist",
                    rule="M4",
                )
            check_bom_component(bom_in.bundle, component.item, component.bundle)
            if component.item in seen:
                raise Rejection(
                    "catalog.duplicate_component",
                    f"bundle {bom_in.bundle}: component {component.item} is listed twice; "
                    "give it once with the total quantity",
                    rule="M4",
                )
            seen.add(component.item)
        bundle.bom.clear()
        session.flush()
        bundle.bom.extend(
            BomLine(position=index, component_item=c.item, quantity=c.quantity)
            for index, c in enumerate(bom_in.components, start=1)
        )
    session.flush()
    _check_bundles_used_as_components(uow)

    for customer_in in cmd.customers:
        customer = session.get(Customer, customer_in.customer) or Customer(
            customer=customer_in.customer
        )
        customer.name = customer_in.name
        customer.currency = customer_in.currency
        customer.address = customer_in.address
        session.add(customer)

    for actor_in in cmd.actors:
        actor = session.get(Actor, actor_in.actor) or Actor(actor=actor_in.actor)
        actor.duties = [ActorDuty(duty=d) for d in sorted(set(actor_in.duties))]
        session.add(actor)
    session.flush()

    return {
        "tracking_groups": len(cmd.tracking_groups),
        "revenue_schedules": len(cmd.revenue_schedules),
        "items": len(cmd.items),
        "boms": len(cmd.boms),
        "customers": len(cmd.customers),
        "actors": len(cmd.actors),
        "normalised": normalised,
    }


def _check_catalog_actor(uow: UnitOfWork, cmd: UpsertCatalog) -> None:
    """M5: the very first load into an empty database (no actor yet) is taken without an
    actor, and must create an actor who can manage actors from then on. Every later load
    needs maintain_master_data for its master data and manage_actors for its actors, and
    may grant or take away only duties its actor holds. Checked before anything is loaded."""
    session = uow.session
    if session.scalars(select(Actor.actor).limit(1)).first() is None:
        if not any(MANAGE_ACTORS in a.duties for a in cmd.actors):
            raise Rejection(
                "actor.first_load_without_manager",
                "the first catalog loaded into an empty database must create an actor holding "
                f"the duty {MANAGE_ACTORS} (it is the only load taken without an actor); add "
                f'one to "actors", e.g. {{"actor": "erp", "duties": ["{MANAGE_ACTORS}", '
                f'"{MAINTAIN_MASTER_DATA}", ...]}}',
                rule="M5",
                duty=MANAGE_ACTORS,
            )
        return
    uow.require_duties_of("upsert_catalog", cmd)
    # What the loader holds now, before this catalog changes anyone (itself included).
    held = frozenset(uow.actor.duty_names)
    duties: dict[str, set[str]] = {}  # each named actor's duties as the catalog goes along
    for actor_in in cmd.actors:
        if actor_in.actor not in duties:
            existing = session.get(Actor, actor_in.actor)
            duties[actor_in.actor] = existing.duty_names if existing is not None else set()
        after = set(actor_in.duties)
        check_duty_change(uow.actor_name, held, actor_in.actor, duties[actor_in.actor], after)
        duties[actor_in.actor] = after


def _check_bundles_used_as_components(uow: UnitOfWork) -> None:
    """An item turned into a bundle must not already be some bundle's component (M4)."""
    row = uow.session.execute(
        select(BomLine.bundle_item, BomLine.component_item)
        .join(Item, Item.item == BomLine.component_item)
        .where(Item.bundle.is_(True))
    ).first()
    if row is not None:
        check_bom_component(row.bundle_item, row.component_item, True)
