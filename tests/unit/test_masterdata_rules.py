"""Pure master data rules (DOMAIN.md M1-M5) as upsert_catalog applies them: no database.

Each test names the rule it asserts; the service tests (tests/services/test_catalog_and_duties.py,
tests/faults/test_duties.py) show the same rules through a real catalog load.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docpost.pipeline.duties import ALL_DUTIES, MAINTAIN_MASTER_DATA, MANAGE_ACTORS
from docpost.pipeline.errors import Rejection
from docpost.pipeline.rules.masterdata import (
    TAX_CATEGORIES,
    BomComponent,
    BomLinePlan,
    DutyChange,
    TaxRatePlan,
    check_bom_component,
    check_catch_weight_tracking,
    check_first_load,
    check_item_references,
    check_item_tax_code,
    duty_changes,
    normalise_tracking_group,
    plan_bom,
    plan_tax_code,
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


# --- M8: tax codes ----------------------------------------------------------------------------

D = dt.date


def test_m8_the_norwegian_standard_codes_plan_their_rates_oldest_first() -> None:
    """SAF-T code 33 with a rate change: a new rate takes effect on its date."""
    plan = plan_tax_code(
        "33",
        "S",
        [(Decimal("12"), D(2021, 10, 1)), (Decimal("6"), D(2020, 4, 1)), (Decimal(12), D(2018, 1, 1))],
        "2702",
    )  # fmt: skip
    assert plan == (
        TaxRatePlan(D(2018, 1, 1), Decimal(12)),
        TaxRatePlan(D(2020, 4, 1), Decimal(6)),
        TaxRatePlan(D(2021, 10, 1), Decimal(12)),
    )


@pytest.mark.parametrize("category", sorted(set(TAX_CATEGORIES) - {"S"}))
def test_m8_every_category_but_s_has_the_rate_0_and_needs_no_account(category: str) -> None:
    assert plan_tax_code("5", category, [(Decimal(0), D(2005, 1, 1))], None) == (
        TaxRatePlan(D(2005, 1, 1), Decimal(0)),
    )
    with rejected("tax_code.rate_not_in_category", "M8") as caught:
        plan_tax_code("5", category, [(Decimal(25), D(2005, 1, 1))], None)
    assert caught[0].message == (
        f"tax code 5: rate 25 does not fit category {category} ({TAX_CATEGORIES[category]}), "
        "which has the rate 0 (M8)"
    )


def test_m8_category_s_has_a_rate_above_0() -> None:
    with rejected("tax_code.rate_not_in_category", "M8") as caught:
        plan_tax_code("3", "S", [(Decimal(0), D(2005, 1, 1))], "2700")
    assert caught[0].message == (
        "tax code 3: rate 0 does not fit category S (standard rate), which has a rate above 0 (M8)"
    )


def test_m8_category_s_names_its_output_vat_account() -> None:
    with rejected("tax_code.missing_account", "M8") as caught:
        plan_tax_code("3", "S", [(Decimal(25), D(2005, 1, 1))], None)
    assert caught[0].message == (
        "tax code 3: category S has VAT to post: give the ledger account of its output VAT "
        "(e.g. 2700) (M8)"
    )


@pytest.mark.parametrize("category", ["s", "VAT", "IC", ""])
def test_m8_an_unknown_category_is_refused(category: str) -> None:
    with rejected("tax_code.unknown_category", "M8") as caught:
        plan_tax_code("X", category, [(Decimal(0), D(2005, 1, 1))], None)
    assert caught[0].message.startswith(f"tax code X: category {category!r} is none of S (standard")
    assert "AE (reverse charge)" in caught[0].message
    assert caught[0].details == {"tax_code": "X"}


@pytest.mark.parametrize("rate", ["-1", "100.01", "101", "12.345", "0.001"])
def test_m8_a_rate_is_a_percentage_0_to_100_with_2_decimals(rate: str) -> None:
    with rejected("tax_code.invalid_rate", "M8") as caught:
        plan_tax_code("3", "S", [(Decimal(rate), D(2005, 1, 1))], "2700")
    assert caught[0].message == (
        f"tax code 3: rate {rate} is not a percentage from 0 to 100 with at most 2 decimals (M8)"
    )


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2))
def test_m8_every_positive_rate_up_to_100_with_2_decimals_is_a_standard_rate(rate: Decimal) -> None:
    """Hypothesis: the whole range is accepted for S; the same rate is refused for Z (the
    negative control: the category check is not vacuous)."""
    assert plan_tax_code("3", "S", [(rate, D(2024, 1, 1))], "2700")[0].rate == rate
    with rejected("tax_code.rate_not_in_category", "M8"):
        plan_tax_code("5", "Z", [(rate, D(2024, 1, 1))], None)


def test_m8_two_rates_from_one_date_are_refused() -> None:
    with rejected("tax_code.duplicate_valid_from", "M8") as caught:
        plan_tax_code(
            "3", "S", [(Decimal(25), D(2024, 1, 1)), (Decimal(24), D(2024, 1, 1))], "2700"
        )
    assert caught[0].message == (
        "tax code 3: two rates are valid from 2024-01-01; give one rate per date (M8)"
    )


def test_m8_an_items_tax_code_must_exist() -> None:
    check_item_tax_code("OST-1", "31", True)
    check_item_tax_code("OST-1", None, False)  # a catalog without tax codes: no VAT
    with rejected("catalog.unknown_tax_code", "M8") as caught:
        check_item_tax_code("OST-1", "99", False)
    assert caught[0].message == (
        "item OST-1: tax code '99' does not exist; load it under tax_codes (M8)"
    )
