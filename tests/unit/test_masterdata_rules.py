"""Pure master data rules (DOMAIN.md M1-M5) as upsert_catalog applies them: no database.

Each test names the rule it asserts; the service tests (tests/services/test_catalog_and_duties.py,
tests/faults/test_duties.py) show the same rules through a real catalog load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.duties import ALL_DUTIES, MAINTAIN_MASTER_DATA, MANAGE_ACTORS
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.masterdata import (
    BomComponent,
    BomLinePlan,
    DutyChange,
    check_bom_component,
    check_catch_weight_tracking,
    check_first_load,
    check_item_references,
    duty_changes,
    normalise_tracking_group,
    plan_bom,
)

ONE = Decimal(1)


@contextmanager
def rejected(code: str, rule: str | None) -> Iterator[list[Rejection]]:
    """Expects a Rejection with this code and rule; yields a list that then holds it."""
    caught: list[Rejection] = []
    with pytest.raises(Rejection) as info:
        yield caught
    caught.append(info.value)
    assert (info.value.code, info.value.rule) == (code, rule), info.value


# --- M2: tracking groups ------------------------------------------------------------------


def test_m2_active_in_sales_sets_serial_control_and_clears_inventory_options() -> None:
    options, changes = normalise_tracking_group(
        {
            "serial_active_in_sales_process": True,
            "serial_number_control": False,
            "blank_issue_allowed": True,
            "serial_primary_stocking": True,
            "serial_physical_inventory": False,
            "serial_financial_inventory": True,
        }
    )
    assert options == {
        "serial_active_in_sales_process": True,
        "serial_number_control": True,
        "blank_issue_allowed": True,  # the one selection M2 keeps
        "serial_primary_stocking": False,
        "serial_physical_inventory": False,
        "serial_financial_inventory": False,
    }
    assert changes == [
        "serial_number_control set",
        "serial_primary_stocking cleared",
        "serial_financial_inventory cleared",
    ]


OTHER_OPTIONS = (
    "serial_number_control",
    "blank_issue_allowed",
    "serial_primary_stocking",
    "serial_physical_inventory",
    "serial_financial_inventory",
)


@given(st.fixed_dictionaries({name: st.booleans() for name in OTHER_OPTIONS}))
def test_m2_a_group_not_active_in_sales_is_left_as_given(options: dict[str, bool]) -> None:
    given_options = {"serial_active_in_sales_process": False, **options}
    assert normalise_tracking_group(given_options) == (given_options, [])


# --- M1, M3: items ------------------------------------------------------------------------


def test_m1_an_item_naming_a_missing_tracking_group_is_refused() -> None:
    with rejected("catalog.unknown_tracking_group", None) as caught:
        check_item_references("1000", "SN", False, None, False)
    assert caught[0].message == "item 1000: tracking group 'SN' does not exist"


def test_m1_a_missing_group_is_reported_before_a_missing_revenue_schedule() -> None:
    with rejected("catalog.unknown_tracking_group", None):
        check_item_references("1000", "SN", False, "MONTHLY", False)


def test_m1_an_item_naming_a_missing_revenue_schedule_is_refused() -> None:
    with rejected("catalog.unknown_revenue_schedule", None) as caught:
        check_item_references("1000", None, False, "MONTHLY", False)
    assert caught[0].message == "item 1000: revenue schedule 'MONTHLY' does not exist"


def test_m1_references_that_exist_or_are_left_out_pass() -> None:
    """Negative control for the two above: the same item with both references found."""
    check_item_references("1000", "SN", True, "MONTHLY", True)
    check_item_references("1000", None, False, None, False)


def test_m3_catch_weight_item_with_a_group_active_in_sales_is_refused() -> None:
    with rejected("catalog.catch_weight_serials", "M3") as caught:
        check_catch_weight_tracking("CW-1", True, "SN", True)
    assert caught[0].details == {"item": "CW-1", "tracking_group": "SN"}


@pytest.mark.parametrize(("catch_weight", "active"), [(False, True), (True, False), (False, False)])
def test_m3_only_the_combination_is_refused(catch_weight: bool, active: bool) -> None:
    check_catch_weight_tracking("CW-1", catch_weight, "SN", active)


# --- M4: bills of materials ---------------------------------------------------------------


def component(item: str, is_bundle: bool | None = False, quantity: str = "1") -> BomComponent:
    return BomComponent(item, Decimal(quantity), is_bundle)


def test_m4_plan_numbers_the_components_in_the_order_given() -> None:
    plan = plan_bom("BUNDLE", True, [component("A", quantity="2"), component("B")])
    assert plan == (BomLinePlan(1, "A", Decimal(2)), BomLinePlan(2, "B", ONE))


@given(
    st.lists(
        st.tuples(
            st.text("ABCDEFGH", min_size=1, max_size=3),
            st.decimals(min_value="0.001", max_value="1000", places=3),
        ),
        min_size=1,
        max_size=30,
        unique_by=lambda pair: pair[0],
    )
)
def test_m4_plan_keeps_every_component_and_quantity_once(
    components: list[tuple[str, Decimal]],
) -> None:
    plan = plan_bom("BUNDLE", True, [BomComponent(i, q, False) for i, q in components])
    assert [(p.position, p.component, p.quantity) for p in plan] == [
        (position, item, quantity) for position, (item, quantity) in enumerate(components, 1)
    ]


@pytest.mark.parametrize("bundle_flag", [None, False], ids=["missing", "not a bundle"])
def test_m4_the_parent_must_exist_and_be_flagged_a_bundle(bundle_flag: bool | None) -> None:
    with rejected("catalog.not_a_bundle", "M4") as caught:
        plan_bom("1000", bundle_flag, [component("A")])
    assert caught[0].message == (
        "bill of materials for '1000': the item does not exist or is not flagged as a bundle"
    )


def test_m4_a_missing_component_is_refused() -> None:
    with rejected("catalog.unknown_item", "M4") as caught:
        plan_bom("BUNDLE", True, [component("A"), component("GHOST", is_bundle=None)])
    assert caught[0].message == "bundle BUNDLE: component item 'GHOST' does not exist"


def test_m4_a_component_that_is_a_bundle_is_refused() -> None:
    with rejected("catalog.nested_bundle", "M4") as caught:
        plan_bom("BUNDLE", True, [component("OTHER", is_bundle=True)])
    assert "component OTHER is itself a bundle; bundles do not nest" in caught[0].message


def test_m4_a_bundle_is_not_its_own_component() -> None:
    with rejected("catalog.nested_bundle", "M4") as caught:
        check_bom_component("BUNDLE", "BUNDLE", False)
    assert caught[0].message == "bundle BUNDLE cannot be a component of itself"


def test_m4_a_component_listed_twice_is_refused() -> None:
    with rejected("catalog.duplicate_component", "M4") as caught:
        plan_bom("BUNDLE", True, [component("A"), component("B"), component("A", quantity="3")])
    assert caught[0].message == (
        "bundle BUNDLE: component A is listed twice; give it once with the total quantity"
    )


def test_m4_checks_run_component_by_component() -> None:
    """The first component that fails decides the refusal: a missing third component is
    reported, though the fourth repeats the first (as the catalog read it before)."""
    with rejected("catalog.unknown_item", "M4"):
        plan_bom(
            "BUNDLE",
            True,
            [component("A"), component("B"), component("GHOST", None), component("A")],
        )


# --- M5: actors ---------------------------------------------------------------------------


def test_m5_first_load_must_create_an_actor_manager() -> None:
    with rejected("actor.first_load_without_manager", "M5") as caught:
        check_first_load([{MAINTAIN_MASTER_DATA}, set()])
    assert caught[0].details == {"duty": MANAGE_ACTORS}
    assert caught[0].message.startswith(
        "the first catalog loaded into an empty database must create an actor holding the duty "
        "manage_actors"
    )


def test_m5_first_load_without_actors_is_refused() -> None:
    with rejected("actor.first_load_without_manager", "M5"):
        check_first_load([])


def test_m5_first_load_with_an_actor_manager_passes() -> None:
    """Negative control: one actor holding manage_actors is enough."""
    check_first_load([{MAINTAIN_MASTER_DATA}, {MANAGE_ACTORS}])


def test_m5_duty_changes_start_from_the_stored_duties() -> None:
    changes = duty_changes(
        {"erp": {MANAGE_ACTORS, MAINTAIN_MASTER_DATA}},
        [("erp", [MANAGE_ACTORS]), ("newbie", [MAINTAIN_MASTER_DATA])],
    )
    assert changes == (
        DutyChange(
            "erp", frozenset({MANAGE_ACTORS, MAINTAIN_MASTER_DATA}), frozenset({MANAGE_ACTORS})
        ),
        DutyChange("newbie", frozenset(), frozenset({MAINTAIN_MASTER_DATA})),
    )


def test_m5_an_actor_listed_twice_starts_from_its_first_entry() -> None:
    """Granting a duty and taking it back in one catalog is two changes, each checked (the
    second's `before` is the first's `after`, not the database's)."""
    changes = duty_changes({}, [("x", [MANAGE_ACTORS]), ("x", [])])
    assert changes == (
        DutyChange("x", frozenset(), frozenset({MANAGE_ACTORS})),
        DutyChange("x", frozenset({MANAGE_ACTORS}), frozenset()),
    )


duties = st.frozensets(st.sampled_from(ALL_DUTIES))


@given(
    st.dictionaries(st.sampled_from("abc"), duties),
    st.lists(st.tuples(st.sampled_from("abcd"), duties), max_size=12),
)
def test_m5_each_change_follows_the_last_one_of_its_actor(
    existing: dict[str, frozenset[str]], actors: list[tuple[str, frozenset[str]]]
) -> None:
    changes = duty_changes(existing, actors)
    assert [(c.actor, c.after) for c in changes] == actors
    state = dict(existing)
    for change in changes:
        assert change.before == state.get(change.actor, frozenset())
        state[change.actor] = change.after
